// Adding a device by a one-time code: this browser shows the code, and hands the vault secret to
// the device that enters it ("Join with a code" there, or `selfos join --code`). The code works
// once; the pairing goes on while this view is open.

import { useId, useState } from 'react';

import { ErrorNotice } from '../ui/ErrorNotice.tsx';
import { useVault } from '../vault/VaultContext.tsx';

type Pairing =
  | { state: 'idle' }
  | { state: 'starting' }
  | { state: 'open'; code: string }
  | { state: 'paired'; code: string }
  | { state: 'failed'; code: string | null; error: unknown };

export function PairSection() {
  const { client, relay } = useVault();
  const [pairing, setPairing] = useState<Pairing>({ state: 'idle' });
  const title = useId();

  const start = () => {
    setPairing({ state: 'starting' });
    let code: string | null = null;
    client
      .pair({
        relayUrl: relay,
        onCode: (shown) => {
          code = shown;
          setPairing({ state: 'open', code: shown });
        },
      })
      .then(
        () => setPairing({ state: 'paired', code: code ?? '' }),
        (error: unknown) => setPairing({ state: 'failed', code, error }),
      );
  };
  const busy = pairing.state === 'starting' || pairing.state === 'open';

  return (
    <section aria-labelledby={title} className="card">
      <h2 id={title} className="text-lg font-semibold">
        Add a device
      </h2>
      <p className="mt-1 text-sm text-muted">
        Shows a one-time code. On the new device, choose "Join with a code" (extension or dashboard), or run{' '}
        <code>selfos join --code CODE --relay {relay}</code>. The code works once, for 10 minutes, while this page stays
        open.
      </p>
      <button type="button" className="btn mt-3" onClick={start} disabled={busy}>
        Show a code
      </button>
      {pairing.state === 'open' && (
        <p role="status" className="mt-3">
          Code: <code data-pairing-code={pairing.code}>{pairing.code}</code>, waiting for the other device…
        </p>
      )}
      {pairing.state === 'paired' && (
        <p role="status" className="notice notice-ok mt-3">
          Paired: the other device now holds your vault.
        </p>
      )}
      {pairing.state === 'failed' && (
        <ErrorNotice error={pairing.error} title={`Pairing${pairing.code ? ` with ${pairing.code}` : ''} failed`} />
      )}
    </section>
  );
}
