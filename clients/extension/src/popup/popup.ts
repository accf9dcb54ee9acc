/**
 * The toolbar popup: create a vault or restore one from its recovery kit, unlock it with the
 * passphrase, lock it; the relay's state and its store's, today's answers, a pause of the overlay, adding a device
 * by a one-time code (or joining one with it), and the recovery kit. Everything goes through the worker, which holds the vault; a passphrase is sent
 * once and never stored. A vault in the old format 1 is only exported from here.
 */

import { ask, type VaultMessage, type VaultReply, type VaultView } from '../messages';
import { mountRecoveryKit } from '../recovery-kit';
import { newPassphraseProblem } from '@selfos/wasm/passphrase-strength';

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

/** The relay's store, once the relay said something worth telling: a catch-up under way, a store
 * that is full (new answers stay here), none at all, or one that failed. */
function storeLine({ sync }: VaultView): string {
  const { status, progress } = sync.store;
  if (progress) {
    const percent = Math.floor((progress.fetchedBytes * 100) / Math.max(1, progress.totalBytes));
    return `Catching up from the relay's store: ${percent}%`;
  }
  switch (status) {
    case 'full':
      return (
        "The relay's store is full: new answers stay on this browser, and reach your other devices " +
        'only while they are online with it.'
      );
    case 'disabled':
      return 'This relay keeps no store: your devices sync only while they are online together.';
    case 'unavailable':
      return "The relay's store is unavailable; asking again shortly.";
    case 'settled':
      return "The relay's store holds all your answers.";
    default:
      return '';
  }
}

/** What became of the pairing this browser offers. */
function pairingLine(p: VaultView['pairing']): string {
  switch (p?.state) {
    case 'open':
      return `Code: ${p.code}. On the new device: "Join with a code" (or selfos join --code ${p.code}). It works once, for 10 minutes.`;
    case 'paired':
      return 'Paired: the other device now holds your vault.';
    case 'failed':
      return `Pairing with ${p.code || 'the code'} failed: ${p.error ?? 'try again with a new code'}`;
    default:
      return '';
  }
}

function render(v: VaultView): void {
  byId('unlock-form').hidden = !v.exists || v.unlocked;
  byId('setup').hidden = v.exists;
  // Asked only where it would otherwise be missing: the options page holds the relay.
  byId('restore-relay-label').hidden = v.relay !== '';
  byId('join-relay-label').hidden = v.relay !== '';
  byId('pairing').textContent = pairingLine(v.pairing);
  byId<HTMLButtonElement>('pair').disabled = v.pairing?.state === 'open';
  if (!v.exists || v.unlocked) byId('old-format').hidden = true;
  byId('open').hidden = !v.unlocked;
  byId('state').textContent = v.unlocked
    ? 'Unlocked: your answers are saved to your vault.'
    : v.exists
      ? 'Locked: nothing is saved until you unlock.'
      : 'No vault yet: create one, or restore yours from its recovery kit.';
  byId('today').textContent = `Answered today: ${v.today}`;
  byId('relay').textContent = relayLine(v);
  const store = byId('store');
  store.textContent = storeLine(v);
  store.dataset.store = v.sync.store.status;
  byId('paused').textContent = v.pausedUntil
    ? `Paused until ${new Date(v.pausedUntil).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`
    : '';
  byId('pause').textContent = v.pausedUntil ? 'Resume now' : 'Pause for an hour';
  byId('forget-box').hidden = !v.exists;
  const lost = v.sync.unsynced > 0 ? ` (${v.sync.unsynced} now)` : '';
  byId('forget-warning').textContent =
    `Your other devices keep the vault; answers this browser has not synced yet are lost${lost}. ` +
    'Then create a vault, or restore yours again from its recovery kit.';
}

let view: VaultView | undefined;

const say = (message: string): void => {
  byId('error').textContent = message;
};

/** Sends `m` and shows the outcome; resolves with the reply when the worker gave no error. */
async function send(m: VaultMessage): Promise<VaultReply | undefined> {
  if (m.op !== 'status') say('');
  const reply = await ask<VaultReply | undefined>(m);
  if (!reply) {
    say('SelfOS did not answer; try again.');
    return undefined;
  }
  view = reply.view;
  render(view);
  if (reply.error) say(reply.error);
  else if (m.op !== 'status') say('');
  if (reply.code === 'old-format') byId('old-format').hidden = false;
  return reply.error ? undefined : reply;
}

/** Saves `text` as a file the browser downloads. */
function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  Object.assign(document.createElement('a'), { href: url, download: name }).click();
  // Revoked once the download has started from it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
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

const value = (id: string): string => byId<HTMLInputElement | HTMLTextAreaElement>(id).value;

onSubmit('unlock-form', async (form) => {
  if (await send({ t: 'vault', op: 'unlock', passphrase: value('unlock-pass') })) form.reset();
});

onSubmit('create-form', async (form) => {
  const problem = newPassphraseProblem(value('create-pass'), value('create-again'));
  if (problem) return say(problem);
  byId('state').textContent = 'Creating your vault…';
  if (await send({ t: 'vault', op: 'create', passphrase: value('create-pass') })) form.reset();
});

onSubmit('join-code-form', async (form) => {
  const problem = newPassphraseProblem(value('join-pass'), value('join-again'));
  if (problem) return say(problem);
  byId('state').textContent = 'Joining your vault…';
  const join = {
    t: 'vault',
    op: 'join-code',
    code: value('join-code'),
    passphrase: value('join-pass'),
    relay: value('join-relay'),
  } as const;
  if (await send(join)) form.reset();
});

onSubmit('restore-form', async (form) => {
  const problem = newPassphraseProblem(value('restore-pass'), value('restore-again'));
  if (problem) return say(problem);
  byId('state').textContent = 'Restoring your vault…';
  const restore = {
    t: 'vault',
    op: 'restore',
    recoveryKit: value('restore-kit'),
    passphrase: value('restore-pass'),
    relay: value('restore-relay'),
  } as const;
  if (await send(restore)) form.reset();
});

byId('export-old').addEventListener('click', () => {
  void send({ t: 'vault', op: 'export-format-1', passphrase: value('unlock-pass') }).then((reply) => {
    if (!reply?.exported) return;
    download('selfos-format-1-export.json', reply.exported);
    say('Exported. Now remove this copy (below), create a new vault, and import the file into it.');
  });
});

mountRecoveryKit(byId('kit-box'), say);
byId('pair').addEventListener('click', () => void send({ t: 'vault', op: 'pair' }));
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
