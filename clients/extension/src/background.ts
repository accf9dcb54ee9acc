/**
 * The service worker: the hub between the content scripts (busy, done, failure), webRequest
 * (network start), the overlay frames (the card, the answer) and the options page (settings).
 * It gets each wait's card from the vault's trainer and records in the vault what became of it.
 *
 * Listeners are added at the top level, synchronously: the browser stops this worker when idle
 * and only wakes it for events that had listeners when it first ran.
 */

import { isSelfosError, type Content, type Status } from '@selfos/wasm';
import { isAnswerTo, type Answer } from './cards';
import { excerptOf } from './excerpt';
import { pageConfig, siteFor } from './background/config';
import { dropEpisode, getEpisode, putEpisode, type Episode } from './background/episodes';
import { forgetTab, watchNetwork } from './background/network';
import { pickCard } from './background/picks';
import { syncContentScripts } from './background/registration';
import * as vault from './background/vault';
import {
  OVERLAY_HEIGHT,
  PAUSED,
  type ContentMessage,
  type FrameMessage,
  type Hide,
  type Locked,
  type NamespacePolicy,
  type OptionsMessage,
  type Saved,
  type VaultMessage,
  type VaultReply,
  type WorkerMessage,
} from './messages';
import { isSettings, loadSettings, storeSettings, type Settings } from './settings';
import { SITES } from './sites';

vault.resumeOnStart();

let settings: Promise<Settings> = loadSettings();

const OPTIONS_URL = chrome.runtime.getURL('options/options.html');
const POPUP_URL = chrome.runtime.getURL('popup/popup.html');
const EXTENSION_ORIGIN = chrome.runtime.getURL('');
/** The overlay frame as its messages name it: under the extension's id, though loaded from a per-session URL on Chrome. */
const FRAME_URL = `${EXTENSION_ORIGIN}overlay/frame.html`;

const toTab = (tab: number, m: WorkerMessage): void => {
  // The tab may have navigated away or closed; there is then nobody to tell.
  chrome.tabs.sendMessage(tab, m, { frameId: 0 }).catch(() => undefined);
};

/**
 * Performance measures of the latest answer, for the bench and DevTools: from the user's submit in
 * the frame, and from the worker's start of the write, to the commit.
 */
const SUBMIT_COMMITTED = 'selfos:submit-committed';
const RECORDED = 'selfos:recorded';

function measureSince(name: string, start: number): void {
  performance.clearMeasures(name);
  // A submit from before this worker started (its message woke it) is not on its timeline.
  if (Number.isFinite(start) && start >= 0) performance.measure(name, { start });
}

/**
 * Records what became of the wait's card, submitted by the user at `submittedAt` (shared clock,
 * see `FrameMessage`); a wait that began while locked had no card and records nothing. Resolves
 * whether the outcome is saved (or there was none to save): a failed write is logged, and told
 * to the overlay, never thrown at the page.
 */
async function record(ep: Episode, status: Status, answer?: Answer, submittedAt = NaN): Promise<boolean> {
  const { card } = ep;
  if (!card) return true;
  const now = Date.now();
  const started = performance.now();
  const saved = await vault
    .record({
      card_id: card.id,
      card_kind: card.kind,
      ...(answer ? { answer } : {}),
      agent: ep.agent,
      origin: ep.origin,
      created_ms: now,
      wait_ms: Math.max(0, (ep.doneMs ?? now) - ep.busyMs),
      status,
      ...contextOf(ep),
    })
    .catch((e: unknown) => {
      console.error('SelfOS: the answer was not saved', e);
      return false;
    });
  measureSince(SUBMIT_COMMITTED, submittedAt - performance.timeOrigin);
  measureSince(RECORDED, started);
  return saved;
}

/** The response's opt-in context: the prompt excerpt, and a recall card's concept as its topic. */
function contextOf({ card, excerpt }: Episode): Pick<Content, 'context'> {
  if (!excerpt && !card?.concept) return {};
  return {
    context: {
      ...(excerpt ? { prompt_excerpt: excerpt } : {}),
      ...(card?.concept ? { topics: [card.concept] } : {}),
    },
  };
}

/** A card on screen carries over to the next wait only this long (an older wait lost its end). */
const KEEP_CARD_MS = 10 * 60_000;

// ---- content script: the AI's state in its tab

