//! Alignment metrics per AI agent, from the user's own answers.
//!
//! Only answered responses count. For one agent, with its answers ordered by `created_ms` (ties
//! by response id):
//!
//! - **`ratings`, `rating_mean`**: how many rating answers, and their mean (1-5).
//! - **`rating_trend_per_day`**: the least-squares slope of rating against time, in rating points
//!   per day; `None` with fewer than two ratings or when all share one timestamp.
//! - **`intent_agreement`**: among ratings whose previous answer *for the same agent* was an
//!   intent answer (the user said what they wanted, then rated what they got), the share rated
//!   4 or 5. `intent_followups` counts those ratings. `None` when there are none.
//! - **`preference_adherence`**: the share of ratings of 4 or 5 among this agent's ratings given
//!   at or after the user's first preference answer (for any agent: preferences describe the
//!   user). `rating_share_before_preferences` is the same share before it, for comparison.
//!   `None` when there are no such ratings.
//! - **`consistency`**: how steadily the user rates the same card: `1 - mean(var / 4)` over the
//!   card ids this agent was rated on at least twice, where `var` is the population variance of
//!   those ratings and 4 the largest variance possible on a 1-5 scale. 1 means identical ratings
//!   every time; `None` when no card was rated twice.

use std::collections::BTreeMap;

use selfos_vault::CardKind;
use serde::{Deserialize, Serialize};

/// Alignment metrics for one agent; see the module docs for each definition.
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
    /// Share of ratings >= 4 before the first preference answer.
    pub rating_share_before_preferences: Option<f64>,
    /// `1 - mean(normalised variance)` of ratings per card id rated at least twice.
    pub consistency: Option<f64>,
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

const MS_PER_DAY: f64 = 86_400_000.0;

fn share_high(ratings: impl Iterator<Item = u8>) -> Option<f64> {
    let (mut n, mut high) = (0_u32, 0_u32);
    for r in ratings {
        n += 1;
        high += u32::from(r >= 4);
    }
    (n > 0).then(|| f64::from(high) / f64::from(n))
}

/// Computes metrics per agent from events in `(created_ms, id)` order; `name` turns an agent
/// slot into its name.
pub(crate) fn compute<'a, 'n>(
    events: impl Iterator<Item = (u64, &'a Event)> + Clone,
    name: impl Fn(u32) -> Option<&'n str>,
) -> BTreeMap<String, Metrics> {
    let first_pref = events
        .clone()
        .filter(|(_, e)| e.kind == CardKind::Preference)
        .map(|(t, _)| t)
        .min();
    struct Acc {
        m: Metrics,
        prev: Option<CardKind>,
        ratings: Vec<(u64, u8)>,
        after_intent: Vec<u8>,
        by_card: BTreeMap<u32, Vec<u8>>,
    }
    let mut per: BTreeMap<Option<u32>, Acc> = BTreeMap::new();
    for (t, e) in events {
        let acc = per.entry(e.agent).or_insert_with(|| Acc {
            m: Metrics::default(),
            prev: None,
            ratings: Vec::new(),
            after_intent: Vec::new(),
            by_card: BTreeMap::new(),
        });
        acc.m.answers += 1;
        if let Some(r) = e.rating {
            acc.ratings.push((t, r));
            if acc.prev == Some(CardKind::Intent) {
                acc.after_intent.push(r);
            }
            acc.by_card.entry(e.card).or_default().push(r);
        }
        acc.prev = Some(e.kind);
    }
    per.into_iter()
        .map(|(agent, acc)| {
            let mut m = acc.m;
            let n = acc.ratings.len();
            m.ratings = u32::try_from(n).unwrap_or(u32::MAX);
            if n > 0 {
                let nf = n as f64;
                let mean = acc.ratings.iter().map(|&(_, r)| f64::from(r)).sum::<f64>() / nf;
                m.rating_mean = Some(mean);
                let t0 = acc.ratings.iter().map(|&(t, _)| t).min().unwrap_or(0);
                let x = |t: u64| (t - t0) as f64 / MS_PER_DAY;
                let xm = acc.ratings.iter().map(|&(t, _)| x(t)).sum::<f64>() / nf;
                let (mut sxy, mut sxx) = (0.0, 0.0);
                for &(t, r) in &acc.ratings {
                    sxy += (x(t) - xm) * (f64::from(r) - mean);
                    sxx += (x(t) - xm) * (x(t) - xm);
                }
                m.rating_trend_per_day = (n >= 2 && sxx > 0.0).then(|| sxy / sxx);
            }
            m.intent_followups = u32::try_from(acc.after_intent.len()).unwrap_or(u32::MAX);
            m.intent_agreement = share_high(acc.after_intent.iter().copied());
            if let Some(p) = first_pref {
                m.preference_adherence = share_high(
                    acc.ratings
                        .iter()
                        .filter(|&&(t, _)| t >= p)
                        .map(|&(_, r)| r),
                );
                m.rating_share_before_preferences =
                    share_high(acc.ratings.iter().filter(|&&(t, _)| t < p).map(|&(_, r)| r));
            } else {
                m.rating_share_before_preferences = share_high(acc.ratings.iter().map(|&(_, r)| r));
            }
            let vars: Vec<f64> = acc
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
            (agent.and_then(&name).unwrap_or_default().to_owned(), m)
        })
        .collect()
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
