// This browser's passphrase: a new one, checked for strength, replaces it here only (the other
// devices keep theirs). The vault stays unlocked.

import { useId, useState, type FormEvent } from 'react';

import { ErrorNotice } from '../ui/ErrorNotice.tsx';
import {
  EMPTY_PASSPHRASE,
  NewPassphraseFields,
  PassphraseProblem,
  newPassphraseProblem,
} from '../ui/NewPassphraseFields.tsx';
import { ProgressBar } from '../ui/ProgressBar.tsx';
import { useVault } from '../vault/VaultContext.tsx';

type Outcome = { kind: 'none' } | { kind: 'weak'; problem: string } | { kind: 'failed'; error: unknown } | { kind: 'changed' };

export function PassphraseSection() {
  const { client } = useVault();
  const [value, setValue] = useState(EMPTY_PASSPHRASE);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'none' });
  const title = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setOutcome({ kind: 'none' });
    const problem = await newPassphraseProblem(value);
    if (problem) return setOutcome({ kind: 'weak', problem });
    setBusy(true);
    try {
      await client.changePassphrase(value.passphrase);
      setValue(EMPTY_PASSPHRASE);
      setOutcome({ kind: 'changed' });
    } catch (error) {
      setOutcome({ kind: 'failed', error });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby={title} className="card">
      <h2 id={title} className="text-lg font-semibold">
        This browser's passphrase
      </h2>
      <p className="mt-1 text-sm text-muted">Each device has its own passphrase; changing this one changes no other.</p>
      <form className="mt-3 space-y-3" onSubmit={submit}>
        <NewPassphraseFields label="New passphrase" value={value} onChange={setValue} />
        {busy && <ProgressBar label="Deriving the new key" value={null} />}
        {outcome.kind === 'weak' && <PassphraseProblem problem={outcome.problem} />}
        {outcome.kind === 'failed' && <ErrorNotice error={outcome.error} title="Cannot change the passphrase" />}
        {outcome.kind === 'changed' && (
          <p role="status" className="notice notice-ok">
            Passphrase changed: unlock this browser with the new one from now on.
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          Change passphrase
        </button>
      </form>
    </section>
  );
}
