// What the graph component asks of a renderer; the SVG one serves small graphs (an element per
// node: hover titles, crisp text), the canvas one large graphs (one draw call per kind).
// Both keep the whole graph in view while it spreads, until the user pans or zooms.

import { select } from 'd3-selection';
import { zoom, zoomIdentity, type D3ZoomEvent, type ZoomTransform } from 'd3-zoom';

import type { SimNode } from './simulation.ts';

export interface Renderer {
  /** Draws the nodes at their current positions (called on every frame of new positions). */
  draw(): void;
  /** Zooms around the center (the buttons' way to zoom, for the keyboard). */
  zoomBy(factor: number): void;
  /** Shows the whole graph again, and keeps it in view while it moves. */
  fit(): void;
  setSelected(id: string | null): void;
  /** The theme changed: pick up the colors again. */
  refreshColors(): void;
  resize(width: number, height: number): void;
  destroy(): void;
}

/** How many labels are drawn on the graph itself: the strongest nodes only. */
export const LABELED_NODES = 20;

/** Room kept around the graph when it is fitted: labels sit above their nodes. */
const FIT_PADDING = 24;
/** Small graphs are not blown up past this scale. */
const FIT_MAX_SCALE = 1.5;

/** Pan and zoom of a renderer's element, with the view kept fitted until the user takes it. */
export interface FitZoom {
  /** True until the user pans or zooms, and again after `fit()`. */
  readonly autoFit: boolean;
  /** Moves the view to `transform` through the zoom behaviour, so a later pan starts from what is
   * on screen. */
  show(transform: ZoomTransform): void;
  zoomBy(factor: number): void;
  fit(): void;
  destroy(): void;
}

/** The zoom controls both renderers share: d3-zoom on `element` calls `onZoom` with every new
 * transform; `fit()` turns fitting back on and redraws with `draw`. */
export function fitZoom<E extends Element>(
  element: E,
  onZoom: (transform: ZoomTransform) => void,
  draw: () => void,
): FitZoom {
  const root = select(element);
  /** Off once the user pans or zooms: from then on the view is theirs. */
  let autoFit = true;
  const zoomer = zoom<E, unknown>()
    .scaleExtent([0.02, 8])
    .on('zoom', (event: D3ZoomEvent<E, unknown>) => {
      if (event.sourceEvent) autoFit = false;
      onZoom(event.transform);
    });
  root.call(zoomer);
  return {
    get autoFit() {
      return autoFit;
    },
    show(transform) {
      root.call(zoomer.transform, transform);
    },
    zoomBy(factor) {
      autoFit = false;
      root.call(zoomer.scaleBy, factor);
    },
    fit() {
      autoFit = true;
      draw();
    },
    destroy() {
      root.on('.zoom', null);
    },
  };
}

/** The zoom that shows every node in a `width` x `height` view centered on the origin. */
export function fitTransform(nodes: readonly SimNode[], width: number, height: number): ZoomTransform {
  if (nodes.length === 0 || width <= 0 || height <= 0) return zoomIdentity;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const n of nodes) {
    const [x, y, r] = [n.x ?? 0, n.y ?? 0, n.radius];
    x0 = Math.min(x0, x - r);
    y0 = Math.min(y0, y - r);
    x1 = Math.max(x1, x + r);
    y1 = Math.max(y1, y + r);
  }
  const k = Math.min(
    FIT_MAX_SCALE,
    (width - 2 * FIT_PADDING) / Math.max(1, x1 - x0),
    (height - 2 * FIT_PADDING) / Math.max(1, y1 - y0),
  );
  return zoomIdentity.translate((-k * (x0 + x1)) / 2, (-k * (y0 + y1)) / 2).scale(Math.max(k, 0.01));
}
