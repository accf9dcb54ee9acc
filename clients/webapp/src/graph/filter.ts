// Which part of the knowledge graph is on screen. An agent filter keeps the chosen agents and
// every node linked to one of them (the graph links each topic, card and preference to the
// agents it was answered for); a kind filter then keeps the chosen kinds.

import type { GraphLink, GraphNode, NodeKind } from '@selfos/wasm';

export const NODE_KINDS: readonly NodeKind[] = ['agent', 'topic', 'preference', 'card'];

export interface GraphFilter {
  /** Agent labels; empty keeps every agent. */
  agents: ReadonlySet<string>;
  kinds: ReadonlySet<NodeKind>;
}

export interface GraphPart {
  nodes: GraphNode[];
  links: GraphLink[];
}

export function filterGraph(graph: { nodes: readonly GraphNode[]; links: readonly GraphLink[] }, filter: GraphFilter): GraphPart {
  let keep: Set<string> | null = null;
  if (filter.agents.size > 0) {
    const agentIds = new Set(
      graph.nodes.filter((n) => n.kind === 'agent' && filter.agents.has(n.label)).map((n) => n.id),
    );
    keep = new Set(agentIds);
    for (const link of graph.links) {
      if (agentIds.has(link.source)) keep.add(link.target);
      if (agentIds.has(link.target)) keep.add(link.source);
    }
  }
  const nodes = graph.nodes.filter((n) => filter.kinds.has(n.kind) && (keep === null || keep.has(n.id)));
  const ids = new Set(nodes.map((n) => n.id));
  const links = graph.links.filter((l) => ids.has(l.source) && ids.has(l.target));
  return { nodes, links };
}
