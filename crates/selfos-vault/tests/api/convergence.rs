//! Replicas that record, edit, delete and set policies, merging in any order, converge.

use std::collections::{BTreeMap, BTreeSet};

use proptest::{
    prelude::*,
    test_runner::{Config, FileFailurePersistence},
};
use selfos_vault::{
    Answer, Content, MemoryStore, MergeReport, Namespace, Policy, Response, ResponseId, Vault,
};

use crate::support::{T0, content, ns, pair_mut, pass};

const AGENTS: [&str; 3] = ["chatgpt", "claude", "profile"];

#[derive(Debug, Clone)]
enum Op {
    Record {
        replica: usize,
        agent: usize,
        text: u16,
    },
    Edit {
        replica: usize,
        pick: usize,
        text: u16,
    },
    Delete {
        replica: usize,
        pick: usize,
    },
    Policy {
        replica: usize,
        agent: usize,
        user_merge: bool,
    },
    /// `to` merges from `from`; `twice` repeats the merge at once (a duplicate delivery).
    Exchange {
        to: usize,
        from: usize,
        twice: bool,
    },
    /// Drops a replica and opens it again from its store.
    Reopen {
        replica: usize,
    },
    /// Keeps a copy of a replica's store, as a backup.
    Backup {
        replica: usize,
    },
    /// A replica that synced with a neighbour loses its disk, which is restored from its last
    /// backup (if it has one).
    Restore {
        replica: usize,
    },
    /// A replica's folder is copied to a new device (up to [`MAX_REPLICAS`]).
    Copy {
        replica: usize,
    },
}

/// Copies stop adding replicas here.
const MAX_REPLICAS: usize = 7;

fn op(reopen: bool) -> impl Strategy<Value = Op> {
    let r = 0usize..5;
    let reopen_weight = if reopen { 2 } else { 0 };
    prop_oneof![
        4 => (r.clone(), 0usize..3, any::<u16>())
            .prop_map(|(replica, agent, text)| Op::Record { replica, agent, text }),
        2 => (r.clone(), any::<usize>(), any::<u16>())
            .prop_map(|(replica, pick, text)| Op::Edit { replica, pick, text }),
        1 => (r.clone(), any::<usize>()).prop_map(|(replica, pick)| Op::Delete { replica, pick }),
        1 => (r.clone(), 0usize..3, any::<bool>())
            .prop_map(|(replica, agent, user_merge)| Op::Policy { replica, agent, user_merge }),
        4 => (r.clone(), r.clone(), any::<bool>())
            .prop_map(|(to, from, twice)| Op::Exchange { to, from, twice }),
        reopen_weight => r.clone().prop_map(|replica| Op::Reopen { replica }),
        1 => r.clone().prop_map(|replica| Op::Backup { replica }),
        1 => r.clone().prop_map(|replica| Op::Restore { replica }),
        1 => r.prop_map(|replica| Op::Copy { replica }),
    ]
}

/// What the test knows should be true, whatever the order of delivery.
#[derive(Default)]
struct Oracle {
    /// Every value ever written to each record.
    written: BTreeMap<ResponseId, Vec<Content>>,
    deleted: BTreeSet<ResponseId>,
}

/// Reopens a replica from a copy of its store and checks that nothing changed.
fn reopen(vault: Vault<MemoryStore>) -> Vault<MemoryStore> {
    let store = vault.store().clone();
    let before = vault;
    let listing = before.list(None).responses;
    let conflicts = before.conflicts();
    let names = namespaces_with_settings(&before);
    let heads: Vec<_> = names.iter().map(|n| before.heads(n)).collect();
    let replica = before.replica();
    drop(before);
    let after = Vault::open(store, &pass()).expect("reopen");
    assert_eq!(after.replica(), replica);
    assert!(after.damaged().is_empty(), "{:?}", after.damaged());
    assert_eq!(after.list(None).responses, listing, "list after reopen");
    assert_eq!(after.conflicts(), conflicts, "conflicts after reopen");
    for (n, h) in names.iter().zip(heads) {
        assert_eq!(after.heads(n), h, "heads of {n} after reopen");
    }
    after
}

