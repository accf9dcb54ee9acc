//! The room's store on the relay, from a device's side (PROTOCOL.md, section 11): catch up from
//! the sealed blobs other devices left, upload what this replica has that the store lacks, and
//! compact, so a device that comes online while no other is online still converges.
//!
//! Sans-IO like the rest of the engine, which drives it: after the join it lists the room's blobs
//! from its saved cursor, fetches and merges each one it has not merged (one at a time, each
//! checked against its id, then opened), commits the cursor, and only then uploads: one bundle
//! per namespace whose store mark lags behind the vault, a snapshot when compaction is due or an
//! erasure must leave the store, then deletes the blobs that snapshot replaced. Everything it
//! learns is saved through the vault after each step, so a connection that ends mid-way resumes.

mod blob;
mod saved;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use selfos_proto::{
    BlobId, BlobIds, BlobPart, ErrorCode, Frame, ListEntry, Listing, MAX_DELETE_IDS, RoomId,
    StoreFrame, StoreUsage, handshake::Audience,
};
use selfos_vault::{ChunkStore, Namespace, StoreBundle, StoreCover, StoreMark, SyncKeys, Vault};
use zeroize::Zeroizing;

use self::{
    blob::{BlobSealer, blob_id},
    saved::{Merged, SavedStore, StoreNamespace},
};
use crate::{SyncError, SyncEvent, engine::is_local, engine::split_namespace};

/// The largest blob this device fetches, whatever a relay lists: far above any relay's default
/// per-blob limit (16 MiB), and what a device may hold in memory at once for one blob.
pub const MAX_BLOB_LEN: u32 = 128 * 1024 * 1024;

/// Blobs a listing may queue for fetching; a store that lists more is not one a relay keeps
/// within its quotas (10,000 blobs per room by default).
const MAX_QUEUED: usize = 100_000;

/// Fetches in flight at once: the relay answers in order, so a catch-up of many blobs costs a
/// round trip per this many blobs, not per blob.
const MAX_FETCHES: usize = 16;

/// Bytes of blobs (as listed) in flight at once, past the first: what a catch-up may hold in
/// memory beyond the blob it is merging.
const MAX_FETCH_BYTES: u64 = 32 * 1024 * 1024;

/// How long to wait before asking a store that failed again, at first and at most.
const RETRY_MS: (u64, u64) = (1_000, 60_000);

/// Opens a blob of the vault whose keys are `keys`: its namespace and its bundle's bytes.
#[cfg(feature = "test-utils")]
pub(crate) fn open_blob(keys: &SyncKeys, blob: &[u8]) -> Option<(Namespace, Zeroizing<Vec<u8>>)> {
    let room = crate::room_of(keys).ok()?;
    let plain = BlobSealer::new(keys.store_key(), room).open(blob).ok()?;
    let (ns, body) = split_namespace(&plain)?;
    Some((ns, Zeroizing::new(body.to_vec())))
}

/// Where this device stands with the room's store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreStatus {
    /// Not asked yet: not joined, or no answer from the relay so far.
    Unknown,
    /// The relay keeps no store: devices sync only while they are online together.
    Disabled,
    /// Catching up from the store, or uploading to it.
    Syncing,
    /// The store holds everything this device holds, and this device everything the store
    /// held when it last listed it.
    Settled,
    /// The store refused an upload: the room is over its quota. What this device wrote stays on
    /// it (and reaches devices that are online together with it) until space is freed.
    Full,
    /// The relay's store failed; the device asks again after a while.
    Unavailable,
}

#[derive(Debug)]
struct Fetching {
    request: u32,
    entry: ListEntry,
    blob: Vec<u8>,
    /// A part did not fit the blob listed: the rest of its parts are read and dropped.
    broken: bool,
}

#[derive(Debug)]
struct Uploading {
    request: u32,
    ns: Namespace,
    merged: Merged,
    cover: StoreCover,
    /// The namespace's count of erasures when the bundle was made: a snapshot clears the need
    /// to compact only if no erasure came after it was made.
    erasures: u64,
}

