// Shown above every view: a catch-up from the relay's store under way (a first one may take a
// while), and a store that is full, in which case new answers stay on this device.

import { ProgressBar } from '../ui/ProgressBar.tsx';
import { useVault } from '../vault/VaultContext.tsx';
import { progressShare } from '../vault/store.ts';

export function StoreNotices() {
  const { store } = useVault().sync;
  return (
    <>
      {store.progress && (
        <div data-store-progress>
          <ProgressBar label="Catching up from the relay's store" value={progressShare(store.progress)} />
        </div>
      )}
      {store.status === 'full' && (
        <p role="status" className="notice notice-error" data-store-full>
          The relay's store for this vault is full. New answers are kept on this device: they reach
          your other devices only while those are online together with it, until space is freed on
          the relay.
        </p>
      )}
    </>
  );
}
