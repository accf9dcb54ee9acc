// The graph bench page: a synthetic knowledge graph of `?nodes=N` nodes fed to the dashboard's
// own graph component. It reports, on `globalThis.benchResult`:
//   - firstRenderMs: from handing the graph to React to the first frame painted with it;
//   - settleMs: from the same start until the layout cooled down (its last frame drawn);
//   - fps: animation frames per second during the first seconds of the layout, or until it
//     settles if sooner (drawing runs on the main thread, so a slow draw shows up as fewer
//     frames);
//   - drawsPerSecond: frames drawn with new positions per second over the same window;
//   - ticksPerSecond: simulation ticks per second in the layout worker over the same window.

import type { GraphJson, GraphLink, GraphNode, NodeKind } from '@selfos/wasm';
import { createRoot } from 'react-dom/client';

import { ForceGraph } from '../src/graph/ForceGraph.tsx';
import '../src/index.css';

export interface BenchResult {
  nodes: number;
  links: number;
  renderer: string;
  firstRenderMs: number;
  settleMs: number;
  fps: number;
  drawsPerSecond: number;
  ticksPerSecond: number;
  windowMs: number;
}

declare global {
  var benchResult: BenchResult | undefined;
}

const WINDOW_MS = 3_000;

/** Mulberry32: the same graph on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Shaped like a real vault's graph: a few agents, some cards and preferences, mostly topics,
 * each linked to an agent and to a few other topics. */
function syntheticGraph(count: number): GraphJson {
  const rand = random(count);
  const kindOf = (i: number): NodeKind => (i < 4 ? 'agent' : i < 40 ? 'card' : i < 80 ? 'preference' : 'topic');
  const nodes: GraphNode[] = Array.from({ length: count }, (_, i) => {
    const kind = kindOf(i);
    return { id: `${kind}:n${i}`, kind, label: `n${i}`, strength: rand() ** 3 * 10, pagerank: 0, community: i % 7 };
  });
  const links: GraphLink[] = [];
  for (let i = 4; i < count; i += 1) {
    const source = nodes[i]?.id ?? '';
    links.push({ source, target: nodes[Math.floor(rand() * 4)]?.id ?? '', weight: rand() * 5 });
    if (i > 80) {
      for (let k = 0; k < 2; k += 1) {
        const j = 80 + Math.floor(rand() * (i - 80));
        links.push({ source, target: nodes[j]?.id ?? '', weight: rand() * 3 });
      }
    }
  }
  return { nodes, links, metrics: {} };
}

const count = Number(new URLSearchParams(location.search).get('nodes') ?? '1000');
const graph = syntheticGraph(count);
const root = document.getElementById('root');
if (!root) throw new Error('bench page lacks #root');

let draws = 0;
let ticks = 0;
let firstDraw: number | null = null;
let settledAt: number | null = null;
const start = performance.now();

/** Counts animation frames from the first paint until the window ends or the layout settles,
 * then waits for the settle time. */
function measure(firstPaint: number) {
  let frames = 0;
  let windowEnd: { at: number; draws: number; ticks: number } | null = null;
  const [drawsAtStart, ticksAtStart] = [draws, ticks];
  const frame = (now: number) => {
    if (!windowEnd) {
      frames += 1;
      if (now - firstPaint >= WINDOW_MS || settledAt !== null) windowEnd = { at: now, draws, ticks };
    }
    if (!windowEnd || settledAt === null) {
      requestAnimationFrame(frame);
      return;
    }
    const seconds = (windowEnd.at - firstPaint) / 1000;
    globalThis.benchResult = {
      nodes: graph.nodes.length,
      links: graph.links.length,
      renderer: root?.querySelector('[data-renderer]')?.getAttribute('data-renderer') ?? '?',
      firstRenderMs: firstPaint - start,
      settleMs: settledAt - start,
      fps: frames / seconds,
      drawsPerSecond: (windowEnd.draws - drawsAtStart) / seconds,
      ticksPerSecond: (windowEnd.ticks - ticksAtStart) / seconds,
      windowMs: windowEnd.at - firstPaint,
    };
  };
  requestAnimationFrame(frame);
}

// The container's `data-settled` turns true with the last frame of the layout.
new MutationObserver(() => {
  if (settledAt === null && root.querySelector('[data-settled="true"]')) settledAt = performance.now();
}).observe(root, { attributes: true, subtree: true, attributeFilter: ['data-settled'] });

createRoot(root).render(
  <ForceGraph
    nodes={graph.nodes}
    links={graph.links}
    selectedId={null}
    onSelect={() => undefined}
    theme="light"
    onDraw={(ticksSoFar) => {
      draws += 1;
      ticks = ticksSoFar;
      if (firstDraw === null) {
        firstDraw = performance.now();
        // The frame after the first draw is the first one on screen.
        requestAnimationFrame((now) => measure(now));
      }
    }}
  />,
);
