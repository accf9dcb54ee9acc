//! Which card comes next, scenario by scenario.

use selfos_training::{
    CHANGED, STILL_TRUE,
    memory::{DAY_MS, retrievability},
};
use selfos_vault::CardKind;

use crate::support::{HOUR, History, MIN, NOW, ctx, ids, scheduler};

#[test]
fn a_fresh_agent_gets_intent_right_after_sending_then_preferences() {
    let s = scheduler();
    let mut c = ctx("chatgpt", NOW, &[]);
    c.elapsed_ms = 0;
    assert_eq!(s.next(&c).unwrap().card.kind, CardKind::Intent);
    c.elapsed_ms = 10_000;
    let pick = s.next(&c).unwrap();
    assert_eq!(pick.card.kind, CardKind::Preference, "{pick:?}");
    // No earlier answer: nothing to rate.
    assert!(
        s.candidates(&c)
            .iter()
            .all(|p| p.card.kind != CardKind::Rating)
    );
}

#[test]
fn it_moves_on_once_every_preference_is_answered() {
    let s = scheduler();
    let old = NOW - 2 * DAY_MS;
    let mut h = History::new();
    h.all_preferences("chatgpt", old);
    for (i, id) in [
        "intent.goal",
        "intent.depth",
        "intent.shape",
        "intent.include",
        "intent.audience",
    ]
    .into_iter()
    .enumerate()
    {
        h.choice("chatgpt", id, "x", old + i as u64);
    }
    h.rate("chatgpt", "rating.overall", 4, old + HOUR);
    let history = h.build();

    let done = s.next(&ctx("chatgpt", NOW, &history)).unwrap();
    assert!(
        !matches!(done.card.kind, CardKind::Preference | CardKind::Reconfirm),
        "{done:?}"
    );
    // Claude has its own preferences: none answered yet.
    let fresh = s.next(&ctx("claude", NOW, &history)).unwrap();
    assert_eq!(fresh.card.kind, CardKind::Preference, "{fresh:?}");
    // Only Claude is asked about artifacts.
    let claude = s.candidates(&ctx("claude", NOW, &history));
    assert!(ids(&claude).contains(&"pref.artifacts"));
    assert!(!ids(&s.candidates(&ctx("chatgpt", NOW, &history))).contains(&"pref.artifacts"));
}

#[test]
fn preference_probes_cover_unanswered_dimensions_first() {
    let s = scheduler();
    let mut h = History::new();
    h.choice("chatgpt", "pref.length", "A few lines", NOW - DAY_MS)
        .choice("chatgpt", "pref.tone", "Blunt", NOW - DAY_MS)
        .rate("chatgpt", "rating.overall", 5, NOW - DAY_MS + 1);
    let history = h.build();
    for seed in 0..32 {
        let mut c = ctx("chatgpt", NOW, &history);
        c.seed = seed;
        let pick = s.next(&c).unwrap();
        assert_eq!(pick.card.kind, CardKind::Preference);
        assert!(!["pref.length", "pref.tone"].contains(&pick.card.id));
    }
}

#[test]
fn an_unrated_answer_asks_for_a_rating() {
    let s = scheduler();
    let mut h = History::new();
    h.choice("chatgpt", "intent.goal", "Learn it", NOW - 5 * MIN);
    let history = h.build();
    let pick = s.next(&ctx("chatgpt", NOW, &history)).unwrap();
    assert_eq!(pick.card.kind, CardKind::Rating, "{pick:?}");
    assert!(pick.reason.contains("no rating"));

    h.rate("chatgpt", "rating.overall", 3, NOW - MIN);
    let history = h.build();
    let pick = s.next(&ctx("chatgpt", NOW, &history)).unwrap();
    assert_ne!(pick.card.kind, CardKind::Rating, "{pick:?}");
    // The AI failed last time: nothing to rate.
    h.push(
        "chatgpt",
        "intent.depth",
        selfos_vault::Status::Retry,
        None,
        None,
        NOW - MIN / 2,
    );
    let history = h.build();
    let c = scheduler().candidates(&ctx("chatgpt", NOW, &history));
    assert!(c.iter().all(|p| p.card.kind != CardKind::Rating));
    // Another agent's history does not count.
    let other = s.next(&ctx("claude", NOW, &history)).unwrap();
    assert_ne!(other.card.kind, CardKind::Rating);
}

