// Durable storage for one vault: a single IndexedDB object store of opaque, already encrypted
// blobs named by the vault's storage keys (`header`, `chunks/<ns>/<id>`, `peers/<name>`). The
// vault decides what to write; this module only makes a batch of changes durable, all or nothing.

import { SelfosError, type ErrorCode } from './errors.js';
import type { StoredEntry, StoreOp } from './types.js';

const STORE = 'entries';

export class IdbStore {
  private constructor(private readonly db: IDBDatabase) {
    // Another context deleting or upgrading the database must not wait for this one to be
    // garbage collected; later commits then fail and the client locks itself.
    db.onversionchange = () => db.close();
  }

  static async open(dbName: string): Promise<IdbStore> {
    const request = indexedDB.open(dbName, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    return new IdbStore(await settle(request, 'cannot open the browser storage'));
  }

  /** Deletes the database and everything in it. */
  static async destroy(dbName: string): Promise<void> {
    await settle(indexedDB.deleteDatabase(dbName), 'cannot delete the browser storage');
  }

  /** Every entry, read in one transaction so the set is consistent. */
  async loadAll(): Promise<StoredEntry[]> {
    const store = this.transaction('readonly').objectStore(STORE);
    // Both requests return records in key order, so the lists pair up.
    const [keys, values] = await Promise.all([
      settle(store.getAllKeys(), 'cannot read the browser storage'),
      settle(store.getAll(), 'cannot read the browser storage'),
    ]);
    return keys.map((key, i) => ({ key: String(key), value: values[i] as Uint8Array }));
  }

  /**
   * Applies every op in one transaction. Resolves only once the transaction is complete with
   * strict durability (flushed to disk), so a resolved write survives a crash.
   */
  commit(ops: readonly StoreOp[]): Promise<void> {
    if (ops.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const tx = this.transaction('readwrite');
      tx.oncomplete = () => resolve();
      // An error in a request aborts the transaction; `abort` then carries the cause.
      tx.onabort = () => reject(storageError(tx.error, 'the write was not saved'));
      const store = tx.objectStore(STORE);
      for (const op of ops) {
        if (op.value == null) store.delete(op.key);
        else store.put(op.value, op.key);
      }
    });
  }

  close(): void {
    this.db.close();
  }

  private transaction(mode: IDBTransactionMode): IDBTransaction {
    try {
      return this.db.transaction(STORE, mode, { durability: 'strict' });
    } catch (error) {
      // Thrown synchronously when the connection was closed.
      throw storageError(error, 'the browser storage is closed');
    }
  }
}

function settle<T>(request: IDBRequest<T>, context: string): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(storageError(request.error, context));
  });
}

function storageError(cause: unknown, context: string): SelfosError {
  const name = cause instanceof DOMException ? cause.name : '';
  const code: ErrorCode =
    name === 'QuotaExceededError'
      ? 'storage-full'
      : name === 'InvalidStateError' || name === 'ReadOnlyError'
        ? 'storage-unwritable'
        : 'storage';
  // A QuotaExceededError from an aborted transaction often carries an empty message.
  const detail = cause instanceof Error ? [cause.name, cause.message].filter(Boolean).join(': ') : '';
  return new SelfosError(code, detail ? `${context} (${detail})` : context, { cause });
}
