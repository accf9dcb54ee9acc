// An unlocked vault in a page or a worker: the WASM vault and sync engine, IndexedDB for
// durability, a WebSocket to the relay. The WASM side is synchronous and does no IO; this class
// decides when its pending store changes are committed and when its frames are sent:
//   - a write resolves only once its changes are committed to IndexedDB;
//   - a frame from the relay is applied and committed before any reply is sent, so no peer is
//     told we hold changes that a crash could still lose;
//   - every operation, the caller's and the socket's, runs in one queue, so commits reach
//     IndexedDB in the order the vault made them.

import { SelfosError, toSelfosError } from './errors.js';
import { IdbStore } from './idb-store.js';
import { RelayTransport } from './transport.js';
import type {
  Answer,
  CardPick,
  Content,
  DamagedEntry,
  DeleteReport,
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
import { initWasm, KnowledgeGraph, SyncEngine, Trainer, Vault } from './wasm.js';

/** Compaction runs once writes have paused this long, off the write path. */
const MAINTAIN_IDLE_MS = 2_000;

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

export interface CreateOptions {
  dbName: string;
  passphrase: string;
  /** Argon2id parameters; the vault's default when absent. */
  kdf?: KdfParams;
}

export interface JoinOptions {
  dbName: string;
  /** The `selfos:...` link of another device (nothing secret in it). */
  link: string;
  passphrase: string;
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
  #transport: RelayTransport | null = null;
  #engine: SyncEngine | null = null;
  #locking: Promise<void> | undefined;
  #sync: SyncState = { status: 'offline', peers: 0, unsynced: 0 };
  #maintainTimer: ReturnType<typeof setTimeout> | undefined;
  /** The knowledge graph of the answers as last committed; rebuilt after any change. */
  #graph: KnowledgeGraph | null = null;
  #trainer: Trainer | null = null;

  private constructor(vault: Vault, store: IdbStore) {
    super();
    this.#vault = vault;
    this.#store = store;
    this.id = vault.id;
    this.replica = vault.replica;
  }

  /** A new vault in an empty database. */
  static create({ dbName, passphrase, kdf }: CreateOptions): Promise<SelfosClient> {
    return SelfosClient.#start(dbName, async (store) => {
      await ensureEmpty(store, dbName);
      return Vault.create(passphrase, kdf ?? null);
    });
  }

  /** A new replica of another device's vault, in an empty database. */
  static join({ dbName, link, passphrase }: JoinOptions): Promise<SelfosClient> {
    return SelfosClient.#start(dbName, async (store) => {
      await ensureEmpty(store, dbName);
      return Vault.join(link, passphrase);
    });
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
    return { ...this.#sync };
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

  exportJson(): Promise<string> {
    return this.#call((v) => v.exportJson());
  }

  exportMarkdown(): Promise<string> {
    return this.#call((v) => v.exportMarkdown());
  }

  importJson(json: string): Promise<ImportReport> {
    return this.#write(
      (v) => v.importJson(json, Date.now()),
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
    this.#graph ??= KnowledgeGraph.build(vault, Date.now());
    return this.#graph;
  }

  /**
   * A key that unlocks this vault again without the passphrase (`SelfosClient.resume`). Secret:
   * keep it only in memory-only storage such as `chrome.storage.session`, never on disk.
   */
  sessionKey(): Promise<Uint8Array> {
    return this.#call((v) => v.sessionKey());
  }

  /** The link another device joins with; `relay` is the relay it should meet this one at. */
  link(relay?: string): Promise<string> {
    return this.#call((v) => v.link(relay ?? null));
  }

  /** Syncs through the relay at `relayUrl` (its origin, `ws://` or `wss://`) until `disconnect()`,
   * reconnecting with backoff whenever the connection drops. */
  connect(relayUrl: string): Promise<void> {
    return this.#call(async (vault) => {
      const url = relayOrigin(relayUrl);
      await this.#dropConnection(vault);
      const transport: RelayTransport = new RelayTransport(url, {
        connecting: () => this.#setSync('connecting'),
        open: () => this.#background((v) => this.#startSession(transport, v, url)),
        message: (frame) => this.#background((v) => this.#onFrame(transport, v, frame)),
        close: (code, reason, retryInMs) =>
          this.#background((v) => this.#onClose(transport, v, code, reason, retryInMs)),
      });
      this.#transport = transport;
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
      // The write is durable; telling peers about it is best effort (they catch up on the next
      // connection), so a failure here is an event, not a rejection of the write.
      const engine = this.#engine;
      if (engine) {
        try {
          engine.localChange(vault);
        } catch (error) {
          this.#emit('error', toSelfosError(error));
        }
        this.#flush(engine);
      }
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
    if (ops.length > 0) this.#dropGraph();
    try {
      await this.#store.commit(ops);
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

  async #startSession(transport: RelayTransport, vault: Vault, url: string): Promise<void> {
    if (transport !== this.#transport) return;
    let engine: SyncEngine;
    try {
      engine = new SyncEngine(vault, url, Date.now());
    } catch (error) {
      await this.#dropConnection(vault); // an address the engine refuses stays refused
      throw error;
    }
    this.#engine = engine;
    this.#flush(engine);
    this.#drain(engine);
  }

  async #onFrame(transport: RelayTransport, vault: Vault, frame: Uint8Array): Promise<void> {
    const engine = this.#engine;
    if (transport !== this.#transport || !engine) return;
    try {
      engine.handleFrame(vault, frame, Date.now());
    } catch (error) {
      // A refused frame (a challenge for another relay address, a malformed frame) means this
      // connection cannot sync, and a new one would fail the same way: stop, as the CLI does.
      await this.#dropConnection(vault);
      throw error;
    }
    await this.#commit(vault);
    this.#flush(engine);
    this.#drain(engine);
    if (this.#sync.unsynced > 0 && engine.inSync(vault)) this.#setSync(this.#sync.status, 0);
  }

  async #onClose(
    transport: RelayTransport,
    vault: Vault,
    code: number,
    reason: string,
    retryInMs: number | null,
  ): Promise<void> {
    if (transport !== this.#transport) return;
    await this.#endSession(vault);
    if (retryInMs === null) {
      this.#transport = null;
      const why = reason ? `: ${reason}` : '';
      this.#emit('error', new SelfosError('sync', `the relay closed the connection for good (${code}${why})`));
    }
    this.#setSync('offline');
  }

  async #dropConnection(vault: Vault): Promise<void> {
    this.#transport?.close();
    this.#transport = null;
    await this.#endSession(vault);
    this.#setSync('offline');
  }

  /** Ends the engine of a connection that is gone, saving its sync state. */
  async #endSession(vault: Vault): Promise<void> {
    const engine = this.#engine;
    if (!engine) return;
    this.#engine = null;
    try {
      engine.disconnected(vault);
      this.#drain(engine);
    } finally {
      engine.free();
    }
    await this.#commit(vault);
  }

  #flush(engine: SyncEngine): void {
    for (let frame = engine.pollTransmit(); frame; frame = engine.pollTransmit()) {
      this.#transport?.send(frame);
    }
  }

  #drain(engine: SyncEngine): void {
    const changed = new Set<string>();
    for (let event = engine.pollEvent(); event; event = engine.pollEvent()) {
      switch (event.type) {
        case 'joined':
          this.#transport?.joined();
          this.#setSync('joined');
          // Devices already in the room are announced only here, not by `peer-joined`.
          for (const peer of engine.peers()) this.#emit('peer', { peer, present: true });
          break;
        case 'peer-joined':
        case 'peer-left':
          this.#emit('peer', { peer: event.peer, present: event.type === 'peer-joined' });
          this.#setSync(this.#sync.status);
          break;
        case 'changed':
          changed.add(event.namespace);
          break;
        case 'rejected':
          this.#emit('warning', { message: `refused a message from device ${event.from}: ${event.reason}` });
          break;
        case 'relay-error':
          // A fatal one is followed by a close code, reported on close.
          this.#emit('warning', { message: `relay error ${event.code}: ${event.message}` });
          break;
        case 'warning':
          this.#emit('warning', { message: event.message });
          break;
      }
    }
    if (changed.size > 0) this.#emit('change', { source: 'remote', namespaces: [...changed] });
  }

  #setSync(status: SyncStatus, unsynced = this.#sync.unsynced): void {
    const peers = status === 'joined' ? (this.#engine?.peers().length ?? 0) : 0;
    const same = status === this.#sync.status && peers === this.#sync.peers && unsynced === this.#sync.unsynced;
    if (same) return;
    this.#sync = { status, peers, unsynced };
    this.#emit('sync', { ...this.#sync });
  }

  #dropGraph(): void {
    this.#graph?.free();
    this.#graph = null;
  }

  /** Drops everything at once; safe to call twice. */
  #teardown(): void {
    this.#dropGraph();
    this.#trainer?.free();
    this.#trainer = null;
    this.#lockRequested = true;
    clearTimeout(this.#maintainTimer);
    this.#transport?.close();
    this.#transport = null;
    const engine = this.#engine;
    const vault = this.#vault;
    this.#engine = null;
    this.#vault = null;
    engine?.free();
    vault?.free();
    this.#store.close();
    this.#setSync('offline');
  }

  #emit<K extends keyof SelfosClientEventMap>(type: K, detail: SelfosClientEventMap[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
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

function relayOrigin(relayUrl: string): string {
  const url = URL.canParse(relayUrl) ? new URL(relayUrl) : null;
  if (url?.protocol !== 'ws:' && url?.protocol !== 'wss:') {
    throw new SelfosError('invalid', `not a relay address (ws:// or wss://): ${relayUrl}`);
  }
  return relayUrl.replace(/\/+$/, '');
}
