// A graph past the SVG limit: drawn on the canvas, zoomable from the keyboard, its nodes
// reachable through the list.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  CHEAP_KDF,
  cli,
  cliJson,
  ensureBuilt,
  importAnswers,
  inkPixels,
  launchBrowser,
  recoveryKit,
  restoreInBrowser,
  seriousViolations,
  startRelay,
  tempDir,
} from './harness.mjs';

const ANSWERS = 220;

let relay;
let browser;
let root;

before(async () => {
  ensureBuilt();
  relay = await startRelay();
  browser = await launchBrowser();
  root = await tempDir('selfos-webapp-large-');
});

after(async () => {
  await browser?.close();
  await relay?.stop();
  await root?.remove();
});

/** `aaa`, `aab`, ...: words the topic extractor keeps (letters only). */
function word(i) {
  return [2, 1, 0].map((p) => String.fromCharCode(97 + (Math.floor(i / 26 ** p) % 26))).join('');
}

test('a graph of more than 500 nodes is drawn on a canvas', async () => {
  const vault = `${root.dir}/vault`;
  await cli(vault, 'init', ...CHEAP_KDF);
  // Three explicit topics of its own per answer: every one becomes a node.
  const answers = Array.from({ length: ANSWERS }, (_, i) => ({
    agent: i % 2 ? 'chatgpt' : 'claude',
    card_id: 'intent.include',
    card_kind: 'intent',
    answer: { type: 'text', value: 'fine' },
    context: { topics: [0, 1, 2].map((k) => `topic ${word(3 * i + k)}`) },
  }));
  await importAnswers(vault, answers);
  const kit = await recoveryKit(vault);
  const graph = await cliJson(vault, 'graph');
  assert.ok(graph.nodes.length > 500, `${graph.nodes.length} nodes`);

  const page = await restoreInBrowser(browser, relay.origin, kit);
  await cli(vault, 'sync', '--relay', relay.url);
  await page.goto(`${relay.origin}/#/graph`);
  const canvas = page.locator(`.graph-canvas[data-renderer="canvas"][data-nodes="${graph.nodes.length}"]`);
  await canvas.waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('circle.graph-node').count(), 0);

  // Let the layout spread a little, then check the canvas holds a drawing.
  await page.waitForTimeout(1_500);
  const fitted = await inkPixels(page, await canvas.screenshot());
  assert.ok(fitted.ink > 2_000, `only ${fitted.ink} of ${fitted.total} pixels drawn`);

  // The zoom buttons work from the keyboard: zoomed in, the picture changes.
  await page.getByRole('button', { name: 'Zoom in' }).focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await page.locator('.graph-canvas[data-settled="true"]').waitFor({ timeout: 60_000 });
  const zoomed = await canvas.screenshot();
  await page.getByRole('button', { name: 'Fit' }).press('Enter');
  const fittedAgain = await canvas.screenshot();
  assert.notDeepEqual(zoomed, fittedAgain);

  // A click on an agent's disc selects that agent: find a pixel well inside one.
  const spot = await page.evaluate(() => {
    const canvas = document.querySelector('.graph-canvas canvas');
    const hex = getComputedStyle(canvas).getPropertyValue('--kind-agent').trim();
    const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const { width, height } = canvas;
    const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    const is = (x, y) => {
      const i = 4 * (y * width + x);
      return data[i] === rgb[0] && data[i + 1] === rgb[1] && data[i + 2] === rgb[2];
    };
    for (let y = 3; y < height - 3; y += 1) {
      for (let x = 3; x < width - 3; x += 1) {
        if (is(x, y) && is(x - 3, y) && is(x + 3, y) && is(x, y - 3) && is(x, y + 3)) {
          const scale = canvas.clientWidth / width;
          return { x: x * scale, y: y * scale };
        }
      }
    }
    return null;
  });
  assert.ok(spot, 'no agent disc on the canvas');
  const box = await canvas.boundingBox();
  await page.mouse.click(box.x + spot.x, box.y + spot.y);
  await page.locator('[data-selected^="agent:"]').waitFor();

  // A node found through the list shows its one answer.
  await page.getByLabel('Find a node').fill(`topic ${word(7)}`);
  await page.locator(`[data-node-id="topic:topic ${word(7)}"]`).click();
  await page.locator(`[data-selected="topic:topic ${word(7)}"]`).waitFor();
  assert.equal(await page.locator('.answers-behind li').count(), 1);

  assert.deepEqual(await seriousViolations(page), []);
});