async function fromContent(m: ContentMessage, tab: number, url: string): Promise<unknown> {
  switch (m.t) {
    case 'hello':
      return pageConfig(url, await settings);
    case 'busy': {
      const started = Date.now();
      const prompt = typeof m.prompt === 'string' ? m.prompt : '';
      const frame = typeof m.frame === 'string' ? m.frame : '';
      const previous = getEpisode(tab);
      putEpisode(
        tab,
        (async () => {
          // The page may have been opened before its agent was turned off.
          const config = pageConfig(url, await settings);
          if (!config) throw new Error(`no agent covers ${url}`);
          // Checked here too: a page loaded before the user turned excerpts off still sends one.
          const excerpt = config.excerpt ? excerptOf(prompt) : undefined;
          // Paused (or, below, no card fits): no wait, so the frame gets no card and the overlay goes.
          if ((await pausedUntil()) > started) throw new Error('paused');
          // A wait that began before the last one's card was dealt with (a reply cut short and
          // sent again) keeps that card: it is the one on screen, and its answer belongs here.
          const onScreen = await previous.catch(() => undefined);
          const kept =
            onScreen?.card && !onScreen.settled && started - onScreen.busyMs < KEEP_CARD_MS ? onScreen : undefined;
          let card = kept?.card;
          if (!card) {
            // Locked: a wait without a card, in which the overlay says how to unlock.
            const client = await vault.unlocked();
            card = client ? await pickCard(client, config.agent) : undefined;
            if (client && !card) throw new Error('no card fits this wait');
          }
          return {
            agent: config.agent,
            origin: new URL(url).origin,
            ...(card ? { card } : {}),
            ...(excerpt ? { excerpt } : {}),
            busyMs: started,
            frame,
            typing: kept?.typing ?? false,
            settled: false,
          };
        })(),
      );
      return undefined;
    }
    case 'done': {
      const seen = getEpisode(tab);
      const ep = await seen.catch(() => undefined);
      if (ep?.typing && !ep.settled) {
        putEpisode(tab, { ...ep, doneMs: Date.now() }, seen);
        return { hide: false } satisfies Hide;
      }
      // A wait that began meanwhile keeps its overlay.
      return { hide: dropEpisode(tab, seen) } satisfies Hide;
    }
    case 'failure': {
      const seen = getEpisode(tab);
      const ep = await seen.catch(() => undefined);
      if (!dropEpisode(tab, seen)) return { hide: false } satisfies Hide;
      if (ep && !ep.settled) await record({ ...ep, doneMs: Date.now() }, 'retry');
      return { hide: true } satisfies Hide;
    }
  }
}

// ---- overlay frame: the card and the user's answer

async function fromFrame(m: FrameMessage, tab: number): Promise<unknown> {
  const seen = getEpisode(tab);
  const ep = await seen.catch(() => undefined);
  // Not the frame of this wait: a copy of the frame that some frame of the page embedded.
  if (ep && m.token !== ep.frame) return null;
  if (!ep || ep.settled) {
    toTab(tab, { t: 'hide' });
    return null;
  }
  switch (m.t) {
    case 'card':
      return ep.card ?? ({ locked: true } satisfies Locked);
    case 'typing':
      putEpisode(tab, { ...ep, typing: m.on }, seen);
      return undefined;
    case 'height':
      // Passed on to the content script, which sizes the frame's host; clamped, it comes from a frame.
      if (Number.isFinite(m.px)) {
        toTab(tab, { t: 'height', px: Math.min(OVERLAY_HEIGHT.max, Math.max(OVERLAY_HEIGHT.min, Math.ceil(m.px))) });
      }
      return undefined;
    case 'answer':
    case 'skip': {
      if (m.t === 'answer' && !(ep.card && isAnswerTo(ep.card, m.answer))) return undefined;
      // Once the AI is done too, the wait is over; until then the episode stays, so that the
      // AI's end (or failure) does not show or record anything more.
      if (ep.doneMs === undefined) putEpisode(tab, { ...ep, settled: true }, seen);
      else dropEpisode(tab, seen);
      const at = typeof m.at === 'number' ? m.at : NaN;
      const saved = await (m.t === 'answer'
        ? record(ep, 'answered', m.answer, at)
        : record(ep, 'skipped', undefined, at));
      // The overlay goes once the outcome is committed, so its going means saved; an outcome that
      // could not be saved stays on screen, saying so, until the AI's answer ends.
      if (saved) toTab(tab, { t: 'hide' });
      return saved satisfies Saved;
    }
  }
}

// ---- options page: settings

async function fromOptions(m: OptionsMessage): Promise<string | null> {
  if (!isSettings(m.settings)) return 'These settings are not valid.';
  await storeSettings(m.settings);
  settings = Promise.resolve(m.settings);
  await syncContentScripts(m.settings);
  return null;
}

// ---- popup (and options page): the vault, the relay, pausing

async function pausedUntil(): Promise<number> {
  const { [PAUSED]: until } = await chrome.storage.local.get(PAUSED);
  return typeof until === 'number' ? until : 0;
}

async function view(): Promise<VaultReply['view']> {
  const [s, list, until] = await Promise.all([vault.status(), vault.responses(), pausedUntil()]);
  const midnight = new Date().setHours(0, 0, 0, 0);
  const today = list.filter((r) => r.status === 'answered' && r.created_ms >= midnight).length;
  return { ...s, today, pausedUntil: until > Date.now() ? until : 0 };
}

