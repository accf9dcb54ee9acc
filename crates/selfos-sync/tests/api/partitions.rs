//! Partitions, faulty wires and relay restarts, then a heal: every replica ends identical.
//!
//! Automerge's sync protocol assumes in-order, reliable delivery within a session; a lost,
//! duplicated or reordered frame can stall a session until it restarts. So the heal stops the
//! faults, reconnects everyone and, after a fault, restarts the relay (new sessions) before
//! checking convergence. Without faults, partitions and relay restarts alone must heal by
//! reconnecting, with no extra restart.

use std::collections::BTreeSet;

use proptest::{prelude::*, test_runner::FileFailurePersistence};
use selfos_sync::testing::strategy::{Op, Outcome, Wire, ops};
use selfos_vault::{ResponseId, forensics::chunk_plaintexts};

use crate::support::{assert_converged, assert_no_trouble, network, pass};

fn check(devices: usize, seed: u64, program: &[Op], wire: Wire) -> Result<(), TestCaseError> {
    let mut net = network(devices, seed);
    let mut deleted = BTreeSet::<ResponseId>::new();
    for op in program {
        if let Outcome::Deleted(id) = net.apply(op).expect("the operation applies") {
            deleted.insert(id);
        }
    }
    for device in &mut net.devices {
        device.events.clear();
    }
    let faulted = net.stats.lost + net.stats.duplicated + net.stats.reordered > 0;
    prop_assert!(
        wire == Wire::Faulty || !faulted,
        "faults on a reliable wire"
    );
    net.heal().expect("the network heals");
    // Over a healed wire, nothing is refused and nothing goes wrong.
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
    fn replicas_converge_after_partitions_faults_and_relay_restarts(
        devices in 3..=5usize,
        seed in any::<u64>(),
        program in ops(Wire::Faulty, 1..60),
    ) {
        check(devices, seed, &program, Wire::Faulty)?;
    }

    #[test]
    fn without_faults_reconnecting_is_enough_to_converge(
        devices in 3..=5usize,
        seed in any::<u64>(),
        program in ops(Wire::Reliable, 1..60),
    ) {
        check(devices, seed, &program, Wire::Reliable)?;
    }
}
