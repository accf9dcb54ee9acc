// Builds dist/chrome and dist/firefox from one source tree and one manifest, and prints the
// content script's size against its budget.
import { build } from 'esbuild';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';

const here = new URL('.', import.meta.url).pathname;
const dist = `${here}dist`;
const BUDGET = 8 * 1024;
/** DESIGN.md's hard ceiling: the build fails above it. */
const LIMIT = 20 * 1024;
const GECKO = {
  id: '{1bfb53e9-e720-4655-8ce5-9ac68ae9a47f}',
  strict_min_version: '142.0',
  data_collection_permissions: { required: ['none'] },
};

await rm(dist, { recursive: true, force: true });
const out = `${dist}/chrome`;
const common = { bundle: true, target: ['chrome121', 'firefox142'], logLevel: 'warning', legalComments: 'none' };

await Promise.all([
  // The worker is a module that imports the WASM vault statically; pages load plain scripts.
  build({ ...common, entryPoints: { background: 'src/background.ts' }, format: 'esm', outdir: out }),
  build({
    ...common,
    entryPoints: {
      'overlay/frame': 'src/overlay/frame.ts',
      'options/options': 'src/options/options.ts',
      'popup/popup': 'src/popup/popup.ts',
    },
    format: 'iife',
    outdir: out,
  }),
  // Injected into every page of an enabled site: minified.
  build({ ...common, entryPoints: { content: 'src/content.ts' }, format: 'iife', minify: true, outdir: out }),
]);
for (const f of ['options/options.html', 'options/options.css', 'popup/popup.html', 'popup/popup.css']) {
  await cp(`${here}src/${f}`, `${out}/${f}`);
}
// The vault's WASM, loaded by the worker from the extension's own files (the CSP allows
// 'wasm-unsafe-eval' for extension pages, the worker included).
const require = createRequire(import.meta.url);
await cp(require.resolve('@selfos/wasm/selfos_wasm_bg.wasm'), `${out}/selfos_wasm_bg.wasm`);
// The card's styles go inline: a stylesheet is one more load, and it holds the script back.
const frameCss = await readFile(`${here}src/overlay/frame.css`, 'utf8');
const frameHtml = await readFile(`${here}src/overlay/frame.html`, 'utf8');
const linked = '<link rel="stylesheet" href="frame.css" />';
if (!frameHtml.includes(linked)) throw new Error(`frame.html must link frame.css as ${linked}`);
await writeFile(`${out}/overlay/frame.html`, frameHtml.replace(linked, `<style>\n${frameCss}</style>`));

const manifest = JSON.parse(await readFile(`${here}src/manifest.json`, 'utf8'));
await writeFile(`${out}/manifest.json`, JSON.stringify(manifest, null, 2));

// Firefox runs the worker as an event page and identifies the extension by its gecko id.
await cp(out, `${dist}/firefox`, { recursive: true });
const { key: _key, minimum_chrome_version: _min, ...firefox } = manifest;
firefox.background = { scripts: ['background.js'], type: 'module' };
firefox.browser_specific_settings = { gecko: GECKO };
await writeFile(`${dist}/firefox/manifest.json`, JSON.stringify(firefox, null, 2));

const content = await readFile(`${out}/content.js`);
const size = content.length;
console.log(
  `content.js: ${size} B minified, ${gzipSync(content).length} B gzipped ` +
    `(budget ${BUDGET} B: ${size <= BUDGET ? 'within' : 'OVER'})`,
);
if (size > LIMIT) {
  console.error(`content.js exceeds the ${LIMIT} B limit`);
  process.exit(1);
}
