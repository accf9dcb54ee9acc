//! Knowledge-graph benchmarks, against the budget in DESIGN.md ("Budgets"):
//!
//! 1. build the graph from 100,000 synthetic answers (`GraphBuilder::new` + `add` of all of
//!    them + `build`), budget <= 300 ms; the split between `add` and `build` is printed too;
//! 2. an incremental update: 100 new answers added to a builder that holds the 100,000 and has
//!    built its graph once (so it holds what that build found, as the client's does), then
//!    `build` at a later `now`, budget <= 10 ms (the builder is cloned outside the timing); the
//!    same graph built cold is printed for comparison, and so is the first read of the edge list
//!    and petgraph graph of such a graph, which are made when first read;
//! 3. PageRank side by side: `selfos_graph::pagerank::page_rank` (edge list) against petgraph
//!    0.8's `page_rank` (quadratic) on a random directed graph of 1,500 nodes, 20 iterations
//!    each, printed as a ratio; plus ours alone on 100k nodes / 500k edges.
//!
//! A summary table with PASS/OVER is printed at the end. Under `--test` (`cargo test --benches`)
//! every size is shrunk so the run takes seconds; its figures mean nothing.

// Bench setup: a failure should abort the run loudly, not be handled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use criterion::{BatchSize, Criterion, SamplingMode};
use petgraph::graph::DiGraph;
use selfos::vault::{Answer, CardKind, Context, Response};
use selfos_benches::{Row, Stats, ms, print_table, test_mode, us};
use selfos_graph::{GraphBuilder, GraphConfig, pagerank};
// The simulated wall clock starts at T0: answer `i` is created at `T0 + i * 30 s`.
use selfos_testkit::{T0, answered, response};

struct Sizes {
    answers: u64,
    builds: usize,
    increments: usize,
    pr_nodes: usize,
    pr_edges_per_node: usize,
    pr_runs: usize,
    big_nodes: usize,
}

impl Sizes {
    fn new() -> Self {
        if test_mode() {
            Self {
                answers: 2_000,
                builds: 2,
                increments: 3,
                pr_nodes: 150,
                pr_edges_per_node: 4,
                pr_runs: 1,
                big_nodes: 2_000,
            }
        } else {
            Self {
                answers: 100_000,
                builds: 10,
                increments: 50,
                pr_nodes: 1_500,
                pr_edges_per_node: 4,
                pr_runs: 2,
                big_nodes: 100_000,
            }
        }
    }
}

/// SplitMix64: a fixed-seed stream, so every run builds the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const AGENTS: [&str; 4] = ["chatgpt", "claude", "gemini", "perplexity"];
const WORDS: [&str; 16] = [
    "rust",
    "borrow",
    "checker",
    "async",
    "tokio",
    "lifetimes",
    "closure",
    "trait",
    "python",
    "pandas",
    "recipe",
    "pasta",
    "travel",
    "budget",
    "guitar",
    "chords",
];

/// A synthetic answer: mostly ratings with 1-3 topics out of 2,000, some intents with a prompt
/// excerpt (topic extraction runs on them), some preference choices.
fn synth(i: u64, rng: &mut Rng) -> Response {
    let agent = AGENTS[rng.below(4) as usize];
    let mut record = [0u8; 16];
    record[..8].copy_from_slice(&i.to_be_bytes());
    let t = T0 + i * 30_000;
    let (card_id, card_kind, answer, excerpt) = match rng.below(10) {
        0..=5 => (
            "rating.overall".to_owned(),
            CardKind::Rating,
            Answer::Rating(1 + rng.below(5) as u8),
            None,
        ),
        6..=7 => {
            let excerpt = format!(
                "how do I {} the {} {} with {}",
                WORDS[rng.below(16) as usize],
                WORDS[rng.below(16) as usize],
                WORDS[rng.below(16) as usize],
                WORDS[rng.below(16) as usize]
            );
            (
                "intent.include".to_owned(),
                CardKind::Intent,
                Answer::Text("a worked example".into()),
                Some(excerpt),
            )
        }
        _ => {
            let dim = ["length", "tone", "format", "style"][rng.below(4) as usize];
            let value =
                ["short", "long", "direct", "friendly", "bullets", "prose"][rng.below(6) as usize];
            (
                format!("pref.{dim}"),
                CardKind::Preference,
                Answer::Choice(value.into()),
                None,
            )
        }
    };
    let topics = (0..1 + rng.below(3))
        .map(|_| format!("topic {}", rng.below(2_000)))
        .collect();
    let mut content = answered(agent, &card_id, card_kind, answer, t);
    content.context = Context {
        prompt_excerpt: excerpt,
        topics,
    };
    response(record, content)
}

