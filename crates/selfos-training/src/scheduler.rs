//! The scheduler: which card to show during this wait.
//!
//! Every call reads the vault's responses through a [`History`] (built from the context's, or
//! kept by the caller and updated per change), scores every card that fits, and returns the
//! best; the seed only chooses among equally good candidates.
//!
//! | candidate | score |
//! |---|---|
//! | re-confirmation of a stale preference (R < target) | `0.90 + (target − R)`, at most 1 |
//! | rating, the agent's last response was not a rating | `0.85` |
//! | preference, dimension not yet answered for this agent | `0.80` |
//! | intent | `0.30`, `+ 0.40 · (1 − n / intent_target)` while the agent has `n < intent_target` intent answers, `+ 0.25` right after the prompt was sent |
//! | recall, due (R < target) | `0.60 + (target − R) + weak` |
//! | recall, concept never reviewed | `0.45 + weak` |
//! | rating, the last response was already a rating | `0.10` |
//! | preference, dimension already answered | `0.05` |
//!
//! `weak` is `0.30 · (1 − i / n)` for the `i`-th of `n` weak topics (weakest first). Each score is
//! multiplied by `skip_penalty^k` for the `k ≤ 5` times this agent's user skipped that card.
//! Recall items not yet due are not candidates. Rating cards need an earlier answer from the agent:
//! none are offered when the agent's latest response is a `Retry` (the AI failed) or there is none.

use std::{borrow::Cow, collections::BTreeMap};

use selfos_vault::{CardKind, Response};

use crate::{
    catalog::{ANSWER_SLOT, AnswerSpec, CONCEPT_SLOT, Card, catalog},
    history::History,
    memory::MemoryState,
};

const TIE_EPSILON: f64 = 1e-9;
const MAX_SKIPS: u32 = 5;

/// Scheduler settings. Build with [`SchedulerConfig::new`] and set fields.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SchedulerConfig {
    /// A card (same id, same concept) is not shown again within this window. Default 30 min.
    pub no_repeat_window_ms: u64,
    /// Recall and re-confirmation become due when retrievability falls below this. Default 0.9.
    pub target_retention: f64,
    /// The stability, in days, of a freshly stated preference. Default 30.
    pub preference_stability_days: f64,
    /// Intent cards are favoured until an agent has this many intent answers. Default 5.
    pub intent_target: u32,
    /// "Right after the prompt was sent": [`Context::elapsed_ms`] up to this. Default 3 s.
    pub just_sent_ms: u64,
    /// Score multiplier per earlier skip of the same card, in (0, 1]. Default 0.7.
    pub skip_penalty: f64,
}

impl SchedulerConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self {
            no_repeat_window_ms: 30 * 60 * 1000,
            target_retention: 0.9,
            preference_stability_days: 30.0,
            intent_target: 5,
            just_sent_ms: 3_000,
            skip_penalty: 0.7,
        }
    }
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// A [`SchedulerConfig`] the scheduler cannot work with.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `target_retention` must lie strictly between 0 and 1.
    #[error("target retention {0} is not strictly between 0 and 1")]
    Retention(f64),
    /// `preference_stability_days` must be finite and positive.
    #[error("preference stability {0} days is not positive")]
    PreferenceStability(f64),
    /// `skip_penalty` must lie in (0, 1].
    #[error("skip penalty {0} is not in (0, 1]")]
    SkipPenalty(f64),
}

/// What the scheduler knows about this wait.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The AI agent the user is waiting for (`chatgpt`, `claude`, ...).
    pub agent: &'a str,
    /// How long the answer is expected to take, in ms. Cards must fit.
    pub expected_wait_ms: u64,
    /// How long ago the prompt was sent, in ms (0 = just now).
    pub elapsed_ms: u64,
    /// The current time, in ms since the Unix epoch.
    pub now_ms: u64,
    /// Breaks ties between equally good cards.
    pub seed: u64,
    /// The vault's responses, in any order. A recall response names its concept as the first of
    /// its `context.topics`.
    pub history: &'a [Response],
    /// Topics the knowledge graph knows weakly, **weakest first**.
    pub weak_topics: &'a [String],
    /// Concepts the user met, candidates for recall.
    pub topics: &'a [String],
}

