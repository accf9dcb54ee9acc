/**
 * The recovery kit on screen, in the popup and the options page: a button, then a warning to
 * confirm, then the 24 words (read-only, selectable) and a QR code of them. The words come from
 * the worker on each showing and live only in this page's DOM until hidden: nothing here stores,
 * logs or sends them.
 */

import { recoveryKitWords } from '@selfos/wasm/recovery-kit';
import qrcode from 'qrcode-generator';
import { ask, type VaultReply } from './messages';

const WARNING =
  'The recovery kit is the one secret of your vault: whoever has these 24 words can read every ' +
  'answer in it and add a device to it. Write them down or print them, and keep them offline. ' +
  'Never type them into a website, a chat or an email: only "Restore from recovery kit" in SelfOS ' +
  'takes them.';

/** An SVG image URL of the QR code of the kit's words, upper case: QR's alphanumeric mode holds
 * them in a smaller code, and a restore reads them in any case. */
function qrImage(kit: string): string {
  const qr = qrcode(0, 'M');
  qr.addData(recoveryKitWords(kit).join(' ').toUpperCase(), 'Alphanumeric');
  qr.make();
  return `data:image/svg+xml,${encodeURIComponent(qr.createSvgTag({ cellSize: 4, margin: 2 }))}`;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

/**
 * Adds the recovery kit's button, warning and display to `box`; `fail` gets the message to show
 * when the worker gives no kit (the vault is locked).
 */
export function mountRecoveryKit(box: HTMLElement, fail: (message: string) => void): void {
  const start = element('button', { type: 'button', textContent: 'Recovery kit…' });
  const confirm = element('div', { className: 'kit-confirm', hidden: true });
  const show = element('button', { type: 'button', textContent: 'Show the 24 words' });
  const cancel = element('button', { type: 'button', textContent: 'Cancel' });
  confirm.append(element('p', { className: 'kit-warning', textContent: WARNING }), show, cancel);

  const shown = element('div', { className: 'kit-shown', hidden: true });
  const words = element('textarea', { readOnly: true, spellcheck: false, rows: 6, cols: 42 });
  const label = element('label');
  label.append("This vault's recovery kit", words);
  const qr = element('img', { alt: "QR code of the recovery kit's 24 words" });
  const hide = element('button', { type: 'button', textContent: 'Hide the words' });
  shown.append(label, qr, hide);

  const reset = (): void => {
    words.value = '';
    qr.removeAttribute('src');
    shown.hidden = confirm.hidden = true;
    start.hidden = false;
  };
  start.addEventListener('click', () => {
    start.hidden = true;
    confirm.hidden = false;
  });
  cancel.addEventListener('click', reset);
  hide.addEventListener('click', reset);
  show.addEventListener('click', () => {
    void ask<VaultReply | undefined>({ t: 'vault', op: 'recovery-kit' }).then((reply) => {
      if (!reply?.recoveryKit) {
        reset();
        return fail(reply?.error ?? 'No recovery kit: unlock the vault first.');
      }
      words.value = reply.recoveryKit;
      qr.src = qrImage(reply.recoveryKit);
      confirm.hidden = true;
      shown.hidden = false;
      words.select();
    });
  });
  box.append(start, confirm, shown);
}