fn namespaces_with_settings<S: selfos_vault::ChunkStore>(v: &Vault<S>) -> Vec<Namespace> {
    let mut names = v.namespaces();
    names.push(Namespace::settings());
    names
}

fn run(
    replicas: usize,
    agents: usize,
    ops: Vec<Op>,
    reopen_at_end: bool,
) -> Vec<Vault<MemoryStore>> {
    let agents: Vec<Namespace> = AGENTS[..agents].iter().map(|a| ns(a)).collect();
    let mut vaults = selfos_testkit::replicas(replicas);
    let mut backups: BTreeMap<usize, MemoryStore> = BTreeMap::new();
    // Device clocks disagree by seconds; the hybrid logical clock must cope.
    let skew = |r: usize| [0i64, -4_000, 2_500, -700, 9_000][r];
    let mut oracle = Oracle::default();
    let mut step = 0u64;
    for op in ops {
        step += 1;
        let now = |r: usize| (T0 as i64 + step as i64 * 1_000 + skew(r % 5)) as u64;
        let replicas = vaults.len();
        match op {
            Op::Record {
                replica,
                agent,
                text,
            } => {
                let r = replica % replicas;
                let a = &agents[agent % agents.len()];
                let c = content(a.as_str(), &format!("answer {text} from {r}"), now(r));
                let id = vaults[r].record(a, c.clone(), now(r)).expect("record");
                oracle.written.entry(id).or_default().push(c);
            }
            Op::Edit {
                replica,
                pick,
                text,
            } => {
                let r = replica % replicas;
                let live = vaults[r].list(None).responses;
                if live.is_empty() {
                    continue;
                }
                let id = live[pick % live.len()].id.clone();
                let answer = Answer::Text(format!("edit {text} by {r}"));
                let edited = vaults[r]
                    .edit(&id, Some(answer), None, now(r))
                    .expect("edit");
                assert_eq!(vaults[r].get(&id).expect("get"), Some(edited.clone()));
                oracle.written.entry(id).or_default().push(edited.content);
            }
            Op::Delete { replica, pick } => {
                let r = replica % replicas;
                let live = vaults[r].list(None).responses;
                if live.is_empty() {
                    continue;
                }
                let id = live[pick % live.len()].id.clone();
                let report = vaults[r].delete(&id, now(r)).expect("delete");
                assert!(report.shredded_in_this_replica);
                assert_eq!(vaults[r].get(&id).expect("get"), None);
                oracle.deleted.insert(id);
            }
            Op::Policy {
                replica,
                agent,
                user_merge,
            } => {
                let r = replica % replicas;
                let policy = if user_merge {
                    Policy::UserMerge
                } else {
                    Policy::LastWriteWins
                };
                let a = &agents[agent % agents.len()];
                vaults[r].set_policy(a, policy, now(r)).expect("set policy");
                assert_eq!(vaults[r].policy(a), policy);
            }
            Op::Exchange { to, from, twice } => {
                let (to, from) = (to % replicas, from % replicas);
                if to == from {
                    continue;
                }
                let (a, b) = pair_mut(&mut vaults, to, from);
                a.merge_from(b, now(to)).expect("merge");
                if twice {
                    let again = a.merge_from(b, now(to)).expect("merge again");
                    assert_eq!(
                        again,
                        MergeReport::default(),
                        "a repeated merge brings nothing"
                    );
                }
            }
            Op::Reopen { replica } => {
                let r = replica % replicas;
                let v = vaults.remove(r);
                vaults.insert(r, reopen(v));
            }
            Op::Backup { replica } => {
                let r = replica % replicas;
                backups.insert(r, vaults[r].store().clone());
            }
            Op::Restore { replica } => {
                let r = replica % replicas;
                let Some(backup) = backups.get(&r) else {
                    continue;
                };
                // What it wrote since the backup lives on in a neighbour, as it would have
                // through sync; its own disk goes back in time.
                let (a, b) = pair_mut(&mut vaults, (r + 1) % replicas, r);
                a.merge_from(b, now(r)).expect("merge before the restore");
                vaults[r] = Vault::open(backup.clone(), &pass()).expect("open the backup");
            }
            Op::Copy { replica } => {
                if replicas < MAX_REPLICAS {
                    let store = vaults[replica % replicas].store().clone();
                    vaults.push(Vault::open(store, &pass()).expect("open the copy"));
                }
            }
        }
    }

    // Eventual delivery: every replica merges from every other until nothing changes.
    let end = T0 + (step + 10) * 1_000;
    let mut rounds = 0;
    let replicas = vaults.len();
    loop {
        let mut changed = false;
        for i in 0..replicas {
            for j in 0..replicas {
                if i != j {
                    let (a, b) = pair_mut(&mut vaults, i, j);
                    changed |= !a.merge_from(b, end).expect("merge").namespaces.is_empty();
                }
            }
        }
        if !changed {
            break;
        }
        rounds += 1;
        assert!(rounds <= 3, "merging did not settle after {rounds} rounds");
    }
    assert_converged(&mut vaults, &oracle);
    if reopen_at_end {
        vaults = vaults.into_iter().map(reopen).collect();
        assert_converged(&mut vaults, &oracle);
    }
    vaults
}

