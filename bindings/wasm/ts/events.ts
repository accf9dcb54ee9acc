// What a `SelfosClient` reports to the app: its sync state and the events it dispatches. Shared by
// the client and the relay session that produces most of them.

import type { SelfosError } from './errors.js';
import type { StoreStatus } from './types.js';

export type SyncStatus = 'offline' | 'connecting' | 'joined';

export interface SyncState {
  status: SyncStatus;
  /** Other devices in the room now. */
  peers: number;
  /** Local writes that neither the relay's store nor another device is known to hold yet: they
   * exist on this device only (a badge shows this). */
  unsynced: number;
  /** The relay's store of the vault's room, through which devices that are never online together
   * still sync. */
  store: StoreState;
}

/** Where this device stands with the relay's store of the vault. */
export interface StoreState {
  /** `unknown` while offline or not answered yet; `full` means new writes stay on this device
   * (and reach only devices online together with it) until space is freed. */
  status: StoreStatus;
  /** What the store holds and may hold, as the relay last said (kept while offline); `null`
   * until it first did, or when it keeps no store. */
  usage: StoreUsageState | null;
  /** A catch-up from the store under way; `null` when there is none. */
  progress: StoreProgress | null;
}

export interface StoreUsageState {
  /** Bytes of this vault's sealed blobs in the store, and the room's quota of them. */
  bytes: number;
  maxBytes: number;
  blobs: number;
  maxBlobs: number;
  /** When a device of the vault last uploaded (ms since the Unix epoch); `null` when none has. */
  lastUploadMs: number | null;
}

/** Bytes fetched from the store so far, of those listed; updated in steps of at least 1%. */
export interface StoreProgress {
  fetchedBytes: number;
  totalBytes: number;
}

export interface ChangeDetail {
  source: 'local' | 'remote';
  namespaces: string[];
}

export interface PeerDetail {
  peer: string;
  present: boolean;
}

export interface WarningDetail {
  message: string;
}

export interface SelfosClientEventMap {
  change: CustomEvent<ChangeDetail>;
  /** Any change of `syncState`: the connection, the peers, the unsynced count, the store's status,
   * usage or catch-up progress. */
  sync: CustomEvent<SyncState>;
  peer: CustomEvent<PeerDetail>;
  warning: CustomEvent<WarningDetail>;
  /** A failure outside any call the app made (a background commit, the relay refusing us). */
  error: CustomEvent<SelfosError>;
}
