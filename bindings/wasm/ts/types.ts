// The data that crosses the WASM boundary, as declared by the generated module (its `.d.ts` is
// the contract between Rust and TypeScript). Fields are snake_case: they are the vault's JSON
// export format, the same on every client.

export type {
  Answer,
  CardKind,
  ConflictValue,
  Content,
  Context,
  DamagedEntry,
  DeleteReport,
  ImportReport,
  KdfParams,
  Listing,
  Policy,
  Resolution,
  Stamp,
  Status,
  StoredEntry,
  StoreOp,
  SyncEvent,
  VaultConflict,
  VaultResponse,
} from '../pkg/selfos_wasm.js';
