// What every browser test suite of this repository runs against, besides the browser: the real
// relay and CLI binaries, and the flags headless Chromium needs on this kind of machine. Plain
// Node, no npm dependencies, so each package's tests import it by relative path.

import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
const TARGET_DIR = process.env.CARGO_TARGET_DIR ?? path.join(REPO, 'target');
export const RELAY_BIN = process.env.SELFOS_RELAY_BIN ?? path.join(TARGET_DIR, 'debug/selfos-relay');
export const CLI_BIN = process.env.SELFOS_CLI_BIN ?? path.join(TARGET_DIR, 'debug/selfos');
/** A device that breaks the engine's rules (`testkit/hostile`), for the hostile-peer tests. */
export const HOSTILE_BIN = process.env.SELFOS_HOSTILE_BIN ?? path.join(TARGET_DIR, 'debug/selfos-hostile');

/** Launch options for Debian's headless Chromium (`CHROMIUM_BIN` overrides the path). */
export const CHROMIUM = {
  executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu'],
};

/** Builds the relay, CLI and hostile-device binaries if any is missing (`scripts/test.sh` has
 * built them). The hostile device builds on its own: built with the others, its test-only
 * features would be unified into them. */
export function ensureBinaries() {
  const builds = [
    [[RELAY_BIN, CLI_BIN], ['-p', 'selfos-cli', '-p', 'selfos-relay']],
    [[HOSTILE_BIN], ['-p', 'selfos-hostile']],
  ];
  for (const [bins, packages] of builds) {
    if (bins.every((bin) => existsSync(bin))) continue;
    const build = spawnSync('cargo', ['build', ...packages], { cwd: REPO, stdio: 'inherit' });
    if (build.status !== 0) throw new Error(`cargo build ${packages.join(' ')} failed`);
  }
}

/** The cheapest Argon2id cost the vault accepts, as the CLI's `--kdf-*` flags: the tests are
 * about storage and sync, not key stretching. */
export const CLI_CHEAP_KDF = ['--kdf-memory-kib', '19456', '--kdf-iterations', '2', '--kdf-parallelism', '1'];

/**
 * A relay process listening on `listen` (a free port by default), with extra flags `args`.
 * Resolves once it prints `listening on ADDR`. It keeps the rooms' store in `store` (`--store`:
 * a SQLite file, or `none`); by default in a SQLite file in a temporary folder of its own,
 * deleted once the process exits, so that no test writes into the checkout. A relay restarted
 * on the same store is given the first one's `store`, in a folder the test made.
 */
export async function startRelay({ listen = '127.0.0.1:0', args = [], store } = {}) {
  const own = store === undefined ? await mkdtemp(path.join(tmpdir(), 'selfos-relay-store-')) : null;
  const storeArg = own === null ? store : path.join(own, 'store.db');
  const child = spawn(RELAY_BIN, ['--listen', listen, '--store', storeArg, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { RUST_LOG: 'warn', ...process.env },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve)).then(async (code) => {
    if (own !== null) await rm(own, { recursive: true, force: true });
    return code;
  });
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    new Promise((resolve) => lines.once('line', resolve)),
    exited.then((code) => {
      throw new Error(`the relay exited (${code}) before listening`);
    }),
  ]);
  const match = /^listening on (\S+)$/.exec(first);
  if (!match) throw new Error(`unexpected relay output: ${first}`);
  const signal = (name) => async () => {
    child.kill(name);
    await exited;
  };
  return {
    addr: match[1],
    url: `ws://${match[1]}`,
    origin: `http://${match[1]}`,
    /** Its `--store`. */
    store: storeArg,
    /** SIGTERM: the relay drains and closes every connection with "going away". */
    stop: signal('SIGTERM'),
    /** SIGKILL: the relay disappears without a going-away close, as in a crash. */
    kill: signal('SIGKILL'),
  };
}

const exec = promisify(execFile);

/** Runs the CLI on the vault in `dir` with `passphrase`; resolves with stdout, rejects with stderr. */
export async function runCli(passphrase, dir, ...args) {
  try {
    const { stdout } = await exec(CLI_BIN, ['--vault', dir, ...args], {
      env: { ...process.env, SELFOS_PASSPHRASE: passphrase },
      timeout: 90_000,
    });
    return stdout;
  } catch (error) {
    throw new Error(`selfos ${args.join(' ')} failed (${error.code}): ${error.stderr}`);
  }
}
