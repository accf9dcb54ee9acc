// Small graphs as SVG: one circle per node (its kind as a class, so CSS colors it per theme),
// labels on the strongest nodes, pan and zoom with d3-zoom. The view box is centered on the
// origin, where the simulation centers the graph.

import { select } from 'd3-selection';

import { LABELED_NODES, fitTransform, fitZoom, type Renderer } from './renderer.ts';
import type { SimLink, SimNode } from './simulation.ts';

const LABEL_HEIGHT = 15;
const LABEL_PADDING = 3;

export function svgRenderer(
  svg: SVGSVGElement,
  nodes: readonly SimNode[],
  links: readonly SimLink[],
  onPick: (id: string) => void,
): Renderer {
  const root = select(svg);
  const layer = root.append('g');
  const maxWeight = links.reduce((m, l) => Math.max(m, l.weight), 0) || 1;
  const linkSel = layer
    .append('g')
    .attr('class', 'graph-links')
    .selectAll<SVGLineElement, SimLink>('line')
    .data(links)
    .join('line')
    .attr('stroke-width', (l) => 0.5 + 2 * (l.weight / maxWeight));
  const nodeSel = layer
    .append('g')
    .selectAll<SVGCircleElement, SimNode>('circle')
    .data(nodes)
    .join('circle')
    .attr('class', (n) => `graph-node kind-${n.kind}`)
    .attr('r', (n) => n.radius)
    .attr('data-id', (n) => n.id)
    .on('click', (_event, n) => onPick(n.id));
  nodeSel.append('title').text((n) => `${n.kind}: ${n.label}`);
  const strongest = nodes.toSorted((a, b) => b.strength - a.strength).slice(0, LABELED_NODES);
  // Each label sits on an opaque plate: text over a node or a link would otherwise lose its
  // contrast with whatever it crosses.
  const labelSel = layer
    .append('g')
    .attr('class', 'graph-labels')
    .attr('aria-hidden', 'true')
    .selectAll<SVGGElement, SimNode>('g')
    .data(strongest)
    .join('g');
  labelSel.append('rect').attr('rx', 3).attr('height', LABEL_HEIGHT).attr('y', -LABEL_HEIGHT + 3);
  labelSel
    .append('text')
    .attr('text-anchor', 'middle')
    .text((n) => n.label)
    .each(function (this: SVGTextElement) {
      const width = this.getComputedTextLength() + 2 * LABEL_PADDING;
      select(this.previousElementSibling as SVGRectElement).attr('width', width).attr('x', -width / 2);
    });

  let [width, height] = [0, 0];
  const view = fitZoom(svg, (t) => layer.attr('transform', t.toString()), draw);

  function draw() {
    if (view.autoFit) view.show(fitTransform(nodes, width, height));
    linkSel
      .attr('x1', (l) => l.source.x ?? 0)
      .attr('y1', (l) => l.source.y ?? 0)
      .attr('x2', (l) => l.target.x ?? 0)
      .attr('y2', (l) => l.target.y ?? 0);
    nodeSel.attr('cx', (n) => n.x ?? 0).attr('cy', (n) => n.y ?? 0);
    labelSel.attr('transform', (n) => `translate(${n.x ?? 0},${(n.y ?? 0) - n.radius - 5})`);
  }

  return {
    draw,
    zoomBy: view.zoomBy,
    fit: view.fit,
    setSelected(id) {
      nodeSel.classed('selected', (n) => n.id === id);
    },
    refreshColors() {
      // CSS classes follow the theme by themselves.
    },
    resize(w, h) {
      [width, height] = [w, h];
      root.attr('viewBox', `${-w / 2} ${-h / 2} ${w} ${h}`);
      draw();
    },
    destroy() {
      view.destroy();
      layer.remove();
    },
  };
}
