/**
 * A small built-in set of cards, until the trainer (compiled to WASM) picks them. Ids, kinds and
 * wording are those of the Rust catalog (`crates/selfos-training/src/catalog.rs`), so answers
 * recorded now keep their meaning when the trainer takes over.
 */

/** The card kinds of the vault, as it serialises them. */
export type CardKind = 'intent' | 'rating' | 'preference';

/** How a card is answered. */
export type AnswerSpec =
  | { readonly type: 'choice'; readonly options: readonly string[] }
  | { readonly type: 'rating'; readonly low: string; readonly high: string }
  | { readonly type: 'text'; readonly placeholder: string };

export interface Card {
  readonly id: string;
  readonly kind: CardKind;
  readonly prompt: string;
  readonly answer: AnswerSpec;
}

/** The user's answer, shaped as the vault serialises `Answer`. */
export type Answer =
  | { readonly type: 'text'; readonly value: string }
  | { readonly type: 'choice'; readonly value: string }
  | { readonly type: 'rating'; readonly value: number };

/** The vault's limit on a text answer, in UTF-8 bytes. */
export const MAX_TEXT_BYTES = 16 * 1024;

/** Shown in this order, one per wait, round after round. */
export const CARDS: readonly Card[] = [
  {
    id: 'intent.depth',
    kind: 'intent',
    prompt: 'How deep should this answer go?',
    answer: { type: 'choice', options: ['Quick take', 'Solid overview', 'Deep dive'] },
  },
  {
    id: 'pref.length',
    kind: 'preference',
    prompt: 'How long should answers usually be?',
    answer: { type: 'choice', options: ['A few lines', 'A short page', 'As long as needed'] },
  },
  {
    id: 'rating.overall',
    kind: 'rating',
    prompt: 'How good was the last answer?',
    answer: { type: 'rating', low: 'Useless', high: 'Excellent' },
  },
  {
    id: 'intent.shape',
    kind: 'intent',
    prompt: 'Best shape for this answer?',
    answer: { type: 'choice', options: ['Prose', 'Bullets', 'Table', 'Code'] },
  },
  {
    id: 'pref.tone',
    kind: 'preference',
    prompt: 'Which tone suits you best?',
    answer: { type: 'choice', options: ['Friendly', 'Neutral', 'Formal', 'Blunt'] },
  },
  {
    id: 'intent.avoid',
    kind: 'intent',
    prompt: 'Anything this answer should avoid?',
    answer: { type: 'text', placeholder: 'e.g. jargon, long intros' },
  },
];

/** The card at position `cursor` of the rotation. */
export function cardAt(cursor: number): Card {
  const n = CARDS.length;
  // `CARDS` is a non-empty constant, so the index always hits.
  return CARDS[((cursor % n) + n) % n] as Card;
}

/** Whether `answer` is a well-formed answer to `card`: it comes from another process, so it is checked. */
export function isAnswerTo(card: Card, answer: unknown): answer is Answer {
  if (typeof answer !== 'object' || answer === null) return false;
  const { type, value } = answer as { type?: unknown; value?: unknown };
  const spec = card.answer;
  if (type !== spec.type) return false;
  switch (spec.type) {
    case 'choice':
      return typeof value === 'string' && spec.options.includes(value);
    case 'rating':
      return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 5;
    case 'text':
      return (
        typeof value === 'string' &&
        value.trim() !== '' &&
        new TextEncoder().encode(value).length <= MAX_TEXT_BYTES
      );
  }
}
