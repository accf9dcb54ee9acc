//! Integration tests of the public API.

// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use petgraph::graph::{DiGraph, UnGraph};
use proptest::prelude::*;
use selfos_graph::{
    ConfigError, DEFAULT_HALF_LIFE_MS, EMBEDDING_DIM, GraphBuilder, GraphConfig, KnowledgeGraph,
    Metrics, NodeKind, Period, Target, pagerank,
};
use selfos_testkit::{T0, answered, ns, response};
use selfos_vault::{Answer, CardKind, Context, RecordId, Response, ResponseId, Status};

const DAY: u64 = 86_400_000;

/// The record id of answer `n`.
fn record(n: u32) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    bytes
}

fn id(agent: &str, n: u32) -> ResponseId {
    ResponseId {
        namespace: ns(agent),
        record: RecordId::from(record(n)),
    }
}

#[allow(clippy::too_many_arguments)]
fn resp(
    n: u32,
    agent: &str,
    card: &str,
    kind: CardKind,
    answer: Answer,
    t: u64,
    topics: &[&str],
    excerpt: Option<&str>,
) -> Response {
    let mut content = answered(agent, card, kind, answer, t);
    content.context = Context {
        prompt_excerpt: excerpt.map(Into::into),
        topics: topics.iter().map(|t| t.to_string()).collect(),
    };
    response(record(n), content)
}

fn rating(n: u32, agent: &str, r: u8, t: u64, topics: &[&str]) -> Response {
    resp(
        n,
        agent,
        "rating.overall",
        CardKind::Rating,
        Answer::Rating(r),
        t,
        topics,
        None,
    )
}

fn pref(n: u32, agent: &str, dim: &str, value: &str, t: u64) -> Response {
    resp(
        n,
        agent,
        &format!("pref.{dim}"),
        CardKind::Preference,
        Answer::Choice(value.into()),
        t,
        &[],
        None,
    )
}

fn intent(n: u32, agent: &str, text: &str, t: u64, excerpt: &str) -> Response {
    resp(
        n,
        agent,
        "intent.include",
        CardKind::Intent,
        Answer::Text(text.into()),
        t,
        &[],
        Some(excerpt),
    )
}

fn history() -> Vec<Response> {
    vec![
        pref(1, "chatgpt", "length", "concise", T0),
        intent(
            2,
            "chatgpt",
            "a worked example",
            T0 + 10,
            "Why does the borrow checker reject this closure?",
        ),
        rating(3, "chatgpt", 5, T0 + 20, &["rust", "closures"]),
        intent(
            4,
            "claude",
            "cite sources",
            T0 + DAY,
            "Explain the borrow checker and lifetimes",
        ),
        rating(5, "claude", 3, T0 + DAY + 10, &["rust"]),
        pref(6, "claude", "tone", "direct", T0 + 2 * DAY),
        rating(7, "chatgpt", 4, T0 + 2 * DAY, &["rust", "tokio"]),
    ]
}

fn built(batch: &[Response], now: u64) -> KnowledgeGraph {
    let mut b = GraphBuilder::new(GraphConfig::new()).unwrap();
    b.add(batch);
    b.build(now)
}

#[test]
fn realistic_history_has_expected_nodes_and_edges() {
    let g = built(&history(), T0 + 2 * DAY);
    for (kind, label) in [
        (NodeKind::Agent, "chatgpt"),
        (NodeKind::Agent, "claude"),
        (NodeKind::Card, "rating.overall"),
        (NodeKind::Card, "intent.include"),
        (NodeKind::Preference, "length=concise"),
        (NodeKind::Preference, "tone=direct"),
        (NodeKind::Topic, "rust"),
        (NodeKind::Topic, "tokio"),
        // Extracted from two prompt excerpts: recurs, so it is kept.
        (NodeKind::Topic, "borrow checker"),
    ] {
        assert!(g.node(kind, label).is_some(), "missing {kind:?} {label}");
    }
    // Extracted once only: not a topic.
    assert!(g.node(NodeKind::Topic, "lifetimes").is_none());
    let rust = g.index_of(NodeKind::Topic, "rust").unwrap();
    let tokio = g.index_of(NodeKind::Topic, "tokio").unwrap();
    let chatgpt = g.index_of(NodeKind::Agent, "chatgpt").unwrap();
    let concise = g.index_of(NodeKind::Preference, "length=concise").unwrap();
    assert!(g.edge_weight(rust, tokio).is_some());
    assert!(g.edge_weight(rust, chatgpt).is_some());
    assert!(g.edge_weight(concise, chatgpt).is_some());
    assert_eq!(g.node_at(rust).unwrap().support, 3);
    let m = &g.metrics()["chatgpt"];
    assert_eq!(m.ratings, 2);
    assert_eq!(m.rating_mean, Some(4.5));
    assert_eq!(m.intent_agreement, Some(1.0));
    assert_eq!(g.metrics()["claude"].intent_agreement, Some(0.0));
}