impl<'a> Context<'a> {
    /// A context with no history, no topics, seed 0, the prompt just sent.
    pub fn new(agent: &'a str, now_ms: u64, expected_wait_ms: u64) -> Self {
        Self {
            agent,
            expected_wait_ms,
            elapsed_ms: 0,
            now_ms,
            seed: 0,
            history: &[],
            weak_topics: &[],
            topics: &[],
        }
    }

    /// The context a client builds for a wait: the vault's `history`, and the knowledge graph's
    /// `weak_topics` (weakest first) as both the weak topics and the recall candidates, since the
    /// graph's topics are the concepts the user met. The time seeds the tie-break, so that equally
    /// good cards take turns.
    pub fn for_wait(
        agent: &'a str,
        now_ms: u64,
        expected_wait_ms: u64,
        history: &'a [Response],
        weak_topics: &'a [String],
    ) -> Self {
        Self {
            seed: now_ms,
            history,
            weak_topics,
            topics: weak_topics,
            ..Self::new(agent, now_ms, expected_wait_ms)
        }
    }
}

/// Memory state attached to a recall or re-confirmation pick.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Due {
    /// The item's memory state.
    pub memory: MemoryState,
    /// Its retrievability now.
    pub retrievability: f64,
    /// When it fell (or falls) below the target retention, in ms since the Unix epoch.
    pub due_ms: u64,
}

/// The card to show, filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct Pick {
    /// The catalog card.
    pub card: &'static Card,
    /// For recall: the concept. Store it as the first of the response's `context.topics`.
    pub concept: Option<String>,
    /// For re-confirmation: the answer being re-confirmed.
    pub dimension_answer: Option<String>,
    /// Why this card, for humans.
    pub reason: String,
    /// For recall of a reviewed concept and re-confirmation: the memory state.
    pub due: Option<Due>,
    /// The score it won with (see the module docs).
    pub score: f64,
}

impl Pick {
    /// A pick with no concept, earlier answer or memory state.
    fn plain(card: &'static Card, score: f64, reason: String) -> Self {
        Self {
            card,
            concept: None,
            dimension_answer: None,
            reason,
            due: None,
            score,
        }
    }

    /// The prompt with its slots filled.
    pub fn prompt(&self) -> String {
        let mut p = self.card.prompt.to_owned();
        if let Some(c) = &self.concept {
            p = p.replace(CONCEPT_SLOT, c);
        }
        if let Some(a) = &self.dimension_answer {
            p = p.replace(ANSWER_SLOT, a);
        }
        p
    }
}

/// A pick as plain data, the same for every client (the CLI's `--json`, the WASM bindings):
/// what a card UI needs to show it and record the answer.
#[derive(Debug, serde::Serialize)]
pub struct PickView<'a> {
    /// The card's id: store it as the response's `card_id`.
    pub card: &'static str,
    /// The card's kind: store it as the response's `card_kind`.
    pub kind: CardKind,
    /// The question, slots filled.
    pub prompt: String,
    /// How it is answered.
    pub answer: &'static AnswerSpec,
    /// The preference dimension, for preference and re-confirmation cards.
    pub dimension: Option<&'static str>,
    /// For recall: the concept; store it as the first of the response's `context.topics`.
    pub concept: Option<&'a str>,
    /// Why this card, for humans.
    pub reason: &'a str,
    /// How long answering takes, in seconds.
    pub seconds: u8,
}

impl<'a> From<&'a Pick> for PickView<'a> {
    fn from(pick: &'a Pick) -> Self {
        let card = pick.card;
        Self {
            card: card.id,
            kind: card.kind,
            prompt: pick.prompt(),
            answer: &card.answer,
            dimension: card.dimension,
            concept: pick.concept.as_deref(),
            reason: &pick.reason,
            seconds: card.est_seconds,
        }
    }
}

/// Picks the next micro-training card. Holds only its configuration.
#[derive(Clone, Debug)]
pub struct Scheduler {
    config: SchedulerConfig,
}

