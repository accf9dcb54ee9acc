// The dashboard and the relay's store, against a real relay with a SQLite store: a CLI device
// records answers, syncs alone and exits; a fresh browser profile is added to the vault with that
// device offline and shows its answers, caught up from the store (with a progress bar while it
// runs); the Devices view shows the store's status, space and last upload. Then a store that is
// full: a write in the dashboard stays on this device, and the dashboard says so.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  CHEAP_KDF,
  cli,
  cliJson,
  ensureBuilt,
  launchBrowser,
  recoveryKit,
  restoreInBrowser,
  startRelay,
  tempDir,
} from './harness.mjs';

let browser;
let root;

before(async () => {
  ensureBuilt();
  browser = await launchBrowser();
  root = await tempDir('selfos-webapp-store-');
});

after(async () => {
  await browser?.close();
  await root?.remove();
});

/** A CLI vault in `name` with `answers` (agent, text), synced alone to `relay`; its recovery kit. */
async function cliDevice(relay, name, answers) {
  const dir = `${root.dir}/${name}`;
  await cli(dir, 'init', ...CHEAP_KDF);
  for (const [agent, text] of answers) {
    await cli(dir, 'record', '--agent', agent, '--card', 'intent.include', '--answer', text);
  }
  const summary = await cliJson(dir, 'sync', '--relay', relay.url);
  assert.deepEqual(summary.peers, [], 'no other device was online');
  assert.equal(summary.store, 'in-sync');
  return { dir, kit: await recoveryKit(dir) };
}

test('a new browser catches up from the store with the CLI offline; Devices shows the store', async (t) => {
  const relay = await startRelay();
  t.after(relay.stop);
  const answers = [
    ['chatgpt', 'tables over prose'],
    ['claude', 'cite the docs'],
    ['gemini', 'shorter please'],
  ];
  const { kit } = await cliDevice(relay, 'laptop', answers);

  // Notes whether the catch-up's progress bar ever showed (it may show for a moment only).
  const context = await browser.newContext();
  t.after(() => context.close());
  await context.addInitScript(() => {
    new MutationObserver(() => {
      if (document.querySelector('[data-store-progress] progress')) globalThis.storeProgressShown = true;
    }).observe(document, { childList: true, subtree: true });
  });
  const page = await restoreInBrowser(browser, relay.origin, kit, context);
  await page.goto(`${relay.origin}/#/answers`);
  for (const [, text] of answers) await page.getByText(text).first().waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('[data-sync]').getAttribute('data-peers'), '0', 'the CLI is offline');
  assert.equal(await page.evaluate(() => globalThis.storeProgressShown), true, 'a progress bar showed the catch-up');

  await page.goto(`${relay.origin}/#/devices`);
  const section = page.locator('section[aria-labelledby="relay-store"]');
  await section.locator('[data-store-status="settled"]').waitFor();
  assert.match(await section.innerText(), /up to date/);
  const space = section.locator('[data-store-bytes]');
  const bytes = Number(await space.getAttribute('data-store-bytes'));
  const maxBytes = Number(await space.getAttribute('data-store-max-bytes'));
  assert.ok(bytes > 0 && bytes < maxBytes, `${bytes} of ${maxBytes} bytes`);
  assert.match(await space.innerText(), /of 64 MiB/);
  const meter = section.getByRole('meter', { name: "Space used in the relay's store" });
  assert.ok(Number(await meter.getAttribute('value')) > 0);
  const lastUpload = Number(await section.locator('[data-store-last-upload]').getAttribute('data-store-last-upload'));
  assert.ok(lastUpload > Date.now() - 10 * 60_000 && lastUpload <= Date.now(), 'the CLI uploaded a moment ago');
});

test('deleting the last answer says it is deleted above the empty vault, and the CLI hears of it from the store', async (t) => {
  const relay = await startRelay();
  t.after(relay.stop);
  const { dir, kit } = await cliDevice(relay, 'last', [['chatgpt', 'the only answer']]);
  const page = await restoreInBrowser(browser, relay.origin, kit);
  t.after(() => page.context().close());
  await page.goto(`${relay.origin}/#/answers`);
  const [{ id }] = await cliJson(dir, 'list');
  await page.locator(`[data-answer-id="${id}"]`).getByRole('button', { name: /Delete/ }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete for good' }).click();
  await page.getByText('No answers yet').waitFor();
  assert.match(await page.locator('[data-outcome="deleted"]').innerText(), /Deleted for good/);

  // The CLI is offline while the dashboard deletes: the store carries the deletion to it.
  await page.locator('[data-sync][data-unsynced="0"][data-store="settled"]').waitFor({ timeout: 20_000 });
  await cliJson(dir, 'sync', '--relay', relay.url);
  assert.deepEqual(await cliJson(dir, 'list'), []);
});

test('a full store: the answer deleted in the dashboard stays on this device, and the dashboard says so', async (t) => {
  // Two blobs per room: the CLI's upload (its answers, and the settings that hold its name) fills it.
  const relay = await startRelay(['--store-max-blobs', '2']);
  t.after(relay.stop);
  const { dir, kit } = await cliDevice(relay, 'full', [
    ['chatgpt', 'delete me when full'],
    ['chatgpt', 'keep me'],
  ]);
  const page = await restoreInBrowser(browser, relay.origin, kit);
  t.after(() => page.context().close());
  await page.goto(`${relay.origin}/#/answers`);
  const { id } = (await cliJson(dir, 'list')).find((r) => r.answer.value === 'delete me when full');
  const item = page.locator(`[data-answer-id="${id}"]`);
  await item.getByRole('button', { name: /Delete/ }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete for good' }).click();
  await page.locator('[data-outcome="deleted"]').waitFor();

  const notice = page.locator('[data-store-full]');
  await notice.waitFor({ timeout: 20_000 });
  assert.match(await notice.innerText(), /full[\s\S]*kept on this device/);
  const badge = page.locator('[data-sync]');
  assert.equal(await badge.getAttribute('data-store'), 'full');
  assert.equal(await badge.getAttribute('data-unsynced'), '1');
  assert.match(await badge.innerText(), /1 change kept on this device only; the relay's store is full/);
  await page.goto(`${relay.origin}/#/devices`);
  await page.locator('[data-store-status="full"]').waitFor();
});
