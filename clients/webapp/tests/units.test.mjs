// The dashboard's pure modules (compiled by `tsc -p tsconfig.units.json`): alignment series,
// the answers behind a graph node, graph filters and the list of devices seen.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { answersBehind, preferenceLabel, words } from '../build/units/graph/answers.js';
import { NODE_KINDS, filterGraph } from '../build/units/graph/filter.js';
import { alignmentSeries, periodStart } from '../build/units/metrics/series.js';
import { MAX_DEVICES, markAllAbsent, notePeer } from '../build/units/vault/devices.js';

const DAY = 86_400_000;
/** Monday 2024-01-01, 00:00 UTC. */
const MONDAY = Date.UTC(2024, 0, 1);

let counter = 0;
function response(agent, kind, answer, createdMs, extra = {}) {
  counter += 1;
  return {
    id: `${agent}/${counter.toString(16).padStart(32, '0')}`,
    namespace: agent,
    agent,
    card_id: extra.card_id ?? `${kind}.card`,
    card_kind: kind,
    answer,
    created_ms: createdMs,
    status: 'answered',
    origin: 'test',
    wait_ms: 0,
    updated: { wall_ms: createdMs, counter: 0, node: '00' },
    conflicted: false,
    ...extra,
  };
}
const rating = (value) => ({ type: 'rating', value });
const text = (value) => ({ type: 'text', value });

test('periods start at UTC midnight, weeks on Monday', () => {
  assert.equal(periodStart(MONDAY + 5 * 3_600_000, 'day'), MONDAY);
  assert.equal(periodStart(MONDAY + 6 * DAY + 23 * 3_600_000, 'week'), MONDAY); // Sunday night
  assert.equal(periodStart(MONDAY + 7 * DAY, 'week'), MONDAY + 7 * DAY);
  assert.equal(periodStart(MONDAY - 1, 'week'), MONDAY - 7 * DAY);
});

test('series: mean rating, intent agreement and preference adherence per period', () => {
  const rs = [
    response('a', 'intent', text('steps'), MONDAY + 1),
    response('a', 'rating', rating(5), MONDAY + 2), // after an intent: agreement 1/1
    response('a', 'rating', rating(2), MONDAY + 3), // after a rating: no follow-up
    response('b', 'preference', { type: 'choice', value: 'short' }, MONDAY + DAY, { card_id: 'pref.length' }),
    response('a', 'intent', text('code'), MONDAY + 2 * DAY),
    response('a', 'rating', rating(3), MONDAY + 2 * DAY + 1), // after intent, after preference
    response('a', 'rating', rating(4), MONDAY + 8 * DAY), // next week, after preference
    { ...response('a', 'rating', rating(1), MONDAY + 3), status: 'skipped' }, // not counted
  ];
  const weekly = alignmentSeries(rs, 'week').get('a');
  assert.equal(weekly.length, 2);
  const [first, second] = weekly;
  assert.equal(first.start, MONDAY);
  assert.equal(first.answers, 5);
  assert.equal(first.ratings, 3);
  assert.ok(Math.abs(first.ratingMean - 10 / 3) < 1e-12);
  assert.equal(first.intentFollowups, 2);
  assert.equal(first.intentAgreement, 0.5);
  assert.equal(first.adherenceRatings, 1);
  assert.equal(first.preferenceAdherence, 0);
  assert.equal(second.start, MONDAY + 7 * DAY);
  assert.equal(second.intentFollowups, 0);
  assert.equal(second.intentAgreement, null);
  assert.equal(second.preferenceAdherence, 1);

  const daily = alignmentSeries(rs, 'day').get('a');
  assert.deepEqual(
    daily.map((p) => p.start),
    [MONDAY, MONDAY + 2 * DAY, MONDAY + 8 * DAY],
  );
  // Agent b answered only a preference: a point without ratings.
  const b = alignmentSeries(rs, 'day').get('b');
  assert.equal(b.length, 1);
  assert.equal(b[0].ratingMean, null);
});

