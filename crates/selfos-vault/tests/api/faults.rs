//! The OS refuses writes (disk full, read-only): the vault reports it, changes nothing in
//! memory, and after the fault clears holds exactly the acknowledged writes.

use std::{
    cell::Cell,
    collections::{BTreeMap, BTreeSet},
    rc::Rc,
};

use selfos_vault::{
    Answer, ChunkId, ChunkStore, Cursor, MemoryStore, Namespace, Response, ResponseId, StoreError,
    Vault, WriteError,
};

use crate::support::{T0, XorShift, content, kdf, ns, pass};

/// A store that fails every write and delete once its budget of successful writes is spent.
#[derive(Debug)]
struct FaultyStore {
    inner: MemoryStore,
    /// Writes (and deletes) still allowed; `None` means no fault. Shared with the test, which
    /// sets it while the vault owns the store.
    budget: Rc<Cell<Option<usize>>>,
    fault: fn() -> StoreError,
}

impl FaultyStore {
    fn spend(&mut self) -> Result<(), StoreError> {
        match self.budget.get() {
            None => Ok(()),
            Some(0) => Err((self.fault)()),
            Some(n) => {
                self.budget.set(Some(n - 1));
                Ok(())
            }
        }
    }
}

impl ChunkStore for FaultyStore {
    fn read_header(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.read_header()
    }
    fn write_header(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.spend()?;
        self.inner.write_header(bytes)
    }
    fn namespaces(&self) -> Result<Vec<Namespace>, StoreError> {
        self.inner.namespaces()
    }
    fn list(&self, ns: &Namespace) -> Result<Vec<ChunkId>, StoreError> {
        self.inner.list(ns)
    }
    fn read(&self, ns: &Namespace, id: &ChunkId) -> Result<Vec<u8>, StoreError> {
        self.inner.read(ns, id)
    }
    fn write(&mut self, ns: &Namespace, id: &ChunkId, bytes: &[u8]) -> Result<(), StoreError> {
        self.spend()?;
        self.inner.write(ns, id, bytes)
    }
    fn delete(&mut self, ns: &Namespace, id: &ChunkId) -> Result<(), StoreError> {
        self.spend()?;
        self.inner.delete(ns, id)
    }
    fn read_peer_state(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.read_peer_state(name)
    }
    fn write_peer_state(&mut self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.spend()?;
        self.inner.write_peer_state(name, bytes)
    }
}

fn full() -> StoreError {
    StoreError::Full
}

fn unwritable() -> StoreError {
    StoreError::Unwritable("read-only file system".into())
}

fn is_fault(e: &WriteError, fault: fn() -> StoreError) -> bool {
    match (e, fault()) {
        (WriteError::Store(StoreError::Full), StoreError::Full) => true,
        (WriteError::Store(StoreError::Unwritable(a)), StoreError::Unwritable(b)) => *a == b,
        _ => false,
    }
}

/// Runs many writes, some of them under a fault that strikes after 0, 1 or 2 more writes (so
/// it hits the chunk write itself, or a compaction after it). Returns the count of refusals.
fn writes_under_fault(fault: fn() -> StoreError, seed: u64) -> usize {
    let budget = Rc::new(Cell::new(None));
    let store = FaultyStore {
        inner: MemoryStore::new(),
        budget: Rc::clone(&budget),
        fault,
    };
    let mut vault = Vault::create(store, &pass(), kdf()).expect("create");
    let namespaces = [ns("chatgpt"), ns("claude")];
    let mut rng = XorShift::new(seed);
    let mut acked: BTreeSet<ResponseId> = BTreeSet::new();
    let mut refused = 0;
    // A reader kept by the change feed (a refused write reloads its document, which the feed
    // must notice) matches the listing after every step.
    let mut reader: BTreeMap<ResponseId, Response> = BTreeMap::new();
    let mut cursor = Cursor::default();
    for step in 0..80u64 {
        let t = T0 + step * 1_000;
        let faulted = rng.range(0, 3) == 0;
        budget.set(faulted.then(|| rng.range(0, 3) as usize));
        let before_list = vault.list(None).responses;
        let before_store = vault.store().inner.clone();
        let live: Vec<ResponseId> = before_list.iter().map(|r| r.id.clone()).collect();
        let what = rng.range(0, 10);
        let result: Result<Option<ResponseId>, WriteError> = if what < 7 || live.is_empty() {
            let n = &namespaces[step as usize % 2];
            vault
                .record(n, content(n.as_str(), &format!("answer {step}"), t), t)
                .map(Some)
        } else {
            let id = &live[rng.range(0, live.len() as u64) as usize];
            vault
                .edit(id, Some(Answer::Text(format!("edit {step}"))), None, t)
                .map(|_| None)
        };
        match result {
            Ok(recorded) => acked.extend(recorded),
            Err(e) => {
                assert!(faulted, "a write failed without a fault: {e}");
                assert!(is_fault(&e, fault), "{e:?}");
                refused += 1;
                assert_eq!(vault.list(None).responses, before_list, "memory changed");
                assert_eq!(vault.store().inner, before_store, "storage changed");
            }
        }
        let ids: BTreeSet<ResponseId> = vault
            .list(None)
            .responses
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, acked);
        let changes = vault.changed_since(&cursor);
        if changes.everything {
            reader.clear();
        }
        for id in &changes.gone {
            reader.remove(id);
        }
        reader.extend(changes.responses.into_iter().map(|r| (r.id.clone(), r)));
        cursor = changes.cursor;
        let mut listed = vault.list(None).responses;
        listed.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(reader.values().cloned().collect::<Vec<_>>(), listed);
    }

    // The fault clears: writes succeed, and a reopen shows exactly what was acknowledged.
    budget.set(None);
    let t = T0 + 1_000_000;
    let last = vault
        .record(&namespaces[0], content("chatgpt", "after the fault", t), t)
        .expect("record after the fault");
    acked.insert(last);
    let listing = vault.list(None).responses;
    let store = vault.store().inner.clone();
    drop(vault);
    let reopened = Vault::open(store, &pass()).expect("reopen");
    assert!(reopened.damaged().is_empty());
    assert_eq!(reopened.list(None).responses, listing);
    let ids: BTreeSet<ResponseId> = listing.into_iter().map(|r| r.id).collect();
    assert_eq!(ids, acked);
    refused
}

