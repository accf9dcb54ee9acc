// Pairing through a real relay: a browser joins the CLI's vault by its one-time code, the CLI
// joins a browser's, and a wrong code fails both sides and stores nothing.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';

import { CLI_BIN } from '../../../testkit/processes.mjs';
import {
  CHEAP_KDF,
  OTHER_PASSPHRASE,
  PASSPHRASE,
  browser,
  cli,
  content,
  openPage,
  server,
  startRelay,
  useBrowser,
} from './harness.mjs';

useBrowser();

const CHEAP_KDF_FLAGS = ['--kdf-memory-kib', `${CHEAP_KDF.memory_kib}`, '--kdf-iterations', `${CHEAP_KDF.iterations}`, '--kdf-parallelism', `${CHEAP_KDF.parallelism}`];

async function devicePage(t) {
  const context = await browser.newContext();
  t.after(() => context.close());
  return openPage(context, server.origin);
}

async function tempDir(t) {
  const parent = await mkdtemp(path.join(tmpdir(), 'selfos-pair-'));
  t.after(() => rm(parent, { recursive: true, force: true }));
  return path.join(parent, 'vault');
}

/** A CLI vault in `dir` holding one answer; resolves with that answer's id. */
async function cliVault(dir) {
  await cli(dir, 'init', ...CHEAP_KDF_FLAGS);
  const out = await cli(dir, '--json', 'record', '--agent', 'gemini', '--card', 'intent.include', '--answer', 'from the CLI');
  return JSON.parse(out).id;
}

/** Runs `selfos pair` on `dir`; resolves with its code (the first line it prints) and its exit. */
async function cliPair(t, dir, relayUrl) {
  const child = spawn(CLI_BIN, ['--vault', dir, 'pair', '--relay', relayUrl, '--expiry', '60'], {
    env: { ...process.env, SELFOS_PASSPHRASE: PASSPHRASE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.exitCode === null && child.kill());
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const lines = [];
  const stdout = createInterface({ input: child.stdout });
  stdout.on('line', (line) => lines.push(line));
  const exit = new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr, lines })));
  const code = await new Promise((resolve, reject) => {
    stdout.once('line', resolve);
    exit.then(({ code }) => reject(new Error(`selfos pair exited (${code}) before its code: ${stderr}`)));
  });
  return { code, exit };
}

/** Starts `client.pair` on the page's client; resolves with the code it shows. The outcome
 * (`'resolved'` or the error code) lands in `globalThis.paired`. */
async function browserOffer(page, relayUrl) {
  return page.evaluate(
    (relayUrl) =>
      new Promise((resolve) => {
        globalThis.paired = testing.codeOf(client.pair({ relayUrl, expiryMs: 60_000, onCode: resolve }));
      }),
    relayUrl,
  );
}

function joinByCode(page, code, relayUrl) {
  return page.evaluate(
    ({ code, relayUrl, passphrase, kdf }) =>
      testing.codeOf(
        selfos.SelfosClient.joinByCode({ dbName: 'device', code, relayUrl, passphrase, kdf }).then((c) => {
          globalThis.client = c;
        }),
      ),
    { code, relayUrl, passphrase: OTHER_PASSPHRASE, kdf: CHEAP_KDF },
  );
}

/** The same code with its last word replaced: same room, different password. */
function mistyped(code) {
  const parts = code.split('-');
  parts[2] = parts[2] === 'abandon' ? 'ability' : 'abandon';
  return parts.join('-');
}

test('a browser joins the CLI vault by its code, then both sync', async (t) => {
  const relay = await startRelay();
  t.after(relay.kill);
  const dir = await tempDir(t);
  const fromCli = await cliVault(dir);
  const pairing = await cliPair(t, dir, relay.url);
  assert.match(pairing.code, /^\d{1,4}-[a-z]+-[a-z]+$/);

  const page = await devicePage(t);
  assert.equal(await joinByCode(page, pairing.code, relay.url), 'resolved');
  const { code: exit, stderr, lines } = await pairing.exit;
  assert.equal(exit, 0, stderr);
  // The CLI names the vault the other device now holds: this page's.
  assert.match(lines.at(-1), new RegExp(`vault ${await page.evaluate(() => client.id)}$`));

  await page.evaluate((relayUrl) => testing.adopt(client, relayUrl), relay.url);
  await page.evaluate(() => testing.until(client, (c) => c.syncState.status === 'joined'));
  await cli(dir, 'sync', '--relay', relay.url);
  const listed = await page.evaluate(async (id) => {
    await testing.until(client, async (c) => (await c.list()).responses.some((r) => r.id === id));
    return (await client.list()).responses;
  }, fromCli);
  assert.deepEqual(listed.map((r) => [r.id, r.answer.value]), [[fromCli, 'from the CLI']]);
});

test('the CLI joins a browser vault by its code, then both sync', async (t) => {
  const relay = await startRelay();
  t.after(relay.kill);
  const page = await devicePage(t);
  const fromBrowser = await page.evaluate(
    async ({ passphrase, kdf, c }) => {
      globalThis.client = await selfos.SelfosClient.create({ dbName: 'device', passphrase, kdf });
      return (await client.record('chatgpt', c)).id;
    },
    { passphrase: OTHER_PASSPHRASE, kdf: CHEAP_KDF, c: content('chatgpt', 'from the browser') },
  );
  const code = await browserOffer(page, relay.url);

  const dir = await tempDir(t);
  await cli(dir, 'join', '--code', code, '--relay', relay.url, ...CHEAP_KDF_FLAGS);
  assert.equal(await page.evaluate(() => paired), 'resolved');

  await page.evaluate((relayUrl) => testing.adopt(client, relayUrl), relay.url);
  await page.evaluate(() => testing.until(client, (c) => c.syncState.status === 'joined'));
  await cli(dir, 'sync', '--relay', relay.url);
  const listed = JSON.parse(await cli(dir, '--json', 'list'));
  assert.deepEqual(listed.map((r) => [r.id, r.answer?.value]), [[fromBrowser, 'from the browser']]);
});

test('a wrong code fails both sides with wrong-code and stores nothing', async (t) => {
  const relay = await startRelay();
  t.after(relay.kill);
  const [offering, joining] = await Promise.all([devicePage(t), devicePage(t)]);
  await offering.evaluate(
    async ({ passphrase, kdf }) => {
      globalThis.client = await selfos.SelfosClient.create({ dbName: 'device', passphrase, kdf });
    },
    { passphrase: PASSPHRASE, kdf: CHEAP_KDF },
  );
  const code = await browserOffer(offering, relay.url);
  assert.equal(await joinByCode(joining, mistyped(code), relay.url), 'wrong-code');
  assert.equal(await offering.evaluate(() => paired), 'wrong-code');
  assert.deepEqual(await joining.evaluate(() => testing.dump('device')), []);
  // A word outside the list is refused before anything is sent.
  assert.equal(await joinByCode(joining, '7-guitar-notaword', relay.url), 'invalid');

  // The CLI's offer ends the same way, with its exit code for a wrong code.
  const dir = await tempDir(t);
  await cliVault(dir);
  const pairing = await cliPair(t, dir, relay.url);
  assert.equal(await joinByCode(joining, mistyped(pairing.code), relay.url), 'wrong-code');
  const { code: exit, stderr } = await pairing.exit;
  assert.equal(exit, 3, stderr);
  assert.match(stderr, /does not match/);
  assert.deepEqual(await joining.evaluate(() => testing.dump('device')), []);
});
