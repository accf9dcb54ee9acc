// The whole wait on the ChatGPT and Claude fixtures: the card, the keyboard, what is recorded,
// what dismisses the overlay, failures; and that a site whose agent is off gets nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CARD,
  assertNoOverlay,
  captures,
  enableAgents,
  keys,
  launch,
  nextCard,
  send,
  sleep,
  url,
  waitCaptures,
  waitNoOverlay,
  waitOverlay,
} from './harness.mjs';
import { FIXTURES } from './fixtures/sites.mjs';

let env;
before(async () => {
  env = await launch();
  await enableAgents(env, ['ChatGPT', 'Claude']);
});
after(() => env?.close());

/** Opens a fixture page, runs `f(page)` and closes the page. */
async function onPage(host, query, f) {
  const page = await env.context.newPage();
  try {
    await page.goto(url(host, query));
    return await f(page);
  } finally {
    await page.close();
  }
}

const cardId = (frame) => frame.locator('main').getAttribute('data-card-id');

for (const host of ['chatgpt.com', 'claude.ai']) {
  const { agent, name } = FIXTURES[host];
  const origin = `https://${host}`;

  test(`${name}: busy -> card; typed answer + Enter -> recorded with agent, origin and wait`, () =>
    onPage(host, 'net=0&end=manual', async (page) => {
      await nextCard(env, CARD.avoid);
      const n = (await captures(env)).length;
      const sentAt = Date.now();
      await send(page);
      const frame = await waitOverlay(page);
      assert.equal(await cardId(frame), 'intent.avoid');
      assert.equal(await frame.getByRole('dialog').getAttribute('aria-labelledby'), 'q');
      // Keyboard first: the card's field has the focus, so the user just types.
      await frame.locator('input:focus').waitFor();
      await sleep(300);
      await keys(page, 'long intros', 'Enter');
      const [c] = (await waitCaptures(env, n + 1)).slice(n);
      const answeredAt = Date.now();
      assert.deepEqual(
        { ...c, created_ms: 0, wait_ms: 0 },
        {
          card_id: 'intent.avoid',
          card_kind: 'intent',
          answer: { type: 'text', value: 'long intros' },
          agent,
          origin,
          created_ms: 0,
          wait_ms: 0,
          status: 'answered',
        },
      );
      assert.ok(c.created_ms >= sentAt && c.created_ms <= answeredAt, 'created_ms is the answer time');
      // The AI was still busy: the whole wait so far, from the busy signal to the answer.
      assert.ok(c.wait_ms >= 300 && c.wait_ms <= answeredAt - sentAt, `wait_ms ${c.wait_ms}`);
      await waitNoOverlay(page);
      // Focus goes back to where it was: the composer.
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'prompt');
      await page.evaluate(() => window.finish());
      await sleep(300);
      assert.equal((await captures(env)).length, n + 1, 'the AI ending records nothing more');
    }));

  test(`${name}: done while the user is not typing -> overlay dismissed, nothing recorded`, () =>
    onPage(host, 'net=0&end=manual', async (page) => {
      await nextCard(env, CARD.depth);
      const n = (await captures(env)).length;
      await send(page);
      await waitOverlay(page);
      await page.evaluate(() => window.finish());
      await waitNoOverlay(page);
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'prompt');
      assert.equal((await captures(env)).length, n);
    }));

  test(`${name}: done while the user is typing -> overlay waits for Enter`, () =>
    onPage(host, 'net=0&end=manual', async (page) => {
      await nextCard(env, CARD.avoid);
      const n = (await captures(env)).length;
      const sentAt = Date.now();
      await send(page);
      const frame = await waitOverlay(page);
      await frame.locator('input:focus').waitFor();
      await keys(page, 'jargon');
      await sleep(200);
      await page.evaluate(() => window.finish());
      const doneAt = Date.now();
      // Longer than any settle window: the AI is done, the overlay stays.
      await sleep(2500);
      assert.equal(await frame.locator('input').inputValue(), 'jargon');
      assert.ok(await (await frame.frameElement()).isVisible());
      await keys(page, ', hedging', 'Enter');
      const [c] = (await waitCaptures(env, n + 1)).slice(n);
      assert.equal(c.status, 'answered');
      assert.deepEqual(c.answer, { type: 'text', value: 'jargon, hedging' });
      // The wait ended when the AI did, not when the user answered.
      assert.ok(c.wait_ms <= doneAt + 2000 - sentAt, `wait_ms ${c.wait_ms}`);
      await waitNoOverlay(page);
    }));

  test(`${name}: digits answer choices and ratings; Esc skips`, () =>
    onPage(host, 'net=0&end=manual', async (page) => {
      const n = (await captures(env)).length;
      for (const [cursor, key] of [
        [CARD.depth, '3'],
        [CARD.rating, '4'],
        [CARD.depth, 'Escape'],
      ]) {
        await nextCard(env, cursor);
        await send(page);
        const frame = await waitOverlay(page);
        await frame.locator('button:focus').waitFor();
        await keys(page, '', key);
        await waitNoOverlay(page);
        // The reply completes (a new completion marker) before the next message is sent.
        await page.evaluate(() => window.finish());
        await sleep(400);
      }
      const got = (await waitCaptures(env, n + 3)).slice(n);
      assert.deepEqual(
        got.map((c) => [c.card_id, c.card_kind, c.status, c.answer]),
        [
          ['intent.depth', 'intent', 'answered', { type: 'choice', value: 'Deep dive' }],
          ['rating.overall', 'rating', 'answered', { type: 'rating', value: 4 }],
          ['intent.depth', 'intent', 'skipped', undefined],
        ],
      );
    }));

  test(`${name}: the site shows an error -> overlay dismissed, capture with status retry`, () =>
    onPage(host, 'net=0&end=manual&mode=fail-dom', async (page) => {
      await nextCard(env, CARD.depth);
      const n = (await captures(env)).length;
      await send(page);
      await waitOverlay(page);
      await page.evaluate(() => window.finish());
      await waitNoOverlay(page);
      const [c] = (await waitCaptures(env, n + 1)).slice(n);
      assert.equal(c.status, 'retry');
      assert.equal(c.card_id, 'intent.depth');
      assert.equal(c.answer, undefined);
      assert.equal(c.agent, agent);
    }));

  test(`${name}: the reply request fails (HTTP 500) -> overlay dismissed, capture with status retry`, () =>
    onPage(host, 'mode=fail-net', async (page) => {
      await nextCard(env, CARD.rating);
      const n = (await captures(env)).length;
      await send(page);
      await waitOverlay(page);
      // The page keeps its busy signal for a second after the error: only the network says "failed".
      await waitNoOverlay(page, 900);
      const [c] = (await waitCaptures(env, n + 1)).slice(n);
      assert.equal(c.status, 'retry');
      assert.equal(c.card_id, 'rating.overall');
    }));
}

