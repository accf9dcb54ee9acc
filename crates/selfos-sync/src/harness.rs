//! A deterministic in-memory network for tests, examples and benches: devices, each a vault
//! with an engine, and a relay that behaves like `selfos-relay` (challenge, join, forward,
//! peer notices) without sockets. Frames can be dropped and the relay restarted, all driven by a
//! seeded generator, so every run of a seed is the same run. Not a stable API.

use std::collections::{BTreeMap, VecDeque};

use selfos_proto::{
    Frame, Nonce, PeerId, PeerList, RoomId,
    handshake::{Audience, Challenge, verify_join},
};
use selfos_vault::{ChunkStore, Vault};

use crate::{SyncEngine, SyncError, SyncEvent};

/// The address the in-memory relay names itself by.
pub const AUDIENCE: &str = "ws://relay.test";

/// One device: a vault and, while connected, an engine.
#[derive(Debug)]
pub struct Device<S> {
    /// Its replica.
    pub vault: Vault<S>,
    engine: Option<SyncEngine>,
    /// Every event its engines reported.
    pub events: Vec<SyncEvent>,
}

#[derive(Debug)]
struct RelaySide {
    challenge: Challenge,
    joined: Option<(RoomId, PeerId)>,
}

#[derive(Debug)]
enum Hop {
    ToRelay(usize, Vec<u8>),
    ToDevice(usize, Vec<u8>),
}

/// Devices and a relay. Device `i` talks through connection `i`.
#[derive(Debug)]
pub struct Network<S> {
    /// The devices.
    pub devices: Vec<Device<S>>,
    relay: BTreeMap<usize, RelaySide>,
    wire: VecDeque<Hop>,
    rng: u64,
    /// Chance, in 1/1000, that a `Send` or `Deliver` frame is lost.
    pub drop_per_mille: u64,
    /// The fake clock, in ms.
    pub now_ms: u64,
    /// Frames the relay forwarded (Deliver), for tests that inspect what crossed it.
    pub forwarded: Vec<Vec<u8>>,
}

