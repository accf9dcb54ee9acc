/**
 * Network start: the first POST to an enabled adapter's endpoints is the earliest sign that a
 * reply is coming, seconds before the page shows anything on slow models. Requests are counted per
 * tab; the tab's content script hears when the count leaves and returns to zero, and when a
 * request fails.
 */

import { matches } from '../match';
import type { NetState } from '../messages';
import { SITES } from '../sites';

const PATTERNS = SITES.flatMap((s) => s.network ?? []);
const inflight = new Map<number, Set<string>>();

/** The user pressing "stop" aborts the request: that ends the reply, it is not the AI failing. */
const ABORTED = new Set(['net::ERR_ABORTED', 'NS_BINDING_ABORTED']);

/**
 * Starts listening. `enabled(url)` says whether the request belongs to an enabled adapter (the
 * permission may outlive the setting). Must run at the worker's top level, so that the browser
 * wakes the worker for these events.
 */
export function watchNetwork(
  enabled: (url: string) => Promise<boolean>,
  notify: (tab: number, state: NetState) => void,
): void {
  const ours = async (d: { tabId: number; method: string; url: string }): Promise<boolean> =>
    d.tabId >= 0 && d.method === 'POST' && PATTERNS.some((p) => matches(p, d.url)) && (await enabled(d.url));

  const finish = (tab: number, request: string, failed: boolean): void => {
    const set = inflight.get(tab);
    // An unknown request started before the worker was last stopped: its end still counts.
    set?.delete(request);
    if (failed) notify(tab, 'fail');
    if (!set || set.size === 0) {
      inflight.delete(tab);
      notify(tab, 'idle');
    }
  };

  const filter = { urls: PATTERNS, types: ['xmlhttprequest' as const] };
  chrome.webRequest.onBeforeRequest.addListener((d) => {
    void ours(d).then((yes) => {
      if (!yes) return;
      const set = inflight.get(d.tabId) ?? new Set<string>();
      set.add(d.requestId);
      inflight.set(d.tabId, set);
      if (set.size === 1) notify(d.tabId, 'start');
    });
    return undefined;
  }, filter);
  chrome.webRequest.onCompleted.addListener((d) => {
    void ours(d).then((yes) => yes && finish(d.tabId, d.requestId, d.statusCode >= 400));
  }, filter);
  chrome.webRequest.onErrorOccurred.addListener((d) => {
    void ours(d).then((yes) => yes && finish(d.tabId, d.requestId, !ABORTED.has(d.error)));
  }, filter);
}

export function forgetTab(tab: number): void {
  inflight.delete(tab);
}
