// The dashboard as a relay hosts it (`--web-root`): it says which server it comes from, its
// scripts and stylesheets carry Subresource Integrity (a tampered one does not run), and its
// content security policy lets it open sockets to that relay only.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { DIST, ensureBuilt, launchBrowser, startRelay, tempDir } from './harness.mjs';

let browser;
let root;

before(async () => {
  ensureBuilt();
  browser = await launchBrowser();
  root = await tempDir('selfos-webapp-hosted-');
});

after(async () => {
  await browser?.close();
  await root?.remove();
});

const TAGS = /<(?:script|link)\b[^>]*>/g;

test('the hosted page names its server, every script and stylesheet carries its hash, sockets go to its relay only', async (t) => {
  const relay = await startRelay();
  t.after(relay.stop);
  const index = await fetch(`${relay.origin}/`);
  const csp = index.headers.get('content-security-policy');
  assert.match(csp, new RegExp(`connect-src 'self' ${relay.url};`));
  assert.doesNotMatch(csp, / wss?:[ ;]/);

  const tags = (await index.text()).match(TAGS);
  assert.ok(tags.length >= 2, tags.join('\n'));
  for (const tag of tags) {
    const [, file] = /(?:src|href)="\.\/([^"]+)"/.exec(tag);
    const [, integrity] = /integrity="([^"]+)"/.exec(tag) ?? [];
    const body = Buffer.from(await (await fetch(`${relay.origin}/${file}`)).arrayBuffer());
    assert.equal(integrity, `sha384-${createHash('sha384').update(body).digest('base64')}`, tag);
  }

  const other = await startRelay();
  t.after(other.stop);
  const page = await browser.newPage();
  t.after(() => page.close());
  await page.goto(`${relay.origin}/`);
  const notice = page.locator('[data-hosted-by]');
  await notice.waitFor();
  assert.equal(await notice.getAttribute('data-hosted-by'), relay.origin);
  assert.match(await notice.innerText(), new RegExp(`comes from ${relay.addr.replaceAll('.', '\\.')}`));
  // What a socket to `url` comes to: open, or blocked by the policy (the page hears of it).
  const opened = (url) =>
    page.evaluate(
      (url) =>
        new Promise((resolve) => {
          document.addEventListener('securitypolicyviolation', (e) => resolve(`blocked by ${e.effectiveDirective}`));
          const socket = new WebSocket(url);
          socket.onopen = () => {
            socket.close();
            resolve('opened');
          };
        }),
      url,
    );
  assert.equal(await opened(`${relay.url}/v1/ws`), 'opened');
  assert.equal(await opened(`${other.url}/v1/ws`), 'blocked by connect-src');
});

test('a script changed on the server does not run', async (t) => {
  const copy = path.join(root.dir, 'tampered');
  await cp(DIST, copy, { recursive: true });
  const assets = path.join(copy, 'assets');
  const main = (await readdir(assets)).find((f) => /^index-.*\.js$/.test(f));
  await writeFile(path.join(assets, main), `${await readFile(path.join(assets, main), 'utf8')}\n// changed`);
  const relay = await startRelay([], copy);
  t.after(relay.stop);
  const page = await browser.newPage();
  t.after(() => page.close());
  const refused = new Promise((resolve) =>
    page.on('console', (message) => /integrity/i.test(message.text()) && resolve(message.text())),
  );
  await page.goto(`${relay.origin}/`);
  assert.match(await refused, new RegExp(main.replaceAll('.', '\\.')));
  assert.equal(await page.locator('#root').innerHTML(), '');
});
