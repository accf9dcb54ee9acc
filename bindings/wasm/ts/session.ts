// The relay session: the sync engine (WASM, sans-IO) driven over the relay transport. The
// transport reconnects by itself; each connection it opens gets a new engine, and the engine's
// sync state is saved in the vault when that connection ends. The client that owns a session
// keeps the vault, the operation queue and the app-facing state; the session reaches them only
// through its `SessionHost`:
//   - every socket event runs as a background operation in the client's queue;
//   - a frame from the relay is applied and committed before any reply is sent, so no peer is
//     told we hold changes that a crash could still lose;
//   - the engine itself catches up from the relay's store after the join and uploads what the
//     store lacks; the session reports where the store stands after every step.

import { SelfosError, toSelfosError } from './errors.js';
import type { SelfosClientEventMap, StoreProgress, StoreState, SyncStatus } from './events.js';
import { RelayTransport } from './transport.js';
import { SyncEngine, type Vault } from './wasm.js';

/** What a session needs from the client that owns it. */
export interface SessionHost {
  /** Runs `task` after every earlier operation of the client, with its vault; a failure becomes
   * an `error` event. */
  background(task: (vault: Vault) => Promise<void>): void;
  /** Commits the vault's pending store changes; rejects (and locks the client) when that fails. */
  commit(vault: Vault): Promise<void>;
  /** The connection is now in `status`. */
  status(status: SyncStatus): void;
  /** Devices joined or left the room. */
  peersChanged(): void;
  /** A frame was applied and answered; `inSync()` (not free) tells whether the relay's store or
   * the peers now hold every local change. */
  applied(inSync: () => boolean): void;
  /** Where the relay's store stands, after every step of the engine (`usage` null: not said on
   * this connection yet). */
  store(state: StoreState): void;
  emit<K extends keyof SelfosClientEventMap>(type: K, detail: SelfosClientEventMap[K]['detail']): void;
}

/** How often the open connection's engine checks for a stalled exchange (it starts one over
 * after 15 s with no message from the peer). */
const TICK_MS = 5_000;

export class RelaySession {
  readonly #host: SessionHost;
  /** Null once the session is closed, or the transport gave up. */
  #transport: RelayTransport | null;
  /** The engine of the open connection, if any. */
  #engine: SyncEngine | null = null;
  /** Runs the open engine's `tick`. */
  #ticker: ReturnType<typeof setInterval> | null = null;
  /** The open connection's catch-up from the store, as last reported. */
  #progress: StoreProgress | null = null;

