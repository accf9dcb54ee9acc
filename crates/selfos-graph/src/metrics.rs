//! Alignment metrics per AI agent, from the user's own answers: totals, and the same figures
//! per day or week ([`Period`]) so a dashboard can chart how they move.
//!
//! Only answered responses count. For one agent, with its answers ordered by `created_ms` (ties
//! by response id):
//!
//! - **`ratings`, `rating_mean`**: how many rating answers (a rating answer to a rating card),
//!   and their mean (1-5).
//! - **`rating_trend_per_day`**: the least-squares slope of rating against time, in rating points
//!   per day; `None` with fewer than two ratings or when all share one timestamp.
//! - **`intent_agreement`**: among ratings whose previous answer *for the same agent* was an
//!   intent answer (the user said what they wanted, then rated what they got), the share rated
//!   4 or 5. `intent_followups` counts those ratings. `None` when there are none.
//! - **`preference_adherence`**: the share of ratings of 4 or 5 among this agent's ratings given
//!   at or after the user's first preference answer (for any agent: preferences describe the
//!   user); `preference_ratings` counts those ratings. `rating_share_before_preferences` is the
//!   same share before it, for comparison. `None` when there are no such ratings.
//! - **`consistency`**: how steadily the user rates the same card: `1 - mean(var / 4)` over the
//!   card ids this agent was rated on at least twice, where `var` is the population variance of
//!   those ratings and 4 the largest variance possible on a 1-5 scale. 1 means identical ratings
//!   every time; `None` when no card was rated twice.
//!
//! # Over time
//!
//! A series ([`GraphBuilder::alignment_series`](crate::GraphBuilder::alignment_series)) applies
//! the same definitions to the answers of one agent *given in one period*, with two pieces of
//! state that look past the period:
//!
//! - "the previous answer for the same agent" is taken over all its answers, so an intent
//!   answered on Sunday and a rating given on Monday make a follow-up in Monday's week;
//! - "the first preference answer" is the user's first overall, so every rating after it counts
//!   towards adherence, whichever period it falls in.
//!
//! Everything else (mean, trend, consistency, the shares) uses only the period's own ratings: a
//! rating belongs to the period it was given in. The counts (`answers`, `ratings`,
//! `intent_followups`, `preference_ratings`) of an agent's points therefore add up to its
//! totals. Periods are UTC days, or weeks starting on Monday 00:00 UTC; an agent gets one point
//! per period that holds at least one of its answers, oldest first.

use std::{collections::BTreeMap, ops::Bound, sync::Arc};

use selfos_vault::{CardKind, ResponseId};
use serde::{Deserialize, Serialize};

/// Alignment metrics for one agent, over all its answers or one period's; see the module docs
/// for each definition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Metrics {
    /// Answered responses for this agent, any kind.
    pub answers: u32,
    /// Rating answers.
    pub ratings: u32,
    /// Mean rating.
    pub rating_mean: Option<f64>,
    /// Least-squares slope of ratings over time, points per day.
    pub rating_trend_per_day: Option<f64>,
    /// Share of ratings >= 4 right after an intent answer for the same agent.
    pub intent_agreement: Option<f64>,
    /// Ratings that came right after an intent answer.
    pub intent_followups: u32,
    /// Share of ratings >= 4 at or after the first preference answer.
    pub preference_adherence: Option<f64>,
    /// Ratings given at or after the first preference answer.
    #[serde(default)]
    pub preference_ratings: u32,
    /// Share of ratings >= 4 before the first preference answer.
    pub rating_share_before_preferences: Option<f64>,
    /// `1 - mean(normalised variance)` of ratings per card id rated at least twice.
    pub consistency: Option<f64>,
}

/// How long one point of an alignment series spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Period {
    /// A UTC day, from midnight.
    Day,
    /// Seven UTC days from Monday midnight.
    Week,
}

const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;
/// 1970-01-01 was a Thursday: Mondays fall 4 days after a multiple of 7 days since the epoch.
const MONDAY_OFFSET_MS: i64 = 4 * DAY_MS;