#[test]
fn picks_fit_the_wait() {
    let s = scheduler();
    let topics = vec!["lifetimes".to_owned()];
    for wait in (0..=25_000).step_by(500) {
        let mut c = ctx("chatgpt", NOW, &[]);
        c.expected_wait_ms = wait;
        c.topics = &topics;
        match s.next(&c) {
            Some(p) => assert!(u64::from(p.card.est_seconds) * 1000 <= wait),
            // With no history there is nothing to rate, and the shortest other cards take 4 s.
            None => assert!(wait < 4_000, "nothing for {wait} ms"),
        }
    }
}

#[test]
fn same_inputs_same_pick_and_seeds_break_ties() {
    let s = scheduler();
    let mut c = ctx("chatgpt", NOW, &[]);
    c.elapsed_ms = 0;
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..64 {
        c.seed = seed;
        let a = s.next(&c).unwrap();
        assert_eq!(Some(&a), s.next(&c).as_ref());
        assert_eq!(a.card.kind, CardKind::Intent);
        seen.insert(a.card.id);
    }
    assert!(seen.len() > 1, "every seed picked {seen:?}");
}

#[test]
fn reconfirmation_comes_once_a_preference_is_stale_and_not_before() {
    let s = scheduler();
    let t0 = NOW;
    let mut h = History::new();
    h.choice("chatgpt", "pref.length", "A few lines", t0);
    let history = h.build();

    let at = |days: f64| t0 + (days * DAY_MS as f64) as u64;
    let reconfirms = |now| {
        s.candidates(&ctx("chatgpt", now, &history))
            .into_iter()
            .filter(|p| p.card.kind == CardKind::Reconfirm)
            .collect::<Vec<_>>()
    };
    for days in [0.0, 1.0, 10.0, 29.0, 29.9] {
        assert!(reconfirms(at(days)).is_empty(), "day {days}");
    }
    let stale = reconfirms(at(31.0));
    assert_eq!(ids(&stale), ["reconfirm.length"]);
    let due = stale[0].due.unwrap();
    assert!(due.retrievability < 0.9);
    assert_eq!(due.due_ms, at(30.0));
    assert_eq!(
        stale[0].prompt(),
        "You wanted answers of length \"A few lines\". Still true?"
    );
    let pick = s.next(&ctx("chatgpt", at(31.0), &history)).unwrap();
    assert_eq!(pick.card.id, "reconfirm.length", "{pick:?}");

    // "Still true" grows the preference's stability: not due again for well over 30 days.
    h.choice("chatgpt", "reconfirm.length", STILL_TRUE, at(31.0));
    let history = h.build();
    let again = |now| {
        s.candidates(&ctx("chatgpt", now, &history))
            .into_iter()
            .any(|p| p.card.kind == CardKind::Reconfirm)
    };
    assert!(!again(at(31.0 + 30.0)));
    assert!(again(at(31.0 + 365.0)));

    // "Changed" drops it: the probe is asked again instead.
    h.choice("chatgpt", "reconfirm.length", CHANGED, at(400.0));
    let history = h.build();
    let c = s.candidates(&ctx("chatgpt", at(401.0), &history));
    assert!(
        c.iter()
            .any(|p| p.card.id == "pref.length" && p.score == 0.8)
    );
}

#[test]
fn recall_is_spaced_by_stability() {
    let s = scheduler();
    let topics = vec!["Borrow checker".to_owned()];
    let mut c = ctx("chatgpt", NOW, &[]);
    c.topics = &topics;
    let new = s.candidates(&c);
    let first = new
        .iter()
        .find(|p| p.card.kind == CardKind::Recall)
        .unwrap();
    assert_eq!(first.concept.as_deref(), Some("Borrow checker"));
    assert!(first.due.is_none());
    assert_eq!(
        first.prompt(),
        "Could you explain Borrow checker to a friend right now?"
    );

    // Recalled easily now: easy first stability is 5.8 days.
    let mut h = History::new();
    h.recall("chatgpt", "borrow checker", 5, NOW);
    let history = h.build();
    let recall_at = |now, topics: &[String]| {
        let mut c = ctx("chatgpt", now, &history);
        c.topics = topics;
        s.candidates(&c)
            .into_iter()
            .filter(|p| p.card.kind == CardKind::Recall)
            .collect::<Vec<_>>()
    };
    assert!(recall_at(NOW + DAY_MS, &topics).is_empty());
    assert!(recall_at(NOW + 5 * DAY_MS, &topics).is_empty());
    // Due after 5.8 days, even when the caller no longer lists the topic.
    let due = recall_at(NOW + 6 * DAY_MS, &[]);
    assert!(!due.is_empty());
    assert!(
        due.iter()
            .all(|p| p.concept.as_deref() == Some("borrow checker"))
    );
    assert!(due[0].due.unwrap().retrievability < 0.9);

    // A failed recall comes back much sooner than an easy one.
    let mut h2 = History::new();
    h2.recall("chatgpt", "borrow checker", 1, NOW);
    let history2 = h2.build();
    let mut c2 = ctx("chatgpt", NOW + DAY_MS, &history2);
    c2.topics = &topics;
    assert!(
        s.candidates(&c2)
            .iter()
            .any(|p| p.card.kind == CardKind::Recall)
    );
}

