// The empty state of a vault with no answers on this device yet. A fresh replica fills up once
// another device of the vault is online at the same relay; while none is, it says so.

import type { ReactNode } from 'react';

import { EmptyState } from '../ui/EmptyState.tsx';
import { useVault } from '../vault/VaultContext.tsx';

export function NoAnswersYet({ children }: { children: ReactNode }) {
  const { sync } = useVault();
  return (
    <EmptyState title="No answers yet">
      <p>{children}</p>
      {sync.status === 'joined' && sync.peers === 0 && (
        <p className="mt-2" data-hint="alone">
          No other device of this vault is online. Answers arrive once one of them connects to the same relay.
        </p>
      )}
    </EmptyState>
  );
}