#[test]
fn strengths_decay_with_age() {
    let h = [rating(1, "chatgpt", 5, T0, &["rust"])];
    let s = |now| {
        built(&h, now)
            .node(NodeKind::Agent, "chatgpt")
            .unwrap()
            .strength
    };
    assert!((s(T0) - 1.0).abs() < 1e-12);
    assert!((s(T0 + DEFAULT_HALF_LIFE_MS) - 0.5).abs() < 1e-12);
    assert!((s(T0 + 3 * DEFAULT_HALF_LIFE_MS) - 0.125).abs() < 1e-12);
    // A newer answer outweighs an older one.
    let g = built(
        &[
            pref(1, "chatgpt", "length", "long", T0),
            pref(2, "chatgpt", "length", "short", T0 + 10 * DAY),
        ],
        T0 + 10 * DAY,
    );
    assert!(
        g.node(NodeKind::Preference, "length=short")
            .unwrap()
            .strength
            > g.node(NodeKind::Preference, "length=long")
                .unwrap()
                .strength
    );
    assert_eq!(
        g.snippet(Target::ChatGpt).fields[1].render(),
        "Preferred length: short."
    );
}

#[test]
fn pagerank_sums_to_one_and_ranks_the_hub_highest() {
    let g = built(&history(), T0 + 2 * DAY);
    let total: f64 = g.nodes().map(|n| n.pagerank).sum();
    assert!((total - 1.0).abs() < 1e-9);
    let top = g
        .nodes()
        .max_by(|a, b| a.pagerank.total_cmp(&b.pagerank))
        .unwrap();
    assert_eq!(
        top.key.label, "chatgpt",
        "the agent with most answers is the hub"
    );
    // A star: the centre ranks highest.
    let star: Vec<(u32, u32, f64)> = (1..10).flat_map(|i| [(0, i, 1.0), (i, 0, 1.0)]).collect();
    let r = pagerank::page_rank(10, &star, 0.85, 100, 1e-12);
    assert!(r[1..].iter().all(|&x| x < r[0]));
}

