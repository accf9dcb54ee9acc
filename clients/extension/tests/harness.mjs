// Shared by the end-to-end tests and the bench: an https fixture server that answers for the real
// AI hosts, and headless Chromium with the built extension loaded.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { fixturePage, variantOf } from './fixtures/page.mjs';
import { FIXTURES } from './fixtures/sites.mjs';

const DIST = new URL('../dist/chrome/', import.meta.url).pathname;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves with `f()`'s first truthy value, checking every 100 ms; fails after `timeout` ms. */
export async function until(what, f, timeout = 20_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The toolbar popup of `env`'s extension, in a new page. */
export async function popup(env) {
  const page = await env.context.newPage();
  await page.goto(`chrome-extension://${env.id}/popup/popup.html`);
  return page;
}

function certificate(dir) {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const san = Object.keys(FIXTURES)
    .map((h) => `DNS:${h}`)
    .join(',');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=selfos-fixtures', '-addext', `subjectAltName=${san}`,
  ], { stdio: 'ignore' });
  return Promise.all([readFile(key), readFile(cert)]);
}

/** Serves every fixture host: GET -> its chat page, POST -> a reply stream (or an HTTP error). */
async function serve(dir) {
  const [key, cert] = await certificate(dir);
  const server = createServer({ key, cert }, (req, res) => {
    const host = (req.headers.host ?? '').split(':')[0];
    const fixture = FIXTURES[host];
    if (!fixture) return res.writeHead(404).end();
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', async () => {
        const { ms = 800, status = 200 } = JSON.parse(body || '{}');
        if (status >= 400) {
          await sleep(ms);
          return res.writeHead(status, { 'content-type': 'text/plain' }).end('overloaded');
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        for (let t = 0; t < ms; t += 100) {
          res.write('data: {"token":"x"}\n\n');
          await sleep(100);
        }
        res.end('data: [DONE]\n\n');
      });
      return;
    }
    if (req.url === '/favicon.ico') return res.writeHead(204).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(fixturePage(host, fixture, req.url?.split('?')[1] ?? ''));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

/**
 * Starts the fixture server and Chromium with the extension. The optional-permission prompt cannot
 * be answered in headless Chromium (it never resolves), so the copy loaded here also declares its
 * optional hosts as `host_permissions`: access is then granted at install, `permissions.request`
 * resolves `true` without a prompt, and everything else (the options page, registration per
 * enabled agent, the worker's checks) runs as shipped. Whether an agent runs on a site is decided
 * by the registration, which the "not enabled" test checks.
 */
/** The cheapest Argon2id cost the vault accepts (the popup always uses the vault's default). */
export const CHEAP_KDF = { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 };
export const PASSPHRASE = 'correct horse battery staple';
/** Another device's own passphrase: each device wraps the vault secret under its own. */
export const OTHER_PASSPHRASE = 'quartz lagoon ember thimble';
/** The same `--kdf-*` cost for a CLI replica. */
export { CLI_CHEAP_KDF as CHEAP_KDF_ARGS } from '../../../testkit/processes.mjs';

/** Sends a vault message to the worker from an extension page; resolves with its reply. */
export function vaultOp(env, m) {
  return env.ext((m) => chrome.runtime.sendMessage({ t: 'vault', ...m }), m);
}

/**
 * Launches Chromium with the extension and a fixture server, in `dir` (a new folder unless given:
 * a relaunch after `kill` gives the folder of the killed browser, whose profile it reopens).
 */
export async function launch({ vault = true, dir } = {}) {
  dir ??= await mkdtemp(join(tmpdir(), 'selfos-e2e-'));
  const server = await serve(dir);
  const ext = join(dir, 'extension');
  await cp(DIST, ext, { recursive: true });
  const manifest = JSON.parse(await readFile(join(ext, 'manifest.json'), 'utf8'));
  manifest.host_permissions = manifest.optional_host_permissions;
  await writeFile(join(ext, 'manifest.json'), JSON.stringify(manifest));

  const { port } = server.address();
  const rules = Object.keys(FIXTURES)
    .map((h) => `MAP ${h} 127.0.0.1:${port}`)
    .join(', ');
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      `--disable-extensions-except=${ext}`,
      `--load-extension=${ext}`,
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--host-resolver-rules=${rules}`,
      '--ignore-certificate-errors',
    ],
  });
  // A wait that goes wrong fails in seconds, with the step that hung, rather than at the file's timeout.
  context.setDefaultTimeout(10_000);
  const sw = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  const id = new URL(sw.url()).host;
  // Storage and registrations are read through an extension page rather than the worker: the
  // browser stops and restarts an idle worker, and a handle to a stopped one never answers.
  const probe = await context.newPage();
  await probe.goto(`chrome-extension://${id}/options/options.html`);
  const env = {
    context,
    id,
    dir,
    /** Runs `f(arg)` in an extension page, where the chrome.* APIs are. */
    ext: (f, arg) => bounded(probe.evaluate(f, arg), 10_000, 'evaluate in an extension page'),
    async close() {
      await bounded(context.close(), 20_000, 'closing the browser').catch(() => undefined);
      server.close();
      server.closeAllConnections();
      await rm(dir, { recursive: true, force: true });
    },
    /** Kills every process of the browser at once, as a crash would; the folder stays. */
    async kill() {
      execFileSync('pkill', ['-KILL', '-f', `user-data-dir=${join(dir, 'profile')}`]);
      await bounded(context.close(), 5_000, 'the killed browser').catch(() => undefined);
      server.close();
      server.closeAllConnections();
    },
  };
  // Answers are recorded only while the vault is unlocked.
  if (vault) {
    const reply = await vaultOp(env, { op: 'create', passphrase: PASSPHRASE, kdf: CHEAP_KDF });
    assert.equal(reply.error, undefined, `creating the vault: ${reply.error}`);
  }
  return env;
}

/** The browser of the running tests, set by `useExtension` before them. */
export let env;

/**
 * Launches the extension before the tests of the file (or of the `describe` it is called in), with
 * `agents` enabled and `setUp(env)` done, and closes it after them; tests read it as `env`. Other
 * `before` hooks of the same file may run alongside this one: what needs the browser goes in `setUp`.
 */
export function useExtension({ agents = [], vault = true, setUp } = {}) {
  before(async () => {
    env = await launch({ vault });
    if (agents.length > 0) await enableAgents(env, agents);
    await setUp?.(env);
  });
  after(() => env?.close());
}

/** `p`, or a failure naming `what` after `ms`: some Playwright calls (evaluate, keyboard) have no timeout. */
export function bounded(p, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Types into whatever has the focus (the card, once shown), then optionally presses a key. */
export async function keys(page, text, press) {
  if (text) await bounded(page.keyboard.type(text, { delay: 10 }), 10_000, `typing "${text}"`);
  if (press) await bounded(page.keyboard.press(press), 10_000, `pressing ${press}`);
}

/** Enables agents by ticking their boxes in the options page, as a user would. */
export async function enableAgents(env, names) {
  const page = await env.context.newPage();
  await page.goto(`chrome-extension://${env.id}/options/options.html`);
  for (const name of names) {
    // The checkbox: the conflicts section labels a select with the same name.
    await page.getByRole('checkbox', { name, exact: true }).check();
    await page.getByRole('status').filter({ hasText: `${name} is on.` }).waitFor();
  }
  await page.close();
}

/** Adds a custom rule in the options page. */
export async function addRule(env, match, busy) {
  const page = await env.context.newPage();
  await page.goto(`chrome-extension://${env.id}/options/options.html`);
  await page.getByLabel('URL pattern').fill(match);
  await page.getByLabel('Busy selector').fill(busy);
  await page.getByRole('button', { name: 'Add rule' }).click();
  await page.getByRole('status').filter({ hasText: `Rule for ${match} added.` }).waitFor();
  await page.close();
}

/** What the vault holds (read back through the WASM API in the worker), oldest first. */
export async function captures(env) {
  const reply = await vaultOp(env, { op: 'list' });
  // The content as recorded, without the vault's own fields.
  return (reply.responses ?? []).map(({ id: _i, namespace: _n, updated: _u, conflicted: _c, ...content }) => content);
}

/** Waits until `n` captures are stored and returns them. */
export async function waitCaptures(env, n, timeout = 5000) {
  const end = Date.now() + timeout;
  for (;;) {
    const list = await captures(env);
    if (list.length >= n) return list;
    if (Date.now() > end) assert.fail(`expected ${n} captures, have ${list.length}`);
    await sleep(50);
  }
}

export function url(host, query = '') {
  return `https://${host}${variantOf(FIXTURES[host], query).path}${query ? `?${query}` : ''}`;
}

/** Opens a fixture page of `host` in the running browser, runs `f(page)` and closes the page. */
export async function onPage(host, query, f) {
  const page = await env.context.newPage();
  try {
    await page.goto(url(host, query));
    return await f(page);
  } finally {
    await page.close();
  }
}

/** The card frame (an extension page in the overlay's closed shadow root), once its card is shown. */
export async function waitOverlay(page, timeout = 5000) {
  const end = Date.now() + timeout;
  for (;;) {
    // Frames that are hidden (preloaded) have no card: the one shown gets it. A frame that showed
    // the last card may still be listed for a moment while it is replaced.
    for (const frame of page.frames().filter((f) => f.url().endsWith('/overlay/frame.html'))) {
      if (await frame.locator('main[data-card-id]:not([hidden])').count().catch(() => 0)) {
        const element = await frame.frameElement().catch(() => null);
        if (await element?.isVisible()) return frame;
      }
    }
    if (Date.now() > end) assert.fail('no overlay appeared');
    await sleep(10);
  }
}

/**
 * The card the frame shows, as the trainer picked it: its id, its answer type (`choice`, `rating`
 * or `text`), the choices' labels, and whether it takes typed text (a text card, or a choice that
 * also takes the user's own words).
 */
export function shownCard(frame) {
  return frame.locator('main').evaluate((main) => ({
    id: main.dataset.cardId,
    type: main.dataset.answer,
    options: [...main.querySelectorAll('button.option')].map((b) => b.textContent.replace(/^\d+/, '')),
    text: main.querySelector('input') !== null,
  }));
}

/** Asserts that the card's whole content shows: the overlay takes the height the card asks for. */
export async function assertCardFits(frame) {
  const fits = () => frame.evaluate(() => document.querySelector('main').scrollHeight <= innerHeight + 1);
  const end = Date.now() + 2000;
  while (!(await fits())) {
    if (Date.now() > end) assert.fail(`card ${(await shownCard(frame)).id} overflows its frame`);
    await sleep(20);
  }
}

/**
 * Sends prompts until the trainer picks a card that takes typed text, skipping the others with
 * Esc as a user would (each skip is stored before the next prompt), and returns its frame.
 */
export async function textCard(env, page) {
  for (let i = 0; i < 12; i++) {
    const n = (await captures(env)).length;
    await send(page);
    const frame = await waitOverlay(page);
    if ((await shownCard(frame)).text) return frame;
    await keys(page, '', 'Escape');
    await waitCaptures(env, n + 1);
    await waitNoOverlay(page);
    await page.evaluate(() => window.finish());
    await sleep(400);
  }
  assert.fail('the trainer offered no card that takes text in 12 waits');
}

/**
 * Answers the card the frame shows, whatever the trainer picked: `text` if it takes words, else
 * the key 1 (the first choice, or a rating of 1). Returns the answer the vault should record.
 */
export async function answerShown(page, frame, text) {
  const card = await shownCard(frame);
  await frame.locator('button:focus, input:focus').waitFor();
  if (card.text) {
    await keys(page, text, 'Enter');
    return { type: 'text', value: text };
  }
  await keys(page, '', '1');
  return card.type === 'choice' ? { type: 'choice', value: card.options[0] } : { type: 'rating', value: 1 };
}

/** Whether the page shows the overlay (its host is in the page even while hidden, preloaded). */
export const overlayShown = (page) =>
  page.evaluate(() => document.querySelector('selfos-overlay')?.checkVisibility() === true);

export async function waitNoOverlay(page, timeout = 6000) {
  await page.waitForFunction(() => document.querySelector('selfos-overlay')?.checkVisibility() !== true, null, {
    timeout,
  });
}

/** Asserts that no overlay shows up for `ms`. */
export async function assertNoOverlay(page, ms = 1500) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    assert.equal(await overlayShown(page), false, 'no overlay');
    await sleep(50);
  }
}

/** Starts a reply the way a user does: Enter in the composer. */
export async function send(page) {
  await page.locator('#prompt').fill('Explain match patterns');
  await page.locator('#prompt').press('Enter');
}
