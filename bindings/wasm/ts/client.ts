// An unlocked vault in a page or a worker: the WASM vault and sync engine, IndexedDB for
// durability, a WebSocket to the relay. The WASM side is synchronous and does no IO; this class
// decides when its pending store changes are committed, and its relay session (session.ts) when
// the engine's frames are sent:
//   - a write resolves only once its changes are committed to IndexedDB;
//   - a frame from the relay is applied and committed before any reply is sent, so no peer is
//     told we hold changes that a crash could still lose;
//   - every operation, the caller's and the socket's, runs in one queue, so commits reach
//     IndexedDB in the order the vault made them.

import { defaultDeviceName } from './device-name.js';
import { SelfosError, toSelfosError } from './errors.js';
import type { SelfosClientEventMap, StoreState, SyncState, SyncStatus } from './events.js';
import { IdbStore } from './idb-store.js';
import { DEFAULT_EXPIRY_MS, DEFAULT_OFFER_WAIT_MS, receiveVault, runOffer } from './pairing.js';
import { RelaySession, type SessionHost } from './session.js';
import { relayOrigin } from './relay-address.js';
import type {
  Answer,
  CardPick,
  Content,
  DamagedEntry,
  DeleteReport,
  DeviceName,
  GraphJson,
  ImportReport,
  KdfParams,
  Listing,
  NodeEmbedding,
  Policy,
  Resolution,
  SeriesPeriod,
  SeriesPoint,
  Snippet,
  SnippetTarget,
  Status,
  VaultConflict,
  VaultResponse,
} from './types.js';
import { initWasm, KnowledgeGraph, PairingCode, PairingOffer, Trainer, Vault } from './wasm.js';

/** Compaction runs once writes have paused this long, off the write path. */
const MAINTAIN_IDLE_MS = 2_000;

/** The performance measure of the latest commit to IndexedDB. */
const STORE_COMMIT = 'selfos:store-commit';

export interface CreateOptions {
  dbName: string;
  passphrase: string;
  /** Argon2id parameters; the vault's default when absent. */
  kdf?: KdfParams;
  /** This device's name as the vault's other devices show it; `defaultDeviceName()` when absent. */
  deviceName?: string;
}

export interface RestoreOptions {
  dbName: string;
  /** The vault's recovery kit: its 24 words, as `recoveryKit()` printed them on another device. */
  recoveryKit: string;
  /** This device's own passphrase (it need not be the other devices'). */
  passphrase: string;
  /** Argon2id parameters; the vault's default when absent. */
  kdf?: KdfParams;
  /** This device's name as the vault's other devices show it; `defaultDeviceName()` when absent. */
  deviceName?: string;
}

export interface PairOptions {
  /** The relay both devices reach (`wss://`, or `ws://` to this machine; see `relayOrigin`). It
   * goes to the new device with the vault secret, so that it syncs where this one does. */
  relayUrl: string;
  /** How long the code stays usable; 10 minutes when absent. */
  expiryMs?: number;
  /** Called once, before the other device can use it, with the code to show the user. */
  onCode(code: string): void;
}

export interface JoinByCodeOptions {
  dbName: string;
  /** The one-time code another device of the vault shows (`pair`, or `selfos pair`). */
  code: string;
  /** The relay that device pairs through. */
  relayUrl: string;
  /** This device's own passphrase (it need not be the other devices'). */
  passphrase: string;
  /** Argon2id parameters; the vault's default when absent. */
  kdf?: KdfParams;
  /** How long to wait for the offering device, and then for each of its answers; 30 s when absent. */
  offerWaitMs?: number;
  /** This device's name as the vault's other devices show it; `defaultDeviceName()` when absent. */
  deviceName?: string;
}

export interface NextCardOptions {
  /** The agent the user waits for (`chatgpt`, `claude`, ...). */
  agent: string;
  /** How long the answer is expected to take; the card must fit. */
  expectedWaitMs: number;
  /** How long ago the prompt went out (0: just now). */
  elapsedMs?: number;
}