fn compare_with_petgraph(n: usize, edges: &[(u32, u32)], d: f64, iters: usize) -> f64 {
    let mut g = DiGraph::<(), ()>::new();
    for _ in 0..n {
        g.add_node(());
    }
    g.extend_with_edges(edges);
    let theirs = petgraph::algo::page_rank(&g, d, iters);
    let list: Vec<(u32, u32, f64)> = edges.iter().map(|&(a, b)| (a, b, 1.0)).collect();
    let ours = pagerank::page_rank(n, &list, d, iters, 0.0);
    ours.iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

#[test]
fn pagerank_matches_petgraph_on_small_graphs() {
    // petgraph's page_rank leaves out the teleport term for pairs joined by an edge and then
    // renormalises, so it agrees with the textbook model when there is no teleport (d = 1) or
    // by symmetry; with d = 1, a strongly connected, aperiodic graph with a dangling node:
    let edges = [
        (0, 1),
        (1, 2),
        (2, 0),
        (2, 3),
        (3, 0),
        (3, 1),
        (1, 4),
        (0, 5),
        (5, 3),
    ];
    assert!(
        compare_with_petgraph(
            7,
            &[
                (0, 1),
                (1, 2),
                (2, 0),
                (2, 3),
                (3, 0),
                (3, 1),
                (1, 4),
                (4, 0),
                (6, 0)
            ],
            1.0,
            200
        ) < 1e-6
    );
    assert!(compare_with_petgraph(6, &edges, 1.0, 300) < 1e-6);
    // Symmetric graphs at the default damping: a cycle and a complete undirected graph.
    let cycle: Vec<(u32, u32)> = (0..8).map(|i| (i, (i + 1) % 8)).collect();
    assert!(compare_with_petgraph(8, &cycle, 0.85, 50) < 1e-6);
    let mut k5 = UnGraph::<(), ()>::new_undirected();
    let nodes: Vec<_> = (0..5).map(|_| k5.add_node(())).collect();
    let mut list = Vec::new();
    for a in 0..5u32 {
        for b in a + 1..5 {
            k5.add_edge(nodes[a as usize], nodes[b as usize], ());
            list.extend([(a, b, 1.0), (b, a, 1.0)]);
        }
    }
    let theirs = petgraph::algo::page_rank(&k5, 0.85, 30);
    let ours = pagerank::page_rank(5, &list, 0.85, 30, 0.0);
    assert!(ours.iter().zip(&theirs).all(|(a, b)| (a - b).abs() < 1e-6));
}

#[test]
fn an_edit_replaces_and_a_delete_removes() {
    let mut b = GraphBuilder::new(GraphConfig::new()).unwrap();
    b.add(&[rating(1, "chatgpt", 5, T0, &["rust"])]);
    let mut edited = rating(1, "chatgpt", 2, T0, &["go"]);
    edited.updated.counter = 1;
    b.add(&[edited]);
    let g = b.build(T0);
    assert!(g.node(NodeKind::Topic, "rust").is_none());
    assert!(g.node(NodeKind::Topic, "go").is_some());
    assert_eq!(g.metrics()["chatgpt"].rating_mean, Some(2.0));
    // An older write does not replace a newer one.
    b.add(&[rating(1, "chatgpt", 5, T0, &["rust"])]);
    assert!(b.build(T0).node(NodeKind::Topic, "rust").is_none());
    assert!(b.remove(&id("chatgpt", 1)));
    assert!(!b.remove(&id("chatgpt", 1)));
    assert_eq!(b.build(T0).node_count(), 0);
    assert!(b.build(T0).metrics().is_empty());
}

#[test]
fn skipped_answers_contribute_nothing() {
    let mut r = rating(1, "chatgpt", 5, T0, &["rust"]);
    r.content.status = Status::Skipped;
    r.content.answer = None;
    assert_eq!(built(&[r], T0).node_count(), 0);
}

#[test]
fn bad_config_is_refused() {
    let mut c = GraphConfig::new();
    c.half_life_ms = 0;
    assert_eq!(GraphBuilder::new(c).err(), Some(ConfigError::HalfLife));
    let mut c = GraphConfig::new();
    c.damping = 1.0;
    assert!(matches!(GraphBuilder::new(c), Err(ConfigError::Damping(_))));
    let mut c = GraphConfig::new();
    c.pagerank_iterations = 0;
    assert_eq!(GraphBuilder::new(c).err(), Some(ConfigError::PageRank));
}

fn huge_history(n: u32) -> Vec<Response> {
    let agents = ["chatgpt", "claude", "gemini"];
    (0..n)
        .map(|i| {
            let agent = agents[i as usize % 3];
            let t = T0 + u64::from(i) * 60_000;
            match i % 5 {
                0 => pref(
                    i,
                    agent,
                    &format!("dim{}", i % 97),
                    &format!("value {} {}", i % 13, "x".repeat(40)),
                    t,
                ),
                1 => intent(
                    i,
                    agent,
                    "include a worked example",
                    t,
                    &format!("question about subject{} and area{}", i % 211, i % 17),
                ),
                _ => rating(
                    i,
                    agent,
                    (i % 5 + 1) as u8,
                    t,
                    &[
                        &format!("topic number {}", i % 301),
                        &format!("field {}", i % 7),
                    ],
                ),
            }
        })
        .collect()
}

#[test]
fn snippets_stay_within_limits_and_every_line_has_sources() {
    let g = built(&huge_history(20_000), T0 + 20_000 * 60_000);
    for target in [Target::ChatGpt, Target::Claude, Target::Generic] {
        let s = g.snippet(target);
        assert_eq!(
            s.fields.len(),
            if target == Target::ChatGpt { 2 } else { 1 }
        );
        for f in &s.fields {
            assert!(!f.lines.is_empty(), "{target:?} {}", f.title);
            assert!(
                f.render().chars().count() <= f.limit,
                "{target:?} {}",
                f.title
            );
            assert!(
                f.lines
                    .iter()
                    .all(|l| !l.sources.is_empty() && !l.text.contains('\n'))
            );
        }
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            serde_json::from_str::<selfos_graph::Snippet>(&json).unwrap(),
            s
        );
    }
    let chatgpt = g.snippet(Target::ChatGpt);
    assert_eq!(chatgpt.fields[0].limit, 1_500);
    assert!(
        chatgpt.fields[1].render().chars().count() > 1_000,
        "the field is used, not left short"
    );
}

