/**
 * Every message, by sender. The service worker is the hub: the content script, the overlay frame
 * and the options page pass it all their data over `chrome.runtime`, so nothing the user types
 * ever passes through the host page (not even as a `postMessage` it could listen to). The one
 * direct message, the content script's `Show` to its frame, carries nothing the user typed.
 */

import type { ErrorCode, KdfParams, Policy, SyncState } from '@selfos/wasm';
import type { DomSignals } from './detect/signals';
import type { Answer } from './cards';
import type { Settings } from './settings';

/** What the content script needs to know about its page; `null` when nothing should run there. */
export interface PageConfig {
  readonly agent: string;
  readonly dom: DomSignals;
  /** The user opted in to prompt excerpts: `busy` carries the prompt. */
  readonly excerpt: boolean;
  /**
   * The overlay frame's URL. On Chrome it is a per-session URL that only the worker and extension
   * pages learn from `runtime.getURL` (the manifest's `use_dynamic_url`), so pages cannot probe
   * a fixed one to find the extension.
   */
  readonly frame: string;
}

/**
 * `chrome.storage.local` key: no card until this time (ms since the epoch; 0 or absent when not
 * paused). The popup's "pause" sets it; content scripts watch it, so a paused wait shows nothing.
 */
export const PAUSED = 'paused_until';

/**
 * Content script -> worker. Replies: `hello` -> `PageConfig | null`; `done`, `failure` -> `Hide`.
 * `busy` names the overlay frame of the wait by its token (see `Show`): only that frame speaks for it.
 */
export type ContentMessage =
  | { t: 'hello' }
  | { t: 'busy'; frame: string; prompt?: string }
  | { t: 'done' }
  | { t: 'failure' };

/**
 * Overlay frame -> worker. Replies: `card` -> `Card | Locked | null`; `answer` and `skip` ->
 * `Saved`, once the outcome is committed; the others -> nothing. `at`: when the user submitted,
 * as `performance.timeOrigin + performance.now()` in the frame (a clock every context shares).
 * Each carries the token its content script gave the frame (`Show`); the worker ignores a message
 * whose token is not the one of the tab's wait, such as one from a copy of the frame that another
 * frame of the page embedded.
 */
export type FrameMessage = { token: string } & FrameRequest;

/** What the overlay frame asks the worker, before its token is added. */
export type FrameRequest =
  | { t: 'card' }
  | { t: 'typing'; on: boolean }
  | { t: 'height'; px: number }
  | { t: 'answer'; answer: Answer; at: number }
  | { t: 'skip'; at: number };

/** Whether a card's outcome is in the vault: `false` when it was locked meanwhile or the write failed. */
export type Saved = boolean;

/** Options page -> worker. Reply: `string | null`, an error to show or nothing. */
export type OptionsMessage = { t: 'settings'; settings: Settings };

/**
 * Popup or options page -> worker: the vault. Reply: `VaultReply`. `kdf` (cheap Argon2id
 * parameters) is for tests; the pages never send it. The pages check a new passphrase's strength
 * before they send it (`strength.ts`: its dictionaries stay out of the worker).
 *
 * - `restore`: a new replica of the vault from its recovery kit, under this device's own
 *   passphrase; `relay` becomes this device's relay when none is set yet.
 * - `recovery-kit`: the kit's words, for the user's eyes only (never stored or logged).
 * - `change-passphrase`: this device's passphrase; the vault stays unlocked.
 * - `export-format-1`: the JSON export of a format-1 vault, which `unlock` refuses (`old-format`).
 * - `pair`: offers the vault to a new device; replies with the one-time code to show, and the
 *   outcome shows in the view's `pairing`.
 * - `join-code`: a new replica of the vault from the device showing `code`, under this device's
 *   own passphrase; `relay` becomes this device's relay when none is set yet.
 */
