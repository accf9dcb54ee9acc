// What the dashboard tests run against, all real: the built dashboard served by the relay
// (`--web-root dist`), the relay binary, the `selfos` CLI and headless Chromium.

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import {
  CHROMIUM,
  CLI_CHEAP_KDF,
  ensureBinaries,
  runCli,
  startRelay as startRelayProcess,
} from '../../../testkit/processes.mjs';

export const WEBAPP_DIR = fileURLToPath(new URL('..', import.meta.url));
export const DIST = path.join(WEBAPP_DIR, 'dist');

export const PASSPHRASE = 'correct horse battery staple';

/** Fails early when the dashboard is not built; builds the binaries when missing. */
export function ensureBuilt() {
  if (!existsSync(path.join(DIST, 'index.html'))) throw new Error('dist/ is missing: run `npm run build` first');
  ensureBinaries();
}

/** A relay that also serves the built dashboard (or the folder `webRoot`) at `/`, with extra
 * flags `args` (its store is a SQLite file in a temporary folder). Resolves once it listens. */
export function startRelay(args = [], webRoot = DIST) {
  return startRelayProcess({ args: ['--web-root', webRoot, ...args] });
}

export function launchBrowser() {
  return chromium.launch(CHROMIUM);
}

/** Runs the CLI on the vault in `dir`; resolves with stdout, rejects with stderr. */
export function cli(dir, ...args) {
  return runCli(PASSPHRASE, dir, ...args);
}

export async function cliJson(dir, ...args) {
  return JSON.parse(await cli(dir, '--json', ...args));
}

