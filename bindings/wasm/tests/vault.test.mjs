// One device: what IndexedDB keeps across reloads, what damage and a wrong passphrase do to it,
// and what a locked client refuses.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  CHEAP_KDF,
  OTHER_PASSPHRASE,
  PASSPHRASE,
  browser,
  content,
  contentOf,
  openPage,
  reload,
  server,
  useBrowser,
} from './harness.mjs';

useBrowser();

/** A page in a fresh profile (its own IndexedDB) with a vault holding `contents`. */
async function pageWithVault(dbName, contents) {
  const context = await browser.newContext();
  const page = await openPage(context, server.origin);
  const ids = await page.evaluate(
    async ({ dbName, passphrase, kdf, contents }) => {
      const client = await selfos.SelfosClient.create({ dbName, passphrase, kdf });
      const ids = [];
      for (const [namespace, c] of contents) ids.push((await client.record(namespace, c)).id);
      globalThis.client = client;
      return ids;
    },
    { dbName, passphrase: PASSPHRASE, kdf: CHEAP_KDF, contents },
  );
  return { page, ids };
}

function unlockAndList(page, dbName) {
  return page.evaluate(
    async ({ dbName, passphrase }) => {
      const client = await selfos.SelfosClient.unlock({ dbName, passphrase });
      globalThis.client = client;
      return { listing: await client.list(), damaged: await client.damaged() };
    },
    { dbName, passphrase: PASSPHRASE },
  );
}

test('recorded answers survive a reload, field for field', async () => {
  const recorded = [
    ['chatgpt', content('chatgpt', 'steps and an example')],
    ['chatgpt', content('chatgpt', '', { card_id: 'rating.overall', card_kind: 'rating', answer: { type: 'rating', value: 4 } })],
    // A skipped card: no answer, no context.
    ['claude', { card_id: 'pref.tone', card_kind: 'preference', agent: 'claude', origin: 'test', created_ms: 1_760_000_000_123, wait_ms: 0, status: 'skipped' }],
  ];
  const { page, ids } = await pageWithVault('reload', recorded);
  await reload(page);
  const { listing, damaged } = await unlockAndList(page, 'reload');
  assert.deepEqual(damaged, []);
  assert.deepEqual(listing.unreadable, []);
  const byId = new Map(listing.responses.map((r) => [r.id, r]));
  assert.equal(byId.size, 3);
  ids.forEach((id, i) => {
    const [namespace, c] = recorded[i];
    assert.equal(byId.get(id)?.namespace, namespace);
    assert.deepEqual(contentOf(byId.get(id)), c);
  });
  await page.context().close();
});

test('a damaged chunk is named by damaged(), and the other answers still list', async () => {
  const recorded = ['chatgpt', 'claude', 'gemini'].map((agent) => [agent, content(agent, `kept by ${agent}`)]);
  const { page, ids } = await pageWithVault('tamper', recorded);
  const key = await page.evaluate(async () => {
    const { key } = (await testing.dump('tamper')).find((e) => e.key.startsWith('chunks/claude/'));
    await testing.flipByte('tamper', key);
    return key;
  });
  const tampered = await page.evaluate(() => testing.dump('tamper'));
  await reload(page);
  const { listing, damaged } = await unlockAndList(page, 'tamper');

  assert.equal(damaged.length, 1, JSON.stringify(damaged));
  assert.equal(damaged[0].key, key);
  assert.match(damaged[0].reason, /tampered|corrupted/);
  const listed = new Map(listing.responses.map((r) => [r.id, r]));
  assert.deepEqual(contentOf(listed.get(ids[0])), recorded[0][1]);
  assert.deepEqual(contentOf(listed.get(ids[2])), recorded[2][1]);
  assert.equal(listed.has(ids[1]), false, 'the answer in the damaged chunk is not made up');
  // Unlocking reads only: the damaged entry is left as it was, for a later repair.
  assert.deepEqual(await page.evaluate(() => testing.dump('tamper')), tampered);
  await page.context().close();
});

test('a wrong passphrase is refused and changes no stored byte', async () => {
  const { page } = await pageWithVault('wrong', [['chatgpt', content('chatgpt', 'secret')]]);
  const result = await page.evaluate(async () => {
    await client.lock();
    const before = await testing.dump('wrong');
    const code = await testing.codeOf(selfos.SelfosClient.unlock({ dbName: 'wrong', passphrase: 'not it' }));
    return { before, code, after: await testing.dump('wrong') };
  });
  assert.equal(result.code, 'wrong-passphrase');
  assert.ok(result.before.length >= 2, 'a header and at least one chunk are stored');
  assert.deepEqual(result.after, result.before);
  await page.context().close();
});

