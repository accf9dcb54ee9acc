/**
 * The content script: registered only on the sites the user enabled. It detects and hosts, and
 * nothing more; its signals come from the service worker, which keeps the adapters, picks the
 * card and stores the answer. Budget: 8 KB minified (the build prints its size).
 */

import { startEngine } from './detect/engine';
import { sdkState } from './detect/sdk';
import { hideOverlay, preloadOverlay, showOverlay } from './overlay/host';
import { ask, type Hide, type PageConfig, type WorkerMessage } from './messages';

async function main(): Promise<void> {
  const config = await ask<PageConfig | null>({ t: 'hello' });
  if (!config) return;
  const engine = startEngine(config.dom, (d) => {
    if (d === 'busy') {
      // Sent before the overlay is shown, so the worker has the wait (and its card) when the frame asks.
      void ask({ t: 'busy' });
      showOverlay();
    } else {
      void ask<Hide>({ t: d }).then((r) => r.hide && hideOverlay());
    }
  });
  chrome.runtime.onMessage.addListener((m: WorkerMessage) => {
    if (m.t === 'net') engine.net(m.s);
    else hideOverlay();
  });
  addEventListener('message', (e) => {
    const s = sdkState(e);
    if (s) engine.sdk(s);
  });
  // Not before the page has loaded and gone idle: an app that hydrates the whole document would
  // trip over a foreign element, and the page's own start matters more than ours.
  const preload = (): void => void requestIdleCallback(preloadOverlay, { timeout: 3000 });
  if (document.readyState === 'complete') preload();
  else addEventListener('load', preload, { once: true });
}

void main();
