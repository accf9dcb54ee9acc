// The app: the open screen until a vault is unlocked, then the dashboard around it. Locking
// (by the user, or by the client itself after a failed commit) returns to the open screen.

import type { SelfosClient } from '@selfos/wasm';
import { useCallback, useState } from 'react';

import { VIEWS, useCurrentView, type ViewId } from './routes.ts';
import { ThemeSelect, useTheme } from './theme.tsx';
import { ErrorNotice } from './ui/ErrorNotice.tsx';
import { HostedNotice } from './ui/HostedNotice.tsx';
import { VaultProvider, useVault } from './vault/VaultContext.tsx';
import { AlignmentView } from './views/AlignmentView.tsx';
import { AnswersView } from './views/AnswersView.tsx';
import { ConflictsView } from './views/ConflictsView.tsx';
import { DevicesView } from './views/DevicesView.tsx';
import { ExportsView } from './views/ExportsView.tsx';
import { GraphView } from './views/GraphView.tsx';
import { OpenView } from './views/OpenView.tsx';
import { StoreNotices } from './views/StoreNotices.tsx';
import { SyncBadge } from './views/SyncBadge.tsx';

interface Session {
  client: SelfosClient;
  relay: string;
}

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [lockReason, setLockReason] = useState<unknown>(null);
  const opened = useCallback((client: SelfosClient, relay: string) => {
    setLockReason(null);
    setSession({ client, relay });
  }, []);
  const locked = useCallback((reason?: unknown) => {
    setLockReason(reason ?? null);
    setSession(null);
  }, []);

  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      {session ? (
        <VaultProvider client={session.client} relay={session.relay} onLocked={locked}>
          <Dashboard />
        </VaultProvider>
      ) : (
        <>
          <div className="flex justify-end p-3">
            <ThemeSelect />
          </div>
          <OpenView onOpened={opened} reason={lockReason} />
        </>
      )}
    </>
  );
}

function Dashboard() {
  const view = useCurrentView();
  const { client, lock, backgroundError, dismissBackgroundError } = useVault();
  const title = VIEWS.find((v) => v.id === view)?.title ?? '';
  return (
    <div className="flex min-h-screen flex-col">
      <header className="border-b border-line">
        <div className="flex flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3">
          <p className="text-lg font-semibold">SelfOS</p>
          <p className="text-sm text-muted" title={client.id}>
            Vault <code>{client.id.slice(0, 8)}</code>
          </p>
          <SyncBadge />
          <div className="ml-auto flex items-center gap-3">
            <ThemeSelect />
            <button type="button" className="btn" onClick={() => void lock()}>
              Lock
            </button>
          </div>
        </div>
        <nav aria-label="Views" className="px-2">
          <ul className="flex flex-wrap gap-1">
            {VIEWS.map((v) => (
              <li key={v.id}>
                <a href={`#/${v.id}`} className="nav-link" aria-current={v.id === view ? 'page' : undefined}>
                  {v.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" className="flex-1 p-4" data-view={view}>
        <h1 className="mb-3 text-xl font-semibold">{title}</h1>
        {backgroundError && (
          <ErrorNotice error={backgroundError} title="Sync or storage problem" onDismiss={dismissBackgroundError} />
        )}
        <StoreNotices />
        <CurrentView view={view} />
      </main>
      <footer className="border-t border-line p-4">
        <HostedNotice />
      </footer>
    </div>
  );
}

function CurrentView({ view }: { view: ViewId }) {
  const { theme } = useTheme();
  switch (view) {
    case 'graph':
      return <GraphView theme={theme} />;
    case 'alignment':
      return <AlignmentView />;
    case 'conflicts':
      return <ConflictsView />;
    case 'answers':
      return <AnswersView />;
    case 'exports':
      return <ExportsView />;
    case 'devices':
      return <DevicesView />;
  }
}