export interface UnlockOptions {
  dbName: string;
  passphrase: string;
  /** `syncState.unsynced` as it was when this replica was last open, if the host kept it. */
  unsynced?: number;
}

export interface ResumeOptions {
  dbName: string;
  /** From `sessionKey()` of an earlier client of the same vault, on this device. */
  sessionKey: Uint8Array;
  /** `syncState.unsynced` as it was when this replica was last open, if the host kept it. */
  unsynced?: number;
}

type Listener<E> = ((event: E) => void) | { handleEvent(event: E): void };

export interface SelfosClient {
  addEventListener<K extends keyof SelfosClientEventMap>(
    type: K,
    listener: Listener<SelfosClientEventMap[K]> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof SelfosClientEventMap>(
    type: K,
    listener: Listener<SelfosClientEventMap[K]> | null,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

export class SelfosClient extends EventTarget {
  readonly id: string;
  readonly replica: string;
  #vault: Vault | null;
  readonly #store: IdbStore;
  #queue: Promise<unknown> = Promise.resolve();
  /** Set at once by `lock()`, while the lock itself waits for earlier operations. */
  #lockRequested = false;
  /** The relay connection since `connect()`, until `disconnect()` or the relay gives up. */
  #session: RelaySession | null = null;
  readonly #sessionHost: SessionHost = {
    background: (task) => this.#background(task),
    commit: (vault) => this.#commit(vault),
    status: (status) => this.#setSync(status),
    peersChanged: () => this.#setSync(this.#sync.status),
    applied: (inSync) => {
      if (this.#sync.unsynced > 0 && inSync()) this.#setSync(this.#sync.status, 0);
    },
    store: (store) => {
      // Usage the relay said on an earlier connection stays until this one says it again.
      const usage = store.status === 'disabled' ? null : (store.usage ?? this.#sync.store.usage);
      this.#setSync(this.#sync.status, this.#sync.unsynced, { ...store, usage });
    },
    emit: (type, detail) => this.#emit(type, detail),
  };
  #locking: Promise<void> | undefined;
  #sync: SyncState = { status: 'offline', peers: 0, unsynced: 0, store: { status: 'unknown', usage: null, progress: null } };
  #maintainTimer: ReturnType<typeof setTimeout> | undefined;
  /** The knowledge graph of the answers; refreshed (reading only what changed) once stale. */
  #graph: KnowledgeGraph | null = null;
  /** Set by every commit: the graph misses what it committed. */
  #graphStale = false;
  #trainer: Trainer | null = null;

  private constructor(vault: Vault, store: IdbStore) {
    super();
    this.#vault = vault;
    this.#store = store;
    this.id = vault.id;
    this.replica = vault.replica;
  }

  /** A new vault in an empty database. */
  static create({ dbName, passphrase, kdf, deviceName }: CreateOptions): Promise<SelfosClient> {
    return SelfosClient.#start(dbName, async (store) => {
      await ensureEmpty(store, dbName);
      return named(Vault.create(passphrase, kdf ?? null), deviceName);
    });
  }

  /** A new replica of a vault from its recovery kit, in an empty database. A mistyped kit
   * rejects with `invalid` and stores nothing. */
  static restore({ dbName, recoveryKit, passphrase, kdf, deviceName }: RestoreOptions): Promise<SelfosClient> {
    return SelfosClient.#start(dbName, async (store) => {
      await ensureEmpty(store, dbName);
      return named(Vault.restore(recoveryKit, passphrase, kdf ?? null), deviceName);
    });
  }

