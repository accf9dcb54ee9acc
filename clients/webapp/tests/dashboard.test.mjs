// The dashboard end to end: a vault made with the CLI, a second CLI replica to make a conflict,
// the relay serving the built dashboard, and Chromium restoring it from the recovery kit as a
// third replica, under a passphrase of its own. Every check on the dashboard's writes is made on
// the CLI replica after a real sync.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import {
  BROWSER_PASSPHRASE,
  CHEAP_KDF,
  cli,
  cliJson,
  ensureBuilt,
  importHistory,
  inkPixels,
  kitWords,
  launchBrowser,
  recoveryKit,
  restoreCli,
  seriousViolations,
  startRelay,
  storedEntriesOf,
  submitRestore,
  tempDir,
} from './harness.mjs';

const VIEWS = ['graph', 'alignment', 'conflicts', 'answers', 'exports', 'devices'];

let relay;
let browser;
let root;
/** What the page reported that a test should fail on (errors, CSP violations). */
const pageProblems = [];
let page;
let laptop; // the CLI replica the dashboard syncs with
let kit;
let conflictId;
let doomedId;

/** Syncs the laptop with the dashboard (which stays connected) until nothing moves. */
const syncLaptop = () => cli(laptop, 'sync', '--relay', relay.url, '--peer-wait', '10');

async function show(view) {
  await page.goto(`${relay.origin}/#/${view}`);
  await page.locator(`main[data-view="${view}"]`).waitFor();
}

before(async () => {
  ensureBuilt();
  relay = await startRelay();
  browser = await launchBrowser();
  root = await tempDir('selfos-webapp-');
});

after(async () => {
  await browser?.close();
  await relay?.stop();
  await root?.remove();
  assert.deepEqual(pageProblems, []);
});

test('a vault made with the CLI, with a pending conflict', async () => {
  laptop = `${root.dir}/laptop`;
  const phone = `${root.dir}/phone`;
  await cli(laptop, 'init', ...CHEAP_KDF);
  await importHistory(laptop);
  conflictId = (await cli(laptop, 'record', '--agent', 'chatgpt', '--card', 'intent.goal', '--answer', 'learn lifetimes')).trim();
  doomedId = (await cli(laptop, 'record', '--agent', 'claude', '--card', 'intent.include', '--answer', 'delete me please')).trim();
  await cli(laptop, 'policy', 'chatgpt', 'user-merge');
  kit = await recoveryKit(laptop);

  // Two replicas change the same answer without seeing each other, then meet.
  await restoreCli(phone, kit);
  await cli(phone, 'merge-from', laptop);
  await cli(laptop, 'edit', conflictId, '--answer', 'version from the laptop');
  await cli(phone, 'edit', conflictId, '--answer', 'version from the phone');
  await cli(laptop, 'merge-from', phone);
  const conflicts = await cliJson(laptop, 'conflicts');
  assert.equal(conflicts.length, 1);
  assert.equal(conflicts[0].values.length, 2);
});

/** How many entries the dashboard's database holds (0 when it has none). */
const storedEntries = () => storedEntriesOf(page);

test('restores from the recovery kit under its own passphrase, then receives the CLI answers', async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (/Content Security Policy/.test(message.text())) pageProblems.push(message.text());
  });
  await page.goto(`${relay.origin}/`);
  await page.getByRole('heading', { name: 'Add this browser to your vault' }).waitFor();
  assert.deepEqual(await seriousViolations(page), [], 'restore screen');

  // A weak passphrase: refused before anything reaches the vault, with advice, never quoted.
  await submitRestore(page, kit, 'password1');
  const advice = page.locator('[data-passphrase-problem]');
  await advice.waitFor();
  assert.match(await advice.innerText(), /too easy to guess[\s\S]*Add more words/);
  assert.doesNotMatch(await advice.innerText(), /password1/);
  assert.equal(await storedEntries(), 0);

  // A mistyped word: the error names its code and says what it means; nothing is stored.
  const words = kitWords(kit);
  await submitRestore(page, [...words.slice(0, 4), `${words[4]}q`, ...words.slice(5)].join(' '));
  const refused = page.locator('[data-error-code]');
  await refused.waitFor();
  assert.equal(await refused.getAttribute('data-error-code'), 'invalid');
  assert.match(await refused.innerText(), /check the recovery kit[\s\S]*word 5/);
  assert.equal(await storedEntries(), 0, 'a mistyped kit stores nothing');

  assert.match(await page.locator('form').innerText(), new RegExp(`this page's server, ${relay.url.replaceAll('.', '\\.')}`));
  await submitRestore(page, kit);
  await page.locator('[data-sync="joined"]').waitFor({ timeout: 30_000 });
  assert.ok((await storedEntries()) > 0);

  await syncLaptop();
  const expected = (await cliJson(laptop, 'list')).length;
  await show('answers');
  await page.waitForFunction(
    (n) => document.querySelector('main')?.innerText.includes(`${n} of ${n} answers`),
    expected,
    { timeout: 15_000 },
  );
});

