/**
 * The toolbar popup: create a vault or join one by link, unlock it with the passphrase, lock it;
 * the relay's state, today's answers, and a pause of the overlay. Everything goes through the
 * worker, which holds the vault; the passphrase is sent once and never stored.
 */

import { mountLink } from '../link';
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

/** The relay line: its state, the other devices online, what is not synced yet. */
function relayLine({ relay, sync }: VaultView): string {
  const pending = sync.unsynced > 0 ? `, ${sync.unsynced} not synced yet` : '';
  if (!relay) return `Relay: none set (Settings)${pending}`;
  const devices =
    sync.status !== 'joined'
      ? ''
      : sync.peers > 0
        ? ` (${sync.peers} other device${sync.peers > 1 ? 's' : ''} online)`
        : ', no other device online';
  return `Relay: ${SYNC[sync.status]}${devices}${pending}`;
}

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
  byId('relay').textContent = relayLine(v);
  byId('paused').textContent = v.pausedUntil
    ? `Paused until ${new Date(v.pausedUntil).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`
    : '';
  byId('pause').textContent = v.pausedUntil ? 'Resume now' : 'Pause for an hour';
  byId('forget-box').hidden = !v.exists;
  const lost = v.sync.unsynced > 0 ? ` (${v.sync.unsynced} now)` : '';
  byId('forget-warning').textContent =
    `Your other devices keep the vault; answers this browser has not synced yet are lost${lost}. ` +
    'Then create a vault or join one again: a browser that joined with a passphrase your other ' +
    'devices do not use waits alone, with no other device online.';
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

mountLink(byId('link-box'), (message) => {
  byId('error').textContent = message;
});
byId('lock').addEventListener('click', () => void send({ t: 'vault', op: 'lock' }));
byId('forget').addEventListener('click', () => {
  void send({ t: 'vault', op: 'forget' }).then((done) => {
    if (done) byId<HTMLDetailsElement>('forget-box').open = false;
  });
});
byId('pause').addEventListener('click', () => void send({ t: 'vault', op: 'pause', ms: view?.pausedUntil ? 0 : HOUR }));

void send({ t: 'vault', op: 'status' });
// The relay's state changes while the popup is open.
setInterval(() => void send({ t: 'vault', op: 'status' }), 2000);
