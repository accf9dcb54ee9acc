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
 *
 * Each frame gets a random token of its own, handed to it with `SHOW` and to the worker with
 * `busy`: the worker listens to that frame only, not to copies of the frame that other frames of
 * the page may embed.
 */

import { OVERLAY_HEIGHT, SHOW, type Show } from '../messages';

/** The frame's origin: the extension's, also when it was loaded from a per-session URL (Chrome). */
const FRAME_ORIGIN = new URL(chrome.runtime.getURL('')).origin;
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
/** The frame's URL, from the worker (see `PageConfig.frame`). */
let src = '';
let frame: HTMLIFrameElement | undefined;
let token = '';
let loaded = false;
let shown = false;
/** The frame showed a card: the next wait needs a fresh one. */
let used = false;
let returnTo: Element | null = null;

const display = (on: boolean): void => host?.style.setProperty('display', on ? 'block' : 'none', 'important');

/** Whether the user is writing in the page: the focused element is editable and holds text. */
function writing(): boolean {
  const e = document.activeElement;
  if (!(e instanceof HTMLElement) || !e.matches(':read-write')) return false;
  const text = e instanceof HTMLInputElement || e instanceof HTMLTextAreaElement ? e.value : e.innerText;
  return text.trim() !== '';
}

/**
 * Tells a loaded frame that it is on screen; it then fetches its card. It takes the focus unless
 * the user is writing in the page: after sending, the composer is empty and the user waits, but a
 * reply can also start while they write (one the page announces, say), and their next keys belong
 * to the page then.
 */
function reveal(): void {
  if (!frame?.contentWindow) return;
  const focus = !writing();
  frame.contentWindow.postMessage({ t: SHOW, token, focus } satisfies Show, FRAME_ORIGIN);
  if (focus) frame.focus();
}

/** Sets the overlay's height (the worker has clamped it): the card asks for what its content needs. */
export function sizeOverlay(px: number): void {
  for (const e of [host, frame]) e?.style.setProperty('height', `${px}px`, 'important');
}

function newFrame(): void {
  frame?.remove();
  sizeOverlay(OVERLAY_HEIGHT.initial);
  loaded = used = false;
  token = crypto.randomUUID();
  const f = (frame = document.createElement('iframe'));
  f.src = src;
  f.title = 'SelfOS: one quick question while the AI answers';
  f.style.cssText = 'border:0;display:block;' + SIZE;
  f.addEventListener('load', () => {
    if (f !== frame) return;
    loaded = true;
    if (shown) reveal();
  });
  root?.append(f);
}

/** Loads the hidden overlay from `url`, so that it is ready when the AI starts. */
export function preloadOverlay(url: string): void {
  src = url;
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

/**
 * Readies the frame of a wait, from `url`: the one on screen, or else a fresh one. Returns its
 * token, for the worker.
 */
export function overlayFor(url: string): string {
  preloadOverlay(url);
  if (used && !shown) newFrame();
  return token;
}

/** Shows the frame `overlayFor` readied; it takes the focus unless the user is writing in the page. */
export function showOverlay(): void {
  if (shown) return;
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
