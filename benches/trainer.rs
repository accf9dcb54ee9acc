//! Trainer benchmarks: the pick a client makes while the user waits (`nextCard`), at 100, 2,000
//! and 20,000 answers in the vault, against the budget of <= 5 ms at 20,000.
//!
//! Each vault holds answers from four agents over every card kind (intent, rating, preference,
//! re-confirmation, recall of 200 concepts), one every 30 s of simulated time. Each timed pick
//! follows a new answer, recorded untimed, as in the extension (answer, then the next wait):
//!
//! 1. **kept**: what the WASM `Trainer.next` does: read what changed through the vault's change
//!    feed (`Vault::changed_since`), update the kept `History`, pick (`Scheduler::next_in`);
//! 2. **whole**, the baseline in the same run: read and decrypt every answer (`Vault::list`) and
//!    pick from all of them (`Scheduler::next`), what a pick cost before the history was kept.
//!
//! Both get the same 200 weak topics, as a knowledge graph would hand them. A summary table
//! with PASS/OVER is printed at the end. Under `--test` (`cargo test --benches`) every size is
//! shrunk so the run takes seconds; its figures mean nothing.

// Bench setup: a failure should abort the run loudly, not be handled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use criterion::Criterion;
use selfos::{
    training::{AnswerSpec, Context, History, Scheduler, SchedulerConfig, catalog},
    vault::{Answer, CardKind, Content, Cursor, MemoryStore, Vault},
};
use selfos_benches::{Row, Stats, ms, print_table, test_mode, us};
// The simulated wall clock starts at T0: answer `i` is created at `T0 + i * 30 s`.
use selfos_testkit::{T0, answered, kdf, ns, pass};

const AGENTS: [&str; 4] = ["chatgpt", "claude", "gemini", "perplexity"];
const CONCEPTS: u64 = 200;
/// Answers are recorded this far apart in simulated time.
const STEP_MS: u64 = 30_000;

struct Sizes {
    answers: [u64; 3],
    picks: usize,
}

impl Sizes {
    fn new() -> Self {
        if test_mode() {
            Self {
                answers: [20, 50, 100],
                picks: 5,
            }
        } else {
            Self {
                answers: [100, 2_000, 20_000],
                picks: 200,
            }
        }
    }
}

/// Answer `i`: a card of the catalog in turn, answered as its spec allows, by one of the agents.
fn synth(i: u64) -> Content {
    let cards = catalog();
    let card = &cards[(i.wrapping_mul(7) % cards.len() as u64) as usize];
    let agent = AGENTS[(i % 4) as usize];
    let answer = match card.answer {
        AnswerSpec::Rating { .. } => Answer::Rating(1 + (i % 5) as u8),
        AnswerSpec::Choice { options, .. } => {
            Answer::Choice(options[(i as usize / 3) % options.len()].into())
        }
        AnswerSpec::Text { .. } => Answer::Text(format!("a worked example, {i}")),
    };
    let mut content = answered(agent, card.id, card.kind, answer, T0 + i * STEP_MS);
    if card.kind == CardKind::Recall {
        content.context.topics = vec![format!("concept {}", i % CONCEPTS)];
    }
    content
}

/// Records answers `from..to`, maintaining the vault now and then as an idle client does.
fn fill(vault: &mut Vault<MemoryStore>, from: u64, to: u64) {
    for i in from..to {
        let c = synth(i);
        vault.record(&ns(&c.agent), c, T0 + i * STEP_MS).unwrap();
        if (i + 1) % 20 == 0 {
            vault.maintain().unwrap();
        }
    }
}

/// A client's trainer: the kept history and where it stands in the vault.
struct Kept {
    scheduler: Scheduler,
    history: History,
    cursor: Cursor,
}

impl Kept {
    fn new() -> Self {
        let scheduler = Scheduler::new(SchedulerConfig::new()).unwrap();
        Self {
            history: scheduler.history(),
            scheduler,
            cursor: Cursor::default(),
        }
    }

    /// Brings the history up to date with the vault, then picks.
    fn pick(&mut self, vault: &mut Vault<MemoryStore>, now: u64, weak: &[String]) -> bool {
        let changes = vault.changed_since(&self.cursor);
        self.history.apply(&changes);
        self.cursor = changes.cursor;
        let ctx = Context::for_wait("claude", now, 15_000, &[], weak);
        self.scheduler.next_in(&self.history, &ctx).is_some()
    }
}

