/**
 * The options page: which agents are enabled, custom rules, the prompt excerpt opt-in, the relay,
 * the recovery kit and this browser's passphrase, and the conflict policy of each agent's vault
 * namespace. Access to a site is asked for here,
 * when the user enables it (a permission request needs the user's click), and handed back when the
 * user turns it off. The worker saves the settings and registers the content scripts; it also
 * holds the vault, so the policies are read and set through it.
 */

import type { Policy } from '@selfos/wasm';
import { isSitePattern, originOf } from '../match';
import { ask, type NamespacePolicy, type VaultReply } from '../messages';
import { mountRecoveryKit } from '../recovery-kit';
import { newPassphraseProblem } from '@selfos/wasm/passphrase-strength';
import { loadSettings, type Rule, type Settings } from '../settings';
import { SITES } from '../sites';
import type { SiteAdapter } from '../detect/signals';

function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`options.html lacks #${id}`);
  return e as T;
}

const say = (text: string): void => {
  byId('status').textContent = text;
};

const hostsOf = (site: SiteAdapter): string =>
  site.matches.map((m) => m.replace(/^[^:]+:\/\//, '').replace(/\/?\*$/, '')).join(', ');

let current: Settings = { agents: [], rules: [] };

async function save(next: Settings): Promise<boolean> {
  const error = await ask<string | null>({ t: 'settings', settings: next });
  if (error) {
    say(error);
    return false;
  }
  current = next;
  return true;
}

/** Hands back access to `patterns` unless an enabled agent or rule still needs the same origin. */
async function release(patterns: readonly string[]): Promise<void> {
  const needed = new Set(
    [
      ...SITES.filter((s) => current.agents.includes(s.id)).flatMap((s) => s.matches),
      ...current.rules.map((r) => r.match),
    ].map(originOf),
  );
  const origins = patterns.filter((p) => !needed.has(originOf(p)));
  // Access the manifest grants at install cannot be handed back; the settings alone keep it unused.
  if (origins.length > 0) await chrome.permissions.remove({ origins }).catch(() => false);
}

async function toggle(site: SiteAdapter, box: HTMLInputElement): Promise<void> {
  box.disabled = true;
  try {
    if (box.checked) {
      // Asked before anything else is awaited, while the click still counts as the user's gesture.
      const granted = await chrome.permissions.request({ origins: [...site.matches] });
      if (!granted) {
        box.checked = false;
        say(`${site.name} stays off: access to ${hostsOf(site)} was not granted.`);
        return;
      }
      if (await save({ ...current, agents: [...current.agents, site.id] })) {
        say(`${site.name} is on. Open tabs start after a reload.`);
      }
    } else if (await save({ ...current, agents: current.agents.filter((a) => a !== site.id) })) {
      await release(site.matches);
      say(`${site.name} is off.`);
    }
  } finally {
    box.disabled = false;
    // An enabled agent has a policy row even before its first answer; a disabled one keeps its
    // row only if the vault holds answers of it.
    void renderPolicies();
  }
}

function renderAgents(): void {
  const list = byId('agents');
  for (const site of SITES) {
    const box = Object.assign(document.createElement('input'), {
      type: 'checkbox',
      id: `agent-${site.id}`,
      checked: current.agents.includes(site.id),
    });
    box.setAttribute('aria-describedby', `hosts-${site.id}`);
    box.addEventListener('change', () => void toggle(site, box));
    const label = document.createElement('label');
    label.append(box, ` ${site.name} `);
    const hosts = Object.assign(document.createElement('span'), {
      id: `hosts-${site.id}`,
      className: 'hosts',
      textContent: hostsOf(site),
    });
    const row = document.createElement('div');
    row.append(label, hosts);
    list.append(row);
  }
}

function renderRules(): void {
  const list = byId('rules');
  list.replaceChildren(
    ...current.rules.map((rule) => {
      const remove = Object.assign(document.createElement('button'), {
        type: 'button',
        textContent: 'Remove',
      });
      remove.setAttribute('aria-label', `Remove the rule for ${rule.match}`);
      remove.addEventListener('click', () => void removeRule(rule));
      const li = document.createElement('li');
      li.append(`${rule.match}  ${rule.busy || '(page SDK)'}`, remove);
      return li;
    }),
  );
}

async function removeRule(rule: Rule): Promise<void> {
  if (await save({ ...current, rules: current.rules.filter((r) => r !== rule) })) {
    await release([rule.match]);
    renderRules();
    say(`Rule for ${rule.match} removed.`);
  }
}

async function addRule(e: SubmitEvent): Promise<void> {
  e.preventDefault();
  const matchInput = byId<HTMLInputElement>('rule-match');
  const busyInput = byId<HTMLInputElement>('rule-busy');
  const rule: Rule = { match: matchInput.value.trim(), busy: busyInput.value.trim() };
  if (!isSitePattern(rule.match)) {
    say('The URL pattern must name one site, like https://chat.example.com/*');
    matchInput.focus();
    return;
  }
  try {
    if (rule.busy) document.createDocumentFragment().querySelector(rule.busy);
  } catch {
    say(`"${rule.busy}" is not a CSS selector.`);
    busyInput.focus();
    return;
  }
  if (current.rules.some((r) => r.match === rule.match && r.busy === rule.busy)) {
    say('That rule exists already.');
    return;
  }
  if (!(await chrome.permissions.request({ origins: [rule.match] }))) {
    say(`Access to ${rule.match} was not granted; the rule was not added.`);
    return;
  }
  if (await save({ ...current, rules: [...current.rules, rule] })) {
    renderRules();
    matchInput.value = busyInput.value = '';
    say(`Rule for ${rule.match} added. Open tabs start after a reload.`);
  }
}

async function toggleExcerpt(box: HTMLInputElement): Promise<void> {
  box.disabled = true;
  try {
    if (await save({ ...current, promptExcerpt: box.checked })) {
      say(box.checked ? 'Prompt excerpts are on. Open tabs start after a reload.' : 'Prompt excerpts are off.');
    } else {
      box.checked = !box.checked;
    }
  } finally {
    box.disabled = false;
  }
}

async function saveRelay(e: SubmitEvent): Promise<void> {
  e.preventDefault();
  const relay = byId<HTMLInputElement>('relay').value.trim();
  if (relay && !/^wss?:\/\/[^/\s]+\/?$/.test(relay)) {
    say('The relay address starts with wss:// (ws:// only for a relay on this computer) and names a host.');
    return;
  }
  const reply = await ask<VaultReply | undefined>({ t: 'vault', op: 'relay', relay });
  say(reply?.error ?? (relay ? `Relay set to ${relay}.` : 'No relay: answers stay in this browser.'));
}

const NO_ANSWER = 'SelfOS did not answer; try again.';

/** Changes this browser's passphrase; the vault stays unlocked (the worker keeps a new session key). */
async function changePassphrase(e: SubmitEvent): Promise<void> {
  e.preventDefault();
  const form = byId<HTMLFormElement>('passphrase-form');
  const passphrase = byId<HTMLInputElement>('new-pass').value;
  const problem = newPassphraseProblem(passphrase, byId<HTMLInputElement>('new-again').value);
  if (problem) return say(problem);
  say('Changing the passphrase…');
  const reply = await ask<VaultReply | undefined>({ t: 'vault', op: 'change-passphrase', passphrase });
  if (reply && !reply.error) {
    form.reset();
    say("Passphrase changed: unlock this browser with the new one from now on. Your other devices keep theirs.");
  } else {
    say(reply?.error ?? NO_ANSWER);
  }
}

/** The choices, in this order; the values are the vault's policy names. */
const POLICY_NAMES: Record<Policy, string> = {
  'last-write-wins': 'Last write wins',
  'user-merge': 'Keep both for me to merge',
};

/** What the status region says once a policy is saved, after the agent's name. */
const POLICY_SAVED: Record<Policy, string> = {
  'last-write-wins': 'the last write wins.',
  'user-merge': 'conflicts kept for you to merge.',
};

/** A built-in agent's name for its namespace; a rule's site goes by its namespace. */
const agentName = (namespace: string): string => SITES.find((s) => s.id === namespace)?.name ?? namespace;

/** One choice per namespace, or, while the vault is locked (or has no agent yet), why there is none. */
async function renderPolicies(): Promise<void> {
  const reply = await ask<VaultReply | undefined>({ t: 'vault', op: 'policies' });
  const rows = reply?.policies?.map(policyRow) ?? [];
  byId('policies').replaceChildren(...rows);
  byId('policies-box').hidden = rows.length === 0;
  const note = byId('policies-note');
  note.hidden = rows.length > 0;
  note.textContent = reply?.policies ? 'Enable an agent above to choose its policy.' : (reply?.error ?? NO_ANSWER);
}

function policyRow({ namespace, policy }: NamespacePolicy): HTMLElement {
  const select = Object.assign(document.createElement('select'), { id: `policy-${namespace}` });
  select.append(...Object.entries(POLICY_NAMES).map(([value, text]) => new Option(text, value)));
  select.value = policy;
  let saved = policy;
  select.addEventListener('change', () => {
    void savePolicy(namespace, select, saved).then((now) => {
      saved = now;
    });
  });
  const label = Object.assign(document.createElement('label'), { htmlFor: select.id, textContent: agentName(namespace) });
  const row = document.createElement('div');
  row.className = 'policy';
  row.append(label, select);
  return row;
}

/** Saves the select's choice at once; resolves with the policy in force afterwards. */
async function savePolicy(namespace: string, select: HTMLSelectElement, saved: Policy): Promise<Policy> {
  const policy = select.value as Policy; // one of the options policyRow made
  const reply = await ask<VaultReply | undefined>({ t: 'vault', op: 'set-policy', namespace, policy });
  if (reply && !reply.error) {
    say(`${agentName(namespace)}: ${POLICY_SAVED[policy]}`);
    return policy;
  }
  say(reply?.error ?? NO_ANSWER);
  select.value = saved;
  // Locked since this page showed the choices (from the toolbar popup): show the hint instead.
  if (reply && !reply.view.unlocked) await renderPolicies();
  return saved;
}

async function main(): Promise<void> {
  current = await loadSettings();
  renderAgents();
  renderRules();
  void renderPolicies();
  byId<HTMLFormElement>('rule-form').addEventListener('submit', (e) => void addRule(e));
  byId<HTMLFormElement>('relay-form').addEventListener('submit', (e) => void saveRelay(e));
  byId<HTMLFormElement>('passphrase-form').addEventListener('submit', (e) => void changePassphrase(e));
  mountRecoveryKit(byId('kit-box'), say);
  const excerpt = byId<HTMLInputElement>('prompt-excerpt');
  excerpt.checked = current.promptExcerpt === true;
  excerpt.addEventListener('change', () => void toggleExcerpt(excerpt));
  // The vault is unlocked from the toolbar popup, whose closing gives this page the focus back:
  // then the unlock hint gives way to the choices.
  window.addEventListener('focus', () => {
    if (byId('policies-box').hidden) void renderPolicies();
  });
  const { relay } = await chrome.storage.local.get('relay');
  if (typeof relay === 'string') byId<HTMLInputElement>('relay').value = relay;
}

void main();