  /**
   * A new replica of a vault from another device that offers it under the one-time `code`, in an
   * empty database. A wrong code rejects with `wrong-code` on both devices and stores nothing;
   * the other codes are `no-offer`, `relay`, `pairing` and `invalid` (a mistyped code).
   */
  static joinByCode({
    dbName,
    code,
    relayUrl,
    passphrase,
    kdf,
    offerWaitMs,
    deviceName,
  }: JoinByCodeOptions): Promise<SelfosClient> {
    return SelfosClient.#start(dbName, async (store) => {
      const url = relayOrigin(relayUrl);
      await ensureEmpty(store, dbName);
      const vault = await receiveVault(code, url, offerWaitMs ?? DEFAULT_OFFER_WAIT_MS, (accept) =>
        accept.restore(passphrase, kdf ?? null),
      );
      return named(vault, deviceName);
    });
  }

  /**
   * The JSON export of a format-1 vault stored in the database (a format this version opens for
   * nothing else). Import it into a new vault with `importJson(json, { fromOtherVault: true })`.
   */
  static async exportFormat1({ dbName, passphrase }: { dbName: string; passphrase: string }): Promise<string> {
    await initWasm();
    const store = await IdbStore.open(dbName);
    try {
      return Vault.exportFormat1(await store.loadAll(), passphrase);
    } catch (error) {
      throw toSelfosError(error);
    } finally {
      store.close();
    }
  }

  /** Unlocks the vault stored in the database. A wrong passphrase changes nothing stored. */
  static unlock({ dbName, passphrase, unsynced = 0 }: UnlockOptions): Promise<SelfosClient> {
    return SelfosClient.#start(dbName, async (store) => Vault.open(await store.loadAll(), passphrase), unsynced);
  }

  /**
   * Unlocks again with a session key instead of the passphrase (no Argon2id): for a process
   * that replaces an earlier one on the same device, such as an extension's restarted service
   * worker. A key of another vault rejects with `wrong-session-key` and changes nothing.
   */
  static resume({ dbName, sessionKey, unsynced = 0 }: ResumeOptions): Promise<SelfosClient> {
    return SelfosClient.#start(dbName, async (store) => Vault.resume(await store.loadAll(), sessionKey), unsynced);
  }

  static async #start(
    dbName: string,
    make: (store: IdbStore) => Promise<Vault>,
    unsynced = 0,
  ): Promise<SelfosClient> {
    await initWasm();
    const store = await IdbStore.open(dbName);
    let vault: Vault | undefined;
    try {
      vault = await make(store);
      await store.commit(vault.takePending());
      const client = new SelfosClient(vault, store);
      client.#sync.unsynced = unsynced;
      return client;
    } catch (error) {
      vault?.free();
      store.close();
      throw toSelfosError(error);
    }
  }

  get syncState(): SyncState {
    return copySync(this.#sync);
  }

  record(namespace: string, content: Content): Promise<VaultResponse> {
    return this.#write((v) => v.record(namespace, content, Date.now()), (r) => [r.namespace]);
  }

  get(id: string): Promise<VaultResponse | undefined> {
    return this.#call((v) => v.get(id));
  }

  list(namespace?: string): Promise<Listing> {
    return this.#call((v) => v.list(namespace ?? null));
  }

  namespaces(): Promise<string[]> {
    return this.#call((v) => v.namespaces());
  }

  /** Changes the answer, the status, or both (leave the other out). */
  edit(id: string, answer?: Answer | null, status?: Status | null): Promise<VaultResponse> {
    return this.#write((v) => v.edit(id, answer ?? null, status ?? null, Date.now()), (r) => [r.namespace]);
  }

  delete(id: string): Promise<DeleteReport> {
    return this.#write((v) => v.delete(id, Date.now()), () => [namespaceOf(id)]);
  }

  conflicts(): Promise<VaultConflict[]> {
    return this.#call((v) => v.conflicts());
  }

  resolve(id: string, resolution: Resolution): Promise<VaultResponse> {
    return this.#write((v) => v.resolve(id, resolution, Date.now()), (r) => [r.namespace]);
  }

  policy(namespace: string): Promise<Policy> {
    return this.#call((v) => v.policy(namespace));
  }

  setPolicy(namespace: string, policy: Policy): Promise<void> {
    return this.#write((v) => v.setPolicy(namespace, policy, Date.now()), () => [namespace]);
  }

  /** Every named device of the vault. */
  deviceNames(): Promise<DeviceName[]> {
    return this.#call((v) => v.deviceNames());
  }

  /** Names a device of the vault (this one when `replica` is absent); syncs like any change. A
   * name must be 1 to 64 bytes, without control characters (`invalid` otherwise). */
  setDeviceName(name: string, replica: string = this.replica): Promise<void> {
    return this.#write((v) => v.setDeviceName(replica, name, Date.now()), () => ['settings']);
  }

  exportJson(): Promise<string> {
    return this.#call((v) => v.exportJson());
  }

  exportMarkdown(): Promise<string> {
    return this.#call((v) => v.exportMarkdown());
  }

  /**
   * Imports a JSON export of this vault. An export of another vault is refused (`other-vault`,
   * naming both vaults) unless `options.fromOtherVault` is true.
   */
  importJson(json: string, options: { fromOtherVault?: boolean } = {}): Promise<ImportReport> {
    return this.#write(
      (v) => v.importJson(json, Date.now(), options.fromOtherVault ?? false),
      (r, v) => (r.added > 0 ? v.namespaces() : []),
    );
  }

  /** Stored entries that could not be read at unlock; they are left untouched. */
  damaged(): Promise<DamagedEntry[]> {
    return this.#call((v) => v.damaged());
  }

  /** The knowledge graph of every readable answer: nodes, links and alignment metrics. */
  graph(): Promise<GraphJson> {
    return this.#call((v) => this.#knowledge(v).toJson());
  }

  /**
   * Alignment metrics by agent per day or week, from the same answers and definitions as the
   * graph's totals: one point per period that holds an answer of the agent, oldest first.
   */
  alignmentSeries(period: SeriesPeriod): Promise<Record<string, SeriesPoint[]>> {
    return this.#call((v) => this.#knowledge(v).alignmentSeries(period));
  }

  /** Instruction text for `target`, every line naming the answers behind it. */
  snippet(target: SnippetTarget): Promise<Snippet> {
    return this.#call((v) => this.#knowledge(v).snippet(target));
  }

  /** 16-dimensional embeddings of the graph's nodes. */
  embeddings(): Promise<NodeEmbedding[]> {
    return this.#call((v) => this.#knowledge(v).embeddings());
  }

  /** The micro-training card to show during this wait, or `undefined` when none fits. */
  nextCard({ agent, expectedWaitMs, elapsedMs = 0 }: NextCardOptions): Promise<CardPick | undefined> {
    return this.#call((v) => {
      this.#trainer ??= new Trainer();
      const weak = this.#knowledge(v).weakTopics();
      return this.#trainer.next(v, agent, expectedWaitMs, elapsedMs, Date.now(), weak);
    });
  }

  #knowledge(vault: Vault): KnowledgeGraph {
    if (!this.#graph) this.#graph = KnowledgeGraph.build(vault, Date.now());
    else if (this.#graphStale) this.#graph.refresh(vault, Date.now());
    this.#graphStale = false;
    return this.#graph;
  }

  /**
   * A key that unlocks this vault again without the passphrase (`SelfosClient.resume`). Secret:
   * keep it only in memory-only storage such as `chrome.storage.session`, never on disk.
   */
  sessionKey(): Promise<Uint8Array> {
    return this.#call((v) => v.sessionKey());
  }

  /**
   * The recovery kit: the vault secret as 24 words, the one way to add a device when no other is
   * online. Secret: show it to the user, who keeps it offline; never store or send it.
   */
  recoveryKit(): Promise<string> {
    return this.#call((v) => v.recoveryKit());
  }

  /**
   * Wraps the vault secret under a new passphrase on this device only; nothing syncs and the other
   * devices keep theirs. Session keys from before stop working: take a new `sessionKey()`.
   */
  changePassphrase(passphrase: string, kdf?: KdfParams): Promise<void> {
    return this.#call(async (vault) => {
      vault.changePassphrase(passphrase, kdf ?? null);
      await this.#commit(vault);
    });
  }

  /**
   * Adds a device: shows a fresh one-time code through `onCode`, and hands the vault secret and
   * the relay address to the device that enters it (`joinByCode`, or `selfos join --code`).
   * Resolves once that device acknowledged. The code allows one attempt; failures reject with
   * `wrong-code`, `expired`, `relay` or `pairing`. Other operations go on meanwhile.
   */
  async pair({ relayUrl, expiryMs = DEFAULT_EXPIRY_MS, onCode }: PairOptions): Promise<void> {
    const url = relayOrigin(relayUrl);
    const code = PairingCode.generate();
    try {
      // Only the grant is built under the queue: the minutes the code is open block nothing.
      const offer = await this.#call((vault) => new PairingOffer(vault, code, url));
      try {
        onCode(code.toString());
        await runOffer(offer, code, url, expiryMs);
      } finally {
        offer.free();
      }
    } finally {
      code.free();
    }
  }

  /** Syncs through the relay at `relayUrl` (its origin: `wss://`, or `ws://` to this machine, see
   * `relayOrigin`) until `disconnect()`,
   * reconnecting with backoff whenever the connection drops. */
  connect(relayUrl: string): Promise<void> {
    return this.#call(async (vault) => {
      const url = relayOrigin(relayUrl);
      await this.#dropConnection(vault);
      this.#session = new RelaySession(url, this.#sessionHost);
    });
  }

  disconnect(): Promise<void> {
    return this.#call((vault) => this.#dropConnection(vault));
  }

  /**
   * Waits for earlier operations, saves the sync state, then drops (and zeroizes) the keys and
   * closes the socket and the database. Every later call rejects with code `locked`; unlock
   * with `SelfosClient.unlock` again.
   */
  lock(): Promise<void> {
    if (!this.#lockRequested) {
      this.#lockRequested = true;
      clearTimeout(this.#maintainTimer);
      this.#locking = this.#enqueue((vault) => this.#dropConnection(vault))
        .catch(() => undefined) // a failed last commit has locked the client already
        .finally(() => this.#teardown());
    }
    return this.#locking ?? Promise.resolve();
  }

  /** Runs `task` after every earlier operation, with the vault, unless the client is locked. */
  #enqueue<T>(task: (vault: Vault) => T | Promise<T>): Promise<T> {
    const run = this.#queue
      .then(() => {
        if (!this.#vault) throw lockedError();
        return task(this.#vault);
      })
      .catch((error: unknown) => {
        throw toSelfosError(error); // a WASM trap or a DOMException gets a code too
      });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** An operation the app asked for: refused at once once a lock was requested. */
  #call<T>(task: (vault: Vault) => T | Promise<T>): Promise<T> {
    if (this.#lockRequested) return Promise.reject(lockedError());
    return this.#enqueue(task);
  }

  /** An operation nobody awaits (socket events, compaction): failures become `error` events. */
  #background(task: (vault: Vault) => Promise<void>): void {
    this.#enqueue(task).catch((error: SelfosError) => {
      if (error.code !== 'locked') this.#emit('error', error);
    });
  }

  #write<T>(apply: (vault: Vault) => T, changed: (result: T, vault: Vault) => string[]): Promise<T> {
    return this.#call(async (vault) => {
      const result = apply(vault);
      await this.#commit(vault);
      this.#setSync(this.#sync.status, this.#sync.unsynced + 1);
      this.#session?.localChange(vault);
      this.#scheduleMaintain();
      const namespaces = changed(result, vault);
      if (namespaces.length > 0) this.#emit('change', { source: 'local', namespaces });
      return result;
    });
  }

  /** Commits every pending store change. If that fails, the vault in memory is ahead of storage,
   * so the client locks: unlocking again reloads what was committed, which is intact. */
  async #commit(vault: Vault): Promise<void> {
    const ops = vault.takePending();
    if (ops.length > 0) this.#graphStale = true;
    try {
      const started = performance.now();
      await this.#store.commit(ops);
      // The latest commit's time, for benches and DevTools (one entry, replaced each time).
      performance.clearMeasures(STORE_COMMIT);
      performance.measure(STORE_COMMIT, { start: started });
    } catch (error) {
      this.#teardown();
      const cause = toSelfosError(error);
      throw new SelfosError(
        cause.code,
        `${cause.message}. The vault is now locked; everything saved before this is intact: ` +
          'free some storage space, then unlock again.',
        { cause: error },
      );
    }
  }

  #scheduleMaintain(): void {
    clearTimeout(this.#maintainTimer);
    this.#maintainTimer = setTimeout(
      () =>
        this.#background(async (vault) => {
          vault.maintain();
          await this.#commit(vault);
        }),
      MAINTAIN_IDLE_MS,
    );
  }

  /** Ends the relay session, if any, saving its sync state; the status is then `offline`. */
  async #dropConnection(vault: Vault): Promise<void> {
    const session = this.#session;
    this.#session = null;
    await session?.close(vault);
  }

  #setSync(status: SyncStatus, unsynced = this.#sync.unsynced, store = this.#sync.store): void {
    const peers = status === 'joined' ? (this.#session?.peers ?? 0) : 0;
    // Without a connection nothing is known of the store but what it last said.
    if (status !== 'joined') store = { status: 'unknown', usage: store.usage, progress: null };
    const old = this.#sync;
    const same =
      status === old.status && peers === old.peers && unsynced === old.unsynced && sameStore(store, old.store);
    if (same) return;
    this.#sync = { status, peers, unsynced, store };
    this.#emit('sync', copySync(this.#sync));
  }

  /** Drops everything at once; safe to call twice. */
  #teardown(): void {
    this.#graph?.free();
    this.#graph = null;
    this.#trainer?.free();
    this.#trainer = null;
    this.#lockRequested = true;
    clearTimeout(this.#maintainTimer);
    this.#session?.free();
    this.#session = null;
    const vault = this.#vault;
    this.#vault = null;
    vault?.free();
    this.#store.close();
    this.#setSync('offline');
  }

  #emit<K extends keyof SelfosClientEventMap>(type: K, detail: SelfosClientEventMap[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/** A copy the app may keep or change without touching the client's own. */
