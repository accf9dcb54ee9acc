//! FSRS-style memory: how likely the user still recalls a concept, or still holds a preference.
//!
//! Retrievability follows FSRS exactly: `R(t, S) = (1 + FACTOR · t / S)^DECAY` with
//! `DECAY = -0.5` and `FACTOR = 19/81`, so that `R(S, S) = 0.9`: stability `S` is the number of
//! days after which recall probability has fallen to 90%.
//!
//! The stability update is a **simplified FSRS** without the difficulty variable and without
//! per-user trained weights (SelfOS has too few reviews per concept to fit 21 parameters):
//!
//! - first review: `S₀` by grade — again 0.4, hard 0.6, good 2.4, easy 5.8 days (FSRS-4.5's
//!   default initial stabilities);
//! - success (hard, good, easy) at retrievability `R`:
//!   `S' = S · (1 + 20 · m · S^-0.15 · (e^(1-R) − 1))` with `m` = 0.5 / 1 / 1.6 — like FSRS, the
//!   gain is larger the more the memory had faded (`R` low) and smaller for already-stable items,
//!   and never below `S`;
//! - failure (again): `S' = 0.5 · √S · e^(1-R)`, clamped to `[0.1, S]` — a lapse never raises
//!   stability.

/// FSRS's power-law decay exponent.
pub const DECAY: f64 = -0.5;

/// FSRS's factor, `0.9^(1/DECAY) − 1 = 19/81`, chosen so that `R(S, S) = 0.9`.
pub const FACTOR: f64 = 19.0 / 81.0;

/// Milliseconds per day.
pub const DAY_MS: u64 = 86_400_000;

/// The smallest stability, in days.
pub const MIN_STABILITY_DAYS: f64 = 0.1;

/// The largest stability, in days (100 years).
pub const MAX_STABILITY_DAYS: f64 = 36_500.0;

const INITIAL_STABILITY: [f64; 4] = [0.4, 0.6, 2.4, 5.8];
const GROWTH: f64 = 20.0;

/// Probability of recall after `elapsed_days` for a memory of stability `stability_days`.
///
/// Negative or non-finite elapsed time counts as zero (R = 1); a non-positive or non-finite
/// stability gives 0.
pub fn retrievability(elapsed_days: f64, stability_days: f64) -> f64 {
    if !stability_days.is_finite() || stability_days <= 0.0 {
        return 0.0;
    }
    let t = if elapsed_days.is_finite() {
        elapsed_days.max(0.0)
    } else {
        0.0
    };
    (1.0 + FACTOR * t / stability_days).powf(DECAY)
}

/// Days until retrievability falls to `retention` (in (0, 1)) for stability `stability_days`.
pub fn interval_days(stability_days: f64, retention: f64) -> f64 {
    stability_days / FACTOR * (retention.powf(1.0 / DECAY) - 1.0)
}

/// How well the user recalled: FSRS's four grades.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grade {
    /// Forgot.
    Again,
    /// Recalled with serious effort.
    Hard,
    /// Recalled.
    Good,
    /// Recalled effortlessly.
    Easy,
}

impl Grade {
    /// The grade a 1-5 self-rating on a recall card stands for: 1 again, 2 hard, 3 good,
    /// 4-5 easy. `None` outside 1-5.
    pub fn from_rating(rating: u8) -> Option<Self> {
        match rating {
            1 => Some(Self::Again),
            2 => Some(Self::Hard),
            3 => Some(Self::Good),
            4 | 5 => Some(Self::Easy),
            _ => None,
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Again => 0,
            Self::Hard => 1,
            Self::Good => 2,
            Self::Easy => 3,
        }
    }
}

/// The memory state of one item: its stability and when it was last reviewed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemoryState {
    /// Days until retrievability falls to 90%.
    pub stability_days: f64,
    /// The last review, in ms since the Unix epoch.
    pub last_review_ms: u64,
}

impl MemoryState {
    /// The state after a first review with `grade` at `now_ms`.
    pub fn first(grade: Grade, now_ms: u64) -> Self {
        Self::with_stability(INITIAL_STABILITY[grade.index()], now_ms)
    }

    /// A state with a given stability (clamped to a sane range), reviewed at `now_ms`.
    pub fn with_stability(stability_days: f64, now_ms: u64) -> Self {
        Self {
            stability_days: clamp_stability(stability_days),
            last_review_ms: now_ms,
        }
    }

    /// Days since the last review at `now_ms` (0 if `now_ms` is earlier).
    pub fn elapsed_days(&self, now_ms: u64) -> f64 {
        now_ms.saturating_sub(self.last_review_ms) as f64 / DAY_MS as f64
    }

    /// Retrievability at `now_ms`.
    pub fn retrievability_at(&self, now_ms: u64) -> f64 {
        retrievability(self.elapsed_days(now_ms), self.stability_days)
    }

