/**
 * The card for each wait, from the vault's trainer (the Rust scheduler in WASM). The trainer reads
 * every answer of the vault, which takes tens of milliseconds once it holds thousands
 * (`bindings/wasm`'s bench), too long between the AI starting and the card: so each agent's next
 * card is picked ahead, once the vault has been still for a moment. Any change drops those picks,
 * since they were picked from the history before it.
 */

import type { SelfosClient } from '@selfos/wasm';
import { cardOf, type Card } from '../cards';

/**
 * How long a reply is expected to take, for the trainer's "the card must fit the wait": the top of
 * the 5-20 s a card is made for. Reply times are not learned per agent yet; the overlay goes when
 * the reply is done (unless the user is typing), so a card that does not fit is only cut short.
 */
const EXPECTED_WAIT_MS = 20_000;

async function pickNow(client: SelfosClient, agent: string): Promise<Card | undefined> {
  const pick = await client.nextCard({ agent, expectedWaitMs: EXPECTED_WAIT_MS });
  return pick && cardOf(pick);
}

/** How long the vault must be still before the next cards are picked. */
const AHEAD_IDLE_MS = 1500;
/** The trainer weighs time too (what was shown recently, what is due): an old pick is redone. */
const AHEAD_MAX_AGE_MS = 5 * 60_000;
const ahead = new Map<string, { readonly at: number; readonly card: Promise<Card | undefined> }>();
/** The agents waited for since the vault was opened: those whose next card is picked ahead. */
const agentsSeen = new Set<string>();
let aheadTimer: ReturnType<typeof setTimeout> | undefined;

/** Drops the cards picked ahead and picks them again once the vault has been still for a moment. */
export function pickAheadSoon(client: SelfosClient): void {
  ahead.clear();
  clearTimeout(aheadTimer);
  aheadTimer = setTimeout(() => {
    for (const agent of agentsSeen) {
      ahead.set(agent, { at: Date.now(), card: pickNow(client, agent).catch(() => undefined) });
    }
  }, AHEAD_IDLE_MS);
}

/** Forgets every pick and agent: the vault was locked or replaced. */
export function forgetPicks(): void {
  clearTimeout(aheadTimer);
  ahead.clear();
  agentsSeen.clear();
}

/** A performance mark per pick, whose `detail.ahead` says whether it was picked ahead (tests, DevTools). */
const PICKED = 'selfos:card-picked';

/** The trainer's card for a wait on `agent` that starts now; undefined when no card fits. */
export function pickCard(client: SelfosClient, agent: string): Promise<Card | undefined> {
  agentsSeen.add(agent);
  const picked = ahead.get(agent);
  const fresh = picked !== undefined && Date.now() - picked.at < AHEAD_MAX_AGE_MS;
  performance.clearMarks(PICKED);
  performance.mark(PICKED, { detail: { ahead: fresh } });
  // This wait may end without an answer, which changes nothing: the next card is picked ahead anyway.
  pickAheadSoon(client);
  return fresh ? picked.card : pickNow(client, agent);
}