test('the graph renders every node, and a node shows the answers behind it', async () => {
  const graph = await cliJson(laptop, 'graph');
  const n = graph.nodes.length;
  await show('graph');
  const canvas = page.locator(`.graph-canvas[data-renderer="svg"][data-nodes="${n}"]`);
  await canvas.waitFor();
  assert.equal(await page.locator('circle.graph-node').count(), n);
  assert.equal(await page.locator('.graph-links line').count(), graph.links.length);
  await page.locator('.graph-canvas[data-settled="true"]').waitFor({ timeout: 30_000 });

  // Not blank: many pixels differ from the background, and an empty panel has none.
  const png = await canvas.screenshot();
  const { ink, total } = await inkPixels(page, png);
  assert.ok(ink > 1_000, `only ${ink} of ${total} pixels drawn`);

  // The zoom buttons: zoomed in, the view is the user's; Fit brings the fitted view back.
  const layer = canvas.locator('svg > g');
  const fitted = await layer.getAttribute('transform');
  await page.getByRole('button', { name: 'Zoom in' }).click();
  assert.notEqual(await layer.getAttribute('transform'), fitted);
  await page.getByRole('button', { name: 'Fit' }).click();
  assert.equal(await layer.getAttribute('transform'), fitted);

  // Kind filter: without topics, only the other kinds remain.
  await page.getByRole('checkbox', { name: 'Topics' }).uncheck();
  const withoutTopics = graph.nodes.filter((node) => node.kind !== 'topic').length;
  await page.locator(`.graph-canvas[data-nodes="${withoutTopics}"]`).waitFor();
  await page.getByRole('checkbox', { name: 'Topics' }).check();
  await canvas.waitFor();

  // An agent chosen from the list (the keyboard route): every answered response for it.
  const listed = await cliJson(laptop, 'list');
  const claude = listed.filter((r) => r.agent === 'claude' && r.status === 'answered');
  await page.locator('[data-node-id="agent:claude"]').press('Enter');
  await page.locator('[data-selected="agent:claude"]').waitFor();
  assert.equal(await page.locator('.answers-behind li').count(), claude.length);

  // A topic clicked on the graph itself.
  await page.locator('circle[data-id="topic:rust"]').click({ force: true });
  await page.locator('[data-selected="topic:rust"]').waitFor();
  const texts = await page.locator('.answers-behind li').allInnerTexts();
  assert.ok(texts.length >= 2, `${texts.length} answers behind topic:rust`);
  assert.ok(texts.every((s) => /rust/i.test(s)), texts.join(' | '));
});

