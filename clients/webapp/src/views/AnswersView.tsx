// Every answer in the vault: search, filter by agent, export one as JSON, delete one for good.

import type { DeleteReport, VaultResponse } from '@selfos/wasm';
import { useId, useMemo, useState } from 'react';

import { AgentOptions } from '../ui/AgentOptions.tsx';
import { ConfirmDialog } from '../ui/ConfirmDialog.tsx';
import { downloadText, fileSafe } from '../ui/download.ts';
import { EmptyState } from '../ui/EmptyState.tsx';
import { ErrorNotice } from '../ui/ErrorNotice.tsx';
import { agentName, answerText, formatTime, searchableText } from '../ui/format.ts';
import { ProgressBar } from '../ui/ProgressBar.tsx';
import { NoAnswersYet } from './NoAnswersYet.tsx';
import { useVault, useVaultQuery } from '../vault/VaultContext.tsx';

const PAGE = 50;

type Outcome = { kind: 'deleted'; report: DeleteReport } | { kind: 'error'; error: unknown } | null;

export function AnswersView() {
  const { client } = useVault();
  const listing = useVaultQuery((c) => c.list());
  const [search, setSearch] = useState('');
  const [agent, setAgent] = useState('');
  const [shown, setShown] = useState(PAGE);
  const [toDelete, setToDelete] = useState<VaultResponse | null>(null);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const ids = { search: useId(), agent: useId() };

  const responses = listing.data?.responses;
  const agents = useMemo(() => [...new Set((responses ?? []).map((r) => r.agent))].sort(), [responses]);
  const matches = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return (responses ?? [])
      .filter((r) => (agent === '' || r.agent === agent) && (needle === '' || searchableText(r).includes(needle)))
      .toSorted((a, b) => b.created_ms - a.created_ms);
  }, [responses, search, agent]);

  const confirmDelete = async () => {
    const target = toDelete;
    setToDelete(null);
    if (!target) return;
    try {
      setOutcome({ kind: 'deleted', report: await client.delete(target.id) });
    } catch (error) {
      setOutcome({ kind: 'error', error });
    }
  };

  // Shown above the list, and above the empty vault once the last answer is deleted.
  const notice = (
    <div aria-live="polite">
      {outcome?.kind === 'deleted' && (
        <p className="notice notice-ok" data-outcome="deleted">
          Deleted for good.{' '}
          {outcome.report.shredded_in_this_replica
            ? 'No stored byte of its text remains on this device.'
            : 'Some stored data could not be rewritten yet; the next compaction removes the rest of its encrypted bytes.'}
        </p>
      )}
      {outcome?.kind === 'error' && <ErrorNotice error={outcome.error} title="Cannot delete" />}
    </div>
  );

  if (listing.status === 'error' && !listing.data) return <ErrorNotice error={listing.error} title="Cannot list the answers" />;
  if (!listing.data) return <ProgressBar label="Reading answers" value={null} />;
  if (listing.data.responses.length === 0 && listing.data.unreadable.length === 0) {
    return (
      <div className="space-y-4">
        {notice}
        <NoAnswersYet>
          Answers recorded by the extension or the command line appear here once they sync to this device.
        </NoAnswersYet>
      </div>
    );
  }

  return (
    <div className="space-y-4">
      {listing.data.unreadable.length > 0 && (
        <p className="notice" role="note">
          {listing.data.unreadable.length} stored answers cannot be read (damaged); they are left untouched.
        </p>
      )}
      {notice}
      <div className="flex flex-wrap items-end gap-4">
        <div>
          <label htmlFor={ids.search} className="label">
            Search
          </label>
          <input
            id={ids.search}
            type="search"
            className="input w-72"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
              setShown(PAGE);
            }}
          />
        </div>
        <div>
          <label htmlFor={ids.agent} className="label">
            Agent
          </label>
          <select id={ids.agent} className="input" value={agent} onChange={(e) => setAgent(e.target.value)}>
            <option value="">All agents</option>
            <AgentOptions agents={agents} />
          </select>
        </div>
        <p className="text-sm text-muted" aria-live="polite">
          {matches.length} of {listing.data.responses.length} answers
        </p>
      </div>
      {matches.length === 0 ? (
        <EmptyState title="No answer matches">Try another search or agent.</EmptyState>
      ) : (
        <ul className="space-y-2">
          {matches.slice(0, shown).map((r) => (
            <li key={r.id} className="card answer" data-answer-id={r.id}>
              <p className="answer-text">{answerText(r.answer)}</p>
              {r.context?.prompt_excerpt && (
                <p className="mt-1 text-sm text-muted">Asked: “{r.context.prompt_excerpt}”</p>
              )}
              <p className="mt-1 text-sm text-muted">
                {agentName(r.agent)} · {r.card_id} ({r.card_kind}) · {r.status} · {formatTime(r.created_ms)}
                {r.context?.topics && r.context.topics.length > 0 && <> · topics: {r.context.topics.join(', ')}</>}
                {r.conflicted && <> · has a conflict</>}
              </p>
              <div className="mt-2 flex gap-2">
                <button
                  type="button"
                  className="btn"
                  onClick={() =>
                    void downloadText(JSON.stringify(r, null, 2), `selfos-answer-${fileSafe(r.id)}.json`, 'application/json')
                  }
                >
                  Export<span className="sr-only"> this answer as JSON</span>
                </button>
                <button type="button" className="btn btn-danger" onClick={() => setToDelete(r)}>
                  Delete<span className="sr-only"> this answer</span>
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {matches.length > shown && (
        <button type="button" className="btn" onClick={() => setShown((n) => n + PAGE)}>
          Show {Math.min(PAGE, matches.length - shown)} more
        </button>
      )}
      <ConfirmDialog
        open={toDelete !== null}
        title="Delete this answer for good?"
        confirmLabel="Delete for good"
        onConfirm={() => void confirmDelete()}
        onCancel={() => setToDelete(null)}
      >
        {toDelete && <p className="answer-text">“{answerText(toDelete.answer)}”</p>}
        <p>
          The deletion syncs to every device of this vault. No stored byte of its text remains: its encryption key is
          destroyed and its stored data rewritten on this device now, on each other device as it syncs, and in the
          relay's store once this device uploads. This cannot be undone; export it first if you want a copy.
        </p>
        <p data-delete-limits>
          It cannot reach copies made outside the vault: backups of a device's files, exports already saved, a device
          that never syncs again, and blocks the file system freed but has not overwritten yet.
        </p>
      </ConfirmDialog>
    </div>
  );
}
