// The QR code of a recovery kit, as an image URL (the relay's CSP allows `data:` images).

import qrcode from 'qrcode-generator';

/** The kit's words alone, upper case: QR's alphanumeric mode holds them in a smaller code, and
 * a restore reads them in any case. */
function qrWords(kit: string): string {
  return kit
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join(' ')
    .trim()
    .split(/\s+/)
    .join(' ')
    .toUpperCase();
}

export function recoveryKitQr(kit: string): string {
  const qr = qrcode(0, 'M');
  qr.addData(qrWords(kit), 'Alphanumeric');
  qr.make();
  return `data:image/svg+xml,${encodeURIComponent(qr.createSvgTag({ cellSize: 4, margin: 2 }))}`;
}