/// The store client of one engine.
pub(crate) struct StoreSync {
    sealer: BlobSealer,
    relay: Audience,
    saved: Option<SavedStore>,
    status: StoreStatus,
    usage: Option<StoreUsage>,
    next_request: u32,
    /// The list request in flight, and the cursor it lists from.
    listing: Option<(u32, u64)>,
    /// Where the cursor goes once every blob listed is merged.
    listed_to: Option<(u64, u64)>,
    to_fetch: VecDeque<ListEntry>,
    progress: (u64, u64),
    /// Fetches in flight, in the order they were asked (and are answered).
    fetching: VecDeque<Fetching>,
    uploading: Option<Uploading>,
    deleting: Option<(u32, Namespace, Vec<BlobId>)>,
    /// Namespaces that cannot be uploaded in this session (a blob over the relay's limit).
    held_back: BTreeSet<Namespace>,
    /// Blobs that could not be merged in this session (damaged, or from another vault).
    unreadable: BTreeSet<BlobId>,
    /// Erasures seen per namespace in this session (see [`Uploading::erasures`]).
    erasures: BTreeMap<Namespace, u64>,
    retry_at: Option<u64>,
    retry_ms: u64,
    /// An upload or a delete changed what the store holds since it last said: list once more
    /// before settling, so the usage shown is the store's own (and the cursor passes this
    /// device's blobs).
    usage_stale: bool,
}

impl std::fmt::Debug for StoreSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSync")
            .field("status", &self.status)
            .field("usage", &self.usage)
            .finish_non_exhaustive()
    }
}

/// Where the store client puts what it has to send and to say.
pub(crate) struct Out<'a> {
    frames: &'a mut VecDeque<Vec<u8>>,
    events: &'a mut VecDeque<SyncEvent>,
}

impl<'a> Out<'a> {
    pub(crate) fn new(
        frames: &'a mut VecDeque<Vec<u8>>,
        events: &'a mut VecDeque<SyncEvent>,
    ) -> Self {
        Self { frames, events }
    }

    fn send(&mut self, frame: StoreFrame) {
        self.frames.push_back(Frame::Store(frame).encode());
    }

    fn warn(&mut self, text: String) {
        self.events.push_back(SyncEvent::Warning(text));
    }
}

impl StoreSync {
    pub(crate) fn new(keys: &SyncKeys, room: RoomId, relay: Audience) -> Self {
        Self {
            sealer: BlobSealer::new(keys.store_key(), room),
            relay,
            saved: None,
            status: StoreStatus::Unknown,
            usage: None,
            next_request: 0,
            listing: None,
            listed_to: None,
            to_fetch: VecDeque::new(),
            progress: (0, 0),
            fetching: VecDeque::new(),
            uploading: None,
            deleting: None,
            held_back: BTreeSet::new(),
            unreadable: BTreeSet::new(),
            erasures: BTreeMap::new(),
            retry_at: None,
            retry_ms: RETRY_MS.0,
            usage_stale: false,
        }
    }

    pub(crate) fn status(&self) -> StoreStatus {
        self.status
    }

    pub(crate) fn usage(&self) -> Option<StoreUsage> {
        self.usage
    }

    /// The relay let us in: catch up from where the last connection left off.
    pub(crate) fn joined<S: ChunkStore>(&mut self, vault: &Vault<S>, out: &mut Out<'_>) {
        if self.saved.is_none() {
            self.saved = Some(match vault.load_store_state(self.relay.as_str()) {
                Ok(None) => SavedStore::default(),
                Ok(Some(bytes)) => SavedStore::decode(&bytes).unwrap_or_else(|e| {
                    out.warn(format!("{e}: catching up from the whole store"));
                    SavedStore::default()
                }),
                Err(e) => {
                    out.warn(format!(
                        "saved store state unreadable ({e}): catching up from the whole store"
                    ));
                    SavedStore::default()
                }
            });
        }
        self.set_status(StoreStatus::Syncing, out);
        let cursor = self.saved().cursor;
        self.list(cursor, out);
    }

