// The unlocked vault as React sees it: the client, a revision that moves whenever the vault
// changes (a local write or one synced from another device), the sync state and the devices
// seen. Views read through `useVaultQuery`, which re-runs on every revision.

import type { ErrorCode, SelfosClient, SelfosError, SyncState } from '@selfos/wasm';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

import { loadDevices, markAllAbsent, notePeer, saveDevices, type SeenDevice } from './devices.ts';
import { rememberUnsynced } from './session.ts';

export interface VaultState {
  client: SelfosClient;
  /** Moves on every committed change; queries depend on it. */
  revision: number;
  sync: SyncState;
  relay: string;
  devices: SeenDevice[];
  /** The latest warnings of the sync engine (refused messages, relay errors), newest first. */
  warnings: Warning[];
  /** Failures from work nobody awaited (the relay refusing us, a background commit). */
  backgroundError: SelfosError | null;
  dismissBackgroundError(): void;
  lock(): Promise<void>;
}

export interface Warning {
  atMs: number;
  message: string;
}

/** The codes of a failed commit, after which the client has locked itself. */
const STORAGE_FAILURES: ReadonlySet<ErrorCode> = new Set(['storage-full', 'storage-unwritable', 'storage']);

/** Warnings kept for the Devices view: enough to see a pattern, not a log. */
const KEPT_WARNINGS = 5;

const VaultContext = createContext<VaultState | null>(null);

export function VaultProvider({
  client,
  relay,
  onLocked,
  children,
}: {
  client: SelfosClient;
  relay: string;
  /** The client locked: by the user, or by itself after a failed commit (`reason`). */
  onLocked(reason?: unknown): void;
  children: ReactNode;
}) {
  const [revision, setRevision] = useState(0);
  const [sync, setSync] = useState<SyncState>(client.syncState);
  const [devices, setDevices] = useState<SeenDevice[]>(() => loadDevices(localStorage, client.id));
  const [backgroundError, setBackgroundError] = useState<SelfosError | null>(null);
  const [warnings, setWarnings] = useState<Warning[]>([]);

  const updateDevices = useCallback(
    (change: (list: SeenDevice[]) => SeenDevice[]) =>
      setDevices((list) => {
        const next = change(list);
        saveDevices(localStorage, client.id, next);
        return next;
      }),
    [client],
  );

  useEffect(() => {
    const onChange = () => setRevision((r) => r + 1);
    const onSync = (e: CustomEvent<SyncState>) => {
      setSync(e.detail);
      rememberUnsynced(e.detail.unsynced);
      if (e.detail.status !== 'joined') updateDevices((list) => markAllAbsent(list, Date.now()));
    };
    const onPeer = (e: CustomEvent<{ peer: string; present: boolean }>) =>
      updateDevices((list) => notePeer(list, e.detail.peer, e.detail.present, Date.now()));
    const onWarning = (e: CustomEvent<{ message: string }>) =>
      setWarnings((list) => [{ atMs: Date.now(), message: e.detail.message }, ...list].slice(0, KEPT_WARNINGS));
    const onError = (e: CustomEvent<SelfosError>) => {
      setBackgroundError(e.detail);
      // A failed background commit locks the client: show the unlock screen with the reason.
      if (STORAGE_FAILURES.has(e.detail.code)) onLocked(e.detail);
    };
    client.addEventListener('change', onChange);
    client.addEventListener('sync', onSync);
    client.addEventListener('peer', onPeer);
    client.addEventListener('warning', onWarning);
    client.addEventListener('error', onError);
    client.connect(relay).catch((error: SelfosError) => setBackgroundError(error));
    return () => {
      client.removeEventListener('change', onChange);
      client.removeEventListener('sync', onSync);
      client.removeEventListener('peer', onPeer);
      client.removeEventListener('warning', onWarning);
      client.removeEventListener('error', onError);
      client.disconnect().catch(() => undefined); // already locked: nothing left to close
    };
  }, [client, relay, updateDevices, onLocked]);

  const lock = useCallback(async () => {
    await client.lock();
    onLocked();
  }, [client, onLocked]);

  const value = useMemo<VaultState>(
    () => ({
      client,
      revision,
      sync,
      relay,
      devices,
      warnings,
      backgroundError,
      dismissBackgroundError: () => setBackgroundError(null),
      lock,
    }),
    [client, revision, sync, relay, devices, warnings, backgroundError, lock],
  );
  return <VaultContext value={value}>{children}</VaultContext>;
}

export function useVault(): VaultState {
  const state = useContext(VaultContext);
  if (!state) throw new Error('useVault outside VaultProvider');
  return state;
}

export type Query<T> =
  | { status: 'loading'; data: T | undefined }
  | { status: 'ready'; data: T }
  | { status: 'error'; data: T | undefined; error: unknown };

/**
 * Runs `read` against the vault now and after every change. While a new read runs, the last
 * data stays on screen (no flicker on each synced answer).
 */
export function useVaultQuery<T>(read: (client: SelfosClient) => Promise<T>): Query<T> {
  const { client, revision } = useVault();
  const [state, setState] = useState<Query<T>>({ status: 'loading', data: undefined });
  useEffect(() => {
    let current = true;
    read(client).then(
      (data) => current && setState({ status: 'ready', data }),
      (error: unknown) => current && setState((s) => ({ status: 'error', data: s.data, error })),
    );
    return () => {
      current = false;
    };
    // `read` is a new function on every render; what it reads changes with the revision only.
  }, [client, revision]);
  return state;
}