export type VaultMessage =
  | { t: 'vault'; op: 'status' }
  | { t: 'vault'; op: 'create'; passphrase: string; kdf?: KdfParams }
  | { t: 'vault'; op: 'restore'; recoveryKit: string; passphrase: string; relay?: string; kdf?: KdfParams }
  | { t: 'vault'; op: 'unlock'; passphrase: string }
  | { t: 'vault'; op: 'lock' }
  | { t: 'vault'; op: 'forget' }
  | { t: 'vault'; op: 'relay'; relay: string }
  | { t: 'vault'; op: 'pause'; ms: number }
  | { t: 'vault'; op: 'list' }
  | { t: 'vault'; op: 'recovery-kit' }
  | { t: 'vault'; op: 'change-passphrase'; passphrase: string; kdf?: KdfParams }
  | { t: 'vault'; op: 'export-format-1'; passphrase: string }
  | { t: 'vault'; op: 'pair' }
  | { t: 'vault'; op: 'join-code'; code: string; passphrase: string; relay?: string; kdf?: KdfParams }
  | { t: 'vault'; op: 'policies' }
  | { t: 'vault'; op: 'set-policy'; namespace: string; policy: Policy };

/** A vault namespace (one per agent) and what happens when two devices change it concurrently. */
export interface NamespacePolicy {
  readonly namespace: string;
  readonly policy: Policy;
}

export interface VaultView {
  readonly exists: boolean;
  readonly unlocked: boolean;
  /** The relay connection, the peers online, the writes only this browser holds, the relay's store. */
  readonly sync: SyncState;
  readonly relay: string;
  /** Cards answered since midnight, local time. */
  readonly today: number;
  /** No overlay until then (ms since the epoch); 0 when not paused. */
  readonly pausedUntil: number;
  /** The device pairing this browser offers: its code while open, then how it ended. */
  readonly pairing: { readonly code: string; readonly state: 'open' | 'paired' | 'failed'; readonly error?: string } | null;
}

export interface VaultReply {
  readonly error?: string;
  /** The vault's code of the failure `error` describes, when it came from the vault. */
  readonly code?: ErrorCode;
  readonly view: VaultView;
  /** `list` only: every response (the vault's `VaultResponse`), oldest first. */
  readonly responses?: readonly unknown[];
  /** `recovery-kit` only: the vault secret as 24 words. Secret: show it, never store it. */
  readonly recoveryKit?: string;
  /** `export-format-1` only: the old vault's JSON export, to import into a new vault. */
  readonly exported?: string;
  /** `pair` only: the one-time code to show. */
  readonly pairCode?: string;
  /** `policies` only: every namespace of the vault and of the enabled agents, sorted. */
  readonly policies?: readonly NamespacePolicy[];
}

/** The frame's `card` reply while the vault is locked: it shows how to unlock instead. */
export interface Locked {
  readonly locked: true;
}

/** The network state of a tab's AI endpoints, as the worker counts it. */
export type NetState = 'start' | 'idle' | 'fail';

/** Worker -> content script (top frame of a tab). */
export type WorkerMessage = { t: 'net'; s: NetState } | { t: 'hide' } | { t: 'height'; px: number };

/** The overlay's height range, in CSS pixels: a card asks for what its content needs within it. */
export const OVERLAY_HEIGHT = { min: 140, initial: 184, max: 320 } as const;

/**
 * Content script -> its overlay frame, with `postMessage` to the frame's origin: "you are on
 * screen". `token` is the random token the content script made for this frame and told the worker
 * with `busy`; no other frame can know it, since the page cannot reach this frame's window.
 * `focus`: take the focus (not while the user is writing in the page).
 */
export interface Show {
  readonly t: typeof SHOW;
  readonly token: string;
  readonly focus: boolean;
}

export const SHOW = 'selfos:show';

/** Whether the overlay should go now. */
export interface Hide {
  readonly hide: boolean;
}

/** Sends `message` to the worker and resolves with its reply, typed by the caller. */
export function ask<R>(message: ContentMessage | FrameMessage | OptionsMessage | VaultMessage): Promise<R> {
  return chrome.runtime.sendMessage(message) as Promise<R>;
}