    /// The connection is gone: what was in flight is forgotten (the next connection lists from
    /// the saved cursor and uploads again what was not acknowledged).
    pub(crate) fn disconnected(&mut self) {
        self.listing = None;
        self.listed_to = None;
        self.to_fetch.clear();
        self.progress = (0, 0);
        self.fetching.clear();
        self.uploading = None;
        self.deleting = None;
        self.retry_at = None;
        if self.status != StoreStatus::Disabled {
            self.status = StoreStatus::Unknown;
        }
    }

    /// Something was written locally: upload it once caught up. A write that destroyed keys
    /// (a delete, an overwrite) makes the next bundle of its namespace a snapshot, whatever
    /// arrives before it goes: the blobs this device merged may hold those keys.
    pub(crate) fn local_change<S: ChunkStore>(
        &mut self,
        vault: &mut Vault<S>,
        out: &mut Out<'_>,
    ) -> Result<(), SyncError> {
        if self.status != StoreStatus::Disabled {
            // Only a namespace the store holds something of: the first bundle of one it holds
            // nothing of is a snapshot anyway. What lies past a mark is what was written since.
            let erased: Vec<Namespace> = self
                .saved()
                .namespaces
                .iter()
                .filter(|(ns, s)| !s.mark.is_empty() && vault.store_erasures(ns, &s.mark, None))
                .map(|(ns, _)| ns.clone())
                .collect();
            for ns in erased {
                self.erased(ns);
            }
            // A namespace's first blob, in flight: the store will hold what it covers.
            if let Some(up) = &self.uploading {
                let unmarked = StoreMark::default();
                let mark = self.saved.as_ref().and_then(|s| s.namespaces.get(&up.ns));
                let mark = mark.map_or(&unmarked, |s| &s.mark);
                if vault.store_erasures(&up.ns, mark, Some(&up.cover)) {
                    self.erased(up.ns.clone());
                }
            }
        }
        self.changed(vault, out)
    }

    /// Keys of `ns` were destroyed (here, or by a peer online with this device): its next
    /// bundle is a snapshot, and the blobs this device merged go.
    pub(crate) fn erased(&mut self, ns: Namespace) {
        *self.erasures.entry(ns.clone()).or_default() += 1;
        self.saved().namespaces.entry(ns).or_default().compact = true;
    }

    /// Starts uploading what changed, once caught up.
    pub(crate) fn changed<S: ChunkStore>(
        &mut self,
        vault: &mut Vault<S>,
        out: &mut Out<'_>,
    ) -> Result<(), SyncError> {
        if self.status == StoreStatus::Settled {
            self.set_status(StoreStatus::Syncing, out);
        }
        self.pump(vault, out)
    }

    /// Asks a store that failed again, once its wait is over.
    pub(crate) fn tick(&mut self, now_ms: u64, out: &mut Out<'_>) {
        if self.status == StoreStatus::Unavailable && self.retry_at.is_some_and(|at| now_ms >= at) {
            self.retry_at = None;
            self.set_status(StoreStatus::Syncing, out);
            let cursor = self.saved().cursor;
            self.list(cursor, out);
        }
    }

    pub(crate) fn handle<S: ChunkStore>(
        &mut self,
        vault: &mut Vault<S>,
        frame: StoreFrame,
        now_ms: u64,
        out: &mut Out<'_>,
    ) -> Result<(), SyncError> {
        match frame {
            StoreFrame::Listed(listing) => self.listed(listing, out),
            StoreFrame::Blob(part) => self.part(vault, part, now_ms, out)?,
            StoreFrame::Done { request, error } => {
                self.done(vault, request, error, now_ms, out)?;
            }
            StoreFrame::Changed { head } => {
                let behind = self.saved.as_ref().is_some_and(|s| head > s.cursor);
                if behind && self.listing.is_none() && self.listed_to.is_none() {
                    if matches!(self.status, StoreStatus::Settled | StoreStatus::Full) {
                        self.set_status(StoreStatus::Syncing, out);
                    }
                    let cursor = self.saved().cursor;
                    self.list(cursor, out);
                }
            }
            // Requests only clients send.
            _ => {}
        }
        self.pump(vault, out)
    }

