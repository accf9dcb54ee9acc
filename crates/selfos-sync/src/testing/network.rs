//! Devices, each a vault with an engine while connected, and the in-memory relays between them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use selfos_proto::{
    Frame, Nonce, PeerId,
    handshake::{Audience, AudienceError},
};
use selfos_vault::{ChunkStore, Namespace, ReadError, ResponseId, Vault, WriteError};

use super::{
    relay::{ConnectionId, Relay},
    store::StoreLimits,
};
use crate::{SyncEngine, SyncError, SyncEvent};

/// The address the in-memory relays name themselves by.
pub const AUDIENCE: &str = "ws://relay.test";

/// Frames [`Network::settle`] delivers at most; far above what any test here needs, so that a
/// livelock fails instead of hanging.
pub const SETTLE_STEPS: usize = 1_000_000;

/// One device: a vault and, while connected, an engine.
#[derive(Debug)]
pub struct Device<S> {
    /// Its replica.
    pub vault: Vault<S>,
    engine: Option<SyncEngine>,
    /// Every event its engines reported.
    pub events: Vec<SyncEvent>,
}

impl<S> Device<S> {
    /// Its engine, while connected.
    pub fn engine(&self) -> Option<&SyncEngine> {
        self.engine.as_ref()
    }
}

/// What goes wrong on the wire, each a chance in 1000 per frame that carries a sync message
/// (`Send` to the relay, `Deliver` from it). The handshake and the relay's notices are never
/// touched: the faults stand for a transport that is not reliable and ordered, which the engine
/// does not repair within a session: see [`Network::heal`] for what makes convergence due again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Faults {
    /// The frame is lost.
    pub loss_per_mille: u16,
    /// The frame arrives twice (the copy later).
    pub duplicate_per_mille: u16,
    /// The frame overtakes frames sent before it.
    pub reorder_per_mille: u16,
}

impl Faults {
    /// A reliable, ordered wire.
    pub const NONE: Self = Self {
        loss_per_mille: 0,
        duplicate_per_mille: 0,
        reorder_per_mille: 0,
    };

    /// Frames lost, duplicated and reordered at these rates, each in 1000 (capped at 1000).
    pub fn new(loss_per_mille: u16, duplicate_per_mille: u16, reorder_per_mille: u16) -> Self {
        Self {
            loss_per_mille: loss_per_mille.min(1000),
            duplicate_per_mille: duplicate_per_mille.min(1000),
            reorder_per_mille: reorder_per_mille.min(1000),
        }
    }

    /// Whether every frame arrives once and in order.
    pub fn is_none(&self) -> bool {
        *self == Self::NONE
    }
}

/// What the wire did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Frames delivered (to a device or to a relay).
    pub delivered: u64,
    /// Frames lost.
    pub lost: u64,
    /// Frames sent twice.
    pub duplicated: u64,
    /// Frames that overtook others.
    pub reordered: u64,
}

