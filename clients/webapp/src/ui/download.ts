// Saving text as a file. The text is encoded in chunks, yielding to the browser between them, so
// a large vault's export shows real progress instead of freezing the tab.

const CHUNK_CHARS = 1 << 20;
/** The object URL must outlive the click until the browser has read it. */
const REVOKE_AFTER_MS = 60_000;

export async function downloadText(
  text: string,
  fileName: string,
  type: string,
  onProgress?: (share: number) => void,
): Promise<void> {
  const encoder = new TextEncoder();
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + CHUNK_CHARS, text.length);
    // Never split a surrogate pair: each half alone would encode as U+FFFD.
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
    parts.push(encoder.encode(text.slice(start, end)));
    start = end;
    onProgress?.(start / text.length);
    if (start < text.length) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  onProgress?.(1);
  const url = URL.createObjectURL(new Blob(parts, { type }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  anchor.hidden = true;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** A file-name-safe form of an id or label. */
export function fileSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
}
