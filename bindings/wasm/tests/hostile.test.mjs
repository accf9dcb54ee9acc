// A device that holds the vault's keys but breaks the engine's rules, against a browser device:
// its clock a year ahead, then crafted envelopes (too many parts, a message past 128 MiB, a
// count at u64::MAX, no message inside, a broken seal). Each costs that device's message only:
// the browser reports it, and goes on syncing with the honest CLI through the same relay.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';

import { HOSTILE_BIN } from '../../../testkit/processes.mjs';
import { CHEAP_KDF, PASSPHRASE, cli, cliFromKit, content, devicePage, startRelay, useBrowser } from './harness.mjs';

useBrowser();

const DAY_MS = 24 * 60 * 60 * 1000;

/** `selfos-hostile` on the vault in `dir`: resolves once it is in the room. `lines` holds what it
 * printed; `next(prefix)` resolves with the next line that starts with `prefix`. */
async function startHostile(t, dir, relayUrl) {
  const child = spawn(HOSTILE_BIN, ['--vault', dir, '--relay', relayUrl], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, SELFOS_PASSPHRASE: PASSPHRASE },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  const lines = [];
  const waiting = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const w of waiting.splice(0)) w();
  });
  const next = async (prefix, from = 0) => {
    for (;;) {
      const found = lines.slice(from).find((l) => l.startsWith(prefix));
      if (found !== undefined) return found;
      await Promise.race([
        new Promise((resolve) => waiting.push(resolve)),
        exited.then((code) => {
          throw new Error(`selfos-hostile exited (${code}) before printing "${prefix}"`);
        }),
      ]);
    }
  };
  await next('joined');
  return { lines, next, send: (line) => child.stdin.write(`${line}\n`), end: () => child.stdin.end(), exited };
}

test('a device a year ahead and its crafted envelopes cost it its messages only; the browser syncs on', async (t) => {
  // The relay's own rate limit would close the hostile device's connection before its 128 MiB
  // message is through (64 MiB at once): raised here, so that the browser's bound is what is
  // tested.
  const relay = await startRelay(undefined, ['--rate-bytes-burst', String(256 * 1024 * 1024)]);
  t.after(relay.kill);
  const page = await devicePage(t);
  const kit = await page.evaluate(
    async ({ passphrase, kdf, relayUrl }) => {
      const client = await selfos.SelfosClient.create({ dbName: 'device', passphrase, kdf });
      globalThis.warnings = [];
      client.addEventListener('warning', (e) => globalThis.warnings.push(e.detail.message));
      await testing.adopt(client, relayUrl);
      return client.recoveryKit();
    },
    { passphrase: PASSPHRASE, kdf: CHEAP_KDF, relayUrl: relay.url },
  );
  const [honest, rogue] = [await cliFromKit(t, kit), await cliFromKit(t, kit)];
  const hostile = await startHostile(t, rogue, relay.url);

  // The answer from a year ahead is a well-formed write: it arrives, with its stamp...
  const ahead = await page.evaluate(async () => {
    const find = async (c) => (await c.list()).responses.find((r) => r.origin === 'hostile');
    await testing.until(client, find);
    return find(client);
  });
  assert.equal(ahead.answer.value, 'from a year ahead');
  assert.ok(ahead.updated.wall_ms > Date.now() + 300 * DAY_MS, JSON.stringify(ahead.updated));
  // ...but does not drag the browser's clock: its next write is stamped now, and its edit of
  // that answer wins, as an edit made after it.
  const [own, edited] = await page.evaluate(
    async ([c, id]) => [await client.record('gemini', c), await client.edit(id, { type: 'text', value: 'edited here' })],
    [content('gemini', 'written after the answer from ahead'), ahead.id],
  );
  assert.ok(own.updated.wall_ms < Date.now() + DAY_MS, JSON.stringify(own.updated));
  assert.equal(edited.answer.value, 'edited here');
  assert.equal(edited.conflicted, false);

  const sent = hostile.lines.length;
  hostile.send('attack');
  for (const name of ['too-many-parts', 'too-long', 'count-at-u64-max', 'not-a-message', 'forged']) {
    await hostile.next(`attacked ${name}`, sent);
  }
  const refusals = [
    /a message in 1025 fragments: over the limit of 1024/,
    /a message over the limit of 134217728 bytes/,
    /the vault refused the message \(damaged\)/,
    /malformed envelope/,
    /forged or damaged envelope/,
  ];
  const warnings = await page.evaluate(async (patterns) => {
    const all = () => patterns.every((p) => globalThis.warnings.some((w) => new RegExp(p).test(w)));
    await testing.poll(all);
    return globalThis.warnings;
  }, refusals.map((r) => r.source));
  const state = await page.evaluate(() => client.syncState);
  assert.equal(state.status, 'joined', JSON.stringify(state));
  // Each refusal names the hostile device, and nothing else went wrong.
  assert.equal(warnings.length, refusals.length, warnings.join('\n'));

  // Honest sync goes on, both ways, with the hostile device still in the room.
  const fromCli = JSON.parse(
    await cli(honest, '--json', 'record', '--agent', 'claude', '--card', 'intent.include', '--answer', 'after the attacks'),
  ).id;
  await cli(honest, 'sync', '--relay', relay.url);
  await page.evaluate(async (id) => {
    await testing.until(client, async (c) => (await c.list()).responses.some((r) => r.id === id));
  }, fromCli);
  const listed = JSON.parse(await cli(honest, '--json', 'list'));
  const byId = new Map(listed.map((r) => [r.id, r]));
  assert.equal(byId.get(own.id)?.answer.value, 'written after the answer from ahead');
  assert.equal(byId.get(ahead.id)?.answer.value, 'edited here');
  assert.equal((await page.evaluate(() => client.syncState)).status, 'joined');

  hostile.end();
  assert.equal(await hostile.exited, 0);
});
