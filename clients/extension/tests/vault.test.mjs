// The vault in the worker: an answer is recorded in it under its agent; while it is locked nothing
// is recorded and the overlay says how to unlock; with the relay down answers commit locally
// (the badge counts them) and reach a CLI replica, restored from the options page's recovery kit,
// once the relay is back.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { ensureBinaries, runCli, startRelay } from '../../../testkit/processes.mjs';
import {
  CHEAP_KDF_ARGS,
  PASSPHRASE,
  answerShown,
  captures,
  env,
  keys,
  onPage,
  send,
  shownCard,
  sleep,
  until,
  url,
  useExtension,
  vaultOp,
  waitCaptures,
  waitNoOverlay,
  waitOverlay,
} from './harness.mjs';

before(ensureBinaries);
useExtension({ agents: ['ChatGPT'] });

/** Runs `f(page)` on a ChatGPT fixture page whose replies end when the test says so. */
const onChatGpt = (f) => onPage('chatgpt.com', 'net=0&end=manual', f);

/**
 * Answers the trainer's card on a ChatGPT fixture page (with `text` if it takes words) and returns
 * the vault's record of it, read back through the WASM API.
 */
const answer = (text) =>
  onChatGpt(async (page) => {
    const n = (await captures(env)).length;
    await send(page);
    const expected = await answerShown(page, await waitOverlay(page), text);
    await waitCaptures(env, n + 1);
    const { responses } = await vaultOp(env, { op: 'list' });
    const last = responses.at(-1);
    assert.deepEqual(last.answer, expected);
    await waitNoOverlay(page);
    await page.evaluate(() => window.finish());
    return last;
  });

const badge = () => env.ext(() => chrome.action.getBadgeText({}));

test('an answer is recorded in the vault under its agent', async () => {
  const last = await answer('jargon');
  assert.equal(last.namespace, 'chatgpt');
  assert.ok(last.id.startsWith('chatgpt/'), last.id);
  const { view } = await vaultOp(env, { op: 'status' });
  assert.equal(view.unlocked, true);
  assert.ok(view.today >= 1, `today ${view.today}`);
});

test('the next card is picked ahead while the vault is still, never from before the last answer', async () => {
  /** Whether the worker's latest card was picked ahead (its `selfos:card-picked` mark). */
  const pickedAhead = () =>
    env.context.serviceWorkers()[0].evaluate(() => performance.getEntriesByName('selfos:card-picked')[0]?.detail.ahead);
  await onChatGpt(async (page) => {
    const waitFor = async () => {
      await send(page);
      const frame = await waitOverlay(page);
      return { frame, card: await shownCard(frame) };
    };
    const { frame, card: answered } = await waitFor();
    // Long enough for the next card to be picked ahead, from a history without this answer:
    // that pick would be this very card again.
    await sleep(2500);
    await answerShown(page, frame, 'ahead');
    await waitNoOverlay(page);
    await page.evaluate(() => window.finish());
    await sleep(400);
    const { card: next } = await waitFor();
    assert.notEqual(next.id, answered.id, 'a card picked before the answer was shown after it');
    await keys(page, '', 'Escape');
    await waitNoOverlay(page);
    await page.evaluate(() => window.finish());
    // Once the vault has been still for a moment, the next card is ready before the AI starts.
    await sleep(2500);
    const { card: ready } = await waitFor();
    assert.equal(await pickedAhead(), true);
    assert.ok(![answered.id, next.id].includes(ready.id), `${ready.id} again`);
    await keys(page, '', 'Escape');
    await waitNoOverlay(page);
    await page.evaluate(() => window.finish());
  });
});

test('locked: the overlay says how to unlock, nothing is recorded; unlock records again', async () => {
  const before = (await captures(env)).length;
  const locked = await vaultOp(env, { op: 'lock' });
  assert.equal(locked.view.unlocked, false);
  assert.equal(locked.view.exists, true);
  assert.equal(
    await env.ext(async () => (await chrome.storage.session.get('vault_session')).vault_session),
    undefined,
    'locking drops the session key',
  );
  await onChatGpt(async (page) => {
    await send(page);
    const frame = await until('the unlock hint', async () => {
      for (const f of page.frames().filter((f) => f.url().endsWith('/overlay/frame.html'))) {
        if (await f.locator('main[data-locked]:not([hidden])').count().catch(() => 0)) return f;
      }
      return undefined;
    }, 5000);
    assert.match(await frame.locator('main').innerText(), /locked[\s\S]*toolbar[\s\S]*passphrase/i);
    await keys(page, '', 'Escape');
    await waitNoOverlay(page);
    await page.evaluate(() => window.finish());
  });
  const wrong = await vaultOp(env, { op: 'unlock', passphrase: 'not it' });
  assert.equal(wrong.error, 'Wrong passphrase.');
  const ok = await vaultOp(env, { op: 'unlock', passphrase: PASSPHRASE });
  assert.equal(ok.error, undefined);
  assert.equal(ok.view.unlocked, true);
  assert.equal((await captures(env)).length, before, 'nothing was recorded while locked');
  await answer('filler');
});

