// The test page: the built package as `globalThis.selfos`, and raw IndexedDB access that goes
// around the package, so tests can see and damage exactly what it stored.

import * as selfos from '../dist/index.js';

const STORE = 'entries';

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function withStore(dbName, mode, use) {
  const db = await request(indexedDB.open(dbName));
  try {
    const tx = db.transaction(STORE, mode);
    const done = new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onabort = () => reject(tx.error);
    });
    const result = await use(tx.objectStore(STORE));
    await done;
    return result;
  } finally {
    db.close();
  }
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

globalThis.testing = {
  /** Every stored entry as {key, hex}, in key order. */
  dump: (dbName) =>
    withStore(dbName, 'readonly', async (store) => {
      const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
      return keys.map((key, i) => ({ key, hex: hex(values[i]) }));
    }),

  /** Stores `entries` ({key, bytes}) as they are, creating the database if needed. */
  seed: async (dbName, entries) => {
    const open = indexedDB.open(dbName);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    (await request(open)).close();
    await withStore(dbName, 'readwrite', async (store) => {
      for (const { key, bytes } of entries) await request(store.put(new Uint8Array(bytes), key));
    });
  },

  /** Flips one bit in the middle of the entry's value. */
  flipByte: (dbName, key) =>
    withStore(dbName, 'readwrite', async (store) => {
      const value = new Uint8Array(await request(store.get(key)));
      value[value.length >> 1] ^= 0x01;
      await request(store.put(value, key));
    }),

  /** Resolves once `predicate(client)` holds, checking after every client event. */
  until: (client, predicate, timeoutMs = 20_000) =>
    new Promise((resolve, reject) => {
      const events = ['change', 'sync', 'peer'];
      const timer = setTimeout(() => finish(new Error('timed out')), timeoutMs);
      const check = async () => {
        try {
          if (await predicate(client)) finish();
        } catch (error) {
          finish(error);
        }
      };
      const finish = (error) => {
        clearTimeout(timer);
        for (const type of events) client.removeEventListener(type, check);
        error ? reject(error) : resolve();
      };
      for (const type of events) client.addEventListener(type, check);
      check();
    }),

  /** Resolves once `predicate()` holds, checking every 100 ms (for what raises no event). */
  poll: async (predicate, timeoutMs = 10_000) => {
    for (const end = Date.now() + timeoutMs; !(await predicate()); ) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  },

  /** Makes `client` the page's client, logs its sync statuses in `statuses` and the devices it
   * saw arrive in `arrived`, connects it. */
  adopt: (client, relayUrl) => {
    globalThis.client = client;
    globalThis.statuses = [];
    globalThis.arrived = [];
    client.addEventListener('sync', (e) => globalThis.statuses.push(e.detail.status));
    client.addEventListener('peer', (e) => e.detail.present && globalThis.arrived.push(e.detail.peer));
    return client.connect(relayUrl);
  },

  /** The code of the error `promise` rejects with, or 'resolved'. */
  codeOf: (promise) => promise.then(() => 'resolved', (error) => error.code ?? String(error)),
};

globalThis.selfos = selfos;
