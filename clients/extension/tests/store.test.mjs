// The relay's store in the extension's UI, against a real relay whose SQLite store keeps two blobs
// per room: the settings that hold this browser's name, then the first write, fit, and that write
// counts as synced with no other device online; the next one fills the store, and the popup, the
// badge and its tooltip say that it stays on this browser.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureBinaries, startRelay } from '../../../testkit/processes.mjs';
import { env, popup, until, useExtension, vaultOp } from './harness.mjs';

let relay;

before(async () => {
  ensureBinaries();
  relay = await startRelay({ args: ['--store-max-blobs', '2'] });
});
after(() => relay?.stop());
useExtension({ agents: ['ChatGPT'] });

const sync = async () => (await vaultOp(env, { op: 'status' })).view.sync;

/** A write to the vault that syncs like any change: the conflict policy of ChatGPT's namespace. */
async function write(policy) {
  const reply = await vaultOp(env, { op: 'set-policy', namespace: 'chatgpt', policy });
  assert.equal(reply.error, undefined);
}

test('a write the store holds counts as synced; a full store is shown in the popup and the badge', async () => {
  assert.equal((await vaultOp(env, { op: 'relay', relay: relay.url })).error, undefined);
  await until('the store to answer', async () => (await sync()).store.status === 'settled');

  await write('user-merge');
  const stored = await until('the store to hold the write', async () => {
    const s = await sync();
    return s.unsynced === 0 && s.store.status === 'settled' && s;
  });
  assert.equal(stored.peers, 0, 'no other device online: the store holds it');
  const page = await popup(env);
  await page.locator('#store[data-store="settled"]').waitFor();
  assert.match(await page.locator('#store').innerText(), /holds all your answers/);

  await write('last-write-wins');
  const full = await until('the store to be full', async () => {
    const s = await sync();
    return s.store.status === 'full' && s;
  });
  assert.equal(full.unsynced, 1, 'the write is on this browser only');
  assert.equal(full.store.usage.maxBlobs, 2);
  // The popup polls the worker every two seconds.
  await page.locator('#store[data-store="full"]').waitFor({ timeout: 5_000 });
  assert.match(await page.locator('#store').innerText(), /store is full: new answers stay on this browser/);
  assert.match(await page.locator('#relay').innerText(), /1 not synced yet/);
  assert.equal(await env.ext(() => chrome.action.getBadgeText({})), '1');
  assert.match(await env.ext(() => chrome.action.getTitle({})), /store is full/);
  await page.close();
});
