/**
 * One wait per tab: from the AI starting to generate until both the card is dealt with and the AI
 * is done. Mirrored in `chrome.storage.session` because the browser stops an idle service worker
 * after 30 s, and a long reply (or a user slowly writing an answer) outlasts that.
 */

import type { Card } from '../cards';

export interface Episode {
  readonly agent: string;
  readonly origin: string;
  /** The trainer's card; absent when the wait began while the vault was locked. */
  readonly card?: Card;
  /** The prompt excerpt, when the user opted in and the page had one. */
  readonly excerpt?: string;
  /** When the AI started generating, ms since the Unix epoch. */
  readonly busyMs: number;
  /** The token of the overlay frame the content script readied for this wait: only it speaks for the wait. */
  readonly frame: string;
  /** When the AI finished, if it has. */
  readonly doneMs?: number;
  /** The user has text in the card: the overlay outlives the AI's answer. */
  readonly typing: boolean;
  /** Answered or skipped: the overlay is gone, only the AI's end is awaited. */
  readonly settled: boolean;
}

const mem = new Map<number, Promise<Episode | undefined>>();
const key = (tab: number): string => `episode:${tab}`;

/** The promise `getEpisode` returned: an update based on it applies only while it is current. */
export type Seen = Promise<Episode | undefined>;

/** Whether a newer wait replaced the episode `seen` while its handler awaited it. */
const replaced = (tab: number, seen?: Seen): boolean => seen !== undefined && mem.get(tab) !== seen;

/**
 * Sets the tab's episode. Synchronous on purpose: the overlay frame asks for its card right after
 * `busy`, possibly before the card is picked, and must find this promise. With `seen`, nothing
 * happens if another wait began meanwhile.
 */
export function putEpisode(tab: number, episode: Episode | Promise<Episode>, seen?: Seen): void {
  if (replaced(tab, seen)) return;
  const p = Promise.resolve(episode);
  mem.set(tab, p);
  // A wait that could not start (its agent was just turned off) is simply absent.
  p.then((e) => chrome.storage.session.set({ [key(tab)]: e })).catch(() => undefined);
}

export function getEpisode(tab: number): Seen {
  let p = mem.get(tab);
  if (!p) {
    p = chrome.storage.session.get(key(tab)).then((r) => r[key(tab)] as Episode | undefined);
    mem.set(tab, p);
  }
  return p;
}

/** Ends the tab's episode; with `seen`, only if no other wait began meanwhile. Returns whether it did. */
export function dropEpisode(tab: number, seen?: Seen): boolean {
  if (replaced(tab, seen)) return false;
  mem.set(tab, Promise.resolve(undefined));
  void chrome.storage.session.remove(key(tab));
  return true;
}
