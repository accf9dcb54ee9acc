// What a `SelfosClient` reports to the app: its sync state and the events it dispatches. Shared by
// the client and the relay session that produces most of them.

import type { SelfosError } from './errors.js';

export type SyncStatus = 'offline' | 'connecting' | 'joined';

export interface SyncState {
  status: SyncStatus;
  /** Other devices in the room now. */
  peers: number;
  /** Local writes that no other device is known to hold yet (a badge shows this). */
  unsynced: number;
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
  sync: CustomEvent<SyncState>;
  peer: CustomEvent<PeerDetail>;
  warning: CustomEvent<WarningDetail>;
  /** A failure outside any call the app made (a background commit, the relay refusing us). */
  error: CustomEvent<SelfosError>;
}
