// The whole wait on the ChatGPT and Claude fixtures: the card, the keyboard, what is recorded,
// what dismisses the overlay, failures; and that a site whose agent is off gets nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertCardFits,
  assertNoOverlay,
  captures,
  env,
  keys,
  onPage,
  send,
  shownCard,
  sleep,
  textCard,
  url,
  useExtension,
  waitCaptures,
  waitNoOverlay,
  waitOverlay,
} from './harness.mjs';
import { FIXTURES } from './fixtures/sites.mjs';


/** The card's control that has the focus: the user answers without reaching for the mouse. */
const focused = (frame) => frame.locator('button:focus, input:focus').waitFor();

for (const host of ['chatgpt.com', 'claude.ai']) describe(FIXTURES[host].name, () => {
  const { agent, name } = FIXTURES[host];
  const origin = `https://${host}`;
  // The trainer shows a card at most once in 30 minutes, across agents: each site's tests get a
  // browser profile of their own, so that neither runs short of cards that take text.
  useExtension({ agents: [name] });

  test(`${name}: busy -> card; typed answer + Enter -> recorded with agent, origin and wait`, () =>
    onPage(host, 'net=0&end=manual', async (page) => {
      const sentAt = Date.now();
      const frame = await textCard(env, page);
      const n = (await captures(env)).length;
      const { id } = await shownCard(frame);
      await assertCardFits(frame);
      assert.equal(await frame.getByRole('dialog').getAttribute('aria-labelledby'), 'q');
      // Keyboard first: the user just types (a letter on a choice card starts their own words).
      await focused(frame);
      await sleep(300);
      await keys(page, 'long intros', 'Enter');
      const [c] = (await waitCaptures(env, n + 1)).slice(n);
      const answeredAt = Date.now();
      // The cards that take words are intents and preferences (catalog.rs).
      assert.ok(['intent', 'preference'].includes(c.card_kind), c.card_kind);
      assert.deepEqual(
        { ...c, created_ms: 0, wait_ms: 0, card_kind: '' },
        {
          card_id: id,
          card_kind: '',
          answer: { type: 'text', value: 'long intros' },
          agent,
          origin,
          created_ms: 0,
          wait_ms: 0,
          status: 'answered',
        },
      );
      assert.ok(c.created_ms >= sentAt && c.created_ms <= answeredAt, 'created_ms is the answer time');
      // The trainer's first card for an agent it knows nothing of asks what the answer is for.
      const first = (await captures(env)).find((r) => r.agent === agent);
      assert.equal(first.card_kind, 'intent', `first card ${first.card_id}`);
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
      const sentAt = Date.now();
      const frame = await textCard(env, page);
      const n = (await captures(env)).length;
      await focused(frame);
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
      // Whatever the trainer picks: the first choice card gets 2, the first rating 4, others Esc.
      const done = new Set();
      const shown = [];
      for (let i = 0; i < 10 && done.size < 3; i++) {
        const n = (await captures(env)).length;
        await send(page);
        const frame = await waitOverlay(page);
        const card = await shownCard(frame);
        shown.push(card.id);
        await assertCardFits(frame);
        await focused(frame);
        let expect = ['skipped', undefined];
        let key = 'Escape';
        if (card.type === 'choice' && !done.has('choice')) {
          [key, expect] = ['2', ['answered', { type: 'choice', value: card.options[1] }]];
        } else if (card.type === 'rating' && !done.has('rating')) {
          [key, expect] = ['4', ['answered', { type: 'rating', value: 4 }]];
        }
        done.add(key === 'Escape' ? 'skip' : card.type);
        await keys(page, '', key);
        const [c] = (await waitCaptures(env, n + 1)).slice(n);
        assert.deepEqual([c.card_id, c.status, c.answer], [card.id, ...expect]);
        await waitNoOverlay(page);
        // The reply completes (a new completion marker) before the next message is sent.
        await page.evaluate(() => window.finish());
        await sleep(400);
      }
      assert.deepEqual([...done].sort(), ['choice', 'rating', 'skip']);
      assert.equal(new Set(shown).size, shown.length, `a card came twice within the trainer's no-repeat window: ${shown}`);
    }));

  test(`${name}: the site shows an error -> overlay dismissed, capture with status retry`, () =>
    onPage(host, 'net=0&end=manual&mode=fail-dom', async (page) => {
      const n = (await captures(env)).length;
      await send(page);
      const { id } = await shownCard(await waitOverlay(page));
      await page.evaluate(() => window.finish());
      await waitNoOverlay(page);
      const [c] = (await waitCaptures(env, n + 1)).slice(n);
      assert.equal(c.status, 'retry');
      assert.equal(c.card_id, id);
      assert.equal(c.answer, undefined);
      assert.equal(c.agent, agent);
    }));

  test(`${name}: the reply request fails (HTTP 500) -> overlay dismissed, capture with status retry`, () =>
    onPage(host, 'mode=fail-net', async (page) => {
      const n = (await captures(env)).length;
      await send(page);
      const { id } = await shownCard(await waitOverlay(page));
      // The page keeps its busy signal for a second after the error: only the network says "failed".
      await waitNoOverlay(page, 900);
      const [c] = (await waitCaptures(env, n + 1)).slice(n);
      assert.equal(c.status, 'retry');
      assert.equal(c.card_id, id);
    }));
});

