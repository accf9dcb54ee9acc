//! Replicas that write, edit, delete and change policies converge to one state.

use selfos_sync::testing::Network;
use selfos_vault::{Answer, MemoryStore, Policy, ResponseId};

use crate::support::{assert_converged, assert_no_trouble, content, network, ns, settle};

/// Records `text` in `agent`'s namespace on device `i` and tells its engine.
fn record(net: &mut Network<MemoryStore>, i: usize, agent: &str, text: &str) -> ResponseId {
    let now = net.now_ms;
    let id = net.devices[i]
        .vault
        .record(&ns(agent), content(agent, "intent.include", text, now), now)
        .expect("record");
    net.local_change(i).expect("local change");
    id
}

fn edit(net: &mut Network<MemoryStore>, i: usize, id: &ResponseId, text: &str) {
    let now = net.now_ms;
    net.devices[i]
        .vault
        .edit(id, Some(Answer::Text(text.into())), None, now)
        .expect("edit");
    net.local_change(i).expect("local change");
}

fn delete(net: &mut Network<MemoryStore>, i: usize, id: &ResponseId) {
    let now = net.now_ms;
    net.devices[i].vault.delete(id, now).expect("delete");
    net.local_change(i).expect("local change");
}

fn set_policy(net: &mut Network<MemoryStore>, i: usize, agent: &str, policy: Policy) {
    let now = net.now_ms;
    net.devices[i]
        .vault
        .set_policy(&ns(agent), policy, now)
        .expect("set policy");
    net.local_change(i).expect("local change");
}

fn text(net: &Network<MemoryStore>, i: usize, id: &ResponseId) -> Option<Answer> {
    net.devices[i]
        .vault
        .get(id)
        .expect("readable")
        .and_then(|r| r.content.answer)
}

#[test]
fn two_devices_converge_through_records_edits_deletes_and_policies() {
    let mut net = network(2, 1);
    let a1 = record(&mut net, 0, "chatgpt", "a: include a worked example");
    let a2 = record(&mut net, 0, "chatgpt", "a: cite sources");
    let a3 = record(&mut net, 0, "profile", "a: short answers");
    let b1 = record(&mut net, 1, "claude", "b: code first");
    let b2 = record(&mut net, 1, "chatgpt", "b: no emojis");
    settle(&mut net);
    assert_eq!(assert_converged(&mut net), 5);

    // Edits and deletes of the other device's records, and a policy change.
    edit(&mut net, 0, &b2, "b, edited on a: no emojis ever");
    delete(&mut net, 1, &a2);
    set_policy(&mut net, 0, "claude", Policy::UserMerge);
    settle(&mut net);
    assert_eq!(assert_converged(&mut net), 4);
    for i in 0..2 {
        assert_eq!(
            text(&net, i, &b2),
            Some(Answer::Text("b, edited on a: no emojis ever".into()))
        );
        assert_eq!(net.devices[i].vault.get(&a2).expect("readable"), None);
        assert_eq!(
            net.devices[i].vault.policy(&ns("claude")),
            Policy::UserMerge
        );
        assert_eq!(
            net.devices[i].vault.policy(&ns("chatgpt")),
            Policy::LastWriteWins
        );
    }

    // Concurrent edits: one conflict under each policy; a delete racing an edit.
    edit(&mut net, 0, &a1, "a1 by a");
    edit(&mut net, 1, &a1, "a1 by b");
    edit(&mut net, 0, &b1, "b1 by a");
    edit(&mut net, 1, &b1, "b1 by b");
    delete(&mut net, 0, &a3);
    edit(&mut net, 1, &a3, "a3 edited while deleted");
    settle(&mut net);
    assert_eq!(assert_converged(&mut net), 3);
    let conflicts = net.devices[0].vault.conflicts();
    assert_eq!(conflicts.len(), 2, "{conflicts:?}");
    assert!(conflicts.iter().all(|c| c.values.len() == 2));
    let pending: Vec<_> = conflicts.iter().filter(|c| c.is_pending()).collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, b1);
    assert_eq!(net.devices[1].vault.get(&a3).expect("readable"), None);
    assert_no_trouble(&net);
}

#[test]
fn three_devices_converge_with_one_offline_for_a_while() {
    let mut net = network(3, 2);
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(record(&mut net, i, "chatgpt", &format!("first from {i}")));
        ids.push(record(&mut net, i, "claude", &format!("second from {i}")));
    }
    settle(&mut net);
    assert_eq!(assert_converged(&mut net), 6);

    // Device 2 goes offline and writes; the others write, edit and delete meanwhile.
    net.disconnect(2);
    settle(&mut net);
    let offline = record(&mut net, 2, "gemini", "written offline");
    edit(&mut net, 2, &ids[0], "edited offline by 2");
    edit(&mut net, 1, &ids[0], "edited online by 1");
    delete(&mut net, 0, &ids[3]);
    set_policy(&mut net, 1, "chatgpt", Policy::UserMerge);
    let online = record(&mut net, 0, "chatgpt", "written while 2 was away");
    settle(&mut net);

    net.connect(2).expect("connect");
    settle(&mut net);
    assert_eq!(assert_converged(&mut net), 7);
    for i in 0..3 {
        let vault = &net.devices[i].vault;
        assert!(vault.get(&offline).expect("readable").is_some());
        assert!(vault.get(&online).expect("readable").is_some());
        assert_eq!(vault.get(&ids[3]).expect("readable"), None);
        assert_eq!(vault.policy(&ns("chatgpt")), Policy::UserMerge);
        let conflicts = vault.conflicts();
        assert_eq!(conflicts.len(), 1, "device {i}: {conflicts:?}");
        assert_eq!(conflicts[0].id, ids[0]);
        assert!(conflicts[0].is_pending());
    }
    assert_no_trouble(&net);
}
