//! Partitions, lost frames and relay restarts, then a heal: every replica ends identical.
//!
//! Automerge's sync protocol assumes in-order, reliable delivery within a session; a lost frame
//! can stall a session until it restarts. So the heal stops the losses, reconnects everyone and
//! restarts the relay (new sessions) before checking convergence. Without losses, partitions
//! and relay restarts alone must heal by reconnecting, with no extra restart.

use std::collections::BTreeSet;

use proptest::{prelude::*, test_runner::FileFailurePersistence};
use selfos_sync::harness::Network;
use selfos_vault::{Answer, MemoryStore, Policy, ResponseId, forensics::chunk_plaintexts};

use crate::support::{assert_converged, assert_no_trouble, content, network, ns, pass, settle};

const AGENTS: [&str; 3] = ["chatgpt", "claude", "profile"];

#[derive(Debug, Clone)]
enum Step {
    Record {
        device: usize,
        agent: usize,
    },
    Edit {
        device: usize,
        pick: usize,
    },
    Delete {
        device: usize,
        pick: usize,
    },
    Policy {
        device: usize,
        agent: usize,
        merge: bool,
    },
    Disconnect(usize),
    Connect(usize),
    Drops(u64),
    RestartRelay,
    Run(usize),
}

/// One step of a program; with `lossy`, steps may set a frame-loss rate.
fn step(lossy: bool) -> impl Strategy<Value = Step> {
    let device = 0..5usize;
    let drops = if lossy { 0..=300u64 } else { 0..=0u64 };
    prop_oneof![
        4 => (device.clone(), 0..AGENTS.len()).prop_map(|(device, agent)| Step::Record { device, agent }),
        3 => (device.clone(), any::<usize>()).prop_map(|(device, pick)| Step::Edit { device, pick }),
        2 => (device.clone(), any::<usize>()).prop_map(|(device, pick)| Step::Delete { device, pick }),
        1 => (device.clone(), 0..2usize, any::<bool>())
            .prop_map(|(device, agent, merge)| Step::Policy { device, agent, merge }),
        1 => device.clone().prop_map(Step::Disconnect),
        1 => device.prop_map(Step::Connect),
        1 => drops.prop_map(Step::Drops),
        1 => Just(Step::RestartRelay),
        3 => (1..200usize).prop_map(Step::Run),
    ]
}

/// Plays `program` on the replicas of `net`; returns the ids deleted anywhere.
fn play(net: &mut Network<MemoryStore>, program: &[Step]) -> BTreeSet<ResponseId> {
    let n = net.devices.len();
    let mut deleted = BTreeSet::new();
    let mut written = 0usize;
    for step in program {
        let now = net.now_ms;
        match *step {
            Step::Record { device, agent } => {
                let d = device % n;
                let agent = AGENTS[agent];
                written += 1;
                let text = format!("answer {written} from {d}");
                net.devices[d]
                    .vault
                    .record(
                        &ns(agent),
                        content(agent, "intent.include", &text, now),
                        now,
                    )
                    .expect("record");
                net.local_change(d).expect("local change");
            }
            Step::Edit { device, pick } => {
                let d = device % n;
                let live = net.devices[d].vault.list(None).responses;
                if let Some(r) = live.get(pick % live.len().max(1)) {
                    written += 1;
                    let text = Answer::Text(format!("edit {written} on {d}"));
                    net.devices[d]
                        .vault
                        .edit(&r.id, Some(text), None, now)
                        .expect("edit");
                    net.local_change(d).expect("local change");
                }
            }
            Step::Delete { device, pick } => {
                let d = device % n;
                let live = net.devices[d].vault.list(None).responses;
                if let Some(r) = live.get(pick % live.len().max(1)) {
                    net.devices[d].vault.delete(&r.id, now).expect("delete");
                    deleted.insert(r.id.clone());
                    net.local_change(d).expect("local change");
                }
            }
            Step::Policy {
                device,
                agent,
                merge,
            } => {
                let d = device % n;
                let policy = if merge {
                    Policy::UserMerge
                } else {
                    Policy::LastWriteWins
                };
                net.devices[d]
                    .vault
                    .set_policy(&ns(AGENTS[agent]), policy, now)
                    .expect("policy");
                net.local_change(d).expect("local change");
            }
            Step::Disconnect(device) => net.disconnect(device % n),
            Step::Connect(device) => net.connect(device % n).expect("connect"),
            Step::Drops(per_mille) => net.drop_per_mille = per_mille,
            Step::RestartRelay => net.restart_relay().expect("restart relay"),
            Step::Run(k) => {
                net.run(k).expect("network runs without error");
            }
        }
    }
    deleted
}

/// Stops the losses, reconnects everyone, restarts the relay if asked and runs until quiet.
fn heal(net: &mut Network<MemoryStore>, restart: bool) {
    net.drop_per_mille = 0;
    for i in 0..net.devices.len() {
        net.connect(i).expect("connect");
    }
    if restart {
        net.restart_relay().expect("restart relay");
    }
    settle(net);
}

fn check(devices: usize, seed: u64, program: &[Step], restart: bool) -> Result<(), TestCaseError> {
    let mut net = network(devices, seed);
    let deleted = play(&mut net, program);
    for device in &mut net.devices {
        device.events.clear();
    }
    heal(&mut net, restart);
    // Over a lossless relay, nothing is refused and nothing goes wrong.
    assert_no_trouble(&net);
    assert_converged(&mut net);
    for (i, device) in net.devices.iter().enumerate() {
        // Shredded for good: no stored chunk holds a deleted record's key any more.
        let (_, chunks) = chunk_plaintexts(device.vault.store(), &pass()).expect("forensics");
        for chunk in chunks {
            for (record, _) in chunk.keys {
                prop_assert!(
                    !deleted.iter().any(|id| id.record == record),
                    "device {} still stores the key of deleted {}",
                    i,
                    record
                );
            }
        }
        for id in &deleted {
            prop_assert_eq!(
                device.vault.get(id).expect("readable"),
                None,
                "device {}",
                i
            );
        }
        prop_assert!(
            device
                .vault
                .list(None)
                .responses
                .iter()
                .all(|r| !deleted.contains(&r.id)),
            "device {} lists a deleted response",
            i
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        // `PROPTEST_CASES=500` for a longer hunt.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(16),
        max_shrink_iters: 500,
        // Replica and record ids are random, so a saved case replays the program, not
        // necessarily the exact interleaving.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/partitions.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn replicas_converge_after_partitions_losses_and_relay_restarts(
        devices in 3..=5usize,
        seed in any::<u64>(),
        program in prop::collection::vec(step(true), 1..60),
    ) {
        check(devices, seed, &program, true)?;
    }

    #[test]
    fn without_losses_reconnecting_is_enough_to_converge(
        devices in 3..=5usize,
        seed in any::<u64>(),
        program in prop::collection::vec(step(false), 1..60),
    ) {
        check(devices, seed, &program, false)?;
    }
}