    /// When retrievability falls to `retention`, in ms since the Unix epoch.
    pub fn due_ms(&self, retention: f64) -> u64 {
        let days = interval_days(self.stability_days, retention);
        let ms = (days * DAY_MS as f64).round().clamp(0.0, u64::MAX as f64) as u64;
        self.last_review_ms.saturating_add(ms)
    }

    /// The state after a review with `grade` at `now_ms` (see the module docs for the rule).
    pub fn review(&self, grade: Grade, now_ms: u64) -> Self {
        let s = self.stability_days;
        let r = self.retrievability_at(now_ms);
        let next = match grade {
            Grade::Again => (0.5 * s.sqrt() * (1.0 - r).exp()).min(s),
            Grade::Hard | Grade::Good | Grade::Easy => {
                let m = match grade {
                    Grade::Hard => 0.5,
                    Grade::Easy => 1.6,
                    _ => 1.0,
                };
                s * (1.0 + GROWTH * m * s.powf(-0.15) * ((1.0 - r).exp() - 1.0))
            }
        };
        Self {
            stability_days: clamp_stability(next),
            last_review_ms: now_ms.max(self.last_review_ms),
        }
    }
}

fn clamp_stability(s: f64) -> f64 {
    if s.is_nan() {
        MIN_STABILITY_DAYS
    } else {
        s.clamp(MIN_STABILITY_DAYS, MAX_STABILITY_DAYS)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn retrievability_is_ninety_percent_after_one_stability() {
        for s in [0.1, 0.4, 1.0, 2.4, 30.0, 365.0, 10_000.0] {
            assert!((retrievability(s, s) - 0.9).abs() < 1e-9, "S = {s}");
            assert!((interval_days(s, 0.9) - s).abs() < 1e-9 * s.max(1.0));
        }
        assert_eq!(retrievability(0.0, 3.0), 1.0);
        assert_eq!(retrievability(-5.0, 3.0), 1.0);
        assert_eq!(retrievability(1.0, 0.0), 0.0);
        assert_eq!(retrievability(1.0, f64::NAN), 0.0);
    }

    #[test]
    fn grades_from_ratings() {
        assert_eq!(Grade::from_rating(0), None);
        assert_eq!(Grade::from_rating(1), Some(Grade::Again));
        assert_eq!(Grade::from_rating(2), Some(Grade::Hard));
        assert_eq!(Grade::from_rating(3), Some(Grade::Good));
        assert_eq!(Grade::from_rating(4), Some(Grade::Easy));
        assert_eq!(Grade::from_rating(5), Some(Grade::Easy));
        assert_eq!(Grade::from_rating(6), None);
    }

    #[test]
    fn good_recall_grows_stability_and_again_shrinks_it() {
        let s0 = MemoryState::first(Grade::Good, 0);
        assert_eq!(s0.stability_days, 2.4);
        let at = s0.due_ms(0.9);
        assert_eq!(at, (2.4 * DAY_MS as f64) as u64);
        let good = s0.review(Grade::Good, at);
        assert!(good.stability_days > s0.stability_days * 2.0, "{good:?}");
        let easy = s0.review(Grade::Easy, at);
        let hard = s0.review(Grade::Hard, at);
        assert!(easy.stability_days > good.stability_days);
        assert!(hard.stability_days < good.stability_days);
        assert!(hard.stability_days > s0.stability_days);
        let again = good.review(Grade::Again, good.due_ms(0.9));
        assert!(again.stability_days < good.stability_days);
        assert_eq!(again.last_review_ms, good.due_ms(0.9));
    }

    #[test]
    fn first_stabilities_rise_with_grade() {
        let s: Vec<f64> = [Grade::Again, Grade::Hard, Grade::Good, Grade::Easy]
            .into_iter()
            .map(|g| MemoryState::first(g, 0).stability_days)
            .collect();
        assert!(s.windows(2).all(|w| w[0] < w[1]));
    }

    proptest! {
        #[test]
        fn retrievability_decreases_with_time(s in 0.1f64..10_000.0, a in 0.0f64..1e5, d in 1e-6f64..1e5) {
            let r1 = retrievability(a, s);
            let r2 = retrievability(a + d, s);
            prop_assert!(r2 < r1);
            prop_assert!(r2 > 0.0 && r1 <= 1.0);
        }

        #[test]
        fn reviews_keep_stability_in_range(s in 0.0f64..1e6, t in 0u64..(1u64 << 45), g in 0u8..4) {
            let grade = [Grade::Again, Grade::Hard, Grade::Good, Grade::Easy][g as usize];
            let m = MemoryState::with_stability(s, 0).review(grade, t);
            prop_assert!(m.stability_days.is_finite());
            prop_assert!((MIN_STABILITY_DAYS..=MAX_STABILITY_DAYS).contains(&m.stability_days));
            let before = MemoryState::with_stability(s, 0).stability_days;
            if grade == Grade::Again {
                prop_assert!(m.stability_days <= before);
            } else {
                prop_assert!(m.stability_days >= before);
            }
        }
    }
}
