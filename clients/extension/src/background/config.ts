/** Which signals apply to a page, from the enabled adapters and the user's rules. */

import { matches } from '../match';
import type { PageConfig } from '../messages';
import type { Settings } from '../settings';
import { SITES } from '../sites';
import type { SiteAdapter } from '../detect/signals';

/** The enabled adapter whose pages include `url`. */
export function siteFor(url: string, settings: Settings): SiteAdapter | undefined {
  return SITES.find((s) => settings.agents.includes(s.id) && s.matches.some((m) => matches(m, url)));
}

/** The URL content scripts load the overlay frame from: on Chrome a per-session one (see `PageConfig.frame`). */
const FRAME_SRC = chrome.runtime.getURL('overlay/frame.html');

/** What the content script on `url` watches; `null` when no enabled adapter or rule covers it. */
export function pageConfig(url: string, settings: Settings): PageConfig | null {
  const site = siteFor(url, settings);
  // A rule on an adapter's site adds its selector as the last fallback; the agent stays the adapter's.
  const extra = settings.rules.filter((r) => r.busy && matches(r.match, url)).map((r) => r.busy);
  const common = { excerpt: settings.promptExcerpt === true, frame: FRAME_SRC };
  if (site) return { agent: site.id, dom: { ...site.dom, busy: [...site.dom.busy, ...extra] }, ...common };
  if (!settings.rules.some((r) => matches(r.match, url))) return null;
  return { agent: new URL(url).hostname, dom: { busy: extra }, ...common };
}
