//! Shared helpers: a history builder and contexts.

use selfos_testkit::response;
use selfos_training::{AnswerSpec, Card, Context, Pick, Scheduler, SchedulerConfig, card, catalog};
use selfos_vault::{Answer, CardKind, Content, Context as AnswerContext, Response, Status};

pub(crate) const NOW: u64 = 1_800_000_000_000;
pub(crate) const MIN: u64 = 60_000;
pub(crate) const HOUR: u64 = 60 * MIN;

/// Builds a vault history the way the extension would record it.
#[derive(Default)]
pub(crate) struct History {
    responses: Vec<Response>,
}

impl History {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn push(
        &mut self,
        agent: &str,
        card_id: &str,
        status: Status,
        answer: Option<Answer>,
        topic: Option<&str>,
        at: u64,
    ) -> &mut Self {
        let n = self.responses.len() as u128 + 1;
        let kind = card(card_id).map_or(CardKind::Intent, |c| c.kind);
        let content = Content {
            card_id: card_id.into(),
            card_kind: kind,
            answer,
            agent: agent.into(),
            origin: "test".into(),
            created_ms: at,
            wait_ms: 12_000,
            status,
            context: AnswerContext {
                prompt_excerpt: None,
                topics: topic.map(|t| vec![t.to_owned()]).unwrap_or_default(),
            },
        };
        self.responses.push(response(n.to_be_bytes(), content));
        self
    }

    /// An answered choice or text card.
    pub(crate) fn choice(&mut self, agent: &str, card_id: &str, value: &str, at: u64) -> &mut Self {
        self.push(
            agent,
            card_id,
            Status::Answered,
            Some(Answer::Choice(value.into())),
            None,
            at,
        )
    }

    /// An answered rating card.
    pub(crate) fn rate(&mut self, agent: &str, card_id: &str, rating: u8, at: u64) -> &mut Self {
        self.push(
            agent,
            card_id,
            Status::Answered,
            Some(Answer::Rating(rating)),
            None,
            at,
        )
    }

    /// An answered recall card about `concept`.
    pub(crate) fn recall(&mut self, agent: &str, concept: &str, rating: u8, at: u64) -> &mut Self {
        self.push(
            agent,
            "recall.explain",
            Status::Answered,
            Some(Answer::Rating(rating)),
            Some(concept),
            at,
        )
    }

    /// Every preference dimension for `agent`, answered with its first option.
    pub(crate) fn all_preferences(&mut self, agent: &str, at: u64) -> &mut Self {
        for c in prefs_for(agent) {
            if let AnswerSpec::Choice { options, .. } = c.answer {
                self.choice(agent, c.id, options[0], at);
            }
        }
        self
    }

    pub(crate) fn build(&self) -> Vec<Response> {
        self.responses.clone()
    }
}

pub(crate) fn prefs_for(agent: &str) -> impl Iterator<Item = &'static Card> + '_ {
    catalog()
        .iter()
        .filter(move |c| c.kind == CardKind::Preference && c.fits_agent(agent))
}

pub(crate) fn scheduler() -> Scheduler {
    Scheduler::new(SchedulerConfig::new()).unwrap()
}

pub(crate) fn ctx<'a>(agent: &'a str, now: u64, history: &'a [Response]) -> Context<'a> {
    let mut c = Context::new(agent, now, 20_000);
    c.history = history;
    c.elapsed_ms = 10_000;
    c
}

pub(crate) fn ids(picks: &[Pick]) -> Vec<&'static str> {
    picks.iter().map(|p| p.card.id).collect()
}