impl Scheduler {
    /// A scheduler with `config`.
    pub fn new(config: SchedulerConfig) -> Result<Self, ConfigError> {
        let r = config.target_retention;
        if !(r > 0.0 && r < 1.0) {
            return Err(ConfigError::Retention(r));
        }
        let s = config.preference_stability_days;
        if !(s.is_finite() && s > 0.0) {
            return Err(ConfigError::PreferenceStability(s));
        }
        let p = config.skip_penalty;
        if !(p > 0.0 && p <= 1.0) {
            return Err(ConfigError::SkipPenalty(p));
        }
        Ok(Self { config })
    }

    /// Its configuration.
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// The card to show now; `None` only when no card fits (the wait is too short, or every
    /// fitting card was shown inside the no-repeat window). Reads `ctx.history` whole: a caller
    /// that picks again and again keeps a [`History`] and calls [`Scheduler::next_in`].
    pub fn next(&self, ctx: &Context<'_>) -> Option<Pick> {
        self.next_in(&History::of(&self.config, ctx.history), ctx)
    }

    /// [`Scheduler::next`] against `history` (made by [`Scheduler::history`] and kept up to
    /// date) in place of `ctx.history`: costs the same whatever the size of the vault.
    pub fn next_in(&self, history: &History, ctx: &Context<'_>) -> Option<Pick> {
        let cands = self.candidates_in(history, ctx);
        let best = cands.first()?.score;
        let ties = cands
            .iter()
            .take_while(|p| p.score >= best - TIE_EPSILON)
            .count()
            .max(1);
        let i = (splitmix64(ctx.seed) % ties as u64) as usize;
        cands.into_iter().nth(i)
    }

    /// An empty history for this scheduler's configuration.
    pub fn history(&self) -> History {
        History::new(&self.config)
    }

    /// Every card that may be shown now, best first (ties in catalog order, then by concept).
    pub fn candidates(&self, ctx: &Context<'_>) -> Vec<Pick> {
        self.candidates_in(&History::of(&self.config, ctx.history), ctx)
    }

    /// [`Scheduler::candidates`] against `history` in place of `ctx.history`.
    pub fn candidates_in(&self, history: &History, ctx: &Context<'_>) -> Vec<Pick> {
        let scoring = Scoring {
            cfg: &self.config,
            ctx,
            state: State::build(&self.config, ctx, history),
        };
        let mut out = Vec::new();
        for card in catalog() {
            if !card.fits_agent(ctx.agent)
                || u64::from(card.est_seconds) * 1000 > ctx.expected_wait_ms
            {
                continue;
            }
            let picks = match card.kind {
                CardKind::Intent => vec![scoring.intent(card)],
                CardKind::Rating => Vec::from_iter(scoring.rating(card)),
                CardKind::Preference => Vec::from_iter(scoring.preference(card)),
                CardKind::Reconfirm => Vec::from_iter(scoring.reconfirm(card)),
                CardKind::Recall => scoring.recall(card),
            };
            let penalty = scoring.skip_penalty(card);
            out.extend(
                picks
                    .into_iter()
                    .filter(|p| !scoring.shown_recently(p))
                    .map(|p| Pick {
                        score: p.score * penalty,
                        ..p
                    }),
            );
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out
    }
}

/// Scores the cards for one wait, one function per card kind (the table in the module docs).
struct Scoring<'s, 'a> {
    cfg: &'s SchedulerConfig,
    ctx: &'s Context<'a>,
    state: State<'s>,
}

impl Scoring<'_, '_> {
    /// The factor for the times this agent's user skipped `card`.
    fn skip_penalty(&self, card: &Card) -> f64 {
        let skips = self.state.history.skips(self.ctx.agent, card.id);
        self.cfg.skip_penalty.powi(skips.min(MAX_SKIPS) as i32)
    }

    /// Whether this card (and concept, for recall) was shown inside the no-repeat window.
    fn shown_recently(&self, pick: &Pick) -> bool {
        let key = (pick.card.id, pick.concept.as_deref().map(str::to_lowercase));
        self.state
            .history
            .last_shown(&key)
            .is_some_and(|t| t >= self.state.window_start)
    }

