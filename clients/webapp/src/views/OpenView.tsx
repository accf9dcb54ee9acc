// The first screen: unlock the replica stored in this browser, or join the vault as a new
// replica with its link and passphrase. The passphrase goes to the WASM vault and nowhere else.

import type { SelfosClient } from '@selfos/wasm';
import { useEffect, useId, useState, type FormEvent } from 'react';

import { ConfirmDialog } from '../ui/ConfirmDialog.tsx';
import { ErrorNotice } from '../ui/ErrorNotice.tsx';
import { ProgressBar } from '../ui/ProgressBar.tsx';
import {
  chooseRelay,
  defaultRelay,
  forgetReplica,
  joinVault,
  relayOfLink,
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
      {reason !== null && <ErrorNotice error={reason} title="The vault was locked" />}
      {error !== null && <ErrorNotice error={error} title="Cannot read this browser's storage" />}
      {stored.status === 'checking' && <ProgressBar label="Looking for a vault in this browser" value={null} />}
      {stored.status === 'found' && (
        <UnlockForm replica={stored.replica} onOpened={onOpened} onForgotten={() => setStored({ status: 'none' })} />
      )}
      {stored.status === 'none' && <JoinForm onOpened={onOpened} />}
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
  const ids = { passphrase: useId(), relay: useId() };

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
          join again with the vault link and passphrase. Answers that never reached another device are lost.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function JoinForm({ onOpened }: { onOpened(client: SelfosClient, relay: string): void }) {
  const [link, setLink] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [relay, setRelay] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [linkRelay, setLinkRelay] = useState<string | null>(null);
  const ids = { link: useId(), passphrase: useId(), relay: useId(), relayHint: useId() };

  // Show which relay the link names as soon as it is pasted (nothing secret is in a link).
  useEffect(() => {
    let current = true;
    const text = link.trim();
    if (!text) {
      setLinkRelay(null);
      return;
    }
    relayOfLink(text).then(
        (r) => current && setLinkRelay(r),
        () => current && setLinkRelay(null),
      );
    return () => {
      current = false;
    };
  }, [link]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const relayUrl = await chooseRelay(relay, link);
      onOpened(await joinVault(link, passphrase, relayUrl), relayUrl);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="join-title" className="card mt-6">
      <h2 id="join-title" className="text-lg font-semibold">
        Join your vault
      </h2>
      <p className="mt-1 text-sm text-muted">
        Paste the link from another device (<code>selfos link</code> on the command line, or the extension's
        settings). This browser becomes a new replica and syncs through the relay.
      </p>
      <form className="mt-3 space-y-3" onSubmit={submit}>
        <div>
          <label htmlFor={ids.link} className="label">
            Vault link
          </label>
          <textarea
            id={ids.link}
            className="input w-full font-mono text-sm"
            rows={3}
            required
            spellCheck={false}
            value={link}
            onChange={(e) => setLink(e.target.value)}
          />
        </div>
        <PassphraseField id={ids.passphrase} value={passphrase} onChange={setPassphrase} />
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
            Empty: {linkRelay ? <>the link's relay, <code>{linkRelay}</code></> : <>this page's server, <code>{defaultRelay()}</code></>}.
          </p>
        </div>
        {busy && <ProgressBar label="Deriving the key and creating this replica" value={null} />}
        {error !== null && <ErrorNotice error={error} title="Cannot join" />}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          Join
        </button>
      </form>
    </section>
  );
}

/** The passphrase input of both forms. */
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
