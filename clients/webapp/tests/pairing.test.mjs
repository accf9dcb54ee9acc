// Adding a device by a one-time code between the dashboard and the CLI, through a real relay that
// serves the dashboard: the CLI shows a code and the dashboard joins with it (a wrong code first,
// which fails on both sides and stores nothing); then the dashboard shows a code and a new CLI
// replica joins with it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';

import { CLI_BIN } from '../../../testkit/processes.mjs';
import {
  BROWSER_PASSPHRASE,
  CHEAP_KDF,
  PASSPHRASE,
  cli,
  ensureBuilt,
  launchBrowser,
  startRelay,
  storedEntriesOf,
  submitRestore,
  tempDir,
} from './harness.mjs';

let relay;
let browser;
let root;
let page;

before(async () => {
  ensureBuilt();
  relay = await startRelay();
  browser = await launchBrowser();
  root = await tempDir('selfos-webapp-pairing-');
  page = await (await browser.newContext()).newPage();
});

after(async () => {
  await browser?.close();
  await relay?.stop();
  await root?.remove();
});

/** `selfos pair` on the vault in `dir`: the code it printed first, and how it exited. */
async function cliOffer(dir) {
  const child = spawn(CLI_BIN, ['--vault', dir, 'pair', '--relay', relay.url, '--expiry', '60'], {
    env: { ...process.env, SELFOS_PASSPHRASE: PASSPHRASE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const [line] = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value]);
  return { code: String(line).trim(), exited };
}

test('the dashboard joins with the code the CLI shows; a wrong code first fails on both sides', async () => {
  const laptop = `${root.dir}/laptop`;
  await cli(laptop, 'init', ...CHEAP_KDF);
  await cli(laptop, 'record', '--agent', 'chatgpt', '--card', 'intent.include', '--answer', 'paired by a code');
  await page.goto(`${relay.origin}/`);
  await page.getByRole('heading', { name: 'Add this browser to your vault' }).waitFor();

  const first = await cliOffer(laptop);
  const [number] = first.code.split('-');
  await submitRestore(page, `${number}-abandon-ability`, BROWSER_PASSPHRASE, 'code');
  const refused = page.locator('[data-error-code]');
  await refused.waitFor({ timeout: 30_000 });
  assert.equal(await refused.getAttribute('data-error-code'), 'wrong-code');
  assert.equal(await storedEntriesOf(page), 0, 'a wrong code stores nothing');
  assert.equal(await first.exited, 3, 'the CLI side fails too');

  const second = await cliOffer(laptop);
  await submitRestore(page, second.code, BROWSER_PASSPHRASE, 'code');
  await page.locator('[data-sync="joined"]').waitFor({ timeout: 30_000 });
  assert.equal(await second.exited, 0);
  await cli(laptop, 'sync', '--relay', relay.url, '--peer-wait', '10');
  await page.goto(`${relay.origin}/#/answers`);
  await page.getByText('paired by a code').first().waitFor({ timeout: 20_000 });
});

test('the dashboard shows a code and a new CLI replica joins with it', async () => {
  await page.goto(`${relay.origin}/#/devices`);
  await page.getByRole('button', { name: 'Show a code' }).click();
  const shown = page.locator('[data-pairing-code]');
  await shown.waitFor({ timeout: 20_000 });
  const code = await shown.getAttribute('data-pairing-code');
  const tablet = `${root.dir}/tablet`;
  await cli(tablet, 'join', '--code', code, '--relay', relay.url, ...CHEAP_KDF);
  await page.getByText('Paired: the other device now holds your vault.').waitFor({ timeout: 20_000 });
  await cli(tablet, 'sync', '--relay', relay.url, '--peer-wait', '10');
  assert.match(await cli(tablet, 'list'), /paired by a code/);
});
