// Devices: this replica and its sync state, the relay's store, a one-time code and the recovery
// kit that add a device, this browser's passphrase, the other devices seen in the vault's room,
// and the sync engine's latest warnings.

import { useId, useState, type FormEvent } from 'react';

import { ErrorNotice } from '../ui/ErrorNotice.tsx';
import { EmptyState } from '../ui/EmptyState.tsx';
import { formatTime } from '../ui/format.ts';
import { useVault, useVaultQuery } from '../vault/VaultContext.tsx';
import { PairSection } from './PairSection.tsx';
import { PassphraseSection } from './PassphraseSection.tsx';
import { RecoveryKitSection } from './RecoveryKitSection.tsx';
import { StoreSection } from './StoreSection.tsx';

export function DevicesView() {
  const { client, sync, relay, devices, warnings } = useVault();
  const [error, setError] = useState<unknown>(null);
  const reconnect = () => {
    setError(null);
    client.connect(relay).catch(setError);
  };
  const unknownPeers = Math.max(0, sync.peers - devices.filter((d) => d.present).length);
  const named = useVaultQuery((c) => c.deviceNames());
  const names = new Map((named.data ?? []).map((d) => [d.replica, d.name]));
  return (
    <div className="space-y-6">
      <section aria-labelledby="this-device" className="card">
        <h2 id="this-device" className="text-lg font-semibold">
          This device
        </h2>
        <DeviceNameForm current={names.get(client.replica)} />
        <dl className="facts mt-2">
          <dt>Replica id</dt>
          <dd>
            <code data-replica={client.replica}>{client.replica}</code>
          </dd>
          <dt>Vault id</dt>
          <dd>
            <code>{client.id}</code>
          </dd>
          <dt>Relay</dt>
          <dd>
            <code>{relay}</code>
          </dd>
          <dt>Sync</dt>
          <dd data-sync-status={sync.status}>
            {sync.status === 'joined'
              ? `in the room, ${sync.peers} other ${sync.peers === 1 ? 'device' : 'devices'} online`
              : sync.status === 'connecting'
                ? 'connecting to the relay'
                : 'offline: changes stay here and sync when the relay is reachable'}
          </dd>
        </dl>
        <button type="button" className="btn mt-3" onClick={reconnect}>
          Reconnect now
        </button>
        {error !== null && <ErrorNotice error={error} title="Cannot connect" />}
      </section>
      <StoreSection />
      <PairSection />
      <RecoveryKitSection />
      <PassphraseSection />
      <section aria-labelledby="other-devices" className="space-y-2">
        <h2 id="other-devices" className="text-lg font-semibold">
          Other devices seen
        </h2>
        {unknownPeers > 0 && (
          <p className="text-sm text-muted">
            {unknownPeers} online {unknownPeers === 1 ? 'device was' : 'devices were'} already in the room when this
            dashboard joined; the relay names devices as they come and go.
          </p>
        )}
        {devices.length === 0 ? (
          <EmptyState title="No other device seen yet">
            Devices appear here when they connect to the relay while this dashboard is open.
          </EmptyState>
        ) : (
          <table className="data-table w-full">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Status</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {devices.map((d) => (
                <tr key={d.replica} data-peer={d.replica} data-present={d.present}>
                  <td>
                    <span data-device-name>{names.get(d.replica) ?? 'unnamed device'}</span>{' '}
                    <code className="text-sm text-muted">{d.replica.slice(0, 8)}</code>
                  </td>
                  <td>{d.present ? 'Online' : 'Offline'}</td>
                  <td>{d.present ? 'now' : formatTime(d.lastSeenMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {warnings.length > 0 && (
        <section aria-labelledby="sync-warnings" className="space-y-2">
          <h2 id="sync-warnings" className="text-lg font-semibold">
            Recent sync warnings
          </h2>
          <ul className="space-y-1 text-sm">
            {warnings.map((w, i) => (
              <li key={i}>
                <span className="text-muted">{formatTime(w.atMs)}</span> {w.message}
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

/** This device's name, as the vault's other devices show it, and a form to change it. */
function DeviceNameForm({ current }: { current: string | undefined }) {
  const { client } = useVault();
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const id = useId();
  const value = draft ?? current ?? '';
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      await client.setDeviceName(value);
      setDraft(null);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <form className="mt-2 flex flex-wrap items-end gap-2" onSubmit={(e) => void save(e)}>
      <div>
        <label htmlFor={id} className="label">
          Name
        </label>
        <input
          id={id}
          className="input w-72"
          value={value}
          maxLength={64}
          data-this-device-name={current ?? ''}
          onChange={(e) => setDraft(e.target.value)}
        />
      </div>
      <button type="submit" className="btn" disabled={draft === null || draft.trim() === (current ?? '')}>
        Rename
      </button>
      {error !== null && <ErrorNotice error={error} title="Cannot rename this device" />}
    </form>
  );
}
