// Large graphs on a canvas: every link in one path, every node of a kind in one path, so a frame
// costs a handful of draw calls whatever the size. Colors come from the same CSS custom
// properties as the SVG, read again when the theme changes. Picking scans for the nearest node
// under the pointer (once per click, cheap even at 10k nodes).

import type { NodeKind } from '@selfos/wasm';
import { pointer, select } from 'd3-selection';
import { zoomIdentity, type ZoomTransform } from 'd3-zoom';

import { NODE_KINDS } from './filter.ts';
import { LABELED_NODES, fitTransform, fitZoom, type Renderer } from './renderer.ts';
import type { SimLink, SimNode } from './simulation.ts';

const TINY_RADIUS_PX = 2;

interface Colors {
  link: string;
  selected: string;
  text: string;
  plate: string;
  kinds: Record<NodeKind, string>;
}

export function canvasRenderer(
  canvas: HTMLCanvasElement,
  nodes: readonly SimNode[],
  links: readonly SimLink[],
  onPick: (id: string) => void,
): Renderer {
  const context = canvas.getContext('2d');
  if (!context) throw new Error('this browser cannot draw on a canvas');
  const ctx: CanvasRenderingContext2D = context;
  let width = canvas.clientWidth;
  let height = canvas.clientHeight;
  let transform: ZoomTransform = zoomIdentity;
  let selected: SimNode | null = null;
  let colors = readColors(canvas);
  // Agents last: they are the hubs most topics link to, and the nodes around them would cover them.
  const paintOrder = [...NODE_KINDS.filter((k) => k !== 'agent'), 'agent' as const];
  const byKind = paintOrder.map((kind) => ({ kind, nodes: nodes.filter((n) => n.kind === kind) }));
  const labeled = nodes.toSorted((a, b) => b.strength - a.strength).slice(0, LABELED_NODES);

  function draw() {
    if (view.autoFit) {
      // d3-zoom measures from the top-left corner; the fit is around the center.
      const fit = fitTransform(nodes, width, height);
      view.show(zoomIdentity.translate(width / 2 + fit.x, height / 2 + fit.y).scale(fit.k));
      return; // the zoom event paints
    }
    paint();
  }

  function paint() {
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.translate(transform.x, transform.y);
    ctx.scale(transform.k, transform.k);
    ctx.beginPath();
    for (const l of links) {
      ctx.moveTo(l.source.x ?? 0, l.source.y ?? 0);
      ctx.lineTo(l.target.x ?? 0, l.target.y ?? 0);
    }
    ctx.strokeStyle = colors.link;
    ctx.lineWidth = 0.5 / transform.k;
    ctx.stroke();
    for (const group of byKind) {
      ctx.beginPath();
      for (const n of group.nodes) {
        const x = n.x ?? 0;
        const y = n.y ?? 0;
        const r = n.radius;
        // Below two pixels on screen a square looks the same and fills far faster.
        if (r * transform.k < TINY_RADIUS_PX) {
          ctx.rect(x - r, y - r, 2 * r, 2 * r);
        } else {
          ctx.moveTo(x + r, y);
          ctx.arc(x, y, r, 0, 2 * Math.PI);
        }
      }
      ctx.fillStyle = colors.kinds[group.kind];
      ctx.fill();
    }
    if (selected) {
      ctx.beginPath();
      ctx.arc(selected.x ?? 0, selected.y ?? 0, selected.radius + 3 / transform.k, 0, 2 * Math.PI);
      ctx.strokeStyle = colors.selected;
      ctx.lineWidth = 2.5 / transform.k;
      ctx.stroke();
    }
    paintLabels(dpr);
  }

  /** Labels of the strongest nodes, in screen pixels (they keep their size when zoomed), each on
   * an opaque plate as in the SVG. */
  function paintLabels(dpr: number) {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'alphabetic';
    ctx.lineWidth = 1;
    for (const n of labeled) {
      const x = transform.x + (n.x ?? 0) * transform.k;
      const y = transform.y + ((n.y ?? 0) - n.radius) * transform.k - 5;
      const w = ctx.measureText(n.label).width + 6;
      ctx.fillStyle = colors.plate;
      ctx.strokeStyle = colors.link;
      ctx.beginPath();
      ctx.rect(x - w / 2, y - 12, w, 15);
      ctx.fill();
      ctx.stroke();
      ctx.fillStyle = colors.text;
      ctx.fillText(n.label, x, y);
    }
  }

  function pick(event: MouseEvent) {
    const [x, y] = transform.invert(pointer(event, canvas));
    // A click counts within the node plus a few pixels, however far the view is zoomed out; where
    // nodes overlap, the kind painted last (on top) wins, then the nearest centre.
    const slack = 4 / transform.k;
    for (const group of byKind.toReversed()) {
      let best: SimNode | null = null;
      let bestDistance = Infinity;
      for (const n of group.nodes) {
        const d = Math.hypot((n.x ?? 0) - x, (n.y ?? 0) - y);
        if (d < bestDistance) [best, bestDistance] = [n, d];
      }
      if (best && bestDistance <= best.radius + slack) {
        onPick(best.id);
        return;
      }
    }
  }

  const view = fitZoom(
    canvas,
    (t) => {
      transform = t;
      paint();
    },
    draw,
  );
  const root = select(canvas).on('click', pick);

  return {
    draw,
    zoomBy: view.zoomBy,
    fit: view.fit,
    setSelected(id) {
      selected = nodes.find((n) => n.id === id) ?? null;
      draw();
    },
    refreshColors() {
      colors = readColors(canvas);
      draw();
    },
    resize(w, h) {
      const dpr = window.devicePixelRatio || 1;
      [width, height] = [w, h];
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
      draw();
    },
    destroy() {
      view.destroy();
      root.on('click', null);
    },
  };
}

function readColors(element: Element): Colors {
  const style = getComputedStyle(element);
  const read = (name: string) => style.getPropertyValue(name).trim() || 'gray';
  return {
    link: read('--graph-link'),
    selected: read('--graph-selected'),
    text: read('--text'),
    plate: read('--bg'),
    kinds: {
      agent: read('--kind-agent'),
      topic: read('--kind-topic'),
      preference: read('--kind-preference'),
      card: read('--kind-card'),
    },
  };
}