test('a locked client refuses every call; unlocking again works', async () => {
  const { page, ids } = await pageWithVault('lock', [['chatgpt', content('chatgpt', 'before the lock')]]);
  const codes = await page.evaluate(async (c) => {
    // Called before lock(): it still completes, lock waits for it.
    const last = client.record('chatgpt', c);
    await client.lock();
    return {
      last: await testing.codeOf(last),
      list: await testing.codeOf(client.list()),
      record: await testing.codeOf(client.record('chatgpt', c)),
      recoveryKit: await testing.codeOf(client.recoveryKit()),
      connect: await testing.codeOf(client.connect('ws://127.0.0.1:1')),
      create: await testing.codeOf(selfos.SelfosClient.create({ dbName: 'lock', passphrase: 'x' })),
    };
  }, content('chatgpt', 'right before the lock'));
  assert.deepEqual(codes, {
    last: 'resolved',
    list: 'locked',
    record: 'locked',
    recoveryKit: 'locked',
    connect: 'locked',
    create: 'already-exists',
  });
  const { listing } = await unlockAndList(page, 'lock');
  assert.equal(listing.responses.length, 2);
  assert.ok(listing.responses.some((r) => r.id === ids[0]));
  await page.context().close();
});

test('compaction runs once writes pause, and keeps every answer', async () => {
  const recorded = [1, 2, 3, 4, 5].map((i) => ['chatgpt', content('chatgpt', `answer ${i}`)]);
  const { page, ids } = await pageWithVault('compact', recorded);
  const { written, compacted } = await page.evaluate(async () => {
    // The answers' namespace (the settings beside it hold the device's name).
    const chunks = async () =>
      (await testing.dump('compact')).map((e) => e.key).filter((k) => k.startsWith('chunks/chatgpt/'));
    const written = await chunks();
    await testing.poll(async () => (await chunks()).length === 1);
    return { written, compacted: await chunks() };
  });
  assert.equal(written.length, 5, 'one incremental chunk per write');
  assert.match(compacted[0], /^chunks\/chatgpt\/snap-/);
  await reload(page);
  const { listing } = await unlockAndList(page, 'compact');
  assert.deepEqual(listing.responses.map((r) => r.id).sort(), [...ids].sort());
  await page.context().close();
});

test('a full disk rejects the write with storage-full and locks; what was saved stays', async () => {
  const context = await browser.newContext();
  const page = await openPage(context, server.origin);
  // Chromium's own quota enforcement, made small for this origin.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.origin, quotaSize: 200_000 });
  const result = await page.evaluate(
    async ({ passphrase, kdf, c }) => {
      const client = await selfos.SelfosClient.create({ dbName: 'full', passphrase, kdf });
      const saved = [];
      for (let i = 0; i < 100; i++) {
        const answer = { type: 'text', value: `${i} `.padEnd(15_000, 'x') };
        try {
          saved.push((await client.record('chatgpt', { ...c, answer })).id);
        } catch (error) {
          return { saved, code: error.code, message: error.message, after: await testing.codeOf(client.list()) };
        }
      }
      return { saved };
    },
    { passphrase: PASSPHRASE, kdf: CHEAP_KDF, c: content('chatgpt', '') },
  );
  assert.equal(result.code, 'storage-full');
  assert.match(result.message, /free some storage space, then unlock again/);
  assert.equal(result.after, 'locked');
  assert.ok(result.saved.length > 0);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.origin });
  const { listing } = await unlockAndList(page, 'full');
  assert.deepEqual(listing.responses.map((r) => r.id).sort(), [...result.saved].sort());
  await context.close();
});

