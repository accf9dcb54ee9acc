// The answers behind a node of the knowledge graph, found the way the graph crate builds nodes
// (`crates/selfos-graph/src/builder.rs`): only answered responses count;
//   - agent `a`: the answers recorded for agent `a`;
//   - card `c`: the answers to card `c`;
//   - preference `dim=value`: choice answers to the preference card of that dimension
//     (`pref.dim`) with that value;
//   - topic `t`: answers whose `context.topics` hold `t`, or whose answer text or prompt
//     excerpt mentions it (as whole words, split like the graph's tokenizer).

import type { GraphNode, VaultResponse } from '@selfos/wasm';

export function answersBehind(node: Pick<GraphNode, 'kind' | 'label'>, responses: readonly VaultResponse[]): VaultResponse[] {
  const answered = responses.filter((r) => r.status === 'answered' && r.answer !== undefined);
  switch (node.kind) {
    case 'agent':
      return answered.filter((r) => r.agent === node.label);
    case 'card':
      return answered.filter((r) => r.card_id === node.label);
    case 'preference':
      return answered.filter((r) => preferenceLabel(r) === node.label);
    case 'topic': {
      const topic = normalizeTopic(node.label);
      const phrase = ` ${words(topic).join(' ')} `;
      return answered.filter(
        (r) =>
          (r.context?.topics ?? []).some((t) => normalizeTopic(t) === topic) ||
          mentions(r.answer?.type === 'text' ? r.answer.value : '', phrase) ||
          mentions(r.context?.prompt_excerpt ?? '', phrase),
      );
    }
  }
}

/** `dim=value` for a choice answer to a preference card, as the graph labels it. */
export function preferenceLabel(r: Pick<VaultResponse, 'card_kind' | 'card_id' | 'answer'>): string | null {
  if (r.card_kind !== 'preference' || r.answer?.type !== 'choice') return null;
  const dimension = r.card_id.startsWith('pref.') ? r.card_id.slice('pref.'.length) : r.card_id;
  return `${dimension}=${r.answer.value}`;
}

/** Lowercased, whitespace collapsed: how the graph stores explicit topics. */
export function normalizeTopic(topic: string): string {
  return topic.trim().toLowerCase().split(/\s+/u).join(' ');
}

/** Lowercase words split on every character that is not a letter or a digit. */
export function words(text: string): string[] {
  return text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
}

function mentions(text: string, phrase: string): boolean {
  return text !== '' && ` ${words(text).join(' ')} `.includes(phrase);
}
