/**
 * The encrypted vault, held by the service worker (WASM, stored in the extension's IndexedDB).
 *
 * Unlocking takes the passphrase once; the worker then keeps the vault's session key in
 * `chrome.storage.session` (memory only, gone with the browser), so that a worker the browser
 * stopped and restarted resumes without asking again. Locking drops the keys and that session key.
 * With a relay address set (options page), the vault syncs through it; writes commit locally
 * whether or not the relay is reachable, and reach it when it is.
 */

import {
  IdbStore,
  SelfosClient,
  SelfosError,
  initWasm,
  isSelfosError,
  relayOrigin,
  type Content,
  type KdfParams,
  type Policy,
  type SyncState,
  type VaultResponse,
} from '@selfos/wasm';
import type { NamespacePolicy } from '../messages';
import { forgetPicks, pickAheadSoon } from './picks';

const DB = 'selfos';
/** chrome.storage.session: the session key (as numbers) and the last unsynced count. */
const SESSION_KEY = 'vault_session';
const UNSYNCED = 'vault_unsynced';
/** chrome.storage.local: whether this device holds a vault, and the relay address. */
const EXISTS = 'vault_exists';
export const RELAY = 'relay';

export interface VaultStatus {
  readonly exists: boolean;
  readonly unlocked: boolean;
  readonly sync: SyncState;
  readonly relay: string;
  /** The device pairing this browser offers, if any since the worker started. */
  readonly pairing: PairingState | null;
}

/** A pairing this browser offers: its code while open, then how it ended. */
export interface PairingState {
  readonly code: string;
  readonly state: 'open' | 'paired' | 'failed';
  /** `failed` only: what went wrong, for the user. */
  readonly error?: string;
}

let pairing: PairingState | null = null;

const OFFLINE: SyncState = {
  status: 'offline',
  peers: 0,
  unsynced: 0,
  store: { status: 'unknown', usage: null, progress: null },
};

const startWasm = (): Promise<void> => initWasm(chrome.runtime.getURL('selfos_wasm_bg.wasm'));

let current: Promise<SelfosClient | null> = Promise.resolve(null);
let sync: SyncState = OFFLINE;
const listeners = new Set<(s: SyncState) => void>();

/** Called with every change of the sync state (the badge). */
export function onSync(f: (s: SyncState) => void): void {
  listeners.add(f);
}

function setSync(s: SyncState): void {
  sync = s;
  for (const f of listeners) f(s);
}

async function relayAddress(): Promise<string> {
  const { [RELAY]: relay } = await chrome.storage.local.get(RELAY);
  return typeof relay === 'string' ? relay : '';
}

/** Keeps the client's session key, from which a restarted worker resumes. */
async function keepSessionKey(client: SelfosClient): Promise<void> {
  const key = await client.sessionKey();
  await chrome.storage.session.set({ [SESSION_KEY]: Array.from(key) });
}

/** Keeps what a restarted worker needs, listens to the client and connects it to the relay. */
async function adopt(client: SelfosClient): Promise<SelfosClient> {
  await keepSessionKey(client);
  await chrome.storage.local.set({ [EXISTS]: true });
  client.addEventListener('sync', (e) => {
    setSync(e.detail);
    void chrome.storage.session.set({ [UNSYNCED]: e.detail.unsynced });
  });
  client.addEventListener('error', (e) => console.warn('SelfOS vault:', e.detail.code, e.detail.message));
  client.addEventListener('change', () => pickAheadSoon(client));
  setSync(client.syncState);
  await connectRelay(client);
  return client;
}

async function connectRelay(client: SelfosClient): Promise<void> {
  const relay = await relayAddress();
  try {
    if (relay) await client.connect(relay);
    else await client.disconnect();
  } catch (e) {
    // A bad address must not keep the vault locked: it works offline.
    console.warn('SelfOS relay:', e);
  }
}

/** Replaces the open vault (if any) with the one `open` returns; rejects as `open` does. */
function replace(open: () => Promise<SelfosClient>): Promise<SelfosClient> {
  const next = current.then(async (old) => {
    forgetPicks();
    if (old) await old.lock();
    await startWasm();
    return adopt(await open());
  });
  current = next.catch(() => null);
  return next;
}

/** On worker start: resume the vault unlocked before the restart, if any. */
export function resumeOnStart(): void {
  current = (async () => {
    const got = await chrome.storage.session.get([SESSION_KEY, UNSYNCED]);
    const key = got[SESSION_KEY];
    if (!Array.isArray(key)) return null;
    await startWasm();
    const unsynced = typeof got[UNSYNCED] === 'number' ? got[UNSYNCED] : 0;
    try {
      return await adopt(await SelfosClient.resume({ dbName: DB, sessionKey: new Uint8Array(key), unsynced }));
    } catch (e) {
      console.warn('SelfOS: could not resume the vault', e);
      await chrome.storage.session.remove(SESSION_KEY);
      return null;
    }
  })().catch(() => null);
}