impl Period {
    /// The start of the period that holds `ms` (milliseconds since the Unix epoch), in the
    /// same unit. Negative only for the first days of 1970, whose week began on Monday
    /// 1969-12-29.
    ///
    /// ```
    /// use selfos_graph::metrics::Period;
    ///
    /// let monday = 1_704_067_200_000; // 2024-01-01 00:00 UTC
    /// let sunday_night = monday + 6 * 86_400_000 + 23 * 3_600_000;
    /// assert_eq!(Period::Week.start_ms(sunday_night as u64), monday);
    /// assert_eq!(Period::Day.start_ms(monday as u64 + 5), monday);
    /// ```
    pub fn start_ms(self, ms: u64) -> i64 {
        let ms = i64::try_from(ms).unwrap_or(i64::MAX);
        match self {
            Self::Day => ms - ms.rem_euclid(DAY_MS),
            Self::Week => ms - (ms - MONDAY_OFFSET_MS).rem_euclid(WEEK_MS),
        }
    }
}

/// One point of an alignment series: the metrics of one agent's answers given in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SeriesPoint {
    /// Start of the period, milliseconds since the Unix epoch ([`Period::start_ms`]).
    pub start_ms: i64,
    /// The period's metrics; see the module docs for the state carried over from earlier
    /// periods.
    pub metrics: Metrics,
}

/// What the metrics need from one answered response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Event {
    /// The agent's node slot; `None` for an empty agent name.
    pub(crate) agent: Option<u32>,
    pub(crate) kind: CardKind,
    /// The card's node slot.
    pub(crate) card: u32,
    pub(crate) rating: Option<u8>,
}

const MS_PER_DAY: f64 = DAY_MS as f64;

