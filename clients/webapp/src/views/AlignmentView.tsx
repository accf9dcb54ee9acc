// Alignment per agent: the current totals and how ratings, intent agreement and preference
// adherence moved per day or week. The graph crate computes both (`selfos_graph::metrics`,
// through the WASM client), so the charts and the totals rest on one definition of each measure.

import type { AgentMetrics, SeriesPeriod, SeriesPoint } from '@selfos/wasm';
import { useId, useState } from 'react';

import { LineChart } from '../metrics/LineChart.tsx';
import { AgentOptions } from '../ui/AgentOptions.tsx';
import { ErrorNotice } from '../ui/ErrorNotice.tsx';
import { formatDay, percent } from '../ui/format.ts';
import { ProgressBar } from '../ui/ProgressBar.tsx';
import { NoAnswersYet } from './NoAnswersYet.tsx';
import { useVaultQuery } from '../vault/VaultContext.tsx';

export function AlignmentView() {
  // Both periods at once: switching is instant, and each series is one pass over the answers.
  const data = useVaultQuery(async (c) => {
    const [graph, day, week] = await Promise.all([c.graph(), c.alignmentSeries('day'), c.alignmentSeries('week')]);
    const series: Record<SeriesPeriod, Record<string, SeriesPoint[]>> = { day, week };
    return { metrics: graph.metrics, series };
  });
  const [period, setPeriod] = useState<SeriesPeriod>('week');
  const [chosen, setChosen] = useState<string | null>(null);
  const ids = { agent: useId(), period: useId() };

  if (data.status === 'error' && !data.data) return <ErrorNotice error={data.error} title="Cannot compute alignment" />;
  if (!data.data) return <ProgressBar label="Computing alignment" value={null} />;
  const series = data.data.series[period];
  const agents = [...new Set([...Object.keys(data.data.metrics), ...Object.keys(series)])].sort();
  if (agents.length === 0) {
    return (
      <NoAnswersYet>
        Rating, intent and preference cards answered while you wait for an AI feed these charts.
      </NoAnswersYet>
    );
  }
  const agent = chosen !== null && agents.includes(chosen) ? chosen : (agents[0] ?? '');
  const totals = data.data.metrics[agent];
  const points = series[agent] ?? [];

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap gap-4">
        <div className="flex items-center gap-2">
          <label htmlFor={ids.agent}>Agent</label>
          <select id={ids.agent} className="input" value={agent} onChange={(e) => setChosen(e.target.value)}>
            <AgentOptions agents={agents} />
          </select>
        </div>
        <div className="flex items-center gap-2">
          <label htmlFor={ids.period}>Per</label>
          <select id={ids.period} className="input" value={period} onChange={(e) => setPeriod(e.target.value as SeriesPeriod)}>
            <option value="day">day</option>
            <option value="week">week</option>
          </select>
        </div>
      </div>
      {totals ? <Totals metrics={totals} /> : <p className="text-muted">No totals for this agent yet.</p>}
      {points.every((p) => p.metrics.ratings === 0) && (
        <p className="notice">No ratings for {agent || 'this agent'} yet: answer rating cards to see how it does.</p>
      )}
      <div className="chart-grid-layout">
        <LineChart
          title="Mean rating"
          points={points.map((p) => ({ x: p.start_ms, y: p.metrics.rating_mean, n: p.metrics.ratings }))}
          yDomain={[1, 5]}
          formatY={(y) => y.toFixed(1)}
          formatX={formatDay}
          countLabel="Ratings"
        />
        <LineChart
          title="Intent agreement"
          points={points.map((p) => ({ x: p.start_ms, y: p.metrics.intent_agreement, n: p.metrics.intent_followups }))}
          yDomain={[0, 1]}
          formatY={percent}
          formatX={formatDay}
          countLabel="Ratings after an intent"
        />
        <LineChart
          title="Preference adherence"
          points={points.map((p) => ({
            x: p.start_ms,
            y: p.metrics.preference_adherence,
            n: p.metrics.preference_ratings,
          }))}
          yDomain={[0, 1]}
          formatY={percent}
          formatX={formatDay}
          countLabel="Ratings after preferences"
        />
      </div>
    </div>
  );
}

function Totals({ metrics: m }: { metrics: AgentMetrics }) {
  const number = (v: number | null, digits: number) => (v === null ? '–' : v.toFixed(digits));
  const facts: [string, string, string][] = [
    ['Answers', String(m.answers), 'answered cards of any kind'],
    ['Ratings', String(m.ratings), 'rating cards answered'],
    ['Mean rating', number(m.rating_mean, 2), 'out of 5'],
    ['Trend', m.rating_trend_per_day === null ? '–' : `${m.rating_trend_per_day >= 0 ? '+' : ''}${m.rating_trend_per_day.toFixed(3)}`, 'rating points per day'],
    ['Intent agreement', percent(m.intent_agreement), `rated 4-5 right after saying what you wanted (${m.intent_followups})`],
    ['Preference adherence', percent(m.preference_adherence), `rated 4-5 since your first preference (before: ${percent(m.rating_share_before_preferences)})`],
    ['Consistency', number(m.consistency, 2), '1 = the same card always gets the same rating'],
  ];
  return (
    <dl className="totals">
      {facts.map(([name, value, hint]) => (
        <div key={name} className="card">
          <dt className="text-sm text-muted">{name}</dt>
          <dd className="text-2xl font-semibold">{value}</dd>
          <dd className="text-sm text-muted">{hint}</dd>
        </div>
      ))}
    </dl>
  );
}
