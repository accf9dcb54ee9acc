// Every built-in adapter against a fixture of its site: the DOM signals alone, then (where the
// site has one) the network start alone, each from busy to overlay to done.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertNoOverlay,
  captures,
  env,
  onPage,
  send,
  useExtension,
  waitNoOverlay,
  waitOverlay,
} from './harness.mjs';
import { BUILT_IN } from './fixtures/sites.mjs';

useExtension({ agents: BUILT_IN.map(([, f]) => f.name) });

async function busyOverlayDone(host, query) {
  await onPage(host, query, async (page) => {
    const before = (await captures(env)).length;
    await send(page);
    const frame = await waitOverlay(page);
    assert.match(await frame.locator('h1').innerText(), /\?$/, 'the card asks a question');
    await waitNoOverlay(page);
    // A card the user let pass records nothing.
    assert.equal((await captures(env)).length, before);
  });
}

for (const [host, fixture] of BUILT_IN) {
  test(`${fixture.name}: DOM busy -> overlay -> done`, () => busyOverlayDone(host, 'net=0&ms=600'));
  if (fixture.endpoint) {
    test(`${fixture.name}: network start alone -> overlay -> done`, () =>
      busyOverlayDone(host, 'dom=0&ms=600'));
  }
  // Each variant is tested on what it changes: its busy control, or its endpoint.
  for (const [variant, changes] of Object.entries(fixture.variants ?? {})) {
    if (changes.start) {
      test(`${fixture.name} (${variant}): DOM busy -> overlay -> done`, () =>
        busyOverlayDone(host, `variant=${variant}&net=0&ms=600`));
    }
    if (changes.endpoint) {
      test(`${fixture.name} (${variant}): network start alone -> overlay -> done`, () =>
        busyOverlayDone(host, `variant=${variant}&dom=0&ms=600`));
    }
  }
}

test('DeepSeek: the send control enabled by typing is not "busy"', async () => {
  await onPage('chat.deepseek.com', 'net=0', async (page) => {
    // The user types (a user action, so the grace period would not hold the overlay back) and the
    // site enables its send control, which has the same markup as the stop control.
    await page.locator('#prompt').pressSequentially('draft');
    await page.evaluate(() => window.attr('#ds-send', 'aria-disabled', 'false'));
    await assertNoOverlay(page);
  });
});
