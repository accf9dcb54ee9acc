// Every failure the dashboard shows, in words. The WASM package rejects with a stable `code`;
// the user sees what that code means and what to do, with the package's own message as detail.

import { isSelfosError, type ErrorCode } from '@selfos/wasm';

export interface ErrorDescription {
  /** The package's code, or `unexpected` for anything that did not come from it. */
  code: ErrorCode | 'unexpected';
  /** What the code means, for people. */
  meaning: string;
  /** The original message (never holds a passphrase or an answer's text). */
  detail: string;
}

const MEANINGS: Record<ErrorCode, string> = {
  'wrong-passphrase': 'The passphrase does not open this vault. Nothing stored was changed.',
  'wrong-session-key': 'The saved session does not open this vault: unlock with the passphrase.',
  'not-found': 'No such vault or answer here: it may have been deleted on another device.',
  damaged: 'Some stored data cannot be read (damaged). Everything readable is still shown.',
  pending: 'Some answers are waiting for their key from the device that wrote them; the next sync brings it.',
  'already-exists': 'A vault is already stored in this browser. Unlock it, or forget it first.',
  'empty-passphrase': 'The passphrase is empty.',
  invalid: 'The input was refused: check the recovery kit, the relay address or the value you entered.',
  deleted: 'This answer was deleted for good and cannot be changed or restored.',
  'reserved-namespace': 'That namespace is reserved for the vault itself.',
  'other-vault': 'This data belongs to another vault.',
  'old-format':
    'This replica is stored in an old format that this version no longer opens. Export its answers, then forget this replica, restore your vault from its recovery kit, and import the export into it.',
  'unsupported-export': 'This export was made by a newer or unknown format version.',
  'storage-full':
    'The browser storage is full. The vault is now locked; everything saved before is intact. Free some space, then unlock again.',
  'storage-unwritable': 'The browser refuses to store data for this page (private mode or site settings).',
  storage: 'The browser storage failed.',
  entropy: 'The browser could not provide secure random numbers.',
  sync: 'Syncing through the relay failed: the address is wrong, the relay refused this vault, or it is unreachable.',
  internal: 'An unexpected error inside the vault.',
  locked: 'The vault is locked. Unlock it again.',
  'wrong-code': 'The code does not match the other device\'s: it is used up. Show a new code there and try again.',
  'no-offer': 'No device is offering this code: check the number, and that the other device shows it now.',
  expired: 'Nobody used the code in time: show a new one.',
  relay: 'The relay could not be reached for the pairing, or went away during it.',
  pairing: 'The other device gave up the pairing or left: start again with a new code.',
};

export function describeError(error: unknown): ErrorDescription {
  if (isSelfosError(error)) {
    return { code: error.code, meaning: MEANINGS[error.code] ?? MEANINGS.internal, detail: error.message };
  }
  const detail = error instanceof Error ? error.message : String(error);
  return { code: 'unexpected', meaning: 'Something went wrong in the dashboard.', detail };
}