#[test]
fn json_round_trips() {
    let g = built(&history(), T0 + 2 * DAY);
    let text = g.to_json().unwrap();
    let doc = KnowledgeGraph::parse_json(&text).unwrap();
    let orig = g.to_json_doc();
    assert_eq!(doc.nodes.len(), orig.nodes.len());
    assert_eq!(doc.links.len(), orig.links.len());
    assert_eq!(
        doc.metrics.keys().collect::<Vec<_>>(),
        orig.metrics.keys().collect::<Vec<_>>()
    );
    for (a, b) in doc.nodes.iter().zip(&orig.nodes) {
        assert_eq!(
            (&a.id, a.kind, &a.label, a.community),
            (&b.id, b.kind, &b.label, b.community)
        );
        assert!((a.strength - b.strength).abs() < 1e-12 && (a.pagerank - b.pagerank).abs() < 1e-12);
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(v["nodes"][0]["id"].is_string() && v["links"][0]["source"].is_string());
    assert!(v["metrics"]["chatgpt"]["rating_mean"].is_number());
    assert_eq!(
        serde_json::to_string(&doc).unwrap(),
        serde_json::to_string(
            &serde_json::from_str::<selfos_graph::GraphJson>(&serde_json::to_string(&doc).unwrap())
                .unwrap()
        )
        .unwrap()
    );
}

#[test]
fn embeddings_are_deterministic_and_unit_length() {
    let a = built(&history(), T0 + 2 * DAY).embeddings();
    let b = built(&history(), T0 + 2 * DAY).embeddings();
    assert_eq!(a, b);
    assert!(
        a.iter().all(|v| v.len() == EMBEDDING_DIM
            && (v.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-12)
    );
    let g = built(&history(), T0 + 2 * DAY);
    let e = g.embeddings();
    let cos = |x: usize, y: usize| e[x].iter().zip(&e[y]).map(|(a, b)| a * b).sum::<f64>();
    let rust = g.index_of(NodeKind::Topic, "rust").unwrap();
    let closures = g.index_of(NodeKind::Topic, "closures").unwrap();
    let tone = g.index_of(NodeKind::Preference, "tone=direct").unwrap();
    assert!(
        cos(rust, closures) > cos(tone, closures),
        "neighbours are closer"
    );
}

fn ranks(g: &KnowledgeGraph) -> Vec<f64> {
    g.nodes().map(|n| n.pagerank).collect()
}

/// Two runs that stop by the tolerance (1e-9) are each within `1e-9 * d / (1 - d)` (5.7e-9 for
/// d = 0.85) of the fixed point in L1, from any start (see the `pagerank` module docs): their
/// L1 distance stays under 1.2e-8, so 1e-7 leaves room for rounding and fails on any real
/// difference.
fn pagerank_agrees(a: &KnowledgeGraph, b: &KnowledgeGraph) -> bool {
    let l1: f64 = ranks(a)
        .iter()
        .zip(ranks(b))
        .map(|(x, y)| (x - y).abs())
        .sum();
    a.node_count() == b.node_count() && l1 < 1e-7
}

/// Whether every node that takes part in label propagation (not an agent, with a neighbour
/// that is not one) carries a label its neighbours weigh at least as much as any other, up to
/// the rule's tie margin: what settled label propagation guarantees.
fn communities_settled(g: &KnowledgeGraph) -> bool {
    let agent = |i: usize| g.node_at(i).unwrap().key.kind == NodeKind::Agent;
    let mut around: Vec<std::collections::BTreeMap<u32, f64>> =
        vec![Default::default(); g.node_count()];
    for e in g.edges().iter().filter(|e| e.weight > 0.0) {
        if agent(e.source) || agent(e.target) {
            continue;
        }
        let community = |i: usize| g.node_at(i).unwrap().community;
        *around[e.source].entry(community(e.target)).or_default() += e.weight;
        *around[e.target].entry(community(e.source)).or_default() += e.weight;
    }
    around.iter().enumerate().all(|(i, totals)| {
        let best = totals.values().copied().fold(0.0, f64::max);
        let own = totals.get(&g.node_at(i).unwrap().community).copied();
        totals.is_empty() || own.is_some_and(|own| own >= best * (1.0 - 1e-8))
    })
}

fn arb_response() -> impl Strategy<Value = Response> {
    let agents = prop::sample::select(vec!["chatgpt", "claude", "profile"]);
    let topic = prop::sample::select(vec!["rust", "go", "async", "ml", "cooking"]);
    let words = prop::sample::select(vec![
        "borrow checker",
        "lifetimes",
        "tokio runtime",
        "the and of",
        "pasta recipe",
    ]);
    (
        0u32..40,
        agents,
        0u8..4,
        1u8..=5,
        0u64..(90 * DAY),
        prop::collection::vec(topic, 0..4),
        prop::option::of(words),
        0u32..3,
    )
        .prop_map(|(n, agent, kind, r, t, topics, excerpt, counter)| {
            let mut x = match kind {
                0 => rating(n, agent, r, T0 + t, &topics),
                1 => pref(
                    n,
                    agent,
                    ["length", "tone"][usize::from(r % 2)],
                    ["short", "long", "direct"][usize::from(r % 3)],
                    T0 + t,
                ),
                2 => intent(
                    n,
                    agent,
                    "worked example please",
                    T0 + t,
                    excerpt.unwrap_or(""),
                ),
                _ => {
                    let mut s = rating(n, agent, r, T0 + t, &topics);
                    s.content.status = Status::Skipped;
                    s.content.answer = None;
                    s
                }
            };
            x.content.context.topics = topics.iter().map(|t| t.to_string()).collect();
            x.updated.counter = counter;
            x
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn incremental_equals_full_rebuild(
        responses in prop::collection::vec(arb_response(), 0..80),
        cuts in prop::collection::vec(0usize..80, 0..6),
        now in 0u64..(120 * DAY),
    ) {
        let mut full = GraphBuilder::new(GraphConfig::new()).unwrap();
        full.add(&responses);
        let mut inc = GraphBuilder::new(GraphConfig::new()).unwrap();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(responses.len())).collect();
        cuts.sort_unstable();
        let mut start = 0;
        for c in cuts.into_iter().chain([responses.len()]) {
            inc.add(&responses[start..c]);
            start = c;
        }
        let (a, b) = (full.build(T0 + now), inc.build(T0 + now));
        prop_assert!(a.canonical().approx_eq(&b.canonical(), 1e-9), "{:?}\n{:?}", a.canonical(), b.canonical());
        prop_assert_eq!(a.metrics(), b.metrics());
        let total: f64 = a.nodes().map(|n| n.pagerank).sum();
        prop_assert!(a.node_count() == 0 || (total - 1.0).abs() < 1e-9);
    }

    /// Batches with builds in between (so every later build starts from what the previous
    /// one left), edits, deletes and answers out of `created_ms` order, against a builder that
    /// never built and is given only what is left, in another order.
    #[test]
    fn builds_between_batches_equal_a_cold_build(
        responses in prop::collection::vec(arb_response(), 0..80),
        // (where the batch ends, when its build is, which answer numbers are then deleted)
        steps in prop::collection::vec(
            (0usize..80, 0u64..(120 * DAY), prop::collection::vec(0u32..40, 0..4)),
            0..6,
        ),
        now in 0u64..(120 * DAY),
    ) {
        // Enough iterations that both runs stop by the tolerance (see `pagerank_agrees`).
        let mut config = GraphConfig::new();
        config.pagerank_iterations = 1_000;
        let mut inc = GraphBuilder::new(config.clone()).unwrap();
        // What should be left: the answered responses the builder's rules keep.
        let mut kept: BTreeMap<ResponseId, Response> = BTreeMap::new();
        type Kept = BTreeMap<ResponseId, Response>;
        let add = |inc: &mut GraphBuilder, kept: &mut Kept, batch: &[Response]| {
            inc.add(batch);
            for r in batch {
                if kept.get(&r.id).is_some_and(|old| r.updated < old.updated) {
                    continue;
                }
                kept.remove(&r.id);
                if r.content.status == Status::Answered && r.content.answer.is_some() {
                    kept.insert(r.id.clone(), r.clone());
                }
            }
        };
        let mut steps = steps;
        steps.sort_by_key(|s| s.0);
        let mut start = 0;
        for (cut, at, deletes) in steps {
            let cut = cut.min(responses.len()).max(start);
            add(&mut inc, &mut kept, &responses[start..cut]);
            start = cut;
            inc.build(T0 + at);
            for n in deletes {
                for agent in ["chatgpt", "claude", "profile"] {
                    let id = id(agent, n);
                    prop_assert_eq!(inc.remove(&id), kept.remove(&id).is_some());
                }
            }
        }
        add(&mut inc, &mut kept, &responses[start..]);
        let mut cold = GraphBuilder::new(config).unwrap();
        // Newest first: the reverse of the order the incremental builder mostly saw.
        let mut left: Vec<Response> = kept.into_values().collect();
        left.sort_by_key(|r| std::cmp::Reverse(r.content.created_ms));
        cold.add(&left);
        let (a, b) = (inc.build(T0 + now), cold.build(T0 + now));
        let (ca, cb) = (a.canonical(), b.canonical());
        prop_assert!(ca.approx_eq(&cb, 1e-9), "{:?}\n{:?}", ca, cb);
        prop_assert_eq!(a.metrics(), b.metrics());
        for period in [Period::Day, Period::Week] {
            prop_assert_eq!(inc.alignment_series(period), cold.alignment_series(period));
        }
        for i in 0..a.node_count() {
            prop_assert_eq!(a.sources(i), b.sources(i));
        }
        prop_assert!(pagerank_agrees(&a, &b), "{:?}\n{:?}", ranks(&a), ranks(&b));
        prop_assert!(communities_settled(&a));
        prop_assert!(communities_settled(&b));
    }

    #[test]
    fn alignment_series_add_up_to_the_totals(
        responses in prop::collection::vec(arb_response(), 0..80),
        weekly in any::<bool>(),
    ) {
        let mut builder = GraphBuilder::new(GraphConfig::new()).unwrap();
        builder.add(&responses);
        let totals = builder.build(T0).metrics().clone();
        let period = if weekly { Period::Week } else { Period::Day };
        let series = builder.alignment_series(period);
        prop_assert_eq!(series.keys().collect::<Vec<_>>(), totals.keys().collect::<Vec<_>>());
        for (agent, points) in &series {
            let t = &totals[agent];
            prop_assert!(points.windows(2).all(|w| w[0].start_ms < w[1].start_ms));
            prop_assert!(points.iter().all(|p| p.metrics.answers > 0));
            prop_assert!(points.iter().all(|p| period.start_ms(p.start_ms as u64) == p.start_ms));
            let sum = |f: fn(&Metrics) -> u32| points.iter().map(|p| f(&p.metrics)).sum::<u32>();
            prop_assert_eq!(sum(|m| m.answers), t.answers);
            prop_assert_eq!(sum(|m| m.ratings), t.ratings);
            prop_assert_eq!(sum(|m| m.intent_followups), t.intent_followups);
            prop_assert_eq!(sum(|m| m.preference_ratings), t.preference_ratings);
            // A share times its count is a count of high ratings: those add up too.
            let weighted = |f: fn(&Metrics) -> (Option<f64>, u32)| {
                points
                    .iter()
                    .map(|p| f(&p.metrics))
                    .map(|(x, n)| x.unwrap_or(0.0) * f64::from(n))
                    .sum::<f64>()
            };
            let whole = |(x, n): (Option<f64>, u32)| x.unwrap_or(0.0) * f64::from(n);
            for f in [
                (|m: &Metrics| (m.rating_mean, m.ratings)) as fn(&Metrics) -> (Option<f64>, u32),
                |m| (m.intent_agreement, m.intent_followups),
                |m| (m.preference_adherence, m.preference_ratings),
            ] {
                prop_assert!((weighted(f) - whole(f(t))).abs() < 1e-9);
            }
        }
    }
}

/// A builder kept from a vault's change feed (answers written, edited, deleted, and a report of
/// everything after it) builds the graph of the vault's listing.
#[test]
fn a_builder_kept_from_the_change_feed_builds_the_listing() {
    let mut vault = selfos_testkit::replicas(1).pop().unwrap();
    let mut builder = GraphBuilder::new(GraphConfig::new()).unwrap();
    let mut cursor = selfos_vault::Cursor::default();
    let mut ids = Vec::new();
    for r in history() {
        let agent = r.content.agent.clone();
        ids.push(vault.record(&ns(&agent), r.content, T0).unwrap());
        let changes = vault.changed_since(&cursor);
        builder.apply(&changes);
        cursor = changes.cursor;
        builder.build(T0 + 2 * DAY);
    }
    vault
        .edit(&ids[2], Some(Answer::Rating(1)), None, T0 + 1)
        .unwrap();
    vault.delete(&ids[4], T0 + 1).unwrap();
    let changes = vault.changed_since(&cursor);
    assert!(!changes.everything);
    builder.apply(&changes);
    let listed = built(&vault.list(None).responses, T0 + 2 * DAY);
    let kept = builder.build(T0 + 2 * DAY);
    assert!(kept.canonical().approx_eq(&listed.canonical(), 1e-9));
    assert_eq!(kept.metrics(), listed.metrics());

    // A cursor of no vault reports everything: the builder starts afresh, not doubled.
    builder.apply(&vault.changed_since(&selfos_vault::Cursor::default()));
    assert!(
        builder
            .build(T0 + 2 * DAY)
            .canonical()
            .approx_eq(&listed.canonical(), 1e-9)
    );
    assert_eq!(builder.len(), vault.list(None).responses.len());
}

/// Everything a graph lists about its edges agrees: the listed edges with their supports, the
/// weight looked up by ends, and the petgraph graph.
fn edge_views_agree(g: &KnowledgeGraph) -> bool {
    let listed: Vec<(usize, usize, f64)> = g
        .edges()
        .iter()
        .map(|e| (e.source, e.target, e.weight))
        .collect();
    let sorted = listed
        .windows(2)
        .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1));
    let by_lookup = listed.iter().all(|&(a, b, w)| {
        a < b && g.edge_weight(a, b) == Some(w) && g.edge_weight(b, a) == Some(w)
    });
    let pg = g.petgraph();
    let mut in_petgraph: Vec<(usize, usize, f64)> = pg
        .raw_edges()
        .iter()
        .map(|e| {
            let (a, b) = (e.source().index(), e.target().index());
            (a.min(b), a.max(b), e.weight)
        })
        .collect();
    in_petgraph.sort_by_key(|x| (x.0, x.1));
    let nodes_alike =
        pg.node_count() == g.node_count() && g.nodes().zip(pg.node_weights()).all(|(a, b)| a == b);
    sorted && by_lookup && in_petgraph == listed && nodes_alike
}

/// Edges by node ids with their weights and supports: what a stale weight, a left-over edge or
/// a patched row off by one would change.
fn edges_by_id(g: &KnowledgeGraph) -> Vec<(String, String, f64, u32)> {
    let id = |i: usize| g.node_at(i).unwrap().key.to_string();
    g.edges()
        .iter()
        .map(|e| (id(e.source), id(e.target), e.weight, e.support))
        .collect()
}

fn edges_close(a: &[(String, String, f64, u32)], b: &[(String, String, f64, u32)]) -> bool {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0);
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && x.1 == y.1 && x.3 == y.3 && close(x.2, y.2))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every build of a builder fed batches and deletes equals a cold build of what is left at
    /// that point; and each graph still lists its own edges after later builds have patched the
    /// rows it shares with the builder.
    #[test]
    fn every_build_equals_a_cold_build_and_kept_graphs_keep_their_edges(
        responses in prop::collection::vec(arb_response(), 0..80),
        steps in prop::collection::vec(
            (0usize..80, 0u64..(120 * DAY), prop::collection::vec(0u32..40, 0..4)),
            1..6,
        ),
    ) {
        let mut config = GraphConfig::new();
        config.pagerank_iterations = 1_000;
        let mut inc = GraphBuilder::new(config.clone()).unwrap();
        let mut kept: BTreeMap<ResponseId, Response> = BTreeMap::new();
        let mut steps = steps;
        steps.sort_by_key(|s| s.0);
        let mut start = 0;
        // Each graph built on the way, with the cold build of the same answers.
        let mut graphs: Vec<(KnowledgeGraph, KnowledgeGraph)> = Vec::new();
        for (cut, at, deletes) in steps {
            let cut = cut.min(responses.len()).max(start);
            let batch = &responses[start..cut];
            inc.add(batch);
            for r in batch {
                if kept.get(&r.id).is_some_and(|old| r.updated < old.updated) {
                    continue;
                }
                kept.remove(&r.id);
                if r.content.status == Status::Answered && r.content.answer.is_some() {
                    kept.insert(r.id.clone(), r.clone());
                }
            }
            start = cut;
            for n in deletes {
                for agent in ["chatgpt", "claude", "profile"] {
                    let id = id(agent, n);
                    prop_assert_eq!(inc.remove(&id), kept.remove(&id).is_some());
                }
            }
            let mut cold = GraphBuilder::new(config.clone()).unwrap();
            let left: Vec<Response> = kept.values().rev().cloned().collect();
            cold.add(&left);
            graphs.push((inc.build(T0 + at), cold.build(T0 + at)));
        }
        for (a, b) in &graphs {
            prop_assert!(edges_close(&edges_by_id(a), &edges_by_id(b)), "{:?}\n{:?}", edges_by_id(a), edges_by_id(b));
            prop_assert!(a.canonical().approx_eq(&b.canonical(), 1e-9));
            prop_assert!(edge_views_agree(a));
            prop_assert!(edge_views_agree(b));
            prop_assert!(pagerank_agrees(a, b), "{:?}\n{:?}", ranks(a), ranks(b));
            prop_assert!(communities_settled(a));
            prop_assert_eq!(a.metrics(), b.metrics());
        }
    }
}

