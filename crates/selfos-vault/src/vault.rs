//! The vault: create, open, record, read, edit, delete, conflicts, merge.

use std::collections::BTreeMap;

use automerge::{ActorId, ChangeHash, transaction::Transactable};

use crate::{
    body,
    conflict::{Conflict, ConflictValue, Policy, Resolution},
    error::{CreateError, FindError, OpenError, ReadError, WriteError},
    header::VaultHeader,
    hlc::HlcClock,
    ids::{Namespace, RecordId, ReplicaId, ResponseId, VaultId},
    keys::{KdfParams, Passphrase, SecretKey, SyncKeys, VaultKeys},
    keytable::{KeyEntry, KeyState, Keys},
    link::VaultLink,
    namespace::{Compaction, DamagedChunk, NamespaceDoc, Sealer},
    random,
    response::{Answer, Content, Response, Status},
    session::SessionKey,
    storage::ChunkStore,
};

/// An unlocked replica of a vault over a chunk store.
///
/// Every method that changes the vault takes the wall-clock time from the caller (`now_ms`,
/// milliseconds since the Unix epoch): the vault reads no clock of its own.
pub struct Vault<S> {
    store: S,
    header: VaultHeader,
    keys: VaultKeys,
    clock: HlcClock,
    /// Whether `clock` has seen every stamp in the documents; reset when a merge brings new ones.
    clock_synced: bool,
    namespaces: BTreeMap<Namespace, NamespaceDoc>,
    damaged: Vec<DamagedChunk>,
}

impl<S> std::fmt::Debug for Vault<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            store: _,
            header,
            keys: _,
            clock: _,
            clock_synced: _,
            namespaces,
            damaged,
        } = self;
        f.debug_struct("Vault")
            .field("vault", &header.vault)
            .field("replica", &header.replica)
            .field("namespaces", &namespaces.keys().collect::<Vec<_>>())
            .field("damaged", &damaged.len())
            .finish_non_exhaustive()
    }
}

/// Responses read back, and those that could not be read.
#[derive(Debug, Default)]
pub struct Listing {
    /// Readable responses, oldest first.
    pub responses: Vec<Response>,
    /// Responses that exist but cannot be read, and why.
    pub unreadable: Vec<(ResponseId, String)>,
}

/// What a delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteReport {
    /// Whether every chunk of the namespace was rewritten, so the record's key is in no stored
    /// byte. False when damaged chunks block compaction (they are listed in
    /// [`Vault::damaged`]) or the store refused the compaction's writes; a later compaction
    /// (the next delete, or enough writes) finishes the shredding.
    pub shredded_everywhere: bool,
}

/// What a merge brought in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Responses present after the merge that were not before.
    pub new_responses: usize,
    /// Deletions that arrived with the merge.
    pub deletions: usize,
    /// Response namespaces that changed.
    pub namespaces: Vec<Namespace>,
    /// Whether settings (conflict policies) changed.
    pub settings_changed: bool,
}

/// Seconds, for Automerge's advisory commit time.
fn seconds(now_ms: u64) -> i64 {
    i64::try_from(now_ms / 1000).unwrap_or(i64::MAX)
}

impl<S: ChunkStore> Vault<S> {
    /// Creates a new vault in an empty store. Runs Argon2id once.
    pub fn create(store: S, passphrase: &Passphrase, kdf: KdfParams) -> Result<Self, CreateError> {
        let vault = VaultId::random()?;
        let salt = random::bytes()?;
        Self::init(store, vault, salt, kdf, passphrase)
    }

    /// Creates a new replica of an existing vault from its link, in an empty store. The
    /// passphrase cannot be checked until the replica meets another one (the link holds
    /// nothing that could test it); see [`WriteError::PassphraseMismatch`].
    pub fn join(store: S, link: &VaultLink, passphrase: &Passphrase) -> Result<Self, CreateError> {
        Self::init(store, link.vault, link.salt, link.kdf, passphrase)
    }

