// The WASM module, instantiated lazily and once. A module service worker may not use top-level
// await or dynamic import(), so the module is imported statically and started on first use.

import init from '../pkg/selfos_wasm.js';

export {
  KnowledgeGraph,
  PairingAccept,
  PairingCode,
  PairingOffer,
  PairingRoom,
  SyncEngine,
  Trainer,
  Vault,
} from '../pkg/selfos_wasm.js';

let ready: Promise<void> | undefined;

/**
 * Loads and instantiates the WASM module. `url` names the `.wasm` file; without it the file next
 * to the generated module is fetched. Call it with an explicit URL before anything else where
 * that default does not resolve (a bundle, an extension); later calls reuse the first result.
 */
export function initWasm(url?: string | URL): Promise<void> {
  ready ??= init(url === undefined ? undefined : { module_or_path: url }).then(
    () => undefined,
    (error: unknown) => {
      ready = undefined; // a later call may try again (a network error, a wrong URL)
      throw error;
    },
  );
  return ready;
}
