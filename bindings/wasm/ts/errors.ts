// One error shape for everything the package rejects with. The WASM module throws plain `Error`
// objects named "SelfosError" that carry a `code`; this layer throws instances of the class
// below. Callers tell them apart by `code` only, through `isSelfosError`, never by `instanceof`.

export type ErrorCode =
  | 'wrong-passphrase'
  | 'wrong-session-key'
  | 'not-found'
  | 'damaged'
  | 'pending'
  | 'already-exists'
  | 'empty-passphrase'
  | 'invalid'
  | 'deleted'
  | 'reserved-namespace'
  | 'other-vault'
  /** A vault stored in format 1, which this version only exports (`SelfosClient.exportFormat1`). */
  | 'old-format'
  | 'unsupported-export'
  | 'storage-full'
  | 'storage-unwritable'
  | 'storage'
  | 'entropy'
  | 'sync'
  /** Pairing: the two devices' codes differ; both sides end with it. Start again with a new code. */
  | 'wrong-code'
  /** Pairing, offering side: no device used the code before it expired. */
  | 'expired'
  /** Pairing, joining side: no device in the relay offers this code (check the number). */
  | 'no-offer'
  /** Pairing: the relay could not be reached, refused the join, went away or stopped answering. */
  | 'relay'
  /** Pairing: the other device gave up, left, or sent something unusable. */
  | 'pairing'
  | 'internal'
  /** An operation on a client that was locked (by the user, or after a failed commit). */
  | 'locked';

export class SelfosError extends Error {
  override readonly name = 'SelfosError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** True for errors thrown by the WASM module and by this package alike. */
export function isSelfosError(error: unknown): error is SelfosError {
  return (
    error instanceof Error &&
    error.name === 'SelfosError' &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

/** Anything thrown (a WASM trap, a DOMException) as a SelfosError, keeping the original as cause. */
export function toSelfosError(error: unknown): SelfosError {
  if (isSelfosError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SelfosError('internal', message, { cause: error });
}
