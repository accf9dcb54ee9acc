//! The vault: an unlocked replica over a chunk store. This module creates, opens and
//! unlocks it and owns the one write path ([`Vault::write_namespace`]); what it does with
//! records, conflicts, other replicas and its own storage lives in the submodules, each an
//! `impl` block of its own.

mod conflicts;
mod feed;
mod maintenance;
mod merge;
mod records;

use std::collections::BTreeMap;

use automerge::ChangeHash;
use sha2::{Digest, Sha256};

use crate::{
    error::{CreateError, OpenError, ReadError, WriteError},
    header::{HeaderError, VaultHeader},
    hlc::HlcClock,
    ids::{Namespace, RecordId, ReplicaId, VaultId, WriterId},
    keys::{KdfParams, Passphrase, SecretKey, SyncKeys, VaultKeys},
    keytable::KeyEntry,
    namespace::{ChunkSealer, Compaction, DamagedChunk, NamespaceDoc},
    recovery::VaultSecret,
    session::SessionKey,
    storage::ChunkStore,
};

pub use feed::{Changes, Cursor};
pub use merge::MergeReport;
pub use records::{DeleteReport, Listing};

/// The heads of a namespace: the hashes of its latest changes. Two replicas hold the same
/// changes of a namespace iff their heads are equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Heads(Vec<ChangeHash>);

impl Heads {
    /// How many heads: none for an empty namespace, several after concurrent changes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the namespace holds no change.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each head as 64 hex digits, sorted.
    pub fn to_hex(&self) -> Vec<String> {
        let mut hex: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        hex.sort();
        hex
    }
}

/// An unlocked replica of a vault over a chunk store.
///
/// Every method that changes the vault takes the wall-clock time from the caller (`now_ms`,
/// milliseconds since the Unix epoch): the vault reads no clock of its own.
pub struct Vault<S> {
    store: S,
    replica: ReplicaId,
    keys: VaultKeys,
    /// What Argon2id made of this device's passphrase: kept to hand out session keys.
    device: SecretKey,
    /// Gives each namespace document, as it is loaded, the writer id of its changes.
    writers: Writers,
    clock: HlcClock,
    namespaces: BTreeMap<Namespace, NamespaceDoc>,
    damaged: Vec<DamagedChunk>,
}

impl<S> std::fmt::Debug for Vault<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            store: _,
            replica,
            keys,
            device: _,
            writers: _,
            clock: _,
            namespaces,
            damaged,
        } = self;
        f.debug_struct("Vault")
            .field("vault", &keys.vault)
            .field("replica", replica)
            .field("namespaces", &namespaces.keys().collect::<Vec<_>>())
            .field("damaged", &damaged.len())
            .finish_non_exhaustive()
    }
}

/// Seconds, for Automerge's advisory commit time.
fn seconds(now_ms: u64) -> i64 {
    i64::try_from(now_ms / 1000).unwrap_or(i64::MAX)
}

impl<S: ChunkStore> Vault<S> {
    /// Creates a new vault in an empty store: a fresh random vault secret, wrapped under
    /// `passphrase`. Runs Argon2id once.
    pub fn create(store: S, passphrase: &Passphrase, kdf: KdfParams) -> Result<Self, CreateError> {
        let secret = VaultSecret(SecretKey::random()?);
        Self::restore(store, &secret, passphrase, kdf)
    }

    /// Creates a new replica of the vault whose secret this is (from a recovery kit or a
    /// pairing), in an empty store, wrapped under this device's `passphrase`. Runs Argon2id
    /// once.
    pub fn restore(
        mut store: S,
        secret: &VaultSecret,
        passphrase: &Passphrase,
        kdf: KdfParams,
    ) -> Result<Self, CreateError> {
        if passphrase.is_empty() {
            return Err(CreateError::EmptyPassphrase);
        }
        let kdf = kdf.checked()?;
        if store.read_header()?.is_some() {
            return Err(CreateError::AlreadyExists);
        }
        let keys = VaultKeys::from_secret(secret.0.clone())?;
        let replica = ReplicaId::random()?;
        let (header, device) =
            VaultHeader::seal(keys.vault, replica, &keys.secret, passphrase, kdf)?;
        store.write_header(&header.encode())?;
        Ok(Self::assemble(
            store,
            replica,
            keys,
            device,
            Writers::random()?,
            BTreeMap::new(),
            Vec::new(),
        ))
    }

