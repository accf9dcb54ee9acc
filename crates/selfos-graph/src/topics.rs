//! Local topic extraction from opt-in context: no network, no model, deterministic.
//!
//! A response's topics are
//!
//! 1. its explicit `Context.topics`, normalised (lowercased, whitespace collapsed, trimmed, cut
//!    to [`MAX_LABEL_CHARS`] characters); these are always kept;
//! 2. terms extracted from its `prompt_excerpt` and its text answer: the text is lowercased and
//!    split on every character that is not alphanumeric; a token is a *word* when it has at least
//!    three characters, is not all digits and is not in the built-in English stopword list; two
//!    words that are adjacent in the token stream form a *bigram* (`"borrow checker"`).
//!
//! Each extracted term scores its number of occurrences in the response. Words and bigrams are
//! ranked apart, so a short answer's words are not crowded out by its one-off word pairs: the
//! response keeps its `max_terms` best words and its `max_terms / 2` best bigrams, ties broken
//! alphabetically. Whether a term *recurs* is decided across answers when the graph is built: an
//! extracted topic becomes a node only once at least `min_topic_support` answers name it (see
//! [`GraphConfig`](crate::GraphConfig)).

use std::{borrow::Cow, collections::BTreeMap};

/// The longest node label kept, in characters.
pub const MAX_LABEL_CHARS: usize = 64;

/// Common English words that never become topics.
pub const STOPWORDS: &[&str] = &[
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "and",
    "any",
    "are",
    "aren",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "can",
    "could",
    "did",
    "does",
    "doing",
    "don",
    "down",
    "during",
    "each",
    "even",
    "few",
    "for",
    "from",
    "further",
    "get",
    "give",
    "had",
    "has",
    "have",
    "having",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "into",
    "its",
    "itself",
    "just",
    "let",
    "like",
    "make",
    "more",
    "most",
    "much",
    "must",
    "myself",
    "need",
    "nor",
    "not",
    "now",
    "off",
    "once",
    "one",
    "only",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "please",
    "same",
    "she",
    "should",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "too",
    "under",
    "until",
    "use",
    "using",
    "very",
    "want",
    "was",
    "way",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// Lowercases `text` and splits it on every character that is not alphanumeric.
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether a token can be a topic word.
pub fn is_word(token: &str) -> bool {
    token.chars().count() >= 3
        && !token.chars().all(|c| c.is_ascii_digit())
        && STOPWORDS.binary_search(&token).is_err()
}

/// The `max_terms` best terms of the given texts with their scores, best first.
pub fn extract<'a>(
    texts: impl IntoIterator<Item = &'a str>,
    max_terms: usize,
) -> Vec<(String, u32)> {
    let lowered: Vec<String> = texts.into_iter().map(str::to_lowercase).collect();
    let mut score: BTreeMap<Cow<'_, str>, u32> = BTreeMap::new();
    for text in &lowered {
        let mut prev: Option<&str> = None;
        for t in text.split(|c: char| !c.is_alphanumeric()) {
            if t.is_empty() {
                continue;
            }
            if is_word(t) {
                *score.entry(Cow::Borrowed(t)).or_default() += 1;
                if let Some(p) = prev {
                    *score.entry(bigram(text, p, t)).or_default() += 1;
                }
                prev = Some(t);
            } else {
                prev = None;
            }
        }
    }
    let (mut bigrams, mut words): (Vec<_>, Vec<_>) = score
        .into_iter()
        .filter(|(t, _)| t.chars().count() <= MAX_LABEL_CHARS)
        .partition(|(t, _)| t.contains(' '));
    // Stable sorts over alphabetical input: ties stay alphabetical.
    words.sort_by_key(|t| std::cmp::Reverse(t.1));
    words.truncate(max_terms);
    bigrams.sort_by_key(|t| std::cmp::Reverse(t.1));
    bigrams.truncate(max_terms / 2);
    bigrams
        .into_iter()
        .chain(words)
        .map(|(t, s)| (t.into_owned(), s))
        .collect()
}

