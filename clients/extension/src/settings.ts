/**
 * The user's choices: which built-in agents are enabled, and custom rules for other sites.
 * Kept in `chrome.storage.local`; only the service worker writes them, so that saving and
 * re-registering the content scripts happen in one place and in order.
 */

import { isSitePattern } from './match';
import { SITES } from './sites';

/** A site the user taught: pages matching `match` are busy while `busy` (a CSS selector) is visible. */
export interface Rule {
  readonly match: string;
  /** Empty for a site that speaks the page SDK (see SDK.md) and needs no selector. */
  readonly busy: string;
}

export interface Settings {
  /** Ids of the enabled built-in adapters. */
  readonly agents: readonly string[];
  readonly rules: readonly Rule[];
  /** Store an excerpt of the prompt with each answer; off unless the user turns it on. */
  readonly promptExcerpt?: boolean;
}

const KEY = 'settings';
const EMPTY: Settings = { agents: [], rules: [] };

/** Whether `v` is a well-formed `Settings`: stored data and messages are checked before use. */
export function isSettings(v: unknown): v is Settings {
  if (typeof v !== 'object' || v === null) return false;
  const { agents, rules, promptExcerpt } = v as { agents?: unknown; rules?: unknown; promptExcerpt?: unknown };
  return (
    (promptExcerpt === undefined || typeof promptExcerpt === 'boolean') &&
    Array.isArray(agents) &&
    agents.every((a) => SITES.some((s) => s.id === a)) &&
    Array.isArray(rules) &&
    rules.every(
      (r: unknown) =>
        typeof r === 'object' &&
        r !== null &&
        typeof (r as Rule).match === 'string' &&
        isSitePattern((r as Rule).match) &&
        typeof (r as Rule).busy === 'string',
    )
  );
}

export async function loadSettings(): Promise<Settings> {
  const { [KEY]: stored } = await chrome.storage.local.get(KEY);
  return isSettings(stored) ? stored : EMPTY;
}

export async function storeSettings(settings: Settings): Promise<void> {
  await chrome.storage.local.set({ [KEY]: settings });
}
