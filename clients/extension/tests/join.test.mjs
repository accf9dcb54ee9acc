// Joining by link in the popup: a CLI vault's link -> this browser's replica, with the link's
// relay as its relay; the CLI's answer arrives through the relay.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureBinaries, runCli, startRelay } from '../../../testkit/processes.mjs';
import { PASSPHRASE, launch, sleep, vaultOp } from './harness.mjs';

let env;
let relay;
let dir;
before(async () => {
  ensureBinaries();
  relay = await startRelay();
  dir = await mkdtemp(join(tmpdir(), 'selfos-cli-'));
  env = await launch({ vault: false });
});
after(async () => {
  await env?.close();
  await relay?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('popup: join a vault by link; its relay brings the other device\'s answers', async () => {
  await runCli(PASSPHRASE, dir, 'init', '--kdf-memory-kib', '64', '--kdf-iterations', '1', '--kdf-parallelism', '1');
  await runCli(PASSPHRASE, dir, 'record', '--agent', 'claude', '--card', 'intent.include', '--answer', 'from the CLI');
  const link = (await runCli(PASSPHRASE, dir, 'link', '--relay', relay.url)).trim();

  const page = await env.context.newPage();
  await page.goto(`chrome-extension://${env.id}/popup/popup.html`);
  await page.getByText('No vault yet').waitFor();
  await page.getByLabel('Link', { exact: true }).fill(link);
  await page.locator('#join-pass').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByText('Unlocked: your answers are saved to your vault.').waitFor({ timeout: 30_000 });
  assert.equal((await vaultOp(env, { op: 'status' })).view.relay, relay.url, 'the link named the relay');

  const end = Date.now() + 60_000;
  for (;;) {
    await runCli(PASSPHRASE, dir, 'sync', '--relay', relay.url);
    const { responses } = await vaultOp(env, { op: 'list' });
    if (responses.some((r) => r.answer?.value === 'from the CLI' && r.namespace === 'claude')) break;
    if (Date.now() > end) assert.fail('the CLI\'s answer did not arrive');
    await sleep(200);
  }
  await page.close();
});