/// Why the network could not do what it was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// An engine failed (a frame it could not handle, a vault write that failed under it).
    #[error("sync engine of device {device}: {source}")]
    Engine {
        /// The device.
        device: usize,
        /// What failed.
        #[source]
        source: SyncError,
    },
    /// The relay's address did not parse.
    #[error("relay address: {0}")]
    Audience(#[from] AudienceError),
    /// No device has this index.
    #[error("no device {0}")]
    NoDevice(usize),
    /// Frames were still in flight after the step bound.
    #[error("still {in_flight} frames in flight after {steps} steps")]
    NotSettled {
        /// Frames delivered.
        steps: usize,
        /// Frames left.
        in_flight: usize,
    },
    /// A namespace name was refused (an operation built one from a bad agent name).
    #[error("namespace: {0}")]
    Namespace(#[source] selfos_vault::IdError),
    /// A write to a device's vault failed.
    #[error("write on device {device}: {source}")]
    Write {
        /// The device.
        device: usize,
        /// What failed.
        #[source]
        source: WriteError,
    },
    /// A read of a device's vault failed.
    #[error("read on device {device}: {source}")]
    Read {
        /// The device.
        device: usize,
        /// What failed.
        #[source]
        source: ReadError,
    },
}

/// How the replicas differ; see [`Network::converged`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Divergence {
    /// Frames are still in flight: settle first.
    #[error("{frames} frames still in flight")]
    InFlight {
        /// How many.
        frames: usize,
    },
    /// A device cannot read some of its responses.
    #[error("device {device} cannot read {count} responses")]
    Unreadable {
        /// The device.
        device: usize,
        /// How many.
        count: usize,
    },
    /// A device does not hold every namespace that some device holds.
    #[error("device {device} holds namespaces {theirs:?} of {reference:?}")]
    Namespaces {
        /// The device.
        device: usize,
        /// Every namespace some device holds.
        reference: Vec<Namespace>,
        /// The device's.
        theirs: Vec<Namespace>,
    },
    /// A namespace's heads differ from device 0's: the replicas hold different changes.
    #[error("device {device}: heads of {namespace} differ from device 0's")]
    Heads {
        /// The device.
        device: usize,
        /// The namespace.
        namespace: Namespace,
    },
    /// The listings differ (ids, contents or stamps).
    #[error(
        "device {device}: responses differ from device 0's ({theirs} against {reference}), \
         first at {first:?}"
    )]
    Responses {
        /// The device.
        device: usize,
        /// How many device 0 lists.
        reference: usize,
        /// How many the device lists.
        theirs: usize,
        /// The first response that differs (device 0's, or the device's past the end of
        /// device 0's).
        first: Option<ResponseId>,
    },
    /// The conflicts differ.
    #[error("device {device}: conflicts differ from device 0's ({theirs} against {reference})")]
    Conflicts {
        /// The device.
        device: usize,
        /// How many device 0 has.
        reference: usize,
        /// How many the device has.
        theirs: usize,
    },
}

/// What every replica holds once converged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Converged {
    /// Responses in each listing.
    pub responses: usize,
    /// Conflicts on each replica.
    pub conflicts: usize,
}

#[derive(Debug, Clone)]
struct Hop {
    device: usize,
    to_relay: bool,
    /// Carries a sync message (`Send` or `Deliver`): the faults apply to it.
    data: bool,
    frame: Vec<u8>,
}

/// Devices, relays and the wire between them, driven one frame at a time by [`Network::step`].
///
/// Device `i` talks through connection `i` to the relay of its side of the partition (one relay
/// while there is none). Every random choice (nonces, faults) comes from the seed, so a seed and
/// a sequence of calls give the same run every time.
#[derive(Debug)]
pub struct Network<S> {
    /// The devices.
    pub devices: Vec<Device<S>>,
    /// The relay of each side of the partition.
    relays: BTreeMap<usize, Relay>,
    /// The side of the partition each device is on.
    sides: Vec<usize>,
    wire: VecDeque<Hop>,
    rng: u64,
    /// What goes wrong on the wire from now on.
    pub faults: Faults,
    /// What went wrong so far.
    pub stats: Stats,
    /// Whether a frame was lost, duplicated or reordered since every session last started over.
    faulted: bool,
    /// The fake clock, in ms; every frame delivered moves it by 1.
    pub now_ms: u64,
    /// Frames the relays forwarded (`Deliver`), for tests that inspect what crossed them.
    pub forwarded: Vec<Vec<u8>>,
    /// Writes made by [`Network::apply`], to make every text it writes unique.
    pub(super) writes: u64,
    /// Whether relays keep a store, and within what limits.
    store: Option<StoreLimits>,
}