/// An edge whose last answer is deleted leaves the next build, a node whose last answer is
/// deleted takes its edges with it, and a graph built before keeps both.
#[test]
fn deleted_answers_take_their_edges_and_earlier_graphs_keep_them() {
    let mut b = GraphBuilder::new(GraphConfig::new()).unwrap();
    b.add(&[
        rating(1, "chatgpt", 5, T0, &["rust", "tokio"]),
        rating(2, "chatgpt", 4, T0, &["rust"]),
        rating(3, "claude", 4, T0, &["go"]),
    ]);
    let before = b.build(T0);
    let at = |g: &KnowledgeGraph, label: &str| g.index_of(NodeKind::Topic, label).unwrap();
    let weight = |g: &KnowledgeGraph, x: &str, y: &str| g.edge_weight(at(g, x), at(g, y));
    assert_eq!(weight(&before, "rust", "tokio"), Some(1.0));
    assert!(b.remove(&id("chatgpt", 1)));
    assert!(b.remove(&id("claude", 3)));
    b.add(&[rating(4, "chatgpt", 3, T0, &["rust", "go"])]);
    let after = b.build(T0);
    assert!(after.node(NodeKind::Topic, "tokio").is_none());
    assert_eq!(weight(&after, "rust", "go"), Some(1.0));
    let claude = after.index_of(NodeKind::Agent, "claude");
    assert!(claude.is_none(), "claude has no answer left");
    let chatgpt = after.index_of(NodeKind::Agent, "chatgpt").unwrap();
    assert_eq!(after.edge_weight(at(&after, "rust"), chatgpt), Some(2.0));
    assert_eq!(after.edges().len(), 4, "{:?}", edges_by_id(&after));
    // The graph built first still lists what it had, though its rows were patched since.
    assert_eq!(weight(&before, "rust", "tokio"), Some(1.0));
    let go = at(&before, "go");
    let claude = before.index_of(NodeKind::Agent, "claude").unwrap();
    assert_eq!(before.edge_weight(go, claude), Some(1.0));
    assert_eq!(weight(&before, "rust", "go"), None);
    assert!(edge_views_agree(&before) && edge_views_agree(&after));
    assert_eq!(before.edges().len(), 6, "{:?}", edges_by_id(&before));
}