async function fromVaultPage(m: VaultMessage): Promise<VaultReply> {
  let error: string | undefined;
  let responses: unknown[] | undefined;
  let code: VaultReply['code'];
  let recoveryKit: string | undefined;
  let exported: string | undefined;
  let pairCode: string | undefined;
  let policies: NamespacePolicy[] | undefined;
  try {
    switch (m.op) {
      case 'status':
        break;
      case 'create':
        await vault.create(m.passphrase, m.kdf);
        break;
      case 'restore':
        await vault.restore(m.recoveryKit, m.passphrase, m.relay ?? '', m.kdf);
        break;
      case 'unlock':
        await vault.unlock(m.passphrase);
        break;
      case 'lock':
        await vault.lock();
        break;
      case 'forget':
        await vault.forget();
        break;
      case 'relay':
        await chrome.storage.local.set({ [vault.RELAY]: m.relay.trim() });
        await vault.relayChanged();
        break;
      case 'pause':
        await chrome.storage.local.set({ [PAUSED]: m.ms > 0 ? Date.now() + m.ms : 0 });
        break;
      case 'list':
        responses = await vault.responses();
        break;
      case 'recovery-kit':
        recoveryKit = await vault.recoveryKit();
        break;
      case 'change-passphrase':
        await vault.changePassphrase(m.passphrase, m.kdf);
        break;
      case 'export-format-1':
        exported = await vault.exportFormat1(m.passphrase);
        break;
      case 'pair':
        pairCode = await vault.pair();
        break;
      case 'join-code':
        await vault.joinByCode(m.code, m.passphrase, m.relay ?? '', m.kdf);
        break;
      case 'policies':
        policies = await vault.policies((await settings).agents);
        break;
      case 'set-policy':
        await vault.setPolicy(m.namespace, m.policy, (await settings).agents);
        break;
    }
  } catch (e) {
    error = vault.explain(e);
    if (isSelfosError(e)) code = e.code;
  }
  return {
    ...(error ? { error } : {}),
    ...(code ? { code } : {}),
    view: await view(),
    ...(responses ? { responses } : {}),
    ...(recoveryKit ? { recoveryKit } : {}),
    ...(exported ? { exported } : {}),
    ...(pairCode ? { pairCode } : {}),
    ...(policies ? { policies } : {}),
  };
}

// The toolbar badge: local writes that neither the relay's store nor another device holds yet
// (empty when none); its tooltip says when the store is full, which is why they stay here.
vault.onSync((s) => {
  void chrome.action.setBadgeText({ text: s.unsynced > 0 ? String(s.unsynced) : '' });
  const full = s.store.status === 'full' ? ": the relay's store is full, new answers stay on this browser" : '';
  void chrome.action.setTitle({ title: `SelfOS${full}` });
});

chrome.runtime.onMessage.addListener((message: unknown, sender, reply) => {
  if (sender.id !== chrome.runtime.id || typeof message !== 'object' || message === null) return false;
  const m = message as { t?: unknown };
  const url = sender.url ?? '';
  const tab = sender.tab?.id;
  let handled: Promise<unknown> | undefined;
  // Each kind of message is accepted only from the context that sends it.
  if (url.split('#')[0] === FRAME_URL && tab !== undefined) {
    handled = fromFrame(m as FrameMessage, tab);
  } else if (url.startsWith(OPTIONS_URL) && m.t === 'settings') {
    handled = fromOptions(m as OptionsMessage);
  } else if ((url.startsWith(POPUP_URL) || url.startsWith(OPTIONS_URL)) && m.t === 'vault') {
    handled = fromVaultPage(m as VaultMessage);
  } else if (!url.startsWith(EXTENSION_ORIGIN) && tab !== undefined && sender.frameId === 0) {
    handled = fromContent(m as ContentMessage, tab, url);
  }
  if (!handled) return false;
  handled.then(reply, (e: unknown) => {
    console.error('SelfOS:', e);
    reply(undefined);
  });
  return true;
});

watchNetwork(
  async (url) => siteFor(url, await settings) !== undefined,
  (tab, s) => toTab(tab, { t: 'net', s }),
);

chrome.tabs.onRemoved.addListener((tab) => {
  dropEpisode(tab);
  forgetTab(tab);
});

// Registrations persist across browser restarts but not across updates of the extension.
chrome.runtime.onInstalled.addListener(() => {
  void settings.then(syncContentScripts);
});

// Access revoked from the browser's own UI turns the agent off here too.
chrome.permissions.onRemoved.addListener(() => {
  settings = settings.then(async (s) => {
    const agents: string[] = [];
    for (const site of SITES) {
      const origins = [...site.matches];
      if (s.agents.includes(site.id) && (await chrome.permissions.contains({ origins }))) {
        agents.push(site.id);
      }
    }
    const next: Settings = { ...s, agents };
    await storeSettings(next);
    await syncContentScripts(next);
    return next;
  }).catch(() => loadSettings());
});
