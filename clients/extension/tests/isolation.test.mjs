// A hostile page that listens to every key event, watches every mutation, patches attachShadow and
// polls every frame it can reach reads none of what the user types into the card.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  captures,
  env,
  keys,
  onPage,
  send,
  sleep,
  textCard,
  useExtension,
  waitCaptures,
  waitNoOverlay,
  waitOverlay,
} from './harness.mjs';

useExtension({ agents: ['ChatGPT'] });

test('a hostile page reads none of the typed answer', async () => {
  await onPage('chatgpt.com', 'net=0&end=manual&hostile=1', async (page) => {
    // The spy works: it sees what is typed into the page's own composer.
    const frame = await textCard(env, page);
    const n = (await captures(env)).length;
    const before = await page.evaluate(() => window.spy());
    assert.ok(before.keyEvents > 0);
    assert.match(before.log, /Explain match patterns/);
    // A letter typed on a choice card's buttons starts the user's own words.
    await frame.locator('button:focus, input:focus').waitFor();
    const secret = `s3cret-${Date.now().toString(36)}`;
    await keys(page, secret);
    await sleep(200);
    const during = await page.evaluate(() => window.spy());
    await keys(page, '', 'Enter');
    const [c] = (await waitCaptures(env, n + 1)).slice(n);
    assert.deepEqual(c.answer, { type: 'text', value: secret });
    await waitNoOverlay(page);
    await sleep(200);
    const spy = await page.evaluate(() => window.spy());

    assert.equal(during.keyEvents, before.keyEvents, 'no key event reached the page while typing in the card');
    assert.equal(spy.roots, 0, "the page's attachShadow patch never saw the overlay's root");
    // A frame inside a shadow tree is not among window.frames: the page cannot even get its window.
    assert.equal(during.frames, 0, 'window.frames reaches the card frame');
    for (const part of [secret, secret.slice(0, 6), secret.slice(-6)]) {
      assert.ok(!spy.log.includes(part), `the page's log contains "${part}"`);
    }
  });
});

test('the overlay host exposes no shadow root to the page', async () => {
  await onPage('chatgpt.com', 'net=0&end=manual', async (page) => {
    await send(page);
    await waitOverlay(page);
    const seen = await page.evaluate(() => {
      const host = document.querySelector('selfos-overlay');
      return { root: host?.shadowRoot ?? null, children: host?.childNodes.length, iframes: document.querySelectorAll('iframe').length };
    });
    assert.deepEqual(seen, { root: null, children: 0, iframes: 0 });
  });
});
