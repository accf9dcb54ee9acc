//! Pairing round trip on loopback: from both devices starting (each connects to the relay and
//! joins the code's rendezvous room) until the offering device holds the acknowledgement and
//! the accepting device the payload. The relay (`selfos_relay::Server`) runs in process on its
//! own runtime threads; every iteration pairs with a fresh code.
//!
//! Prints criterion's mean, then p50/p95 over the iterations timed by hand. Under `--test`
//! (`cargo test --benches`) a few iterations run; the figures mean nothing.

// Bench setup: a failure should abort the run loudly, not be handled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use criterion::{Criterion, SamplingMode};
use selfos::{
    net::{
        RelayAddress,
        pairing::{PairingOptions, accept, offer},
    },
    sync::pairing::PairingCode,
};
use selfos_benches::{Row, ms, percentile, print_table, test_mode};
use selfos_relay::{RelayConfig, Server};
use tokio::runtime::Runtime;
use zeroize::Zeroizing;

/// A payload the size of a vault secret and a few fields.
const PAYLOAD: [u8; 96] = [0x5a; 96];

/// One pairing with a fresh code; returns how long it took.
async fn pair_once(relay: &RelayAddress) -> Duration {
    let code = PairingCode::generate().unwrap();
    let typed: PairingCode = code.to_string().parse().unwrap();
    let opts = PairingOptions::new();
    let began = Instant::now();
    let offering = {
        let (relay, opts) = (relay.clone(), opts.clone());
        tokio::spawn(
            async move { offer(&relay, &code, Zeroizing::new(PAYLOAD.to_vec()), &opts).await },
        )
    };
    let payload = accept(relay, &typed, &opts).await.unwrap();
    offering.await.unwrap().unwrap();
    let took = began.elapsed();
    assert_eq!(&**payload, &PAYLOAD[..]);
    took
}

fn main() {
    let iterations = if test_mode() { 3 } else { 100 };
    let mut c = Criterion::default().configure_from_args();
    let rt = Runtime::new().unwrap();
    let server = rt
        .block_on(Server::spawn(RelayConfig::new(SocketAddr::from((
            [127, 0, 0, 1],
            0,
        )))))
        .unwrap();
    let relay: RelayAddress = format!("ws://{}", server.local_addr()).parse().unwrap();

    let mut rounds: Vec<Duration> = rt.block_on(async {
        let mut rounds = Vec::new();
        for _ in 0..iterations {
            rounds.push(pair_once(&relay).await);
        }
        rounds
    });

    let mut group = c.benchmark_group("pairing");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("offer-accept-via-relay-loopback", |bench| {
        bench.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += pair_once(&relay).await;
                }
                total
            })
        });
    });
    group.finish();
    c.final_summary();

    rounds.sort_unstable();
    let rows = [
        Row::info(
            "pairing round trip, loopback: p50",
            format!("{:.2} ms", ms(percentile(&rounds, 50.0).unwrap())),
        ),
        Row::info(
            "pairing round trip, loopback: p95",
            format!("{:.2} ms", ms(percentile(&rounds, 95.0).unwrap())),
        ),
    ];
    let title = if test_mode() {
        "pairing (test mode: figures mean nothing)"
    } else {
        "pairing"
    };
    print_table(title, &rows);
}