fn share_high(ratings: impl Iterator<Item = u8>) -> Option<f64> {
    let (mut n, mut high) = (0_u32, 0_u32);
    for r in ratings {
        n += 1;
        high += u32::from(r >= 4);
    }
    (n > 0).then(|| f64::from(high) / f64::from(n))
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The ratings of one card: integer sums, so they come out alike in any order.
#[derive(Debug, Clone, Copy, Default)]
struct CardRatings {
    n: u64,
    sum: u64,
    squares: u64,
}

/// The answers of one group (an agent, or an agent in one period), kept so that answers can
/// come and go in any order and [`finish`] still reads the same figures: ratings sorted, the
/// rest counts and integer sums.
#[derive(Debug, Clone, Default)]
struct Group {
    answers: u32,
    /// `(created_ms, rating)`, sorted; the trend sums them in this order.
    ratings: Vec<(u64, u8)>,
    /// Ratings right after an intent answer for the same agent, and those of 4 or 5.
    followups: u32,
    followups_high: u32,
    /// Ratings by card slot.
    by_card: BTreeMap<u32, CardRatings>,
}

impl Group {
    fn insert(&mut self, t: u64, e: &Event) {
        self.answers += 1;
        if let Some(r) = e.rating {
            let at = self.ratings.partition_point(|&x| x < (t, r));
            self.ratings.insert(at, (t, r));
            let c = self.by_card.entry(e.card).or_default();
            let r = u64::from(r);
            c.n += 1;
            c.sum += r;
            c.squares += r * r;
        }
    }

    fn remove(&mut self, t: u64, e: &Event) {
        self.answers = self.answers.saturating_sub(1);
        if let Some(r) = e.rating {
            if let Ok(at) = self.ratings.binary_search(&(t, r)) {
                self.ratings.remove(at);
            }
            if let Some(c) = self.by_card.get_mut(&e.card) {
                let r = u64::from(r);
                c.n = c.n.saturating_sub(1);
                c.sum = c.sum.saturating_sub(r);
                c.squares = c.squares.saturating_sub(r * r);
                if c.n == 0 {
                    self.by_card.remove(&e.card);
                }
            }
        }
    }

    /// Counts `next` as a follow-up when it is a rating right after an intent answer `prev`
    /// (`add`), or takes that count back (`!add`) when the two stop being neighbours.
    fn pair(&mut self, prev: &Event, next: &Event, add: bool) {
        let Some(r) = next.rating.filter(|_| prev.kind == CardKind::Intent) else {
            return;
        };
        let high = u32::from(r >= 4);
        if add {
            self.followups += 1;
            self.followups_high += high;
        } else {
            self.followups = self.followups.saturating_sub(1);
            self.followups_high = self.followups_high.saturating_sub(high);
        }
    }
}

/// One group's metrics.
fn finish(g: &Group, first_pref: Option<u64>) -> Metrics {
    let mut m = Metrics {
        answers: g.answers,
        ..Metrics::default()
    };
    let n = g.ratings.len();
    m.ratings = count(n);
    if let Some(&(t0, _)) = g.ratings.first() {
        let nf = n as f64;
        let mean = g.ratings.iter().map(|&(_, r)| f64::from(r)).sum::<f64>() / nf;
        m.rating_mean = Some(mean);
        let x = |t: u64| (t - t0) as f64 / MS_PER_DAY;
        let xm = g.ratings.iter().map(|&(t, _)| x(t)).sum::<f64>() / nf;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for &(t, r) in &g.ratings {
            sxy += (x(t) - xm) * (f64::from(r) - mean);
            sxx += (x(t) - xm) * (x(t) - xm);
        }
        m.rating_trend_per_day = (n >= 2 && sxx > 0.0).then(|| sxy / sxx);
    }
    m.intent_followups = g.followups;
    m.intent_agreement =
        (g.followups > 0).then(|| f64::from(g.followups_high) / f64::from(g.followups));
    let ratings = |range: &[(u64, u8)]| share_high(range.iter().map(|&(_, r)| r));
    if let Some(p) = first_pref {
        let (before, after) = g
            .ratings
            .split_at(g.ratings.partition_point(|&(t, _)| t < p));
        m.preference_ratings = count(after.len());
        m.preference_adherence = ratings(after);
        m.rating_share_before_preferences = ratings(before);
    } else {
        m.rating_share_before_preferences = ratings(&g.ratings);
    }
    // Population variance from integer sums, summed smallest first: card slots differ between
    // builders fed in different batches, values do not.
    let mut vars: Vec<f64> = g
        .by_card
        .values()
        .filter(|c| c.n >= 2)
        .map(|c| {
            let (n, sum, squares) = (u128::from(c.n), u128::from(c.sum), u128::from(c.squares));
            (n * squares - sum * sum) as f64 / (n * n) as f64
        })
        .collect();
    if !vars.is_empty() {
        vars.sort_by(f64::total_cmp);
        let mean_var = vars.iter().sum::<f64>() / vars.len() as f64;
        m.consistency = Some(1.0 - mean_var / 4.0);
    }
    m
}

/// An answer's place in its agent's log: `(created_ms, id)`.
type Key = (u64, Arc<ResponseId>);

/// One agent's answers in `(created_ms, id)` order, with their running totals.
#[derive(Debug, Clone, Default)]
struct AgentLog {
    events: BTreeMap<Key, Event>,
    total: Group,
    /// The totals' metrics as of the last [`Alignment::metrics`]; `None` once an answer came or
    /// went.
    metrics: Option<Metrics>,
}

/// The alignment state of every agent, updated answer by answer: adding or removing one answer
/// costs a few tree operations, and [`Alignment::metrics`] recomputes only the agents whose
/// answers changed (all of them when the user's first preference answer moves).
#[derive(Debug, Clone, Default)]
pub(crate) struct Alignment {
    agents: BTreeMap<Option<u32>, AgentLog>,
    /// `created_ms` of the preference answers, with multiplicity.
    preferences: BTreeMap<u64, u32>,
    /// The first preference answer the cached metrics were computed with.
    cached_first: Option<u64>,
}

impl Alignment {
    /// Adds an answer; `id` must not be present.
    pub(crate) fn insert(&mut self, t: u64, id: &Arc<ResponseId>, e: Event) {
        if e.kind == CardKind::Preference {
            *self.preferences.entry(t).or_default() += 1;
        }
        let log = self.agents.entry(e.agent).or_default();
        let key = (t, Arc::clone(id));
        let (prev, next) = log.neighbours(&key);
        if let (Some(p), Some(n)) = (&prev, &next) {
            log.total.pair(p, n, false);
        }
        if let Some(p) = &prev {
            log.total.pair(p, &e, true);
        }
        if let Some(n) = &next {
            log.total.pair(&e, n, true);
        }
        log.total.insert(t, &e);
        log.events.insert(key, e);
        log.metrics = None;
    }

    /// The state [`Alignment::insert`] would reach from the same answers, in one sort and one
    /// pass per agent rather than a few tree operations per answer. The ids are shared only
    /// once sorted: in time order, they are read about where they were allocated.
    pub(crate) fn from_answers<'a>(
        answers: impl Iterator<Item = (u64, &'a Arc<ResponseId>, Event)>,
    ) -> Self {
        let mut by_agent = BTreeMap::<Option<u32>, Vec<_>>::new();
        let mut preferences: BTreeMap<u64, u32> = BTreeMap::new();
        for (t, id, e) in answers {
            if e.kind == CardKind::Preference {
                *preferences.entry(t).or_default() += 1;
            }
            by_agent.entry(e.agent).or_default().push(((t, id), e));
        }
        let agents = by_agent
            .into_iter()
            .map(|(agent, mut events)| {
                events.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                let mut total = Group::default();
                let mut prev: Option<&Event> = None;
                for ((t, _), e) in &events {
                    total.insert(*t, e);
                    if let Some(p) = prev {
                        total.pair(p, e, true);
                    }
                    prev = Some(e);
                }
                let shared = events.into_iter();
                let log = AgentLog {
                    events: shared
                        .map(|((t, id), e)| ((t, Arc::clone(id)), e))
                        .collect(),
                    total,
                    metrics: None,
                };
                (agent, log)
            })
            .collect();
        Self {
            agents,
            preferences,
            cached_first: None,
        }
    }

    /// Takes back an answer added with the same `t`, `id` and event.
    pub(crate) fn remove(&mut self, t: u64, id: &Arc<ResponseId>, e: &Event) {
        if e.kind == CardKind::Preference
            && let Some(k) = self.preferences.get_mut(&t)
        {
            *k -= 1;
            if *k == 0 {
                self.preferences.remove(&t);
            }
        }
        let Some(log) = self.agents.get_mut(&e.agent) else {
            return;
        };
        let key = (t, Arc::clone(id));
        if log.events.remove(&key).is_none() {
            return;
        }
        let (prev, next) = log.neighbours(&key);
        if let Some(p) = &prev {
            log.total.pair(p, e, false);
        }
        if let Some(n) = &next {
            log.total.pair(e, n, false);
        }
        if let (Some(p), Some(n)) = (&prev, &next) {
            log.total.pair(p, n, true);
        }
        log.total.remove(t, e);
        log.metrics = None;
        if log.events.is_empty() {
            self.agents.remove(&e.agent);
        }
    }

    /// The time of the user's first preference answer.
    fn first_preference(&self) -> Option<u64> {
        self.preferences.keys().next().copied()
    }

    /// Metrics per agent; `name` turns an agent slot into its name.
    pub(crate) fn metrics<'n>(
        &mut self,
        name: impl Fn(u32) -> Option<&'n str>,
    ) -> BTreeMap<String, Metrics> {
        let first = self.first_preference();
        if first != self.cached_first {
            self.agents.values_mut().for_each(|l| l.metrics = None);
            self.cached_first = first;
        }
        self.agents
            .iter_mut()
            .map(|(&agent, log)| {
                let m = log.metrics.get_or_insert_with(|| finish(&log.total, first));
                (
                    agent.and_then(&name).unwrap_or_default().to_owned(),
                    m.clone(),
                )
            })
            .collect()
    }

    /// Metrics per agent and `period`: one point per period holding an answer of the agent,
    /// oldest first. "The previous answer" of an agent is looked up across periods.
    pub(crate) fn series<'n>(
        &self,
        period: Period,
        name: impl Fn(u32) -> Option<&'n str>,
    ) -> BTreeMap<String, Vec<SeriesPoint>> {
        let first = self.first_preference();
        self.agents
            .iter()
            .map(|(&agent, log)| {
                let mut groups: BTreeMap<i64, Group> = BTreeMap::new();
                let mut prev: Option<&Event> = None;
                for ((t, _), e) in &log.events {
                    let g = groups.entry(period.start_ms(*t)).or_default();
                    g.insert(*t, e);
                    if let Some(p) = prev {
                        g.pair(p, e, true);
                    }
                    prev = Some(e);
                }
                let points = groups
                    .into_iter()
                    .map(|(start_ms, g)| SeriesPoint {
                        start_ms,
                        metrics: finish(&g, first),
                    })
                    .collect();
                (agent.and_then(&name).unwrap_or_default().to_owned(), points)
            })
            .collect()
    }
}

