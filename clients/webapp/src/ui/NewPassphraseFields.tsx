// A new passphrase typed twice, for the restore form and the passphrase change, and the check
// both run before anything is sent to the vault: the two must match and the passphrase must be
// strong enough (`vault/strength.ts`, loaded on first use).

import { useId } from 'react';

export interface NewPassphrase {
  passphrase: string;
  again: string;
}

export const EMPTY_PASSPHRASE: NewPassphrase = { passphrase: '', again: '' };

/** What is wrong with the new passphrase, in words that never quote it; `null` when nothing. */
export async function newPassphraseProblem({ passphrase, again }: NewPassphrase): Promise<string | null> {
  const { newPassphraseProblem: problem } = await import('@selfos/wasm/passphrase-strength');
  return problem(passphrase, again);
}

export function NewPassphraseFields({
  label,
  value,
  onChange,
}: {
  label: string;
  value: NewPassphrase;
  onChange(value: NewPassphrase): void;
}) {
  const ids = { passphrase: useId(), again: useId() };
  return (
    <>
      <div>
        <label htmlFor={ids.passphrase} className="label">
          {label}
        </label>
        <input
          id={ids.passphrase}
          className="input w-full"
          type="password"
          autoComplete="new-password"
          required
          value={value.passphrase}
          onChange={(e) => onChange({ ...value, passphrase: e.target.value })}
        />
      </div>
      <div>
        <label htmlFor={ids.again} className="label">
          {label}, again
        </label>
        <input
          id={ids.again}
          className="input w-full"
          type="password"
          autoComplete="new-password"
          required
          value={value.again}
          onChange={(e) => onChange({ ...value, again: e.target.value })}
        />
      </div>
    </>
  );
}

/** The refusal of a new passphrase, with zxcvbn's advice. */
export function PassphraseProblem({ problem }: { problem: string }) {
  return (
    <p role="alert" className="notice notice-error" data-passphrase-problem>
      {problem}
    </p>
  );
}