impl<S: ChunkStore> Network<S> {
    /// An empty network whose randomness comes from `seed`, on a reliable wire.
    pub fn new(seed: u64) -> Self {
        Self {
            devices: Vec::new(),
            relays: BTreeMap::new(),
            sides: Vec::new(),
            wire: VecDeque::new(),
            rng: seed | 1,
            faults: Faults::NONE,
            stats: Stats::default(),
            faulted: false,
            now_ms: 1_800_000_000_000,
            forwarded: Vec::new(),
            writes: 0,
            store: None,
        }
    }

    /// From now on, relays made for a side keep a store within `limits`, as `selfos-relay` does
    /// by default (call it before the first [`Network::connect`]). The store outlives relay
    /// restarts; each side of a partition has its own.
    pub fn keep_store(&mut self, limits: StoreLimits) {
        self.store = Some(limits);
    }

    /// Every blob the store of device `i`'s relay (the relay of its side) holds for its vault.
    /// The relay of a side no device is on any more keeps what it had, as a relay a user left
    /// does until its store expires.
    pub fn stored(&self, i: usize) -> Vec<Vec<u8>> {
        let (Some(device), Some(side)) = (self.devices.get(i), self.sides.get(i)) else {
            return Vec::new();
        };
        let Ok(room) = crate::room_of(&device.vault.sync_keys()) else {
            return Vec::new();
        };
        self.relays
            .get(side)
            .map(|r| r.stored(&room))
            .unwrap_or_default()
    }