test('series: "previous answer" follows (created_ms, id) order, not input order', () => {
  const intent = response('a', 'intent', text('x'), MONDAY + 10);
  const rated = response('a', 'rating', rating(4), MONDAY + 20);
  const [point] = alignmentSeries([rated, intent], 'day').get('a');
  assert.equal(point.intentFollowups, 1);
  assert.equal(point.intentAgreement, 1);
});

test('answers behind each kind of node', () => {
  const rs = [
    response('chatgpt', 'intent', text('Explain the Borrow-checker, please'), 1, { card_id: 'intent.include' }),
    response('chatgpt', 'intent', text('nothing here'), 2, { card_id: 'intent.include', context: { topics: ['Borrow  Checker'] } }),
    response('claude', 'intent', text('borrowed checkers'), 3, { card_id: 'intent.goal' }),
    response('claude', 'preference', { type: 'choice', value: 'short' }, 4, { card_id: 'pref.length' }),
    response('claude', 'preference', { type: 'choice', value: 'long' }, 5, { card_id: 'pref.length' }),
    { ...response('chatgpt', 'intent', text('borrow checker'), 6, { card_id: 'intent.include' }), status: 'skipped' },
  ];
  const ids = (node) => answersBehind(node, rs).map((r) => r.created_ms);
  assert.deepEqual(ids({ kind: 'topic', label: 'borrow checker' }), [1, 2]);
  assert.deepEqual(ids({ kind: 'topic', label: 'checker' }), [1]);
  assert.deepEqual(ids({ kind: 'agent', label: 'claude' }), [3, 4, 5]);
  assert.deepEqual(ids({ kind: 'card', label: 'intent.include' }), [1, 2]);
  assert.deepEqual(ids({ kind: 'preference', label: 'length=short' }), [4]);
  assert.equal(preferenceLabel(rs[4]), 'length=long');
  assert.deepEqual(words('Ça va? 3D-printing!'), ['ça', 'va', '3d', 'printing']);
});

test('graph filter: agents keep their neighbours, kinds filter after', () => {
  const node = (kind, label) => ({ id: `${kind}:${label}`, kind, label, strength: 1, pagerank: 0, community: 0 });
  const graph = {
    nodes: [node('agent', 'a'), node('agent', 'b'), node('topic', 'x'), node('topic', 'y'), node('card', 'c')],
    links: [
      { source: 'agent:a', target: 'topic:x', weight: 1 },
      { source: 'card:c', target: 'agent:b', weight: 1 },
      { source: 'topic:x', target: 'topic:y', weight: 1 },
      { source: 'topic:y', target: 'agent:b', weight: 1 },
    ],
  };
  const all = filterGraph(graph, { agents: new Set(), kinds: new Set(NODE_KINDS) });
  assert.equal(all.nodes.length, 5);
  assert.equal(all.links.length, 4);
  const a = filterGraph(graph, { agents: new Set(['a']), kinds: new Set(NODE_KINDS) });
  assert.deepEqual(a.nodes.map((n) => n.id), ['agent:a', 'topic:x']);
  assert.equal(a.links.length, 1);
  const topics = filterGraph(graph, { agents: new Set(), kinds: new Set(['topic']) });
  assert.deepEqual(topics.nodes.map((n) => n.id), ['topic:x', 'topic:y']);
  assert.deepEqual(topics.links, [{ source: 'topic:x', target: 'topic:y', weight: 1 }]);
});

test('devices: most recently seen first, bounded, absent without a connection', () => {
  let list = notePeer([], 'p1', true, 10);
  list = notePeer(list, 'p2', true, 20);
  list = notePeer(list, 'p1', false, 30);
  assert.deepEqual(list, [
    { replica: 'p1', present: false, lastSeenMs: 30 },
    { replica: 'p2', present: true, lastSeenMs: 20 },
  ]);
  assert.deepEqual(markAllAbsent(list, 40), [
    { replica: 'p1', present: false, lastSeenMs: 30 },
    { replica: 'p2', present: false, lastSeenMs: 40 },
  ]);
  for (let i = 0; i < MAX_DEVICES + 5; i += 1) list = notePeer(list, `q${i}`, true, 100 + i);
  assert.equal(list.length, MAX_DEVICES);
  assert.equal(list[0].replica, `q${MAX_DEVICES + 4}`);
});
