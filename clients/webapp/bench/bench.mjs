// Graph view bench: builds the bench page (vite --mode bench), opens it in headless Chromium at
// 500 (the largest drawn in SVG), 1k, 1.5k and 10k nodes, and prints the time to the first rendered frame
// and the frame, draw and simulation tick rates during the first seconds of the layout. Headless Chromium
// draws without a GPU here: read the figures relative to each other. Asserts nothing.

import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import { build } from 'vite';

const WEBAPP_DIR = fileURLToPath(new URL('..', import.meta.url));
const OUT = path.join(WEBAPP_DIR, 'bench/dist');
const SIZES = [500, 1_000, 1_500, 10_000];
const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };

await build({ root: WEBAPP_DIR, mode: 'bench', logLevel: 'warn' });

const server = http.createServer(async (req, res) => {
  const file = path.join(OUT, decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (!file.startsWith(OUT)) return void res.writeHead(403).end();
  try {
    const body = await readFile(file.endsWith('/') ? path.join(file, 'index.html') : file);
    res.writeHead(200, { 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu'],
});
try {
  console.log('graph view, headless Chromium without GPU (relative figures)');
  console.log('nodes   links   renderer  first render    settled      fps  draws/s  ticks/s');
  for (const nodes of SIZES) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (error) => console.error('page error:', error.message));
    await page.goto(`${origin}/bench/index.html?nodes=${nodes}`); // the page keeps its path under the root
    await page.waitForFunction(() => globalThis.benchResult !== undefined, null, { timeout: 120_000 });
    const r = await page.evaluate(() => globalThis.benchResult);
    console.log(
      `${String(r.nodes).padEnd(8)}${String(r.links).padEnd(8)}${r.renderer.padEnd(10)}` +
        `${r.firstRenderMs.toFixed(0).padStart(9)} ms ${r.settleMs.toFixed(0).padStart(7)} ms ${r.fps.toFixed(1).padStart(8)} ${r.drawsPerSecond.toFixed(1).padStart(8)} ${r.ticksPerSecond.toFixed(1).padStart(8)}`,
    );
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
}
