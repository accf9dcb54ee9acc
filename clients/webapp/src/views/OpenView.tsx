// The first screen: unlock the replica stored in this browser, or add this browser to the vault as
// a new replica, from a one-time code another device shows or from the recovery kit, under a
// passphrase of this browser's own. The passphrase and the
// kit go to the WASM vault and nowhere else. A replica in the old format 1 is only exported.

import { isSelfosError, type SelfosClient } from '@selfos/wasm';
import { useEffect, useId, useState, type FormEvent } from 'react';

import { ConfirmDialog } from '../ui/ConfirmDialog.tsx';
import { downloadText } from '../ui/download.ts';
import { ErrorNotice } from '../ui/ErrorNotice.tsx';
import { HostedNotice } from '../ui/HostedNotice.tsx';
import {
  EMPTY_PASSPHRASE,
  NewPassphraseFields,
  PassphraseProblem,
  newPassphraseProblem,
} from '../ui/NewPassphraseFields.tsx';
import { ProgressBar } from '../ui/ProgressBar.tsx';
import {
  chooseRelay,
  defaultRelay,
  exportOldReplica,
  forgetReplica,
  joinVaultByCode,
  restoreVault,
  storedReplica,
  unlockVault,
  type StoredReplica,
} from '../vault/session.ts';

type Stored = { status: 'checking' } | { status: 'none' } | { status: 'found'; replica: StoredReplica };

export function OpenView({ onOpened, reason }: { onOpened(client: SelfosClient, relay: string): void; reason: unknown }) {
  const [stored, setStored] = useState<Stored>({ status: 'checking' });
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    storedReplica().then(
      (replica) => setStored(replica ? { status: 'found', replica } : { status: 'none' }),
      (e: unknown) => {
        setError(e);
        setStored({ status: 'none' });
      },
    );
  }, []);

  return (
    <main id="main" className="mx-auto max-w-xl p-6">
      <h1 className="text-2xl font-semibold">SelfOS dashboard</h1>
      <p className="mt-1 text-muted">
        Your vault stays encrypted on this device; the relay only forwards ciphertext between your devices.
      </p>
      <HostedNotice />
      {reason !== null && <ErrorNotice error={reason} title="The vault was locked" />}
      {error !== null && <ErrorNotice error={error} title="Cannot read this browser's storage" />}
      {stored.status === 'checking' && <ProgressBar label="Looking for a vault in this browser" value={null} />}
      {stored.status === 'found' && (
        <UnlockForm replica={stored.replica} onOpened={onOpened} onForgotten={() => setStored({ status: 'none' })} />
      )}
      {stored.status === 'none' && <RestoreForm onOpened={onOpened} />}
    </main>
  );
}

