/**
 * The page SDK: a site announces its own generation state with `window.postMessage`, so that no
 * selector has to guess it. The format is specified in `clients/extension/SDK.md`.
 */

export type SdkState = 'busy' | 'done' | 'error';

const STATES: readonly string[] = ['busy', 'done', 'error'];

/** The state a page announced in `e`, or `undefined` when `e` is not an SDK message from this page. */
export function sdkState(e: MessageEvent): SdkState | undefined {
  // Only the page itself speaks for the page: frames it embeds (ads, widgets) do not.
  if (e.source !== window) return undefined;
  const d: unknown = e.data;
  if (typeof d !== 'object' || d === null) return undefined;
  const { type, version, state } = d as { type?: unknown; version?: unknown; state?: unknown };
  return type === 'selfos' && version === 1 && typeof state === 'string' && STATES.includes(state)
    ? (state as SdkState)
    : undefined;
}