test('the trainer and the knowledge graph read the answers, and follow new ones', async () => {
  const context = await browser.newContext();
  const page = await openPage(context, server.origin);
  const result = await page.evaluate(
    async ({ passphrase, kdf, c }) => {
      const client = await selfos.SelfosClient.create({ dbName: 'insight', passphrase, kdf });
      const fresh = await client.nextCard({ agent: 'chatgpt', expectedWaitMs: 15_000 });
      const tooShort = await client.nextCard({ agent: 'chatgpt', expectedWaitMs: 1_000 });
      const nodesBefore = (await client.graph()).nodes.length;
      await client.record('chatgpt', c);
      await client.record('chatgpt', {
        ...c,
        card_id: 'pref.length',
        card_kind: 'preference',
        answer: { type: 'choice', value: 'Short' },
      });
      await client.record('chatgpt', { ...c, card_id: 'rate.last', card_kind: 'rating', answer: { type: 'rating', value: 4 } });
      const graph = await client.graph();
      const snippet = await client.snippet('chat-gpt');
      const embeddings = await client.embeddings();
      const later = await client.nextCard({ agent: 'chatgpt', expectedWaitMs: 15_000, elapsedMs: 10_000 });
      const weeklyBefore = await client.alignmentSeries('week');
      // A rating eight days later lands in the next week.
      const nextWeek = c.created_ms + 8 * 86_400_000;
      await client.record('chatgpt', { ...c, card_id: 'rate.last', card_kind: 'rating', answer: { type: 'rating', value: 2 }, created_ms: nextWeek });
      const weekly = await client.alignmentSeries('week');
      const daily = await client.alignmentSeries('day');
      const totals = (await client.graph()).metrics;
      const badPeriod = await testing.codeOf(client.alignmentSeries('month'));
      return { fresh, tooShort, nodesBefore, graph, snippet, embeddings, later, weeklyBefore, weekly, daily, totals, badPeriod };
    },
    { passphrase: PASSPHRASE, kdf: CHEAP_KDF, c: content('chatgpt', 'rust borrow checker examples') },
  );
  // A fresh agent is first asked what its answer should include; a 1 s wait fits no card.
  assert.equal(result.fresh.kind, 'intent');
  assert.equal(typeof result.fresh.prompt, 'string');
  assert.equal(result.tooShort, undefined);
  // The graph was built before the answers and rebuilt after them.
  assert.equal(result.nodesBefore, 0);
  const ids = result.graph.nodes.map((n) => n.id);
  for (const id of ['agent:chatgpt', 'pref:length=Short', 'topic:testing']) {
    assert.ok(ids.includes(id), `${id} missing from ${ids.join(', ')}`);
  }
  assert.equal(result.graph.metrics.chatgpt.rating_mean, 4);
  assert.equal(result.snippet.fields.length, 2);
  assert.ok(result.snippet.fields[1].lines.some((l) => l.text.includes('Short')));
  assert.equal(result.embeddings.length, result.graph.nodes.length);
  assert.equal(result.embeddings[0].vector.length, 16);
  // The trainer read the new answers: the length preference, stated years before now, is
  // due for re-confirmation.
  assert.equal(result.later.kind, 'reconfirm');
  assert.equal(result.later.dimension, 'length');
  // Alignment over time: the series follow the new rating, and their counts add up to the totals.
  const DAY = 86_400_000;
  const MONDAY = Date.UTC(2024, 0, 1);
  assert.deepEqual(result.weeklyBefore.chatgpt.map((p) => p.metrics.ratings), [1]);
  const totals = result.totals.chatgpt;
  assert.equal(totals.ratings, 2);
  for (const [period, length] of [['weekly', 7 * DAY], ['daily', DAY]]) {
    const points = result[period].chatgpt;
    assert.equal(points.length, 2, period);
    assert.ok(points.every((p) => (p.start_ms - MONDAY) % length === 0), period);
    const sum = (field) => points.reduce((n, p) => n + p.metrics[field], 0);
    for (const field of ['answers', 'ratings', 'intent_followups', 'preference_ratings']) {
      assert.equal(sum(field), totals[field], `${period} ${field}`);
    }
    assert.deepEqual(points.map((p) => p.metrics.rating_mean), [4, 2]);
  }
  assert.deepEqual(Object.keys(result.weekly), Object.keys(result.totals));
  assert.equal(result.badPeriod, 'invalid');
  await context.close();
});