    /// Favoured while the agent has few intent answers, and right after the prompt was sent.
    fn intent(&self, card: &'static Card) -> Pick {
        let (cfg, ctx) = (self.cfg, self.ctx);
        let n = self.state.history.intent_answers(ctx.agent);
        let mut score = 0.30;
        let mut why = vec![];
        if n < cfg.intent_target {
            score += 0.40 * (1.0 - f64::from(n) / f64::from(cfg.intent_target));
            why.push(format!("{n} intent answers for {} so far", ctx.agent));
        }
        if ctx.elapsed_ms <= cfg.just_sent_ms {
            score += 0.25;
            why.push("the prompt was just sent".to_owned());
        }
        if why.is_empty() {
            why.push("intent helps the agent aim its answer".to_owned());
        }
        Pick::plain(card, score, why.join("; "))
    }

    /// High while the agent's last answer has no rating; none without an answer to rate.
    fn rating(&self, card: &'static Card) -> Option<Pick> {
        let (score, reason) = match self.state.history.last_kind(self.ctx.agent)? {
            CardKind::Rating => (0.10, "another angle on the last answer".to_owned()),
            _ => (
                0.85,
                format!("the last answer from {} has no rating yet", self.ctx.agent),
            ),
        };
        Some(Pick::plain(card, score, reason))
    }

    /// High for a dimension not yet answered for this agent, a last resort otherwise.
    fn preference(&self, card: &'static Card) -> Option<Pick> {
        let dim = card.dimension?;
        let history = self.state.history;
        let (score, reason) = if history.preference(self.ctx.agent, dim).is_some() {
            (0.05, format!("{dim} is already known; nothing better fits"))
        } else {
            (
                0.80,
                format!("no {dim} preference for {} yet", self.ctx.agent),
            )
        };
        Some(Pick::plain(card, score, reason))
    }

    /// A stated preference whose retrievability fell below the target, the staler the higher.
    fn reconfirm(&self, card: &'static Card) -> Option<Pick> {
        let dim = card.dimension?;
        let pref = self.state.history.preference(self.ctx.agent, dim)?;
        let (now, target) = (self.ctx.now_ms, self.cfg.target_retention);
        let r = pref.memory.retrievability_at(now);
        (r < target).then(|| Pick {
            card,
            concept: None,
            dimension_answer: Some(pref.value.clone()),
            reason: format!(
                "the {dim} preference \"{}\" was last confirmed {:.0} days ago",
                pref.value,
                pref.memory.elapsed_days(now)
            ),
            due: Some(due(pref.memory, now, target)),
            score: (0.90 + (target - r)).min(1.0),
        })
    }

    /// One pick per concept: due ones by how overdue they are, never-reviewed ones below them,
    /// weak topics raised; concepts reviewed and not yet due are left out.
    fn recall(&self, card: &'static Card) -> Vec<Pick> {
        let state = &self.state;
        let (now, target) = (self.ctx.now_ms, self.cfg.target_retention);
        let mut out = Vec::new();
        for (key, concept) in &state.concepts {
            let weak = state.weak.get(key.as_ref()).copied().unwrap_or(0.0);
            let weak_why = if weak > 0.0 {
                "; the graph knows it weakly"
            } else {
                ""
            };
            match state.history.concept(key).map(|c| c.memory) {
                Some(m) => {
                    let r = m.retrievability_at(now);
                    if r < target {
                        out.push(Pick {
                            card,
                            concept: Some(concept.to_string()),
                            dimension_answer: None,
                            reason: format!(
                                "{concept} is due: recall probability {:.0}%{weak_why}",
                                r * 100.0
                            ),
                            due: Some(due(m, now, target)),
                            score: 0.60 + (target - r) + weak,
                        });
                    }
                }
                None => out.push(Pick {
                    card,
                    concept: Some(concept.to_string()),
                    dimension_answer: None,
                    reason: format!("you met {concept} but never recalled it{weak_why}"),
                    due: None,
                    score: 0.45 + weak,
                }),
            }
        }
        out
    }
}

fn due(memory: MemoryState, now: u64, target: f64) -> Due {
    Due {
        memory,
        retrievability: memory.retrievability_at(now),
        due_ms: memory.due_ms(target),
    }
}

/// What the history says, for one agent at one time.
struct State<'h> {
    history: &'h History,
    /// Where the no-repeat window starts: a card shown at or after it is not shown again.
    window_start: u64,
    /// Recall candidates: lower-cased concept -> display form.
    concepts: BTreeMap<Cow<'h, str>, Cow<'h, str>>,
    /// Weak-topic boost per lower-cased concept.
    weak: BTreeMap<String, f64>,
}

