// The force layout of the knowledge graph (d3-force). Nodes keep their positions across
// rebuilds (a synced answer adds a node; the rest should not jump), and large graphs get cheaper
// forces: the many-body force is the cost per tick, so it gets a coarser Barnes-Hut
// approximation and a cut-off distance. The simulation itself runs in a worker
// (`layoutWorker.ts`); this module holds what both sides share.

import type { GraphLink, GraphNode, NodeKind } from '@selfos/wasm';
import {
  forceCenter,
  forceCollide,
  forceLink,
  forceManyBody,
  forceSimulation,
  type Simulation,
  type SimulationLinkDatum,
  type SimulationNodeDatum,
} from 'd3-force';

/** What the forces need of a node. */
export interface LayoutNode extends SimulationNodeDatum {
  radius: number;
}

export interface LayoutLink<N extends LayoutNode> extends SimulationLinkDatum<N> {
  source: N;
  target: N;
  weight: number;
}

/** A node as the renderers draw it; x and y are the latest positions from the layout. */
export interface SimNode extends LayoutNode {
  id: string;
  kind: NodeKind;
  label: string;
  strength: number;
}

export type SimLink = LayoutLink<SimNode>;

export type Positions = Map<string, { x: number; y: number }>;

/**
 * Past this many nodes the graph is drawn on a canvas. Painting the SVG elements is what limits
 * the frame rate (`npm run bench`, headless Chromium without GPU: 1k nodes with 2.8k links drew
 * 17 frames per second in SVG and 59 on the canvas).
 */
export const CANVAS_THRESHOLD = 500;
/** Past this many nodes the forces get cheaper (coarser Barnes-Hut, no collision) and the
 * nodes smaller. */
export const CHEAP_FORCES_THRESHOLD = 1_500;

export function usesCanvas(nodeCount: number): boolean {
  return nodeCount > CANVAS_THRESHOLD;
}

function cheapForces(nodeCount: number): boolean {
  return nodeCount > CHEAP_FORCES_THRESHOLD;
}

/** Radius by strength, on a square-root scale so the area grows with strength. */
export function nodeRadius(strength: number, maxStrength: number, large: boolean): number {
  const [min, span] = large ? [1.5, 6] : [4, 14];
  return min + span * Math.sqrt(maxStrength > 0 ? Math.max(0, strength) / maxStrength : 0);
}

export function toSimulationData(
  nodes: readonly GraphNode[],
  links: readonly GraphLink[],
  previous: Positions,
): { nodes: SimNode[]; links: SimLink[]; known: number } {
  const large = cheapForces(nodes.length);
  const maxStrength = nodes.reduce((m, n) => Math.max(m, n.strength), 0);
  let known = 0;
  const simNodes = nodes.map((n): SimNode => {
    const at = previous.get(n.id);
    if (at) known += 1;
    return {
      id: n.id,
      kind: n.kind,
      label: n.label,
      strength: n.strength,
      radius: nodeRadius(n.strength, maxStrength, large),
      ...(at ? { x: at.x, y: at.y } : {}),
    };
  });
  const byId = new Map(simNodes.map((n) => [n.id, n]));
  const simLinks: SimLink[] = [];
  for (const l of links) {
    const source = byId.get(l.source);
    const target = byId.get(l.target);
    if (source && target) simLinks.push({ source, target, weight: l.weight });
  }
  return { nodes: simNodes, links: simLinks, known };
}

export function createSimulation<N extends LayoutNode>(
  nodes: N[],
  links: LayoutLink<N>[],
  known: number,
): Simulation<N, LayoutLink<N>> {
  const large = cheapForces(nodes.length);
  const maxWeight = links.reduce((m, l) => Math.max(m, l.weight), 0) || 1;
  const simulation = forceSimulation<N, LayoutLink<N>>(nodes)
    .stop() // the caller ticks it
    .force(
      'link',
      forceLink<N, LayoutLink<N>>(links)
        .distance(large ? 18 : 70)
        .strength((l) => 0.1 + 0.6 * (l.weight / maxWeight)),
    )
    .force('charge', forceManyBody<N>().strength(large ? -12 : -220).theta(large ? 1.2 : 0.9).distanceMax(large ? 250 : 600))
    .force('center', forceCenter(0, 0));
  if (!large) simulation.force('collide', forceCollide<N>((n) => n.radius + 2));
  // Mostly known positions: settle gently instead of exploding the layout again.
  if (nodes.length > 0 && known / nodes.length > 0.8) simulation.alpha(0.3);
  return simulation;
}

export function positionsOf(nodes: readonly SimNode[]): Positions {
  return new Map(nodes.map((n) => [n.id, { x: n.x ?? 0, y: n.y ?? 0 }]));
}