function UnlockForm({
  replica,
  onOpened,
  onForgotten,
}: {
  replica: StoredReplica;
  onOpened(client: SelfosClient, relay: string): void;
  onForgotten(): void;
}) {
  const [passphrase, setPassphrase] = useState('');
  const [relay, setRelay] = useState(replica.relay);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [confirmForget, setConfirmForget] = useState(false);
  const [exported, setExported] = useState(false);
  const ids = { passphrase: useId(), relay: useId() };
  const oldFormat = isSelfosError(error) && error.code === 'old-format';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const relayUrl = relay.trim() || defaultRelay();
      onOpened(await unlockVault(passphrase, relayUrl), relayUrl);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  const exportOld = async () => {
    try {
      await downloadText(await exportOldReplica(passphrase), 'selfos-format-1-export.json', 'application/json');
      setExported(true);
    } catch (e) {
      setError(e);
    }
  };
  const forget = async () => {
    setConfirmForget(false);
    try {
      await forgetReplica();
      onForgotten();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section aria-labelledby="unlock-title" className="card mt-6">
      <h2 id="unlock-title" className="text-lg font-semibold">
        Unlock this browser's replica
      </h2>
      <form className="mt-3 space-y-3" onSubmit={submit}>
        <PassphraseField id={ids.passphrase} value={passphrase} onChange={setPassphrase} />
        <div>
          <label htmlFor={ids.relay} className="label">
            Relay address
          </label>
          <input id={ids.relay} className="input w-full" value={relay} onChange={(e) => setRelay(e.target.value)} />
        </div>
        {busy && <ProgressBar label="Deriving the key and reading the vault" value={null} />}
        {error !== null && <ErrorNotice error={error} title="Cannot unlock" />}
        {oldFormat && (
          <div className="space-y-2">
            <button type="button" className="btn" onClick={() => void exportOld()}>
              Export answers
            </button>
            {exported && (
              <p role="status" className="notice notice-ok">
                Exported. Forget this replica, restore your vault from its recovery kit, then import the file into it
                (<code>selfos import --from-other-vault FILE</code>).
              </p>
            )}
          </div>
        )}
        <div className="flex flex-wrap gap-2">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            Unlock
          </button>
          <button type="button" className="btn" onClick={() => setConfirmForget(true)} disabled={busy}>
            Forget this replica…
          </button>
        </div>
      </form>
      <ConfirmDialog
        open={confirmForget}
        title="Forget this browser's replica?"
        confirmLabel="Forget replica"
        onConfirm={forget}
        onCancel={() => setConfirmForget(false)}
      >
        <p>
          This deletes the encrypted copy of the vault stored in this browser. Your other devices keep theirs; you can
          restore it again from the recovery kit. Answers that never reached another device are lost.
        </p>
      </ConfirmDialog>
    </section>
  );
}

/** Where a new replica gets the vault secret: a device online now, or the recovery kit. */
type Source = 'code' | 'kit';

function RestoreForm({ onOpened }: { onOpened(client: SelfosClient, relay: string): void }) {
  const [source, setSource] = useState<Source>('code');
  const [secret, setSecret] = useState('');
  const [passphrase, setPassphrase] = useState(EMPTY_PASSPHRASE);
  const [relay, setRelay] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [weak, setWeak] = useState<string | null>(null);
  const ids = { secret: useId(), relay: useId(), relayHint: useId() };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const problem = await newPassphraseProblem(passphrase);
    setWeak(problem);
    if (problem) return;
    setBusy(true);
    try {
      const relayUrl = chooseRelay(relay);
      const open = source === 'code' ? joinVaultByCode : restoreVault;
      onOpened(await open(secret, passphrase.passphrase, relayUrl), relayUrl);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  const choose = (next: Source) => {
    setSource(next);
    setSecret('');
    setError(null);
  };

  return (
    <section aria-labelledby="restore-title" className="card mt-6">
      <h2 id="restore-title" className="text-lg font-semibold">
        Add this browser to your vault
      </h2>
      <fieldset className="mt-2 flex gap-4">
        <legend className="sr-only">From</legend>
        <label>
          <input type="radio" name="source" checked={source === 'code'} onChange={() => choose('code')} /> Join with a
          code
        </label>
        <label>
          <input type="radio" name="source" checked={source === 'kit'} onChange={() => choose('kit')} /> Restore from
          recovery kit
        </label>
      </fieldset>
      <p className="mt-1 text-sm text-muted">
        {source === 'code' ? (
          <>
            The code another device shows now ("Add a device" in the extension or the dashboard, or{' '}
            <code>selfos pair</code>), and a passphrase for this browser.
          </>
        ) : (
          <>
            The 24 words of your vault's recovery kit (<code>selfos recovery-kit</code> on the command line, or the
            extension's settings), and a passphrase for this browser.
          </>
        )}{' '}
        It becomes a new replica and syncs through the relay.
      </p>
      <form className="mt-3 space-y-3" onSubmit={submit}>
        <div>
          <label htmlFor={ids.secret} className="label">
            {source === 'code' ? 'Code' : 'Recovery kit (24 words)'}
          </label>
          {source === 'code' ? (
            <input
              id={ids.secret}
              className="input w-full font-mono"
              required
              autoComplete="off"
              spellCheck={false}
              placeholder="7-guitar-reveal"
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
            />
          ) : (
            <textarea
              id={ids.secret}
              className="input w-full font-mono text-sm"
              rows={4}
              required
              autoComplete="off"
              spellCheck={false}
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
            />
          )}
        </div>
        <NewPassphraseFields label="This browser's passphrase" value={passphrase} onChange={setPassphrase} />
        <div>
          <label htmlFor={ids.relay} className="label">
            Relay address (optional)
          </label>
          <input
            id={ids.relay}
            className="input w-full"
            aria-describedby={ids.relayHint}
            placeholder="wss://relay.example"
            value={relay}
            onChange={(e) => setRelay(e.target.value)}
          />
          <p id={ids.relayHint} className="mt-1 text-sm text-muted">
            Empty: this page's server, <code>{defaultRelay()}</code>.
          </p>
        </div>
        {busy && (
          <ProgressBar
            label={source === 'code' ? 'Pairing with the other device' : 'Deriving the key and creating this replica'}
            value={null}
          />
        )}
        {weak !== null && <PassphraseProblem problem={weak} />}
        {error !== null && <ErrorNotice error={error} title={source === 'code' ? 'Cannot join' : 'Cannot restore'} />}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {source === 'code' ? 'Join' : 'Restore'}
        </button>
      </form>
    </section>
  );
}

/** The passphrase input of the unlock form. */
function PassphraseField({ id, value, onChange }: { id: string; value: string; onChange(value: string): void }) {
  return (
    <div>
      <label htmlFor={id} className="label">
        Passphrase
      </label>
      <input
        id={id}
        className="input w-full"
        type="password"
        autoComplete="current-password"
        required
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  );
}
