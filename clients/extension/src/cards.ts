/**
 * The card of a wait: the trainer's pick (the Rust scheduler, compiled to WASM, run by the vault
 * in the service worker), reduced to what the overlay shows and the worker records.
 */

import type { Answer, AnswerSpec, CardKind, CardPick } from '@selfos/wasm';

export type { Answer, AnswerSpec, CardKind };

export interface Card {
  /** The catalog id, stored as the response's `card_id`. */
  readonly id: string;
  readonly kind: CardKind;
  /** The question, its slots filled. */
  readonly prompt: string;
  readonly answer: AnswerSpec;
  /** For recall: the concept, stored as the first of the response's topics. */
  readonly concept?: string;
}

export function cardOf(pick: CardPick): Card {
  const { card: id, kind, prompt, answer, concept } = pick;
  return { id, kind, prompt, answer, ...(concept ? { concept } : {}) };
}

/** The vault's limit on a text answer, in UTF-8 bytes. */
export const MAX_TEXT_BYTES = 16 * 1024;

/** Whether the card takes typed text: a text card, or a choice that offers "your own words". */
export const takesText = (spec: AnswerSpec): boolean =>
  spec.type === 'text' || (spec.type === 'choice' && spec.allow_text);

/** Whether `answer` is a well-formed answer to `card`: it comes from another process, so it is checked. */
export function isAnswerTo(card: Card, answer: unknown): answer is Answer {
  if (typeof answer !== 'object' || answer === null) return false;
  const { type, value } = answer as { type?: unknown; value?: unknown };
  const spec = card.answer;
  switch (type) {
    case 'choice':
      return spec.type === 'choice' && typeof value === 'string' && spec.options.includes(value);
    case 'rating':
      return spec.type === 'rating' && typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 5;
    case 'text':
      return (
        takesText(spec) &&
        typeof value === 'string' &&
        value.trim() !== '' &&
        new TextEncoder().encode(value).length <= MAX_TEXT_BYTES
      );
    default:
      return false;
  }
}
