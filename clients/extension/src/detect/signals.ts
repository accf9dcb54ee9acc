/**
 * The shape of a site adapter: the public signals that tell when one AI chat site is generating.
 *
 * Adapters are data, not code, so that one engine interprets all of them and a site's change of
 * markup is a one-line edit in one small module. Sources for every signal are listed in
 * `shared/research/ai-site-detection.md`; none is an official API, so each adapter carries a
 * version that is bumped whenever a signal changes.
 */

/** What the content script watches in the page. Sent to it by the service worker. */
export interface DomSignals {
  /**
   * Ordered fallbacks: the most stable selector first (data-testid), then aria-label (depends on
   * the UI language), then class or svg shapes. The page is busy while any of them is visible.
   */
  readonly busy: readonly string[];
  /** Elements that appear once a reply is complete; one more of them ends the settle window early. */
  readonly done?: readonly string[];
  /** Elements that appear when the reply failed; one more of them while busy is a failure. */
  readonly failure?: readonly string[];
  /** How long every busy signal must stay away (and the page stay still) before "done". */
  readonly settleMs?: number;
  /** After load or a URL change, a busy control that appears without a user action is ignored this long. */
  readonly graceMs?: number;
}

/** One built-in AI chat site. */
export interface SiteAdapter {
  /** Stable agent id, also the vault namespace (`chatgpt`, `claude`, ...). */
  readonly id: string;
  /** The name shown in the options page. */
  readonly name: string;
  /** Bumped whenever a signal below changes. */
  readonly version: number;
  /** Match patterns of the chat pages: the host permissions asked for, and where the content script runs. */
  readonly matches: readonly string[];
  /**
   * Match patterns of the POST requests that start a reply, watched with webRequest in the service
   * worker. The earliest signal there is; absent for sites that stream over a WebSocket, of which
   * webRequest sees only the handshake.
   */
  readonly network?: readonly string[];
  readonly dom: DomSignals;
}

export const DEFAULT_SETTLE_MS = 1000;
export const DEFAULT_GRACE_MS = 5000;
