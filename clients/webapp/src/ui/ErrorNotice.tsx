// An error as the user sees it: what its code means in words, the code itself (to search or
// report), and the package's message.

import { describeError } from '../vault/errors.ts';

export function ErrorNotice({ error, title, onDismiss }: { error: unknown; title?: string; onDismiss?: () => void }) {
  const { code, meaning, detail } = describeError(error);
  return (
    <div role="alert" className="notice notice-error" data-error-code={code}>
      <p className="font-semibold">{title ?? 'Something failed'}</p>
      <p>{meaning}</p>
      <p className="text-sm">
        Code <code>{code}</code>: {detail}
      </p>
      {onDismiss && (
        <button type="button" className="btn btn-quiet mt-2" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}