#[test]
fn storage_full_refuses_writes_and_changes_nothing() {
    let refused: usize = (1..=3).map(|seed| writes_under_fault(full, seed)).sum();
    assert!(refused >= 10, "the fault struck only {refused} times");
}

#[test]
fn unwritable_storage_refuses_writes_and_changes_nothing() {
    let refused: usize = (11..=13)
        .map(|seed| writes_under_fault(unwritable, seed))
        .sum();
    assert!(refused >= 10, "the fault struck only {refused} times");
}

/// A delete the store refuses outright changes nothing; one whose tombstone is stored but whose
/// compaction is refused is a delete all the same, and says the key is not yet shredded
/// everywhere. After the fault clears, the next write finishes the shredding.
#[test]
fn delete_under_fault() {
    let budget = Rc::new(Cell::new(None));
    let store = FaultyStore {
        inner: MemoryStore::new(),
        budget: Rc::clone(&budget),
        fault: full,
    };
    let mut vault = Vault::create(store, &pass(), kdf()).expect("create");
    let chatgpt = ns("chatgpt");
    let ids: Vec<ResponseId> = (0..4)
        .map(|i| {
            let t = T0 + i * 1_000;
            vault
                .record(&chatgpt, content("chatgpt", &format!("answer {i}"), t), t)
                .expect("record")
        })
        .collect();
    let t = T0 + 100_000;

    budget.set(Some(0));
    let before = vault.list(None).responses;
    let stored = vault.store().inner.clone();
    let err = vault.delete(&ids[0], t).expect_err("refused");
    assert!(
        matches!(err, WriteError::Store(StoreError::Full)),
        "{err:?}"
    );
    assert_eq!(vault.list(None).responses, before);
    assert_eq!(vault.store().inner, stored);

    // The tombstone is stored, the compaction that would shred the key is refused.
    budget.set(Some(1));
    let outcome = vault.delete(&ids[0], t + 1_000);
    let reopened_ids = |v: &Vault<FaultyStore>| -> BTreeSet<ResponseId> {
        Vault::open(v.store().inner.clone(), &pass())
            .expect("reopen")
            .list(None)
            .responses
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    let in_memory: BTreeSet<ResponseId> = vault
        .list(None)
        .responses
        .into_iter()
        .map(|r| r.id)
        .collect();
    // Memory and storage agree on whether the delete happened.
    assert_eq!(in_memory, reopened_ids(&vault));
    let report = outcome.expect("the tombstone is stored, so the delete succeeded");
    assert!(
        !report.shredded_in_this_replica,
        "the compaction was refused"
    );
    assert!(!in_memory.contains(&ids[0]));

    budget.set(None);
    let t = t + 10_000;
    // Once the fault clears, the next delete compacts and so finishes the first one too.
    assert!(matches!(
        vault.delete(&ids[0], t),
        Err(WriteError::Deleted(_))
    ));
    let report = vault.delete(&ids[1], t).expect("delete after the fault");
    assert!(report.shredded_in_this_replica);
    assert_eq!(vault.get(&ids[0]).expect("get"), None);
    let (_, chunks) =
        selfos_vault::forensics::chunk_plaintexts(&vault.store().inner, &pass()).expect("chunks");
    assert!(
        chunks
            .iter()
            .all(|c| c.keys.iter().all(|(r, _)| *r != ids[0].record)),
        "the deleted record's key is still stored"
    );
}