impl<'h> State<'h> {
    fn build(cfg: &SchedulerConfig, ctx: &Context<'h>, history: &'h History) -> Self {
        let mut s = Self {
            history,
            window_start: ctx
                .now_ms
                .saturating_add(1)
                .saturating_sub(cfg.no_repeat_window_ms),
            concepts: history
                .concepts()
                .map(|(key, c)| (Cow::Borrowed(key), Cow::Borrowed(c.display.as_str())))
                .collect(),
            weak: BTreeMap::new(),
        };
        let n = ctx.weak_topics.len();
        for (i, t) in ctx.weak_topics.iter().enumerate() {
            let key = t.trim().to_lowercase();
            if key.is_empty() {
                continue;
            }
            let boost = 0.30 * (1.0 - i as f64 / n as f64);
            s.weak.entry(key.clone()).or_insert(boost);
            s.concepts
                .entry(Cow::Owned(key))
                .or_insert_with(|| Cow::Borrowed(t.trim()));
        }
        for t in ctx.topics {
            let key = t.trim().to_lowercase();
            if !key.is_empty() {
                s.concepts
                    .entry(Cow::Owned(key))
                    .or_insert_with(|| Cow::Borrowed(t.trim()));
            }
        }
        s
    }
}

/// SplitMix64: one well-mixed 64-bit value from a seed.
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use selfos_vault::{Answer, Content, Hlc, Namespace, RecordId, ResponseId, Status};

    use super::*;
    use crate::catalog::{CHANGED, card};

    const NOW: u64 = 1_800_000_000_000;

    fn resp(
        n: u8,
        agent: &str,
        card_id: &str,
        status: Status,
        answer: Option<Answer>,
        at: u64,
    ) -> Response {
        let kind = card(card_id).map(|c| c.kind).unwrap_or(CardKind::Intent);
        Response {
            id: ResponseId {
                namespace: Namespace::new(agent).unwrap(),
                record: RecordId::from([n; 16]),
            },
            updated: Hlc {
                wall_ms: at,
                counter: 0,
                node: [0; 8],
            },
            content: Content {
                card_id: card_id.into(),
                card_kind: kind,
                answer,
                agent: agent.into(),
                origin: "test".into(),
                created_ms: at,
                wait_ms: 10_000,
                status,
                context: Default::default(),
            },
            conflicted: false,
        }
    }

    #[test]
    fn config_is_validated() {
        assert!(Scheduler::new(SchedulerConfig::new()).is_ok());
        let mut c = SchedulerConfig::new();
        c.target_retention = 1.0;
        assert_eq!(Scheduler::new(c).unwrap_err(), ConfigError::Retention(1.0));
        let mut c = SchedulerConfig::new();
        c.preference_stability_days = f64::NAN;
        assert!(matches!(
            Scheduler::new(c),
            Err(ConfigError::PreferenceStability(_))
        ));
        let mut c = SchedulerConfig::new();
        c.skip_penalty = 0.0;
        assert_eq!(
            Scheduler::new(c).unwrap_err(),
            ConfigError::SkipPenalty(0.0)
        );
    }

    #[test]
    fn splitmix_is_fixed() {
        // Reference values of SplitMix64 seeded with 0 (first output).
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_ne!(splitmix64(1), splitmix64(2));
    }

    #[test]
    fn prompts_fill_their_slots() {
        let recall = Pick {
            card: card("recall.explain").unwrap(),
            concept: Some("ownership".into()),
            dimension_answer: None,
            reason: String::new(),
            due: None,
            score: 0.5,
        };
        assert_eq!(
            recall.prompt(),
            "Could you explain ownership to a friend right now?"
        );
        let reconfirm = Pick {
            card: card("reconfirm.tone").unwrap(),
            dimension_answer: Some("Blunt".into()),
            concept: None,
            ..recall
        };
        assert_eq!(
            reconfirm.prompt(),
            "You preferred a \"Blunt\" tone. Still true?"
        );
    }

    #[test]
    fn skips_push_a_card_down() {
        let s = Scheduler::new(SchedulerConfig::new()).unwrap();
        let old = NOW - 3_600_000;
        let history = vec![
            resp(1, "chatgpt", "pref.tone", Status::Skipped, None, old),
            resp(2, "chatgpt", "pref.tone", Status::Skipped, None, old + 1),
        ];
        let mut ctx = Context::new("chatgpt", NOW, 20_000);
        ctx.history = &history;
        ctx.elapsed_ms = 10_000;
        let cands = s.candidates(&ctx);
        let tone = cands.iter().find(|p| p.card.id == "pref.tone").unwrap();
        let length = cands.iter().find(|p| p.card.id == "pref.length").unwrap();
        assert!((tone.score - 0.8 * 0.49).abs() < 1e-9, "{}", tone.score);
        assert_eq!(length.score, 0.8);
    }

    #[test]
    fn changed_drops_a_preference_and_text_replaces_it() {
        let s = Scheduler::new(SchedulerConfig::new()).unwrap();
        let day = crate::memory::DAY_MS;
        let t0 = NOW - 40 * day;
        let pref = |n, v: &str| {
            resp(
                n,
                "chatgpt",
                "pref.tone",
                Status::Answered,
                Some(Answer::Choice(v.into())),
                t0,
            )
        };
        let mut ctx = Context::new("chatgpt", NOW, 20_000);

        let h = vec![
            pref(1, "Formal"),
            resp(
                2,
                "chatgpt",
                "reconfirm.tone",
                Status::Answered,
                Some(Answer::Choice(CHANGED.into())),
                t0 + day,
            ),
        ];
        ctx.history = &h;
        let c = s.candidates(&ctx);
        assert!(c.iter().any(|p| p.card.id == "pref.tone" && p.score == 0.8));
        assert!(!c.iter().any(|p| p.card.id == "reconfirm.tone"));

        let h = vec![
            pref(1, "Formal"),
            resp(
                2,
                "chatgpt",
                "reconfirm.tone",
                Status::Answered,
                Some(Answer::Text("Playful".into())),
                NOW - 35 * day,
            ),
        ];
        ctx.history = &h;
        let c = s.candidates(&ctx);
        let r = c.iter().find(|p| p.card.id == "reconfirm.tone").unwrap();
        assert_eq!(r.dimension_answer.as_deref(), Some("Playful"));
    }

    #[test]
    fn a_wait_offers_the_weak_topics_for_recall() {
        let history = vec![resp(
            1,
            "chatgpt",
            "intent.depth",
            Status::Answered,
            Some(Answer::Choice("Deep dive".into())),
            NOW - 60_000,
        )];
        let weak = vec!["ownership".to_owned(), "lifetimes".to_owned()];
        let ctx = Context::for_wait("chatgpt", NOW, 20_000, &history, &weak);
        assert_eq!(ctx.seed, NOW);
        let c = Scheduler::new(SchedulerConfig::new())
            .unwrap()
            .candidates(&ctx);
        let recall: Vec<_> = c.iter().filter_map(|p| p.concept.as_deref()).collect();
        assert!(
            recall.contains(&"ownership") && recall.contains(&"lifetimes"),
            "{recall:?}"
        );
        // The history counts: the depth card was shown a minute ago and is not offered again.
        assert!(!c.iter().any(|p| p.card.id == "intent.depth"));
        // The weakest topic ranks first among recalls of never-reviewed concepts.
        let first = c.iter().find(|p| p.concept.is_some()).unwrap();
        assert_eq!(first.concept.as_deref(), Some("ownership"));
    }
}