    fn saved(&mut self) -> &mut SavedStore {
        self.saved.get_or_insert_with(SavedStore::default)
    }

    fn request(&mut self) -> u32 {
        self.next_request = self.next_request.wrapping_add(1);
        self.next_request
    }

    /// Reports every change of status but the start of work, which progress events cover.
    fn set_status(&mut self, status: StoreStatus, out: &mut Out<'_>) {
        if self.status != status {
            self.status = status;
            if status != StoreStatus::Syncing {
                out.events.push_back(SyncEvent::Store(status));
            }
        }
    }

    fn list(&mut self, since: u64, out: &mut Out<'_>) {
        let request = self.request();
        self.listing = Some((request, since));
        out.send(StoreFrame::List { request, since });
    }

    fn listed(&mut self, listing: Listing, out: &mut Out<'_>) {
        let Some((request, since)) = self.listing else {
            return;
        };
        if listing.request != request {
            return;
        }
        self.usage = Some(listing.usage);
        let epoch = self.saved().epoch;
        if epoch != 0 && listing.epoch != epoch {
            // The store was created anew (it expired, or was reset): what this device knew of
            // it is gone with it, so everything goes up again.
            self.forget_store();
            if since > 0 {
                self.list(0, out);
                return;
            }
        }
        for entry in listing.entries.into_vec() {
            let known = self.saved().namespaces.values().any(|n| n.holds(&entry.id))
                || self.unreadable.contains(&entry.id)
                || self.to_fetch.iter().any(|e| e.id == entry.id);
            if known {
                continue;
            }
            if entry.size > MAX_BLOB_LEN || self.to_fetch.len() >= MAX_QUEUED {
                out.warn(format!(
                    "a blob of {} bytes in the store is left alone (over {MAX_BLOB_LEN} bytes, or \
                     more than {MAX_QUEUED} blobs listed)",
                    entry.size
                ));
                self.unreadable.insert(entry.id);
                continue;
            }
            self.progress.1 += u64::from(entry.size);
            self.to_fetch.push_back(entry);
        }
        if listing.more {
            self.list(listing.head, out);
        } else {
            self.listing = None;
            self.listed_to = Some((listing.epoch, listing.head));
            self.report_progress(out);
        }
    }

    fn report_progress(&self, out: &mut Out<'_>) {
        if self.progress.1 > 0 {
            out.events.push_back(SyncEvent::StoreProgress {
                fetched_bytes: self.progress.0,
                total_bytes: self.progress.1,
            });
        }
    }

    fn part<S: ChunkStore>(
        &mut self,
        vault: &mut Vault<S>,
        part: BlobPart,
        now_ms: u64,
        out: &mut Out<'_>,
    ) -> Result<(), SyncError> {
        let Some(at) = self.fetching.iter().position(|f| f.request == part.request) else {
            return Ok(());
        };
        let fetching = &mut self.fetching[at];
        let fits = part.id == fetching.entry.id
            && part.total() == fetching.entry.size
            && part.offset() as usize == fetching.blob.len();
        if fits && !fetching.broken {
            fetching.blob.extend_from_slice(part.bytes());
        } else {
            fetching.broken = true;
        }
        if !part.is_last() {
            return Ok(());
        }
        let Some(fetching) = self.fetching.remove(at) else {
            return Ok(());
        };
        self.progress.0 += u64::from(fetching.entry.size);
        self.report_progress(out);
        if fetching.broken || blob_id(&fetching.blob) != fetching.entry.id {
            out.warn(format!(
                "blob {} from the store does not match its id: left alone",
                fetching.entry.id
            ));
            self.unreadable.insert(fetching.entry.id);
            return Ok(());
        }
        self.merge(vault, &fetching.entry, &fetching.blob, now_ms, out)
    }