describe('any site', () => {
  useExtension({ agents: ['ChatGPT'] });

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

  test('prompt excerpt: off by default; on -> saved with the answer, cut to 280 characters; off -> the worker drops it', async () => {
    const options = await env.context.newPage();
    await options.goto(`chrome-extension://${env.id}/options/options.html`);
    const box = options.getByLabel('Save an excerpt of my prompt with each answer');
    assert.equal(await box.isChecked(), false, 'off by default');
    await box.check();
    await options.getByRole('status').filter({ hasText: 'Prompt excerpts are on.' }).waitFor();

    /** Sends `prompt` from the composer, skips the card, and returns what was stored. */
    const skipAfter = async (page, prompt) => {
      const n = (await captures(env)).length;
      await page.locator('#prompt').fill(prompt);
      await page.locator('#prompt').press('Enter');
      await waitOverlay(page);
      await keys(page, '', 'Escape');
      const [c] = (await waitCaptures(env, n + 1)).slice(n);
      await waitNoOverlay(page);
      await page.evaluate(() => window.finish());
      await sleep(400);
      return c;
    };
    const long = `Explain match patterns ${'and their edge cases '.repeat(30)}`;
    await onPage('chatgpt.com', 'net=0&end=manual', async (page) => {
      const short = await skipAfter(page, 'Explain\n   match   patterns\n');
      assert.equal(short.status, 'skipped');
      assert.equal(short.context?.prompt_excerpt, 'Explain match patterns');
      const cut = (await skipAfter(page, long)).context?.prompt_excerpt ?? '';
      assert.ok([...cut].length <= 280, `${[...cut].length} characters`);
      assert.ok(cut.endsWith('…') && long.startsWith(cut.slice(0, -1)), cut);
      assert.ok(cut.length > 200, 'cut at the last word before the limit');

      // Turned off while this page (which still sends its prompt) stays open.
      await box.uncheck();
      await options.getByRole('status').filter({ hasText: 'Prompt excerpts are off.' }).waitFor();
      const off = await skipAfter(page, 'Explain match patterns again');
      assert.equal(off.context?.prompt_excerpt, undefined);
    });
    await options.close();
  });

  test('prompt excerpt: input events the page makes up are not the prompt', async () => {
    const options = await env.context.newPage();
    await options.goto(`chrome-extension://${env.id}/options/options.html`);
    const box = options.getByLabel('Save an excerpt of my prompt with each answer');
    await box.check();
    await options.getByRole('status').filter({ hasText: 'Prompt excerpts are on.' }).waitFor();
    await onPage('chatgpt.com', 'net=0&end=manual', async (page) => {
      const n = (await captures(env)).length;
      await page.locator('#prompt').fill('Explain match patterns');
      // The page plants text of its own choosing, as if typed.
      await page.evaluate(() => {
        const t = document.body.appendChild(document.createElement('textarea'));
        t.value = 'planted topic';
        t.dispatchEvent(new InputEvent('input', { bubbles: true }));
      });
      await page.locator('#prompt').press('Enter');
      await waitOverlay(page);
      await keys(page, '', 'Escape');
      const [c] = (await waitCaptures(env, n + 1)).slice(n);
      assert.equal(c.context?.prompt_excerpt, 'Explain match patterns');
    });
    await box.uncheck();
    await options.getByRole('status').filter({ hasText: 'Prompt excerpts are off.' }).waitFor();
    await options.close();
  });
});