/** A temporary folder; `remove()` deletes it with everything in it. */
export async function tempDir(prefix) {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The cheapest Argon2id cost the vault accepts: these tests are about the dashboard, not key stretching. */
export const CHEAP_KDF = CLI_CHEAP_KDF;

/** The recovery kit of the CLI vault in `dir`, as `selfos recovery-kit` prints it. */
export function recoveryKit(dir) {
  return cli(dir, 'recovery-kit');
}

/** A new CLI replica in `dir` of the vault whose recovery kit is `kit`. */
export async function restoreCli(dir, kit) {
  const file = `${dir}.kit`;
  await writeFile(file, kit);
  await cli(dir, 'join', '--recovery-kit', file, ...CHEAP_KDF);
}

/** The words of a recovery kit, without its comment line. */
export function kitWords(kit) {
  return kit
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join(' ')
    .trim()
    .split(/\s+/);
}

const DAY = 86_400_000;

/**
 * Six weeks of answers for two agents (intents, ratings after them, preferences, topics),
 * imported with the CLI: the CLI records with the current time only, and the alignment charts
 * need a history.
 */
export async function importHistory(dir, now = Date.now()) {
  const answers = [];
  const add = (agent, days, content) => answers.push({ agent, created_ms: now - days * DAY, ...content });
  const topics = [['rust', 'borrow checker'], ['sql', 'indexes'], ['typescript', 'generics']];
  for (let week = 6; week >= 1; week -= 1) {
    const [topic, sub] = topics[week % topics.length];
    add('chatgpt', week * 7, {
      card_id: 'intent.include',
      card_kind: 'intent',
      answer: { type: 'text', value: `worked examples about ${topic} ${sub}` },
      context: { prompt_excerpt: `how do ${sub} work in ${topic}`, topics: [topic] },
    });
    add('chatgpt', week * 7 - 0.01, { card_id: 'rating.overall', card_kind: 'rating', answer: { type: 'rating', value: 2 + (week % 4) } });
    add('claude', week * 7 - 1, { card_id: 'rating.overall', card_kind: 'rating', answer: { type: 'rating', value: 5 - (week % 3) } });
  }
  add('chatgpt', 20, { card_id: 'pref.length', card_kind: 'preference', answer: { type: 'choice', value: 'short' } });
  add('claude', 10, { card_id: 'pref.tone', card_kind: 'preference', answer: { type: 'choice', value: 'direct' } });
  await importAnswers(dir, answers, now);
}

/** Imports `answers` (contents; `created_ms` defaults to one a day, back from `now`). */
export async function importAnswers(dir, answers, now = Date.now()) {
  const { vault } = await cliJson(dir, 'export');
  const responses = answers.map((content, i) => {
    const created = content.created_ms ?? now - i * DAY;
    return {
      id: `${content.agent}/${(i + 1).toString(16).padStart(32, '0')}`,
      origin: 'test',
      wait_ms: 6_000,
      status: 'answered',
      ...content,
      created_ms: created,
      updated_ms: created,
    };
  });
  const file = path.join(dir, '..', `import-${path.basename(dir)}.json`);
  await writeFile(file, JSON.stringify({ format: 'selfos-export', schema_version: 1, vault, policies: {}, responses }));
  await cli(dir, 'import', file);
}

/** This browser's own passphrase for a restored replica (the CLI replicas use `PASSPHRASE`). */
export const BROWSER_PASSPHRASE = 'quartz lagoon ember thimble';

/** How many entries the dashboard's database holds in `page` (0 when it has none). */
export function storedEntriesOf(page) {
  return page.evaluate(async () => {
    if (!(await indexedDB.databases()).some((d) => d.name === 'selfos-dashboard')) return 0;
    const open = indexedDB.open('selfos-dashboard');
    const db = await new Promise((resolve) => (open.onsuccess = () => resolve(open.result)));
    const names = [...db.objectStoreNames];
    const counts = await Promise.all(
      names.map(
        (name) =>
          new Promise((resolve) => {
            const count = db.transaction(name).objectStore(name).count();
            count.onsuccess = () => resolve(count.result);
          }),
      ),
    );
    db.close();
    return counts.reduce((a, b) => a + b, 0);
  });
}

/** Fills the open screen's form with `kit` (or, with `from: 'code'`, a pairing code) and a new
 * passphrase, and submits it. */
export async function submitRestore(page, kit, passphrase = BROWSER_PASSPHRASE, from = 'kit') {
  const code = from === 'code';
  await page.getByLabel(code ? 'Join with a code' : 'Restore from recovery kit').check();
  await page.getByLabel(code ? 'Code' : 'Recovery kit (24 words)', { exact: true }).fill(kit);
  await page.getByLabel("This browser's passphrase", { exact: true }).fill(passphrase);
  await page.getByLabel("This browser's passphrase, again").fill(passphrase);
  await page.getByRole('button', { name: code ? 'Join' : 'Restore' }).click();
}

/** Restores the vault from `kit` in a fresh browser profile (or in `context`, one made for it)
 * and waits until it syncs. */
export async function restoreInBrowser(browser, origin, kit, context = undefined) {
  context ??= await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  await submitRestore(page, kit);
  await page.locator('[data-sync="joined"]').waitFor({ timeout: 30_000 });
  return page;
}

/** Runs axe-core in the page; resolves with the serious and critical violations. */
export async function seriousViolations(page) {
  const source = await readFile(path.join(WEBAPP_DIR, 'node_modules/axe-core/axe.min.js'), 'utf8');
  // Evaluated through the devtools protocol: the relay's CSP forbids inline scripts, and the
  // test keeps that CSP in force for the app.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(source);
  const violations = await page.evaluate(async () => (await globalThis.axe.run()).violations);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
}

/**
 * How many pixels of the PNG differ clearly from its most common color (the background),
 * decoded by the browser itself.
 */
export async function inkPixels(page, png) {
  return page.evaluate(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    const counts = new Map();
    for (let i = 0; i < data.length; i += 4) {
      const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const background = [...counts].sort((a, b) => b[1] - a[1])[0][0];
    const [br, bg, bb] = [(background >> 16) & 255, (background >> 8) & 255, background & 255];
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) {
      const distance = Math.abs(data[i] - br) + Math.abs(data[i + 1] - bg) + Math.abs(data[i + 2] - bb);
      if (distance > 60) ink += 1;
    }
    return { ink, total: data.length / 4 };
  }, png.toString('base64'));
}