/// The baseline: every answer read and decrypted, then a pick from all of them.
fn pick_whole(
    scheduler: &Scheduler,
    vault: &Vault<MemoryStore>,
    now: u64,
    weak: &[String],
) -> bool {
    let history = vault.list(None).responses;
    let ctx = Context::for_wait("claude", now, 15_000, &history, weak);
    scheduler.next(&ctx).is_some()
}

/// Times `picks` picks, each after one new answer recorded untimed; returns the timings.
fn timed(
    vault: &mut Vault<MemoryStore>,
    next: &mut u64,
    picks: usize,
    mut pick: impl FnMut(&mut Vault<MemoryStore>, u64) -> bool,
) -> Vec<Duration> {
    (0..picks)
        .map(|_| {
            fill(vault, *next, *next + 1);
            *next += 1;
            let now = T0 + *next * STEP_MS;
            let start = Instant::now();
            let picked = pick(vault, now);
            let took = start.elapsed();
            assert!(picked, "a 15 s wait always fits a card");
            took
        })
        .collect()
}

fn main() {
    let sizes = Sizes::new();
    let mut c = Criterion::default().configure_from_args();
    let mut rows = Vec::new();
    let weak: Vec<String> = (0..CONCEPTS).map(|i| format!("concept {i}")).collect();
    let whole_scheduler = Scheduler::new(SchedulerConfig::new()).unwrap();
    let mut kept_p50 = Vec::new();
    for n in sizes.answers {
        let mut vault = Vault::create(MemoryStore::new(), &pass(), kdf()).unwrap();
        fill(&mut vault, 0, n);
        let mut next = n;
        let mut kept = Kept::new();
        // The first pick reads every answer once, as after an unlock.
        let start = Instant::now();
        assert!(kept.pick(&mut vault, T0 + next * STEP_MS, &weak));
        let first = start.elapsed();
        let kept_runs = timed(&mut vault, &mut next, sizes.picks, |v, now| {
            kept.pick(v, now, &weak)
        });
        let whole_runs = timed(&mut vault, &mut next, sizes.picks.min(50), |v, now| {
            pick_whole(&whole_scheduler, v, now, &weak)
        });
        let (k, w) = (
            Stats::of(&kept_runs).unwrap(),
            Stats::of(&whole_runs).unwrap(),
        );
        kept_p50.push(k.p50);
        let what = format!("nextCard after a write, {n} answers");
        if n == sizes.answers[2] {
            rows.extend(Row::budgets_ms(
                &what,
                [("p50", k.p50), ("p99", k.p99)],
                5.0,
            ));
        } else {
            rows.push(Row::info(
                &format!("{what}: p50 / p99"),
                format!("{:.0} / {:.0} us", us(k.p50), us(k.p99)),
            ));
        }
        rows.push(Row::info(
            "  whole history (baseline) p50 / p99",
            format!("{:.2} / {:.2} ms", ms(w.p50), ms(w.p99)),
        ));
        rows.push(Row::speed_up("  baseline / kept (speed-up)", w.p50, k.p50));
        rows.push(Row::info(
            "  first pick (reads every answer)",
            format!("{:.1} ms", ms(first)),
        ));
        if n == sizes.answers[2] {
            let mut group = c.benchmark_group("trainer");
            group.sample_size(20);
            group.bench_function(format!("next-card-after-a-write-{n}"), |b| {
                b.iter_custom(|iters| {
                    timed(&mut vault, &mut next, iters as usize, |v, now| {
                        black_box(kept.pick(v, now, &weak))
                    })
                    .into_iter()
                    .sum()
                })
            });
            group.finish();
        }
    }
    rows.push(Row::info(
        &format!(
            "kept pick p50, {} / {} answers (flat = 1.0)",
            sizes.answers[2], sizes.answers[0]
        ),
        format!(
            "{:.2}",
            kept_p50[2].as_secs_f64() / kept_p50[0].as_secs_f64()
        ),
    ));

    c.final_summary();
    let title = if test_mode() {
        "trainer budgets (TEST MODE: tiny sizes, figures meaningless)"
    } else {
        "trainer budgets"
    };
    print_table(title, &rows);
}