impl AgentLog {
    /// The events just before and just after `key` (itself excluded).
    fn neighbours(&self, key: &Key) -> (Option<Event>, Option<Event>) {
        let prev = self.events.range(..key).next_back().map(|(_, e)| *e);
        let next = self
            .events
            .range((Bound::Excluded(key), Bound::Unbounded))
            .next()
            .map(|(_, e)| *e);
        (prev, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Agents and cards are named by one letter: slot = letter - 'a'.
    fn ev(agent: &str, kind: CardKind, card: &str, rating: Option<u8>) -> Event {
        let slot = |s: &str| u32::from(s.as_bytes()[0] - b'a');
        Event {
            agent: Some(slot(agent)),
            kind,
            card: slot(card) + 100,
            rating,
        }
    }

    const NAMES: [&str; 2] = ["a", "b"];

    /// The events in an [`Alignment`], each with its own id; added last to first, so the
    /// follow-ups are found by insertion between neighbours rather than by appending.
    fn log(evs: &[(u64, Event)]) -> Alignment {
        let mut a = Alignment::default();
        for (i, (t, e)) in evs.iter().enumerate().rev() {
            let id = Arc::new(ResponseId {
                namespace: selfos_vault::Namespace::new("test").unwrap(),
                record: selfos_vault::RecordId::from([u8::try_from(i).unwrap(); 16]),
            });
            a.insert(*t, &id, *e);
        }
        a
    }

    fn run(evs: &[(u64, Event)]) -> BTreeMap<String, Metrics> {
        log(evs).metrics(|s| NAMES.get(s as usize).copied())
    }

    const DAY: u64 = 86_400_000;

    #[test]
    fn mean_trend_and_count() {
        let evs = [
            (0, ev("a", CardKind::Rating, "r", Some(2))),
            (DAY, ev("a", CardKind::Rating, "r", Some(3))),
            (2 * DAY, ev("a", CardKind::Rating, "r", Some(4))),
        ];
        let m = &run(&evs)["a"];
        assert_eq!(m.ratings, 3);
        assert!((m.rating_mean.unwrap() - 3.0).abs() < 1e-12);
        assert!((m.rating_trend_per_day.unwrap() - 1.0).abs() < 1e-12);
        // Variance of 2,3,4 is 2/3 -> consistency 1 - (2/3)/4.
        assert!((m.consistency.unwrap() - (1.0 - 2.0 / 12.0)).abs() < 1e-12);
    }

    #[test]
    fn intent_agreement_counts_ratings_right_after_an_intent_of_the_same_agent() {
        let evs = [
            (1, ev("a", CardKind::Intent, "i", None)),
            (2, ev("b", CardKind::Rating, "r", Some(1))),
            (3, ev("a", CardKind::Rating, "r", Some(5))),
            (4, ev("a", CardKind::Rating, "r", Some(1))),
            (5, ev("a", CardKind::Intent, "i", None)),
            (6, ev("a", CardKind::Rating, "r", Some(2))),
        ];
        let all = run(&evs);
        assert_eq!(all["a"].intent_followups, 2);
        assert_eq!(all["a"].intent_agreement, Some(0.5));
        assert_eq!(all["b"].intent_agreement, None);
    }

    #[test]
    fn preference_adherence_splits_at_the_first_preference() {
        let evs = [
            (1, ev("a", CardKind::Rating, "r", Some(2))),
            (2, ev("b", CardKind::Preference, "pref.length", None)),
            (3, ev("a", CardKind::Rating, "r", Some(5))),
            (4, ev("a", CardKind::Rating, "s", Some(4))),
        ];
        let m = &run(&evs)["a"];
        assert_eq!(m.preference_adherence, Some(1.0));
        assert_eq!(m.rating_share_before_preferences, Some(0.0));
    }

    /// Monday 2024-01-01, 00:00 UTC.
    const MONDAY: u64 = 1_704_067_200_000;
    const HOUR: u64 = 3_600_000;

    fn run_series(evs: &[(u64, Event)], period: Period) -> BTreeMap<String, Vec<SeriesPoint>> {
        log(evs).series(period, |s| NAMES.get(s as usize).copied())
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn periods_start_at_utc_midnight_and_weeks_on_monday() {
        let monday = MONDAY as i64;
        let day = DAY as i64;
        assert_eq!(Period::Day.start_ms(MONDAY + 5 * HOUR), monday);
        assert_eq!(Period::Day.start_ms(MONDAY - 1), monday - day);
        assert_eq!(Period::Week.start_ms(MONDAY), monday);
        // Sunday 23:00 is still the week of the Monday before.
        assert_eq!(Period::Week.start_ms(MONDAY + 6 * DAY + 23 * HOUR), monday);
        assert_eq!(Period::Week.start_ms(MONDAY + 7 * DAY), monday + 7 * day);
        assert_eq!(Period::Week.start_ms(MONDAY - 1), monday - 7 * day);
        // The week of 1970-01-01 (a Thursday) began on Monday 1969-12-29.
        assert_eq!(Period::Week.start_ms(0), -3 * day);
        assert_eq!(Period::Week.start_ms(4 * DAY), 4 * day);
        assert_eq!(Period::Day.start_ms(0), 0);
        assert_eq!(Period::Day.start_ms(u64::MAX), i64::MAX - i64::MAX % day);
    }

    /// The example worked by hand: agent `a` over three weeks, agent `b` sets a preference.
    fn three_weeks() -> Vec<(u64, Event)> {
        vec![
            (MONDAY + HOUR, ev("a", CardKind::Intent, "i", None)),
            // `b`'s answer between `a`'s intent and rating does not break `a`'s follow-up.
            (
                MONDAY + HOUR + HOUR / 2,
                ev("b", CardKind::Rating, "r", Some(1)),
            ),
            (MONDAY + 2 * HOUR, ev("a", CardKind::Rating, "r", Some(5))), // follow-up
            (MONDAY + 3 * HOUR, ev("a", CardKind::Rating, "r", Some(2))),
            // The user's first preference, answered for `b`, counts for `a` too.
            (MONDAY + DAY, ev("b", CardKind::Preference, "p", None)),
            (MONDAY + DAY + HOUR, ev("a", CardKind::Rating, "s", Some(4))),
            // Sunday night, then Monday morning: a follow-up across both boundaries.
            (
                MONDAY + 6 * DAY + 23 * HOUR,
                ev("a", CardKind::Intent, "i", None),
            ),
            (
                MONDAY + 7 * DAY + HOUR,
                ev("a", CardKind::Rating, "r", Some(3)),
            ),
            (
                MONDAY + 7 * DAY + 2 * HOUR,
                ev("a", CardKind::Rating, "s", Some(5)),
            ),
            (MONDAY + 15 * DAY, ev("a", CardKind::Rating, "r", Some(1))),
        ]
    }

    #[test]
    fn weekly_series_worked_by_hand() {
        let all = run_series(&three_weeks(), Period::Week);
        let a = &all["a"];
        let starts: Vec<i64> = a.iter().map(|p| p.start_ms).collect();
        let week = (7 * DAY) as i64;
        let monday = MONDAY as i64;
        assert_eq!(starts, [monday, monday + week, monday + 2 * week]);

        // Week 1: intent, 5 (after the intent), 2, 4 (after the preference), Sunday's intent.
        let m = &a[0].metrics;
        assert_eq!((m.answers, m.ratings), (5, 3));
        assert!(close(m.rating_mean, 11.0 / 3.0));
        // Days since the first rating: 0, 1/24, 23/24 against 5, 2, 4.
        assert!(close(m.rating_trend_per_day, 72.0 / 169.0));
        assert_eq!((m.intent_followups, m.intent_agreement), (1, Some(1.0)));
        assert_eq!(
            (m.preference_ratings, m.preference_adherence),
            (1, Some(1.0))
        );
        assert_eq!(m.rating_share_before_preferences, Some(0.5));
        // Card r rated 5 and 2: variance 2.25.
        assert!(close(m.consistency, 1.0 - 2.25 / 4.0));

        // Week 2: 3 (after Sunday's intent, in the week before), 5.
        let m = &a[1].metrics;
        assert_eq!((m.answers, m.ratings), (2, 2));
        assert!(close(m.rating_mean, 4.0));
        assert!(close(m.rating_trend_per_day, 48.0));
        assert_eq!((m.intent_followups, m.intent_agreement), (1, Some(0.0)));
        assert_eq!(
            (m.preference_ratings, m.preference_adherence),
            (2, Some(0.5))
        );
        assert_eq!(m.rating_share_before_preferences, None);
        // Each card once in this week, though twice overall.
        assert_eq!(m.consistency, None);

        // Week 3: a lone 1.
        let m = &a[2].metrics;
        assert_eq!((m.answers, m.ratings, m.intent_followups), (1, 1, 0));
        assert_eq!(m.rating_trend_per_day, None);
        assert_eq!(m.intent_agreement, None);
        assert_eq!(
            (m.preference_ratings, m.preference_adherence),
            (1, Some(0.0))
        );

        // `b`: a rating before the preference, then the preference, in one week.
        let [b] = all["b"].as_slice() else {
            panic!("one point for b: {:?}", all["b"]);
        };
        assert_eq!((b.metrics.answers, b.metrics.ratings), (2, 1));
        assert_eq!(b.metrics.rating_share_before_preferences, Some(0.0));
        assert_eq!(
            (b.metrics.preference_ratings, b.metrics.preference_adherence),
            (0, None)
        );
    }

    #[test]
    fn daily_series_has_a_point_per_day_with_answers() {
        let all = run_series(&three_weeks(), Period::Day);
        let days: Vec<i64> = all["a"]
            .iter()
            .map(|p| (p.start_ms - MONDAY as i64) / DAY as i64)
            .collect();
        assert_eq!(days, [0, 1, 6, 7, 15]);
        // Sunday holds only the intent; Monday's 3 follows it.
        let sunday = &all["a"][2].metrics;
        assert_eq!(
            (sunday.answers, sunday.ratings, sunday.rating_mean),
            (1, 0, None)
        );
        let monday = &all["a"][3].metrics;
        assert_eq!(
            (monday.intent_followups, monday.intent_agreement),
            (1, Some(0.0))
        );
    }

    #[test]
    fn series_counts_add_up_to_the_totals() {
        let evs = three_weeks();
        let totals = run(&evs);
        for period in [Period::Day, Period::Week] {
            let all = run_series(&evs, period);
            assert_eq!(
                all.keys().collect::<Vec<_>>(),
                totals.keys().collect::<Vec<_>>()
            );
            for (agent, points) in &all {
                let sum =
                    |f: fn(&Metrics) -> u32| points.iter().map(|p| f(&p.metrics)).sum::<u32>();
                let t = &totals[agent];
                assert_eq!(sum(|m| m.answers), t.answers);
                assert_eq!(sum(|m| m.ratings), t.ratings);
                assert_eq!(sum(|m| m.intent_followups), t.intent_followups);
                assert_eq!(sum(|m| m.preference_ratings), t.preference_ratings);
            }
        }
        assert_eq!(totals["a"].preference_ratings, 4);
        assert_eq!(totals["a"].intent_followups, 2);
    }

    #[test]
    fn no_ratings_no_figures() {
        let evs = [(1, ev("a", CardKind::Intent, "i", None))];
        let m = &run(&evs)["a"];
        assert_eq!(m.answers, 1);
        assert_eq!(
            (m.rating_mean, m.rating_trend_per_day, m.consistency),
            (None, None, None)
        );
    }
}
