// What the browser tests run against, all real: a static server for the package, headless
// Chromium, the relay binary and the CLI binary.

import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO = path.resolve(PACKAGE_DIR, '../..');
const TARGET_DIR = process.env.CARGO_TARGET_DIR ?? path.join(REPO, 'target');
const RELAY_BIN = process.env.SELFOS_RELAY_BIN ?? path.join(TARGET_DIR, 'debug/selfos-relay');
const CLI_BIN = process.env.SELFOS_CLI_BIN ?? path.join(TARGET_DIR, 'debug/selfos');

/** Argon2id at its cheapest: these tests are about storage and sync, not key stretching. */
export const CHEAP_KDF = { memory_kib: 64, iterations: 1, parallelism: 1 };
export const PASSPHRASE = 'correct horse battery staple';

/** Fails early with the command to run when a build output is missing; builds the binaries. */
export function ensureBuilt() {
  for (const file of ['pkg/selfos_wasm.js', 'pkg/selfos_wasm_bg.wasm', 'dist/index.js']) {
    if (!existsSync(path.join(PACKAGE_DIR, file))) {
      throw new Error(`${file} is missing: run bindings/wasm/build.sh first`);
    }
  }
  if (!existsSync(RELAY_BIN) || !existsSync(CLI_BIN)) {
    const build = spawnSync('cargo', ['build', '-p', 'selfos-cli', '-p', 'selfos-relay'], {
      cwd: REPO,
      stdio: 'inherit',
    });
    if (build.status !== 0) throw new Error('cargo build -p selfos-cli -p selfos-relay failed');
  }
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

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu'],
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

export async function reload(page) {
  await page.reload();
  await page.waitForFunction(() => globalThis.selfos !== undefined);
}

/** A relay process; `listen` defaults to a free port. Resolves once it listens. */
export async function startRelay(listen = '127.0.0.1:0') {
  const child = spawn(RELAY_BIN, ['--listen', listen], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { RUST_LOG: 'warn', ...process.env },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    new Promise((resolve) => lines.once('line', resolve)),
    exited.then((code) => {
      throw new Error(`the relay exited (${code}) before listening`);
    }),
  ]);
  const match = /^listening on (\S+)$/.exec(first);
  if (!match) throw new Error(`unexpected relay output: ${first}`);
  return {
    addr: match[1],
    url: `ws://${match[1]}`,
    /** SIGKILL: the relay disappears without a going-away close, as in a crash. */
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const exec = promisify(execFile);

/** Runs the CLI on the vault in `dir`; resolves with stdout, rejects with stderr. */
export async function cli(dir, ...args) {
  try {
    const { stdout } = await exec(CLI_BIN, ['--vault', dir, ...args], {
      env: { ...process.env, SELFOS_PASSPHRASE: PASSPHRASE },
      timeout: 90_000,
    });
    return stdout;
  } catch (error) {
    throw new Error(`selfos ${args.join(' ')} failed (${error.code}): ${error.stderr}`);
  }
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