fn summary(list: &[Response]) -> Vec<(ResponseId, Content, selfos_vault::Hlc, bool)> {
    list.iter()
        .map(|r| (r.id.clone(), r.content.clone(), r.updated, r.conflicted))
        .collect()
}

fn assert_converged(vaults: &mut [Vault<MemoryStore>], oracle: &Oracle) {
    let expected: BTreeSet<ResponseId> = oracle
        .written
        .keys()
        .filter(|id| !oracle.deleted.contains(id))
        .cloned()
        .collect();
    let names: BTreeSet<Namespace> = vaults.iter().flat_map(namespaces_with_settings).collect();
    let reference_list = vaults[0].list(None);
    let reference_conflicts = vaults[0].conflicts();
    let reference_heads: Vec<_> = names.iter().map(|n| vaults[0].heads(n)).collect();
    let reference_policies: Vec<Policy> = names.iter().map(|n| vaults[0].policy(n)).collect();
    for (i, v) in vaults.iter_mut().enumerate() {
        let listing = v.list(None);
        assert!(
            listing.unreadable.is_empty(),
            "replica {i}: {:?}",
            listing.unreadable
        );
        let ids: BTreeSet<ResponseId> = listing.responses.iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids, expected, "replica {i} holds the wrong records");
        assert_eq!(
            summary(&listing.responses),
            summary(&reference_list.responses),
            "replica {i} lists differently"
        );
        for r in &listing.responses {
            assert!(
                oracle.written[&r.id].contains(&r.content),
                "replica {i}: {} shows a value nobody wrote",
                r.id
            );
        }
        for id in &oracle.deleted {
            assert_eq!(v.get(id).expect("get"), None, "replica {i} still has {id}");
        }
        assert_eq!(v.conflicts(), reference_conflicts, "replica {i} conflicts");
        for c in &reference_conflicts {
            assert!(c.values.len() >= 2);
            assert!(
                !oracle.deleted.contains(&c.id),
                "a deleted record is in conflict"
            );
            // Latest first: under last-write-wins the first value is what the list shows.
            assert!(c.values.windows(2).all(|w| w[0].updated >= w[1].updated));
            let shown = listing
                .responses
                .iter()
                .find(|r| r.id == c.id)
                .expect("listed");
            assert_eq!(Ok(&shown.content), c.values[0].content.as_ref());
            assert!(shown.conflicted);
        }
        for (n, h) in names.iter().zip(&reference_heads) {
            assert_eq!(&v.heads(n), h, "replica {i}: heads of {n}");
        }
        let policies: Vec<Policy> = names.iter().map(|n| v.policy(n)).collect();
        assert_eq!(policies, reference_policies, "replica {i} policies");
    }
}