test('alignment shows the CLI totals, and its series add up to them', async () => {
  const { chatgpt } = await cliJson(laptop, 'metrics');
  await show('alignment');
  await page.getByLabel('Agent', { exact: true }).selectOption('chatgpt');
  const totals = page.locator('.totals');
  await totals.getByText(chatgpt.rating_mean.toFixed(2), { exact: true }).waitFor();
  await totals.getByText(`${Math.round(chatgpt.intent_agreement * 100)}%`, { exact: true }).first().waitFor();
  await page.getByLabel('Per', { exact: true }).selectOption('week');
  const charts = page.locator('figure.chart');
  assert.equal(await charts.locator('svg').count(), 3);
  // Six weeks of imported ratings.
  assert.ok((await charts.first().locator('circle.chart-dot').count()) >= 6);
  // The per-week counts (the graph crate's series, run in the page's WASM) sum to the totals
  // (the graph crate's metrics, run by the CLI on the laptop's replica).
  const columnSum = (chart) =>
    chart.evaluate((figure) =>
      [...figure.querySelectorAll('tbody tr')].reduce((sum, row) => sum + Number(row.cells[2].textContent), 0),
    );
  assert.equal(await columnSum(charts.nth(0)), chatgpt.ratings);
  assert.equal(await columnSum(charts.nth(1)), chatgpt.intent_followups);
  assert.equal(await columnSum(charts.nth(2)), chatgpt.preference_ratings);
});

test('a conflict resolved in the dashboard is resolved on the CLI replica', async () => {
  await show('conflicts');
  const card = page.locator(`[data-conflict="${conflictId}"]`);
  await card.waitFor();
  assert.equal(await page.locator('select[data-namespace="chatgpt"]').inputValue(), 'user-merge');
  await card.getByRole('radio', { name: /version from the phone/ }).check();
  await card.getByRole('button', { name: 'Keep this version' }).click();
  await page.getByText('No conflicts').waitFor();

  await syncLaptop();
  assert.deepEqual(await cliJson(laptop, 'conflicts'), []);
  const resolved = (await cliJson(laptop, 'list')).find((r) => r.id === conflictId);
  assert.deepEqual(resolved.answer, { type: 'text', value: 'version from the phone' });
});

test('an answer shows the prompt excerpt it was recorded with, and search finds it by it', async () => {
  await show('answers');
  await page.getByLabel('Search').fill('how do indexes work');
  const rows = page.locator('li.answer');
  await rows.first().getByText('Asked: “how do indexes work in sql”').waitFor();
  for (const text of await rows.allInnerTexts()) assert.match(text, /indexes/);
  await page.getByLabel('Search').fill('');
});

test('the agent filter lists every agent once and shows only the chosen one', async () => {
  const listed = await cliJson(laptop, 'list');
  const agents = [...new Set(listed.map((r) => r.agent))].sort();
  await show('answers');
  const picker = page.getByLabel('Agent', { exact: true });
  assert.deepEqual(await picker.locator('option').allTextContents(), ['All agents', ...agents]);
  await picker.selectOption('claude');
  const claude = listed.filter((r) => r.agent === 'claude').length;
  await page.getByText(`${claude} of ${listed.length} answers`).waitFor();
  for (const text of await page.locator('li.answer').allInnerTexts()) assert.match(text, /^claude · /m);
  await picker.selectOption('');
});