test('paused: no overlay for the pause, then cards again', async () => {
  const paused = await vaultOp(env, { op: 'pause', ms: 60 * 60 * 1000 });
  assert.ok(paused.view.pausedUntil > Date.now());
  const before = (await captures(env)).length;
  await onChatGpt(async (page) => {
    // Not even a flash: the page's own observer would see the overlay's host become visible.
    await page.evaluate(() => {
      window.overlaySeen = 0;
      new MutationObserver(() => {
        if (document.querySelector('selfos-overlay')?.checkVisibility()) window.overlaySeen++;
      }).observe(document.documentElement, { subtree: true, childList: true, attributes: true });
    });
    await send(page);
    await sleep(1000);
    assert.equal(await page.evaluate(() => window.overlaySeen), 0, 'the overlay showed while paused');
    await page.evaluate(() => window.finish());
    await sleep(400);
    assert.equal((await captures(env)).length, before);
    // Resumed from the popup while this page is open: its next wait has a card again.
    const resumed = await vaultOp(env, { op: 'pause', ms: 0 });
    assert.equal(resumed.view.pausedUntil, 0);
    await send(page);
    await waitOverlay(page);
    assert.ok((await page.evaluate(() => window.overlaySeen)) > 0, "the page's observer sees the overlay");
    await keys(page, '', 'Escape');
    await waitNoOverlay(page);
    await page.evaluate(() => window.finish());
  });
});

test('popup: today\'s answers, lock, unlock with the passphrase', async () => {
  const page = await env.context.newPage();
  try {
    await page.goto(`chrome-extension://${env.id}/popup/popup.html`);
    await page.getByText('Unlocked: your answers are saved to your vault.').waitFor();
    const today = (await vaultOp(env, { op: 'status' })).view.today;
    assert.ok(today >= 1);
    await page.getByText(`Answered today: ${today}`).waitFor();
    await page.getByRole('button', { name: 'Lock' }).click();
    await page.getByText('Locked: nothing is saved until you unlock.').waitFor();
    await page.locator('#unlock-pass').fill('not it');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong passphrase.' }).waitFor();
    await page.locator('#unlock-pass').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText('Unlocked: your answers are saved to your vault.').waitFor();
    await page.getByRole('button', { name: 'Pause for an hour' }).click();
    await page.getByRole('button', { name: 'Resume now' }).click();
    await page.getByRole('button', { name: 'Pause for an hour' }).waitFor();
  } finally {
    await page.close();
  }
});

test('a restarted worker resumes the vault without the passphrase', async () => {
  const page = await env.context.newPage();
  try {
    await page.goto(`chrome-extension://${env.id}/popup/popup.html`);
    const [worker] = env.context.serviceWorkers();
    await worker.evaluate(() => {
      self.beforeRestart = true;
    });
    const cdp = await env.context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await sleep(300);
    const { view } = await vaultOp(env, { op: 'status' });
    assert.equal(view.unlocked, true, 'resumed from the session key');
    const [restarted] = env.context.serviceWorkers();
    assert.equal(await restarted.evaluate(() => self.beforeRestart), undefined, 'the worker did restart');
  } finally {
    await page.close();
  }
  await answer('after a restart');
});

/** A port nothing listens on, for a relay that is down and comes up there later. */
async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

test('relay down: answers commit locally, the badge counts them; relay up: a CLI replica gets them', async (t) => {
  const port = await freePort();
  const relayUrl = `ws://127.0.0.1:${port}`;
  // Set in the options page, as a user does.
  const options = await env.context.newPage();
  await options.goto(`chrome-extension://${env.id}/options/options.html`);
  await options.getByLabel('Relay address').fill(relayUrl);
  await options.getByRole('button', { name: 'Save relay' }).click();
  await options.getByRole('status').filter({ hasText: `Relay set to ${relayUrl}.` }).waitFor();
  assert.equal((await vaultOp(env, { op: 'status' })).view.relay, relayUrl);
  // The options page shows the recovery kit (the same the popup shows), after its warning.
  await options.getByRole('button', { name: 'Recovery kit…' }).click();
  await options.getByText(/one secret of your vault/).waitFor();
  await options.getByRole('button', { name: 'Show the 24 words' }).click();
  const shown = options.getByLabel("This vault's recovery kit");
  await shown.waitFor();
  const kit = await shown.inputValue();
  assert.equal(kit, (await vaultOp(env, { op: 'recovery-kit' })).recoveryKit);
  await options.close();

  const offline = await answer('while offline');
  assert.notEqual((await vaultOp(env, { op: 'status' })).view.sync.status, 'joined');
  await until('the badge to count the unsynced write', async () => Number(await badge()) >= 1);

  const relay = await startRelay({ listen: `127.0.0.1:${port}` });
  t.after(() => relay.stop());
  await until('the worker to join the relay', async () => (await vaultOp(env, { op: 'status' })).view.sync.status === 'joined');

  const dir = await mkdtemp(join(tmpdir(), 'selfos-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const kitFile = join(dir, 'kit.txt');
  await writeFile(kitFile, kit);
  await runCli(PASSPHRASE, join(dir, 'vault'), 'join', '--recovery-kit', kitFile, ...CHEAP_KDF_ARGS);
  const found = await until('the answer on the CLI replica', async () => {
    await runCli(PASSPHRASE, join(dir, 'vault'), 'sync', '--relay', relay.url);
    const cli = JSON.parse(await runCli(PASSPHRASE, join(dir, 'vault'), '--json', 'list'));
    return cli.find((r) => r.id === offline.id);
  }, 60_000);
  assert.deepEqual(found.answer, offline.answer);
  assert.equal(found.namespace, 'chatgpt');
  assert.equal(found.origin, 'https://chatgpt.com');
  // Another device now holds everything: nothing left to count.
  await until('the badge to clear', async () => (await badge()) === '');
});
