//! The response model: what one micro-training answer records.

use serde::{Deserialize, Serialize};

use crate::{hlc::Hlc, ids::ResponseId};

/// The longest text or choice answer, or prompt excerpt, accepted, in bytes.
pub const MAX_TEXT_LEN: usize = 16 * 1024;
/// The longest card id accepted, in bytes (it must not be empty).
pub const MAX_CARD_ID_LEN: usize = 128;
/// The longest agent name accepted, in bytes.
pub const MAX_AGENT_LEN: usize = 64;
/// The longest origin accepted, in bytes: a site origin fits.
pub const MAX_ORIGIN_LEN: usize = 256;
/// The most topics one response's context holds.
pub const MAX_TOPICS: usize = 64;
/// The longest topic accepted, in bytes: a graph label (64 characters) in any script fits.
pub const MAX_TOPIC_LEN: usize = 256;
/// The latest `created_ms`, and the longest `wait_ms`, accepted: 9999-12-31 23:59:59.999 UTC.
/// Below 2^53, so the value is exact in a JavaScript number, and every date it gives has four
/// digits.
pub const MAX_TIME_MS: u64 = 253_402_300_799_999;

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

/// The content of one response. All of it is encrypted under a key of its own. Every field
/// is bounded (the `MAX_*` constants; [`Content::validate`] checks them, FORMAT.md lists them).
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

/// Which limit of [`Content`] a value breaks. The variants name the field and the rule, never
/// the value: a value may be the user's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContentError {
    /// A field that must hold text is empty (the card id).
    #[error("{0} is empty")]
    Empty(ContentField),
    /// A text field is longer than its limit.
    #[error("{field} is longer than {max} bytes")]
    TooLong {
        /// The field.
        field: ContentField,
        /// Its limit, in bytes.
        max: usize,
    },
    /// A list holds more entries than its limit.
    #[error("{field} holds more than {max} entries")]
    TooMany {
        /// The field.
        field: ContentField,
        /// Its limit.
        max: usize,
    },
    /// A time or duration is over its limit.
    #[error("{field} is over {max} ms")]
    TooLarge {
        /// The field.
        field: ContentField,
        /// Its limit, in ms.
        max: u64,
    },
    /// A rating outside 1-5.
    #[error("answer: rating {0} is outside 1-5")]
    Rating(u8),
    /// Status `answered` without an answer.
    #[error("an answered response needs an answer")]
    NoAnswer,
}

/// A field of [`Content`], as [`ContentError`] names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentField {
    /// `card_id`.
    CardId,
    /// `agent`.
    Agent,
    /// `origin`.
    Origin,
    /// `answer` (text or choice).
    Answer,
    /// `created_ms`.
    CreatedMs,
    /// `wait_ms`.
    WaitMs,
    /// `context.prompt_excerpt`.
    PromptExcerpt,
    /// `context.topics`, the list.
    Topics,
    /// `context.topics[i]`, one topic.
    Topic(usize),
}

impl std::fmt::Display for ContentField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CardId => f.write_str("card_id"),
            Self::Agent => f.write_str("agent"),
            Self::Origin => f.write_str("origin"),
            Self::Answer => f.write_str("answer"),
            Self::CreatedMs => f.write_str("created_ms"),
            Self::WaitMs => f.write_str("wait_ms"),
            Self::PromptExcerpt => f.write_str("context.prompt_excerpt"),
            Self::Topics => f.write_str("context.topics"),
            Self::Topic(i) => write!(f, "context.topics[{i}]"),
        }
    }
}

/// `Err(TooLong)` when `text` is over `max` bytes.
fn at_most(field: ContentField, text: &str, max: usize) -> Result<(), ContentError> {
    if text.len() > max {
        return Err(ContentError::TooLong { field, max });
    }
    Ok(())
}

/// `Err(TooLarge)` when `ms` is over [`MAX_TIME_MS`].
fn in_time(field: ContentField, ms: u64) -> Result<(), ContentError> {
    if ms > MAX_TIME_MS {
        return Err(ContentError::TooLarge {
            field,
            max: MAX_TIME_MS,
        });
    }
    Ok(())
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

    /// Checks every limit (see FORMAT.md) and that an answered card has an answer. The vault
    /// checks it on every write, and again on every value it reads, since a peer's build may not
    /// have.
    pub fn validate(&self) -> Result<(), ContentError> {
        let Self {
            card_id,
            card_kind: _,
            answer,
            agent,
            origin,
            created_ms,
            wait_ms,
            status,
            context,
        } = self;
        if card_id.is_empty() {
            return Err(ContentError::Empty(ContentField::CardId));
        }
        at_most(ContentField::CardId, card_id, MAX_CARD_ID_LEN)?;
        at_most(ContentField::Agent, agent, MAX_AGENT_LEN)?;
        at_most(ContentField::Origin, origin, MAX_ORIGIN_LEN)?;
        match answer {
            Some(Answer::Rating(r)) if !(1..=5).contains(r) => {
                return Err(ContentError::Rating(*r));
            }
            Some(Answer::Text(t) | Answer::Choice(t)) => {
                at_most(ContentField::Answer, t, MAX_TEXT_LEN)?
            }
            None if *status == Status::Answered => return Err(ContentError::NoAnswer),
            _ => {}
        }
        in_time(ContentField::CreatedMs, *created_ms)?;
        in_time(ContentField::WaitMs, *wait_ms)?;
        let Context {
            prompt_excerpt,
            topics,
        } = context;
        if let Some(excerpt) = prompt_excerpt {
            at_most(ContentField::PromptExcerpt, excerpt, MAX_TEXT_LEN)?;
        }
        if topics.len() > MAX_TOPICS {
            return Err(ContentError::TooMany {
                field: ContentField::Topics,
                max: MAX_TOPICS,
            });
        }
        for (i, topic) in topics.iter().enumerate() {
            at_most(ContentField::Topic(i), topic, MAX_TOPIC_LEN)?;
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