test('an answer deleted in the dashboard is gone on the CLI replica', async () => {
  await show('answers');
  await page.getByLabel('Search').fill('delete me please');
  const item = page.locator(`[data-answer-id="${doomedId}"]`);
  await item.getByRole('button', { name: /Delete/ }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  const warning = await dialog.innerText();
  assert.match(warning, /syncs to every device/);
  assert.match(warning, /No stored byte of its text remains/);
  await dialog.getByRole('button', { name: 'Delete for good' }).click();
  await page.locator('[data-outcome="deleted"]').waitFor();
  await item.waitFor({ state: 'detached' });

  assert.ok((await cliJson(laptop, 'list')).some((r) => r.id === doomedId));
  await syncLaptop();
  assert.ok(!(await cliJson(laptop, 'list')).some((r) => r.id === doomedId));
});

test('every export downloads and holds what it should', async () => {
  const listed = await cliJson(laptop, 'list');
  const graph = await cliJson(laptop, 'graph');
  await show('exports');
  const download = async (scope) => {
    const [file] = await Promise.all([page.waitForEvent('download'), scope.getByRole('button', { name: /Download/ }).click()]);
    return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') };
  };

  const json = await download(page.locator('[data-export="json"]'));
  assert.match(json.name, /^selfos-export-.*\.json$/);
  const exported = JSON.parse(json.text);
  assert.equal(exported.format, 'selfos-export');
  assert.deepEqual(exported.responses.map((r) => r.id).sort(), listed.map((r) => r.id).sort());

  const markdown = await download(page.locator('[data-export="markdown"]'));
  assert.match(markdown.name, /\.md$/);
  for (const r of listed.filter((r) => r.answer?.type === 'text')) assert.ok(markdown.text.includes(r.answer.value), r.answer.value);
  assert.ok(!markdown.text.includes('delete me please'));

  const embeddings = JSON.parse((await download(page.locator('[data-export="embeddings"]'))).text);
  assert.equal(embeddings.length, graph.nodes.length);
  assert.ok(embeddings.every((e) => e.vector.length === 16 && e.vector.every(Number.isFinite)));

  for (const target of ['chat-gpt', 'claude', 'generic']) {
    const panel = page.locator(`[data-snippet="${target}"]`);
    const fields = panel.locator('[data-field]');
    await fields.first().waitFor();
    let written = 0;
    for (const field of await fields.all()) {
      const [count, limit] = [Number(await field.getAttribute('data-characters')), Number(await field.getAttribute('data-limit'))];
      assert.ok(count <= limit, `${target}: ${count} > ${limit}`);
      written += count;
    }
    assert.ok(written > 0, `${target}: empty snippet`);
    const file = await download(panel.locator(':scope > div').first());
    for (const area of await panel.locator('textarea').all()) assert.ok(file.text.includes(await area.inputValue()));
  }
});

test('devices lists this replica and the CLI replica it met, by name; a rename on either side reaches the other', async () => {
  await show('devices');
  assert.match(await page.locator('[data-replica]').innerText(), /^[0-9a-f]{8,}$/);
  const peers = page.locator('tr[data-peer]');
  await peers.first().waitFor();
  // The CLI left after each sync: seen, not present.
  assert.equal(await peers.first().getAttribute('data-present'), 'false');
  // This replica named itself after the browser.
  const own = page.getByLabel('Name', { exact: true });
  assert.equal(await own.getAttribute('data-this-device-name'), 'Chrome on Linux (dashboard)');

  // Renamed on the CLI: the dashboard shows the new name once they sync.
  await cli(laptop, 'devices', '--name', 'study laptop');
  const cliReplica = (await cliJson(laptop, 'devices')).find((d) => d.this_device).replica;
  await syncLaptop();
  await page.locator(`tr[data-peer="${cliReplica}"] [data-device-name]`).getByText('study laptop').waitFor();

  // Renamed here: the CLI lists the new name after its next sync.
  await own.fill('browser in the hall');
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.locator('[data-this-device-name="browser in the hall"]').waitFor();
  await syncLaptop();
  const replica = await page.locator('[data-replica]').innerText();
  assert.ok((await cliJson(laptop, 'devices')).some((d) => d.replica === replica && d.name === 'browser in the hall'));
});

test('no serious or critical accessibility violation on any view, light or dark', async () => {
  for (const theme of ['light', 'dark']) {
    for (const view of VIEWS) {
      await show(view);
      await page.getByLabel('Theme').selectOption(theme);
      await page.waitForFunction(() => !document.querySelector('main progress:not([value])'));
      assert.equal(await page.evaluate(() => document.documentElement.classList.contains('dark')), theme === 'dark');
      assert.deepEqual(await seriousViolations(page), [], `${view} (${theme})`);
    }
  }
});

test('after a reload, the stored replica unlocks; a wrong passphrase is explained', async () => {
  await unlockAfterReload('not the passphrase', 'wrong-passphrase');
  await unlockAfterReload(BROWSER_PASSPHRASE);
  const expected = (await cliJson(laptop, 'list')).length;
  await show('answers');
  await page.getByText(`${expected} of ${expected} answers`).waitFor();
});

/** Reloads, then unlocks with `passphrase`: refused with `code`, or unlocked and synced. */
async function unlockAfterReload(passphrase, code) {
  if (!(await page.getByRole('heading', { name: "Unlock this browser's replica" }).isVisible())) {
    await page.reload();
    await page.getByRole('heading', { name: "Unlock this browser's replica" }).waitFor();
  }
  await page.getByLabel('Passphrase').fill(passphrase);
  await page.getByRole('button', { name: 'Unlock' }).click();
  if (code) {
    const error = page.locator(`[data-error-code="${code}"]`);
    await error.waitFor();
    if (code === 'wrong-passphrase') assert.match(await error.innerText(), /does not open this vault/);
  } else {
    await page.locator('[data-sync="joined"]').waitFor();
  }
}

test("devices: the recovery kit after a warning, the vault's own, with its QR code", async () => {
  await show('devices');
  await page.getByRole('button', { name: 'Recovery kit…' }).click();
  await page.getByText(/the one secret of your vault[\s\S]*keep them offline[\s\S]*Never type them into a website/).waitFor();
  assert.equal(await page.getByLabel("This vault's recovery kit").count(), 0, 'no words before the confirmation');
  await page.getByRole('button', { name: 'Show the 24 words' }).click();
  const words = page.getByLabel("This vault's recovery kit");
  assert.equal(await words.inputValue(), kit, "the CLI's kit: one vault secret");
  assert.equal(await words.getAttribute('readonly'), '');
  const qr = page.getByRole('img', { name: "QR code of the recovery kit's 24 words" });
  assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml,/);
  assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code draws');
  await page.getByRole('button', { name: 'Hide the words' }).click();
  assert.equal(await page.getByLabel("This vault's recovery kit").count(), 0);
});

