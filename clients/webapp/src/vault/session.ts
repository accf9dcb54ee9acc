// Opening the vault in this browser: restoring it as a new replica (recovery kit + this
// browser's own passphrase), or unlocking the replica stored here. The dashboard keeps one replica per browser profile, in one
// IndexedDB database; the relay it syncs through is remembered next to it (the vault itself does
// not store a relay address).

import { IdbStore, SelfosClient, defaultDeviceName, initWasm, relayOrigin } from '@selfos/wasm';
// The bundler copies the .wasm file and gives its final URL; the package's own default (next to
// its generated module) does not survive bundling under every base path.
import wasmUrl from '@selfos/wasm/selfos_wasm_bg.wasm?url';

export const DB_NAME = 'selfos-dashboard';
/** What this replica calls itself until renamed: the browser, and that it is the dashboard's
 * replica (the extension in the same browser is another). */
const DEVICE_NAME = `${defaultDeviceName()} (dashboard)`;
const RELAY_KEY = `${DB_NAME}.relay`;
/** `syncState.unsynced` as last seen: the client cannot know it again until a peer answers. */
const UNSYNCED_KEY = `${DB_NAME}.unsynced`;

export interface StoredReplica {
  /** The relay this replica syncs through. */
  relay: string;
}

export function loadWasm(): Promise<void> {
  return initWasm(new URL(wasmUrl, document.baseURI));
}

/** The replica stored in this browser, if any; reads without unlocking. */
export async function storedReplica(): Promise<StoredReplica | null> {
  await loadWasm();
  const store = await IdbStore.open(DB_NAME);
  try {
    const entries = await store.loadAll();
    // Whether they hold a vault, and in which format, unlocking tells.
    if (entries.length === 0) return null;
    return { relay: localStorage.getItem(RELAY_KEY) ?? defaultRelay() };
  } finally {
    store.close();
  }
}

export function defaultRelay(): string {
  return location.origin.replace(/^http/, 'ws');
}

/** The relay to use: the address typed by the user, else this page's own origin (the relay serves
 * the dashboard). */
export function chooseRelay(typed: string): string {
  return typed.trim() || defaultRelay();
}

/** A new replica of the vault from its recovery kit; a mistyped kit stores nothing. */
export async function restoreVault(recoveryKit: string, passphrase: string, relay: string): Promise<SelfosClient> {
  await loadWasm();
  relayOrigin(relay); // refused before any key is derived: a typo costs no Argon2id run
  const client = await SelfosClient.restore({ dbName: DB_NAME, recoveryKit, passphrase, deviceName: DEVICE_NAME });
  localStorage.setItem(RELAY_KEY, relay);
  return client;
}

/** A new replica of the vault from the device showing `code`; a wrong code stores nothing. */
export async function joinVaultByCode(code: string, passphrase: string, relay: string): Promise<SelfosClient> {
  await loadWasm();
  const relayUrl = relayOrigin(relay);
  const client = await SelfosClient.joinByCode({
    dbName: DB_NAME,
    code: code.trim(),
    relayUrl,
    passphrase,
    deviceName: DEVICE_NAME,
  });
  localStorage.setItem(RELAY_KEY, relay);
  return client;
}

/** The JSON export of a format-1 replica stored here, which `unlockVault` refuses (`old-format`). */
export async function exportOldReplica(passphrase: string): Promise<string> {
  await loadWasm();
  return SelfosClient.exportFormat1({ dbName: DB_NAME, passphrase });
}

export async function unlockVault(passphrase: string, relay: string): Promise<SelfosClient> {
  await loadWasm();
  relayOrigin(relay); // refused before any key is derived: a typo costs no Argon2id run
  const unsynced = Number(localStorage.getItem(UNSYNCED_KEY)) || 0;
  const client = await SelfosClient.unlock({ dbName: DB_NAME, passphrase, unsynced });
  localStorage.setItem(RELAY_KEY, relay);
  return client;
}

export function rememberUnsynced(count: number): void {
  localStorage.setItem(UNSYNCED_KEY, String(count));
}

/** Deletes this browser's replica (other devices keep theirs) and what the dashboard noted. */
export async function forgetReplica(): Promise<void> {
  await IdbStore.destroy(DB_NAME);
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith(`${DB_NAME}.`)) localStorage.removeItem(key);
  }
}

