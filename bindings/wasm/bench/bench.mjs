// `npm run bench`: the browser figures of DESIGN.md's budgets, measured in a module worker in
// headless Chromium. It prints figures and asserts nothing: a loaded machine is slower, not wrong.
// The profile is on disk, as a user's is: an in-memory (incognito) profile's IndexedDB never
// flushes, so its strict commits would look several times cheaper than they are.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM } from '../../../testkit/processes.mjs';
import { ensureBuilt, serve } from '../tests/harness.mjs';

ensureBuilt();
const server = await serve();
const profile = await mkdtemp(join(tmpdir(), 'selfos-bench-'));
const browser = await chromium.launchPersistentContext(profile, CHROMIUM);
try {
  const page = await browser.newPage();
  await page.goto(`${server.origin}/bench/page.html`);
  const result = await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const worker = new Worker('./worker.mjs', { type: 'module' });
        worker.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data));
        worker.onerror = (event) => reject(new Error(`worker: ${event.message ?? 'failed to start'}`));
        worker.postMessage('run');
      }),
  );
  print(result);
} finally {
  await browser.close();
  await server.close();
  await rm(profile, { recursive: true, force: true });
}

function stats(times) {
  const sorted = [...times].sort((x, y) => x - y);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const mean = sorted.reduce((sum, t) => sum + t, 0) / sorted.length;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), mean, min: sorted[0] };
}

function print({ ours, baseline, unlock, trainer }) {
  const o = stats(ours);
  const b = stats(baseline);
  const u = stats(unlock.times);
  const { memory_kib: m, iterations: t, parallelism: p } = unlock.kdf;
  const ms = (x) => (x === undefined ? '' : x.toFixed(2));
  const rows = [
    ['what (module worker, headless Chromium, profile on disk)', 'runs', 'p50 ms', 'p99 ms', 'mean ms', 'min ms'],
    ['write: SelfosClient.record -> IndexedDB (strict)', o.n, ms(o.p50), ms(o.p99), ms(o.mean), ms(o.min)],
    ['write: Automerge JS + AES-GCM -> IndexedDB (strict)', b.n, ms(b.p50), ms(b.p99), ms(b.mean), ms(b.min)],
    ['ratio SelfOS / baseline', '', `${(o.p50 / b.p50).toFixed(2)}x`, `${(o.p99 / b.p99).toFixed(2)}x`, `${(o.mean / b.mean).toFixed(2)}x`, ''],
    [`unlock, default KDF (Argon2id m=${m} KiB t=${t} p=${p})`, u.n, '', '', ms(u.mean), ms(u.min)],
    ...trainer.flatMap(({ size, catchUp, afterWrite, cached }) => [
      [`nextCard, ${size} answers, first after the fill`, 1, '', '', ms(catchUp), ''],
      ...[
        [`nextCard, ${size} answers, right after a write`, stats(afterWrite)],
        [`nextCard, ${size} answers, nothing changed`, stats(cached)],
      ].map(([what, s]) => [what, s.n, ms(s.p50), ms(s.p99), ms(s.mean), ms(s.min)]),
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const row of rows) {
    console.log(row.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  '));
  }
  console.log('budgets (DESIGN.md): write p99 <= 5 ms, unlock <= 250 ms; nextCard at 20,000 answers <= 5 ms');
}