export function create(passphrase: string, kdf?: KdfParams): Promise<SelfosClient> {
  return replace(() => SelfosClient.create({ dbName: DB, passphrase, ...(kdf ? { kdf } : {}) }));
}

/**
 * A new replica of the vault from its recovery kit, under this device's own passphrase. Without
 * a relay set yet, `relay` becomes this device's relay; it is checked before the kit, so a typo in
 * it costs no Argon2id run. A mistyped kit is refused (`invalid`) and stores nothing.
 */
export function restore(recoveryKit: string, passphrase: string, relay: string, kdf?: KdfParams): Promise<SelfosClient> {
  return replace(async () => {
    const named = relay.trim() ? relayOrigin(relay.trim()) : '';
    const client = await SelfosClient.restore({ dbName: DB, recoveryKit, passphrase, ...(kdf ? { kdf } : {}) }).catch(
      (e: unknown) => {
        if (!isSelfosError(e) || e.code !== 'invalid') throw e;
        throw new SelfosError('invalid', `The recovery kit was not accepted: ${e.message}. Nothing was stored.`, { cause: e });
      },
    );
    if (named && !(await relayAddress())) await chrome.storage.local.set({ [RELAY]: named });
    return client;
  });
}

/**
 * A new replica of the vault from the device showing `code`, through the relay (the options' one,
 * or `relay` when none is set yet, which then becomes it). A wrong code stores nothing.
 */
export function joinByCode(code: string, passphrase: string, relay: string, kdf?: KdfParams): Promise<SelfosClient> {
  return replace(async () => {
    const set = await relayAddress();
    const relayUrl = set || (relay.trim() ? relayOrigin(relay.trim()) : '');
    if (!relayUrl) throw new SelfosError('invalid', 'give the relay address: both devices meet there');
    const client = await SelfosClient.joinByCode({ dbName: DB, code: code.trim(), relayUrl, passphrase, ...(kdf ? { kdf } : {}) });
    if (!set) await chrome.storage.local.set({ [RELAY]: relayUrl });
    return client;
  });
}

/**
 * Offers the vault to a new device: resolves with the one-time code to show as soon as it is
 * made; the pairing goes on in the worker (the popup may close) and its outcome shows in
 * `status().pairing`.
 */
export async function pair(): Promise<string> {
  const client = await openClient();
  const relayUrl = await relayAddress();
  if (!relayUrl) throw new SelfosError('invalid', 'set the relay in the settings first: both devices meet there');
  return new Promise((resolve, reject) => {
    let code = '';
    client
      .pair({
        relayUrl,
        onCode: (shown) => {
          code = shown;
          pairing = { code, state: 'open' };
          resolve(code);
        },
      })
      .then(
        () => {
          pairing = { code, state: 'paired' };
        },
        (e: unknown) => {
          pairing = { code, state: 'failed', error: explain(e) };
          // Before a code was shown, the popup waits for this answer; after, it reads the state.
          reject(e);
        },
      );
  });
}

export function unlock(passphrase: string): Promise<SelfosClient> {
  return replace(() => SelfosClient.unlock({ dbName: DB, passphrase }));
}

/**
 * The JSON export of the format-1 vault stored here, which `unlock` refuses (`old-format`): the
 * user imports it into a new vault. Reading it stores nothing.
 */
export async function exportFormat1(passphrase: string): Promise<string> {
  await startWasm();
  return SelfosClient.exportFormat1({ dbName: DB, passphrase });
}

export async function lock(): Promise<void> {
  const old = await current;
  current = Promise.resolve(null);
  forgetPicks();
  await chrome.storage.session.remove(SESSION_KEY);
  if (old) await old.lock();
  setSync(OFFLINE);
}

/**
 * Deletes this browser's copy of the vault (its IndexedDB database), locking it first. The other
 * devices keep theirs; answers no other device holds yet are lost, as the popup says before.
 */
export async function forget(): Promise<void> {
  await lock();
  await IdbStore.destroy(DB);
  await chrome.storage.local.remove(EXISTS);
  await chrome.storage.session.remove(UNSYNCED);
}

/** The unlocked vault, or null while locked. */
export function unlocked(): Promise<SelfosClient | null> {
  return current;
}

/** Connects again after the relay address changed. */
export async function relayChanged(): Promise<void> {
  const client = await current;
  if (client) await connectRelay(client);
}

export async function status(): Promise<VaultStatus> {
  const client = await current;
  const { [EXISTS]: exists } = await chrome.storage.local.get(EXISTS);
  return {
    exists: exists === true,
    unlocked: client !== null,
    sync: client ? sync : OFFLINE,
    relay: await relayAddress(),
    pairing,
  };
}