    fn init(
        mut store: S,
        vault: VaultId,
        salt: [u8; 16],
        kdf: KdfParams,
        passphrase: &Passphrase,
    ) -> Result<Self, CreateError> {
        if passphrase.is_empty() {
            return Err(CreateError::EmptyPassphrase);
        }
        KdfParams::new(kdf.memory_kib, kdf.iterations, kdf.parallelism)?;
        if store.read_header()?.is_some() {
            return Err(CreateError::AlreadyExists);
        }
        let keys = VaultKeys::derive(passphrase, &salt, kdf)?;
        let header = VaultHeader {
            vault,
            salt,
            kdf,
            check: keys.check,
            replica: ReplicaId::random()?,
        };
        store.write_header(&header.encode())?;
        Ok(Self::assemble(
            store,
            header,
            keys,
            BTreeMap::new(),
            Vec::new(),
        ))
    }

    /// The node part of this replica's clock stamps.
    pub(crate) fn replica_node(&self) -> [u8; 8] {
        let mut node = [0u8; 8];
        node.copy_from_slice(&self.header.replica.as_bytes()[..8]);
        node
    }

    fn assemble(
        store: S,
        header: VaultHeader,
        keys: VaultKeys,
        namespaces: BTreeMap<Namespace, NamespaceDoc>,
        damaged: Vec<DamagedChunk>,
    ) -> Self {
        let mut node = [0u8; 8];
        node.copy_from_slice(&header.replica.as_bytes()[..8]);
        Self {
            clock: HlcClock::new(node),
            store,
            header,
            keys,
            clock_synced: false,
            namespaces,
            damaged,
        }
    }

    /// Opens and unlocks a vault. Reads only: whatever the outcome, storage is unchanged.
    ///
    /// Chunks that cannot be read do not stop the open; they are listed in
    /// [`Vault::damaged`] and left untouched.
    pub fn open(store: S, passphrase: &Passphrase) -> Result<Self, OpenError> {
        let header = Self::read_header(&store)?;
        let keys = VaultKeys::derive(passphrase, &header.salt, header.kdf)?;
        if !keys.check.matches(&header.check) {
            return Err(OpenError::WrongPassphrase);
        }
        Self::load(store, header, keys)
    }

    /// Opens and unlocks a vault with a [`SessionKey`] from [`Vault::session_key`]: no
    /// passphrase, no Argon2id. Reads only, like [`Vault::open`].
    pub fn resume(store: S, session: &SessionKey) -> Result<Self, OpenError> {
        let header = Self::read_header(&store)?;
        let keys = VaultKeys::from_root(session.root.clone())?;
        if session.vault != header.vault || !keys.check.matches(&header.check) {
            return Err(OpenError::WrongSessionKey);
        }
        Self::load(store, header, keys)
    }

    /// A key that unlocks this vault again without the passphrase (see [`SessionKey`] for
    /// where it may be kept).
    pub fn session_key(&self) -> SessionKey {
        SessionKey {
            vault: self.header.vault,
            root: self.keys.root.clone(),
        }
    }

    fn read_header(store: &S) -> Result<VaultHeader, OpenError> {
        let bytes = store.read_header()?.ok_or(OpenError::NotFound)?;
        Ok(VaultHeader::decode(&bytes)?)
    }

    /// Loads every namespace with keys already checked against the header.
    fn load(store: S, header: VaultHeader, keys: VaultKeys) -> Result<Self, OpenError> {
        let actor = ActorId::from(header.replica.as_bytes());
        let sealer = Sealer {
            key: &keys.storage,
            vault: &header.vault,
        };
        let mut damaged = Vec::new();
        let mut namespaces = BTreeMap::new();
        for ns in store.namespaces()? {
            let doc = NamespaceDoc::load(&store, &ns, &sealer, &actor, &mut damaged)?;
            namespaces.insert(ns, doc);
        }
        Ok(Self::assemble(store, header, keys, namespaces, damaged))
    }

    /// The link of the vault in `store`, read from its header without unlocking it (the link
    /// holds nothing secret, so no passphrase is needed).
    pub fn peek_link(store: &S) -> Result<VaultLink, OpenError> {
        let header = VaultHeader::decode(&store.read_header()?.ok_or(OpenError::NotFound)?)?;
        Ok(VaultLink {
            vault: header.vault,
            salt: header.salt,
            kdf: header.kdf,
            relay: None,
        })
    }

    /// The vault's id.
    pub fn id(&self) -> VaultId {
        self.header.vault
    }

    /// The keys the sync engine needs (secret; see [`SyncKeys`]).
    pub fn sync_keys(&self) -> SyncKeys {
        self.keys.sync.clone()
    }

    /// This replica's id.
    pub fn replica(&self) -> ReplicaId {
        self.header.replica
    }

