// The dashboard's pure modules (compiled by `tsc -p tsconfig.units.json`): the answers behind a
// graph node, graph filters, the list of devices seen and the words for the relay's store. (Alignment series are the graph
// crate's, tested there.)

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { answersBehind, preferenceLabel, words } from '../build/units/graph/answers.js';
import { NODE_KINDS, filterGraph } from '../build/units/graph/filter.js';
import { MAX_DEVICES, markAllAbsent, notePeer } from '../build/units/vault/devices.js';
import { bytesText, progressShare, storeStatusText, usedShare } from '../build/units/vault/store.js';

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
const text = (value) => ({ type: 'text', value });

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

test("the relay's store in words: sizes, the share of the quota used, a catch-up's share done", () => {
  assert.equal(bytesText(0), '0 bytes');
  assert.equal(bytesText(812), '812 bytes');
  assert.equal(bytesText(1536), '1.5 KiB');
  assert.equal(bytesText(64 * 1024 * 1024), '64 MiB');
  assert.equal(bytesText(15.26 * 1024 * 1024), '15 MiB');
  assert.equal(bytesText(2 ** 60), '1048576 TiB');
  const usage = { bytes: 16 * 1024 * 1024, maxBytes: 64 * 1024 * 1024, blobs: 10, maxBlobs: 10_000, lastUploadMs: null };
  assert.equal(usedShare(usage), 0.25, 'bytes are the nearer quota');
  assert.equal(usedShare({ ...usage, blobs: 9_000 }), 0.9, 'blobs are the nearer quota');
  assert.equal(usedShare({ ...usage, bytes: 70 * 1024 * 1024 }), 1, 'never past full');
  assert.equal(usedShare({ ...usage, maxBytes: 0 }), 1, 'a quota of nothing is full');
  assert.equal(progressShare({ fetchedBytes: 30, totalBytes: 120 }), 0.25);
  assert.equal(progressShare({ fetchedBytes: 0, totalBytes: 0 }), 0);
  assert.match(storeStatusText('full'), /new answers stay on this device/);
  assert.match(storeStatusText('disabled'), /no store/);
});
