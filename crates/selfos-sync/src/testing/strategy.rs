//! Proptest strategies for what users and networks do, and [`Network::apply`] to play them.

use proptest::{collection::SizeRange, prelude::*};
use selfos_vault::{
    Answer, CardKind, ChunkStore, Content, Namespace, Policy, Resolution, ResponseId, Status,
};

use super::network::{Faults, Network, NetworkError};

/// The namespaces the operations write to, by [`Op`]'s `agent` index (taken modulo the count).
pub const AGENTS: [&str; 3] = ["chatgpt", "claude", "profile"];

/// Devices an operation may name; indices are taken modulo the network's device count, so one
/// program runs on networks of any size.
const DEVICES: usize = 8;

/// Responses an edit, or conflicts a resolve, may pick, taken modulo what the device holds.
const PICKS: usize = 2;

/// One thing a user or the network does. Device, agent and pick indices are taken modulo what
/// exists when the operation is applied, so every operation applies to any network and shrinks
/// well; an edit, delete or resolve with nothing to pick does nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Records a new answer in an agent's namespace.
    Record {
        /// The device.
        device: usize,
        /// The agent, in [`AGENTS`].
        agent: usize,
    },
    /// Edits the answer of one of the device's responses.
    Edit {
        /// The device.
        device: usize,
        /// Which response of its listing.
        pick: usize,
    },
    /// Deletes one of the device's responses.
    Delete {
        /// The device.
        device: usize,
        /// Which response of its listing.
        pick: usize,
    },
    /// Resolves a conflict on one of the devices that hold one.
    Resolve {
        /// Which of the devices that hold a conflict.
        device: usize,
        /// Which conflict.
        pick: usize,
        /// Keep this value (modulo their count), or, if `None`, write a new answer.
        keep: Option<usize>,
    },
    /// Sets an agent's conflict policy.
    SetPolicy {
        /// The device.
        device: usize,
        /// The agent, in [`AGENTS`].
        agent: usize,
        /// The policy.
        policy: Policy,
    },
    /// [`Network::disconnect`].
    Disconnect(usize),
    /// [`Network::connect`].
    Connect(usize),
    /// [`Network::partition`] with these sides.
    Partition(Vec<usize>),
    /// Heals the partition: `partition(&[])`.
    HealPartition,
    /// [`Network::restart_relay`].
    RestartRelay,
    /// Sets [`Network::faults`].
    Faults(Faults),
    /// [`Network::run`] for at most this many frames.
    Run(usize),
}

/// What applying an [`Op`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A response was recorded.
    Recorded(ResponseId),
    /// A response was edited.
    Edited(ResponseId),
    /// A response was deleted.
    Deleted(ResponseId),
    /// A conflict was resolved.
    Resolved(ResponseId),
    /// A namespace's policy was set.
    PolicySet(Namespace),
    /// The network changed or ran.
    Network,
    /// Nothing to pick from: nothing happened.
    Nothing,
}

/// The wire the operations may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Wire {
    /// No [`Op::Faults`]: every frame arrives, once and in order. Partitions, disconnects and
    /// relay restarts still happen.
    Reliable,
    /// [`Op::Faults`] too: up to 30 % of the sync messages lost, 10 % duplicated, 10 %
    /// reordered. Convergence then takes new sessions, which [`Network::heal`] starts.
    Faulty,
}

/// One operation, weighted like a busy day: mostly writes and network time, now and then a
/// partition, a disconnect, a relay restart or (on a [`Wire::Faulty`] wire) a change of faults.
pub fn op(wire: Wire) -> impl Strategy<Value = Op> {
    let device = 0..DEVICES;
    // Edits pick among the oldest responses, which every device holds, so that devices edit the
    // same ones between two runs and conflicts arise for resolves to settle; deletes pick
    // anywhere, so that they do not take the contested responses first. Devices reconnect and
    // partitions heal twice as often as they break, so that those conflicts meet during the
    // program and not only at the final heal.
    let pick = 0..PICKS;
    let users_and_network = prop_oneof![
        4 => (device.clone(), 0..AGENTS.len())
            .prop_map(|(device, agent)| Op::Record { device, agent }),
        3 => (device.clone(), pick.clone()).prop_map(|(device, pick)| Op::Edit { device, pick }),
        2 => (device.clone(), any::<usize>())
            .prop_map(|(device, pick)| Op::Delete { device, pick }),
        2 => (device.clone(), pick, prop::option::of(0..3usize))
            .prop_map(|(device, pick, keep)| Op::Resolve { device, pick, keep }),
        1 => (device.clone(), 0..AGENTS.len(), any::<bool>()).prop_map(|(device, agent, merge)| {
            let policy = if merge { Policy::UserMerge } else { Policy::LastWriteWins };
            Op::SetPolicy { device, agent, policy }
        }),
        1 => device.clone().prop_map(Op::Disconnect),
        2 => device.prop_map(Op::Connect),
        1 => prop::collection::vec(0..3usize, 0..DEVICES).prop_map(Op::Partition),
        2 => Just(Op::HealPartition),
        1 => Just(Op::RestartRelay),
        3 => (1..200usize).prop_map(Op::Run),
    ];
    match wire {
        Wire::Reliable => users_and_network.boxed(),
        Wire::Faulty => {
            let faults =
                (0..=300u16, 0..=100u16, 0..=100u16).prop_map(|(loss, duplicate, reorder)| {
                    Op::Faults(Faults::new(loss, duplicate, reorder))
                });
            // The faults change as often as the relay restarts: 1 in 23 operations.
            prop_oneof![22 => users_and_network, 1 => faults].boxed()
        }
    }
}