fn history(n: u64, seed: u64) -> Vec<Response> {
    let mut rng = Rng(seed);
    (0..n).map(|i| synth(i, &mut rng)).collect()
}

fn random_edges(n: usize, per_node: usize, seed: u64) -> Vec<(u32, u32)> {
    let mut rng = Rng(seed);
    (0..n * per_node)
        .map(|_| (rng.below(n as u64) as u32, rng.below(n as u64) as u32))
        .filter(|(a, b)| a != b)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// petgraph's `page_rank` on `edges` and the largest difference from ours.
fn petgraph_diff(n: usize, edges: &[(u32, u32)], damping: f64) -> f64 {
    let weighted: Vec<(u32, u32, f64)> = edges.iter().map(|&(a, b)| (a, b, 1.0)).collect();
    let a = pagerank::page_rank(n, &weighted, damping, 20, 0.0);
    let b = petgraph::algo::page_rank(&digraph(n, edges), damping, 20);
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn digraph(n: usize, edges: &[(u32, u32)]) -> DiGraph<(), ()> {
    let mut pg = DiGraph::<(), ()>::with_capacity(n, edges.len());
    for _ in 0..n {
        pg.add_node(());
    }
    pg.extend_with_edges(edges);
    pg
}

fn main() {
    let sizes = Sizes::new();
    let mut c = Criterion::default().configure_from_args();
    let mut rows = Vec::new();

    // 1. Full build from N answers.
    let answers = history(sizes.answers, 42);
    let now = T0 + sizes.answers * 30_000;
    let (mut adds, mut builds, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    let mut shape = (0, 0);
    for _ in 0..sizes.builds {
        let start = Instant::now();
        let mut b = GraphBuilder::new(GraphConfig::new()).unwrap();
        b.add(&answers);
        let added = start.elapsed();
        let g = b.build(now);
        let total = start.elapsed();
        shape = (g.node_count(), g.edges().len());
        drop(black_box(g));
        adds.push(added);
        builds.push(total - added);
        totals.push(total);
    }
    let (add, build, total) = (
        Stats::of(&adds).unwrap(),
        Stats::of(&builds).unwrap(),
        Stats::of(&totals).unwrap(),
    );
    println!(
        "graph from {} answers: {} nodes, {} edges",
        sizes.answers, shape.0, shape.1
    );
    let what = format!("graph from {} answers (new + add + build)", sizes.answers);
    rows.extend(Row::budgets_ms(
        &what,
        [("mean", total.mean), ("p50", total.p50)],
        300.0,
    ));
    rows.push(Row::info(
        "  of which add / build, p50",
        format!("{:.1} / {:.1} ms", ms(add.p50), ms(build.p50)),
    ));
    rows.push(Row::info(
        "  graph size",
        format!("{} nodes, {} edges", shape.0, shape.1),
    ));
    {
        let mut group = c.benchmark_group("graph/build");
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .measurement_time(Duration::from_secs(5));
        group.bench_function(format!("{}-answers", sizes.answers), |bch| {
            bch.iter(|| {
                let mut b = GraphBuilder::new(GraphConfig::new()).unwrap();
                b.add(&answers);
                b.build(now)
            })
        });
        group.finish();
    }

    // 2. Incremental: 100 answers on top of a builder that has built its graph once, as the
    // client's has (it keeps what that build found); the clone carries that state too.
    let mut base = GraphBuilder::new(GraphConfig::new()).unwrap();
    base.add(&answers);
    drop(black_box(base.build(now)));
    let extra: Vec<Response> = {
        let mut rng = Rng(7);
        (sizes.answers..sizes.answers + 100)
            .map(|i| synth(i, &mut rng))
            .collect()
    };
    let later = now + 100 * 30_000;
    let mut inc_add = Vec::new();
    let mut inc_total = Vec::new();
    for _ in 0..sizes.increments {
        let mut b = base.clone();
        let start = Instant::now();
        b.add(&extra);
        let added = start.elapsed();
        drop(black_box(b.build(later)));
        inc_add.push(added);
        inc_total.push(start.elapsed());
    }
    // The edge list and the petgraph graph are made when first read, outside `build`.
    let list_runs: Vec<Duration> = (0..sizes.builds)
        .map(|_| {
            let mut b = base.clone();
            b.add(&extra);
            let g = b.build(later);
            let start = Instant::now();
            black_box(g.edges().len());
            black_box(g.petgraph().edge_count());
            start.elapsed()
        })
        .collect();
    let listed = Stats::of(&list_runs).unwrap();
    // The same graph built cold: the same answers in a builder that never built.
    let mut cold = GraphBuilder::new(GraphConfig::new()).unwrap();
    cold.add(&answers);
    cold.add(&extra);
    let cold_runs: Vec<Duration> = (0..sizes.builds)
        .map(|_| {
            let mut b = cold.clone();
            let start = Instant::now();
            drop(black_box(b.build(later)));
            start.elapsed()
        })
        .collect();
    drop(cold);
    let (inc_add, inc_total, cold) = (
        Stats::of(&inc_add).unwrap(),
        Stats::of(&inc_total).unwrap(),
        Stats::of(&cold_runs).unwrap(),
    );
    let what = format!("+100 answers on {}, built at a later now", sizes.answers);
    rows.extend(Row::budgets_ms(
        &what,
        [
            ("add + build p50", inc_total.p50),
            ("add + build p99", inc_total.p99),
        ],
        10.0,
    ));
    rows.push(Row::info(
        "  of which add, p50 / p99",
        format!("{:.1} / {:.1} us", us(inc_add.p50), us(inc_add.p99)),
    ));
    rows.push(Row::info(
        "  then the first read of its edges and petgraph graph, p50",
        format!("{:.1} ms", ms(listed.p50)),
    ));
    rows.push(Row::info(
        "  the same graph built cold (build only), p50",
        format!(
            "{:.1} ms ({:.0}x the incremental update)",
            ms(cold.p50),
            cold.p50.as_secs_f64() / inc_total.p50.as_secs_f64()
        ),
    ));
    {
        let mut group = c.benchmark_group("graph/incremental");
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .measurement_time(Duration::from_secs(5));
        group.bench_function("add-100-and-build", |bch| {
            // By reference: the clone of the whole builder is dropped outside the timing, as
            // the loop above drops it.
            bch.iter_batched_ref(
                || base.clone(),
                |b| {
                    b.add(&extra);
                    b.build(later)
                },
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
    drop(base);

    // 3. PageRank: ours against petgraph's, 20 iterations, same unweighted directed graph.
    let n = sizes.pr_nodes;
    let edges = random_edges(n, sizes.pr_edges_per_node, 3);
    let weighted: Vec<(u32, u32, f64)> = edges.iter().map(|&(a, b)| (a, b, 1.0)).collect();
    let pg = digraph(n, &edges);
    let ours_runs: Vec<Duration> = (0..50)
        .map(|_| {
            let start = Instant::now();
            black_box(pagerank::page_rank(n, &weighted, 0.85, 20, 0.0));
            start.elapsed()
        })
        .collect();
    let theirs_runs: Vec<Duration> = (0..sizes.pr_runs)
        .map(|_| {
            let start = Instant::now();
            black_box(petgraph::algo::page_rank(&pg, 0.85_f64, 20));
            start.elapsed()
        })
        .collect();
    let (ours, theirs) = (
        Stats::of(&ours_runs).unwrap(),
        Stats::of(&theirs_runs).unwrap(),
    );
    // The two models differ unless there is no teleport (d = 1); compare on a small graph.
    let small = random_edges(200, 4, 5);
    let (diff_085, diff_1) = (
        petgraph_diff(200, &small, 0.85),
        petgraph_diff(200, &small, 1.0),
    );
    let what = format!("PageRank {n} nodes / {} edges, 20 iterations", edges.len());
    rows.push(Row::info(
        &format!("{what}: ours / petgraph p50"),
        format!("{:.1} us / {:.1} ms", us(ours.p50), ms(theirs.p50)),
    ));
    rows.push(Row::speed_up(
        "  petgraph / ours (speed-up)",
        theirs.p50,
        ours.p50,
    ));
    rows.push(Row::info(
        "  max |ours - petgraph|, 200 nodes, d = 0.85 / d = 1",
        format!("{diff_085:.1e} / {diff_1:.1e}"),
    ));
    {
        let mut group = c.benchmark_group("graph/pagerank");
        group.sample_size(20);
        group.bench_function(format!("ours-{n}"), |bch| {
            bch.iter(|| pagerank::page_rank(n, &weighted, 0.85, 20, 0.0))
        });
        group.finish();
    }
    let big_n = sizes.big_nodes;
    let big: Vec<(u32, u32, f64)> = random_edges(big_n, 5, 9)
        .into_iter()
        .map(|(a, b)| (a, b, 1.0))
        .collect();
    let big_runs: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            black_box(pagerank::page_rank(big_n, &big, 0.85, 20, 0.0));
            start.elapsed()
        })
        .collect();
    let big_stats = Stats::of(&big_runs).unwrap();
    rows.push(Row::info(
        &format!(
            "PageRank ours, {big_n} nodes / {} edges, 20 iterations, p50",
            big.len()
        ),
        format!("{:.1} ms", ms(big_stats.p50)),
    ));

    c.final_summary();
    let title = if test_mode() {
        "graph budgets (TEST MODE: tiny sizes, figures meaningless)"
    } else {
        "graph budgets"
    };
    print_table(title, &rows);
}
