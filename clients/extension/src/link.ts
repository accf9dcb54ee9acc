/** The vault's link for another device, which the popup and the options page both show. */

import { ask, type VaultReply } from './messages';

/**
 * Fills `input` with the link another device joins this vault with (nothing secret in it), shows
 * `label` and selects the link for copying; resolves with an error to show instead, if any.
 */
export async function showLink(input: HTMLInputElement, label: HTMLElement): Promise<string | null> {
  const reply = await ask<VaultReply | undefined>({ t: 'vault', op: 'link' });
  if (!reply?.link) return reply?.error ?? 'No link: unlock the vault first.';
  input.value = reply.link;
  label.hidden = false;
  input.select();
  return null;
}
