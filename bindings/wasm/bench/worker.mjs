// Runs inside a dedicated module worker, where the extension's service worker would run the same
// code: the write path of SelfosClient, unlock at the default KDF, a baseline write done with
// Automerge's JS package, WebCrypto and IndexedDB, and the trainer's pick as the vault grows.

import { IdbStore, SelfosClient, Vault } from '../dist/index.js';
import * as Automerge from '../node_modules/@automerge/automerge/dist/mjs/entrypoints/slim.js';

const WARMUP = 50;
const WRITES = 500;
const UNLOCKS = 5;
/** Vault sizes (answers) at which the trainer's pick is timed, and picks per size. */
const TRAINER_SIZES = [100, 2000, 20000];
const PICKS = 30;
const PASSPHRASE = 'bench passphrase';
/** The cheapest Argon2id cost the vault accepts: key stretching is not what the write and
 * trainer figures measure. */
const CHEAP_KDF = { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 };

const answerText = (i) => `answer ${i}: steps first, then one short example`;

function content(i) {
  return {
    card_id: 'intent.include',
    card_kind: 'intent',
    answer: { type: 'text', value: answerText(i) },
    agent: 'chatgpt',
    origin: 'bench',
    created_ms: Date.now(),
    wait_ms: 5_000,
    status: 'answered',
  };
}

/** Milliseconds of each of WRITES calls of `write`, after WARMUP unmeasured ones. */
async function timeWrites(write) {
  for (let i = 0; i < WARMUP; i++) await write(i);
  const times = [];
  for (let i = WARMUP; i < WARMUP + WRITES; i++) {
    const start = performance.now();
    await write(i);
    times.push(performance.now() - start);
  }
  return times;
}

async function ours() {
  await IdbStore.destroy('bench-write');
  const client = await SelfosClient.create({ dbName: 'bench-write', passphrase: PASSPHRASE, kdf: CHEAP_KDF });
  const times = await timeWrites((i) => client.record('chatgpt', content(i)));
  await client.lock();
  return times;
}

async function unlock() {
  const kdf = Vault.defaultKdf();
  await IdbStore.destroy('bench-unlock');
  const created = await SelfosClient.create({ dbName: 'bench-unlock', passphrase: PASSPHRASE, kdf });
  await created.record('chatgpt', content(0));
  await created.lock();
  const times = [];
  for (let i = 0; i < UNLOCKS; i++) {
    const start = performance.now();
    const client = await SelfosClient.unlock({ dbName: 'bench-unlock', passphrase: PASSPHRASE });
    times.push(performance.now() - start);
    await client.lock();
  }
  return { kdf, times };
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** The same write without SelfOS: one plain string into an Automerge map, an incremental save,
 * AES-GCM through WebCrypto, one strict IndexedDB commit. */
async function baseline() {
  await Automerge.initializeWasm(new URL('../node_modules/@automerge/automerge/dist/automerge.wasm', import.meta.url));
  await request(indexedDB.deleteDatabase('bench-baseline'));
  const open = indexedDB.open('bench-baseline', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('chunks');
  const db = await request(open);
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
  let doc = Automerge.init();
  const times = await timeWrites(async (i) => {
    doc = Automerge.change(doc, (d) => {
      d[`r${i}`] = answerText(i);
    });
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, Automerge.saveIncremental(doc)));
    const chunk = new Uint8Array(iv.length + sealed.length);
    chunk.set(iv);
    chunk.set(sealed, iv.length);
    const tx = db.transaction('chunks', 'readwrite', { durability: 'strict' });
    tx.objectStore('chunks').put(chunk, `chunks/${i}`);
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onabort = () => reject(tx.error);
    });
  });
  db.close();
  return times;
}

/**
 * `nextCard` at each of TRAINER_SIZES: once after the answers written since the last size (the
 * catch-up, reading them all), then right after each write (the trainer and the knowledge graph
 * take in the new answer, reading nothing else) and again with nothing changed. Answers carry
 * two of 300 topics, as a graph would.
 */
async function trainer() {
  await IdbStore.destroy('bench-trainer');
  const client = await SelfosClient.create({ dbName: 'bench-trainer', passphrase: PASSPHRASE, kdf: CHEAP_KDF });
  const out = [];
  let n = 0;
  const topic = (i) => `topic ${i % 300}`;
  for (const size of TRAINER_SIZES) {
    for (; n < size; n++) {
      await client.record('chatgpt', { ...content(n), context: { topics: [topic(n), topic(n * 7)] } });
    }
    // The first pick takes in every answer written since the last size's picks.
    let start = performance.now();
    await client.nextCard({ agent: 'chatgpt', expectedWaitMs: 20_000 });
    const catchUp = performance.now() - start;
    const afterWrite = [];
    const cached = [];
    for (let i = 0; i < PICKS; i++) {
      await client.record('chatgpt', { ...content(n + i), card_id: 'rating.overall', card_kind: 'rating', answer: { type: 'rating', value: 4 } });
      start = performance.now();
      await client.nextCard({ agent: 'chatgpt', expectedWaitMs: 20_000 });
      afterWrite.push(performance.now() - start);
      start = performance.now();
      await client.nextCard({ agent: 'chatgpt', expectedWaitMs: 20_000 });
      cached.push(performance.now() - start);
    }
    n += PICKS;
    out.push({ size, catchUp, afterWrite, cached });
  }
  await client.lock();
  return out;
}

self.onmessage = async () => {
  try {
    self.postMessage({ ours: await ours(), baseline: await baseline(), unlock: await unlock(), trainer: await trainer() });
  } catch (error) {
    self.postMessage({ error: `${error?.code ?? ''} ${error?.stack ?? error}` });
  }
};
