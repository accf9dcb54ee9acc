// The empty state of a vault with no answers on this device yet. A fresh replica fills up once
// another device is online; when none is, the passphrase is the likely cause: the relay room is
// derived from the passphrase, so a replica joined with a different one waits in an empty room
// of its own and no error can ever reach it.

import type { ReactNode } from 'react';

import { EmptyState } from '../ui/EmptyState.tsx';
import { useVault } from '../vault/VaultContext.tsx';

export function NoAnswersYet({ children }: { children: ReactNode }) {
  const { sync } = useVault();
  return (
    <EmptyState title="No answers yet">
      <p>{children}</p>
      {sync.status === 'joined' && sync.peers === 0 && (
        <p className="mt-2" data-hint="passphrase">
          No other device of this vault is online. If one is and nothing arrives, check the passphrase: a replica joined
          with a different passphrase waits in an empty room of its own. Lock, forget this replica, and join again.
        </p>
      )}
    </EmptyState>
  );
}
