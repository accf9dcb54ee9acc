//! The response model: what one micro-training answer records.

use serde::{Deserialize, Serialize};

use crate::{hlc::Hlc, ids::ResponseId};

/// The longest text answer or prompt excerpt accepted, in bytes.
pub const MAX_TEXT_LEN: usize = 16 * 1024;

/// What kind of micro-training card was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CardKind {
    /// "What should this answer include?"
    Intent,
    /// A rating of the last answer.
    Rating,
    /// A preference probe: style, length, tone, format.
    Preference,
    /// Spaced recall of a concept the user met.
    Recall,
    /// "Still true?" re-confirmation of a stale preference.
    Reconfirm,
}

/// The user's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type", content = "value")]
pub enum Answer {
    /// Free text.
    Text(String),
    /// One of the card's choices.
    Choice(String),
    /// A rating from 1 to 5.
    Rating(u8),
}

/// Whether the card was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Answered.
    Answered,
    /// Skipped by the user.
    Skipped,
    /// The AI failed while the card was shown; ask again later.
    Retry,
}

/// Opt-in context captured with an answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// An excerpt of the prompt the user sent, if they enabled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_excerpt: Option<String>,
    /// Topics extracted locally.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
}

/// The content of one response. All of it is encrypted under the record's own key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// The card's id in the catalog.
    pub card_id: String,
    /// The card's kind.
    pub card_kind: CardKind,
    /// The answer; `None` when skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
    /// The AI agent the user was waiting for.
    pub agent: String,
    /// Where it was captured: a site origin, `cli`, `import`.
    pub origin: String,
    /// When it was first recorded, in ms since the Unix epoch.
    pub created_ms: u64,
    /// How long the user had been waiting for the AI when the answer was recorded, in ms
    /// (counted up to the AI's end if that came first): the wait the card used.
    pub wait_ms: u64,
    /// Answered, skipped or retry.
    pub status: Status,
    /// Opt-in context.
    #[serde(default, skip_serializing_if = "is_default")]
    pub context: Context,
}

fn is_default(c: &Context) -> bool {
    *c == Context::default()
}

impl Content {
    /// Checks limits and consistency.
    pub fn validate(&self) -> Result<(), String> {
        if self.card_id.is_empty() || self.card_id.len() > 128 {
            return Err("card id must be 1-128 bytes".into());
        }
        if self.agent.len() > 64 || self.origin.len() > 256 {
            return Err("agent or origin too long".into());
        }
        match &self.answer {
            Some(Answer::Rating(r)) if !(1..=5).contains(r) => {
                return Err(format!("rating {r} is outside 1-5"));
            }
            Some(Answer::Text(t) | Answer::Choice(t)) if t.len() > MAX_TEXT_LEN => {
                return Err(format!("answer longer than {MAX_TEXT_LEN} bytes"));
            }
            None if self.status == Status::Answered => {
                return Err("an answered response needs an answer".into());
            }
            _ => {}
        }
        let excerpt = self.context.prompt_excerpt.as_deref().unwrap_or("");
        if excerpt.len() > MAX_TEXT_LEN || self.context.topics.len() > 64 {
            return Err("context too large".into());
        }
        Ok(())
    }
}

/// A stored response as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Its id.
    pub id: ResponseId,
    /// When it was last written, by whom (the last-write-wins order).
    pub updated: Hlc,
    /// What it holds.
    pub content: Content,
    /// Whether the record holds concurrent values (see `Vault::conflicts`).
    pub conflicted: bool,
}
