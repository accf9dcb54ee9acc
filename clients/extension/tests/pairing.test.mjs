// Adding a device by a one-time code, through the popups of three browser profiles and a real
// relay: the first shows a code, the second joins with it under a passphrase of its own and meets
// the first in the vault's room; a wrong code fails on both sides and stores nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureBinaries, startRelay } from '../../../testkit/processes.mjs';
import { OTHER_PASSPHRASE, launch, popup, vaultOp } from './harness.mjs';

const UNLOCKED = 'Unlocked: your answers are saved to your vault.';

let relay;
/** The device that has the vault, one that pairs with the right code, one with a wrong code. */
let first;
let second;
let third;

before(async () => {
  ensureBinaries();
  relay = await startRelay();
  [first, second, third] = await Promise.all([launch(), launch({ vault: false }), launch({ vault: false })]);
  assert.equal((await vaultOp(first, { op: 'relay', relay: relay.url })).error, undefined);
});
after(async () => {
  await Promise.all([first?.close(), second?.close(), third?.close()]);
  await relay?.stop();
});

/** Clicks "Add a device" on the first device's popup; returns the page and the code it shows. */
async function offer() {
  const page = await popup(first);
  await page.getByRole('button', { name: 'Add a device' }).click();
  const shown = page.locator('#pairing').filter({ hasText: /^Code: / });
  await shown.waitFor({ timeout: 20_000 });
  const code = /^Code: (\d+-[a-z]+-[a-z]+)\./.exec(await shown.innerText())?.[1];
  assert.ok(code, await shown.innerText());
  assert.equal(await page.getByRole('button', { name: 'Add a device' }).isDisabled(), true, 'one code at a time');
  return { page, code };
}

/** Fills the "Join with a code" form of `env`'s popup and submits it. */
async function join(env, code) {
  const page = await popup(env);
  await page.locator('#join-code').fill(code);
  await page.locator('#join-pass').fill(OTHER_PASSPHRASE);
  await page.locator('#join-again').fill(OTHER_PASSPHRASE);
  await page.locator('#join-relay').fill(relay.url);
  await page.getByRole('button', { name: 'Join' }).click();
  return page;
}

test('popup: a device added by its code joins the vault under its own passphrase and meets the first', async () => {
  const { page: offering, code } = await offer();
  const joining = await join(second, code);
  await joining.getByText(UNLOCKED).waitFor({ timeout: 30_000 });
  assert.equal((await vaultOp(second, { op: 'status' })).view.relay, relay.url, "the relay typed becomes this device's");
  await offering.locator('#pairing').filter({ hasText: 'Paired: the other device now holds your vault.' }).waitFor({ timeout: 20_000 });
  // Only devices holding the same vault secret share a room: each sees the other online.
  await joining.getByText('Relay: connected (1 other device online)').waitFor({ timeout: 20_000 });
  await offering.getByText('Relay: connected (1 other device online)').waitFor({ timeout: 20_000 });
  // The second device's passphrase is its own.
  await vaultOp(second, { op: 'lock' });
  assert.equal((await vaultOp(second, { op: 'unlock', passphrase: OTHER_PASSPHRASE })).error, undefined);
  await Promise.all([offering.close(), joining.close()]);
});

test('popup: a wrong code fails on both devices and the joining one stores nothing', async () => {
  const { page: offering, code } = await offer();
  const [number] = code.split('-');
  const wrong = `${number}-abandon-ability`;
  const joining = await join(third, wrong === code ? `${number}-ability-able` : wrong);
  await joining.getByRole('alert').filter({ hasText: 'The code does not match' }).waitFor({ timeout: 30_000 });
  const { view } = await vaultOp(third, { op: 'status' });
  assert.equal(view.exists, false, 'no vault after a wrong code');
  assert.equal(view.unlocked, false);
  await offering.locator('#pairing').filter({ hasText: `Pairing with ${code} failed` }).waitFor({ timeout: 20_000 });
  assert.equal(await offering.getByRole('button', { name: 'Add a device' }).isDisabled(), false, 'a new code can be made');
  await Promise.all([offering.close(), joining.close()]);
});