/// `"p t"`: borrowed from `text` when the two words are separated by one space there.
fn bigram<'t>(text: &'t str, p: &'t str, t: &'t str) -> Cow<'t, str> {
    let start = p.as_ptr() as usize - text.as_ptr() as usize;
    let end = t.as_ptr() as usize - text.as_ptr() as usize + t.len();
    match text.get(start..end) {
        Some(joined)
            if joined.len() == p.len() + 1 + t.len() && joined.as_bytes()[p.len()] == b' ' =>
        {
            Cow::Borrowed(joined)
        }
        _ => Cow::Owned(format!("{p} {t}")),
    }
}

/// Normalises an explicit topic: lowercased, whitespace collapsed, cut to [`MAX_LABEL_CHARS`].
/// `None` when nothing is left. Borrows when the topic is already normal.
pub fn normalize(topic: &str) -> Option<Cow<'_, str>> {
    let normal = !topic.is_empty()
        && topic.len() <= MAX_LABEL_CHARS
        && !topic.starts_with(' ')
        && !topic.ends_with(' ')
        && !topic.contains("  ")
        && topic
            .chars()
            .all(|c| c == ' ' || (!c.is_whitespace() && !c.is_uppercase()));
    if normal {
        return Some(Cow::Borrowed(topic));
    }
    let joined = topic
        .split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ");
    let cut: String = joined.chars().take(MAX_LABEL_CHARS).collect();
    let cut = cut.trim_end().to_owned();
    (!cut.is_empty()).then_some(Cow::Owned(cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_are_sorted_for_binary_search() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn tokenizes_lowercase() {
        assert_eq!(
            tokenize("Rust's Borrow-Checker, 2024!"),
            ["rust", "s", "borrow", "checker", "2024"]
        );
    }

    #[test]
    fn extracts_words_and_bigrams_best_first() {
        let t = extract(
            ["How do I fix the borrow checker? The borrow checker rejects my closure."],
            3,
        );
        assert_eq!(t[0], ("borrow checker".to_owned(), 2));
        assert_eq!(t[1], ("borrow".to_owned(), 2));
        assert_eq!(t[2], ("checker".to_owned(), 2));
    }

    #[test]
    fn short_answers_keep_their_words() {
        let t = extract(["rust borrow checker examples"], 4);
        let words: Vec<&str> = t
            .iter()
            .filter(|(w, _)| !w.contains(' '))
            .map(|(w, _)| w.as_str())
            .collect();
        assert_eq!(words, ["borrow", "checker", "examples", "rust"]);
        assert_eq!(t.len(), 6, "four words and two bigrams: {t:?}");
    }

    #[test]
    fn stopwords_and_short_or_numeric_tokens_are_dropped() {
        let t = extract(["the and of 2024 is ok"], 10);
        assert!(t.is_empty(), "{t:?}");
    }

    #[test]
    fn deterministic_ties_are_alphabetical() {
        let t = extract(["zebra apple mango"], 10);
        let words: Vec<&str> = t
            .iter()
            .filter(|(w, _)| !w.contains(' '))
            .map(|(w, _)| w.as_str())
            .collect();
        assert_eq!(words, ["apple", "mango", "zebra"]);
    }

    #[test]
    fn normalizes_explicit_topics() {
        assert_eq!(
            normalize("  Machine   Learning ").as_deref(),
            Some("machine learning")
        );
        assert!(matches!(
            normalize("machine learning"),
            Some(Cow::Borrowed(_))
        ));
        assert_eq!(normalize("Rust\tasync").as_deref(), Some("rust async"));
        assert_eq!(normalize("   "), None);
        assert_eq!(
            normalize(&"x".repeat(200)).map(|s| s.len()),
            Some(MAX_LABEL_CHARS)
        );
    }
}