    fn assemble(
        store: S,
        replica: ReplicaId,
        keys: VaultKeys,
        device: SecretKey,
        writers: Writers,
        namespaces: BTreeMap<Namespace, NamespaceDoc>,
        damaged: Vec<DamagedChunk>,
    ) -> Self {
        Self {
            clock: HlcClock::new(writers.node()),
            store,
            replica,
            keys,
            device,
            writers,
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
        let device = header.device_key(passphrase)?;
        let secret = header
            .unseal(&device)
            .map_err(|_| OpenError::WrongPassphrase)?;
        Self::unlocked(store, &header, secret, device)
    }

    /// Opens and unlocks a vault with a [`SessionKey`] from [`Vault::session_key`]: no
    /// passphrase, no Argon2id. Reads only, like [`Vault::open`].
    pub fn resume(store: S, session: &SessionKey) -> Result<Self, OpenError> {
        let header = Self::read_header(&store)?;
        if session.vault != header.vault {
            return Err(OpenError::WrongSessionKey);
        }
        let secret = header
            .unseal(&session.device)
            .map_err(|_| OpenError::WrongSessionKey)?;
        Self::unlocked(store, &header, secret, session.device.clone())
    }

    /// Derives the keys from an unwrapped secret, checks them against the header's vault id
    /// and loads.
    fn unlocked(
        store: S,
        header: &VaultHeader,
        secret: SecretKey,
        device: SecretKey,
    ) -> Result<Self, OpenError> {
        let keys = VaultKeys::from_secret(secret)?;
        if keys.vault != header.vault {
            // The wrap authenticates the id, so only a header forged with the key gets here.
            return Err(OpenError::Header(HeaderError::Checksum));
        }
        Self::load(store, header.replica, keys, device)
    }

    /// A key that unlocks this vault again without the passphrase (see [`SessionKey`] for
    /// where it may be kept).
    pub fn session_key(&self) -> SessionKey {
        SessionKey {
            vault: self.keys.vault,
            device: self.device.clone(),
        }
    }

    /// Wraps the vault secret under a new passphrase (fresh salt, so session keys from before
    /// stop working). Only this device's header changes: nothing is synced, the other devices
    /// keep their own passphrases. Runs Argon2id once.
    pub fn change_passphrase(
        &mut self,
        passphrase: &Passphrase,
        kdf: KdfParams,
    ) -> Result<(), CreateError> {
        if passphrase.is_empty() {
            return Err(CreateError::EmptyPassphrase);
        }
        let (header, device) = VaultHeader::seal(
            self.keys.vault,
            self.replica,
            &self.keys.secret,
            passphrase,
            kdf.checked()?,
        )?;
        self.store.write_header(&header.encode())?;
        self.device = device;
        Ok(())
    }

    /// The vault secret, for a recovery kit or a pairing. Secret: show it to the user or send
    /// it under a pairing key, nowhere else.
    pub fn secret(&self) -> VaultSecret {
        VaultSecret(self.keys.secret.clone())
    }

    fn read_header(store: &S) -> Result<VaultHeader, OpenError> {
        let bytes = store.read_header()?.ok_or(OpenError::NotFound)?;
        Ok(VaultHeader::decode(&bytes)?)
    }

    /// Loads every namespace with keys already checked against the header.
    pub(crate) fn load(
        store: S,
        replica: ReplicaId,
        keys: VaultKeys,
        device: SecretKey,
    ) -> Result<Self, OpenError> {
        let mut writers = Writers::random()?;
        let sealer = ChunkSealer {
            key: &keys.storage,
            vault: &keys.vault,
        };
        let mut damaged = Vec::new();
        let mut namespaces = BTreeMap::new();
        for ns in store.namespaces()? {
            let doc = NamespaceDoc::load(&store, &ns, &sealer, writers.next(), &mut damaged)?;
            namespaces.insert(ns, doc);
        }
        Ok(Self::assemble(
            store, replica, keys, device, writers, namespaces, damaged,
        ))
    }

    /// The vault's id.
    pub fn id(&self) -> VaultId {
        self.keys.vault
    }

    /// The keys the sync engine needs (secret; see [`SyncKeys`]).
    pub fn sync_keys(&self) -> SyncKeys {
        self.keys.sync.clone()
    }

    /// This replica's id: what its peers know it by. It stays the same across openings (and in
    /// a copy of its folder); the changes it makes are named by a fresh writer id per opening.
    pub fn replica(&self) -> ReplicaId {
        self.replica
    }

    /// Chunks that could not be read when the vault was opened.
    pub fn damaged(&self) -> &[DamagedChunk] {
        &self.damaged
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Locks the vault (its keys are zeroized as they drop) and gives its store back.
    pub fn into_store(self) -> S {
        self.store
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
        aad.extend_from_slice(self.keys.vault.as_bytes());
        aad.extend_from_slice(peer);
        aad.extend_from_slice(ns.as_str().as_bytes());
        (self.keys.storage.clone(), aad)
    }

    /// The storage key and the associated data that bind saved store state to this vault and
    /// relay.
    pub(crate) fn store_state_binding(&self, relay: &str) -> (SecretKey, Vec<u8>) {
        let mut aad = Vec::with_capacity(48 + relay.len());
        aad.extend_from_slice(self.keys.vault.as_bytes());
        aad.extend_from_slice(b"store");
        aad.extend_from_slice(relay.as_bytes());
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

    /// The heads of a namespace: equal on two replicas iff they hold the same changes of it.
    pub fn heads(&self, ns: &Namespace) -> Heads {
        Heads(self.stored_heads(ns).to_vec())
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

    /// A namespace's document, if it is loaded.
    pub(crate) fn namespace(&self, ns: &Namespace) -> Option<&NamespaceDoc> {
        self.namespaces.get(ns)
    }

    /// A namespace's document, loaded from the store (or started empty) on first use.
    pub(crate) fn namespace_mut(&mut self, ns: &Namespace) -> Result<&mut NamespaceDoc, ReadError> {
        let Parts {
            store,
            sealer,
            writers,
            namespaces,
            damaged,
            ..
        } = self.parts();
        loaded(namespaces, &*store, &sealer, writers, damaged, ns)
    }

    /// The vault taken apart, so that a namespace's document, the store and the clock can be
    /// borrowed at once.
    fn parts(&mut self) -> Parts<'_, S> {
        let Self {
            store,
            keys,
            writers,
            clock,
            namespaces,
            damaged,
            ..
        } = self;
        Parts {
            store,
            sealer: ChunkSealer {
                key: &keys.storage,
                vault: &keys.vault,
            },
            writers,
            clock,
            namespaces,
            damaged,
        }
    }

    /// Every loaded namespace, `settings` included.
    pub(crate) fn loaded_namespaces(&self) -> Vec<Namespace> {
        self.namespaces.keys().cloned().collect()
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
        let Parts {
            store,
            sealer,
            writers,
            clock,
            namespaces,
            damaged,
        } = self.parts();
        let doc = loaded(namespaces, &*store, &sealer, writers, damaged, ns)?;
        let outcome = change(doc, clock, sealer.vault).and_then(|(r, new_keys)| {
            let compaction = doc.persist(store, &sealer, new_keys, seconds(now_ms))?;
            Ok((r, compaction))
        });
        if outcome.is_err() {
            // A new writer too: the failed change may have reached the disk after all, and its
            // sequence number must not name a different change later.
            let mut ignored = Vec::new();
            let writer = writers.next();
            if let Ok(reloaded) = NamespaceDoc::load(&*store, ns, &sealer, writer, &mut ignored) {
                *doc = reloaded;
            }
        }
        outcome
    }
}

/// A vault's fields, borrowed apart (see [`Vault::parts`]).
struct Parts<'a, S> {
    store: &'a mut S,
    sealer: ChunkSealer<'a>,
    writers: &'a mut Writers,
    clock: &'a mut HlcClock,
    namespaces: &'a mut BTreeMap<Namespace, NamespaceDoc>,
    damaged: &'a mut Vec<DamagedChunk>,
}

/// The most namespaces a replica starts: one per AI agent, far more than there are agents. A
/// peer holds the vault's keys, not this device's memory and disk, so its messages about new
/// namespaces are refused past the bound like a device's own writes (`settings` and `profile`
/// excepted). A vault that already holds more (stored before the bound) still opens whole.
pub const MAX_NAMESPACES: usize = 128;

/// A namespace's document from `namespaces`, loaded from the store (or started empty) first if
/// it is not there yet. Takes the vault's fields apart, so callers can keep using the others.
fn loaded<'a, S: ChunkStore>(
    namespaces: &'a mut BTreeMap<Namespace, NamespaceDoc>,
    store: &S,
    sealer: &ChunkSealer<'_>,
    writers: &mut Writers,
    damaged: &mut Vec<DamagedChunk>,
    ns: &Namespace,
) -> Result<&'a mut NamespaceDoc, ReadError> {
    let full = namespaces.len() >= MAX_NAMESPACES && !ns.is_settings() && !ns.is_profile();
    match namespaces.entry(ns.clone()) {
        std::collections::btree_map::Entry::Occupied(doc) => Ok(doc.into_mut()),
        std::collections::btree_map::Entry::Vacant(_) if full => {
            Err(ReadError::TooManyNamespaces {
                namespace: ns.clone(),
                max: MAX_NAMESPACES,
            })
        }
        std::collections::btree_map::Entry::Vacant(slot) => {
            let doc = NamespaceDoc::load(store, ns, sealer, writers.next(), damaged)?;
            Ok(slot.insert(doc))
        }
    }
}

