/** The vault's link for another device: a button that shows it, in the popup and the options page. */

import { ask, type VaultReply } from './messages';

/**
 * Adds to `box` a button that fetches the link another device joins this vault with (nothing
 * secret in it) and shows it selected for copying; `fail` gets the message to show otherwise.
 */
export function mountLink(box: HTMLElement, fail: (message: string) => void): void {
  const button = Object.assign(document.createElement('button'), {
    type: 'button',
    id: 'show-link',
    textContent: 'Link for another device',
  });
  const input = Object.assign(document.createElement('input'), { type: 'text', readOnly: true, spellcheck: false });
  const label = Object.assign(document.createElement('label'), { hidden: true });
  label.append('Join with this link (nothing secret in it)', input);
  button.addEventListener('click', () => {
    void ask<VaultReply | undefined>({ t: 'vault', op: 'link' }).then((reply) => {
      if (!reply?.link) return fail(reply?.error ?? 'No link: unlock the vault first.');
      input.value = reply.link;
      label.hidden = false;
      input.select();
    });
  });
  box.append(button, label);
}
