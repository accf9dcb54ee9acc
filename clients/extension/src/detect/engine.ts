/**
 * The detection engine: one interpreter for every adapter's signals, running in the content script.
 *
 * Three sources say "busy": a busy selector becoming visible (DOM), the first request to the
 * site's endpoints (network, counted per tab by the service worker) and the page SDK. "Done" needs
 * all of them quiet for a settle window, cut short by a new completion marker; "failure" is a new
 * error element, a failed request or the SDK saying so.
 *
 * Costs are kept for the busy phase: while idle, each batch of mutations runs one cheap check (so
 * the overlay appears within a frame of the busy control); while busy, mutations only note the
 * time and a 100 ms tick does the work, because a streaming reply mutates the page constantly.
 */

import { DEFAULT_GRACE_MS, DEFAULT_SETTLE_MS, type DomSignals } from './signals';
import type { NetState } from '../messages';
import type { SdkState } from './sdk';

export type Detection = 'busy' | 'done' | 'failure';

/** Signals that come from outside the page's DOM. */
export interface EngineInputs {
  net(state: NetState): void;
  sdk(state: SdkState): void;
}

const IDLE = 0;
const BUSY = 1;
const SETTLING = 2;
const BUSY_TICK_MS = 100;
/** Safety net for changes no mutation reports (a stylesheet that unhides the stop button). */
const IDLE_POLL_MS = 750;
/** A page that never stops mutating (a clock, an animation) still ends its settle window. */
const SETTLE_CAP = 4;

/** Runs `f` on each element `selectors` match that is rendered; a selector the browser rejects matches nothing. */
function visible(selectors: readonly string[] | undefined, f: () => boolean | void): void {
  for (const s of selectors ?? []) {
    let found: NodeListOf<Element>;
    try {
      found = document.querySelectorAll(s);
    } catch {
      continue;
    }
    for (const el of found) {
      if (el.checkVisibility({ visibilityProperty: true }) && f()) return;
    }
  }
}

function anyVisible(selectors: readonly string[] | undefined): boolean {
  let hit = false;
  visible(selectors, () => (hit = true));
  return hit;
}

function countVisible(selectors: readonly string[] | undefined): number {
  let n = 0;
  visible(selectors, () => void n++);
  return n;
}

/** Starts watching the page; `emit` is called on each transition. */
export function startEngine(sig: DomSignals, emit: (d: Detection) => void): EngineInputs {
  const settleMs = sig.settleMs ?? DEFAULT_SETTLE_MS;
  const graceMs = sig.graceMs ?? DEFAULT_GRACE_MS;
  let phase = IDLE;
  let graceEnd = Date.now() + graceMs;
  let href = location.href;
  let domBusy = false;
  let netBusy = false;
  let sdkBusy = false;
  let quietAt = 0;
  let mutatedAt = 0;
  let doneBase = 0;
  let failBase = 0;
  let timer: ReturnType<typeof setInterval> | undefined;

  const every = (ms: number): void => {
    clearInterval(timer);
    timer = setInterval(check, ms);
  };

  function begin(): void {
    phase = BUSY;
    // Completion and error markers of earlier replies are already on the page: only new ones count.
    doneBase = countVisible(sig.done);
    failBase = countVisible(sig.failure);
    every(BUSY_TICK_MS);
    emit('busy');
  }

  function end(d: 'done' | 'failure'): void {
    phase = IDLE;
    netBusy = sdkBusy = false;
    every(IDLE_POLL_MS);
    emit(d);
  }

  // Times come from Date.now(), not from counting ticks: background tabs throttle timers.
  function check(): void {
    const now = Date.now();
    if (location.href !== href) {
      href = location.href;
      if (phase === IDLE) graceEnd = now + graceMs;
    }
    const was = domBusy;
    domBusy = anyVisible(sig.busy);
    if (phase === IDLE) {
      // A busy control that was already there, or that shows up while the page is loading or
      // switching conversations, is not a reply the user is waiting for: unless the user just
      // acted on the page (sent a message), only one appearing after the grace period counts.
      if (domBusy && !was && (now >= graceEnd || navigator.userActivation.isActive)) begin();
      return;
    }
    if (countVisible(sig.failure) > failBase) return end('failure');
    if (domBusy || netBusy || sdkBusy) {
      phase = BUSY;
      return;
    }
    if (phase === BUSY) {
      phase = SETTLING;
      quietAt = now;
    }
    if (
      countVisible(sig.done) > doneBase ||
      now - Math.max(quietAt, mutatedAt) >= settleMs ||
      now - quietAt >= SETTLE_CAP * settleMs
    ) {
      end('done');
    }
  }

  new MutationObserver(() => {
    mutatedAt = Date.now();
    if (phase === IDLE) check();
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  every(IDLE_POLL_MS);
  check();

  return {
    net(state) {
      if (state === 'fail') {
        if (phase !== IDLE) end('failure');
        return;
      }
      netBusy = state === 'start';
      if (netBusy && phase === IDLE) begin();
    },
    // The page declares its state itself: no grace period and no settle window apply.
    sdk(state) {
      sdkBusy = state === 'busy';
      if (sdkBusy) {
        if (phase === IDLE) begin();
      } else if (phase !== IDLE) {
        end(state === 'done' ? 'done' : 'failure');
      }
    },
  };
}
