//! The SelfOS trainer: which micro-training card to show while the user waits for an AI answer.
//!
//! - **Catalog.** [`catalog()`] is a built-in, versioned ([`CATALOG_VERSION`]) list of short
//!   cards, each one question answerable in one or two actions within a 5-20 s wait: intent
//!   ("what should this answer include?"), rating of the last answer, preference probes over the
//!   dimensions people put in custom instructions, recall of a concept, and "still true?"
//!   re-confirmation of a stale preference.
//! - **Scheduler.** [`Scheduler::next`] scores every card that fits the agent and the expected
//!   wait against the vault's responses, never repeats a card inside the no-repeat window, and
//!   spaces recall and re-confirmation with FSRS retrievability ([`memory`]).
//! - **History.** [`History`] is what the scheduler reads of the responses; a client keeps one
//!   and updates it per response written, received or deleted, so [`Scheduler::next_in`] costs
//!   the same at 100 answers and at 20,000.
//!
//! The crate does no I/O, reads no clock and draws no OS randomness: the caller passes the
//! current time, a seed and the history in [`Context`] (or a [`History`]), so a pick is a pure
//! function of its inputs. It stores nothing; answers are recorded by the caller in
//! `selfos-vault`, and the knowledge graph (which topics are weak) is computed elsewhere and
//! passed in.
//!
//! A fresh agent is first asked for its intent; a wait too short for any card gets none:
//!
//! ```
//! use selfos_training::{Context, Scheduler, SchedulerConfig};
//! use selfos_vault::CardKind;
//!
//! let scheduler = Scheduler::new(SchedulerConfig::new())?;
//! let now = 1_700_000_000_000;
//! let topics = vec!["borrow checker".to_owned()];
//!
//! let mut ctx = Context::new("chatgpt", now, 15_000);
//! ctx.topics = &topics;
//! let pick = scheduler.next(&ctx).expect("a 15 s wait fits many cards");
//! assert_eq!(pick.card.kind, CardKind::Intent);
//! println!("{} ({})", pick.prompt(), pick.reason);
//!
//! // Two seconds is too short for any card.
//! ctx.expected_wait_ms = 2_000;
//! assert!(scheduler.next(&ctx).is_none());
//! # Ok::<(), selfos_training::ConfigError>(())
//! ```

#![deny(missing_docs)]

mod catalog;
mod history;
pub mod memory;
mod scheduler;

pub use catalog::{
    ANSWER_SLOT, AnswerSpec, CATALOG_VERSION, CHANGED, CONCEPT_SLOT, Card, STILL_TRUE, card,
    catalog, dimensions,
};
pub use history::History;
pub use memory::{Grade, MemoryState};
pub use scheduler::{ConfigError, Context, Due, Pick, PickView, Scheduler, SchedulerConfig};
