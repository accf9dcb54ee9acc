//! The built-in card catalog: every micro-training card SelfOS can show, versioned.
//!
//! Card ids are stable: answers in the vault refer to them by id, so a card's id never changes
//! meaning. Rewording a prompt or adding a card bumps [`CATALOG_VERSION`]; removing a card or
//! changing what its answers mean needs a new id.

use selfos_vault::CardKind;

/// The catalog's version. Bumped whenever a card is added, reworded or retired.
pub const CATALOG_VERSION: u32 = 1;

/// The slot in a recall prompt that the scheduler fills with a concept.
pub const CONCEPT_SLOT: &str = "{concept}";

/// The slot in a re-confirmation prompt that the scheduler fills with the earlier answer.
pub const ANSWER_SLOT: &str = "{answer}";

/// The re-confirmation choice that keeps a preference.
pub const STILL_TRUE: &str = "Still true";

/// The re-confirmation choice that drops a preference (a text answer replaces it instead).
pub const CHANGED: &str = "Changed";

/// How a card is answered. Serialized with a `type` tag (`text`, `choice`, `rating`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnswerSpec {
    /// Free text, answered as [`selfos_vault::Answer::Text`].
    Text {
        /// Greyed-out hint shown in the empty field.
        placeholder: &'static str,
    },
    /// One of a few choices, answered as [`selfos_vault::Answer::Choice`] (the option's text),
    /// or as [`selfos_vault::Answer::Text`] when `allow_text` is set and the user types instead.
    Choice {
        /// The choices, in display order.
        options: &'static [&'static str],
        /// Whether a free-text answer is offered too.
        allow_text: bool,
    },
    /// A rating from 1 to 5, answered as [`selfos_vault::Answer::Rating`].
    Rating {
        /// The label under 1.
        low: &'static str,
        /// The label under 5.
        high: &'static str,
    },
}

/// One micro-training card. Every card is one question, answerable in one or two actions, and
/// skippable with one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Card {
    /// Stable id, `kind.name`, e.g. `pref.length`. Stored with every answer.
    pub id: &'static str,
    /// What kind of card this is.
    pub kind: CardKind,
    /// The question. Recall prompts contain [`CONCEPT_SLOT`]; re-confirmation prompts contain
    /// [`ANSWER_SLOT`].
    pub prompt: &'static str,
    /// How it is answered.
    pub answer: AnswerSpec,
    /// The preference dimension a preference or re-confirmation card is about.
    pub dimension: Option<&'static str>,
    /// How long answering takes, in seconds.
    pub est_seconds: u8,
    /// The agents this card makes sense for; `None` means any agent.
    pub agents: Option<&'static [&'static str]>,
}

impl Card {
    /// Whether the card may be shown while waiting for `agent` (compared ASCII-case-insensitively).
    pub fn fits_agent(&self, agent: &str) -> bool {
        match self.agents {
            None => true,
            Some(list) => list.iter().any(|a| a.eq_ignore_ascii_case(agent)),
        }
    }
}

/// The built-in catalog, in a fixed order.
pub fn catalog() -> &'static [Card] {
    CARDS
}

/// The catalog card with this id.
pub fn card(id: &str) -> Option<&'static Card> {
    CARDS.iter().find(|c| c.id == id)
}

/// Every preference dimension the catalog probes, in catalog order.
pub fn dimensions() -> impl Iterator<Item = &'static str> {
    CARDS
        .iter()
        .filter(|c| c.kind == CardKind::Preference)
        .filter_map(|c| c.dimension)
}

const fn intent(id: &'static str, prompt: &'static str, answer: AnswerSpec, est: u8) -> Card {
    Card {
        id,
        kind: CardKind::Intent,
        prompt,
        answer,
        dimension: None,
        est_seconds: est,
        agents: None,
    }
}

const fn rating(
    id: &'static str,
    prompt: &'static str,
    low: &'static str,
    high: &'static str,
) -> Card {
    Card {
        id,
        kind: CardKind::Rating,
        prompt,
        answer: AnswerSpec::Rating { low, high },
        dimension: None,
        est_seconds: 3,
        agents: None,
    }
}

