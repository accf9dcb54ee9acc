//! What the scheduler reads of the vault's responses, kept up to date one response at a time.
//!
//! The scheduler's view of the history is a fold over the responses in time order (a preference
//! stated, then re-confirmed, then changed; a concept recalled again and again). [`History`]
//! keeps each fold per stream, one per (agent, preference dimension) and one per recall concept,
//! with its result: a response later than every other of its stream (the usual case, a new
//! answer) extends the result in place; one that arrives out of order (from a device that was
//! offline), an edit or a delete refolds its stream alone. Counts (intent answers, skips) and
//! each agent's latest response are kept as they are, so a pick reads a few small maps whatever
//! the size of the vault.
//!
//! Time order is `(created_ms, updated, id)`, a total order on the responses of a vault, so
//! every history holding the same responses gives the same picks, however they arrived.

use std::collections::{BTreeMap, HashMap};

use selfos_vault::{Answer, CardKind, Changes, Hlc, Response, ResponseId, Status};

use crate::{
    catalog::{CHANGED, STILL_TRUE, card},
    memory::{Grade, MemoryState},
    scheduler::SchedulerConfig,
};

/// A response's place in time order.
type Order = (u64, Hlc, ResponseId);

/// A card shown, and for recall its lower-cased concept: what the no-repeat window tells apart.
pub(crate) type Shown = (&'static str, Option<String>);

/// The vault's responses as the scheduler reads them. Build one with [`History::new`] and keep
/// it with [`History::apply`] (or [`History::insert`] and [`History::remove`]) as responses are
/// written, arrive, change or go.
#[derive(Clone, Debug)]
pub struct History {
    /// The stability of a freshly stated preference, from the scheduler's configuration.
    preference_stability_days: f64,
    entries: HashMap<ResponseId, Entry>,
    /// When each card (with its recall concept) was shown: creation times, with how many
    /// responses have each, for the no-repeat window.
    shown: HashMap<Shown, BTreeMap<u64, u32>>,
    /// Per agent, lower-cased (ASCII, as agents are compared).
    agents: BTreeMap<String, AgentHistory>,
    /// Recall per lower-cased concept, all agents.
    recall: BTreeMap<String, Stream<Recalled>>,
}

/// What one response contributed, so that it can be taken out again.
#[derive(Clone, Debug)]
struct Entry {
    order: Order,
    agent: String,
    shown: Shown,
    effect: Effect,
}

#[derive(Clone, Debug)]
enum Effect {
    Nothing,
    Intent,
    Skip,
    Preference(&'static str),
    Recall(String),
}

/// One agent's responses.
#[derive(Clone, Debug, Default)]
struct AgentHistory {
    /// The kind of each response, `None` for a retry (the AI failed: nothing to rate).
    latest: BTreeMap<Order, Option<CardKind>>,
    intent_answers: u32,
    skips: BTreeMap<&'static str, u32>,
    preferences: BTreeMap<&'static str, Stream<Stated>>,
}

/// A preference as the history leaves it.
#[derive(Clone, Debug)]
pub(crate) struct Pref {
    pub(crate) value: String,
    pub(crate) memory: MemoryState,
}

/// One answer about a preference dimension.
#[derive(Clone, Debug)]
enum Stated {
    /// A value stated (or restated), at a time.
    Value(String, u64),
    /// "Still true", at a time.
    StillTrue(u64),
    /// "Changed": the preference is gone until stated again.
    Changed,
}

/// One recall of a concept, graded, with the concept as written.
#[derive(Clone, Debug)]
struct Recalled {
    grade: Grade,
    at: u64,
    display: String,
}

/// Memory of a concept: its state, and the concept as its first recall wrote it.
#[derive(Clone, Debug)]
pub(crate) struct Concept {
    pub(crate) memory: MemoryState,
    pub(crate) display: String,
}

/// Something folded over a stream in time order.
trait Fold: Sized {
    type Out;
    fn step(&self, prev: Option<Self::Out>, stability_days: f64) -> Option<Self::Out>;
}

impl Fold for Stated {
    type Out = Pref;

    fn step(&self, prev: Option<Pref>, stability_days: f64) -> Option<Pref> {
        match (self, prev) {
            (Self::Value(v, t), Some(p)) if p.value.eq_ignore_ascii_case(v) => Some(Pref {
                memory: p.memory.review(Grade::Good, *t),
                ..p
            }),
            (Self::Value(v, t), _) => Some(Pref {
                value: v.clone(),
                memory: MemoryState::with_stability(stability_days, *t),
            }),
            (Self::StillTrue(t), p) => p.map(|p| Pref {
                memory: p.memory.review(Grade::Good, *t),
                ..p
            }),
            (Self::Changed, _) => None,
        }
    }
}

impl Fold for Recalled {
    type Out = Concept;

    fn step(&self, prev: Option<Concept>, _: f64) -> Option<Concept> {
        Some(match prev {
            Some(c) => Concept {
                memory: c.memory.review(self.grade, self.at),
                ..c
            },
            None => Concept {
                memory: MemoryState::first(self.grade, self.at),
                display: self.display.clone(),
            },
        })
    }
}

/// A stream's items in time order and their fold.
#[derive(Clone, Debug)]
struct Stream<T: Fold> {
    items: BTreeMap<Order, T>,
    folded: Option<T::Out>,
}

impl<T: Fold> Default for Stream<T> {
    fn default() -> Self {
        Self {
            items: BTreeMap::new(),
            folded: None,
        }
    }
}

impl<T: Fold> Stream<T>
where
    T::Out: Clone,
{
    /// Adds an item; extends the fold if it is the latest, else refolds.
    fn insert(&mut self, order: Order, item: T, stability_days: f64) {
        let latest = self.items.last_key_value().is_none_or(|(k, _)| *k < order);
        if latest {
            self.folded = item.step(self.folded.take(), stability_days);
            self.items.insert(order, item);
        } else {
            self.items.insert(order, item);
            self.refold(stability_days);
        }
    }

    fn remove(&mut self, order: &Order, stability_days: f64) {
        if self.items.remove(order).is_some() {
            self.refold(stability_days);
        }
    }

    fn refold(&mut self, stability_days: f64) {
        self.folded = self
            .items
            .values()
            .fold(None, |acc, item| item.step(acc, stability_days));
    }
}

impl History {
    /// An empty history for a scheduler with `config`.
    pub fn new(config: &SchedulerConfig) -> Self {
        Self::empty(config.preference_stability_days)
    }

    fn empty(preference_stability_days: f64) -> Self {
        Self {
            preference_stability_days,
            entries: HashMap::new(),
            shown: HashMap::new(),
            agents: BTreeMap::new(),
            recall: BTreeMap::new(),
        }
    }

    /// The history of `responses`, in any order.
    pub fn of(config: &SchedulerConfig, responses: &[Response]) -> Self {
        let mut h = Self::new(config);
        h.fill(responses);
        h
    }

    /// Takes in what the vault's change feed reports (see `Vault::changed_since`).
    pub fn apply(&mut self, changes: &Changes) {
        if changes.everything {
            *self = Self::empty(self.preference_stability_days);
            self.fill(&changes.responses);
            return;
        }
        for id in &changes.gone {
            self.remove(id);
        }
        for r in &changes.responses {
            self.insert(r);
        }
    }

    /// Inserts `responses` in time order, so that every stream only ever extends its fold.
    fn fill(&mut self, responses: &[Response]) {
        let mut sorted: Vec<&Response> = responses.iter().collect();
        sorted.sort_by_cached_key(|r| order(r));
        sorted.into_iter().for_each(|r| self.insert(r));
    }

    /// How many responses it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Takes in a response that is new or changed: it replaces the one with its id.
    pub fn insert(&mut self, r: &Response) {
        self.remove(&r.id);
        let c = &r.content;
        let Some(card) = card(&c.card_id) else {
            return;
        };
        let order = order(r);
        let agent = c.agent.to_ascii_lowercase();
        let concept = c.context.topics.first().map(|t| t.trim().to_lowercase());
        let shown = (
            card.id,
            concept.clone().filter(|_| card.kind == CardKind::Recall),
        );
        let stability = self.preference_stability_days;
        let a = self.agents.entry(agent.clone()).or_default();
        a.latest.insert(
            order.clone(),
            (c.status != Status::Retry).then_some(c.card_kind),
        );
        let effect = match (c.status, &c.answer) {
            (Status::Skipped, _) => {
                *a.skips.entry(card.id).or_insert(0) += 1;
                Effect::Skip
            }
            (Status::Answered, Some(answer)) => match (card.kind, card.dimension) {
                (CardKind::Intent, _) => {
                    a.intent_answers += 1;
                    Effect::Intent
                }
                (CardKind::Preference | CardKind::Reconfirm, Some(dim)) => {
                    match stated(card.kind, answer, c.created_ms) {
                        Some(s) => {
                            let stream = a.preferences.entry(dim).or_default();
                            stream.insert(order.clone(), s, stability);
                            Effect::Preference(dim)
                        }
                        None => Effect::Nothing,
                    }
                }
                (CardKind::Recall, _) => {
                    let first = c.context.topics.first();
                    let grade = match answer {
                        Answer::Rating(r) => Grade::from_rating(*r),
                        _ => None,
                    };
                    match (first, concept, grade) {
                        (Some(first), Some(key), Some(grade)) => {
                            let item = Recalled {
                                grade,
                                at: c.created_ms,
                                display: first.trim().to_owned(),
                            };
                            let stream = self.recall.entry(key.clone()).or_default();
                            stream.insert(order.clone(), item, stability);
                            Effect::Recall(key)
                        }
                        _ => Effect::Nothing,
                    }
                }
                _ => Effect::Nothing,
            },
            _ => Effect::Nothing,
        };
        *self
            .shown
            .entry(shown.clone())
            .or_default()
            .entry(c.created_ms)
            .or_insert(0) += 1;
        self.entries.insert(
            r.id.clone(),
            Entry {
                order,
                agent,
                shown,
                effect,
            },
        );
    }

    /// Takes out the response with `id` (deleted, or no longer readable); whether it was here.
    pub fn remove(&mut self, id: &ResponseId) -> bool {
        let Some(e) = self.entries.remove(id) else {
            return false;
        };
        let stability = self.preference_stability_days;
        if let Some(times) = self.shown.get_mut(&e.shown) {
            if let Some(n) = times.get_mut(&e.order.0) {
                *n -= 1;
                if *n == 0 {
                    times.remove(&e.order.0);
                }
            }
            if times.is_empty() {
                self.shown.remove(&e.shown);
            }
        }
        if let Some(a) = self.agents.get_mut(&e.agent) {
            a.latest.remove(&e.order);
            match &e.effect {
                Effect::Intent => a.intent_answers = a.intent_answers.saturating_sub(1),
                Effect::Skip => {
                    if let Some(n) = a.skips.get_mut(e.shown.0) {
                        *n = n.saturating_sub(1);
                    }
                }
                Effect::Preference(dim) => {
                    if let Some(s) = a.preferences.get_mut(dim) {
                        s.remove(&e.order, stability);
                    }
                }
                Effect::Recall(_) | Effect::Nothing => {}
            }
        }
        if let Effect::Recall(key) = &e.effect
            && let Some(s) = self.recall.get_mut(key)
        {
            s.remove(&e.order, stability);
            if s.items.is_empty() {
                self.recall.remove(key);
            }
        }
        true
    }

    /// When `shown` was last shown, by any agent.
    pub(crate) fn last_shown(&self, shown: &Shown) -> Option<u64> {
        Some(*self.shown.get(shown)?.last_key_value()?.0)
    }

    /// The kind of `agent`'s latest response; `None` if there is none or the AI failed.
    pub(crate) fn last_kind(&self, agent: &str) -> Option<CardKind> {
        *self.agent(agent)?.latest.last_key_value()?.1
    }

    /// `agent`'s answered intent cards.
    pub(crate) fn intent_answers(&self, agent: &str) -> u32 {
        self.agent(agent).map_or(0, |a| a.intent_answers)
    }

    /// How often `agent`'s user skipped `card`.
    pub(crate) fn skips(&self, agent: &str, card: &str) -> u32 {
        self.agent(agent)
            .and_then(|a| a.skips.get(card).copied())
            .unwrap_or(0)
    }

    /// `agent`'s preference in `dimension`, if one stands.
    pub(crate) fn preference(&self, agent: &str, dimension: &str) -> Option<&Pref> {
        self.agent(agent)?
            .preferences
            .get(dimension)?
            .folded
            .as_ref()
    }

    /// Every recalled concept by lower-cased key.
    pub(crate) fn concepts(&self) -> impl Iterator<Item = (&str, &Concept)> {
        self.recall
            .iter()
            .filter_map(|(k, s)| Some((k.as_str(), s.folded.as_ref()?)))
    }

    /// The memory of one recalled concept, by lower-cased key.
    pub(crate) fn concept(&self, key: &str) -> Option<&Concept> {
        self.recall.get(key)?.folded.as_ref()
    }

    fn agent(&self, agent: &str) -> Option<&AgentHistory> {
        self.agents.get(&agent.to_ascii_lowercase())
    }
}

fn order(r: &Response) -> Order {
    (r.content.created_ms, r.updated, r.id.clone())
}

/// What an answer to a preference or re-confirmation card says of its dimension.
fn stated(kind: CardKind, answer: &Answer, at: u64) -> Option<Stated> {
    match (kind, answer) {
        (_, Answer::Rating(_)) => None,
        (CardKind::Reconfirm, Answer::Choice(v)) if v == STILL_TRUE => Some(Stated::StillTrue(at)),
        (CardKind::Reconfirm, Answer::Choice(v)) if v == CHANGED => Some(Stated::Changed),
        (_, Answer::Text(v) | Answer::Choice(v)) => Some(Stated::Value(v.clone(), at)),
    }
}
