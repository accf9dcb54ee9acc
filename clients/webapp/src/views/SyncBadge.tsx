// The sync state in the header, announced politely when it changes.

import { useVault } from '../vault/VaultContext.tsx';

const WORDS = { offline: 'Offline', connecting: 'Connecting…', joined: 'Online' } as const;

export function SyncBadge() {
  const { sync } = useVault();
  const peers = sync.status === 'joined' ? `, ${sync.peers} other ${sync.peers === 1 ? 'device' : 'devices'} online` : '';
  const unsynced =
    sync.unsynced > 0 ? `; ${sync.unsynced} ${sync.unsynced === 1 ? 'change' : 'changes'} kept on this device only` : '';
  const full = sync.store.status === 'full' ? "; the relay's store is full" : '';
  return (
    <p
      role="status"
      className={`badge badge-${sync.status}`}
      data-sync={sync.status}
      data-peers={sync.peers}
      data-unsynced={sync.unsynced}
      data-store={sync.store.status}
    >
      {WORDS[sync.status]}
      {peers}
      {unsynced}
      {full}
    </p>
  );
}
