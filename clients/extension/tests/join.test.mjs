// Joining by link in the popup: a CLI vault's link -> this browser's replica, with the link's
// relay as its relay; the CLI's answer arrives through the relay. Removing this browser's copy,
// and what a join with another passphrase looks like.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureBinaries, runCli, startRelay } from '../../../testkit/processes.mjs';
import { PASSPHRASE, env, sleep, useExtension, vaultOp } from './harness.mjs';

useExtension({ vault: false });
let relay;
let dir;
let link;
before(async () => {
  ensureBinaries();
  relay = await startRelay();
  dir = await mkdtemp(join(tmpdir(), 'selfos-cli-'));
});
after(async () => {
  await relay?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const UNLOCKED = 'Unlocked: your answers are saved to your vault.';

/** Opens the popup and joins with the link and `passphrase`. */
async function joinWith(page, passphrase) {
  await page.getByText('No vault yet').waitFor();
  await page.getByLabel('Link', { exact: true }).fill(link);
  await page.locator('#join-pass').fill(passphrase);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByText(UNLOCKED).waitFor({ timeout: 30_000 });
}

/** Syncs the CLI replica until this browser holds its answer. */
async function untilCliAnswer() {
  const end = Date.now() + 60_000;
  for (;;) {
    await runCli(PASSPHRASE, dir, 'sync', '--relay', relay.url);
    const { responses } = await vaultOp(env, { op: 'list' });
    if (responses.some((r) => r.answer?.value === 'from the CLI' && r.namespace === 'claude')) return;
    if (Date.now() > end) assert.fail("the CLI's answer did not arrive");
    await sleep(200);
  }
}

const popup = async () => {
  const page = await env.context.newPage();
  await page.goto(`chrome-extension://${env.id}/popup/popup.html`);
  return page;
};

test("popup: join a vault by link; its relay brings the other device's answers", async () => {
  await runCli(PASSPHRASE, dir, 'init', '--kdf-memory-kib', '64', '--kdf-iterations', '1', '--kdf-parallelism', '1');
  await runCli(PASSPHRASE, dir, 'record', '--agent', 'claude', '--card', 'intent.include', '--answer', 'from the CLI');
  link = (await runCli(PASSPHRASE, dir, 'link', '--relay', relay.url)).trim();

  const page = await popup();
  await joinWith(page, PASSPHRASE);
  assert.equal((await vaultOp(env, { op: 'status' })).view.relay, relay.url, 'the link named the relay');
  await untilCliAnswer();
  await page.close();
});

test('popup: remove this copy; joined with another passphrase it waits alone; removed and joined again, the answers come', async () => {
  const page = await popup();
  const databases = () => env.ext(async () => (await indexedDB.databases()).map((d) => d.name));
  const remove = async () => {
    await page.getByText("Remove this browser's copy…").click();
    await page.getByText(/answers this browser has not synced yet are lost/).waitFor();
    await page.getByRole('button', { name: 'Remove it' }).click();
    await page.getByText('No vault yet').waitFor();
  };
  await page.getByText(UNLOCKED).waitFor();
  assert.ok((await databases()).includes('selfos'));
  await remove();
  assert.ok(!(await databases()).includes('selfos'), 'the IndexedDB database is deleted');
  assert.equal((await vaultOp(env, { op: 'list' })).responses.length, 0);

  // The relay room comes from the passphrase: with another one, this browser meets nobody.
  await joinWith(page, 'not the passphrase');
  await page.getByText('Relay: connected, no other device online').waitFor({ timeout: 20_000 });
  await runCli(PASSPHRASE, dir, 'sync', '--relay', relay.url);
  await sleep(1000);
  assert.equal((await vaultOp(env, { op: 'list' })).responses.length, 0, 'nothing arrives in a room of its own');

  await remove();
  await joinWith(page, PASSPHRASE);
  await untilCliAnswer();
  await page.close();
});