impl<S: ChunkStore> Network<S> {
    /// An empty network whose randomness comes from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            devices: Vec::new(),
            relay: BTreeMap::new(),
            wire: VecDeque::new(),
            rng: seed | 1,
            drop_per_mille: 0,
            now_ms: 1_800_000_000_000,
            forwarded: Vec::new(),
        }
    }

    fn next(&mut self) -> u64 {
        // xorshift64: deterministic, good enough to pick drops and nonces in tests.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Adds a device (not yet connected); returns its index.
    pub fn add(&mut self, vault: Vault<S>) -> usize {
        self.devices.push(Device {
            vault,
            engine: None,
            events: Vec::new(),
        });
        self.devices.len() - 1
    }

    /// Connects device `i`: the relay sends it a challenge.
    pub fn connect(&mut self, i: usize) -> Result<(), SyncError> {
        if self.devices[i].engine.is_some() {
            return Ok(());
        }
        let audience: Audience = AUDIENCE
            .parse()
            .map_err(|_| SyncError::Envelope(crate::EnvelopeError::Malformed))?;
        let device = &mut self.devices[i];
        let me = PeerId::from_bytes(*device.vault.replica().as_bytes());
        device.engine = Some(SyncEngine::new(
            &device.vault.sync_keys(),
            me,
            audience.clone(),
            self.now_ms,
        )?);
        let mut nonce = [0u8; 32];
        for chunk in nonce.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_be_bytes());
        }
        let challenge = Challenge::new(audience, self.now_ms, Nonce::from_bytes(nonce));
        self.wire.push_back(Hop::ToDevice(
            i,
            Frame::Challenge(challenge.clone()).encode(),
        ));
        self.relay.insert(
            i,
            RelaySide {
                challenge,
                joined: None,
            },
        );
        Ok(())
    }

    /// Disconnects device `i`: its engine saves and stops, the others hear that it left.
    pub fn disconnect(&mut self, i: usize) {
        if let Some(mut engine) = self.devices[i].engine.take() {
            engine.disconnected(&mut self.devices[i].vault);
            self.devices[i]
                .events
                .extend(std::iter::from_fn(|| engine.poll_event()));
        }
        self.wire
            .retain(|hop| !matches!(hop, Hop::ToDevice(d, _) | Hop::ToRelay(d, _) if *d == i));
        if let Some(RelaySide {
            joined: Some((room, peer)),
            ..
        }) = self.relay.remove(&i)
        {
            for (other, side) in &self.relay {
                if side.joined.is_some_and(|(r, _)| r == room) {
                    self.wire
                        .push_back(Hop::ToDevice(*other, Frame::PeerLeft(peer).encode()));
                }
            }
        }
    }

    /// The relay process dies and comes back: every connection drops; devices reconnect.
    pub fn restart_relay(&mut self) -> Result<(), SyncError> {
        let connected: Vec<usize> = self.relay.keys().copied().collect();
        for i in &connected {
            if let Some(mut engine) = self.devices[*i].engine.take() {
                engine.disconnected(&mut self.devices[*i].vault);
            }
        }
        self.relay.clear();
        self.wire.clear();
        for i in connected {
            self.connect(i)?;
        }
        Ok(())
    }

    /// Whether device `i` is connected and another device holds everything it holds.
    pub fn in_sync(&mut self, i: usize) -> bool {
        let device = &mut self.devices[i];
        device
            .engine
            .as_ref()
            .is_some_and(|e| e.in_sync(&device.vault))
    }

    /// Tells device `i`'s engine that its vault changed locally.
    pub fn local_change(&mut self, i: usize) -> Result<(), SyncError> {
        let device = &mut self.devices[i];
        if let Some(engine) = device.engine.as_mut() {
            engine.local_change(&mut device.vault)?;
        }
        self.collect(i);
        Ok(())
    }

    /// Moves the frames device `i`'s engine produced onto the wire.
    fn collect(&mut self, i: usize) {
        let device = &mut self.devices[i];
        if let Some(engine) = device.engine.as_mut() {
            while let Some(frame) = engine.poll_transmit() {
                self.wire.push_back(Hop::ToRelay(i, frame));
            }
            device
                .events
                .extend(std::iter::from_fn(|| engine.poll_event()));
        }
    }

    fn lost(&mut self, frame: &[u8]) -> bool {
        let data = matches!(
            Frame::decode(frame),
            Ok(Frame::Send { .. } | Frame::Deliver { .. })
        );
        data && self.drop_per_mille > 0 && self.next() % 1000 < self.drop_per_mille
    }

    /// Delivers one frame; returns false when nothing is in flight.
    pub fn step(&mut self) -> Result<bool, SyncError> {
        let Some(hop) = self.wire.pop_front() else {
            return Ok(false);
        };
        self.now_ms += 1;
        match hop {
            Hop::ToDevice(i, frame) => {
                if self.lost(&frame) {
                    return Ok(true);
                }
                let now = self.now_ms;
                let device = &mut self.devices[i];
                if let Some(engine) = device.engine.as_mut() {
                    engine.handle_frame(&mut device.vault, &frame, now)?;
                }
                self.collect(i);
            }
            Hop::ToRelay(i, frame) => {
                if !self.lost(&frame) {
                    self.relay_receive(i, &frame);
                }
            }
        }
        Ok(true)
    }

    fn relay_receive(&mut self, i: usize, frame: &[u8]) {
        let Some(side) = self.relay.get(&i) else {
            return;
        };
        match (Frame::decode(frame), side.joined) {
            (Ok(Frame::Join(join)), None) => {
                let Ok(audience) = AUDIENCE.parse::<Audience>() else {
                    return;
                };
                let Ok((room, peer)) =
                    verify_join(&side.challenge, &join, &audience, self.now_ms, 30_000)
                else {
                    // Refused: the connection is closed and nothing reaches the room.
                    self.relay.remove(&i);
                    return;
                };
                let mut peers = Vec::new();
                for (other, s) in &self.relay {
                    if let Some((r, p)) = s.joined
                        && r == room
                    {
                        peers.push(p);
                        self.wire
                            .push_back(Hop::ToDevice(*other, Frame::PeerJoined(peer).encode()));
                    }
                }
                if let Some(side) = self.relay.get_mut(&i) {
                    side.joined = Some((room, peer));
                }
                let peers = PeerList::try_from(peers).unwrap_or_default();
                self.wire
                    .push_back(Hop::ToDevice(i, Frame::Joined { peers }.encode()));
            }
            (Ok(Frame::Send { to, payload }), Some((room, from))) => {
                let target = self
                    .relay
                    .iter()
                    .find(|(_, s)| s.joined == Some((room, to)))
                    .map(|(c, _)| *c);
                if let Some(c) = target {
                    let deliver = Frame::Deliver { from, payload }.encode();
                    self.forwarded.push(deliver.clone());
                    self.wire.push_back(Hop::ToDevice(c, deliver));
                }
            }
            _ => {}
        }
    }

    /// Runs until nothing is in flight, at most `max_steps` frames; returns the steps taken.
    pub fn run(&mut self, max_steps: usize) -> Result<usize, SyncError> {
        let mut steps = 0;
        while steps < max_steps && self.step()? {
            steps += 1;
        }
        Ok(steps)
    }

    /// Whether frames are still in flight.
    pub fn busy(&self) -> bool {
        !self.wire.is_empty()
    }
}
