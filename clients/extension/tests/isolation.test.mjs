// A hostile page that listens to every key event, watches every mutation, patches attachShadow and
// polls every frame it can reach reads none of what the user types into the card.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  captures,
  env,
  overlayShown,
  keys,
  onPage,
  send,
  sleep,
  textCard,
  url,
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

test('no page can find the card frame under the extension id', async () => {
  const probe = (page) =>
    page.evaluate((src) => fetch(src, { mode: 'no-cors' }).then(() => 'loaded', () => 'blocked'),
      `chrome-extension://${env.id}/overlay/frame.html`);
  // A site whose agent is on (and whose overlay works, as the other tests show) and one whose agent is off.
  await onPage('chatgpt.com', 'net=0', async (page) => assert.equal(await probe(page), 'blocked'));
  await onPage('claude.ai', 'net=0', async (page) => assert.equal(await probe(page), 'blocked'));
});

test('a copy of the card frame that another frame embeds gets no card and cannot end the wait', async () => {
  await onPage('chatgpt.com', 'net=0&end=manual', async (page) => {
    const n = (await captures(env)).length;
    await send(page);
    await waitOverlay(page);
    // A third-party frame on the page (another site's) embeds its own copy of the card frame.
    await page.evaluate((src) => {
      const f = Object.assign(document.createElement('iframe'), { src, id: 'third-party' });
      document.body.append(f);
      return new Promise((r) => f.addEventListener('load', r, { once: true }));
    }, url('claude.ai'));
    const third = page.frames().find((f) => f.url().startsWith('https://claude.ai/'));
    await third.evaluate(
      (src) =>
        new Promise((r) => {
          const f = Object.assign(document.createElement('iframe'), { src });
          document.body.append(f);
          // It tells the copy that it is on screen, in every form it could guess.
          f.addEventListener('load', () => {
            f.contentWindow.postMessage('selfos:show', '*');
            f.contentWindow.postMessage({ t: 'selfos:show', token: 'guessed', focus: true }, '*');
            r();
          });
        }),
      // Its URL is per session on Chrome; the worst case is that it leaked.
      await env.ext(() => chrome.runtime.getURL('overlay/frame.html')),
    );
    await sleep(1000);
    const rogue = page.frames().find((f) => f.parentFrame() === third);
    assert.equal(await rogue.locator('main[data-card-id]').count(), 0, 'the copy shows the card');
    // Whatever the copy sends carries a token other than the one of this wait.
    await rogue.evaluate(() => chrome.runtime.sendMessage({ t: 'skip', at: 0, token: 'guessed' }));
    await sleep(500);
    assert.equal((await captures(env)).length, n, 'the copy recorded an outcome');
    assert.ok(await overlayShown(page), 'the copy ended the wait');
    await keys(page, '', 'Escape');
    await waitCaptures(env, n + 1);
  });
});
