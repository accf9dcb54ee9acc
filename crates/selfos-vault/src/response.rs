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
    /// The AI agent the user was waiting for, as the client names it. It need not equal the
    /// namespace: a namespace is a restricted id (the extension files a user-added site
    /// `chat.example.com` under `chat-example-com`), and `profile` holds answers about any
    /// agent.
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

/// Which limit of [`Content`] a value breaks. The variants name the rule, never the value: a
/// value may be the user's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContentError {
    /// The card id is empty or longer than 128 bytes.
    #[error("card id must be 1-128 bytes")]
    CardId,
    /// The agent name is over 64 bytes or the origin over 256.
    #[error("agent or origin too long")]
    AgentOrOrigin,
    /// A rating outside 1-5.
    #[error("rating {0} is outside 1-5")]
    Rating(u8),
    /// A text or choice answer over [`MAX_TEXT_LEN`] bytes.
    #[error("answer longer than {MAX_TEXT_LEN} bytes")]
    AnswerTooLong,
    /// Status `answered` without an answer.
    #[error("an answered response needs an answer")]
    NoAnswer,
    /// A prompt excerpt over [`MAX_TEXT_LEN`] bytes, or more than 64 topics.
    #[error("context too large")]
    ContextTooLarge,
}

impl Content {
    /// An answered card, with no wait time and no context: set the public fields for more
    /// (`Content { status: Status::Skipped, answer: None, ..Content::answered(..) }` for a
    /// skipped card).
    pub fn answered(
        card_id: impl Into<String>,
        card_kind: CardKind,
        answer: Answer,
        agent: impl Into<String>,
        origin: impl Into<String>,
        created_ms: u64,
    ) -> Self {
        Self {
            card_id: card_id.into(),
            card_kind,
            answer: Some(answer),
            agent: agent.into(),
            origin: origin.into(),
            created_ms,
            wait_ms: 0,
            status: Status::Answered,
            context: Context::default(),
        }
    }

    /// Checks limits and consistency.
    pub fn validate(&self) -> Result<(), ContentError> {
        if self.card_id.is_empty() || self.card_id.len() > 128 {
            return Err(ContentError::CardId);
        }
        if self.agent.len() > 64 || self.origin.len() > 256 {
            return Err(ContentError::AgentOrOrigin);
        }
        match &self.answer {
            Some(Answer::Rating(r)) if !(1..=5).contains(r) => {
                return Err(ContentError::Rating(*r));
            }
            Some(Answer::Text(t) | Answer::Choice(t)) if t.len() > MAX_TEXT_LEN => {
                return Err(ContentError::AnswerTooLong);
            }
            None if self.status == Status::Answered => {
                return Err(ContentError::NoAnswer);
            }
            _ => {}
        }
        let excerpt = self.context.prompt_excerpt.as_deref().unwrap_or("");
        if excerpt.len() > MAX_TEXT_LEN || self.context.topics.len() > 64 {
            return Err(ContentError::ContextTooLarge);
        }
        Ok(())
    }
}

/// Why a content's JSON could not be written or read: the category and the place only.
///
/// serde_json's own message quotes the value it rejects (`invalid type: string "..."`), and
/// that value is the user's decrypted text, so it is dropped here and never reaches an error,
/// a log or JavaScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{category} error at line {line}, column {column}")]
pub struct JsonError {
    /// What kind of error.
    pub category: JsonErrorCategory,
    /// The line, from 1 (0 when not known).
    pub line: usize,
    /// The column, from 1 (0 when not known).
    pub column: usize,
}

/// The kind of a [`JsonError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonErrorCategory {
    /// Not syntactically valid JSON.
    Syntax,
    /// Valid JSON that does not match the schema (a field of the wrong type, say).
    Data,
    /// The input ended too early.
    Eof,
    /// Reading or writing the bytes failed.
    Io,
}

impl std::fmt::Display for JsonErrorCategory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Syntax => "syntax",
            Self::Data => "schema",
            Self::Eof => "end of input",
            Self::Io => "I/O",
        })
    }
}

impl From<serde_json::Error> for JsonError {
    fn from(e: serde_json::Error) -> Self {
        use serde_json::error::Category;
        Self {
            category: match e.classify() {
                Category::Syntax => JsonErrorCategory::Syntax,
                Category::Data => JsonErrorCategory::Data,
                Category::Eof => JsonErrorCategory::Eof,
                Category::Io => JsonErrorCategory::Io,
            },
            line: e.line(),
            column: e.column(),
        }
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