    /// Opens a fetched blob and merges its bundle.
    fn merge<S: ChunkStore>(
        &mut self,
        vault: &mut Vault<S>,
        entry: &ListEntry,
        blob: &[u8],
        now_ms: u64,
        out: &mut Out<'_>,
    ) -> Result<(), SyncError> {
        let opened: Result<(Namespace, StoreBundle), String> =
            self.sealer.open(blob).map_err(|e| e.to_string()).and_then(
                |plain: Zeroizing<Vec<u8>>| {
                    let (ns, body) = split_namespace(&plain).ok_or("no namespace")?;
                    let bundle = StoreBundle::decode(body).map_err(|e| e.to_string())?;
                    Ok((ns, bundle))
                },
            );
        let (ns, bundle) = match opened {
            Ok(opened) => opened,
            Err(reason) => {
                out.warn(format!(
                    "blob {} from the store refused: {reason}",
                    entry.id
                ));
                self.unreadable.insert(entry.id);
                return Ok(());
            }
        };
        let snapshot = bundle.is_snapshot();
        let mut state = self.saved().namespaces.remove(&ns).unwrap_or_default();
        let applied = vault.apply_store_bundle(&ns, bundle, &mut state.mark, now_ms);
        let report = match applied {
            Ok(report) => report,
            Err(e) => {
                self.keep(ns, state);
                if is_local(e.kind()) {
                    return Err(e.into());
                }
                out.warn(format!("blob {} from the store refused: {e}", entry.id));
                self.unreadable.insert(entry.id);
                return Ok(());
            }
        };
        state.merged.push(Merged {
            id: entry.id,
            size: entry.size,
            snapshot,
        });
        if report.erased || report.stale {
            // Blobs this device merged (this one, if stale) hold keys that are destroyed.
            *self.erasures.entry(ns.clone()).or_default() += 1;
            state.compact = true;
        }
        if report.changed {
            out.events.push_back(SyncEvent::FromStore {
                namespace: ns.clone(),
                deletions: report.deletions,
            });
        }
        self.keep(ns, state);
        self.save(vault, out);
        Ok(())
    }

    /// Forgets what this device knew of the store, so that it fetches what the store holds and
    /// uploads everything again.
    fn forget_store(&mut self) {
        self.saved = Some(SavedStore::default());
        self.unreadable.clear();
    }

    fn keep(&mut self, ns: Namespace, state: StoreNamespace) {
        if state != StoreNamespace::default() {
            self.saved().namespaces.insert(ns, state);
        }
    }

    fn save<S: ChunkStore>(&mut self, vault: &mut Vault<S>, out: &mut Out<'_>) {
        let bytes = self.saved().encode();
        if let Err(e) = vault.save_store_state(self.relay.as_str(), &bytes) {
            out.warn(format!("store state not saved: {e}"));
        }
    }