test('a session key unlocks again without the passphrase; another vault\'s key changes nothing', async () => {
  const { page } = await pageWithVault('resume', [['chatgpt', content('chatgpt', 'kept across restarts')]]);
  const result = await page.evaluate(
    async ({ passphrase, kdf }) => {
      const key = await client.sessionKey();
      await client.lock();
      const resumed = await selfos.SelfosClient.resume({ dbName: 'resume', sessionKey: key, unsynced: 3 });
      const listed = (await resumed.list()).responses.map((r) => r.answer.value);
      const unsynced = resumed.syncState.unsynced;
      await resumed.lock();
      const other = await selfos.SelfosClient.create({ dbName: 'resume-other', passphrase, kdf });
      const otherKey = await other.sessionKey();
      const before = await testing.dump('resume');
      const code = await testing.codeOf(selfos.SelfosClient.resume({ dbName: 'resume', sessionKey: otherKey }));
      const after = await testing.dump('resume');
      return { keyLength: key.length, listed, unsynced, code, unchanged: JSON.stringify(before) === JSON.stringify(after) };
    },
    { passphrase: PASSPHRASE, kdf: CHEAP_KDF },
  );
  assert.equal(result.keyLength, 53);
  assert.deepEqual(result.listed, ['kept across restarts']);
  assert.equal(result.unsynced, 3);
  assert.equal(result.code, 'wrong-session-key');
  assert.ok(result.unchanged);
});

test("another vault's export is refused by id unless fromOtherVault; this vault's imports", async () => {
  const { page } = await pageWithVault('export-source', [['chatgpt', content('chatgpt', 'carried over')]]);
  const result = await page.evaluate(
    async ({ passphrase, kdf }) => {
      const json = await client.exportJson();
      const source = JSON.parse(json).vault;
      const other = await selfos.SelfosClient.create({ dbName: 'export-other', passphrase, kdf });
      const target = JSON.parse(await other.exportJson()).vault;
      let refused;
      try {
        await other.importJson(json);
      } catch (e) {
        refused = { code: e.code, message: e.message };
      }
      const before = (await other.list()).responses.length;
      const taken = await other.importJson(json, { fromOtherVault: true });
      const again = await client.importJson(json);
      return { source, target, refused, before, taken, again };
    },
    { passphrase: PASSPHRASE, kdf: CHEAP_KDF },
  );
  assert.equal(result.refused?.code, 'other-vault');
  assert.ok(result.refused.message.includes(result.source), result.refused.message);
  assert.ok(result.refused.message.includes(result.target), result.refused.message);
  assert.equal(result.before, 0);
  assert.equal(result.taken.added, 1);
  assert.deepEqual(result.again, { added: 0, existing: 1, deleted_here: 0 });
  await page.context().close();
});

