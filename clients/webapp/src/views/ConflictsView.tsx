// Conflicts: answers that two devices changed concurrently. Under user-merge they wait here
// until the user keeps one version or writes the merged answer; under last-write-wins the latest
// version already won, and the versions it overwrote are listed. The policy is per agent
// (namespace) and syncs like any change.

import type { ConflictValue, Policy, SelfosClient, VaultConflict } from '@selfos/wasm';
import { useId, useState, type FormEvent } from 'react';

import { EmptyState } from '../ui/EmptyState.tsx';
import { ErrorNotice } from '../ui/ErrorNotice.tsx';
import { answerText, formatTime, shortId } from '../ui/format.ts';
import { ProgressBar } from '../ui/ProgressBar.tsx';
import { useVault, useVaultQuery } from '../vault/VaultContext.tsx';

const POLICY_NAMES: Record<Policy, string> = {
  'last-write-wins': 'Last write wins',
  'user-merge': 'Ask me (user merge)',
};

export function ConflictsView() {
  const conflicts = useVaultQuery((c) => c.conflicts());
  const pending = conflicts.data?.filter((c) => c.pending) ?? [];
  const settled = conflicts.data?.filter((c) => !c.pending) ?? [];
  return (
    <div className="space-y-6">
      <Policies />
      {conflicts.status === 'error' && <ErrorNotice error={conflicts.error} title="Cannot read the conflicts" />}
      {!conflicts.data ? (
        <ProgressBar label="Reading conflicts" value={null} />
      ) : conflicts.data.length === 0 ? (
        <EmptyState title="No conflicts">
          When two devices change the same answer before they sync, the versions appear here.
        </EmptyState>
      ) : (
        <>
          <section aria-labelledby="pending-title" className="space-y-3">
            <h2 id="pending-title" className="text-lg font-semibold">
              Waiting for you ({pending.length})
            </h2>
            {pending.length === 0 && <p className="text-muted">Nothing to decide.</p>}
            {pending.map((c) => (
              <PendingConflict key={c.id} conflict={c} />
            ))}
          </section>
          <section aria-labelledby="settled-title" className="space-y-3">
            <h2 id="settled-title" className="text-lg font-semibold">
              Settled by last write wins ({settled.length})
            </h2>
            {settled.length === 0 && <p className="text-muted">None.</p>}
            {settled.map((c) => (
              <SettledConflict key={c.id} conflict={c} />
            ))}
          </section>
        </>
      )}
    </div>
  );
}

function Policies() {
  const { client } = useVault();
  const policies = useVaultQuery(async (c) => {
    const namespaces = await c.namespaces();
    return Promise.all(namespaces.map(async (ns) => ({ ns, policy: await c.policy(ns) })));
  });
  const [error, setError] = useState<unknown>(null);
  const change = (ns: string, policy: Policy) => {
    setError(null);
    client.setPolicy(ns, policy).catch(setError);
  };
  return (
    <section aria-labelledby="policies-title" className="card">
      <h2 id="policies-title" className="text-lg font-semibold">
        Conflict policy per agent
      </h2>
      <p className="mt-1 text-sm text-muted">
        Last write wins keeps the latest version at once and lists what it overwrote. Ask me keeps every version here
        until you choose.
      </p>
      {error !== null && <ErrorNotice error={error} title="Cannot change the policy" />}
      {policies.data?.length === 0 && <p className="mt-2 text-muted">No agents yet.</p>}
      <ul className="mt-2 space-y-2">
        {policies.data?.map(({ ns, policy }) => (
          <li key={ns}>
            <label className="flex flex-wrap items-center gap-2">
              <span className="min-w-32 font-medium">{ns}</span>
              <select
                className="input"
                value={policy}
                data-namespace={ns}
                onChange={(e) => change(ns, e.target.value as Policy)}
              >
                {(Object.keys(POLICY_NAMES) as Policy[]).map((p) => (
                  <option key={p} value={p}>
                    {POLICY_NAMES[p]}
                  </option>
                ))}
              </select>
            </label>
          </li>
        ))}
      </ul>
    </section>
  );
}

