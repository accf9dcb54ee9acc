/**
 * The content script: registered only on the sites the user enabled. It detects and hosts, and
 * nothing more; its signals come from the service worker, which keeps the adapters, picks the
 * card and stores the answer. Budget: 8 KB minified (the build prints its size).
 */

import { startEngine } from './detect/engine';
import { watchPrompt } from './detect/prompt';
import { sdkState } from './detect/sdk';
import { hideOverlay, overlayFor, preloadOverlay, sizeOverlay, showOverlay } from './overlay/host';
import { PAUSED, ask, type Hide, type PageConfig, type WorkerMessage } from './messages';

/** Until when the user paused SelfOS, as `chrome.storage.local` holds it. */
function watchPause(): () => number {
  let until = 0;
  const set = (v: unknown): void => void (until = typeof v === 'number' ? v : 0);
  void chrome.storage.local.get(PAUSED).then((r) => set(r[PAUSED]));
  chrome.storage.onChanged.addListener((c, area) => area === 'local' && PAUSED in c && set(c[PAUSED]?.newValue));
  return () => until;
}

async function main(): Promise<void> {
  const config = await ask<PageConfig | null>({ t: 'hello' });
  if (!config) return;
  // Only when the user opted in is the page's typing looked at.
  const prompt = config.excerpt ? watchPrompt() : undefined;
  const pausedUntil = watchPause();
  const engine = startEngine(config.dom, (d) => {
    if (d === 'busy') {
      // Taken even when paused: the prompt belongs to this wait, not the next.
      const sent = prompt?.();
      // Paused: the worker would not deal a card; showing the overlay would only flash it.
      if (Date.now() < pausedUntil()) return;
      // Sent before the overlay is shown, so the worker has the wait (and its card) when the frame asks.
      const frame = overlayFor(config.frame);
      void ask(sent === undefined ? { t: 'busy', frame } : { t: 'busy', frame, prompt: sent });
      showOverlay();
    } else {
      void ask<Hide>({ t: d }).then((r) => r.hide && hideOverlay());
    }
  });
  chrome.runtime.onMessage.addListener((m: WorkerMessage) => {
    if (m.t === 'net') engine.net(m.s);
    else if (m.t === 'height') sizeOverlay(m.px);
    else hideOverlay();
  });
  addEventListener('message', (e) => {
    const s = sdkState(e);
    if (s) engine.sdk(s);
  });
  // Not before the page has loaded and gone idle: an app that hydrates the whole document would
  // trip over a foreign element, and the page's own start matters more than ours.
  const preload = (): void => void requestIdleCallback(() => preloadOverlay(config.frame), { timeout: 3000 });
  if (document.readyState === 'complete') preload();
  else addEventListener('load', preload, { once: true });
}

void main();