proptest! {
    #![proptest_config(Config {
        cases: 24,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/convergence.txt",
        ))),
        ..Config::default()
    })]

    #[test]
    fn replicas_converge(
        replicas in 3usize..=5,
        agents in 2usize..=3,
        ops in proptest::collection::vec(op(false), 10..48),
    ) {
        run(replicas, agents, ops, false);
    }

    #[test]
    fn replicas_converge_across_reopens(
        replicas in 3usize..=5,
        agents in 2usize..=3,
        ops in proptest::collection::vec(op(true), 10..48),
    ) {
        run(replicas, agents, ops, true);
    }
}

/// A fixed program with a concurrent edit: the conflict is listed identically everywhere, also
/// after every replica is reopened from its store.
#[test]
fn concurrent_edits_conflict_identically_everywhere() {
    let ops = vec![
        Op::Record {
            replica: 0,
            agent: 0,
            text: 1,
        },
        Op::Record {
            replica: 1,
            agent: 1,
            text: 2,
        },
        Op::Exchange {
            to: 2,
            from: 0,
            twice: false,
        },
        Op::Exchange {
            to: 2,
            from: 1,
            twice: true,
        },
        Op::Exchange {
            to: 0,
            from: 2,
            twice: false,
        },
        // Replicas 0 and 2 edit the same record (the oldest one) without seeing each other.
        Op::Edit {
            replica: 2,
            pick: 0,
            text: 3,
        },
        Op::Edit {
            replica: 0,
            pick: 0,
            text: 4,
        },
        Op::Policy {
            replica: 1,
            agent: 1,
            user_merge: true,
        },
        Op::Record {
            replica: 2,
            agent: 2,
            text: 5,
        },
    ];
    let mut vaults = run(3, 3, ops, true);
    for v in &mut vaults {
        let conflicts = v.conflicts();
        assert_eq!(conflicts.len(), 1, "{conflicts:?}");
        assert_eq!(conflicts[0].policy, Policy::UserMerge);
        assert!(conflicts[0].is_pending());
        assert_eq!(conflicts[0].values.len(), 2);
    }
}

/// An edit made after seeing a value wins over it, even when the value came from a device whose
/// clock runs a minute ahead, through a merge or a sync, and also after the editor reopens.
#[test]
fn an_edit_after_seeing_a_value_wins_over_it_whatever_the_clocks() {
    let chatgpt = ns("chatgpt");
    for reopen_first in [false, true] {
        let mut vaults = selfos_testkit::replicas(2);
        let ahead = T0 + 60_000;
        let id = vaults[0]
            .record(
                &chatgpt,
                content("chatgpt", "from the fast clock", T0),
                ahead,
            )
            .expect("record");
        let (slow, fast) = pair_mut(&mut vaults, 1, 0);
        slow.merge_from(fast, T0).expect("merge");
        let mut slow = if reopen_first {
            Vault::open(vaults.remove(1).into_store(), &pass()).expect("reopen")
        } else {
            vaults.remove(1)
        };
        let edited = slow
            .edit(&id, Some(Answer::Text("edited later".into())), None, T0 + 1)
            .expect("edit");
        assert!(edited.updated.wall_ms >= ahead, "{:?}", edited.updated);
        vaults[0].merge_from(&mut slow, T0 + 2).expect("merge back");
        for v in [&vaults[0], &slow] {
            let shown = v.get(&id).expect("get").expect("present");
            assert_eq!(
                shown.content.answer,
                Some(Answer::Text("edited later".into()))
            );
            assert!(!shown.conflicted);
        }
    }
}
