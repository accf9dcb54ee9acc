//! Properties over random histories, clocks, waits and seeds.

use proptest::prelude::*;
use selfos_training::{AnswerSpec, card, catalog, memory::DAY_MS};
use selfos_vault::{Answer, CardKind, Response, Status};

use crate::support::{HOUR, History, NOW, ctx, scheduler};

fn arb_history() -> impl Strategy<Value = (Vec<Response>, u64)> {
    let ids: Vec<&'static str> = catalog().iter().map(|c| c.id).collect();
    let one = (
        prop::sample::select(ids),
        prop::sample::select(vec!["chatgpt", "claude", "gemini"]),
        0u64..(3 * HOUR),
        0u8..3,
        1u8..=5,
        prop::sample::select(vec!["ownership", "traits", "async", "Ownership"]),
    );
    (prop::collection::vec(one, 0..40), 0u64..(40 * DAY_MS)).prop_map(|(items, offset)| {
        let now = NOW + offset;
        let mut h = History::new();
        for (id, agent, ago, status, rating, topic) in items {
            let at = now.saturating_sub(ago);
            let c = card(id).unwrap();
            let status = [Status::Answered, Status::Skipped, Status::Retry][status as usize];
            let answer = match (status, c.answer) {
                (Status::Skipped, _) => None,
                (_, AnswerSpec::Rating { .. }) => Some(Answer::Rating(rating)),
                (_, AnswerSpec::Choice { options, .. }) => Some(Answer::Choice(
                    options[rating as usize % options.len()].into(),
                )),
                (_, AnswerSpec::Text { .. }) => Some(Answer::Text("x".into())),
            };
            let topic = (c.kind == CardKind::Recall).then_some(topic);
            h.push(agent, id, status, answer, topic, at);
        }
        (h.build(), now)
    })
}

proptest! {
    #[test]
    fn never_repeats_inside_the_window(
        (history, now) in arb_history(),
        agent in prop::sample::select(vec!["chatgpt", "claude", "perplexity"]),
        seed in any::<u64>(),
        wait in 0u64..30_000,
        elapsed in 0u64..20_000,
    ) {
        let s = scheduler();
        let topics = vec!["ownership".to_owned(), "async".to_owned(), "lifetimes".to_owned()];
        let weak = vec!["traits".to_owned()];
        let mut c = ctx(agent, now, &history);
        c.seed = seed;
        c.expected_wait_ms = wait;
        c.elapsed_ms = elapsed;
        c.topics = &topics;
        c.weak_topics = &weak;
        let window = s.config().no_repeat_window_ms;
        for pick in s.candidates(&c) {
            prop_assert!(u64::from(pick.card.est_seconds) * 1000 <= wait);
            prop_assert!(pick.card.fits_agent(agent));
            let concept = pick.concept.as_deref().map(str::to_lowercase);
            let repeated = history.iter().any(|r| {
                let same_concept = pick.card.kind != CardKind::Recall
                    || r.content.context.topics.first().map(|t| t.to_lowercase()) == concept;
                r.content.card_id == pick.card.id
                    && same_concept
                    && r.content.created_ms + window > now
            });
            prop_assert!(!repeated, "{} {:?} repeated", pick.card.id, pick.concept);
        }
        let pick = s.next(&c);
        // Intent cards never run out: with no history, anything of 4 s or more gets a card.
        if history.is_empty() && wait >= 4_000 {
            prop_assert!(pick.is_some());
        }
        // Deterministic, whatever order the history comes in.
        let mut reversed = history.clone();
        reversed.reverse();
        let mut c2 = c;
        c2.history = &reversed;
        prop_assert_eq!(pick, s.next(&c2));
    }
}

proptest! {
    /// A history kept up to date one response at a time, in any order, through edits and
    /// deletes, picks exactly as one read whole from the responses it ends with.
    #[test]
    fn an_updated_history_picks_as_one_read_whole(
        (history, now) in arb_history(),
        (extra, _) in arb_history(),
        order in any::<u64>(),
        agent in prop::sample::select(vec!["chatgpt", "Claude", "gemini"]),
        wait in 3_000u64..30_000,
    ) {
        let s = scheduler();
        let mut kept = s.history();
        // The final responses arrive shuffled; `extra` ones (other ids) arrive and are deleted;
        // every third final one first arrives as another version of itself (an edit).
        let mut arrivals: Vec<(usize, bool)> = (0..history.len()).map(|i| (i, i % 3 == 0)).collect();
        let mut state = order;
        for i in (1..arrivals.len()).rev() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            arrivals.swap(i, (state >> 33) as usize % (i + 1));
        }
        for r in &extra {
            let mut r = r.clone();
            r.id.record = selfos_vault::RecordId::from([0xEE; 16]);
            r.id.namespace = selfos_vault::Namespace::new("extra").unwrap();
            kept.insert(&r);
            prop_assert!(kept.remove(&r.id));
        }
        for (i, edited) in arrivals {
            let r = &history[i];
            if edited {
                let mut earlier = r.clone();
                earlier.content.status = Status::Skipped;
                earlier.content.answer = None;
                earlier.content.created_ms = r.content.created_ms.saturating_sub(HOUR);
                kept.insert(&earlier);
            }
            kept.insert(r);
        }
        prop_assert_eq!(kept.len(), history.len());
        let topics = vec!["ownership".to_owned(), "lifetimes".to_owned()];
        let weak = vec!["Traits".to_owned()];
        let mut c = ctx(agent, now, &history);
        c.expected_wait_ms = wait;
        c.topics = &topics;
        c.weak_topics = &weak;
        let whole = s.candidates(&c);
        prop_assert_eq!(&s.candidates_in(&kept, &c), &whole);
        prop_assert_eq!(s.next_in(&kept, &c), s.next(&c));
    }
}
