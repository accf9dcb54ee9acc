/**
 * Hosts the overlay on the AI's page. The card itself is an extension page in an iframe: the host
 * page cannot read a cross-origin frame, and keys typed into it are dispatched in the frame's
 * document, never in the page's. The frame sits in a closed shadow root, so the page cannot reach
 * it through the host element, nor through `window.frames` (which lists no frame of a shadow
 * tree); all the page sees is that an element was added.
 *
 * Loading an extension frame takes tens of milliseconds, most of the overlay's budget, so a hidden
 * frame is loaded ahead of time, once the page is idle; showing it then costs one message to the
 * worker for the card. After each use the frame is replaced by a fresh one, loaded while hidden.
 */

import { OVERLAY_HEIGHT, SHOW } from '../messages';

const SIZE = `width:380px!important;height:${OVERLAY_HEIGHT.initial}px!important;`;

// Inline and `!important`, after `all:initial`: the page's stylesheets cannot move, hide or restyle
// the host. The rounded corners are clipped here so that the frame may paint an opaque card.
const HOST_STYLE =
  'all:initial!important;position:fixed!important;right:20px!important;bottom:20px!important;' +
  'z-index:2147483647!important;border-radius:14px!important;overflow:hidden!important;' +
  'box-shadow:0 8px 28px rgba(0,0,0,.28)!important;' +
  SIZE;

let host: HTMLElement | undefined;
let root: ShadowRoot | undefined;
let frame: HTMLIFrameElement | undefined;
let loaded = false;
let shown = false;
/** The frame showed a card: the next wait needs a fresh one. */
let used = false;
let returnTo: Element | null = null;

const display = (on: boolean): void => host?.style.setProperty('display', on ? 'block' : 'none', 'important');

/** Tells a loaded frame that it is on screen; it then fetches its card and takes the focus. */
function reveal(): void {
  if (!frame?.contentWindow) return;
  frame.contentWindow.postMessage(SHOW, new URL(frame.src).origin);
  frame.focus();
}

/** Sets the overlay's height (the worker has clamped it): the card asks for what its content needs. */
export function sizeOverlay(px: number): void {
  for (const e of [host, frame]) e?.style.setProperty('height', `${px}px`, 'important');
}

function newFrame(): void {
  frame?.remove();
  sizeOverlay(OVERLAY_HEIGHT.initial);
  loaded = used = false;
  const f = (frame = document.createElement('iframe'));
  f.src = chrome.runtime.getURL('overlay/frame.html');
  f.title = 'SelfOS: one quick question while the AI answers';
  f.style.cssText = 'border:0;display:block;' + SIZE;
  f.addEventListener('load', () => {
    if (f !== frame) return;
    loaded = true;
    if (shown) reveal();
  });
  root?.append(f);
}

/** Loads the hidden overlay, so that it is ready when the AI starts. */
export function preloadOverlay(): void {
  if (!host) {
    host = document.createElement('selfos-overlay');
    host.style.cssText = HOST_STYLE;
    display(false);
    root = host.attachShadow({ mode: 'closed' });
    newFrame();
  }
  // Some pages rebuild their document; the host then has to go back in.
  if (!host.isConnected) document.documentElement.append(host);
}

/** Shows the overlay and moves focus into it: the user has just sent a message and waits. */
export function showOverlay(): void {
  if (shown) return;
  preloadOverlay();
  if (used) newFrame();
  shown = true;
  returnTo = document.activeElement;
  display(true);
  if (loaded) reveal();
}

/** Hides the overlay; if it had the focus, focus goes back where it was before. */
export function hideOverlay(): void {
  if (!shown) return;
  shown = false;
  used = true;
  const focused = document.activeElement === host;
  display(false);
  if (focused && returnTo instanceof HTMLElement && returnTo.isConnected) {
    returnTo.focus({ preventScroll: true });
  }
  returnTo = null;
  // Not at once: the key that answered the card may still be on its way (its keyup), and a
  // frame removed in the middle of a key press can leave the browser's input routing waiting.
  setTimeout(() => used && !shown && newFrame(), 500);
}
