// The words of a recovery kit as `recoveryKit()` prints it (a `#` comment line, then the words),
// for a page that shows them another way, as a QR code. A module of its own
// (`@selfos/wasm/recovery-kit`): a page that imports it does not load the WASM.

/** The kit's 24 words, in order, without its comment line. */
export function recoveryKitWords(kit: string): string[] {
  return kit
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join(' ')
    .split(/\s+/)
    .filter((word) => word !== '');
}