function useResolve(id: string) {
  const { client } = useVault();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (resolution: Parameters<SelfosClient['resolve']>[1]) => {
    setBusy(true);
    setError(null);
    try {
      await client.resolve(id, resolution);
      // The conflict list refreshes on the change event; this card then disappears.
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return { busy, error, run };
}

function PendingConflict({ conflict }: { conflict: VaultConflict }) {
  const [keep, setKeep] = useState(0);
  const [merged, setMerged] = useState(() => mergedDraft(conflict.values));
  const { busy, error, run } = useResolve(conflict.id);
  const ids = { legend: useId(), merged: useId() };
  const submitMerged = (event: FormEvent) => {
    event.preventDefault();
    void run({ answer: { type: 'text', value: merged } });
  };
  return (
    <article className="card" data-conflict={conflict.id} aria-labelledby={ids.legend}>
      <h3 id={ids.legend} className="font-semibold">
        {conflict.namespace} · <code title={conflict.id}>{shortId(conflict.id)}</code>
      </h3>
      <fieldset className="mt-2" disabled={busy}>
        <legend className="text-sm text-muted">{conflict.values.length} versions, latest first. Keep one:</legend>
        <ul className="mt-1 space-y-1">
          {conflict.values.map((v, i) => (
            <li key={i}>
              <label className="check items-start">
                <input type="radio" name={`keep-${conflict.id}`} checked={keep === i} onChange={() => setKeep(i)} />
                <ValueText value={v} />
              </label>
            </li>
          ))}
        </ul>
        <button type="button" className="btn btn-primary mt-2" onClick={() => void run({ keep })}>
          Keep this version
        </button>
      </fieldset>
      <form className="mt-3" onSubmit={submitMerged}>
        <fieldset disabled={busy}>
          <label htmlFor={ids.merged} className="label">
            Or write the merged answer
          </label>
          <textarea
            id={ids.merged}
            className="input w-full"
            rows={2}
            required
            value={merged}
            onChange={(e) => setMerged(e.target.value)}
          />
          <button type="submit" className="btn mt-2">
            Save merged answer
          </button>
        </fieldset>
      </form>
      {error !== null && <ErrorNotice error={error} title="Cannot resolve" />}
    </article>
  );
}

function SettledConflict({ conflict }: { conflict: VaultConflict }) {
  const [winner, ...overwritten] = conflict.values;
  const { busy, error, run } = useResolve(conflict.id);
  return (
    <article className="card" data-conflict={conflict.id}>
      <h3 className="font-semibold">
        {conflict.namespace} · <code title={conflict.id}>{shortId(conflict.id)}</code>
      </h3>
      {winner && (
        <p className="mt-1">
          <span className="text-sm text-muted">Kept: </span>
          <ValueText value={winner} />
        </p>
      )}
      <p className="mt-2 text-sm text-muted">Overwritten:</p>
      <ul className="space-y-1">
        {overwritten.map((v, i) => (
          <li key={i}>
            <ValueText value={v} />
          </li>
        ))}
      </ul>
      <button type="button" className="btn mt-2" disabled={busy} onClick={() => void run({ keep: 0 })}>
        Dismiss (keep the latest)
      </button>
      {error !== null && <ErrorNotice error={error} title="Cannot dismiss" />}
    </article>
  );
}

function ValueText({ value }: { value: ConflictValue }) {
  const device = value.updated.node.slice(0, 8);
  return (
    <span>
      {value.unreadable ? <em>unreadable: {value.unreadable}</em> : <span>{answerText(value.answer)}</span>}
      <span className="block text-sm text-muted">
        written {formatTime(value.updated.wall_ms)} on device <code>{device}</code>
      </span>
    </span>
  );
}

/** A starting point for the merged text: the text versions, one per line. */
function mergedDraft(values: readonly ConflictValue[]): string {
  const texts = values.flatMap((v) => (v.answer?.type === 'text' ? [v.answer.value] : []));
  return [...new Set(texts)].join('\n');
}