    fn done<S: ChunkStore>(
        &mut self,
        vault: &mut Vault<S>,
        request: u32,
        error: Option<ErrorCode>,
        now_ms: u64,
        out: &mut Out<'_>,
    ) -> Result<(), SyncError> {
        if self.listing.is_some_and(|(r, _)| r == request) {
            self.listing = None;
            match error {
                Some(ErrorCode::BadCursor) => {
                    // A cursor the store never handed out: it lost what this device knew of.
                    self.forget_store();
                    self.list(0, out);
                }
                other => self.failed(other, now_ms, out),
            }
        } else if let Some(at) = self.fetching.iter().position(|f| f.request == request) {
            let Some(fetching) = self.fetching.remove(at) else {
                return Ok(());
            };
            match error {
                // Compacted away since it was listed: the snapshot that replaced it comes later.
                Some(ErrorCode::BlobNotFound) => {
                    self.progress.1 = self
                        .progress
                        .1
                        .saturating_sub(u64::from(fetching.entry.size));
                }
                other => self.failed(other, now_ms, out),
            }
        } else if self
            .uploading
            .as_ref()
            .is_some_and(|u| u.request == request)
        {
            let Some(upload) = self.uploading.take() else {
                return Ok(());
            };
            match error {
                None => self.uploaded(vault, upload, out),
                Some(ErrorCode::BlobTooLarge) => {
                    out.warn(format!(
                        "{} is too large for the relay's store: it reaches other devices only \
                         while they are online together with this one",
                        upload.ns
                    ));
                    self.held_back.insert(upload.ns);
                }
                Some(ErrorCode::QuotaExceeded) => self.set_status(StoreStatus::Full, out),
                other => self.failed(other, now_ms, out),
            }
        } else if self.deleting.as_ref().is_some_and(|d| d.0 == request) {
            let Some((_, ns, ids)) = self.deleting.take() else {
                return Ok(());
            };
            match error {
                None => {
                    if let Some(state) = self.saved().namespaces.get_mut(&ns) {
                        state.to_delete.retain(|id| !ids.contains(id));
                    }
                    self.save(vault, out);
                    self.usage_stale = true;
                }
                other => self.failed(other, now_ms, out),
            }
        }
        Ok(())
    }

    /// A request was refused for a reason that stops the store for now.
    fn failed(&mut self, error: Option<ErrorCode>, now_ms: u64, out: &mut Out<'_>) {
        self.listing = None;
        self.listed_to = None;
        self.to_fetch.clear();
        self.progress = (0, 0);
        match error {
            Some(ErrorCode::StoreDisabled) => self.set_status(StoreStatus::Disabled, out),
            Some(code) if code != ErrorCode::StoreUnavailable => {
                out.warn(format!("the relay's store refused a request ({code:?})"));
                self.retry(now_ms, out);
            }
            _ => self.retry(now_ms, out),
        }
    }

    fn retry(&mut self, now_ms: u64, out: &mut Out<'_>) {
        self.retry_at = Some(now_ms.saturating_add(self.retry_ms));
        self.retry_ms = (self.retry_ms * 2).min(RETRY_MS.1);
        self.set_status(StoreStatus::Unavailable, out);
    }

    fn uploaded<S: ChunkStore>(
        &mut self,
        vault: &mut Vault<S>,
        upload: Uploading,
        out: &mut Out<'_>,
    ) {
        self.retry_ms = RETRY_MS.0;
        let mut state = self
            .saved()
            .namespaces
            .remove(&upload.ns)
            .unwrap_or_default();
        vault.store_holds(&upload.ns, &mut state.mark, upload.cover);
        if upload.merged.snapshot {
            // Everything this replica merged is in the snapshot: those blobs go.
            let replaced = state.merged.drain(..).map(|m| m.id);
            state.to_delete.extend(replaced);
            if self.erasures.get(&upload.ns).copied().unwrap_or(0) == upload.erasures {
                state.compact = false;
            }
        }
        state.merged.push(upload.merged);
        self.keep(upload.ns, state);
        self.save(vault, out);
        self.usage_stale = true;
    }