    fn next(&mut self) -> u64 {
        // xorshift64: deterministic, good enough to pick faults and nonces in tests.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Whether an event of `per_mille` chance happens; draws nothing when it cannot.
    fn chance(&mut self, per_mille: u16) -> bool {
        per_mille > 0 && self.next() % 1000 < u64::from(per_mille)
    }

    /// Adds a device (not yet connected); returns its index.
    pub fn add(&mut self, vault: Vault<S>) -> usize {
        self.devices.push(Device {
            vault,
            engine: None,
            events: Vec::new(),
        });
        self.sides.push(0);
        self.devices.len() - 1
    }

    fn device(&mut self, i: usize) -> Result<&mut Device<S>, NetworkError> {
        self.devices.get_mut(i).ok_or(NetworkError::NoDevice(i))
    }

    /// Connects device `i` to the relay of its side: the relay sends it a challenge. Does
    /// nothing if it is connected.
    pub fn connect(&mut self, i: usize) -> Result<(), NetworkError> {
        if self.device(i)?.engine.is_some() {
            return Ok(());
        }
        let audience: Audience = AUDIENCE.parse()?;
        let now = self.now_ms;
        let device = self.device(i)?;
        let me = PeerId::from_bytes(*device.vault.replica().as_bytes());
        let engine = SyncEngine::new(&device.vault.sync_keys(), me, audience.clone(), now)
            .map_err(|source| NetworkError::Engine { device: i, source })?;
        device.engine = Some(engine);
        let mut nonce = [0u8; 32];
        for chunk in nonce.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_be_bytes());
        }
        let side = self.sides[i];
        let store = self.store;
        self.relays
            .entry(side)
            .or_insert_with(|| match store {
                Some(limits) => Relay::with_store(audience, limits),
                None => Relay::new(audience),
            })
            .connect(ConnectionId(i), now, Nonce::from_bytes(nonce));
        self.collect_relay(side);
        Ok(())
    }

    /// Disconnects device `i`: its engine saves and stops, the others hear that it left.
    pub fn disconnect(&mut self, i: usize) {
        let Some(device) = self.devices.get_mut(i) else {
            return;
        };
        if let Some(mut engine) = device.engine.take() {
            engine.disconnected(&mut device.vault);
            device
                .events
                .extend(std::iter::from_fn(|| engine.poll_event()));
        }
        self.wire.retain(|hop| hop.device != i);
        let side = self.sides[i];
        if let Some(relay) = self.relays.get_mut(&side) {
            relay.disconnect(ConnectionId(i));
            self.collect_relay(side);
        }
    }

    /// Splits the network: device `i` moves to side `sides[i]` (devices past the end of `sides`
    /// to side 0), and each side gets a relay of its own, as if each group of devices lost the
    /// route to the others and met at another relay. Devices that change sides disconnect (the
    /// peers they leave hear it) and, if they were connected, connect to their new side's relay.
    /// `partition(&[])` heals every partition.
    pub fn partition(&mut self, sides: &[usize]) -> Result<(), NetworkError> {
        for i in 0..self.devices.len() {
            let side = sides.get(i).copied().unwrap_or(0);
            if self.sides[i] == side {
                continue;
            }
            let connected = self.devices[i].engine.is_some();
            self.disconnect(i);
            self.sides[i] = side;
            if connected {
                self.connect(i)?;
            }
        }
        Ok(())
    }

    /// The relays die and come back: every connection drops, frames in flight are lost, and
    /// the devices that were connected reconnect. Every session starts over, which is what
    /// repairs the damage of lost, duplicated and reordered frames.
    pub fn restart_relay(&mut self) -> Result<(), NetworkError> {
        let mut connected = Vec::new();
        for relay in self.relays.values_mut() {
            connected.extend(relay.connections().map(|ConnectionId(i)| i));
            relay.restart();
        }
        for &i in &connected {
            if let Some(device) = self.devices.get_mut(i)
                && let Some(mut engine) = device.engine.take()
            {
                engine.disconnected(&mut device.vault);
                device
                    .events
                    .extend(std::iter::from_fn(|| engine.poll_event()));
            }
        }
        self.wire.clear();
        self.faulted = false;
        for i in connected {
            self.connect(i)?;
        }
        Ok(())
    }

    /// Makes convergence due: no more faults, no partition, every device connected, and, if a
    /// frame was lost, duplicated or reordered since the sessions last started over, a relay
    /// restart so that they start over; then settles. After this, [`Network::converged`] must
    /// hold.
    pub fn heal(&mut self) -> Result<usize, NetworkError> {
        self.faults = Faults::NONE;
        self.partition(&[])?;
        for i in 0..self.devices.len() {
            self.connect(i)?;
        }
        if self.faulted {
            self.restart_relay()?;
        }
        self.settle()
    }

    /// Whether device `i` is connected and another device holds everything it holds.
    pub fn in_sync(&mut self, i: usize) -> bool {
        let Some(device) = self.devices.get_mut(i) else {
            return false;
        };
        device
            .engine
            .as_ref()
            .is_some_and(|e| e.in_sync(&device.vault))
    }

    /// Device `i`'s process is killed: its engine ends without saving anything, and the relay
    /// sees the connection drop. [`Network::connect`] starts it again.
    pub fn kill(&mut self, i: usize) {
        let Some(device) = self.devices.get_mut(i) else {
            return;
        };
        if device.engine.take().is_some() {
            self.wire.retain(|hop| hop.device != i);
            let side = self.sides[i];
            if let Some(relay) = self.relays.get_mut(&side) {
                relay.disconnect(ConnectionId(i));
                self.collect_relay(side);
            }
        }
    }

    /// Hands device `i`'s engine `frame` as if the relay had sent it (a relay replaying a frame
    /// it forwarded before, say).
    pub fn inject(&mut self, i: usize, frame: &[u8]) -> Result<(), NetworkError> {
        let now = self.now_ms;
        let device = self.device(i)?;
        if let Some(engine) = device.engine.as_mut() {
            engine
                .handle_frame(&mut device.vault, frame, now)
                .map_err(|source| NetworkError::Engine { device: i, source })?;
        }
        self.collect(i);
        Ok(())
    }

    /// Lets `elapsed_ms` pass on the clock and runs every connected engine's
    /// [`SyncEngine::tick`], then moves what they send onto the wire.
    pub fn tick(&mut self, elapsed_ms: u64) -> Result<(), NetworkError> {
        self.now_ms += elapsed_ms;
        let now = self.now_ms;
        for i in 0..self.devices.len() {
            let device = self.device(i)?;
            if let Some(engine) = device.engine.as_mut() {
                engine
                    .tick(&mut device.vault, now)
                    .map_err(|source| NetworkError::Engine { device: i, source })?;
            }
            self.collect(i);
        }
        Ok(())
    }

    /// Tells device `i`'s engine that its vault changed locally. Call it after every write.
    pub fn local_change(&mut self, i: usize) -> Result<(), NetworkError> {
        let device = self.device(i)?;
        if let Some(engine) = device.engine.as_mut() {
            engine
                .local_change(&mut device.vault)
                .map_err(|source| NetworkError::Engine { device: i, source })?;
        }
        self.collect(i);
        Ok(())
    }

    /// Moves the frames device `i`'s engine produced onto the wire.
    fn collect(&mut self, i: usize) {
        let Some(device) = self.devices.get_mut(i) else {
            return;
        };
        if let Some(engine) = device.engine.as_mut() {
            while let Some(frame) = engine.poll_transmit() {
                let data = matches!(Frame::decode(&frame), Ok(Frame::Send { .. }));
                self.wire.push_back(Hop {
                    device: i,
                    to_relay: true,
                    data,
                    frame,
                });
            }
            device
                .events
                .extend(std::iter::from_fn(|| engine.poll_event()));
        }
    }

    /// Moves the frames the relay of `side` produced onto the wire.
    fn collect_relay(&mut self, side: usize) {
        let Some(relay) = self.relays.get_mut(&side) else {
            return;
        };
        while let Some((ConnectionId(device), frame)) = relay.poll_transmit() {
            let data = matches!(Frame::decode(&frame), Ok(Frame::Deliver { .. }));
            if data {
                self.forwarded.push(frame.clone());
            }
            self.wire.push_back(Hop {
                device,
                to_relay: false,
                data,
                frame,
            });
        }
    }

    /// The next hop to deliver: the oldest, unless a later sync message overtakes it.
    fn take_next(&mut self) -> Option<Hop> {
        if self.wire.len() > 1 && self.chance(self.faults.reorder_per_mille) {
            let at = 1 + (self.next() % (self.wire.len() as u64 - 1)) as usize;
            if self.wire.get(at).is_some_and(|hop| hop.data) {
                self.stats.reordered += 1;
                self.faulted = true;
                return self.wire.remove(at);
            }
        }
        self.wire.pop_front()
    }

    /// Delivers one frame (or loses it); returns false when nothing is in flight.
    pub fn step(&mut self) -> Result<bool, NetworkError> {
        let Some(hop) = self.take_next() else {
            return Ok(false);
        };
        self.now_ms += 1;
        if hop.data {
            if self.chance(self.faults.loss_per_mille) {
                self.stats.lost += 1;
                self.faulted = true;
                return Ok(true);
            }
            if self.chance(self.faults.duplicate_per_mille) {
                self.stats.duplicated += 1;
                self.faulted = true;
                self.wire.push_back(hop.clone());
            }
        }
        self.stats.delivered += 1;
        let now = self.now_ms;
        let i = hop.device;
        if hop.to_relay {
            let side = self.sides.get(i).copied().unwrap_or(0);
            if let Some(relay) = self.relays.get_mut(&side) {
                relay.receive(ConnectionId(i), &hop.frame, now);
                self.collect_relay(side);
            }
        } else {
            let device = self.device(i)?;
            if let Some(engine) = device.engine.as_mut() {
                engine
                    .handle_frame(&mut device.vault, &hop.frame, now)
                    .map_err(|source| NetworkError::Engine { device: i, source })?;
            }
            self.collect(i);
        }
        Ok(true)
    }

    /// Runs until nothing is in flight, at most `max_steps` frames; returns the steps taken.
    pub fn run(&mut self, max_steps: usize) -> Result<usize, NetworkError> {
        let mut steps = 0;
        while steps < max_steps && self.step()? {
            steps += 1;
        }
        Ok(steps)
    }

    /// Runs until nothing is in flight; fails if that takes more than [`SETTLE_STEPS`] frames.
    /// Returns the steps taken.
    pub fn settle(&mut self) -> Result<usize, NetworkError> {
        let steps = self.run(SETTLE_STEPS)?;
        if self.busy() {
            return Err(NetworkError::NotSettled {
                steps,
                in_flight: self.wire.len(),
            });
        }
        Ok(steps)
    }

    /// Whether frames are still in flight.
    pub fn busy(&self) -> bool {
        !self.wire.is_empty()
    }

    /// Checks that every device holds the same replica as device 0: the same namespaces with
    /// the same heads (the same Automerge changes), the same listing (ids, contents, stamps),
    /// the same conflicts, and nothing unreadable. Call it once the network has settled, after
    /// [`Network::heal`] when faults or partitions were in play.
    pub fn converged(&mut self) -> Result<Converged, Divergence> {
        if self.busy() {
            return Err(Divergence::InFlight {
                frames: self.wire.len(),
            });
        }
        let Some((first, others)) = self.devices.split_first_mut() else {
            return Ok(Converged {
                responses: 0,
                conflicts: 0,
            });
        };
        let namespaces: BTreeSet<Namespace> = all_namespaces(first, others);
        let listing = first.vault.list(None);
        if !listing.unreadable.is_empty() {
            return Err(Divergence::Unreadable {
                device: 0,
                count: listing.unreadable.len(),
            });
        }
        let responses = listing.responses;
        let conflicts = first.vault.conflicts();
        let heads: Vec<_> = namespaces.iter().map(|ns| first.vault.heads(ns)).collect();
        for (device, other) in others.iter_mut().enumerate().map(|(i, d)| (i + 1, d)) {
            let theirs: BTreeSet<Namespace> =
                other.vault.replicated_namespaces().into_iter().collect();
            if theirs != namespaces {
                return Err(Divergence::Namespaces {
                    device,
                    reference: namespaces.into_iter().collect(),
                    theirs: theirs.into_iter().collect(),
                });
            }
            for (namespace, heads) in namespaces.iter().zip(&heads) {
                if &other.vault.heads(namespace) != heads {
                    return Err(Divergence::Heads {
                        device,
                        namespace: namespace.clone(),
                    });
                }
            }
            let listing = other.vault.list(None);
            if !listing.unreadable.is_empty() {
                return Err(Divergence::Unreadable {
                    device,
                    count: listing.unreadable.len(),
                });
            }
            if listing.responses != responses {
                let first = responses
                    .iter()
                    .zip(&listing.responses)
                    .find(|(a, b)| a != b)
                    .map(|(a, _)| a)
                    .or_else(|| responses.get(listing.responses.len()))
                    .or_else(|| listing.responses.get(responses.len()))
                    .map(|r| r.id.clone());
                return Err(Divergence::Responses {
                    device,
                    reference: responses.len(),
                    theirs: listing.responses.len(),
                    first,
                });
            }
            let theirs = other.vault.conflicts();
            if theirs != conflicts {
                return Err(Divergence::Conflicts {
                    device,
                    reference: conflicts.len(),
                    theirs: theirs.len(),
                });
            }
        }
        Ok(Converged {
            responses: responses.len(),
            conflicts: conflicts.len(),
        })
    }
}

/// Every namespace any device holds. Device 0 is not compared against it: a namespace it lacks
/// shows as heads that differ.
fn all_namespaces<S: ChunkStore>(first: &Device<S>, others: &[Device<S>]) -> BTreeSet<Namespace> {
    std::iter::once(first)
        .chain(others)
        .flat_map(|d| d.vault.replicated_namespaces())
        .collect()
}
