//! A namespace's conflict policy is a last-write-wins field: concurrent settings are settled by
//! the hybrid logical clock, the same on every replica, whatever the merge order.

use selfos_vault::{MemoryStore, Policy, Vault};

use crate::support::{T0, XorShift, kdf, ns, pass};

/// Two replicas set a policy concurrently, one of them later by up to a minute; after merging
/// both ways, both hold the later one. Each case has fresh replica ids (which decide Automerge's
/// own pick), so the cases cover both orders of ids as well as both merge orders.
#[test]
fn concurrent_policies_are_settled_by_the_clock_whatever_the_merge_order() {
    let mut rng = XorShift::new(0x5e1f_0512);
    let agent = ns("claude");
    for case in 0..32u64 {
        let first = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
        let second =
            Vault::restore(MemoryStore::new(), &first.secret(), &pass(), kdf()).expect("join");
        let mut vaults = [first, second];
        let later = (case % 2) as usize;
        let (early_policy, late_policy) = if case / 2 % 2 == 0 {
            (Policy::UserMerge, Policy::LastWriteWins)
        } else {
            (Policy::LastWriteWins, Policy::UserMerge)
        };
        let early_ms = T0 + rng.range(0, 1_000);
        let late_ms = early_ms + rng.range(1, 60_000);
        vaults[1 - later]
            .set_policy(&agent, early_policy, early_ms)
            .expect("set policy");
        vaults[later]
            .set_policy(&agent, late_policy, late_ms)
            .expect("set policy");
        let [a, b] = &mut vaults;
        let now = late_ms + 1_000;
        if case / 4 % 2 == 0 {
            a.merge_from(b, now).expect("merge");
            b.merge_from(a, now).expect("merge");
        } else {
            b.merge_from(a, now).expect("merge");
            a.merge_from(b, now).expect("merge");
        }
        for (i, v) in vaults.iter().enumerate() {
            assert_eq!(v.policy(&agent), late_policy, "case {case}, replica {i}");
            // And after a reopen, from what was stored.
            let reopened = Vault::open(v.store().clone(), &pass()).expect("reopen");
            assert_eq!(
                reopened.policy(&agent),
                late_policy,
                "case {case}, replica {i}"
            );
        }
    }
}

/// A setting made after seeing another one wins over it even when the writer's wall clock is
/// behind, and over a concurrent setting the first one already beat.
#[test]
fn a_policy_set_after_seeing_another_wins_even_with_a_slow_clock() {
    let agent = ns("claude");
    let mut a = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
    let mut b = Vault::restore(MemoryStore::new(), &a.secret(), &pass(), kdf()).expect("join");
    let mut c = Vault::restore(MemoryStore::new(), &a.secret(), &pass(), kdf()).expect("join");
    c.set_policy(&agent, Policy::UserMerge, T0 + 30_000)
        .expect("set policy");
    a.set_policy(&agent, Policy::UserMerge, T0 + 60_000)
        .expect("set policy");
    b.merge_from(&mut a, T0).expect("merge");
    // b's wall clock is a minute behind a's.
    b.set_policy(&agent, Policy::LastWriteWins, T0)
        .expect("set policy");
    for v in [&mut a, &mut c] {
        v.merge_from(&mut b, T0 + 90_000).expect("merge");
    }
    b.merge_from(&mut c, T0 + 90_000).expect("merge");
    a.merge_from(&mut c, T0 + 90_000).expect("merge");
    for v in [&a, &b, &c] {
        assert_eq!(v.policy(&agent), Policy::LastWriteWins);
    }
}