  /** Connects at once to the relay at `url` (a checked `ws://` or `wss://` origin). */
  constructor(url: string, host: SessionHost) {
    this.#host = host;
    const transport: RelayTransport = new RelayTransport(url, {
      connecting: () => host.status('connecting'),
      open: () => host.background((v) => this.#start(transport, v, url)),
      message: (frame) => host.background((v) => this.#onFrame(transport, v, frame)),
      close: (code, reason, retryInMs) => host.background((v) => this.#onClose(transport, v, code, reason, retryInMs)),
    });
    this.#transport = transport;
  }

  /** Other devices in the room, as the open connection's engine knows them. */
  get peers(): number {
    return this.#engine?.peers().length ?? 0;
  }

  /** Tells the peers about a committed local write. That is best effort (they catch up on the
   * next connection), so a failure here is an `error` event, not a rejection of the write. */
  localChange(vault: Vault): void {
    const engine = this.#engine;
    if (!engine) return;
    try {
      engine.localChange(vault);
    } catch (error) {
      this.#host.emit('error', toSelfosError(error));
    }
    this.#flush(engine);
    this.#drain(engine);
  }

  /** Closes the socket for good and ends the open connection's engine, saving its sync state. */
  async close(vault: Vault): Promise<void> {
    this.#transport?.close();
    this.#transport = null;
    await this.#end(vault);
    this.#host.status('offline');
  }

  /** Closes the socket and frees the engine without saving anything: the client is locking. */
  free(): void {
    this.#transport?.close();
    this.#transport = null;
    this.#stopTicker();
    const engine = this.#engine;
    this.#engine = null;
    engine?.free();
  }

  async #start(transport: RelayTransport, vault: Vault, url: string): Promise<void> {
    if (transport !== this.#transport) return;
    let engine: SyncEngine;
    try {
      engine = new SyncEngine(vault, url, Date.now());
    } catch (error) {
      await this.close(vault); // an address the engine refuses stays refused
      throw error;
    }
    this.#engine = engine;
    this.#ticker = setInterval(() => this.#host.background((v) => this.#tick(engine, v)), TICK_MS);
    this.#flush(engine);
    this.#drain(engine);
  }

  /** Lets the engine restart an exchange that a lost message stalled. */
  async #tick(engine: SyncEngine, vault: Vault): Promise<void> {
    if (engine !== this.#engine) return;
    engine.tick(vault, Date.now());
    this.#flush(engine);
    this.#drain(engine);
  }

  #stopTicker(): void {
    if (this.#ticker !== null) clearInterval(this.#ticker);
    this.#ticker = null;
  }

  async #onFrame(transport: RelayTransport, vault: Vault, frame: Uint8Array): Promise<void> {
    const engine = this.#engine;
    if (transport !== this.#transport || !engine) return;
    try {
      engine.handleFrame(vault, frame, Date.now());
    } catch (error) {
      // A refused frame (a challenge for another relay address, a malformed frame) means this
      // connection cannot sync, and a new one would fail the same way: stop, as the CLI does.
      // A peer's message never lands here: the engine reports one it refuses as a `rejected`
      // event (a warning) and goes on with every peer; only the relay's frames and this
      // device's own failures (storage, randomness) throw.
      await this.close(vault);
      throw error;
    }
    await this.#host.commit(vault);
    this.#flush(engine);
    this.#drain(engine);
    this.#host.applied(() => engine.inSync(vault));
  }

  async #onClose(
    transport: RelayTransport,
    vault: Vault,
    code: number,
    reason: string,
    retryInMs: number | null,
  ): Promise<void> {
    if (transport !== this.#transport) return;
    await this.#end(vault);
    if (retryInMs === null) {
      this.#transport = null;
      const why = reason ? `: ${reason}` : '';
      this.#host.emit('error', new SelfosError('sync', `the relay closed the connection for good (${code}${why})`));
    }
    this.#host.status('offline');
  }

  /** Ends the engine of a connection that is gone, saving its sync state. */
  async #end(vault: Vault): Promise<void> {
    const engine = this.#engine;
    if (!engine) return;
    this.#engine = null;
    this.#progress = null;
    this.#stopTicker();
    try {
      engine.disconnected(vault);
      this.#drain(engine);
    } finally {
      engine.free();
    }
    await this.#host.commit(vault);
  }

  #flush(engine: SyncEngine): void {
    for (let frame = engine.pollTransmit(); frame; frame = engine.pollTransmit()) {
      this.#transport?.send(frame);
    }
  }

  #drain(engine: SyncEngine): void {
    const host = this.#host;
    const changed = new Set<string>();
    for (let event = engine.pollEvent(); event; event = engine.pollEvent()) {
      switch (event.type) {
        case 'joined':
          this.#transport?.joined();
          host.status('joined');
          // Devices already in the room are announced only here, not by `peer-joined`.
          for (const peer of engine.peers()) host.emit('peer', { peer, present: true });
          break;
        case 'peer-joined':
        case 'peer-left':
          host.emit('peer', { peer: event.peer, present: event.type === 'peer-joined' });
          host.peersChanged();
          break;
        case 'changed':
        case 'from-store':
          changed.add(event.namespace);
          break;
        case 'store':
          if (event.status === 'full') {
            host.emit('warning', {
              message:
                "the relay's store for this vault is full: new answers stay on this device, and reach " +
                'other devices only while they are online together with it, until space is freed',
            });
          }
          break;
        case 'store-progress':
          this.#progress = nextProgress(this.#progress, event.fetched_bytes, event.total_bytes);
          break;
        case 'rejected':
          host.emit('warning', { message: `refused a message from device ${event.from}: ${event.reason}` });
          break;
        case 'relay-error':
          // A fatal one is followed by a close code, reported on close.
          host.emit('warning', { message: `relay error ${event.code}: ${event.message}` });
          break;
        case 'resynced':
          // Routine on a lossy transport: the engine repairs it, nothing for the app to do.
          break;
        case 'warning':
          host.emit('warning', { message: event.message });
          break;
      }
    }
    if (changed.size > 0) host.emit('change', { source: 'remote', namespaces: [...changed] });
    this.#reportStore(engine);
  }

  #reportStore(engine: SyncEngine): void {
    const status = engine.storeStatus;
    const progress = this.#progress;
    if (status !== 'syncing' || (progress !== null && progress.fetchedBytes >= progress.totalBytes)) {
      this.#progress = null;
    }
    const usage = engine.storeUsage;
    this.#host.store({
      status,
      usage: usage ? {
        bytes: usage.bytes,
        maxBytes: usage.max_bytes,
        blobs: usage.blobs,
        maxBlobs: usage.max_blobs,
        lastUploadMs: usage.updated_ms > 0 ? usage.updated_ms : null,
      } : null,
      progress: this.#progress,
    });
  }
}

/** The progress to report: the new one when it moved by a percent or more (or ended, or the
 * total changed), else the one reported, so a catch-up of many small blobs is not an event each. */
function nextProgress(last: StoreProgress | null, fetchedBytes: number, totalBytes: number): StoreProgress {
  const percent = (p: { fetchedBytes: number; totalBytes: number }) => Math.floor((p.fetchedBytes * 100) / p.totalBytes);
  const next = { fetchedBytes, totalBytes };
  const same =
    last !== null &&
    last.totalBytes === totalBytes &&
    fetchedBytes < totalBytes &&
    percent(last) === percent(next);
  return same ? last : next;
}
