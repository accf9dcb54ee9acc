/**
 * The card, rendered in an extension-origin frame on the AI's page. Keyboard first: digits pick a
 * choice or a rating, Enter submits, Esc skips. What the user types goes to the service worker
 * over `chrome.runtime` messaging and nowhere else.
 */

import { takesText, type Answer, type Card } from '../cards';
import { SHOW, ask, type FrameRequest, type Locked, type Saved, type Show } from '../messages';

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

function byId(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`frame.html lacks #${id}`);
  return e;
}

/** This frame's token (see `Show`), which every message to the worker carries. */
let token = '';

const tell = <R>(m: FrameRequest): Promise<R> => ask<R>({ ...m, token });

let sent = false;

/**
 * Sends the one outcome of this card; later keys and clicks are ignored. The worker hides the
 * overlay once the outcome is committed; one it could not save is said here.
 */
function finish(answer: Answer | null): void {
  if (sent) return;
  sent = true;
  const at = performance.timeOrigin + performance.now();
  void tell<Saved | null | undefined>(answer ? { t: 'answer', answer, at } : { t: 'skip', at }).then((saved) => {
    const main = byId('card');
    if (saved === true) main.dataset['saved'] = 'true';
    if (saved !== false) return;
    main.dataset['saved'] = 'false';
    byId('hint').textContent = 'Not saved: the vault is locked or could not write. Your answer was not kept.';
    fitHeight(main);
  });
}

/** One button of a row: its digit, a label (a rating needs none) and a spoken name if the label is not enough. */
interface Option {
  readonly label?: string;
  readonly name?: string;
}

/** Buttons in a row: digits pick one, arrow keys move between them. Returns the first. */
function buttons(options: readonly Option[], answer: (i: number) => Answer): HTMLElement {
  const group = byId('answer');
  group.setAttribute('role', 'group');
  group.setAttribute('aria-labelledby', 'q');
  const all = options.map(({ label, name }, i) => {
    const b = el(
      'button',
      { type: 'button', className: 'option', onclick: () => finish(answer(i)) },
      el('kbd', {}, String(i + 1)),
      label ?? '',
    );
    if (name) b.setAttribute('aria-label', name);
    return b;
  });
  group.append(...all);
  document.addEventListener('keydown', (e) => {
    // In the card's own text field, digits and arrows are text.
    if (document.activeElement instanceof HTMLInputElement) return;
    const digit = Number(e.key);
    if (Number.isInteger(digit) && digit >= 1 && digit <= all.length) {
      e.preventDefault();
      all[digit - 1]?.click();
      return;
    }
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
    const at = all.indexOf(document.activeElement as HTMLButtonElement);
    if (step !== undefined && at >= 0) {
      e.preventDefault();
      all[(at + step + all.length) % all.length]?.focus();
    }
  });
  return all[0] as HTMLElement;
}

/** A field for the user's own words, saved with Enter. */
function textField(placeholder: string, label?: string): HTMLInputElement {
  let typing = false;
  const input = el('input', { type: 'text', placeholder, maxLength: 2000, autocomplete: 'off' });
  if (label) input.setAttribute('aria-label', label);
  else input.setAttribute('aria-labelledby', 'q');
  // The worker keeps the overlay open past the AI's answer while the user is writing one.
  input.addEventListener('input', () => {
    const on = input.value.trim() !== '';
    if (on !== typing) {
      typing = on;
      void tell({ t: 'typing', on });
    }
  });
  const form = el('form', {}, input, el('button', { type: 'submit', className: 'submit' }, 'Save'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = input.value.trim();
    if (value) finish({ type: 'text', value });
  });
  byId('answer').append(form);
  return input;
}

/** Draws the card's answer controls; returns the one to focus first. */
function render(card: Card): HTMLElement {
  byId('q').textContent = card.prompt;
  const spec = card.answer;
  const hint = byId('hint');
  switch (spec.type) {
    case 'choice': {
      const first = buttons(
        spec.options.map((label) => ({ label })),
        (i) => ({ type: 'choice', value: spec.options[i] ?? '' }),
      );
      hint.textContent = `Press 1-${spec.options.length}${takesText(spec) ? ' or type your own' : ''}, Esc to skip`;
      if (takesText(spec)) {
        const input = textField('Or in your own words', 'Your own answer');
        // Keyboard first: a letter typed on the buttons starts the user's own answer.
        document.addEventListener('keydown', (e) => {
          const letter = e.key.length === 1 && !/[0-9 ]/.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey;
          if (letter && document.activeElement !== input) input.focus();
        });
      }
      return first;
    }
    case 'rating': {
      hint.textContent = 'Press 1-5, or Esc to skip';
      const ends: Record<number, string> = { 1: `, ${spec.low}`, 5: `, ${spec.high}` };
      const first = buttons(
        [1, 2, 3, 4, 5].map((n) => ({ name: `${n} of 5${ends[n] ?? ''}` })),
        (i) => ({ type: 'rating', value: i + 1 }),
      );
      byId('answer').append(
        el('div', { className: 'scale' }, el('span', {}, spec.low), el('span', {}, spec.high)),
      );
      return first;
    }
    case 'text':
      hint.textContent = 'Enter to save, Esc to skip';
      return textField(spec.placeholder);
  }
}

/** Asks for the height the card's content needs: choices wrap, and a card may offer a text field too. */
function fitHeight(main: HTMLElement): void {
  main.style.height = 'auto';
  const px = main.getBoundingClientRect().height;
  main.style.height = '';
  void tell({ t: 'height', px });
}

/** While the vault is locked nothing is recorded: the overlay says where to unlock it. */
function showLocked(focus: boolean): void {
  const main = byId('card');
  main.dataset['locked'] = 'true';
  byId('q').textContent = 'SelfOS is locked';
  byId('answer').append(
    el('p', { className: 'locked' }, 'Click the SelfOS button in the toolbar and enter your passphrase to unlock it.'),
  );
  byId('hint').textContent = 'Esc to close';
  main.hidden = false;
  fitHeight(main);
  const skip = byId('skip');
  skip.addEventListener('click', () => finish(null));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      finish(null);
    }
  });
  if (focus) skip.focus();
}

/** Shows the card; `focus`: take the focus at once (see `Show`). */
async function main(focus: boolean): Promise<void> {
  const card = await tell<Card | Locked | null>({ t: 'card' });
  if (!card) return;
  if ('locked' in card) {
    showLocked(focus);
    return;
  }
  const main = byId('card');
  main.dataset['cardId'] = card.id;
  main.dataset['answer'] = card.answer.type;
  const first = render(card);
  main.hidden = false;
  fitHeight(main);
  if (focus) first.focus();
  // The host focuses this frame once it has loaded, which may be after the card was rendered;
  // focusing a frame from outside leaves its own focus on the body.
  addEventListener('focus', () => document.activeElement === document.body && first.focus());
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      finish(null);
    }
  });
  byId('skip').addEventListener('click', () => finish(null));
  // The moment the card can be seen, for the latency bench (busy signal -> card on screen).
  requestAnimationFrame(() => performance.mark('selfos:card-shown'));
}

// The frame is loaded ahead of time, hidden; it asks for its card once its host shows it.
addEventListener('message', (e) => {
  const m = e.data as Partial<Show> | null;
  if (e.source === parent && !token && m?.t === SHOW && typeof m.token === 'string' && m.token) {
    token = m.token;
    void main(m.focus === true);
  }
});
