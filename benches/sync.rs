//! Sync benchmarks, against the budget in DESIGN.md ("Budgets"):
//!
//! 1. one answer recorded on device A applied on device B through a relay on loopback: the
//!    relay (`selfos_relay::Server`) runs in process on its own runtime threads; each device is a
//!    vault with a hand-driven `SyncEngine` over a tokio-tungstenite WebSocket, joined to the
//!    room and synced up before timing starts. One iteration = `record()` on A until the answer
//!    can be read on B (`Vault::get`). p50/p95 over the iterations, budget p95 <= 20 ms; criterion
//!    reports the mean of the same loop.
//! 2. bytes on the wire for one new answer: the payload bytes of every WebSocket message between
//!    either device and the relay, both ways, from the `record()` until the exchange is quiet
//!    (the answer, the acknowledgements, the key-table delta): the median over the iterations.
//!
//! 3. bursts (issue "cost per change"): 250, 1,000 and 5,000 answers written alternately on A and
//!    B as fast as each device can, each device telling its peer after every write and taking in
//!    what has arrived, through the relay, until both hold everything. Per burst: answers per
//!    second, client CPU per answer (the CPU time of the thread that runs both devices; the relay
//!    runs on other threads) and bytes on the wire per answer. A cost per change that grew with
//!    the vault would make the larger bursts slower; the budget is that the 5,000 burst runs at
//!    >= 0.8x the rate of the 250 burst, measured in the same run.
//!
//! A summary table with PASS/OVER is printed at the end. Under `--test` (`cargo test --benches`)
//! a few iterations run; the figures mean nothing.

// Bench setup: a failure should abort the run loudly, not be handled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use criterion::{Criterion, SamplingMode};
use futures_util::{FutureExt, StreamExt};
use selfos::{
    net::RelayAddress,
    vault::{MemoryStore, ResponseId, Vault},
};
use selfos_benches::{Device, Row, ms, percentile, print_table, pump, sample_content, test_mode};
use selfos_relay::{RelayConfig, Server};
use selfos_testkit::{now_ms, ns, replicas};
use tokio::runtime::Runtime;

/// After the answer is visible on B, the exchange counts as over once nothing arrives for this
/// long (the last acknowledgements).
const SETTLE: Duration = Duration::from_millis(15);

/// Two devices of one vault, in the room together and in sync.
async fn devices(relay: &RelayAddress) -> (Device, Device) {
    let [mut va, vb]: [Vault<MemoryStore>; 2] = replicas(2).try_into().unwrap();
    va.record(&ns("chatgpt"), sample_content(0), now_ms())
        .unwrap();
    let mut a = Device::connect(va, relay).await;
    let mut b = Device::connect(vb, relay).await;
    // Challenge, join, first sync: until B holds A's first answer and all is quiet.
    pump(&mut a, &mut b, Duration::from_millis(100), |b| {
        b.vault.list(None).responses.len() == 1
    })
    .await;
    (a, b)
}

/// One answer from A to B: the time from `record()` to readable on B, and the bytes moved.
async fn one_answer(a: &mut Device, b: &mut Device, i: u64) -> (Duration, usize) {
    let bytes_before = a.bytes + b.bytes;
    let started = Instant::now();
    let id: ResponseId = a
        .vault
        .record(&ns("chatgpt"), sample_content(i), now_ms())
        .unwrap();
    a.engine.local_change(&mut a.vault).unwrap();
    let mut arrived = None;
    pump(a, b, SETTLE, |b| {
        let seen = b.vault.get(&id).unwrap().is_some();
        if seen && arrived.is_none() {
            arrived = Some(started.elapsed());
        }
        seen
    })
    .await;
    (arrived.unwrap(), a.bytes + b.bytes - bytes_before)
}

/// CPU time of the calling thread so far (Linux: `/proc/thread-self/schedstat`).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    let ns: u64 = stat.split_whitespace().next().unwrap().parse().unwrap();
    Duration::from_nanos(ns)
}

/// Takes in every message that has already arrived on either device, without waiting.
async fn take_in_ready(a: &mut Device, b: &mut Device) {
    loop {
        a.flush().await;
        b.flush().await;
        let mut any = false;
        while let Some(Some(Ok(message))) = a.stream.next().now_or_never() {
            a.handle(message);
            any = true;
        }
        while let Some(Some(Ok(message))) = b.stream.next().now_or_never() {
            b.handle(message);
            any = true;
        }
        if !any {
            return;
        }
    }
}

/// What one burst measured.
struct Burst {
    answers: u64,
    elapsed: Duration,
    cpu: Duration,
    bytes: usize,
}

impl Burst {
    fn rate(&self) -> f64 {
        self.answers as f64 / self.elapsed.as_secs_f64()
    }
}

