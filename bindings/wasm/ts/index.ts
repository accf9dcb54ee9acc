// The SelfOS vault for browsers: usable from a page, a dedicated worker or an MV3 module service
// worker (nothing here needs a window). `SelfosClient` is the whole app-facing API; the lower
// layers are exported for hosts that store or transport differently.

export {
  SelfosClient,
  type CreateOptions,
  type JoinByCodeOptions,
  type PairOptions,
  type RestoreOptions,
  type NextCardOptions,
  type ResumeOptions,
  type UnlockOptions,
} from './client.js';
export type {
  ChangeDetail,
  PeerDetail,
  SelfosClientEventMap,
  StoreProgress,
  StoreState,
  StoreUsageState,
  SyncState,
  SyncStatus,
  WarningDetail,
} from './events.js';
export { defaultDeviceName } from './device-name.js';
export { SelfosError, isSelfosError, type ErrorCode } from './errors.js';
export { IdbStore } from './idb-store.js';
export { relayOrigin } from './relay-address.js';
export { RelayTransport, type BackoffOptions, type TransportHandlers } from './transport.js';
export type * from './types.js';
export {
  initWasm,
  KnowledgeGraph,
  PairingAccept,
  PairingCode,
  PairingOffer,
  PairingRoom,
  SyncEngine,
  Trainer,
  Vault,
} from './wasm.js';
