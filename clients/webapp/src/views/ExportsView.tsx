// Exports: the whole vault as JSON (reads back through import) and Markdown, instruction
// snippets per agent to paste into its custom-instructions fields, and node embeddings.
// Each export is one WASM call that blocks until done, so its progress is indeterminate; writing
// the file out happens in chunks, with determinate progress.

import type { SelfosClient, Snippet, SnippetField, SnippetTarget } from '@selfos/wasm';
import { useState } from 'react';

import { downloadText } from '../ui/download.ts';
import { ErrorNotice } from '../ui/ErrorNotice.tsx';
import { ProgressBar } from '../ui/ProgressBar.tsx';
import { useVault, useVaultQuery } from '../vault/VaultContext.tsx';

const SNIPPET_TARGETS: { target: SnippetTarget; name: string }[] = [
  { target: 'chat-gpt', name: 'ChatGPT custom instructions' },
  { target: 'claude', name: 'Claude profile preferences' },
  { target: 'generic', name: 'Generic system prompt' },
];

interface ExportKind {
  id: string;
  title: string;
  description: string;
  fileName(): string;
  type: string;
  make(client: SelfosClient): Promise<string>;
}

const EXPORTS: ExportKind[] = [
  {
    id: 'json',
    title: 'Full export (JSON)',
    description: 'Every readable answer with its ids and times, and the policies you set. Import it into this vault, on any of its devices, to restore.',
    fileName: () => `selfos-export-${today()}.json`,
    type: 'application/json',
    make: (c) => c.exportJson(),
  },
  {
    id: 'markdown',
    title: 'Markdown',
    description: 'Every answer, for people to read.',
    fileName: () => `selfos-export-${today()}.md`,
    type: 'text/markdown',
    make: (c) => c.exportMarkdown(),
  },
  {
    id: 'embeddings',
    title: 'Embeddings (JSON)',
    description: '16-dimensional embeddings of the knowledge graph’s nodes, for search or clustering elsewhere.',
    fileName: () => `selfos-embeddings-${today()}.json`,
    type: 'application/json',
    make: async (c) => JSON.stringify(await c.embeddings()),
  },
];

type Progress = { phase: 'idle' } | { phase: 'building' } | { phase: 'saving'; share: number } | { phase: 'done' };

export function ExportsView() {
  return (
    <div className="space-y-6">
      <p className="notice" role="note" data-export-warning>
        An export is not encrypted: anyone who gets the file can read every answer in it. Keep it where you keep
        other private files, and delete it when you no longer need it.
      </p>
      <div className="export-grid">
        {EXPORTS.map((kind) => (
          <FileExport key={kind.id} kind={kind} />
        ))}
      </div>
      <section aria-labelledby="snippets-title" className="space-y-3">
        <h2 id="snippets-title" className="text-lg font-semibold">
          Instruction snippets
        </h2>
        <p className="text-sm text-muted">
          What your answers say about how you want to be answered, cut to each field’s limit. Paste them into the
          agent’s settings.
        </p>
        {SNIPPET_TARGETS.map(({ target, name }) => (
          <SnippetPanel key={target} target={target} name={name} />
        ))}
      </section>
    </div>
  );
}

function useExportRunner() {
  const [progress, setProgress] = useState<Progress>({ phase: 'idle' });
  const [error, setError] = useState<unknown>(null);
  const run = async (make: () => Promise<string>, fileName: string, type: string) => {
    setError(null);
    setProgress({ phase: 'building' });
    try {
      // The WASM call blocks this thread: let the progress bar paint first.
      await nextPaint();
      const text = await make();
      await downloadText(text, fileName, type, (share) => setProgress({ phase: 'saving', share }));
      setProgress({ phase: 'done' });
    } catch (e) {
      setError(e);
      setProgress({ phase: 'idle' });
    }
  };
  return { progress, error, run };
}

