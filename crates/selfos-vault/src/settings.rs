//! The `settings` namespace: each namespace's conflict policy, stamped with the hybrid logical
//! clock of the write that set it.
//!
//! A policy is a last-write-wins field like a record: concurrent settings stay side by side in
//! Automerge, and every replica reads the one with the highest stamp. Automerge's own pick
//! follows op ids, which have nothing to do with time. See FORMAT.md.

use automerge::{ReadDoc, ScalarValue, Value};

use crate::{conflict::Policy, hlc::Hlc, ids::Namespace, namespace::NamespaceDoc};

const MAGIC: &[u8; 4] = b"SFPO";
const VERSION: u8 = 1;
const LEN: usize = MAGIC.len() + 1 + Hlc::LEN + 1;

/// A policy and the stamp of the write that set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StampedPolicy {
    pub(crate) policy: Policy,
    pub(crate) updated: Hlc,
}

impl StampedPolicy {
    /// `"SFPO" ‖ version ‖ stamp ‖ policy`, the bytes value `settings` holds.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(LEN);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.updated.to_bytes());
        out.push(code(self.policy));
        out
    }

    /// Reads a stored value: this encoding, or the bare policy name that builds before stamps
    /// wrote (through autosurgeon), which counts as set at the earliest possible time. `None`
    /// for anything else (a later version's encoding, say): the other values decide.
    fn decode(value: &Value<'_>) -> Option<Self> {
        let Value::Scalar(scalar) = value else {
            return None;
        };
        match scalar.as_ref() {
            ScalarValue::Bytes(b) if b.len() == LEN && b.starts_with(MAGIC) => {
                if b[MAGIC.len()] != VERSION {
                    return None;
                }
                let mut stamp = [0u8; Hlc::LEN];
                stamp.copy_from_slice(&b[MAGIC.len() + 1..LEN - 1]);
                Some(Self {
                    policy: from_code(b[LEN - 1])?,
                    updated: Hlc::from_bytes(&stamp),
                })
            }
            ScalarValue::Str(name) => {
                let policy = match name.as_str() {
                    "LastWriteWins" => Policy::LastWriteWins,
                    "UserMerge" => Policy::UserMerge,
                    _ => return None,
                };
                Some(Self {
                    policy,
                    updated: Hlc::default(),
                })
            }
            _ => None,
        }
    }

    /// The order that picks among concurrent settings: the stamp, then (for equal stamps, which
    /// only bare values from before stamps share) the policy, so every replica picks the same.
    fn rank(&self) -> (Hlc, u8) {
        (self.updated, code(self.policy))
    }
}

fn code(policy: Policy) -> u8 {
    match policy {
        Policy::LastWriteWins => 0,
        Policy::UserMerge => 1,
    }
}

fn from_code(code: u8) -> Option<Policy> {
    match code {
        0 => Some(Policy::LastWriteWins),
        1 => Some(Policy::UserMerge),
        _ => None,
    }
}

/// Of the concurrent values under `key` in the `settings` document, those `decode` reads, the
/// greatest by `rank`: the one every replica reads (policies and device names alike).
pub(crate) fn latest<T, R: Ord>(
    settings: &NamespaceDoc,
    key: &str,
    decode: impl Fn(&Value<'_>) -> Option<T>,
    rank: impl Fn(&T) -> R,
) -> Option<T> {
    settings
        .doc
        .get_all(&settings.records, key)
        .unwrap_or_default()
        .iter()
        .filter_map(|(value, _)| decode(value))
        .max_by_key(rank)
}

/// The policy set for `ns` in the `settings` document, if any: the latest of its concurrent
/// values.
pub(crate) fn current(settings: &NamespaceDoc, ns: &str) -> Option<StampedPolicy> {
    latest(settings, ns, StampedPolicy::decode, StampedPolicy::rank)
}

/// Every namespace that has a policy set, with it.
pub(crate) fn all(settings: &NamespaceDoc) -> Vec<(Namespace, StampedPolicy)> {
    settings
        .doc
        .map_range(&settings.records, ..)
        .filter_map(|item| {
            let ns: Namespace = item.key.parse().ok()?;
            let policy = current(settings, ns.as_str())?;
            Some((ns, policy))
        })
        .collect()
}
