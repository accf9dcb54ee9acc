/**
 * Content scripts exist only for enabled agents and rules: nothing is declared in the manifest,
 * and this registration is rebuilt from the settings whenever they or the granted permissions
 * change.
 */

import type { Settings } from '../settings';
import { SITES } from '../sites';

const ID = 'selfos';

async function granted(patterns: readonly string[]): Promise<boolean> {
  return chrome.permissions.contains({ origins: [...patterns] });
}

let last: Promise<void> = Promise.resolve();

/** Registers one content script for every enabled, permitted site. Calls run one after another. */
export function syncContentScripts(settings: Settings): Promise<void> {
  const run = async (): Promise<void> => {
    const patterns = new Set<string>();
    for (const site of SITES) {
      if (settings.agents.includes(site.id) && (await granted(site.matches))) {
        site.matches.forEach((m) => patterns.add(m));
      }
    }
    for (const rule of settings.rules) {
      if (await granted([rule.match])) patterns.add(rule.match);
    }
    const existing = await chrome.scripting.getRegisteredContentScripts({ ids: [ID] });
    if (existing.length > 0) await chrome.scripting.unregisterContentScripts({ ids: [ID] });
    if (patterns.size === 0) return;
    // One registration for all, so a page that an adapter and a rule both match gets one script.
    await chrome.scripting.registerContentScripts([
      {
        id: ID,
        js: ['content.js'],
        matches: [...patterns],
        runAt: 'document_start',
        persistAcrossSessions: true,
      },
    ]);
  };
  const next = last.then(run);
  last = next.catch(() => undefined);
  return next;
}
