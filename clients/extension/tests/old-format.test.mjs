// A vault stored in format 1 (before the vault secret): the popup says so when unlocking, exports
// its answers as a JSON download, and says how to carry them into a new vault.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { env, useExtension, vaultOp } from './harness.mjs';

const FIXTURE = fileURLToPath(new URL('../../../crates/selfos-vault/tests/data/v1_vault', import.meta.url));
const OLD_PASSPHRASE = 'format one passphrase';

/** The fixture folder's files as IndexedDB entries (keys mirror the folder, as the store writes them). */
function format1Entries() {
  const walk = (dir) =>
    readdirSync(dir).flatMap((name) => {
      const file = path.join(dir, name);
      return statSync(file).isDirectory() ? walk(file) : [file];
    });
  return walk(FIXTURE).map((file) => ({
    key: path.relative(FIXTURE, file).split(path.sep).join('/'),
    bytes: [...readFileSync(file)],
  }));
}

// A browser that held the vault before this version: the format-1 files in its database.
useExtension({
  vault: false,
  setUp: (env) =>
    env.ext(async (entries) => {
      const open = indexedDB.open('selfos');
      open.onupgradeneeded = () => open.result.createObjectStore('entries');
      const db = await new Promise((resolve) => (open.onsuccess = () => resolve(open.result)));
      const tx = db.transaction('entries', 'readwrite');
      for (const { key, bytes } of entries) tx.objectStore('entries').put(new Uint8Array(bytes), key);
      await new Promise((resolve) => (tx.oncomplete = resolve));
      db.close();
      await chrome.storage.local.set({ vault_exists: true });
    }, format1Entries()),
});

test('popup: unlocking an old-format vault says so and offers to export its answers', async () => {
  const page = await env.context.newPage();
  await page.goto(`chrome-extension://${env.id}/popup/popup.html`);
  await page.getByText('Locked: nothing is saved until you unlock.').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Export answers' }).isVisible(), false);
  await page.locator('#unlock-pass').fill(OLD_PASSPHRASE);
  await page.getByRole('button', { name: 'Unlock' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'old format' });
  await alert.waitFor({ timeout: 20_000 });
  assert.match(await alert.innerText(), /Export its answers[\s\S]*create a new vault[\s\S]*import/);
  assert.equal((await vaultOp(env, { op: 'status' })).view.unlocked, false);
  await page.getByRole('button', { name: 'Export answers' }).waitFor();
  await page.close();
});

// The fixture was written at Argon2id 64 KiB / 1 pass: format 1 had no floor, and its export
// reads it at the cost it was made with.
test('popup: the export downloads the old answers as JSON', async () => {
  const page = await env.context.newPage();
  await page.goto(`chrome-extension://${env.id}/popup/popup.html`);
  await page.locator('#unlock-pass').fill(OLD_PASSPHRASE);
  await page.getByRole('button', { name: 'Unlock' }).click();
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 5_000 }),
    page.getByRole('button', { name: 'Export answers' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'selfos-format-1-export.json');
  const json = await readFile(await download.path(), 'utf8');
  assert.ok(json.includes('format one answer about rust lifetimes'), 'the old answers are in the export');
  await page.close();
});
