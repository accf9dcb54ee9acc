// The knowledge graph: filters by agent and kind, the force layout, a searchable list of nodes
// (the keyboard's way into the graph) and the answers behind the selected node.

import type { GraphNode, NodeKind, VaultResponse } from '@selfos/wasm';
import { useId, useMemo, useState } from 'react';

import { answersBehind } from '../graph/answers.ts';
import { NODE_KINDS, filterGraph } from '../graph/filter.ts';
import { ForceGraph } from '../graph/ForceGraph.tsx';
import { EmptyState } from '../ui/EmptyState.tsx';
import { ErrorNotice } from '../ui/ErrorNotice.tsx';
import { agentName, answerText, formatTime } from '../ui/format.ts';
import { ProgressBar } from '../ui/ProgressBar.tsx';
import { NoAnswersYet } from './NoAnswersYet.tsx';
import { useVaultQuery } from '../vault/VaultContext.tsx';

/** The node list shows the strongest matches; typing narrows it. */
const LISTED_NODES = 100;
const SHOWN_ANSWERS = 50;

const KIND_NAMES: Record<NodeKind, string> = {
  agent: 'Agents',
  topic: 'Topics',
  preference: 'Preferences',
  card: 'Cards',
};

export function GraphView({ theme }: { theme: 'light' | 'dark' }) {
  const graph = useVaultQuery((c) => c.graph());
  const listing = useVaultQuery((c) => c.list());
  const [agents, setAgents] = useState<ReadonlySet<string>>(new Set());
  const [kinds, setKinds] = useState<ReadonlySet<NodeKind>>(new Set(NODE_KINDS));
  const [selectedId, setSelectedId] = useState<string | null>(null);

  const allAgents = useMemo(
    () => (graph.data?.nodes ?? []).filter((n) => n.kind === 'agent').map((n) => n.label).sort(),
    [graph.data],
  );
  const part = useMemo(() => (graph.data ? filterGraph(graph.data, { agents, kinds }) : null), [graph.data, agents, kinds]);
  const selected = graph.data?.nodes.find((n) => n.id === selectedId) ?? null;

  if (graph.status === 'error' && !graph.data) return <ErrorNotice error={graph.error} title="Cannot build the graph" />;
  if (!graph.data || !part) return <ProgressBar label="Building the knowledge graph" value={null} />;
  if (graph.data.nodes.length === 0) {
    return (
      <NoAnswersYet>
        The graph grows from your answers. Answers recorded by the extension or the command line appear here once they
        sync to this device.
      </NoAnswersYet>
    );
  }

  const toggle = <T,>(set: ReadonlySet<T>, item: T): Set<T> => {
    const next = new Set(set);
    if (!next.delete(item)) next.add(item);
    return next;
  };

  return (
    <div className="graph-layout">
      <div className="space-y-4">
        <fieldset className="card">
          <legend className="font-semibold">Agents</legend>
          <p className="text-sm text-muted">None checked: every agent.</p>
          {allAgents.map((a) => (
            <label key={a} className="check">
              <input type="checkbox" checked={agents.has(a)} onChange={() => setAgents((s) => toggle(s, a))} />
              {agentName(a)}
            </label>
          ))}
        </fieldset>
        <fieldset className="card">
          <legend className="font-semibold">Kinds</legend>
          {NODE_KINDS.map((k) => (
            <label key={k} className="check">
              <input type="checkbox" checked={kinds.has(k)} onChange={() => setKinds((s) => toggle(s, k))} />
              <span className={`swatch kind-${k}`} aria-hidden="true" />
              {KIND_NAMES[k]}
            </label>
          ))}
        </fieldset>
        <NodeList nodes={part.nodes} selectedId={selectedId} onSelect={setSelectedId} />
      </div>
      <section aria-label="Graph" className="card graph-panel p-0">
        {part.nodes.length === 0 ? (
          <EmptyState title="No node matches these filters">Check more agents or kinds.</EmptyState>
        ) : (
          <ForceGraph
            nodes={part.nodes}
            links={part.links}
            selectedId={selectedId}
            onSelect={setSelectedId}
            theme={theme}
          />
        )}
      </section>
      <NodeDetails node={selected} responses={listing.data?.responses ?? null} />
    </div>
  );
}

function NodeList({
  nodes,
  selectedId,
  onSelect,
}: {
  nodes: readonly GraphNode[];
  selectedId: string | null;
  onSelect(id: string): void;
}) {
  const [search, setSearch] = useState('');
  const searchId = useId();
  const matches = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return nodes
      .filter((n) => needle === '' || n.label.toLowerCase().includes(needle))
      .toSorted((a, b) => b.strength - a.strength);
  }, [nodes, search]);
  return (
    <section className="card" aria-labelledby={`${searchId}-title`}>
      <h2 id={`${searchId}-title`} className="font-semibold">
        Nodes
      </h2>
      <label htmlFor={searchId} className="label mt-2">
        Find a node
      </label>
      <input id={searchId} type="search" className="input w-full" value={search} onChange={(e) => setSearch(e.target.value)} />
      <p className="mt-1 text-sm text-muted" aria-live="polite">
        {matches.length > LISTED_NODES
          ? `The ${LISTED_NODES} strongest of ${matches.length}; type to narrow.`
          : `${matches.length} ${matches.length === 1 ? 'node' : 'nodes'}, strongest first.`}
      </p>
      <ul className="node-list mt-2">
        {matches.slice(0, LISTED_NODES).map((n) => (
          <li key={n.id}>
            <button
              type="button"
              className="node-button"
              aria-pressed={n.id === selectedId}
              data-node-id={n.id}
              onClick={() => onSelect(n.id)}
            >
              <span className={`swatch kind-${n.kind}`} aria-hidden="true" />
              <span className="truncate">{n.label}</span>
              <span className="sr-only">, {n.kind}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function NodeDetails({ node, responses }: { node: GraphNode | null; responses: readonly VaultResponse[] | null }) {
  const behind = useMemo(() => (node && responses ? answersBehind(node, responses) : []), [node, responses]);
  return (
    <section className="card" aria-labelledby="node-details-title" aria-live="polite" data-selected={node?.id ?? ''}>
      <h2 id="node-details-title" className="font-semibold">
        {node ? node.label : 'Selected node'}
      </h2>
      {!node ? (
        <p className="mt-1 text-sm text-muted">Choose a node in the graph or the list to see the answers behind it.</p>
      ) : (
        <>
          <dl className="facts mt-2">
            <dt>Kind</dt>
            <dd>{node.kind}</dd>
            <dt>Strength</dt>
            <dd>{node.strength.toFixed(2)}</dd>
            <dt>PageRank</dt>
            <dd>{node.pagerank.toFixed(4)}</dd>
            <dt>Community</dt>
            <dd>{node.community}</dd>
          </dl>
          <h3 className="mt-3 font-semibold">
            {behind.length} {behind.length === 1 ? 'answer' : 'answers'} behind it
          </h3>
          {responses === null ? (
            <ProgressBar label="Reading answers" value={null} />
          ) : (
            <ul className="answers-behind mt-1 space-y-2">
              {behind.slice(0, SHOWN_ANSWERS).map((r) => (
                <li key={r.id} className="text-sm">
                  <p>{answerText(r.answer)}</p>
                  <p className="text-muted">
                    {r.agent} · {r.card_id} · {formatTime(r.created_ms)}
                  </p>
                </li>
              ))}
              {behind.length > SHOWN_ANSWERS && (
                <li className="text-sm text-muted">and {behind.length - SHOWN_ANSWERS} more (see Answers).</li>
              )}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
