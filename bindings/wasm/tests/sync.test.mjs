// Several devices of one vault through a real relay: two browser profiles (each its own
// IndexedDB) and the CLI.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  CHEAP_KDF,
  OTHER_PASSPHRASE,
  PASSPHRASE,
  cli,
  cliFromKit,
  content,
  devicePage,
  reload,
  startRelay,
  useBrowser,
} from './harness.mjs';

useBrowser();

/**
 * Device A creates a vault, device B restores it from A's recovery kit; both connect to the relay
 * and wait until each sees the other. Every `sync` status each client reports goes to `statuses`.
 */
async function twoDevices(t, relayUrl) {
  const [a, b] = await Promise.all([devicePage(t), devicePage(t)]);
  const kit = await a.evaluate(
    async ({ passphrase, kdf, relayUrl }) => {
      const client = await selfos.SelfosClient.create({ dbName: 'device', passphrase, kdf });
      await testing.adopt(client, relayUrl);
      return client.recoveryKit();
    },
    { passphrase: PASSPHRASE, kdf: CHEAP_KDF, relayUrl },
  );
  await b.evaluate(
    async ({ kit, passphrase, kdf, relayUrl }) => {
      const client = await selfos.SelfosClient.restore({ dbName: 'device', recoveryKit: kit, passphrase, kdf });
      await testing.adopt(client, relayUrl);
    },
    { kit, passphrase: OTHER_PASSPHRASE, kdf: CHEAP_KDF, relayUrl },
  );
  await Promise.all(
    [a, b].map((page) =>
      page.evaluate(() => testing.until(client, (c) => c.syncState.status === 'joined' && c.syncState.peers === 1)),
    ),
  );
  return { a, b, kit };
}

function record(page, namespace, c) {
  return page.evaluate(async ([namespace, c]) => (await client.record(namespace, c)).id, [namespace, c]);
}

/** The page's responses once every id in `ids` is among them, sorted by id. */
async function listOnceHas(page, ids) {
  const responses = await page.evaluate(async (ids) => {
    const has = async (c) => {
      const listed = new Set((await c.list()).responses.map((r) => r.id));
      return ids.every((id) => listed.has(id));
    };
    await testing.until(client, has);
    return (await client.list()).responses;
  }, ids);
  return byId(responses);
}

const byId = (responses) => [...responses].sort((x, y) => x.id.localeCompare(y.id));

test('two browsers and the CLI converge on the same answers through the relay', async (t) => {
  const relay = await startRelay();
  t.after(relay.kill);
  const { a, b, kit } = await twoDevices(t, relay.url);
  // Each device names the other: B found A already in the room, A saw B arrive.
  const [replicaA, replicaB] = await Promise.all([a, b].map((p) => p.evaluate(() => client.replica)));
  assert.deepEqual(await a.evaluate(() => arrived), [replicaB]);
  assert.deepEqual(await b.evaluate(() => arrived), [replicaA]);

  const fromA = await record(a, 'chatgpt', content('chatgpt', 'from browser A'));
  const fromB = await record(b, 'claude', content('claude', 'from browser B'));
  const listA = await listOnceHas(a, [fromA, fromB]);
  const listB = await listOnceHas(b, [fromA, fromB]);
  assert.equal(listA.length, 2);
  assert.deepEqual(listA, listB);

  // The CLI joins from the same recovery kit and syncs while both browsers are online.
  const dir = await cliFromKit(t, kit);
  const { id: fromCli } = JSON.parse(
    await cli(dir, '--json', 'record', '--agent', 'gemini', '--card', 'intent.include', '--answer', 'from the CLI'),
  );
  await cli(dir, 'sync', '--relay', relay.url);
  const listCli = byId(JSON.parse(await cli(dir, '--json', 'list')));
  const expected = [
    [fromA, 'from browser A'],
    [fromB, 'from browser B'],
    [fromCli, 'from the CLI'],
  ].sort(([x], [y]) => x.localeCompare(y));
  assert.deepEqual(listCli.map((r) => [r.id, r.answer?.value]), expected);
  assert.deepEqual(listCli.filter((r) => r.id !== fromCli), listA, 'the CLI holds the browsers\' answers as they wrote them');
  const all = [fromA, fromB, fromCli];
  assert.deepEqual(await listOnceHas(a, all), listCli);
  assert.deepEqual(await listOnceHas(b, all), listCli);
});

