// The knowledge graph laid out by a d3-force simulation in a worker and drawn here: SVG up to
// CANVAS_THRESHOLD nodes, a canvas beyond. React owns the element; the renderer owns what is
// inside it, because re-rendering thousands of elements through React on every frame is what
// makes force graphs slow. The container carries the figures tests and the bench read
// (`data-renderer`, `data-nodes`, `data-links`, `data-settled`).

import type { GraphLink, GraphNode } from '@selfos/wasm';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';

import { canvasRenderer } from './canvasRenderer.ts';
import type { LayoutFrame, StartLayout, ToLayout } from './layoutProtocol.ts';
import type { Renderer } from './renderer.ts';
import { positionsOf, toSimulationData, usesCanvas, type Positions, type SimLink, type SimNode } from './simulation.ts';
import { svgRenderer } from './svgRenderer.ts';

export interface ForceGraphProps {
  nodes: readonly GraphNode[];
  links: readonly GraphLink[];
  selectedId: string | null;
  onSelect(id: string): void;
  /** Redraws the canvas in the theme's colors when it changes. */
  theme: 'light' | 'dark';
  /** Called after every frame drawn from the layout, with the simulation's ticks so far (the
   * bench counts both). */
  onDraw?: (ticks: number) => void;
}

const ZOOM_STEP = 1.5;

export function ForceGraph({ nodes, links, selectedId, onSelect, theme, onDraw }: ForceGraphProps) {
  const large = usesCanvas(nodes.length);
  const containerRef = useRef<HTMLDivElement>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const rendererRef = useRef<Renderer | null>(null);
  const positionsRef = useRef<Positions>(new Map());
  const workerRef = useRef<Worker | null>(null);
  const runRef = useRef(0);
  // Callbacks and the selection change often; the layout must not restart for them.
  const latest = useRef({ onSelect, onDraw, selectedId });
  useLayoutEffect(() => {
    latest.current = { onSelect, onDraw, selectedId };
  });
  const [settled, setSettled] = useState(false);

  useEffect(() => {
    const worker = new Worker(new URL('./layoutWorker.ts', import.meta.url), { type: 'module' });
    workerRef.current = worker;
    return () => {
      worker.terminate();
      workerRef.current = null;
    };
  }, []);

  useEffect(() => {
    const container = containerRef.current;
    const worker = workerRef.current;
    const element = large ? canvasRef.current : svgRef.current;
    if (!container || !worker || !element) return;
    const data = toSimulationData(nodes, links, positionsRef.current);
    const pick = (id: string) => latest.current.onSelect(id);
    const renderer =
      element instanceof HTMLCanvasElement
        ? canvasRenderer(element, data.nodes, data.links, pick)
        : svgRenderer(element, data.nodes, data.links, pick);
    rendererRef.current = renderer;
    renderer.resize(container.clientWidth, container.clientHeight);
    renderer.setSelected(latest.current.selectedId);
    const observer = new ResizeObserver(() => renderer.resize(container.clientWidth, container.clientHeight));
    observer.observe(container);

    setSettled(false);
    const run = ++runRef.current;
    let frame: LayoutFrame | null = null;
    let painting = 0;
    // Draw the newest positions once per animation frame, then ask for the next ones.
    const paint = () => {
      painting = 0;
      if (!frame) return;
      const { positions, done, ticks } = frame;
      frame = null;
      data.nodes.forEach((n, i) => {
        n.x = positions[2 * i] ?? 0;
        n.y = positions[2 * i + 1] ?? 0;
      });
      renderer.draw();
      latest.current.onDraw?.(ticks);
      if (done) setSettled(true);
      else worker.postMessage({ type: 'drawn', run } satisfies ToLayout);
    };
    worker.onmessage = (event: MessageEvent<LayoutFrame>) => {
      if (event.data.run !== run) return;
      frame = event.data;
      painting ||= requestAnimationFrame(paint);
    };
    const start = startMessage(run, data);
    worker.postMessage(start, [start.radii.buffer, start.positions.buffer, start.links.buffer, start.weights.buffer]);

    return () => {
      cancelAnimationFrame(painting);
      worker.postMessage({ type: 'stop' } satisfies ToLayout);
      observer.disconnect();
      positionsRef.current = positionsOf(data.nodes);
      renderer.destroy();
      rendererRef.current = null;
    };
  }, [nodes, links, large]);

  useEffect(() => rendererRef.current?.setSelected(selectedId), [selectedId]);
  useEffect(() => rendererRef.current?.refreshColors(), [theme]);

  const label = `Knowledge graph: ${nodes.length} nodes and ${links.length} links. Choose a node from the list to see the answers behind it.`;
  return (
    <div
      ref={containerRef}
      className="graph-canvas relative h-full min-h-80 w-full overflow-hidden"
      data-renderer={large ? 'canvas' : 'svg'}
      data-nodes={nodes.length}
      data-links={links.length}
      data-settled={settled}
    >
      {large ? (
        <canvas ref={canvasRef} role="img" aria-label={label} className="block h-full w-full cursor-pointer" />
      ) : (
        <svg ref={svgRef} role="img" aria-label={label} className="block h-full w-full" />
      )}
      <div className="graph-zoom" role="group" aria-label="Zoom">
        <button type="button" className="btn btn-quiet" onClick={() => rendererRef.current?.zoomBy(ZOOM_STEP)}>
          Zoom in
        </button>
        <button type="button" className="btn btn-quiet" onClick={() => rendererRef.current?.zoomBy(1 / ZOOM_STEP)}>
          Zoom out
        </button>
        <button type="button" className="btn btn-quiet" onClick={() => rendererRef.current?.fit()}>
          Fit
        </button>
      </div>
    </div>
  );
}

function startMessage(run: number, data: { nodes: SimNode[]; links: SimLink[]; known: number }): StartLayout {
  const index = new Map(data.nodes.map((n, i) => [n, i]));
  const positions = new Float32Array(data.nodes.length * 2).fill(NaN);
  data.nodes.forEach((n, i) => {
    if (n.x !== undefined && n.y !== undefined) [positions[2 * i], positions[2 * i + 1]] = [n.x, n.y];
  });
  return {
    type: 'start',
    run,
    radii: Float32Array.from(data.nodes, (n) => n.radius),
    positions,
    links: Uint32Array.from(data.links.flatMap((l) => [index.get(l.source) ?? 0, index.get(l.target) ?? 0])),
    weights: Float32Array.from(data.links, (l) => l.weight),
    known: data.known,
    // With reduced motion the layout is computed to the end and drawn once.
    upFront: matchMedia('(prefers-reduced-motion: reduce)').matches,
  };
}