    /// The link another device uses to join (nothing secret in it).
    pub fn link(&self) -> VaultLink {
        VaultLink {
            vault: self.header.vault,
            salt: self.header.salt,
            kdf: self.header.kdf,
            relay: None,
        }
    }

    /// Chunks that could not be read when the vault was opened.
    pub fn damaged(&self) -> &[DamagedChunk] {
        &self.damaged
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The underlying store, to take what a [`JournalStore`](crate::JournalStore) recorded.
    /// Changing chunks behind the vault's back is the caller's risk.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The storage key and the associated data that bind saved sync state to this vault, peer
    /// and namespace.
    pub(crate) fn peer_state_binding(
        &self,
        peer: &[u8; 16],
        ns: &Namespace,
    ) -> (SecretKey, Vec<u8>) {
        let mut aad = Vec::with_capacity(64);
        aad.extend_from_slice(self.header.vault.as_bytes());
        aad.extend_from_slice(peer);
        aad.extend_from_slice(ns.as_str().as_bytes());
        (self.keys.storage.clone(), aad)
    }

    /// Namespaces that hold responses.
    pub fn namespaces(&self) -> Vec<Namespace> {
        self.namespaces
            .keys()
            .filter(|ns| !ns.is_settings())
            .cloned()
            .collect()
    }

    /// The Automerge heads of a namespace: equal on two replicas iff they hold the same changes.
    pub fn heads(&mut self, ns: &Namespace) -> Vec<ChangeHash> {
        self.namespaces
            .get_mut(ns)
            .map(|d| d.doc.get_heads())
            .unwrap_or_default()
    }

    /// The heads of a namespace as stored. Writes store before they return (and reload on
    /// failure), so these are the document's heads, read without `&mut`: Automerge's
    /// `AutoCommit::get_heads` needs `&mut` to close an open transaction first.
    pub(crate) fn stored_heads(&self, ns: &Namespace) -> &[ChangeHash] {
        self.namespaces
            .get(ns)
            .map(NamespaceDoc::stored_heads)
            .unwrap_or_default()
    }

    fn sealer(&self) -> Sealer<'_> {
        Sealer {
            key: &self.keys.storage,
            vault: &self.header.vault,
        }
    }

    /// Makes sure the clock is past every stamp in the vault, so local writes order after them.
    fn sync_clock(&mut self) {
        if self.clock_synced {
            return;
        }
        for doc in self.namespaces.values() {
            for (record, _) in doc.record_ids() {
                for value in doc.values(&record) {
                    if let Ok(stamp) = body::stamp(&value) {
                        self.clock.observe(stamp);
                    }
                }
            }
        }
        self.clock_synced = true;
    }

    /// A namespace's document, loaded from the store (or started empty) on first use.
    pub(crate) fn namespace_mut(&mut self, ns: &Namespace) -> Result<&mut NamespaceDoc, ReadError> {
        if !self.namespaces.contains_key(ns) {
            let actor = ActorId::from(self.header.replica.as_bytes());
            let mut damaged = Vec::new();
            let doc = NamespaceDoc::load(&self.store, ns, &self.sealer(), &actor, &mut damaged)?;
            self.damaged.extend(damaged);
            self.namespaces.insert(ns.clone(), doc);
        }
        self.namespaces
            .get_mut(ns)
            .ok_or_else(|| ReadError::Document {
                namespace: ns.clone(),
                reason: "not loaded".into(),
            })
    }

    /// Every loaded namespace, `settings` included.
    pub(crate) fn loaded_namespaces(&self) -> Vec<Namespace> {
        self.namespaces.keys().cloned().collect()
    }

    /// Marks the clock as behind the documents, after changes from elsewhere arrived.
    pub(crate) fn invalidate_clock(&mut self) {
        self.clock_synced = false;
    }