/// Where an opening's writer ids come from. A replica's id survives in every copy of its folder
/// and every backup, so it cannot name changes: a restored or copied replica would give the
/// sequence numbers its other self already used to different changes, which Automerge (and the
/// key table's dots) refuse for good. Each opening names its changes afresh instead, one writer
/// per namespace document loaded, derived from a random seed so no load can fail for want of
/// randomness.
struct Writers {
    seed: [u8; 16],
    taken: u64,
}

impl Writers {
    fn random() -> Result<Self, crate::random::EntropyError> {
        Ok(Self {
            seed: crate::random::bytes()?,
            taken: 0,
        })
    }

    /// A writer id no other load (of this opening, or of any other) uses.
    fn next(&mut self) -> WriterId {
        self.taken += 1;
        let mut id = [0u8; 16];
        id.copy_from_slice(&self.derive(b"selfos/writer/1", self.taken)[..16]);
        WriterId::from(id)
    }

    /// The node of this opening's clock stamps: unique to the opening, like its writers.
    fn node(&self) -> [u8; 8] {
        let mut node = [0u8; 8];
        node.copy_from_slice(&self.derive(b"selfos/node/1", 0)[..8]);
        node
    }

    fn derive(&self, label: &[u8], n: u64) -> [u8; 32] {
        Sha256::new()
            .chain_update(label)
            .chain_update(self.seed)
            .chain_update(n.to_be_bytes())
            .finalize()
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        chunk::ChunkBody,
        ids::ChunkKind,
        unit_kit::{NOW, answer, pair, pass},
    };