/// A program of `len` operations; see [`op`].
pub fn ops(wire: Wire, len: impl Into<SizeRange>) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(wire), len)
}

/// An answered intent card in `agent`'s namespace.
fn content(agent: &str, text: String, created_ms: u64) -> Content {
    Content {
        card_id: "intent.include".into(),
        card_kind: CardKind::Intent,
        answer: Some(Answer::Text(text)),
        agent: agent.into(),
        origin: "selfos-sync testing".into(),
        created_ms,
        wait_ms: 7_000,
        status: Status::Answered,
        context: Default::default(),
    }
}

fn namespace(agent: usize) -> Result<(Namespace, &'static str), NetworkError> {
    let name = AGENTS[agent % AGENTS.len()];
    Ok((Namespace::new(name).map_err(NetworkError::Namespace)?, name))
}

impl<S: ChunkStore> Network<S> {
    /// Plays one operation. Writes go to the device's vault at [`Network::now_ms`] and are
    /// announced with [`Network::local_change`]; the network does not run (only [`Op::Run`]
    /// moves frames). Fails only if the vault or an engine does: with a network of replicas of
    /// one vault, a failure is a bug.
    pub fn apply(&mut self, op: &Op) -> Result<Outcome, NetworkError> {
        let n = self.devices.len();
        if n == 0 {
            return Ok(Outcome::Nothing);
        }
        let now = self.now_ms;
        let write = |device: usize| move |source| NetworkError::Write { device, source };
        let outcome = match op {
            Op::Record { device, agent } => {
                let d = device % n;
                let (ns, agent) = namespace(*agent)?;
                self.writes += 1;
                let text = format!("answer {} from device {d}", self.writes);
                let id = self.devices[d]
                    .vault
                    .record(&ns, content(agent, text, now), now)
                    .map_err(write(d))?;
                self.local_change(d)?;
                Outcome::Recorded(id)
            }
            Op::Edit { device, pick } => {
                let d = device % n;
                let live = self.devices[d].vault.list(None).responses;
                let Some(response) = live.get(pick % live.len().max(1)) else {
                    return Ok(Outcome::Nothing);
                };
                self.writes += 1;
                let text = Answer::Text(format!("edit {} on device {d}", self.writes));
                self.devices[d]
                    .vault
                    .edit(&response.id, Some(text), None, now)
                    .map_err(write(d))?;
                self.local_change(d)?;
                Outcome::Edited(response.id.clone())
            }
            Op::Delete { device, pick } => {
                let d = device % n;
                let live = self.devices[d].vault.list(None).responses;
                let Some(response) = live.get(pick % live.len().max(1)) else {
                    return Ok(Outcome::Nothing);
                };
                self.devices[d]
                    .vault
                    .delete(&response.id, now)
                    .map_err(write(d))?;
                self.local_change(d)?;
                Outcome::Deleted(response.id.clone())
            }
            Op::Resolve { device, pick, keep } => {
                // A user settles a conflict once every value can be read: mid-session a value
                // may be waiting for its key.
                let settleable = |d: usize| -> Vec<_> {
                    self.devices[d]
                        .vault
                        .conflicts()
                        .into_iter()
                        .filter(|c| c.values.iter().all(|v| v.content.is_ok()))
                        .collect()
                };
                let holders: Vec<usize> = (0..n).filter(|d| !settleable(*d).is_empty()).collect();
                let Some(&d) = holders.get(device % holders.len().max(1)) else {
                    return Ok(Outcome::Nothing);
                };
                let conflicts = settleable(d);
                let Some(conflict) = conflicts.get(pick % conflicts.len().max(1)) else {
                    return Ok(Outcome::Nothing);
                };
                let resolution = match keep {
                    Some(k) => Resolution::Keep(k % conflict.values.len().max(1)),
                    None => {
                        self.writes += 1;
                        Resolution::Answer(Answer::Text(format!(
                            "merged {} on device {d}",
                            self.writes
                        )))
                    }
                };
                self.devices[d]
                    .vault
                    .resolve(&conflict.id, resolution, now)
                    .map_err(write(d))?;
                self.local_change(d)?;
                Outcome::Resolved(conflict.id.clone())
            }
            Op::SetPolicy {
                device,
                agent,
                policy,
            } => {
                let d = device % n;
                let (ns, _) = namespace(*agent)?;
                self.devices[d]
                    .vault
                    .set_policy(&ns, *policy, now)
                    .map_err(write(d))?;
                self.local_change(d)?;
                Outcome::PolicySet(ns)
            }
            Op::Disconnect(device) => {
                self.disconnect(device % n);
                Outcome::Network
            }
            Op::Connect(device) => {
                self.connect(device % n)?;
                Outcome::Network
            }
            Op::Partition(sides) => {
                self.partition(sides)?;
                Outcome::Network
            }
            Op::HealPartition => {
                self.partition(&[])?;
                Outcome::Network
            }
            Op::RestartRelay => {
                self.restart_relay()?;
                Outcome::Network
            }
            Op::Faults(faults) => {
                self.faults = *faults;
                Outcome::Network
            }
            Op::Run(steps) => {
                self.run(*steps)?;
                Outcome::Network
            }
        };
        Ok(outcome)
    }
}
