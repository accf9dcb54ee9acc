// Adding a device from the recovery kit, through the popups of two browser profiles and a real
// relay: the kit shows after its warning (words and a QR code of them, stored nowhere); a mistyped
// kit and a weak passphrase are refused; the restored replica, under a passphrase of its own,
// syncs with the first both ways. Then the options page changes that device's passphrase.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import qrcode from 'qrcode-generator';
import { ensureBinaries, startRelay } from '../../../testkit/processes.mjs';
import {
  OTHER_PASSPHRASE,
  PASSPHRASE,
  answerShown,
  captures,
  enableAgents,
  launch,
  popup,
  send,
  sleep,
  until,
  url,
  vaultOp,
  waitCaptures,
  waitNoOverlay,
  waitOverlay,
} from './harness.mjs';

const UNLOCKED = 'Unlocked: your answers are saved to your vault.';
const NEW_PASSPHRASE = 'velvet orbit mango tundra';

let relay;
/** The first device (creates the vault) and the second (restores it from the kit). */
let first;
let second;
/** The recovery kit as the first device's popup showed it. */
let kit;

before(async () => {
  ensureBinaries();
  relay = await startRelay();
  first = await launch({ vault: false });
  second = await launch({ vault: false });
  await Promise.all([enableAgents(first, ['ChatGPT']), enableAgents(second, ['ChatGPT'])]);
});
after(async () => {
  await first?.close();
  await second?.close();
  await relay?.stop();
});