test('a relay killed mid-session: offline, writes still commit, the answer arrives after a restart', async (t) => {
  const relay = await startRelay();
  t.after(relay.kill);
  const { a, b } = await twoDevices(t, relay.url);

  await relay.kill();
  for (const page of [a, b]) {
    await page.evaluate(() => testing.until(client, () => statuses.includes('offline')));
  }
  const written = await a.evaluate(async (c) => {
    const id = (await client.record('chatgpt', c)).id;
    // The write resolved, so it is in IndexedDB now, whatever the relay does.
    const stored = await testing.dump('device');
    return {
      id,
      status: client.syncState.status,
      unsynced: client.syncState.unsynced,
      chunks: stored.filter((e) => e.key.startsWith('chunks/chatgpt/')).length,
    };
  }, content('chatgpt', 'written while the relay was down'));
  assert.notEqual(written.status, 'joined');
  assert.equal(written.unsynced, 1, 'the write is held by this device only');
  assert.ok(written.chunks >= 1);

  const again = await startRelay(relay.addr);
  t.after(again.kill);
  const [listed] = await listOnceHas(b, [written.id]);
  assert.equal(listed.answer.value, 'written while the relay was down');
  for (const page of [a, b]) {
    assert.equal(await page.evaluate(() => client.syncState.status), 'joined');
  }
  // Once B holds it, A counts nothing unsynced.
  await a.evaluate(() => testing.until(client, (c) => c.syncState.unsynced === 0));
  // What arrived was committed, not only applied in memory.
  await reload(b);
  const kept = await b.evaluate(async (passphrase) => {
    const client = await selfos.SelfosClient.unlock({ dbName: 'device', passphrase });
    return (await client.list()).responses.map((r) => r.id);
  }, OTHER_PASSPHRASE);
  assert.ok(kept.includes(written.id));
});

test('a relay address that is not the relay\'s own: the client reports it and stops', async (t) => {
  const relay = await startRelay();
  t.after(relay.kill);
  const page = await devicePage(t);
  // The same relay under another name: the relay's challenge names the address it serves.
  const alias = relay.url.replace('127.0.0.1', 'localhost');
  const result = await page.evaluate(
    async ({ passphrase, kdf, alias }) => {
      const client = await selfos.SelfosClient.create({ dbName: 'alias', passphrase, kdf });
      const errors = [];
      client.addEventListener('error', (e) => errors.push(e.detail.code));
      await testing.adopt(client, alias);
      await testing.poll(() => errors.length > 0);
      // Long enough for several reconnect attempts, had there been any.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return { errors, statuses };
    },
    { passphrase: PASSPHRASE, kdf: CHEAP_KDF, alias },
  );
  assert.deepEqual(result.errors, ['sync']);
  assert.deepEqual(result.statuses, ['connecting', 'offline']);
});

test('device names: a new browser names itself after the browser; renames on the CLI and in the browser reach each other', async (t) => {
  const relay = await startRelay();
  t.after(relay.kill);
  const page = await devicePage(t);
  const { kit, replica, names, fallback } = await page.evaluate(
    async ({ passphrase, kdf, relayUrl }) => {
      const client = await selfos.SelfosClient.create({ dbName: 'named', passphrase, kdf });
      await testing.adopt(client, relayUrl);
      return {
        kit: await client.recoveryKit(),
        replica: client.replica,
        names: await client.deviceNames(),
        fallback: selfos.defaultDeviceName('Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0'),
      };
    },
    { passphrase: PASSPHRASE, kdf: CHEAP_KDF, relayUrl: relay.url },
  );
  assert.deepEqual(names, [{ replica, name: 'Chrome on Linux' }]);
  assert.equal(fallback, 'Firefox on Linux');
  await page.evaluate(() => client.setDeviceName('kitchen tablet'));

  const dir = await cliFromKit(t, kit);
  await cli(dir, 'devices', '--name', 'work laptop');
  await cli(dir, 'sync', '--relay', relay.url);
  const seenByCli = JSON.parse(await cli(dir, '--json', 'devices'));
  assert.ok(seenByCli.some((d) => d.replica === replica && d.name === 'kitchen tablet' && !d.this_device), JSON.stringify(seenByCli));
  const laptop = seenByCli.find((d) => d.this_device);
  assert.equal(laptop.name, 'work laptop');
  const seenByBrowser = await page.evaluate(async (laptop) => {
    const has = async (c) => (await c.deviceNames()).some((d) => d.replica === laptop && d.name === 'work laptop');
    await testing.until(client, has);
    return client.deviceNames();
  }, laptop.replica);
  assert.equal(seenByBrowser.length, 2);

  const refused = await page.evaluate(() => testing.codeOf(client.setDeviceName('line\nbreak')));
  assert.equal(refused, 'invalid');
});
