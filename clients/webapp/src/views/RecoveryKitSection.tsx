// The recovery kit on screen: a warning to confirm first, then the 24 words (read-only,
// selectable) and a QR code of them. The words live in this component's state only while shown:
// nothing stores, logs or sends them.

import { useId, useState } from 'react';

import { ErrorNotice } from '../ui/ErrorNotice.tsx';
import { recoveryKitQr } from '../ui/recoveryKitQr.ts';
import { useVault } from '../vault/VaultContext.tsx';

type Step = { step: 'closed' } | { step: 'confirm' } | { step: 'shown'; kit: string };

export function RecoveryKitSection() {
  const { client } = useVault();
  const [state, setState] = useState<Step>({ step: 'closed' });
  const [error, setError] = useState<unknown>(null);
  const ids = { title: useId(), words: useId() };
  const show = () => {
    setError(null);
    client.recoveryKit().then(
      (kit) => setState({ step: 'shown', kit }),
      (e: unknown) => {
        setError(e);
        setState({ step: 'closed' });
      },
    );
  };
  return (
    <section aria-labelledby={ids.title} className="card space-y-3">
      <h2 id={ids.title} className="text-lg font-semibold">
        Recovery kit
      </h2>
      <p className="text-sm text-muted">
        To add a device, restore the vault on it from the recovery kit, with a passphrase of that device's own.
      </p>
      {state.step === 'closed' && (
        <button type="button" className="btn" onClick={() => setState({ step: 'confirm' })}>
          Recovery kit…
        </button>
      )}
      {state.step === 'confirm' && (
        <div className="space-y-2">
          <p className="notice">
            The recovery kit is the one secret of your vault: whoever has these 24 words can read every answer in it and
            add a device to it. Write them down or print them, and keep them offline. Never type them into a website, a
            chat or an email: only "Restore from recovery kit" in SelfOS takes them.
          </p>
          <div className="flex flex-wrap gap-2">
            <button type="button" className="btn btn-primary" onClick={show}>
              Show the 24 words
            </button>
            <button type="button" className="btn" onClick={() => setState({ step: 'closed' })}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {state.step === 'shown' && (
        <div className="space-y-2">
          <label htmlFor={ids.words} className="label">
            This vault's recovery kit
          </label>
          <textarea
            id={ids.words}
            className="input w-full font-mono text-sm"
            rows={5}
            readOnly
            spellCheck={false}
            value={state.kit}
            onFocus={(e) => e.currentTarget.select()}
          />
          <img
            src={recoveryKitQr(state.kit)}
            alt="QR code of the recovery kit's 24 words"
            width={196}
            height={196}
            className="bg-white"
            style={{ imageRendering: 'pixelated' }}
          />
          <button type="button" className="btn" onClick={() => setState({ step: 'closed' })}>
            Hide the words
          </button>
        </div>
      )}
      {error !== null && <ErrorNotice error={error} title="Cannot show the recovery kit" />}
    </section>
  );
}