    /// Runs `change` on a namespace's document and stores the result as one chunk. If anything
    /// fails, the namespace is reloaded from storage, so memory never runs ahead of the disk.
    pub(crate) fn write_namespace<R>(
        &mut self,
        ns: &Namespace,
        now_ms: u64,
        change: impl FnOnce(
            &mut NamespaceDoc,
            &mut HlcClock,
            &VaultId,
        ) -> Result<(R, Vec<(RecordId, KeyEntry)>), WriteError>,
    ) -> Result<(R, Compaction), WriteError> {
        self.sync_clock();
        self.namespace_mut(ns)?;
        let actor = ActorId::from(self.header.replica.as_bytes());
        let Self {
            store,
            header,
            keys,
            clock,
            namespaces,
            ..
        } = self;
        let sealer = Sealer {
            key: &keys.storage,
            vault: &header.vault,
        };
        let Some(doc) = namespaces.get_mut(ns) else {
            return Err(WriteError::Invalid(format!("namespace {ns} vanished")));
        };
        let outcome = change(doc, clock, &header.vault).and_then(|(r, new_keys)| {
            let compaction = doc.persist(store, &sealer, new_keys, seconds(now_ms))?;
            Ok((r, compaction))
        });
        if outcome.is_err() {
            let mut ignored = Vec::new();
            if let Ok(reloaded) = NamespaceDoc::load(&*store, ns, &sealer, &actor, &mut ignored) {
                *doc = reloaded;
            }
        }
        outcome
    }

    /// Records a new response in namespace `ns` (an agent's name, or `profile`).
    pub fn record(
        &mut self,
        ns: &Namespace,
        content: Content,
        now_ms: u64,
    ) -> Result<ResponseId, WriteError> {
        if ns.is_settings() {
            return Err(WriteError::ReservedNamespace(ns.clone()));
        }
        content.validate().map_err(WriteError::Invalid)?;
        let id = ResponseId {
            namespace: ns.clone(),
            record: RecordId::random()?,
        };
        let key = SecretKey::random()?;
        let me = self.header.replica;
        self.write_namespace(ns, now_ms, |doc, clock, vault| {
            let sealed = body::seal(&content, clock.tick(now_ms), &key, vault, &id)?;
            doc.doc.put(&doc.records, id.record.to_string(), sealed)?;
            let entry = doc.keys.insert_local(me, id.record, KeyState::Live(key));
            Ok(((), vec![(id.record, entry)]))
        })?;
        Ok(id)
    }

    /// Reads one record: `None` if absent or deleted.
    fn read(&self, id: &ResponseId) -> Option<Result<Response, String>> {
        let doc = self.namespaces.get(&id.namespace)?;
        read_record(doc, &self.header.vault, id)
    }

    /// One response, `None` if there is none (or it was deleted).
    pub fn get(&self, id: &ResponseId) -> Result<Option<Response>, ReadError> {
        match self.read(id) {
            None => Ok(None),
            Some(Ok(r)) => Ok(Some(r)),
            Some(Err(reason)) => Err(ReadError::Body {
                id: id.clone(),
                reason,
            }),
        }
    }