const fn pref(
    dimension: &'static str,
    id: &'static str,
    prompt: &'static str,
    options: &'static [&'static str],
    allow_text: bool,
    agents: Option<&'static [&'static str]>,
) -> Card {
    Card {
        id,
        kind: CardKind::Preference,
        prompt,
        answer: AnswerSpec::Choice {
            options,
            allow_text,
        },
        dimension: Some(dimension),
        est_seconds: if allow_text { 8 } else { 5 },
        agents,
    }
}

const RECONFIRM_OPTIONS: &[&str] = &[STILL_TRUE, CHANGED];

const fn reconfirm(
    dimension: &'static str,
    id: &'static str,
    prompt: &'static str,
    agents: Option<&'static [&'static str]>,
) -> Card {
    Card {
        id,
        kind: CardKind::Reconfirm,
        prompt,
        answer: AnswerSpec::Choice {
            options: RECONFIRM_OPTIONS,
            allow_text: true,
        },
        dimension: Some(dimension),
        est_seconds: 4,
        agents,
    }
}

const fn recall(
    id: &'static str,
    prompt: &'static str,
    low: &'static str,
    high: &'static str,
) -> Card {
    Card {
        id,
        kind: CardKind::Recall,
        prompt,
        answer: AnswerSpec::Rating { low, high },
        dimension: None,
        est_seconds: 7,
        agents: None,
    }
}

const CLAUDE: Option<&[&str]> = Some(&["claude"]);

