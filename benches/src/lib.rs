//! Helpers shared by the bench targets: percentiles over per-iteration timings, sample content,
//! and the budget table every bench prints at the end (criterion reports means; the budgets in
//! DESIGN.md are mostly percentiles, so the benches time iterations themselves as well).

use std::time::Duration;

mod device;

pub use device::{Device, pump};
use selfos::vault::Content;
use selfos_testkit::{T0, content};

/// Whether the bench runs in criterion's test mode: `cargo test --benches` (no `--bench`
/// argument, as criterion itself decides) or an explicit `--test`. Benches then shrink their
/// setup so the whole run takes seconds.
pub fn test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench")
}

/// Percentiles of a set of timings.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// How many timings.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: Duration,
    /// Median (nearest rank).
    pub p50: Duration,
    /// 99th percentile (nearest rank).
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
}

impl Stats {
    /// Computes the statistics; `None` for no samples.
    pub fn of(samples: &[Duration]) -> Option<Self> {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        let total: Duration = sorted.iter().sum();
        Some(Self {
            n,
            mean: total / u32::try_from(n).ok().filter(|&n| n > 0)?,
            p50: percentile(&sorted, 50.0)?,
            p99: percentile(&sorted, 99.0)?,
            max: *sorted.last()?,
        })
    }
}

/// The nearest-rank percentile `p` (0-100] of timings sorted in ascending order.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.max(1) - 1).copied()
}

/// Microseconds, for printing.
pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A typical answer: a text answer of about 250 bytes, distinct per `i`.
pub fn sample_content(i: u64) -> Content {
    let mut text = format!("answer {i}: ");
    while text.len() < 250 {
        text.push_str("include a worked example and cite the sources; ");
    }
    text.truncate(250);
    // A real site's origin and wait, so the sizes measured are those of a real record.
    Content {
        origin: "https://chatgpt.com".into(),
        wait_ms: 8_000,
        ..content("chatgpt", "intent.include", &text, T0 + i)
    }
}

/// Bytes Automerge holds for one record written with [`sample_content`]: its JSON plus the
/// body's framing (magic 4 + version 1 + clock stamp 20 + nonce 24 + Poly1305 tag 16, see
/// FORMAT.md), so a raw-Automerge baseline can store a value of the same size.
pub fn sealed_body_len(i: u64) -> usize {
    serde_json::to_vec(&sample_content(i)).map_or(0, |v| v.len()) + 4 + 1 + 20 + 24 + 16
}

/// One row of the budget table.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub what: String,
    /// The figure, formatted with its unit.
    pub figure: String,
    /// The budget, formatted (empty when the row has none).
    pub budget: String,
    /// `Some(true)` within budget, `Some(false)` over, `None` without a budget.
    pub pass: Option<bool>,
}

impl Row {
    /// A row with a budget: `value <= limit` passes.
    pub fn budget(what: &str, value: f64, unit: &str, limit: f64) -> Self {
        Self {
            what: what.into(),
            figure: format!("{value:.1} {unit}"),
            budget: format!("<= {limit} {unit}"),
            pass: Some(value <= limit),
        }
    }

    /// Budget rows for two statistics of one timing, in ms: `what: mean` and `what: p50`, or
    /// `what: p50` and `what: p99`, against one limit.
    pub fn budgets_ms(what: &str, figures: [(&str, Duration); 2], limit: f64) -> [Self; 2] {
        figures.map(|(stat, d)| Self::budget(&format!("{what}: {stat}"), ms(d), "ms", limit))
    }

    /// How many times longer `slow` takes than `fast`, for information.
    pub fn speed_up(what: &str, slow: Duration, fast: Duration) -> Self {
        Self::info(
            what,
            format!("{:.0}x", slow.as_secs_f64() / fast.as_secs_f64()),
        )
    }

    /// A row for information only.
    pub fn info(what: &str, figure: String) -> Self {
        Self {
            what: what.into(),
            figure,
            budget: String::new(),
            pass: None,
        }
    }
}

/// Prints the table.
pub fn print_table(title: &str, rows: &[Row]) {
    let w = rows.iter().map(|r| r.what.len()).max().unwrap_or(0).max(4);
    let f = rows
        .iter()
        .map(|r| r.figure.len())
        .max()
        .unwrap_or(0)
        .max(6);
    let b = rows
        .iter()
        .map(|r| r.budget.len())
        .max()
        .unwrap_or(0)
        .max(6);
    println!("\n== {title} ==");
    println!(
        "{:<w$}  {:>f$}  {:<b$}  verdict",
        "what", "figure", "budget"
    );
    println!("{}", "-".repeat(w + f + b + 13));
    for r in rows {
        let verdict = match r.pass {
            Some(true) => "PASS",
            Some(false) => "OVER",
            None => "",
        };
        println!(
            "{:<w$}  {:>f$}  {:<b$}  {verdict}",
            r.what, r.figure, r.budget
        );
    }
}
