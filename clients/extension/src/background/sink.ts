/**
 * Where captured answers go: the one method the worker needs. The vault (`vault.ts`) is the sink
 * the extension uses; `sessionListSink` (memory only, gone when the browser closes) remains for
 * hosts without the WASM package.
 */

import type { Answer, CardKind } from '../cards';

/** One shown card and what became of it, shaped as the vault's response content. */
export interface Capture {
  readonly card_id: string;
  readonly card_kind: CardKind;
  /** Absent when skipped or retried. */
  readonly answer?: Answer;
  /** The AI agent the user was waiting for: an adapter id, or the host of a custom rule. */
  readonly agent: string;
  /** The AI page's origin. */
  readonly origin: string;
  /** When it was recorded, in ms since the Unix epoch. */
  readonly created_ms: number;
  /** How long the user had been waiting for the AI when this was recorded (up to the AI's end). */
  readonly wait_ms: number;
  readonly status: 'answered' | 'skipped' | 'retry';
}

export interface CaptureSink {
  record(capture: Capture): Promise<void>;
}

const KEY = 'captures';

/** Appends to the `captures` list in session storage. */
export function sessionListSink(): CaptureSink {
  // Appending is read-modify-write: two tabs answering at once must not overwrite each other.
  let last: Promise<void> = Promise.resolve();
  return {
    record(capture) {
      const next = last.then(async () => {
        const { [KEY]: list } = await chrome.storage.session.get(KEY);
        await chrome.storage.session.set({ [KEY]: [...(Array.isArray(list) ? list : []), capture] });
      });
      last = next.catch(() => undefined);
      return next;
    },
  };
}