static CARDS: &[Card] = &[
    // Intent: asked right after the prompt is sent.
    intent(
        "intent.include",
        "What should this answer include?",
        AnswerSpec::Choice {
            options: &["Steps", "An example", "Sources", "Just the answer"],
            allow_text: true,
        },
        6,
    ),
    intent(
        "intent.goal",
        "What is this answer for?",
        AnswerSpec::Choice {
            options: &["Learn it", "Decide", "Get it done", "Explore"],
            allow_text: true,
        },
        5,
    ),
    intent(
        "intent.depth",
        "How deep should this answer go?",
        AnswerSpec::Choice {
            options: &["Quick take", "Solid overview", "Deep dive"],
            allow_text: false,
        },
        4,
    ),
    intent(
        "intent.shape",
        "Best shape for this answer?",
        AnswerSpec::Choice {
            options: &["Prose", "Bullets", "Table", "Code"],
            allow_text: false,
        },
        4,
    ),
    intent(
        "intent.audience",
        "Who is this answer for?",
        AnswerSpec::Choice {
            options: &["Just me", "My team", "A beginner", "An expert"],
            allow_text: true,
        },
        5,
    ),
    intent(
        "intent.success",
        "What would make this answer a win?",
        AnswerSpec::Text {
            placeholder: "e.g. a command I can paste",
        },
        12,
    ),
    intent(
        "intent.avoid",
        "Anything this answer should avoid?",
        AnswerSpec::Text {
            placeholder: "e.g. jargon, long intros",
        },
        10,
    ),
    // Rating of the last answer: feeds the per-agent alignment metrics.
    rating(
        "rating.overall",
        "How good was the last answer?",
        "Useless",
        "Excellent",
    ),
    rating(
        "rating.accuracy",
        "How accurate was the last answer?",
        "Wrong",
        "Spot on",
    ),
    rating(
        "rating.followed",
        "Did the last answer do what you asked?",
        "Not at all",
        "Exactly",
    ),
    rating(
        "rating.clarity",
        "How clear was the last answer?",
        "Confusing",
        "Crystal clear",
    ),
    rating(
        "rating.length",
        "Was the last answer the right length?",
        "Way off",
        "Just right",
    ),
    // Preference probes: the dimensions people put in custom instructions.
    pref(
        "length",
        "pref.length",
        "How long should answers usually be?",
        &["A few lines", "A short page", "As long as needed"],
        false,
        None,
    ),
    pref(
        "tone",
        "pref.tone",
        "Which tone suits you best?",
        &["Friendly", "Neutral", "Formal", "Blunt"],
        false,
        None,
    ),
    pref(
        "format",
        "pref.format",
        "How should answers be laid out?",
        &["Flowing prose", "Headings and bullets", "Whatever fits"],
        false,
        None,
    ),
    pref(
        "expertise",
        "pref.expertise",
        "Explain things to you as...",
        &["A newcomer", "A practitioner", "An expert"],
        false,
        None,
    ),
    pref(
        "language",
        "pref.language",
        "Which language should answers use?",
        &["Same as my message", "English", "Ask me"],
        true,
        None,
    ),
    pref(
        "code_style",
        "pref.code_style",
        "When answers contain code, you want...",
        &[
            "Minimal snippets",
            "Complete runnable code",
            "Code with comments",
        ],
        false,
        None,
    ),
    pref(
        "citations",
        "pref.citations",
        "Should answers cite sources?",
        &["Always", "For facts and numbers", "Only if I ask"],
        false,
        None,
    ),
    pref(
        "examples",
        "pref.examples",
        "Do examples help you?",
        &["Lead with one", "One at the end", "Skip them"],
        false,
        None,
    ),
    pref(
        "follow_ups",
        "pref.follow_ups",
        "Should answers end with follow-up questions?",
        &["Yes, suggest next steps", "Only if unclear", "Never"],
        false,
        None,
    ),
    pref(
        "humour",
        "pref.humour",
        "A little humour in answers?",
        &["Welcome", "Rarely", "None"],
        false,
        None,
    ),
    pref(
        "directness",
        "pref.directness",
        "When you're wrong, the AI should...",
        &["Say so plainly", "Point it out gently", "Ask a question"],
        false,
        None,
    ),
    pref(
        "reasoning",
        "pref.reasoning",
        "Show the reasoning behind answers?",
        &["Step by step", "Brief why", "Just the result"],
        false,
        None,
    ),
    pref(
        "caveats",
        "pref.caveats",
        "How many caveats and disclaimers?",
        &["Only critical ones", "Some context", "Be thorough"],
        false,
        None,
    ),
    pref(
        "summary_first",
        "pref.summary_first",
        "Start long answers with a summary?",
        &["Yes, TL;DR first", "No, build up to it"],
        false,
        None,
    ),
    pref(
        "artifacts",
        "pref.artifacts",
        "Put long code and documents in an artifact?",
        &["Yes", "Only when long", "Keep it in the chat"],
        false,
        CLAUDE,
    ),
    // Re-confirmation of a stale preference: "still true?"
    reconfirm(
        "length",
        "reconfirm.length",
        "You wanted answers of length \"{answer}\". Still true?",
        None,
    ),
    reconfirm(
        "tone",
        "reconfirm.tone",
        "You preferred a \"{answer}\" tone. Still true?",
        None,
    ),
    reconfirm(
        "format",
        "reconfirm.format",
        "You wanted answers laid out as \"{answer}\". Still true?",
        None,
    ),
    reconfirm(
        "expertise",
        "reconfirm.expertise",
        "You wanted explanations for \"{answer}\". Still true?",
        None,
    ),
    reconfirm(
        "language",
        "reconfirm.language",
        "Answer language: \"{answer}\". Still true?",
        None,
    ),
    reconfirm(
        "code_style",
        "reconfirm.code_style",
        "For code you wanted \"{answer}\". Still true?",
        None,
    ),
    reconfirm(
        "citations",
        "reconfirm.citations",
        "Sources cited: \"{answer}\". Still true?",
        None,
    ),
    reconfirm(
        "examples",
        "reconfirm.examples",
        "Examples: \"{answer}\". Still true?",
        None,
    ),
    reconfirm(
        "follow_ups",
        "reconfirm.follow_ups",
        "Follow-up questions: \"{answer}\". Still true?",
        None,
    ),
    reconfirm(
        "humour",
        "reconfirm.humour",
        "Humour in answers: \"{answer}\". Still true?",
        None,
    ),
    reconfirm(
        "directness",
        "reconfirm.directness",
        "When you're wrong: \"{answer}\". Still true?",
        None,
    ),
    reconfirm(
        "reasoning",
        "reconfirm.reasoning",
        "Reasoning shown: \"{answer}\". Still true?",
        None,
    ),
    reconfirm(
        "caveats",
        "reconfirm.caveats",
        "Caveats: \"{answer}\". Still true?",
        None,
    ),
    reconfirm(
        "summary_first",
        "reconfirm.summary_first",
        "Summary first: \"{answer}\". Still true?",
        None,
    ),
    reconfirm(
        "artifacts",
        "reconfirm.artifacts",
        "Artifacts for long output: \"{answer}\". Still true?",
        CLAUDE,
    ),
    // Recall: spaced repetition of a concept the user met. Self-graded 1-5.
    recall(
        "recall.explain",
        "Could you explain {concept} to a friend right now?",
        "Not at all",
        "Easily",
    ),
    recall(
        "recall.define",
        "How well do you remember what {concept} means?",
        "Forgot",
        "Perfectly",
    ),
    recall(
        "recall.example",
        "Can you think of a real example of {concept}?",
        "Nothing",
        "Several",
    ),
    recall(
        "recall.apply",
        "Could you use {concept} without looking it up?",
        "No way",
        "Confidently",
    ),
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const KINDS: [CardKind; 5] = [
        CardKind::Intent,
        CardKind::Rating,
        CardKind::Preference,
        CardKind::Recall,
        CardKind::Reconfirm,
    ];

    #[test]
    fn ids_are_unique_and_prefixed_by_kind() {
        let mut seen = HashSet::new();
        for c in catalog() {
            assert!(seen.insert(c.id), "duplicate id {}", c.id);
            let prefix = match c.kind {
                CardKind::Intent => "intent.",
                CardKind::Rating => "rating.",
                CardKind::Preference => "pref.",
                CardKind::Recall => "recall.",
                CardKind::Reconfirm => "reconfirm.",
            };
            assert!(
                c.id.starts_with(prefix),
                "{} should start with {prefix}",
                c.id
            );
        }
    }

    #[test]
    fn at_least_forty_cards_and_every_kind() {
        assert!(catalog().len() >= 40, "{} cards", catalog().len());
        for kind in KINDS {
            assert!(catalog().iter().any(|c| c.kind == kind), "{kind:?} missing");
        }
    }

    #[test]
    fn preference_cards_have_a_dimension_and_two_to_four_options() {
        let mut dims = HashSet::new();
        for c in catalog().iter().filter(|c| c.kind == CardKind::Preference) {
            let dim = c.dimension.expect("preference without dimension");
            assert!(dims.insert(dim), "dimension {dim} probed twice");
            match c.answer {
                AnswerSpec::Choice { options, .. } => {
                    assert!((2..=4).contains(&options.len()), "{}", c.id);
                }
                other => panic!("{} answers with {other:?}", c.id),
            }
        }
        assert!(dims.len() >= 12);
    }

    #[test]
    fn every_dimension_has_one_reconfirm_card_for_the_same_agents() {
        for p in catalog().iter().filter(|c| c.kind == CardKind::Preference) {
            let r: Vec<_> = catalog()
                .iter()
                .filter(|c| c.kind == CardKind::Reconfirm && c.dimension == p.dimension)
                .collect();
            assert_eq!(r.len(), 1, "{}", p.id);
            assert_eq!(r[0].agents, p.agents);
            assert!(r[0].prompt.contains(ANSWER_SLOT));
        }
        for r in catalog().iter().filter(|c| c.kind == CardKind::Reconfirm) {
            assert!(dimensions().any(|d| Some(d) == r.dimension), "{}", r.id);
        }
    }

    #[test]
    fn recall_and_rating_cards_are_rated() {
        for c in catalog()
            .iter()
            .filter(|c| matches!(c.kind, CardKind::Recall | CardKind::Rating))
        {
            assert!(matches!(c.answer, AnswerSpec::Rating { .. }), "{}", c.id);
            assert_eq!(c.kind == CardKind::Recall, c.prompt.contains(CONCEPT_SLOT));
        }
    }

    #[test]
    fn prompts_are_short_and_cards_fit_a_short_wait() {
        for c in catalog() {
            assert!(c.prompt.chars().count() <= 90, "{} prompt too long", c.id);
            assert!(!c.prompt.is_empty());
            assert!((3..=20).contains(&c.est_seconds), "{}", c.id);
            if let AnswerSpec::Choice { options, .. } = c.answer {
                assert!(options.iter().all(|o| !o.is_empty() && o.len() <= 40));
            }
        }
    }

    #[test]
    fn lookup_and_agent_filter() {
        assert_eq!(
            card("pref.length").map(|c| c.kind),
            Some(CardKind::Preference)
        );
        assert!(card("nope").is_none());
        let artifacts = card("pref.artifacts").unwrap();
        assert!(artifacts.fits_agent("Claude"));
        assert!(!artifacts.fits_agent("chatgpt"));
        assert!(card("pref.tone").unwrap().fits_agent("anything"));
    }
}
