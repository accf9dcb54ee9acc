// The Devices view's account of the relay's store: its status, the space the vault's sealed blobs
// take of the room's quota, and when a device last uploaded.

import { formatTime } from '../ui/format.ts';
import { useVault } from '../vault/VaultContext.tsx';
import { bytesText, storeStatusText, usedShare } from '../vault/store.ts';

export function StoreSection() {
  const { store } = useVault().sync;
  const { usage } = store;
  return (
    <section aria-labelledby="relay-store" className="card">
      <h2 id="relay-store" className="text-lg font-semibold">
        Relay's store
      </h2>
      <p className="text-sm text-muted">
        The relay keeps your changes sealed (it cannot read them), so that devices that are never
        online at the same time still sync.
      </p>
      <dl className="facts mt-2">
        <dt>Status</dt>
        <dd data-store-status={store.status}>{storeStatusText(store.status)}</dd>
        {usage && (
          <>
            <dt>Space used</dt>
            <dd data-store-bytes={usage.bytes} data-store-max-bytes={usage.maxBytes}>
              <meter
                className="meter"
                aria-label="Space used in the relay's store"
                min={0}
                max={1}
                high={0.9}
                value={usedShare(usage)}
              />
              <span className="block text-sm">
                {bytesText(usage.bytes)} of {bytesText(usage.maxBytes)}; {usage.blobs.toLocaleString()} of {usage.maxBlobs.toLocaleString()} blobs
              </span>
            </dd>
            <dt>Last upload</dt>
            <dd data-store-last-upload={usage.lastUploadMs ?? ''}>
              {usage.lastUploadMs === null ? 'none yet' : formatTime(usage.lastUploadMs)}
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}
