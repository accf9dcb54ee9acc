// One measure over time as a small SVG line chart (d3-scale, d3-shape), with the same numbers in
// a table for screen readers and for anyone who prefers figures. Periods without a value leave
// a gap in the line rather than a made-up zero.

import { scaleLinear, scaleUtc } from 'd3-scale';
import { line } from 'd3-shape';
import { useId } from 'react';

export interface ChartPoint {
  x: number;
  y: number | null;
  /** How many answers the value rests on (shown in the table). */
  n: number;
}

const WIDTH = 560;
const HEIGHT = 180;
const MARGIN = { top: 10, right: 16, bottom: 28, left: 44 };

export function LineChart({
  title,
  points,
  yDomain,
  formatY,
  formatX,
  countLabel,
}: {
  title: string;
  points: readonly ChartPoint[];
  yDomain: [number, number];
  formatY(y: number): string;
  formatX(x: number): string;
  countLabel: string;
}) {
  const titleId = useId();
  const defined = points.filter((p): p is ChartPoint & { y: number } => p.y !== null);
  const first = points[0]?.x ?? 0;
  const last = points.at(-1)?.x ?? first;
  // A single period still needs a width to sit in.
  const x = scaleUtc()
    .domain([first, last === first ? first + 86_400_000 : last])
    .range([MARGIN.left, WIDTH - MARGIN.right]);
  const y = scaleLinear().domain(yDomain).range([HEIGHT - MARGIN.bottom, MARGIN.top]);
  const path =
    line<ChartPoint>()
      .defined((p) => p.y !== null)
      .x((p) => x(p.x))
      .y((p) => y(p.y ?? 0))(points) ?? '';
  const summary =
    defined.length === 0
      ? `${title}: no values yet.`
      : `${title}: ${defined.length} periods, latest ${formatY(defined.at(-1)?.y ?? 0)}.`;

  return (
    <figure className="card chart" aria-labelledby={titleId}>
      <figcaption id={titleId} className="font-semibold">
        {title}
      </figcaption>
      {defined.length === 0 ? (
        <p className="mt-2 text-sm text-muted">No values in this range yet.</p>
      ) : (
        <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} className="mt-2 w-full" role="img" aria-label={summary}>
          <g className="chart-grid">
            {y.ticks(4).map((t) => (
              <g key={t}>
                <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={y(t)} y2={y(t)} />
                <text x={MARGIN.left - 6} y={y(t)} dy="0.32em" textAnchor="end">
                  {formatY(t)}
                </text>
              </g>
            ))}
            {x.ticks(Math.min(5, points.length)).map((t) => (
              <text key={t.getTime()} x={x(t)} y={HEIGHT - 8} textAnchor="middle">
                {formatX(t.getTime())}
              </text>
            ))}
          </g>
          <path className="chart-line" d={path} />
          {defined.map((p) => (
            <circle key={p.x} className="chart-dot" cx={x(p.x)} cy={y(p.y)} r={3.5} />
          ))}
        </svg>
      )}
      <details className="mt-2 text-sm">
        <summary>Data table</summary>
        <table className="data-table mt-1">
          <thead>
            <tr>
              <th scope="col">Period</th>
              <th scope="col">{title}</th>
              <th scope="col">{countLabel}</th>
            </tr>
          </thead>
          <tbody>
            {points.map((p) => (
              <tr key={p.x}>
                <td>{formatX(p.x)}</td>
                <td>{p.y === null ? '–' : formatY(p.y)}</td>
                <td>{p.n}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
