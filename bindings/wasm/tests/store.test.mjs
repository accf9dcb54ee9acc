// The relay's store between devices that are never online together: a CLI device fills it and
// leaves, a browser device catches up from it alone, and its own write reaches the CLI through it.
// Then a store that is full: the client says so and counts the write as this device's only.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import {
  CHEAP_KDF,
  OTHER_PASSPHRASE,
  PASSPHRASE,
  cli,
  cliInit,
  content,
  devicePage,
  startRelay,
  useBrowser,
} from './harness.mjs';

useBrowser();

/** A temporary folder for a CLI vault, removed after `t`; resolves with the vault's path. */
async function cliVault(t) {
  const parent = await mkdtemp(path.join(tmpdir(), 'selfos-cli-'));
  t.after(() => rm(parent, { recursive: true, force: true }));
  return path.join(parent, 'vault');
}

/** Runs `selfos sync` alone against the relay; resolves with its JSON summary. */
async function syncAlone(dir, relay) {
  const summary = JSON.parse(await cli(dir, '--json', 'sync', '--relay', relay.url));
  assert.deepEqual(summary.peers, [], 'no other device was online');
  return summary;
}

test('a CLI device alone fills the store; a browser catches up from it alone; its write reaches the CLI', async (t) => {
  const relay = await startRelay();
  t.after(relay.kill);
  const dir = await cliVault(t);
  await cliInit(dir);
  const answers = ['tables over prose', 'cite the docs', 'shorter please'];
  const ids = [];
  for (const answer of answers) {
    const { id } = JSON.parse(
      await cli(dir, '--json', 'record', '--agent', 'chatgpt', '--card', 'intent.include', '--answer', answer),
    );
    ids.push(id);
  }
  const first = await syncAlone(dir, relay);
  assert.equal(first.store, 'in-sync', 'the store holds what the CLI wrote');
  const kit = await cli(dir, 'recovery-kit');

  // The CLI has exited: the browser is the only device online.
  const page = await devicePage(t);
  const caughtUp = await page.evaluate(
    async ({ kit, passphrase, kdf, relayUrl, ids }) => {
      const client = await selfos.SelfosClient.restore({ dbName: 'device', recoveryKit: kit, passphrase, kdf });
      globalThis.progress = [];
      client.addEventListener('sync', (e) => e.detail.store.progress && progress.push(e.detail.store.progress));
      await testing.adopt(client, relayUrl);
      const holdsAll = async (c) => {
        const listed = new Set((await c.list()).responses.map((r) => r.id));
        return ids.every((id) => listed.has(id)) && c.syncState.store.status === 'settled';
      };
      await testing.until(client, holdsAll);
      const { responses } = await client.list();
      return { answers: responses.map((r) => r.answer.value).sort(), state: client.syncState, progress };
    },
    { kit, passphrase: OTHER_PASSPHRASE, kdf: CHEAP_KDF, relayUrl: relay.url, ids },
  );
  assert.deepEqual(caughtUp.answers, [...answers].sort());
  const { state } = caughtUp;
  assert.equal(state.status, 'joined');
  assert.equal(state.peers, 0, 'no other device was online: everything came from the store');
  assert.equal(state.store.progress, null, 'no catch-up under way once settled');
  assert.ok(state.store.usage.bytes > 0, "the store's usage as the relay said it");
  assert.ok(state.store.usage.blobs >= 1);
  assert.equal(state.store.usage.maxBytes, first.store_max_bytes);
  assert.ok(state.store.usage.lastUploadMs > Date.now() - 10 * 60_000, 'the CLI uploaded a moment ago');
  assert.ok(caughtUp.progress.length >= 1, 'the catch-up reported progress');
  for (const { fetchedBytes, totalBytes } of caughtUp.progress) {
    assert.ok(fetchedBytes < totalBytes, `reported while under way: ${fetchedBytes} of ${totalBytes}`);
  }

  // A write of the browser: held by this device only until the store acknowledges it.
  const written = await page.evaluate(async (c) => {
    const seen = [];
    client.addEventListener('sync', (e) => seen.push(e.detail.unsynced));
    const { id } = await client.record('claude', c);
    await testing.until(client, (c) => c.syncState.unsynced === 0 && c.syncState.store.status === 'settled');
    const state = client.syncState;
    await client.lock();
    return { id, seen, peers: state.peers };
  }, content('claude', 'written in the browser'));
  assert.ok(written.seen.includes(1), 'the write counted as unsynced first');
  assert.equal(written.peers, 0, 'with no other device online, the store holds it');

  const second = await syncAlone(dir, relay);
  assert.equal(second.store, 'in-sync');
  const listed = JSON.parse(await cli(dir, '--json', 'list'));
  assert.equal(listed.find((r) => r.id === written.id)?.answer?.value, 'written in the browser');
});

test('a full store: the client says so, and the write stays counted as this device\'s only', async (t) => {
  // Two blobs per room: the settings that hold the new device's name, then the first answer;
  // the next upload is over the quota.
  const relay = await startRelay(undefined, ['--store-max-blobs', '2']);
  t.after(relay.kill);
  const page = await devicePage(t);
  const result = await page.evaluate(
    async ({ passphrase, kdf, relayUrl, first, second }) => {
      const client = await selfos.SelfosClient.create({ dbName: 'full', passphrase, kdf });
      const warnings = [];
      client.addEventListener('warning', (e) => warnings.push(e.detail.message));
      await testing.adopt(client, relayUrl);
      await testing.until(client, (c) => c.syncState.status === 'joined');
      await client.record('chatgpt', first);
      await testing.until(client, (c) => c.syncState.unsynced === 0 && c.syncState.store.status === 'settled');
      const before = client.syncState.store;
      await client.record('chatgpt', second);
      await testing.until(client, (c) => c.syncState.store.status === 'full');
      return { before, after: client.syncState, warnings };
    },
    {
      passphrase: PASSPHRASE,
      kdf: CHEAP_KDF,
      relayUrl: relay.url,
      first: content('chatgpt', 'fits'),
      second: content('chatgpt', 'does not fit'),
    },
  );
  assert.equal(result.before.usage.maxBlobs, 2);
  assert.equal(result.after.unsynced, 1, 'the second write is on this device only');
  assert.equal(result.after.peers, 0);
  assert.ok(
    result.warnings.some((w) => /store for this vault is full/.test(w)),
    `a warning says the store is full: ${JSON.stringify(result.warnings)}`,
  );
});
