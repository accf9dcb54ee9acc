// What the browser tests run against, all real: a static server for the package, headless
// Chromium, the relay binary and the CLI binary.

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import {
  CHROMIUM,
  CLI_CHEAP_KDF,
  ensureBinaries,
  runCli,
  startRelay as startRelayProcess,
} from '../../../testkit/processes.mjs';

export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Argon2id at its cheapest: these tests are about storage and sync, not key stretching. */
// The cheapest Argon2id cost the vault accepts (OWASP's minimum: 19 MiB, 2 passes).
export const CHEAP_KDF = { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 };
export const PASSPHRASE = 'correct horse battery staple';
/** Another device's own passphrase: each device wraps the vault secret under its own. */
export const OTHER_PASSPHRASE = 'quartz lagoon ember thimble';

/** Fails early with the command to run when a build output is missing; builds the binaries. */
export function ensureBuilt() {
  for (const file of ['pkg/selfos_wasm.js', 'pkg/selfos_wasm_bg.wasm', 'dist/index.js']) {
    if (!existsSync(path.join(PACKAGE_DIR, file))) {
      throw new Error(`${file} is missing: run bindings/wasm/build.sh first`);
    }
  }
  ensureBinaries();
}

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

/** Serves the package folder (pkg/, dist/, tests/, bench/, node_modules/) on a free port. */
export async function serve() {
  const server = http.createServer(async (req, res) => {
    const file = path.join(PACKAGE_DIR, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!file.startsWith(PACKAGE_DIR)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The package's server and Chromium for the running tests, set by `useBrowser` before them. */
export let server;
export let browser;

/** Serves the package and launches Chromium before the file's tests; closes both after them. */
export function useBrowser() {
  before(async () => {
    ensureBuilt();
    server = await serve();
    browser = await chromium.launch(CHROMIUM);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
}

/** A fresh tab on the test page, with the package loaded as `globalThis.selfos`. */
export async function openPage(context, origin) {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(`${origin}/tests/page.html`);
  await page.waitForFunction(() => globalThis.selfos !== undefined);
  return page;
}

/** A page in a browser profile of its own (a device with its own IndexedDB), closed after `t`. */
export async function devicePage(t) {
  const context = await browser.newContext();
  t.after(() => context.close());
  return openPage(context, server.origin);
}

export async function reload(page) {
  await page.reload();
  await page.waitForFunction(() => globalThis.selfos !== undefined);
}

/** A relay process; `listen` defaults to a free port, `args` are extra flags. Its store is a
 * SQLite file in a temporary folder. Resolves once it listens. */
export function startRelay(listen, args = []) {
  return startRelayProcess({ listen, args });
}

/** Runs the CLI on the vault in `dir`; resolves with stdout, rejects with stderr. */
export function cli(dir, ...args) {
  return runCli(PASSPHRASE, dir, ...args);
}

/** A new CLI replica restored from the recovery kit `kit`, in a temporary folder removed after
 * `t`; resolves with its folder. */
export async function cliFromKit(t, kit) {
  const parent = await mkdtemp(path.join(tmpdir(), 'selfos-cli-'));
  t.after(() => rm(parent, { recursive: true, force: true }));
  const dir = path.join(parent, 'vault');
  const kitFile = path.join(parent, 'kit.txt');
  await writeFile(kitFile, kit, { mode: 0o600 });
  await cli(dir, 'join', '--recovery-kit', kitFile);
  return dir;
}

/** A new CLI vault in `dir`, at the cheapest Argon2id cost. */
export function cliInit(dir) {
  return cli(dir, 'init', ...CLI_CHEAP_KDF);
}

/** A content of the vault's format, with every optional field set. */
export function content(agent, text, extra = {}) {
  return {
    card_id: 'intent.include',
    card_kind: 'intent',
    answer: { type: 'text', value: text },
    agent,
    origin: 'test',
    created_ms: 1_760_000_000_000,
    wait_ms: 4_200,
    status: 'answered',
    context: { prompt_excerpt: `asked about ${text}`, topics: ['testing'] },
    ...extra,
  };
}

/** The content fields of a response (what was recorded, without id, stamp and flags). */
export function contentOf(response) {
  const { id: _id, namespace: _ns, updated: _updated, conflicted: _conflicted, ...rest } = response;
  return rest;
}
