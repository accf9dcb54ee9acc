// The QR code of a recovery kit, as an image URL (the relay's CSP allows `data:` images).

import { recoveryKitWords } from '@selfos/wasm/recovery-kit';
import qrcode from 'qrcode-generator';

/** An SVG image URL of the QR code of the kit's words, upper case: QR's alphanumeric mode holds
 * them in a smaller code, and a restore reads them in any case. */
export function recoveryKitQr(kit: string): string {
  const qr = qrcode(0, 'M');
  qr.addData(recoveryKitWords(kit).join(' ').toUpperCase(), 'Alphanumeric');
  qr.make();
  return `data:image/svg+xml,${encodeURIComponent(qr.createSvgTag({ cellSize: 4, margin: 2 }))}`;
}
