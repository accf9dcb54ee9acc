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

use std::collections::BTreeMap;

use selfos_vault::CardKind;
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
#[derive(Debug, Clone)]
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

/// The answers of one group (an agent, or an agent in one period).
#[derive(Default)]
struct Group {
    answers: u32,
    /// `(created_ms, rating)`, in event order.
    ratings: Vec<(u64, u8)>,
    /// Ratings right after an intent answer for the same agent.
    after_intent: Vec<u8>,
    /// Ratings by card slot.
    by_card: BTreeMap<u32, Vec<u8>>,
}

/// Groups keyed by agent slot and a key of the answer time.
type Groups<K> = BTreeMap<(Option<u32>, K), Group>;

/// Puts events, in `(created_ms, id)` order, into groups keyed by agent slot and
/// `key(created_ms)`; "the previous answer" of an agent carries across its groups. Also returns
/// the time of the first preference answer.
fn group<'a, K: Ord>(
    events: impl Iterator<Item = (u64, &'a Event)> + Clone,
    key: impl Fn(u64) -> K,
) -> (Groups<K>, Option<u64>) {
    let first_pref = events
        .clone()
        .filter(|(_, e)| e.kind == CardKind::Preference)
        .map(|(t, _)| t)
        .min();
    let mut groups = Groups::new();
    let mut prev: BTreeMap<Option<u32>, CardKind> = BTreeMap::new();
    for (t, e) in events {
        let g = groups.entry((e.agent, key(t))).or_default();
        g.answers += 1;
        if let Some(r) = e.rating {
            g.ratings.push((t, r));
            if prev.get(&e.agent) == Some(&CardKind::Intent) {
                g.after_intent.push(r);
            }
            g.by_card.entry(e.card).or_default().push(r);
        }
        prev.insert(e.agent, e.kind);
    }
    (groups, first_pref)
}

/// One group's metrics.
fn finish(g: Group, first_pref: Option<u64>) -> Metrics {
    let mut m = Metrics {
        answers: g.answers,
        ..Metrics::default()
    };
    let n = g.ratings.len();
    m.ratings = count(n);
    if n > 0 {
        let nf = n as f64;
        let mean = g.ratings.iter().map(|&(_, r)| f64::from(r)).sum::<f64>() / nf;
        m.rating_mean = Some(mean);
        let t0 = g.ratings.iter().map(|&(t, _)| t).min().unwrap_or(0);
        let x = |t: u64| (t - t0) as f64 / MS_PER_DAY;
        let xm = g.ratings.iter().map(|&(t, _)| x(t)).sum::<f64>() / nf;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for &(t, r) in &g.ratings {
            sxy += (x(t) - xm) * (f64::from(r) - mean);
            sxx += (x(t) - xm) * (x(t) - xm);
        }
        m.rating_trend_per_day = (n >= 2 && sxx > 0.0).then(|| sxy / sxx);
    }
    m.intent_followups = count(g.after_intent.len());
    m.intent_agreement = share_high(g.after_intent.iter().copied());
    if let Some(p) = first_pref {
        let after = || g.ratings.iter().filter(|&&(t, _)| t >= p).map(|&(_, r)| r);
        m.preference_ratings = count(after().count());
        m.preference_adherence = share_high(after());
        m.rating_share_before_preferences =
            share_high(g.ratings.iter().filter(|&&(t, _)| t < p).map(|&(_, r)| r));
    } else {
        m.rating_share_before_preferences = share_high(g.ratings.iter().map(|&(_, r)| r));
    }
    let vars: Vec<f64> = g
        .by_card
        .values()
        .filter(|rs| rs.len() >= 2)
        .map(|rs| {
            let k = rs.len() as f64;
            let mu = rs.iter().map(|&r| f64::from(r)).sum::<f64>() / k;
            rs.iter().map(|&r| (f64::from(r) - mu).powi(2)).sum::<f64>() / k
        })
        .collect();
    if !vars.is_empty() {
        let mean_var = vars.iter().sum::<f64>() / vars.len() as f64;
        m.consistency = Some(1.0 - mean_var / 4.0);
    }
    m
}

/// Computes metrics per agent from events in `(created_ms, id)` order; `name` turns an agent
/// slot into its name.
pub(crate) fn compute<'a, 'n>(
    events: impl Iterator<Item = (u64, &'a Event)> + Clone,
    name: impl Fn(u32) -> Option<&'n str>,
) -> BTreeMap<String, Metrics> {
    let (groups, first_pref) = group(events, |_| ());
    groups
        .into_iter()
        .map(|((agent, ()), g)| {
            let agent = agent.and_then(&name).unwrap_or_default().to_owned();
            (agent, finish(g, first_pref))
        })
        .collect()
}

/// Computes metrics per agent and `period` from events in `(created_ms, id)` order: one point
/// per period holding an answer of the agent, oldest first.
pub(crate) fn series<'a, 'n>(
    events: impl Iterator<Item = (u64, &'a Event)> + Clone,
    period: Period,
    name: impl Fn(u32) -> Option<&'n str>,
) -> BTreeMap<String, Vec<SeriesPoint>> {
    let (groups, first_pref) = group(events, |t| period.start_ms(t));
    let mut out: BTreeMap<String, Vec<SeriesPoint>> = BTreeMap::new();
    // Keys are ordered by agent, then start: each agent's points come oldest first.
    for ((agent, start_ms), g) in groups {
        let agent = agent.and_then(&name).unwrap_or_default().to_owned();
        out.entry(agent).or_default().push(SeriesPoint {
            start_ms,
            metrics: finish(g, first_pref),
        });
    }
    out
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

    fn run(evs: &[(u64, Event)]) -> BTreeMap<String, Metrics> {
        compute(evs.iter().map(|(t, e)| (*t, e)), |s| {
            NAMES.get(s as usize).copied()
        })
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
        series(evs.iter().map(|(t, e)| (*t, e)), period, |s| {
            NAMES.get(s as usize).copied()
        })
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