    /// Past [`MAX_NAMESPACES`] a new namespace is refused, from this device's writes and from a
    /// peer's message alike, and nothing is stored for it; `profile` stays writable.
    #[test]
    fn new_namespaces_stop_at_the_bound_from_here_and_from_a_peer() {
        let (mut me, mut peer) = pair();
        let name = |i: usize| Namespace::new(&format!("agent-{i}")).unwrap();
        let mut i = 0;
        while me.namespaces().len() < MAX_NAMESPACES {
            me.record(&name(i), answer("one"), NOW).unwrap();
            i += 1;
        }
        let refused = |e: &WriteError| matches!(e, WriteError::Read(ReadError::TooManyNamespaces { max, .. }) if *max == MAX_NAMESPACES);
        let error = me
            .record(&name(i), answer("one too many"), NOW)
            .unwrap_err();
        assert!(refused(&error), "{error}");
        assert_eq!(error.kind(), crate::ErrorKind::Invalid);
        me.record(
            &Namespace::new(Namespace::PROFILE).unwrap(),
            answer("still"),
            NOW,
        )
        .unwrap();

        let extra = name(i + 1);
        peer.record(&extra, answer("from a peer"), NOW).unwrap();
        let mut theirs = crate::ReplicationState::new();
        let message = peer
            .generate_replication_message(&extra, &mut theirs)
            .unwrap()
            .unwrap();
        let mut mine = crate::ReplicationState::new();
        let error = me
            .receive_replication_message(&extra, &mut mine, message, NOW)
            .unwrap_err();
        assert!(refused(&error), "{error}");
        assert!(!me.namespaces().contains(&extra));
        assert!(me.store().list(&extra).unwrap().is_empty());
    }

    /// Each opening writes under a writer of its own, yet an incremental chunk carries only the
    /// counts its own write raised: the write path does not grow with the openings before it.
    #[test]
    fn every_opening_writes_as_a_new_writer_and_chunks_carry_only_what_they_raised() {
        let ns = Namespace::new("chatgpt").unwrap();
        let mut store = pair().0.into_store();
        let openings = 6;
        for i in 0..openings {
            let mut vault = Vault::open(store, &pass()).unwrap();
            vault
                .record(&ns, answer(&format!("answer {i}")), NOW + i)
                .unwrap();
            store = vault.into_store();
        }
        let vault = Vault::open(store, &pass()).unwrap();
        let doc = &vault.namespaces[&ns];
        assert_eq!(
            doc.keys.vector().0.len(),
            openings as usize,
            "one writer each"
        );
        let mut incrementals = 0;
        for id in vault.store.list(&ns).unwrap() {
            let bytes = vault.store.read(&ns, &id).unwrap();
            let body =
                ChunkBody::open(&bytes, &vault.keys.storage, &vault.keys.vault, &ns, &id).unwrap();
            if id.kind == ChunkKind::Incremental {
                incrementals += 1;
                assert_eq!(body.vector.0.len(), 1, "only its own writer's count");
            }
        }
        assert_eq!(incrementals, openings);
    }
}