/// `n` answers written alternately on two fresh devices, until both hold all of them.
async fn burst(relay: &RelayAddress, n: u64) -> Burst {
    let chatgpt = ns("chatgpt");
    let (mut a, mut b) = devices(relay).await;
    let bytes_before = a.bytes + b.bytes;
    let (started, cpu_before) = (Instant::now(), thread_cpu());
    for i in 0..n {
        let device = if i % 2 == 0 { &mut a } else { &mut b };
        device
            .vault
            .record(&chatgpt, sample_content(i + 1), now_ms())
            .unwrap();
        device.engine.local_change(&mut device.vault).unwrap();
        take_in_ready(&mut a, &mut b).await;
    }
    while a.vault.heads(&chatgpt) != b.vault.heads(&chatgpt) {
        pump(&mut a, &mut b, SETTLE, |_| true).await;
    }
    let burst = Burst {
        answers: n,
        elapsed: started.elapsed(),
        cpu: thread_cpu() - cpu_before,
        bytes: a.bytes + b.bytes - bytes_before,
    };
    assert_eq!(b.vault.list(None).responses.len() as u64, n + 1);
    burst
}

fn main() {
    let iterations: u64 = if test_mode() { 5 } else { 200 };
    let mut c = Criterion::default().configure_from_args();
    let rt = Runtime::new().unwrap();
    let server = rt
        .block_on(Server::spawn(RelayConfig::new(SocketAddr::from((
            [127, 0, 0, 1],
            0,
        )))))
        .unwrap();
    let relay: RelayAddress = format!("ws://{}", server.local_addr()).parse().unwrap();
    let (mut a, mut b) = rt.block_on(devices(&relay));

    let mut latencies = Vec::new();
    let mut bytes = Vec::new();
    let mut next = 1;
    rt.block_on(async {
        for _ in 0..iterations {
            let (latency, moved) = one_answer(&mut a, &mut b, next).await;
            next += 1;
            latencies.push(latency);
            bytes.push(moved);
        }
    });

    let mut group = c.benchmark_group("sync");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("one-answer-a-to-b-via-relay", |bench| {
        bench.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += one_answer(&mut a, &mut b, next).await.0;
                    next += 1;
                }
                total
            })
        });
    });
    group.finish();
    c.final_summary();

    latencies.sort_unstable();
    bytes.sort_unstable();
    let p50 = percentile(&latencies, 50.0).unwrap();
    let p95 = percentile(&latencies, 95.0).unwrap();
    let max = *latencies.last().unwrap();
    let bytes_p50 = bytes[bytes.len() / 2];
    let mut rows = vec![
        Row::info(
            "one answer A -> B via relay, loopback: p50",
            format!("{:.1} ms", ms(p50)),
        ),
        Row::budget(
            "one answer A -> B via relay, loopback: p95",
            ms(p95),
            "ms",
            20.0,
        ),
        Row::info(
            "one answer A -> B via relay, loopback: max",
            format!("{:.1} ms", ms(max)),
        ),
        Row::info(
            "bytes on the wire for one new answer (median, both ways, A and B)",
            format!(
                "{bytes_p50} B (min {}, max {})",
                bytes[0],
                bytes[bytes.len() - 1]
            ),
        ),
        Row::info(
            "of which the answer itself (its JSON)",
            format!(
                "{} B",
                serde_json::to_vec(&sample_content(1)).map_or(0, |v| v.len())
            ),
        ),
        Row::info("iterations", format!("{}", latencies.len())),
    ];
    let sizes: &[u64] = if test_mode() {
        &[10, 20, 40]
    } else {
        &[250, 1_000, 5_000]
    };
    let bursts: Vec<Burst> = sizes
        .iter()
        .map(|&n| rt.block_on(burst(&relay, n)))
        .collect();
    for b in &bursts {
        rows.push(Row::info(
            &format!("burst of {} answers, A and B in turn", b.answers),
            format!(
                "{:.0} answers/s, {:.0} us CPU and {} B per answer",
                b.rate(),
                b.cpu.as_secs_f64() * 1e6 / b.answers as f64,
                b.bytes / b.answers as usize
            ),
        ));
    }
    if let (Some(first), Some(last)) = (bursts.first(), bursts.last()) {
        rows.push(Row::budget(
            &format!(
                "slowdown: rate of {} / rate of {} answers",
                first.answers, last.answers
            ),
            first.rate() / last.rate(),
            "x",
            1.25,
        ));
    }
    rt.block_on(server.shutdown());
    let title = if test_mode() {
        "sync budgets (TEST MODE: few iterations, figures meaningless)"
    } else {
        "sync budgets"
    };
    print_table(title, &rows);
}
