// How vault values read on screen.

import type { Answer, VaultResponse } from '@selfos/wasm';

export function answerText(answer: Answer | undefined): string {
  if (!answer) return '(no answer)';
  switch (answer.type) {
    case 'text':
      return answer.value;
    case 'choice':
      return `chose “${answer.value}”`;
    case 'rating':
      return `rated ${answer.value} of 5`;
  }
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

export function formatTime(ms: number): string {
  return dateTime.format(ms);
}

/** A period start (UTC midnight) as a date. */
export function formatDay(ms: number): string {
  return dateOnly.format(ms);
}

export function percent(share: number | null): string {
  return share === null ? '–' : `${Math.round(share * 100)}%`;
}

/** An agent's name; answers recorded without one have the empty name. */
export function agentName(agent: string): string {
  return agent || '(no agent)';
}

export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 12)}…` : id;
}

/** What a search matches in an answer: its text, card, agent, topics and prompt excerpt. */
export function searchableText(r: VaultResponse): string {
  return [answerText(r.answer), r.card_id, r.agent, r.namespace, r.context?.prompt_excerpt ?? '', ...(r.context?.topics ?? [])]
    .join(' ')
    .toLowerCase();
}
