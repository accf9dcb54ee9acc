// What the overlay calls saved is on disk: the browser killed the moment the overlay marks an
// answer saved, then reopened on the same profile, still has it in the vault.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PASSPHRASE,
  answerShown,
  enableAgents,
  launch,
  send,
  url,
  vaultOp,
  waitOverlay,
} from './harness.mjs';

test('an answer the overlay calls saved survives the browser killed right after', async () => {
  const first = await launch();
  let expected;
  try {
    await enableAgents(first, ['ChatGPT']);
    const page = await first.context.newPage();
    await page.goto(url('chatgpt.com', 'net=0&end=manual'));
    await send(page);
    const frame = await waitOverlay(page);
    expected = await answerShown(page, frame, 'kept through a crash');
    await frame.locator('main[data-saved="true"]').waitFor({ state: 'attached' });
  } finally {
    await first.kill();
  }

  const second = await launch({ vault: false, dir: first.dir });
  try {
    // The session key lived in memory only: the vault opens locked, and the passphrase unlocks it.
    const { view } = await vaultOp(second, { op: 'status' });
    assert.deepEqual([view.exists, view.unlocked], [true, false]);
    const unlocked = await vaultOp(second, { op: 'unlock', passphrase: PASSPHRASE });
    assert.equal(unlocked.error, undefined, `unlocking: ${unlocked.error}`);
    const { responses } = await vaultOp(second, { op: 'list' });
    assert.deepEqual(
      responses.map((r) => [r.agent, r.status, r.answer]),
      [['chatgpt', 'answered', expected]],
    );
  } finally {
    await second.close();
  }
});
