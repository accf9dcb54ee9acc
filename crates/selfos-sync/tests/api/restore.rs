//! Devices whose folder was restored from a backup, or copied from another device, sync through
//! the engine like any other: no session fails, and everyone ends with everything.

use selfos_sync::testing::{Network, strategy::Op};
use selfos_vault::{MemoryStore, Vault};

use crate::support::{assert_converged, assert_no_trouble, network, pass, settle};

fn record(net: &mut Network<MemoryStore>, device: usize) {
    net.apply(&Op::Record { device, agent: 0 }).expect("record");
}

/// Replaces device `i`'s replica with one opened from `store`, as a device does after its disk
/// was restored.
fn reopen_from(net: &mut Network<MemoryStore>, i: usize, store: MemoryStore) {
    net.disconnect(i);
    net.devices[i].vault = Vault::open(store, &pass()).expect("open");
}

#[test]
fn a_device_restored_from_a_backup_syncs_through_the_engine() {
    let mut net = network(2, 7);
    record(&mut net, 0);
    settle(&mut net);
    let backup = net.devices[0].vault.store().clone();
    record(&mut net, 0);
    record(&mut net, 0);
    settle(&mut net);
    assert_eq!(assert_converged(&mut net), 3);

    reopen_from(&mut net, 0, backup);
    assert_eq!(net.devices[0].vault.list(None).responses.len(), 1);
    record(&mut net, 0);
    record(&mut net, 1);
    net.connect(0).expect("connect");
    settle(&mut net);
    assert_no_trouble(&net);
    assert_eq!(assert_converged(&mut net), 5, "what it lost came back");

    // Sessions go on working afterwards, both ways.
    record(&mut net, 0);
    settle(&mut net);
    record(&mut net, 1);
    settle(&mut net);
    assert_no_trouble(&net);
    assert_eq!(assert_converged(&mut net), 7);
}

#[test]
fn a_copied_device_and_its_original_take_turns_online_and_converge() {
    let mut net = network(2, 11);
    record(&mut net, 0);
    settle(&mut net);
    let copied = net.devices[0].vault.store().clone();
    let copy = net.add(Vault::open(copied, &pass()).expect("open the copy"));
    assert_eq!(
        net.devices[copy].vault.replica(),
        net.devices[0].vault.replica()
    );

    // The original records online; the copy records offline, then comes online in its place.
    record(&mut net, 0);
    settle(&mut net);
    record(&mut net, copy);
    net.disconnect(0);
    net.connect(copy).expect("connect the copy");
    settle(&mut net);
    record(&mut net, 1);
    settle(&mut net);
    net.disconnect(copy);
    net.connect(0).expect("connect the original");
    settle(&mut net);
    net.disconnect(0);
    net.connect(copy).expect("connect the copy again");
    settle(&mut net);
    assert_no_trouble(&net);
    assert_eq!(assert_converged(&mut net), 4);
}