    /// Finds the one response whose id starts with `prefix` (`chatgpt/3f2a`).
    pub fn find(&self, prefix: &str) -> Result<ResponseId, FindError> {
        let malformed = || FindError::Malformed(prefix.to_owned());
        let (ns, hex) = prefix.split_once('/').ok_or_else(malformed)?;
        let ns: Namespace = ns.parse().map_err(|_| malformed())?;
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed());
        }
        let hex = hex.to_ascii_lowercase();
        let matches: Vec<RecordId> = self
            .namespaces
            .get(&ns)
            .map(|doc| {
                doc.record_ids()
                    .into_iter()
                    .map(|(r, _)| r)
                    .filter(|r| r.to_string().starts_with(&hex) && !doc.keys.is_shredded(r))
                    .collect()
            })
            .unwrap_or_default();
        match matches.as_slice() {
            [one] => Ok(ResponseId {
                namespace: ns,
                record: *one,
            }),
            [] => Err(FindError::NoMatch(prefix.to_owned())),
            _ => Err(FindError::Ambiguous {
                prefix: prefix.to_owned(),
                count: matches.len(),
            }),
        }
    }

    /// Every response, in one namespace or all, oldest first; unreadable ones are listed apart.
    pub fn list(&self, ns: Option<&Namespace>) -> Listing {
        let mut listing = Listing::default();
        for (name, doc) in &self.namespaces {
            if name.is_settings() || ns.is_some_and(|n| n != name) {
                continue;
            }
            for (record, _) in doc.record_ids() {
                let id = ResponseId {
                    namespace: name.clone(),
                    record,
                };
                match read_record(doc, &self.header.vault, &id) {
                    None => {}
                    Some(Ok(r)) => listing.responses.push(r),
                    Some(Err(reason)) => listing.unreadable.push((id, reason)),
                }
            }
        }
        listing
            .responses
            .sort_by(|a, b| (a.content.created_ms, &a.id).cmp(&(b.content.created_ms, &b.id)));
        listing
    }

    fn current(&self, id: &ResponseId) -> Result<Response, WriteError> {
        match self.read(id) {
            Some(Ok(r)) => Ok(r),
            Some(Err(reason)) => Err(ReadError::Body {
                id: id.clone(),
                reason,
            }
            .into()),
            None => match self.namespaces.get(&id.namespace) {
                Some(doc) if doc.keys.is_shredded(&id.record) => {
                    Err(WriteError::Deleted(id.clone()))
                }
                _ => Err(WriteError::NotFound(id.clone())),
            },
        }
    }

    /// Writes `content` as the record's new value, replacing every concurrent value.
    fn overwrite(
        &mut self,
        id: &ResponseId,
        content: Content,
        now_ms: u64,
    ) -> Result<Response, WriteError> {
        content.validate().map_err(WriteError::Invalid)?;
        let (updated, _) = self.write_namespace(&id.namespace, now_ms, |doc, clock, vault| {
            let Keys::Live(keys) = doc.keys.keys(&id.record) else {
                return Err(WriteError::Deleted(id.clone()));
            };
            let Some(key) = keys.first() else {
                return Err(WriteError::Deleted(id.clone()));
            };
            let stamp = clock.tick(now_ms);
            let sealed = body::seal(&content, stamp, key, vault, id)?;
            doc.doc.put(&doc.records, id.record.to_string(), sealed)?;
            Ok((stamp, Vec::new()))
        })?;
        Ok(Response {
            id: id.clone(),
            updated,
            content,
            conflicted: false,
        })
    }

    /// Changes a response's answer and/or status.
    pub fn edit(
        &mut self,
        id: &ResponseId,
        answer: Option<Answer>,
        status: Option<Status>,
        now_ms: u64,
    ) -> Result<Response, WriteError> {
        let mut content = self.current(id)?.content;
        if let Some(a) = answer {
            content.answer = Some(a);
            if content.status != Status::Answered && status.is_none() {
                content.status = Status::Answered;
            }
        }
        if let Some(s) = status {
            content.status = s;
        }
        self.overwrite(id, content, now_ms)
    }

    /// Deletes a response for good: its key is shredded, the tombstone syncs to every replica,
    /// and this replica's chunks are rewritten so the key is in no stored byte. What Automerge
    /// keeps in its history is ciphertext nobody can open any more.
    pub fn delete(&mut self, id: &ResponseId, now_ms: u64) -> Result<DeleteReport, WriteError> {
        self.current(id)?;
        let me = self.header.replica;
        let (_, compaction) = self.write_namespace(&id.namespace, now_ms, |doc, _, _| {
            doc.doc.delete(&doc.records, id.record.to_string())?;
            let entry = doc.keys.insert_local(me, id.record, KeyState::Shredded);
            Ok(((), vec![(id.record, entry)]))
        })?;
        // The tombstone is stored: the delete has happened, whatever the compaction does.
        let compaction = match compaction {
            Compaction::Done => Compaction::Done,
            _ => self
                .compact_namespace(&id.namespace)
                .unwrap_or(Compaction::NotDue),
        };
        Ok(DeleteReport {
            shredded_everywhere: compaction == Compaction::Done,
        })
    }

    pub(crate) fn compact_namespace(&mut self, ns: &Namespace) -> Result<Compaction, WriteError> {
        let Self {
            store,
            header,
            keys,
            namespaces,
            ..
        } = self;
        let sealer = Sealer {
            key: &keys.storage,
            vault: &header.vault,
        };
        match namespaces.get_mut(ns) {
            Some(doc) => doc.compact(store, &sealer),
            None => Ok(Compaction::NotDue),
        }
    }

    /// Reads what other processes stored in this replica's store since it was opened (or last
    /// refreshed), for long-running clients such as `selfos sync --watch`. Returns the
    /// namespaces that changed.
    pub fn refresh(&mut self) -> Result<Vec<Namespace>, ReadError> {
        let mut changed = Vec::new();
        let mut damaged = Vec::new();
        let sealer = Sealer {
            key: &self.keys.storage,
            vault: &self.header.vault,
        };
        for ns in self.store.namespaces()? {
            if !self.namespaces.contains_key(&ns) {
                let actor = ActorId::from(self.header.replica.as_bytes());
                let doc = NamespaceDoc::load(&self.store, &ns, &sealer, &actor, &mut damaged)?;
                self.namespaces.insert(ns.clone(), doc);
                changed.push(ns);
            } else if let Some(doc) = self.namespaces.get_mut(&ns)
                && doc.refresh(&self.store, &sealer, &mut damaged)?
            {
                changed.push(ns);
            }
        }
        self.damaged.extend(damaged);
        if !changed.is_empty() {
            self.clock_synced = false;
        }
        Ok(changed)
    }

    /// Compacts every namespace whose compaction is due. Writes only append, so that they stay
    /// fast; call this when idle (the CLI does after each write command), or opening the vault
    /// slows down as incrementals pile up. Returns the namespaces compacted; namespaces with
    /// damaged chunks are left as they are.
    pub fn maintain(&mut self) -> Result<Vec<Namespace>, WriteError> {
        let due: Vec<Namespace> = self
            .namespaces
            .iter()
            .filter(|(_, doc)| doc.compaction_due())
            .map(|(ns, _)| ns.clone())
            .collect();
        let mut compacted = Vec::new();
        for ns in due {
            if self.compact_namespace(&ns)? == Compaction::Done {
                compacted.push(ns);
            }
        }
        Ok(compacted)
    }

    /// The conflict policy of a namespace (last-write-wins unless set).
    pub fn policy(&self, ns: &Namespace) -> Policy {
        self.namespaces
            .get(&Namespace::settings())
            .and_then(|doc| {
                autosurgeon::hydrate_prop::<_, autosurgeon::MaybeMissing<Policy>, _, _>(
                    &doc.doc,
                    &doc.records,
                    ns.as_str(),
                )
                .ok()
            })
            .and_then(|p| match p {
                autosurgeon::MaybeMissing::Present(p) => Some(p),
                autosurgeon::MaybeMissing::Missing => None,
            })
            .unwrap_or_default()
    }

    /// Sets the conflict policy of a namespace. Syncs like any other change.
    pub fn set_policy(
        &mut self,
        ns: &Namespace,
        policy: Policy,
        now_ms: u64,
    ) -> Result<(), WriteError> {
        if ns.is_settings() {
            return Err(WriteError::ReservedNamespace(ns.clone()));
        }
        self.write_namespace(&Namespace::settings(), now_ms, |doc, _, _| {
            autosurgeon::reconcile_prop(&mut doc.doc, &doc.records, ns.as_str(), policy)
                .map_err(|e| WriteError::Invalid(format!("settings: {e}")))?;
            Ok(((), Vec::new()))
        })?;
        Ok(())
    }

    /// Every record that holds concurrent values, whatever its namespace's policy.
    pub fn conflicts(&self) -> Vec<Conflict> {
        let mut out = Vec::new();
        for (ns, doc) in &self.namespaces {
            if ns.is_settings() {
                continue;
            }
            let policy = self.policy(ns);
            for (record, conflicted) in doc.record_ids() {
                if !conflicted || doc.keys.is_shredded(&record) {
                    continue;
                }
                let id = ResponseId {
                    namespace: ns.clone(),
                    record,
                };
                out.push(Conflict {
                    values: conflict_values(doc, &self.header.vault, &id),
                    id,
                    policy,
                });
            }
        }
        out
    }

    /// Settles a conflict by keeping one value or writing a new answer.
    pub fn resolve(
        &mut self,
        id: &ResponseId,
        resolution: Resolution,
        now_ms: u64,
    ) -> Result<Response, WriteError> {
        let doc = self
            .namespaces
            .get(&id.namespace)
            .ok_or_else(|| WriteError::NotFound(id.clone()))?;
        let values = conflict_values(doc, &self.header.vault, id);
        if values.len() < 2 {
            return Err(WriteError::Invalid(format!("{id} has no conflict")));
        }
        let latest = values
            .iter()
            .find_map(|v| v.content.as_ref().ok())
            .cloned()
            .ok_or_else(|| WriteError::Invalid(format!("no value of {id} can be read")))?;
        let content = match resolution {
            Resolution::Keep(index) => {
                let count = values.len();
                let value = values
                    .into_iter()
                    .nth(index)
                    .ok_or(WriteError::NoSuchValue {
                        id: id.clone(),
                        index,
                        count,
                    })?;
                value.content.map_err(|reason| {
                    WriteError::Invalid(format!("value {index} cannot be read: {reason}"))
                })?
            }
            Resolution::Answer(answer) => Content {
                answer: Some(answer),
                status: Status::Answered,
                ..latest
            },
        };
        self.overwrite(id, content, now_ms)
    }

    /// How many records of `ns` are present and not deleted, without decrypting any.
    fn live_records(&self, ns: &Namespace) -> usize {
        self.namespaces.get(ns).map_or(0, |doc| {
            doc.record_ids()
                .iter()
                .filter(|(r, _)| !doc.keys.is_shredded(r))
                .count()
        })
    }

    /// Merges another replica of the same vault (opened with the same passphrase) into this
    /// one, and stores what it brought. The other replica is read, not changed.
    pub fn merge_from<T: ChunkStore>(
        &mut self,
        other: &mut Vault<T>,
        now_ms: u64,
    ) -> Result<MergeReport, WriteError> {
        if other.header.vault != self.header.vault {
            return Err(WriteError::OtherVault);
        }
        if !other.keys.check.matches(&self.keys.check) {
            return Err(WriteError::PassphraseMismatch);
        }
        let mut report = MergeReport::default();
        let names: Vec<Namespace> = other.namespaces.keys().cloned().collect();
        for ns in names {
            let Some(theirs) = other.namespaces.get_mut(&ns) else {
                continue;
            };
            let before = self.live_records(&ns);
            let ((changed, shredded), compaction) =
                self.write_namespace(&ns, now_ms, |doc, _, _| {
                    let heads = doc.doc.get_heads();
                    let keys = doc.merge(theirs)?;
                    let shredded = keys.iter().filter(|(_, e)| e.is_shredded()).count();
                    let changed = !keys.is_empty() || doc.doc.get_heads() != heads;
                    Ok(((changed, shredded), keys))
                })?;
            if shredded > 0 && compaction != Compaction::Done {
                // The tombstones are stored; a failed compaction is retried on a later write.
                let _ = self.compact_namespace(&ns);
            }
            if changed {
                self.invalidate_clock();
                if ns.is_settings() {
                    report.settings_changed = true;
                } else {
                    report.namespaces.push(ns.clone());
                }
            }
            report.deletions += shredded;
            report.new_responses += self.live_records(&ns).saturating_sub(before);
        }
        Ok(report)
    }
}