test('a busy signal already showing at load, without a user action, is ignored', () =>
  onPage('chatgpt.com', 'net=0&at_load=1', async (page) => {
    await assertNoOverlay(page);
  }));

test('agent not enabled -> nothing injected, nothing shown', async () => {
  /** The extension's script worlds created in a page of `host`, and the page. */
  const worlds = async (host) => {
    const page = await env.context.newPage();
    const cdp = await env.context.newCDPSession(page);
    const seen = [];
    cdp.on('Runtime.executionContextCreated', ({ context }) => {
      if (context.origin === `chrome-extension://${env.id}`) seen.push(context.name);
    });
    await cdp.send('Runtime.enable');
    await page.goto(url(host));
    return { page, seen };
  };
  // The same check on an enabled site sees the content script's world: an empty list means something.
  const enabled = await worlds('chatgpt.com');
  await enabled.page.close();
  assert.ok(enabled.seen.length > 0);

  const n = (await captures(env)).length;
  const { page, seen } = await worlds('gemini.google.com');
  // Busy signals in the DOM and on the network (the fixture posts to Gemini's endpoint).
  await send(page);
  await assertNoOverlay(page);
  await page.close();
  assert.deepEqual(seen, []);
  assert.equal((await captures(env)).length, n);
  const scripts = await env.ext(() => chrome.scripting.getRegisteredContentScripts());
  assert.ok(!scripts.some((s) => s.matches.some((m) => m.includes('gemini'))));
});
