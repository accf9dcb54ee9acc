//! `Trainer`: which micro-training card to show during a wait.

use selfos::{
    training::{Context, History, PickView, Scheduler, SchedulerConfig},
    vault::Cursor,
};
use wasm_bindgen::prelude::*;

use crate::{
    convert::{ms, to_js},
    error::Error,
    vault::Vault,
};

/// The card scheduler, with default settings, and the history it has read of one vault: each
/// pick reads only what changed in the vault since the last one.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Trainer {
    inner: Scheduler,
    history: History,
    cursor: Cursor,
}

#[wasm_bindgen]
impl Trainer {
    /// A scheduler with the default settings (no repeat within 30 minutes, FSRS target
    /// retention 0.9).
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<Trainer, Error> {
        let inner = Scheduler::new(SchedulerConfig::new())
            .map_err(|e| Error::new("internal", e.to_string()))?;
        Ok(Self {
            history: inner.history(),
            inner,
            cursor: Cursor::default(),
        })
    }

    /// The card to show while the user waits `expected_wait_ms` for `agent`, whose prompt
    /// went out `elapsed_ms` ago; `undefined` when no card fits. The vault's answers are the
    /// history; `weak_topics` (a graph's `weakTopics()`, weakest first) are what recall and
    /// weak-topic cards work on.
    #[wasm_bindgen(unchecked_return_type = "CardPick | undefined")]
    pub fn next(
        &mut self,
        vault: &mut Vault,
        agent: &str,
        expected_wait_ms: f64,
        elapsed_ms: f64,
        now_ms: f64,
        weak_topics: Option<Vec<String>>,
    ) -> Result<JsValue, Error> {
        let changes = vault.inner.changed_since(&self.cursor);
        self.history.apply(&changes);
        self.cursor = changes.cursor;
        let weak = weak_topics.unwrap_or_default();
        let now = ms(now_ms)?;
        let mut ctx = Context::for_wait(agent, now, ms(expected_wait_ms)?, &[], &weak);
        ctx.elapsed_ms = ms(elapsed_ms)?;
        match self.inner.next_in(&self.history, &ctx) {
            Some(pick) => to_js(&PickView::from(&pick)),
            None => Ok(JsValue::UNDEFINED),
        }
    }
}