/// Decrypts one record, choosing the value with the latest stamp when it holds several.
fn read_record(
    doc: &NamespaceDoc,
    vault: &VaultId,
    id: &ResponseId,
) -> Option<Result<Response, String>> {
    let values = doc.values(&id.record);
    if values.is_empty() {
        return None;
    }
    let keys = match doc.keys.keys(&id.record) {
        Keys::Live(keys) => keys,
        // A delete that raced an edit: the edit's value survives in the map, but its key is
        // shredded, so the record stays deleted.
        Keys::Shredded => return None,
        Keys::Missing => {
            return Some(Err(
                "its key is missing: a chunk holding it is damaged or was not merged".into(),
            ));
        }
    };
    let latest = values
        .iter()
        .max_by_key(|v| body::stamp(v).unwrap_or_default())?;
    Some(
        body::open_any(latest, &keys, vault, id)
            .map(|(updated, content)| Response {
                id: id.clone(),
                updated,
                content,
                conflicted: values.len() > 1,
            })
            .map_err(|e| e.to_string()),
    )
}

/// The concurrent values of a record, latest first.
fn conflict_values(doc: &NamespaceDoc, vault: &VaultId, id: &ResponseId) -> Vec<ConflictValue> {
    let keys = match doc.keys.keys(&id.record) {
        Keys::Live(keys) => Some(keys),
        _ => None,
    };
    let mut values: Vec<ConflictValue> = doc
        .values(&id.record)
        .iter()
        .map(|bytes| {
            let updated = body::stamp(bytes).unwrap_or_default();
            let content = keys
                .as_deref()
                .ok_or_else(|| "its key is missing".to_owned())
                .and_then(|keys| {
                    body::open_any(bytes, keys, vault, id)
                        .map(|(_, c)| c)
                        .map_err(|e| e.to_string())
                });
            ConflictValue { updated, content }
        })
        .collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.updated));
    values
}
