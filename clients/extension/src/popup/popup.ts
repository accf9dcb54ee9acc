/**
 * The toolbar popup: create a vault or join one by link, unlock it with the passphrase, lock it;
 * the relay's state, today's answers, and a pause of the overlay. Everything goes through the
 * worker, which holds the vault; the passphrase is sent once and never stored.
 */

import { ask, type VaultMessage, type VaultReply, type VaultView } from '../messages';

function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`popup.html lacks #${id}`);
  return e as T;
}

const HOUR = 60 * 60 * 1000;

const SYNC: Record<VaultView['sync']['status'], string> = {
  offline: 'offline',
  connecting: 'connecting…',
  joined: 'connected',
};

function render(v: VaultView): void {
  byId('unlock-form').hidden = !v.exists || v.unlocked;
  byId('setup').hidden = v.exists;
  byId('open').hidden = !v.unlocked;
  byId('state').textContent = v.unlocked
    ? 'Unlocked: your answers are saved to your vault.'
    : v.exists
      ? 'Locked: nothing is saved until you unlock.'
      : 'No vault yet: create one, or join the one on your other device.';
  byId('today').textContent = `Answered today: ${v.today}`;
  const pending = v.sync.unsynced > 0 ? `, ${v.sync.unsynced} not synced yet` : '';
  byId('relay').textContent = v.relay
    ? `Relay: ${SYNC[v.sync.status]}${v.sync.peers > 0 ? ` (${v.sync.peers} other device${v.sync.peers > 1 ? 's' : ''})` : ''}${pending}`
    : `Relay: none set (Settings)${pending}`;
  byId('paused').textContent = v.pausedUntil
    ? `Paused until ${new Date(v.pausedUntil).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`
    : '';
  byId('pause').textContent = v.pausedUntil ? 'Resume now' : 'Pause for an hour';
}

let view: VaultView | undefined;

async function send(m: VaultMessage): Promise<boolean> {
  if (m.op !== 'status') byId('error').textContent = '';
  const reply = await ask<VaultReply | undefined>(m);
  if (!reply) {
    byId('error').textContent = 'SelfOS did not answer; try again.';
    return false;
  }
  view = reply.view;
  render(view);
  if (reply.error) byId('error').textContent = reply.error;
  else if (m.op !== 'status') byId('error').textContent = '';
  return !reply.error;
}

function onSubmit(id: string, f: (form: HTMLFormElement) => Promise<void>): void {
  const form = byId<HTMLFormElement>(id);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const button = form.querySelector('button');
    if (button) button.disabled = true;
    void f(form).finally(() => {
      if (button) button.disabled = false;
    });
  });
}

const value = (id: string): string => byId<HTMLInputElement>(id).value;

onSubmit('unlock-form', async (form) => {
  if (await send({ t: 'vault', op: 'unlock', passphrase: value('unlock-pass') })) form.reset();
});

onSubmit('create-form', async (form) => {
  if (value('create-pass') !== value('create-again')) {
    byId('error').textContent = 'The two passphrases differ.';
    return;
  }
  byId('state').textContent = 'Creating your vault…';
  if (await send({ t: 'vault', op: 'create', passphrase: value('create-pass') })) form.reset();
});

onSubmit('join-form', async (form) => {
  byId('state').textContent = 'Joining…';
  if (await send({ t: 'vault', op: 'join', link: value('join-link'), passphrase: value('join-pass') })) form.reset();
});

byId('show-link').addEventListener('click', () => {
  void ask<VaultReply | undefined>({ t: 'vault', op: 'link' }).then((reply) => {
    if (!reply?.link) {
      byId('error').textContent = reply?.error ?? 'No link: unlock the vault first.';
      return;
    }
    const input = byId<HTMLInputElement>('link');
    input.value = reply.link;
    byId('link-label').hidden = false;
    input.select();
  });
});
byId('lock').addEventListener('click', () => void send({ t: 'vault', op: 'lock' }));
byId('pause').addEventListener('click', () => void send({ t: 'vault', op: 'pause', ms: view?.pausedUntil ? 0 : HOUR }));

void send({ t: 'vault', op: 'status' });
// The relay's state changes while the popup is open.
setInterval(() => void send({ t: 'vault', op: 'status' }), 2000);