function copySync(s: SyncState): SyncState {
  const { usage, progress } = s.store;
  return {
    ...s,
    store: { status: s.store.status, usage: usage && { ...usage }, progress: progress && { ...progress } },
  };
}

function sameStore(a: StoreState, b: StoreState): boolean {
  const { usage: x, progress: p } = a;
  const { usage: y, progress: q } = b;
  const sameUsage =
    x === y ||
    (x !== null &&
      y !== null &&
      x.bytes === y.bytes &&
      x.maxBytes === y.maxBytes &&
      x.blobs === y.blobs &&
      x.maxBlobs === y.maxBlobs &&
      x.lastUploadMs === y.lastUploadMs);
  const sameProgress =
    p === q || (p !== null && q !== null && p.fetchedBytes === q.fetchedBytes && p.totalBytes === q.totalBytes);
  return a.status === b.status && sameUsage && sameProgress;
}

/** A new replica, named `name` (or after this browser) before anything of it is stored. */
function named(vault: Vault, name: string | undefined): Vault {
  try {
    vault.setDeviceName(vault.replica, name ?? defaultDeviceName(), Date.now());
    return vault;
  } catch (error) {
    vault.free();
    throw error;
  }
}

async function ensureEmpty(store: IdbStore, dbName: string): Promise<void> {
  if ((await store.loadAll()).length > 0) {
    throw new SelfosError('already-exists', `a vault is already stored in database ${dbName}`);
  }
}

function lockedError(): SelfosError {
  return new SelfosError('locked', 'the vault is locked: unlock it again');
}

/** Ids are `namespace/recordhex`. */
function namespaceOf(id: string): string {
  return id.slice(0, Math.max(0, id.lastIndexOf('/')));
}