#[test]
fn weak_topics_raise_recall_priority() {
    let s = scheduler();
    let topics = vec![
        "closures".to_owned(),
        "traits".to_owned(),
        "macros".to_owned(),
    ];
    let weak = vec!["macros".to_owned(), "traits".to_owned()];
    let mut c = ctx("chatgpt", NOW, &[]);
    c.topics = &topics;
    c.weak_topics = &weak;
    let order: Vec<String> = s
        .candidates(&c)
        .into_iter()
        .filter(|p| p.card.id == "recall.explain")
        .filter_map(|p| p.concept)
        .collect();
    assert_eq!(order, ["macros", "traits", "closures"]);
}

#[test]
fn fsrs_retrievability_anchors() {
    for s in [0.5, 2.4, 30.0, 400.0] {
        assert!((retrievability(s, s) - 0.9).abs() < 1e-9);
        let mut last = 1.0;
        for t in 1..200 {
            let r = retrievability(t as f64 * s / 20.0, s);
            assert!(r < last);
            last = r;
        }
    }
}

/// A history kept from a vault's change feed (local answers, older ones merged from another
/// device, an edit, a delete) picks exactly as the vault's whole listing does.
#[test]
fn a_history_kept_from_the_change_feed_picks_as_the_listing() {
    use selfos_testkit::{ns, replicas};
    use selfos_vault::{Answer, Cursor};

    let s = scheduler();
    let (mut kept, mut cursor) = (s.history(), Cursor::default());
    let [mut laptop, mut phone]: [_; 2] = replicas(2).try_into().unwrap();
    let mut catch_up = |vault: &mut selfos_vault::Vault<_>, kept: &mut selfos_training::History| {
        let changes = vault.changed_since(&cursor);
        kept.apply(&changes);
        cursor = changes.cursor;
    };
    let mut h = History::new();
    h.choice("chatgpt", "pref.length", "A few lines", NOW - 3 * DAY_MS)
        .choice("chatgpt", "intent.goal", "Learn it", NOW - 2 * HOUR)
        .rate("chatgpt", "rating.overall", 4, NOW - HOUR)
        .recall("chatgpt", "ownership", 3, NOW - 40 * DAY_MS);
    let mut ids = Vec::new();
    for r in h.build() {
        ids.push(laptop.record(&ns("chatgpt"), r.content, NOW).unwrap());
        catch_up(&mut laptop, &mut kept);
    }
    let mut older = History::new();
    older
        .choice("chatgpt", "pref.tone", "Blunt", NOW - 50 * DAY_MS)
        .recall("claude", "Ownership", 4, NOW - 45 * DAY_MS);
    for r in older.build() {
        let agent = r.content.agent.clone();
        phone.record(&ns(&agent), r.content, NOW).unwrap();
    }
    laptop.merge_from(&mut phone, NOW).unwrap();
    catch_up(&mut laptop, &mut kept);
    laptop
        .edit(&ids[0], Some(Answer::Choice("Long".into())), None, NOW)
        .unwrap();
    laptop.delete(&ids[2], NOW).unwrap();
    catch_up(&mut laptop, &mut kept);

    let listing = laptop.list(None).responses;
    assert_eq!(kept.len(), listing.len());
    let topics = vec!["ownership".to_owned(), "traits".to_owned()];
    for agent in ["chatgpt", "claude"] {
        let mut c = ctx(agent, NOW, &listing);
        c.topics = &topics;
        let whole = s.candidates(&c);
        assert!(!whole.is_empty());
        assert_eq!(s.candidates_in(&kept, &c), whole, "{agent}");
    }
}