test('a client connects over wss://, and over plain ws:// only to this machine', async () => {
  const { page } = await pageWithVault('relay-addresses', []);
  const outcome = await page.evaluate(async () => {
    const tries = [
      'wss://relay.example',
      'wss://relay.example:8787/',
      'ws://localhost:9',
      'ws://127.0.0.1:9',
      'ws://[::1]:9',
      'ws://relay.example:8787',
      'ws://10.0.0.2:8787',
      'ws://127.0.0.1.example',
      'http://relay.example',
      'not a url',
    ];
    const out = {};
    for (const url of tries) {
      try {
        await client.connect(url);
        out[url] = 'ok';
      } catch (error) {
        out[url] = `${error.code}: ${error.message}`;
      }
    }
    await client.disconnect();
    return out;
  });
  for (const url of ['wss://relay.example', 'wss://relay.example:8787/', 'ws://localhost:9', 'ws://127.0.0.1:9', 'ws://[::1]:9']) {
    assert.equal(outcome[url], 'ok', url);
  }
  for (const url of ['ws://relay.example:8787', 'ws://10.0.0.2:8787', 'ws://127.0.0.1.example', 'http://relay.example', 'not a url']) {
    assert.match(outcome[url], /^invalid: not a relay address: .*wss:\/\//, url);
  }
  await page.context().close();
});

test('a recovery kit restores the vault on another device; a mistyped one stores nothing', async () => {
  const { page, ids } = await pageWithVault('kit', [['chatgpt', content('chatgpt', 'kept by the kit')]]);
  const result = await page.evaluate(
    async ({ passphrase, kdf }) => {
      const kit = await client.recoveryKit();
      const words = kit.split('\n').filter((l) => !l.startsWith('#')).join(' ').split(/\s+/).filter(Boolean);
      const typo = [...words];
      typo[5] = typo[5] === 'abandon' ? 'ability' : 'abandon';
      const mistyped = await testing.codeOf(
        selfos.SelfosClient.restore({ dbName: 'typo', recoveryKit: typo.join(' '), passphrase, kdf }),
      );
      const restored = await selfos.SelfosClient.restore({ dbName: 'phone', recoveryKit: kit, passphrase, kdf });
      const same = restored.id === client.id && restored.replica !== client.replica;
      await restored.lock();
      return { words: words.length, mistyped, typoStored: await testing.dump('typo'), same };
    },
    { passphrase: OTHER_PASSPHRASE, kdf: CHEAP_KDF },
  );
  assert.equal(result.words, 24);
  assert.equal(result.mistyped, 'invalid');
  assert.deepEqual(result.typoStored, []);
  assert.ok(result.same, 'the restored replica is of the same vault');
  assert.equal(ids.length, 1);
  await page.context().close();
});

test('a new passphrase unlocks; the old one and older session keys do not', async () => {
  const { page } = await pageWithVault('rewrap', [['chatgpt', content('chatgpt', 'still here')]]);
  const result = await page.evaluate(
    async ({ oldPass, newPass, kdf }) => {
      const before = await client.sessionKey();
      await client.changePassphrase(newPass, kdf);
      await client.lock();
      const old = await testing.codeOf(selfos.SelfosClient.unlock({ dbName: 'rewrap', passphrase: oldPass }));
      const session = await testing.codeOf(selfos.SelfosClient.resume({ dbName: 'rewrap', sessionKey: before }));
      const reopened = await selfos.SelfosClient.unlock({ dbName: 'rewrap', passphrase: newPass });
      const count = (await reopened.list()).responses.length;
      await reopened.lock();
      return { old, session, count };
    },
    { oldPass: PASSPHRASE, newPass: OTHER_PASSPHRASE, kdf: CHEAP_KDF },
  );
  assert.deepEqual(result, { old: 'wrong-passphrase', session: 'wrong-session-key', count: 1 });
  await page.context().close();
});

test('the WASM build refuses an Argon2id cost below the floor', async () => {
  const context = await browser.newContext();
  const page = await openPage(context, server.origin);
  const code = await page.evaluate((passphrase) =>
    testing.codeOf(
      selfos.SelfosClient.create({ dbName: 'weak', passphrase, kdf: { memory_kib: 64, iterations: 1, parallelism: 1 } }),
    ),
    PASSPHRASE,
  );
  assert.equal(code, 'invalid');
  await context.close();
});

/** The files of the format-1 vault fixture, as IndexedDB entries (keys mirror the folder). */
function format1Entries() {
  const root = fileURLToPath(new URL('../../../crates/selfos-vault/tests/data/v1_vault', import.meta.url));
  const walk = (dir) =>
    readdirSync(dir).flatMap((name) => {
      const file = path.join(dir, name);
      return statSync(file).isDirectory() ? walk(file) : [file];
    });
  return walk(root).map((file) => ({
    key: path.relative(root, file).split(path.sep).join('/'),
    bytes: [...readFileSync(file)],
  }));
}

test('a format-1 vault in IndexedDB is refused, exported, and imported into a new vault', async () => {
  const context = await browser.newContext();
  const page = await openPage(context, server.origin);
  const result = await page.evaluate(
    async ({ entries, passphrase, kdf }) => {
      await testing.seed('old', entries);
      const before = await testing.dump('old');
      const unlock = await testing.codeOf(selfos.SelfosClient.unlock({ dbName: 'old', passphrase: 'format one passphrase' }));
      const json = await selfos.SelfosClient.exportFormat1({ dbName: 'old', passphrase: 'format one passphrase' });
      const fresh = await selfos.SelfosClient.create({ dbName: 'new', passphrase, kdf });
      const report = await fresh.importJson(json, { fromOtherVault: true });
      const answers = (await fresh.list()).responses.map((r) => r.answer);
      await fresh.lock();
      return { unlock, report, answers, untouched: JSON.stringify(before) === JSON.stringify(await testing.dump('old')) };
    },
    { entries: format1Entries(), passphrase: PASSPHRASE, kdf: CHEAP_KDF },
  );
  assert.equal(result.unlock, 'old-format');
  assert.equal(result.report.added, 2);
  assert.ok(result.answers.some((a) => a?.value === 'format one answer about rust lifetimes'));
  assert.ok(result.untouched, 'reading format 1 stored nothing');
  await context.close();
});
