//! Every field of a response is bounded: a local write at each limit is accepted, one over it is
//! refused with an error naming the field and the limit. (Values from peers:
//! `vault::records::tests` in the crate, which writes without checking as a peer could.)

use selfos_vault::{
    Answer, Content, ContentError, ContentField, MAX_AGENT_LEN, MAX_CARD_ID_LEN, MAX_ORIGIN_LEN,
    MAX_TEXT_LEN, MAX_TIME_MS, MAX_TOPIC_LEN, MAX_TOPICS, MemoryStore, Vault, WriteError,
};

use crate::support::{T0, content, kdf, ns, pass};

/// A content changed by `set` to hold `n` bytes, or entries, or ms, in one field.
type Setter = fn(&mut Content, usize);

/// [`MAX_TIME_MS`] as a count (the tests run on 64-bit hosts).
const MAX_TIME: usize = MAX_TIME_MS as usize;

fn text(n: usize) -> String {
    "é".repeat(n / 2) + &"x".repeat(n % 2)
}

/// Each bounded field: how to fill it to `n`, its limit, and the error one over it gives.
fn bounded() -> Vec<(Setter, usize, ContentError)> {
    let too_long = |field, max| ContentError::TooLong { field, max };
    vec![
        (
            |c, n| c.card_id = text(n),
            MAX_CARD_ID_LEN,
            too_long(ContentField::CardId, MAX_CARD_ID_LEN),
        ),
        (
            |c, n| c.agent = text(n),
            MAX_AGENT_LEN,
            too_long(ContentField::Agent, MAX_AGENT_LEN),
        ),
        (
            |c, n| c.origin = text(n),
            MAX_ORIGIN_LEN,
            too_long(ContentField::Origin, MAX_ORIGIN_LEN),
        ),
        (
            |c, n| c.answer = Some(Answer::Text(text(n))),
            MAX_TEXT_LEN,
            too_long(ContentField::Answer, MAX_TEXT_LEN),
        ),
        (
            |c, n| c.answer = Some(Answer::Choice(text(n))),
            MAX_TEXT_LEN,
            too_long(ContentField::Answer, MAX_TEXT_LEN),
        ),
        (
            |c, n| c.context.prompt_excerpt = Some(text(n)),
            MAX_TEXT_LEN,
            too_long(ContentField::PromptExcerpt, MAX_TEXT_LEN),
        ),
        (
            |c, n| c.context.topics = vec!["rust".into(); n],
            MAX_TOPICS,
            ContentError::TooMany {
                field: ContentField::Topics,
                max: MAX_TOPICS,
            },
        ),
        (
            |c, n| c.context.topics = vec!["rust".into(), "ok".into(), text(n)],
            MAX_TOPIC_LEN,
            too_long(ContentField::Topic(2), MAX_TOPIC_LEN),
        ),
        (
            |c, n| c.created_ms = n as u64,
            MAX_TIME,
            ContentError::TooLarge {
                field: ContentField::CreatedMs,
                max: MAX_TIME_MS,
            },
        ),
        (
            |c, n| c.wait_ms = n as u64,
            MAX_TIME,
            ContentError::TooLarge {
                field: ContentField::WaitMs,
                max: MAX_TIME_MS,
            },
        ),
    ]
}

#[test]
fn each_field_is_accepted_at_its_limit_and_refused_over_it() {
    let mut v = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
    let chatgpt = ns("chatgpt");
    for (set, limit, expected) in bounded() {
        let mut at = content("chatgpt", "fine", T0);
        set(&mut at, limit);
        let id = v.record(&chatgpt, at.clone(), T0).expect("at the limit");
        assert_eq!(v.get(&id).expect("read").map(|r| r.content), Some(at));

        let mut over = content("chatgpt", "fine", T0);
        set(&mut over, limit + 1);
        let before = v.store().clone();
        let err = v.record(&chatgpt, over, T0).expect_err("over the limit");
        assert!(
            matches!(&err, WriteError::Invalid(e) if *e == expected),
            "{err}, expected {expected}"
        );
        assert_eq!(v.store(), &before, "a refused write stored something");
    }
}

#[test]
fn errors_name_the_field_and_the_limit() {
    let shown: Vec<String> = bounded()
        .into_iter()
        .map(|(_, _, e)| e.to_string())
        .collect();
    assert_eq!(shown[0], "card_id is longer than 128 bytes");
    assert_eq!(
        shown[5],
        "context.prompt_excerpt is longer than 16384 bytes"
    );
    assert_eq!(shown[6], "context.topics holds more than 64 entries");
    assert_eq!(shown[7], "context.topics[2] is longer than 256 bytes");
    assert_eq!(shown[8], "created_ms is over 253402300799999 ms");
    let mut empty = content("chatgpt", "fine", T0);
    empty.card_id.clear();
    assert_eq!(
        empty.validate(),
        Err(ContentError::Empty(ContentField::CardId))
    );
}

/// The case: eight topics of 1 MB each, each under the old count limit.
#[test]
fn eight_megabyte_topics_are_refused_by_record_edit_and_import() {
    let mut v = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
    let chatgpt = ns("chatgpt");
    let mut big = content("chatgpt", "fine", T0);
    big.context.topics = vec!["t".repeat(1 << 20); 8];
    let expected = ContentError::TooLong {
        field: ContentField::Topic(0),
        max: MAX_TOPIC_LEN,
    };
    let err = v.record(&chatgpt, big.clone(), T0).expect_err("refused");
    assert!(
        matches!(&err, WriteError::Invalid(e) if *e == expected),
        "{err}"
    );

    let id = v
        .record(&chatgpt, content("chatgpt", "fine", T0), T0)
        .expect("record");
    let long = Answer::Text("x".repeat(MAX_TEXT_LEN + 1));
    let err = v.edit(&id, Some(long), None, T0).expect_err("refused");
    assert!(matches!(err, WriteError::Invalid(_)), "{err}");

    let mut export = v.export();
    export.responses[0].id = format!("chatgpt/{}", "ab".repeat(16));
    export.responses[0].content = big;
    let err = v.import(&export, T0).expect_err("refused");
    assert!(
        matches!(&err, WriteError::InvalidImport { source, .. }
            if matches!(**source, WriteError::Invalid(e) if e == expected)),
        "{err}"
    );
}
