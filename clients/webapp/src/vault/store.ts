// The relay's store as the dashboard words it: its status, its space, a catch-up's share done.
// Pure, so the unit tests run it in node.

import type { StoreProgress, StoreStatus, StoreUsageState } from '@selfos/wasm';

/** What the store's status means for the user, in one sentence. */
export function storeStatusText(status: StoreStatus): string {
  switch (status) {
    case 'unknown':
      return 'not known until the relay answers';
    case 'disabled':
      return 'this relay keeps no store: devices sync only while they are online together';
    case 'syncing':
      return 'syncing with the store';
    case 'settled':
      return 'up to date: the store holds everything this browser holds';
    case 'full':
      return 'full: new answers stay on this device until space is freed';
    case 'unavailable':
      return 'unavailable for now; the dashboard asks again shortly';
  }
}

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];

/** A size in bytes as people read it: `812 bytes`, `1.4 MiB`, `64 MiB`. */
export function bytesText(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = unit === 0 || value >= 10 || Number.isInteger(value) ? Math.round(value) : Math.round(value * 10) / 10;
  return `${shown} ${UNITS[unit]}`;
}

/** The share of the quota in use, 0 to 1: of bytes or of blobs, whichever is closer to full. */
export function usedShare(usage: StoreUsageState): number {
  const share = (used: number, max: number) => (max > 0 ? Math.min(1, used / max) : 1);
  return Math.max(share(usage.bytes, usage.maxBytes), share(usage.blobs, usage.maxBlobs));
}

/** The share of a catch-up done, 0 to 1. */
export function progressShare(progress: StoreProgress): number {
  return progress.totalBytes > 0 ? Math.min(1, progress.fetchedBytes / progress.totalBytes) : 0;
}