    /// Starts the next step, if nothing is in flight: a fetch, the cursor once every fetch is
    /// done, a delete, an upload; or reports the store settled.
    fn pump<S: ChunkStore>(
        &mut self,
        vault: &mut Vault<S>,
        out: &mut Out<'_>,
    ) -> Result<(), SyncError> {
        let busy = self.listing.is_some() || self.uploading.is_some() || self.deleting.is_some();
        if busy || !matches!(self.status, StoreStatus::Syncing | StoreStatus::Full) {
            return Ok(());
        }
        let mut in_flight: u64 = self.fetching.iter().map(|f| u64::from(f.entry.size)).sum();
        while self.fetching.len() < MAX_FETCHES
            && (self.fetching.is_empty() || in_flight < MAX_FETCH_BYTES)
        {
            let Some(entry) = self.to_fetch.pop_front() else {
                break;
            };
            let request = self.request();
            in_flight += u64::from(entry.size);
            self.fetching.push_back(Fetching {
                request,
                entry,
                // Grown as parts arrive: the listed size is the relay's word.
                blob: Vec::with_capacity((entry.size as usize).min(1 << 20)),
                broken: false,
            });
            out.send(StoreFrame::Fetch {
                request,
                id: entry.id,
            });
        }
        if !self.fetching.is_empty() {
            return Ok(());
        }
        if let Some((epoch, head)) = self.listed_to.take() {
            let saved = self.saved();
            saved.epoch = epoch;
            saved.cursor = head;
            self.progress = (0, 0);
            self.save(vault, out);
        }
        if self.status == StoreStatus::Full {
            return Ok(());
        }
        if self.start_delete(out) {
            return Ok(());
        }
        if self.start_upload(vault, out)? {
            return Ok(());
        }
        if std::mem::take(&mut self.usage_stale) {
            let cursor = self.saved().cursor;
            self.list(cursor, out);
            return Ok(());
        }
        self.set_status(StoreStatus::Settled, out);
        Ok(())
    }

    fn start_delete(&mut self, out: &mut Out<'_>) -> bool {
        let Some((ns, ids)) = self.saved().namespaces.iter().find_map(|(ns, state)| {
            (!state.to_delete.is_empty()).then(|| {
                let ids: Vec<BlobId> = state
                    .to_delete
                    .iter()
                    .take(MAX_DELETE_IDS)
                    .copied()
                    .collect();
                (ns.clone(), ids)
            })
        }) else {
            return false;
        };
        let request = self.request();
        // At most MAX_DELETE_IDS, taken above.
        let Ok(list) = BlobIds::try_from(ids.clone()) else {
            return false;
        };
        out.send(StoreFrame::Delete { request, ids: list });
        self.deleting = Some((request, ns, ids));
        true
    }

    fn start_upload<S: ChunkStore>(
        &mut self,
        vault: &mut Vault<S>,
        out: &mut Out<'_>,
    ) -> Result<bool, SyncError> {
        let max = self
            .usage
            .map_or(MAX_BLOB_LEN, |u| u.max_blob_len.min(MAX_BLOB_LEN));
        for ns in vault.replicated_namespaces() {
            if self.held_back.contains(&ns) {
                continue;
            }
            let state = self
                .saved()
                .namespaces
                .get(&ns)
                .cloned()
                .unwrap_or_default();
            let snapshot = state.compact || state.compaction_due();
            let Some(bundle) = vault.store_bundle(&ns, &state.mark, snapshot)? else {
                continue;
            };
            let mut plain = Zeroizing::new(Vec::new());
            plain.push(ns.as_str().len() as u8);
            plain.extend_from_slice(ns.as_str().as_bytes());
            bundle.encode_into(&mut plain);
            let (id, blob) = self.sealer.seal(&plain)?;
            let size = match u32::try_from(blob.len()) {
                Ok(size) if size <= max => size,
                _ => {
                    out.warn(format!(
                        "{ns} needs a blob of {} bytes, over the store's limit of {max}: it \
                         reaches other devices only while they are online together with this one",
                        blob.len()
                    ));
                    self.held_back.insert(ns);
                    continue;
                }
            };
            let request = self.request();
            let parts = BlobPart::split(request, id, &blob)
                .map_err(|_| SyncError::Envelope(crate::EnvelopeError::TooLarge))?;
            for part in parts {
                out.send(StoreFrame::Put(part));
            }
            let erasures = self.erasures.get(&ns).copied().unwrap_or(0);
            self.uploading = Some(Uploading {
                request,
                ns,
                merged: Merged {
                    id,
                    size,
                    snapshot: bundle.is_snapshot(),
                },
                cover: bundle.cover(),
                erasures,
            });
            return Ok(true);
        }
        Ok(false)
    }
}
