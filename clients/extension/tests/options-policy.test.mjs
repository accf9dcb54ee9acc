// The conflict policy per namespace in the options page: a choice per enabled agent, saved in the
// vault at once and read back by the worker; the worker refuses a policy or namespace it does not
// know; while the vault is locked the page says how to unlock instead of offering the choice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSPHRASE, enableAgents, env, useExtension, vaultOp } from './harness.mjs';

let page;
useExtension({
  agents: ['ChatGPT'],
  async setUp(env) {
    page = await env.context.newPage();
    await page.goto(`chrome-extension://${env.id}/options/options.html`);
  },
});

const select = (name) => page.getByRole('combobox', { name, exact: true });
const shown = (name) => select(name).locator('option:checked').textContent();
const policies = async () => (await vaultOp(env, { op: 'policies' })).policies;
const note = () => page.locator('#policies-note');

test('an enabled agent starts with last write wins', async () => {
  assert.equal(await shown('ChatGPT'), 'Last write wins');
  assert.deepEqual(await policies(), [{ namespace: 'chatgpt', policy: 'last-write-wins' }]);
});

test('choosing to merge saves at once, announces it and stays after a reload', async () => {
  await select('ChatGPT').selectOption({ label: 'Keep both for me to merge' });
  await page.getByRole('status').filter({ hasText: 'ChatGPT: conflicts kept for you to merge.' }).waitFor();
  assert.deepEqual(await policies(), [{ namespace: 'chatgpt', policy: 'user-merge' }]);
  await page.reload();
  assert.equal(await shown('ChatGPT'), 'Keep both for me to merge');
});

test('an unknown policy or namespace is refused and changes nothing', async () => {
  const policy = await vaultOp(env, { op: 'set-policy', namespace: 'chatgpt', policy: 'first-write-wins' });
  assert.match(policy.error ?? '', /^Not a conflict policy: first-write-wins/);
  // Claude is not enabled and holds no answer: not a namespace the page offers.
  const namespace = await vaultOp(env, { op: 'set-policy', namespace: 'claude', policy: 'user-merge' });
  assert.match(namespace.error ?? '', /^Not a namespace of the vault or of an enabled agent: claude/);
  assert.deepEqual(await policies(), [{ namespace: 'chatgpt', policy: 'user-merge' }]);
  // Once enabled, Claude shows up with the default: the refused message set nothing.
  await enableAgents(env, ['Claude']);
  assert.deepEqual(await policies(), [
    { namespace: 'chatgpt', policy: 'user-merge' },
    { namespace: 'claude', policy: 'last-write-wins' },
  ]);
});

test('locked: the page says to unlock from the toolbar and offers no choice', async () => {
  await page.reload();
  await select('Claude').waitFor();
  assert.equal((await vaultOp(env, { op: 'lock' })).view.unlocked, false);
  // The page still shows the choices it read before the lock: a change is refused, then the hint shows.
  await select('Claude').selectOption('user-merge');
  await page.getByRole('status').filter({ hasText: 'Unlock the vault' }).waitFor();
  await note().filter({ hasText: /Unlock the vault .* toolbar/ }).waitFor();
  assert.equal(await page.locator('select').count(), 0);

  await page.reload();
  await note().filter({ hasText: /Unlock the vault .* toolbar/ }).waitFor();
  assert.equal(await page.locator('select').count(), 0);
  assert.match((await vaultOp(env, { op: 'policies' })).error ?? '', /^Unlock the vault/);
  const refused = await vaultOp(env, { op: 'set-policy', namespace: 'claude', policy: 'user-merge' });
  assert.match(refused.error ?? '', /^Unlock the vault/);

  // Unlocked from the popup, whose closing focuses the page again: the choices come back.
  assert.equal((await vaultOp(env, { op: 'unlock', passphrase: PASSPHRASE })).error, undefined);
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  assert.equal(await shown('ChatGPT'), 'Keep both for me to merge');
  assert.equal(await shown('Claude'), 'Last write wins', 'nothing was set while locked');
  assert.equal(await note().isVisible(), false);
});
