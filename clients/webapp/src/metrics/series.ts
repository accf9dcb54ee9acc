// Alignment over time: the graph crate's metrics (`crates/selfos-graph/src/metrics.rs`) give one
// total per agent; this module computes the same three measures per day or per week, so the
// dashboard can chart how they move. Same rules as the totals:
//   - only answered responses with an answer count, ordered by (created_ms, id);
//   - a rating is a rating answer to a rating card;
//   - intent agreement: among ratings whose previous answer for the same agent was an intent
//     answer, the share rated 4 or 5;
//   - preference adherence: among ratings given at or after the user's first preference answer
//     (for any agent: preferences describe the user), the share rated 4 or 5.
// A rating belongs to the period it was given in; "previous answer" looks across periods.

import type { VaultResponse } from '@selfos/wasm';

export type Period = 'day' | 'week';

/** What the series need from a response. */
export type SeriesInput = Pick<VaultResponse, 'id' | 'agent' | 'card_kind' | 'answer' | 'created_ms' | 'status'>;

export interface AlignmentPoint {
  /** Start of the period in ms since the epoch: UTC midnight; weeks start on Monday. */
  start: number;
  /** Answered responses of any kind in the period. */
  answers: number;
  ratings: number;
  /** Mean rating (1-5), or null without ratings. */
  ratingMean: number | null;
  /** Ratings in the period that came right after an intent answer. */
  intentFollowups: number;
  /** Share (0-1) of those rated 4 or 5. */
  intentAgreement: number | null;
  /** Ratings in the period given at or after the first preference answer. */
  adherenceRatings: number;
  /** Share (0-1) of those rated 4 or 5. */
  preferenceAdherence: number | null;
}

const DAY_MS = 86_400_000;
/** 1970-01-01 was a Thursday; the first Monday came 4 days later. */
const MONDAY_OFFSET_MS = 4 * DAY_MS;

export function periodStart(ms: number, period: Period): number {
  if (period === 'day') return Math.floor(ms / DAY_MS) * DAY_MS;
  const week = 7 * DAY_MS;
  return Math.floor((ms - MONDAY_OFFSET_MS) / week) * week + MONDAY_OFFSET_MS;
}

interface Acc {
  answers: number;
  ratingSum: number;
  ratings: number;
  followups: number;
  followupsHigh: number;
  adherence: number;
  adherenceHigh: number;
}

/** Per agent, one point per period that holds at least one answer, oldest first. */
export function alignmentSeries(responses: readonly SeriesInput[], period: Period): Map<string, AlignmentPoint[]> {
  const answered = responses
    .filter((r) => r.status === 'answered' && r.answer !== undefined)
    .toSorted((a, b) => a.created_ms - b.created_ms || compareIds(a.id, b.id));
  let firstPreference = Infinity;
  for (const r of answered) {
    if (r.card_kind === 'preference') firstPreference = Math.min(firstPreference, r.created_ms);
  }

  const perAgent = new Map<string, Map<number, Acc>>();
  const previousKind = new Map<string, SeriesInput['card_kind']>();
  for (const r of answered) {
    let periods = perAgent.get(r.agent);
    if (!periods) perAgent.set(r.agent, (periods = new Map()));
    const start = periodStart(r.created_ms, period);
    let acc = periods.get(start);
    if (!acc) periods.set(start, (acc = emptyAcc()));
    acc.answers += 1;
    const rating = r.card_kind === 'rating' && r.answer?.type === 'rating' ? r.answer.value : null;
    if (rating !== null) {
      const high = rating >= 4 ? 1 : 0;
      acc.ratings += 1;
      acc.ratingSum += rating;
      if (previousKind.get(r.agent) === 'intent') {
        acc.followups += 1;
        acc.followupsHigh += high;
      }
      if (r.created_ms >= firstPreference) {
        acc.adherence += 1;
        acc.adherenceHigh += high;
      }
    }
    previousKind.set(r.agent, r.card_kind);
  }

  const out = new Map<string, AlignmentPoint[]>();
  for (const [agent, periods] of perAgent) {
    const points = [...periods]
      .sort(([a], [b]) => a - b)
      .map(([start, acc]) => ({
        start,
        answers: acc.answers,
        ratings: acc.ratings,
        ratingMean: acc.ratings > 0 ? acc.ratingSum / acc.ratings : null,
        intentFollowups: acc.followups,
        intentAgreement: share(acc.followupsHigh, acc.followups),
        adherenceRatings: acc.adherence,
        preferenceAdherence: share(acc.adherenceHigh, acc.adherence),
      }));
    out.set(agent, points);
  }
  return out;
}

function emptyAcc(): Acc {
  return { answers: 0, ratingSum: 0, ratings: 0, followups: 0, followupsHigh: 0, adherence: 0, adherenceHigh: 0 };
}

function share(high: number, total: number): number | null {
  return total > 0 ? high / total : null;
}

/** Byte order, as Rust compares the ids (not the locale order of `localeCompare`). */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