test("devices: this browser's passphrase changes; a weak one is refused; the old one no longer unlocks", async () => {
  const NEW = 'velvet orbit mango tundra';
  await show('devices');
  const fill = async (passphrase) => {
    await page.getByLabel('New passphrase', { exact: true }).fill(passphrase);
    await page.getByLabel('New passphrase, again').fill(passphrase);
    await page.getByRole('button', { name: 'Change passphrase' }).click();
  };
  await fill('qwerty123');
  const advice = page.locator('[data-passphrase-problem]');
  await advice.waitFor();
  assert.match(await advice.innerText(), /too easy to guess/);
  await fill(NEW);
  await page.getByRole('status').filter({ hasText: 'Passphrase changed' }).waitFor({ timeout: 20_000 });

  await unlockAfterReload(BROWSER_PASSPHRASE, 'wrong-passphrase');
  await unlockAfterReload(NEW);
  // The CLI replicas keep theirs: the laptop still syncs with this browser.
  await syncLaptop();
});

/** The files of the format-1 vault fixture, as IndexedDB entries (keys mirror the folder). */
function format1Entries() {
  const root = fileURLToPath(new URL('../../../crates/selfos-vault/tests/data/v1_vault', import.meta.url));
  const walk = (dir) =>
    readdirSync(dir).flatMap((name) => {
      const file = path.join(dir, name);
      return statSync(file).isDirectory() ? walk(file) : [file];
    });
  return walk(root).map((file) => ({ key: path.relative(root, file).split(path.sep).join('/'), bytes: [...readFileSync(file)] }));
}

test('a replica stored in format 1 is explained on unlock, with an export to carry its answers over', async () => {
  const context = await browser.newContext();
  const old = await context.newPage();
  await old.goto(`${relay.origin}/`);
  await old.evaluate(async (entries) => {
    const open = indexedDB.open('selfos-dashboard');
    open.onupgradeneeded = () => open.result.createObjectStore('entries');
    const db = await new Promise((resolve) => (open.onsuccess = () => resolve(open.result)));
    const tx = db.transaction('entries', 'readwrite');
    for (const { key, bytes } of entries) tx.objectStore('entries').put(new Uint8Array(bytes), key);
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
  }, format1Entries());
  await old.reload();
  await old.getByRole('heading', { name: "Unlock this browser's replica" }).waitFor();
  assert.equal(await old.getByRole('button', { name: 'Export answers' }).count(), 0);
  await old.getByLabel('Passphrase').fill('format one passphrase');
  await old.getByRole('button', { name: 'Unlock' }).click();
  const error = old.locator('[data-error-code="old-format"]');
  await error.waitFor();
  assert.match(await error.innerText(), /old format[\s\S]*Export its answers[\s\S]*import/);
  await old.getByRole('button', { name: 'Export answers' }).waitFor();
  await context.close();
});