/** What every storage of the extension holds, as text: the session and local areas, IndexedDB. */
const storedText = (env) =>
  env.ext(async () => {
    const areas = JSON.stringify([await chrome.storage.local.get(null), await chrome.storage.session.get(null)]);
    const open = indexedDB.open('selfos');
    const db = await new Promise((resolve, reject) => {
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const values = await new Promise((resolve) => {
      const all = db.transaction('entries').objectStore('entries').getAll();
      all.onsuccess = () => resolve(all.result);
    });
    db.close();
    const bytes = values.map((v) => new TextDecoder('latin1').decode(v)).join('\n');
    return `${areas}\n${bytes}`;
  });

/** The number of entries in the extension's vault database (0 when there is none). */
const storedEntries = (env) =>
  env.ext(async () => {
    if (!(await indexedDB.databases()).some((d) => d.name === 'selfos')) return 0;
    const open = indexedDB.open('selfos');
    const db = await new Promise((resolve) => (open.onsuccess = () => resolve(open.result)));
    if (!db.objectStoreNames.contains('entries')) return db.close(), 0;
    const count = await new Promise((resolve) => {
      const c = db.transaction('entries').objectStore('entries').count();
      c.onsuccess = () => resolve(c.result);
    });
    db.close();
    return count;
  });

const wordsOf = (text) =>
  text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join(' ')
    .trim()
    .split(/\s+/);

/** Answers the card of a wait on a ChatGPT fixture page of `env`; resolves with the vault's record. */
async function answerOn(env, text) {
  const page = await env.context.newPage();
  try {
    await page.goto(url('chatgpt.com', 'net=0&end=manual'));
    const n = (await captures(env)).length;
    await send(page);
    const expected = await answerShown(page, await waitOverlay(page), text);
    await waitCaptures(env, n + 1);
    const last = (await vaultOp(env, { op: 'list' })).responses.at(-1);
    assert.deepEqual(last.answer, expected);
    await waitNoOverlay(page);
    await page.evaluate(() => window.finish());
    return last;
  } finally {
    await page.close();
  }
}

test('popup: a weak passphrase is refused with advice; the vault is created, and its kit shows after a warning, stored nowhere', async () => {
  const page = await popup(first);
  await page.getByText('No vault yet').waitFor();
  await page.locator('#create-pass').fill('password1');
  await page.locator('#create-again').fill('password1');
  await page.getByRole('button', { name: 'Create vault' }).click();
  const advice = page.getByRole('alert');
  await advice.filter({ hasText: 'too easy to guess' }).waitFor();
  assert.match(await advice.innerText(), /commonly used password[\s\S]*Add more words/);
  assert.doesNotMatch(await advice.innerText(), /password1/, 'the passphrase is never quoted');
  assert.equal((await vaultOp(first, { op: 'status' })).view.exists, false, 'nothing was created');

  await page.locator('#create-pass').fill(PASSPHRASE);
  await page.locator('#create-again').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Create vault' }).click();
  await page.getByText(UNLOCKED).waitFor({ timeout: 30_000 });
  assert.equal((await vaultOp(first, { op: 'relay', relay: relay.url })).error, undefined);

  // The words only after the warning, which says what they are.
  await page.getByRole('button', { name: 'Recovery kit…' }).click();
  await page.getByText(/the one secret of your vault[\s\S]*keep them offline[\s\S]*Never type them into a website/).waitFor();
  const shown = page.getByLabel("This vault's recovery kit");
  assert.equal(await shown.isVisible(), false);
  await page.getByRole('button', { name: 'Show the 24 words' }).click();
  // Shown once the worker answered, with the words already in.
  await shown.waitFor();
  kit = await shown.inputValue();
  assert.match(kit, /^# SelfOS recovery kit, format 2/);
  assert.equal(wordsOf(kit).length, 24);
  assert.equal(await shown.getAttribute('readonly'), '', 'read-only');
  // The QR code holds the words: the same code made here from them is the image shown.
  const qr = qrcode(0, 'M');
  qr.addData(wordsOf(kit).join(' ').toUpperCase(), 'Alphanumeric');
  qr.make();
  const src = await page.getByRole('img', { name: "QR code of the recovery kit's 24 words" }).getAttribute('src');
  assert.equal(src, `data:image/svg+xml,${encodeURIComponent(qr.createSvgTag({ cellSize: 4, margin: 2 }))}`);

  const stored = await storedText(first);
  for (const word of new Set(wordsOf(kit))) {
    assert.ok(!new RegExp(`\\b${word}\\b`).test(stored), 'a word of the kit is in no storage');
  }
  await page.getByRole('button', { name: 'Hide the words' }).click();
  assert.equal(await shown.inputValue(), '', 'hidden words leave the page');
  await page.close();
});

test('popup: a mistyped kit is refused and stores nothing; a weak passphrase is refused with advice', async () => {
  const page = await popup(second);
  await page.getByText('No vault yet').waitFor();
  const words = wordsOf(kit);
  const mistyped = [...words.slice(0, 4), `${words[4]}q`, ...words.slice(5)].join(' ');
  await page.getByLabel('Recovery kit (24 words)').fill(mistyped);
  await page.locator('#restore-pass').fill(OTHER_PASSPHRASE);
  await page.locator('#restore-again').fill(OTHER_PASSPHRASE);
  await page.locator('#restore-relay').fill(relay.url);
  await page.getByRole('button', { name: 'Restore' }).click();
  await page.getByRole('alert').filter({ hasText: 'The recovery kit was not accepted' }).waitFor({ timeout: 20_000 });
  assert.match(await page.getByRole('alert').innerText(), /word 5 .*not in its word list.*Nothing was stored/);
  assert.equal((await vaultOp(second, { op: 'status' })).view.exists, false);
  assert.equal(await storedEntries(second), 0, 'nothing stored');

  await page.getByLabel('Recovery kit (24 words)').fill(kit);
  await page.locator('#restore-pass').fill('letmein1');
  await page.locator('#restore-again').fill('letmein1');
  await page.getByRole('button', { name: 'Restore' }).click();
  const advice = page.getByRole('alert').filter({ hasText: 'too easy to guess' });
  await advice.waitFor();
  assert.match(await advice.innerText(), /Add more words/);
  assert.doesNotMatch(await advice.innerText(), /letmein1/);
  assert.equal(await storedEntries(second), 0);
  await page.close();
});

test("popup: restored on a second profile under its own passphrase; each device's answer reaches the other through the relay", async () => {
  const page = await popup(second);
  // Typed as a user copies it from paper: numbered, in capitals, without the comment line.
  const typed = wordsOf(kit)
    .map((w, i) => `${i + 1}. ${w.toUpperCase()}`)
    .join('\n');
  await page.getByLabel('Recovery kit (24 words)').fill(typed);
  await page.locator('#restore-pass').fill(OTHER_PASSPHRASE);
  await page.locator('#restore-again').fill(OTHER_PASSPHRASE);
  await page.locator('#restore-relay').fill(relay.url);
  await page.getByRole('button', { name: 'Restore' }).click();
  await page.getByText(UNLOCKED).waitFor({ timeout: 30_000 });
  assert.equal(await page.getByLabel('Recovery kit (24 words)').inputValue(), '', 'the form forgets the words');
  assert.equal((await vaultOp(second, { op: 'status' })).view.relay, relay.url, "the relay typed becomes this device's");
  await page.getByText('Relay: connected (1 other device online)').waitFor({ timeout: 20_000 });
  await page.close();

  const fromFirst = await answerOn(first, 'from the first device');
  await until(
    "the first device's answer on the second",
    async () => (await vaultOp(second, { op: 'list' })).responses.some((r) => r.id === fromFirst.id),
    30_000,
  );
  const fromSecond = await answerOn(second, 'from the second device');
  await until(
    "the second device's answer on the first",
    async () => (await vaultOp(first, { op: 'list' })).responses.some((r) => r.id === fromSecond.id),
    30_000,
  );
});

test('options: change the passphrase; a weak one is refused; the new one unlocks, the old one no longer does', async () => {
  const options = await second.context.newPage();
  await options.goto(`chrome-extension://${second.id}/options/options.html`);
  const status = options.getByRole('status');
  await options.getByLabel('New passphrase').fill('qwerty123');
  await options.locator('#new-again').fill('qwerty123');
  await options.getByRole('button', { name: 'Change passphrase' }).click();
  await status.filter({ hasText: 'too easy to guess' }).waitFor();
  assert.doesNotMatch(await status.innerText(), /qwerty123/);

  await options.getByLabel('New passphrase').fill(NEW_PASSPHRASE);
  await options.locator('#new-again').fill(NEW_PASSPHRASE);
  await options.getByRole('button', { name: 'Change passphrase' }).click();
  await status.filter({ hasText: 'Passphrase changed' }).waitFor({ timeout: 20_000 });

  // A worker the browser restarts resumes with the session key kept after the change.
  const cdp = await second.context.newCDPSession(options);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await sleep(300);
  assert.equal((await vaultOp(second, { op: 'status' })).view.unlocked, true, 'resumed after the change');
  await options.close();

  const page = await popup(second);
  await page.getByRole('button', { name: 'Lock' }).click();
  await page.getByText('Locked: nothing is saved until you unlock.').waitFor();
  await page.locator('#unlock-pass').fill(OTHER_PASSPHRASE);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong passphrase.' }).waitFor({ timeout: 20_000 });
  await page.locator('#unlock-pass').fill(NEW_PASSPHRASE);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByText(UNLOCKED).waitFor({ timeout: 20_000 });
  await page.close();
  // The first device keeps its own passphrase.
  await vaultOp(first, { op: 'lock' });
  assert.equal((await vaultOp(first, { op: 'unlock', passphrase: PASSPHRASE })).error, undefined);
});

test("popup: remove this browser's copy; restored again, the answers come back", async () => {
  const page = await popup(second);
  await page.getByText(UNLOCKED).waitFor();
  await page.getByText("Remove this browser's copy…").click();
  await page.getByText(/answers this browser has not synced yet are lost/).waitFor();
  await page.getByRole('button', { name: 'Remove it' }).click();
  await page.getByText('No vault yet').waitFor();
  assert.equal(await storedEntries(second), 0, 'the IndexedDB database is deleted');
  assert.equal((await vaultOp(second, { op: 'list' })).responses.length, 0);

  // The relay is set now: the form does not ask for it again.
  assert.equal(await page.locator('#restore-relay').isVisible(), false);
  await page.getByLabel('Recovery kit (24 words)').fill(kit);
  await page.locator('#restore-pass').fill(OTHER_PASSPHRASE);
  await page.locator('#restore-again').fill(OTHER_PASSPHRASE);
  await page.getByRole('button', { name: 'Restore' }).click();
  await page.getByText(UNLOCKED).waitFor({ timeout: 30_000 });
  await until('the answers again', async () => (await vaultOp(second, { op: 'list' })).responses.length >= 2, 30_000);
  await page.close();
});