/// Answers more than 64 half-lives after the first ones move the anchor of the running sums
/// (rescaling every sum and row): the graph still equals a cold build's, and so does the next
/// one, built after edits of early answers.
#[test]
fn answers_long_after_the_first_move_the_anchor_and_builds_stay_exact() {
    let mut config = GraphConfig::new();
    config.half_life_ms = DAY;
    config.pagerank_iterations = 1_000;
    let early: Vec<Response> = (0..6)
        .map(|n| {
            rating(
                n,
                "chatgpt",
                4,
                T0 + u64::from(n),
                &["rust", ["go", "ml"][n as usize % 2]],
            )
        })
        .collect();
    let late: Vec<Response> = (10..16)
        .map(|n| {
            let topics = ["rust", ["async", "go"][n as usize % 2]];
            rating(
                n,
                ["chatgpt", "claude"][n as usize % 2],
                3,
                T0 + 100 * DAY + u64::from(n),
                &topics,
            )
        })
        .collect();
    let mut edits: Vec<Response> = (0..2)
        .map(|n| rating(n, "chatgpt", 2, T0 + u64::from(n), &["cooking"]))
        .collect();
    edits.iter_mut().for_each(|r| r.updated.counter = 1);
    let mut inc = GraphBuilder::new(config.clone()).unwrap();
    inc.add(&early);
    let first = inc.build(T0 + DAY);
    inc.add(&late);
    let cold = |batches: &[&[Response]], now: u64| {
        let mut b = GraphBuilder::new(config.clone()).unwrap();
        batches.iter().for_each(|batch| b.add(batch));
        b.build(now)
    };
    let check = |a: &KnowledgeGraph, b: &KnowledgeGraph| {
        assert!(
            edges_close(&edges_by_id(a), &edges_by_id(b)),
            "{:?}\n{:?}",
            edges_by_id(a),
            edges_by_id(b)
        );
        assert!(a.canonical().approx_eq(&b.canonical(), 1e-9));
        assert!(pagerank_agrees(a, b), "{:?}\n{:?}", ranks(a), ranks(b));
        assert!(edge_views_agree(a));
    };
    let now = T0 + 101 * DAY;
    check(&inc.build(now), &cold(&[&late, &early], now));
    inc.add(&edits);
    check(&inc.build(now), &cold(&[&late, &early, &edits], now));
    // The first graph, built before the anchor moved, lists what it had.
    check(&first, &cold(&[&early], T0 + DAY));
}
