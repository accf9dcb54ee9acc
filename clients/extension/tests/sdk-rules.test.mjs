// Sites beyond the built-in adapters: one taught by a custom rule (URL pattern + busy selector),
// one that announces its state through the page SDK (SDK.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addRule,
  answerShown,
  assertNoOverlay,
  captures,
  env,
  keys,
  onPage,
  send,
  shownCard,
  sleep,
  useExtension,
  waitCaptures,
  waitNoOverlay,
  waitOverlay,
} from './harness.mjs';

useExtension({
  async setUp(env) {
    await addRule(env, 'https://rules.selfos.test/*', '#thinking');
    await addRule(env, 'https://sdk.selfos.test/*', '');
  },
});

test('custom rule: its busy selector -> overlay; answer recorded under the site host', () =>
  onPage('rules.selfos.test', 'net=0&end=manual', async (page) => {
    const n = (await captures(env)).length;
    await send(page);
    const frame = await waitOverlay(page);
    const { id } = await shownCard(frame);
    const answer = await answerShown(page, frame, 'custom');
    const [c] = (await waitCaptures(env, n + 1)).slice(n);
    assert.equal(c.agent, 'rules.selfos.test');
    assert.equal(c.origin, 'https://rules.selfos.test');
    assert.equal(c.card_id, id);
    assert.deepEqual(c.answer, answer);
    await waitNoOverlay(page);
  }));

test('custom rule: busy selector gone -> overlay dismissed after the settle window', () =>
  onPage('rules.selfos.test', 'net=0&ms=500', async (page) => {
    await send(page);
    await waitOverlay(page);
    await waitNoOverlay(page);
  }));

test('page SDK: busy -> overlay; done -> dismissed at once', () =>
  onPage('sdk.selfos.test', 'net=0&end=manual', async (page) => {
    const n = (await captures(env)).length;
    await send(page);
    await waitOverlay(page);
    await page.evaluate(() => window.finish());
    // The SDK's "done" needs no settle window (1 s by default).
    await waitNoOverlay(page, 700);
    assert.equal((await captures(env)).length, n);
  }));

test('page SDK: error -> overlay dismissed, capture with status retry', () =>
  onPage('sdk.selfos.test', 'net=0&end=manual&mode=fail-dom', async (page) => {
    const n = (await captures(env)).length;
    await send(page);
    await waitOverlay(page);
    await page.evaluate(() => window.finish());
    await waitNoOverlay(page);
    const [c] = (await waitCaptures(env, n + 1)).slice(n);
    assert.equal(c.status, 'retry');
    assert.equal(c.agent, 'sdk.selfos.test');
  }));

test('page SDK: busy while the user writes in the page -> the card shows without taking the focus', () =>
  onPage('sdk.selfos.test', 'net=0', async (page) => {
    await page.locator('#prompt').pressSequentially('half a');
    await page.evaluate(() => window.postMessage({ type: 'selfos', version: 1, state: 'busy' }, location.origin));
    await waitOverlay(page);
    await sleep(300);
    await keys(page, ' thought');
    assert.equal(await page.locator('#prompt').inputValue(), 'half a thought');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'prompt');
    await page.evaluate(() => window.postMessage({ type: 'selfos', version: 1, state: 'done' }, location.origin));
    await waitNoOverlay(page);
  }));

test('page SDK: messages from an embedded frame do not count', () =>
  onPage('sdk.selfos.test', 'net=0', async (page) => {
    await page.evaluate(() => {
      const f = document.createElement('iframe');
      f.srcdoc = `<script>parent.postMessage({ type: 'selfos', version: 1, state: 'busy' }, '*')</script>`;
      document.body.append(f);
    });
    await assertNoOverlay(page);
  }));

test('options page: a rule for every site is refused', async () => {
  const page = await env.context.newPage();
  try {
    await page.goto(`chrome-extension://${env.id}/options/options.html`);
    await page.getByLabel('URL pattern').fill('https://*/*');
    await page.getByLabel('Busy selector').fill('.spinner');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByRole('status').filter({ hasText: 'must name one site' }).waitFor();
    assert.equal(await page.getByRole('listitem').count(), 2);
  } finally {
    await page.close();
  }
});
