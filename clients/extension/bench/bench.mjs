// Prints the content script's size, how fast the overlay follows the busy signal, and how fast an
// answer is committed to the vault. Figures only: nothing here asserts a time (see DESIGN.md, Budgets).
//
// Latency is measured on the ChatGPT fixture, on the shared clock of `performance.timeOrigin +
// performance.now()`: from the page's own mutation that adds the stop button, to (a) the overlay
// host becoming visible, as the page itself observes it, and (b) the card being rendered in the
// overlay frame (its `selfos:card-shown` mark, taken in the frame just before the next paint).
//
// Submit -> committed is the worker's `selfos:submit-committed` measure: from the key that answers
// the card (its time on the shared clock travels with the answer) to the answer's commit to
// IndexedDB; the worker's own share (`selfos:recorded`, from the message's arrival) is printed
// beside it, the rest is the message hop from the frame; of the worker's share, the IndexedDB
// commit itself (`selfos:store-commit`, from the client) is printed too, the rest is WASM.
// The trainer shows a card at most once per 30 minutes, so a profile offers some 26 cards: the
// answers are spread over ROUNDS fresh profiles, and each round's first answer (cold) is left out.
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import {
  answerShown,
  enableAgents,
  launch,
  send,
  sleep,
  url,
  waitNoOverlay,
  waitOverlay,
} from '../tests/harness.mjs';

const TRIALS = Number(process.env.TRIALS ?? 50);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const ANSWERS = 20;

const content = await readFile(new URL('../dist/chrome/content.js', import.meta.url));
console.log(`content script: ${content.length} B minified, ${gzipSync(content).length} B gzipped (goal <= 8192 B)`);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const line = (name, xs) =>
  console.log(
    `${name.padEnd(34)} p50 ${pct(xs, 50).toFixed(1).padStart(6)} ms   p95 ${pct(xs, 95).toFixed(1).padStart(6)} ms   ` +
      `max ${Math.max(...xs).toFixed(1).padStart(6)} ms   (n=${xs.length})`,
  );

/**
 * Answers ANSWERS cards on a fresh profile; returns [submit -> committed, worker share, IndexedDB
 * commit] per warm answer.
 */
async function answerRound() {
  const env = await launch();
  const total = [];
  const worker = [];
  const commit = [];
  try {
    await enableAgents(env, ['ChatGPT']);
    const page = await env.context.newPage();
    await page.goto(url('chatgpt.com', 'net=0&end=manual'));
    await sleep(1000);
    for (let i = 0; i < ANSWERS; i++) {
      await send(page);
      const frame = await waitOverlay(page);
      // The worker is awake (it just dealt the card): this answer's measures will be the only ones.
      const [sw] = env.context.serviceWorkers();
      await sw.evaluate(() => performance.clearMeasures());
      await answerShown(page, frame, 'x');
      const [ms, share, store] = await sw.evaluate(async () => {
        while (!performance.getEntriesByName('selfos:recorded').length) await new Promise((r) => setTimeout(r, 5));
        const names = ['selfos:submit-committed', 'selfos:recorded', 'selfos:store-commit'];
        return names.map((m) => performance.getEntriesByName(m)[0].duration);
      });
      if (i > 0) {
        total.push(ms);
        worker.push(share);
        commit.push(store);
      }
      await waitNoOverlay(page);
      await page.evaluate(() => window.finish());
      await sleep(500);
    }
  } finally {
    await env.close();
  }
  return [total, worker, commit];
}

const env = await launch();
try {
  await enableAgents(env, ['ChatGPT']);
  const page = await env.context.newPage();
  await page.goto(url('chatgpt.com', 'net=0&end=manual'));
  await page.evaluate(() => {
    window.hostAt = [];
    let visible = false;
    new MutationObserver(() => {
      const now = document.querySelector('selfos-overlay')?.checkVisibility() === true;
      if (now && !visible) window.hostAt.push(performance.timeOrigin + performance.now());
      visible = now;
    }).observe(document.documentElement, { subtree: true, childList: true, attributes: true });
  });
  // A user spends a few seconds writing a prompt: by then the page is idle and the overlay preloaded.
  await sleep(1000);
  const host = [];
  const card = [];
  for (let i = 0; i <= TRIALS; i++) {
    await send(page);
    const frame = await waitOverlay(page);
    await frame.waitForFunction(() => performance.getEntriesByName('selfos:card-shown').length > 0);
    const shownAt = await frame.evaluate(
      () => performance.timeOrigin + performance.getEntriesByName('selfos:card-shown')[0].startTime,
    );
    const { sentAt, hostAt } = await page.evaluate(() => ({ sentAt: window.sentAt, hostAt: window.hostAt.at(-1) }));
    if (i === 0) {
      console.log(`first wait on the page:  host ${(hostAt - sentAt).toFixed(1)} ms, card ${(shownAt - sentAt).toFixed(1)} ms`);
    } else {
      host.push(hostAt - sentAt);
      card.push(shownAt - sentAt);
    }
    await page.evaluate(() => window.finish());
    await waitNoOverlay(page);
    // Seconds pass between two prompts; half a second is enough to load the next hidden frame.
    await sleep(500);
  }
  line('busy -> overlay host visible', host);
  line('busy -> card rendered in frame', card);
  console.log('goal: busy -> overlay visible p95 <= 100 ms');
} finally {
  await env.close();
}

const total = [];
const worker = [];
const commit = [];
for (let r = 0; r < ROUNDS; r++) {
  const [t, w, c] = await answerRound();
  total.push(...t);
  worker.push(...w);
  commit.push(...c);
}
line('submit -> committed', total);
line('  of which in the worker', worker);
line('  of which the IndexedDB commit', commit);
console.log(`submit -> committed p99 ${pct(total, 99).toFixed(1)} ms (goal <= 5 ms warm)`);