function FileExport({ kind }: { kind: ExportKind }) {
  const { client } = useVault();
  const { progress, error, run } = useExportRunner();
  const busy = progress.phase === 'building' || progress.phase === 'saving';
  return (
    <section className="card" aria-labelledby={`export-${kind.id}`} data-export={kind.id}>
      <h2 id={`export-${kind.id}`} className="font-semibold">
        {kind.title}
      </h2>
      <p className="mt-1 text-sm text-muted">{kind.description}</p>
      <button
        type="button"
        className="btn btn-primary mt-3"
        disabled={busy}
        onClick={() => void run(() => kind.make(client), kind.fileName(), kind.type)}
      >
        Download<span className="sr-only"> {kind.title}</span>
      </button>
      <div aria-live="polite">
        {progress.phase === 'building' && <ProgressBar label="Exporting" value={null} />}
        {progress.phase === 'saving' && <ProgressBar label="Saving the file" value={progress.share} />}
        {progress.phase === 'done' && <p className="mt-2 text-sm">Saved.</p>}
      </div>
      {error !== null && <ErrorNotice error={error} title="Export failed" />}
    </section>
  );
}

function SnippetPanel({ target, name }: { target: SnippetTarget; name: string }) {
  const snippet = useVaultQuery((c) => c.snippet(target));
  const data = snippet.data;
  const { progress, error, run } = useExportRunner();
  return (
    <section className="card" aria-labelledby={`snippet-${target}`} data-snippet={target}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h3 id={`snippet-${target}`} className="font-semibold">
          {name}
        </h3>
        {data && (
          <button
            type="button"
            className="btn"
            onClick={() => void run(async () => snippetText(data), `selfos-snippet-${target}.txt`, 'text/plain')}
          >
            Download<span className="sr-only"> {name}</span>
          </button>
        )}
      </div>
      {progress.phase === 'done' && <p className="text-sm">Saved.</p>}
      {error !== null && <ErrorNotice error={error} title="Download failed" />}
      {snippet.status === 'error' && <ErrorNotice error={snippet.error} title="Cannot build the snippet" />}
      {!data ? (
        <ProgressBar label="Building the snippet" value={null} />
      ) : (
        data.fields.map((field) => <SnippetFieldView key={field.title} target={target} field={field} />)
      )}
    </section>
  );
}

function SnippetFieldView({ target, field }: { target: SnippetTarget; field: SnippetField }) {
  const text = fieldText(field);
  const count = characters(text);
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const id = `snippet-${target}-${field.title.replace(/\W+/g, '-')}`;
  const copy = () =>
    navigator.clipboard.writeText(text).then(
      () => setCopied('yes'),
      () => setCopied('failed'),
    );
  return (
    <div className="mt-3" data-field={field.title} data-limit={field.limit} data-characters={count}>
      <label htmlFor={id} className="label">
        {field.title}
      </label>
      {field.lines.length === 0 ? (
        <p className="text-sm text-muted">Nothing to say yet: answer preference and intent cards first.</p>
      ) : (
        <textarea id={id} className="input w-full font-mono text-sm" rows={Math.min(10, field.lines.length + 1)} readOnly value={text} />
      )}
      <div className="mt-1 flex items-center gap-3 text-sm">
        <span className={count > field.limit ? 'text-danger' : 'text-muted'}>
          {count} / {field.limit} characters
        </span>
        <button type="button" className="btn btn-quiet" onClick={() => void copy()} disabled={text === ''}>
          Copy<span className="sr-only"> {field.title}</span>
        </button>
        <span aria-live="polite">{copied === 'yes' ? 'Copied.' : copied === 'failed' ? 'The browser refused the clipboard.' : ''}</span>
      </div>
    </div>
  );
}

/** A field as the agent's settings take it: its lines joined by newlines. */
function fieldText(field: SnippetField): string {
  return field.lines.map((l) => l.text).join('\n');
}

/** Limits count characters (code points), as the graph crate does. */
function characters(text: string): number {
  return [...text].length;
}

/** Every field under its title, for the downloaded file. */
function snippetText(snippet: Snippet): string {
  return snippet.fields.map((f) => `## ${f.title}\n\n${fieldText(f)}\n`).join('\n');
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

function nextPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}