/** Every response of the vault (all agents), oldest first. */
export async function responses(): Promise<VaultResponse[]> {
  const client = await current;
  if (!client) return [];
  const { responses } = await client.list();
  return responses.sort((a, b) => a.created_ms - b.created_ms);
}

async function openClient(): Promise<SelfosClient> {
  const client = await current;
  if (!client) throw new Error('The vault is locked: unlock it from the SelfOS button in the toolbar.');
  return client;
}

/** The recovery kit, for the user's eyes: the caller shows it and keeps it nowhere. */
export async function recoveryKit(): Promise<string> {
  return (await openClient()).recoveryKit();
}

/**
 * Changes this device's passphrase. The session key kept for a restarted worker stops working
 * with the old wrapping, so the new one replaces it at once.
 */
export async function changePassphrase(passphrase: string, kdf?: KdfParams): Promise<void> {
  const client = await openClient();
  await client.changePassphrase(passphrase, kdf);
  await keepSessionKey(client);
}

const POLICIES: readonly Policy[] = ['last-write-wins', 'user-merge'];
const isPolicy = (v: unknown): v is Policy => POLICIES.some((p) => p === v);

/**
 * The vault, for the conflict policies; while locked, an error the options page shows as is
 * in place of its policy choices.
 */
async function policyClient(): Promise<SelfosClient> {
  const client = await current;
  if (!client) {
    throw new Error(
      'Unlock the vault (or create one) with the SelfOS button in the toolbar to choose how conflicts are handled.',
    );
  }
  return client;
}

/**
 * The namespaces a policy can be set for: those holding answers, and those of the enabled agents,
 * so that a policy can be chosen before the first answer is recorded.
 */
async function policyNamespaces(client: SelfosClient, agents: readonly string[]): Promise<string[]> {
  const names = new Set([...(await client.namespaces()), ...agents.map(namespaceOf)]);
  return [...names].sort();
}

/** The conflict policy of every namespace the vault holds or an enabled agent records to, sorted. */
export async function policies(agents: readonly string[]): Promise<NamespacePolicy[]> {
  const client = await policyClient();
  const names = await policyNamespaces(client, agents);
  return Promise.all(names.map(async (namespace) => ({ namespace, policy: await client.policy(namespace) })));
}

/** Sets a namespace's conflict policy; both come from a page, so both are checked first. */
export async function setPolicy(namespace: unknown, policy: unknown, agents: readonly string[]): Promise<void> {
  const client = await policyClient();
  if (!isPolicy(policy)) {
    throw new Error(`Not a conflict policy: ${String(policy)} (use ${POLICIES.join(' or ')}).`);
  }
  const names = await policyNamespaces(client, agents);
  if (typeof namespace !== 'string' || !names.includes(namespace)) {
    throw new Error(`Not a namespace of the vault or of an enabled agent: ${String(namespace)}.`);
  }
  await client.setPolicy(namespace, policy);
}

/** A message for the user from a failed vault operation. */
export function explain(e: unknown): string {
  if (isSelfosError(e)) {
    switch (e.code) {
      case 'wrong-passphrase':
        return 'Wrong passphrase.';
      case 'empty-passphrase':
        return 'Enter a passphrase.';
      case 'already-exists':
        return 'This browser already holds a vault: unlock it.';
      case 'not-found':
        return 'There is no vault here yet: create one or restore one from its recovery kit.';
      case 'invalid':
        return e.message.charAt(0).toUpperCase() + e.message.slice(1);
      case 'wrong-code':
        return 'The code does not match: it is used up. Start again with a new code on the other device.';
      case 'no-offer':
        return 'No device is offering this code: check the number, and that the other device shows it now.';
      case 'expired':
        return 'Nobody used the code in time: start again with a new one.';
      case 'old-format':
        return (
          'This vault is stored in an old format that this version no longer opens. Export its ' +
          'answers below, then remove this copy and create a new vault; import the export into it ' +
          'with `selfos import --from-other-vault FILE`.'
        );
      default:
        return `${e.code}: ${e.message}`;
    }
  }
  return e instanceof Error ? e.message : String(e);
}

/** Records an answer under its agent's namespace; resolves `true` once it is committed. While
 * locked nothing is recorded (the overlay asks the user to unlock instead of showing a card). */
export async function record(content: Content): Promise<boolean> {
  const client = await current;
  if (!client) return false;
  await client.record(namespaceOf(content.agent), content);
  return true;
}

/**
 * The vault namespace of an agent: its id (`chatgpt`), or for a custom rule's host
 * (`chat.example.com`) the vault's spelling of it (`chat-example-com`): 1-32 characters of
 * a-z, 0-9 and '-', starting with a letter.
 */
export function namespaceOf(agent: string): string {
  let ns = agent.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '');
  ns = ns.slice(0, 32).replace(/-+$/, '');
  return ns || 'site';
}
