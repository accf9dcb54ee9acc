//! Device names: what each replica is called ("Chrome on Linux", a laptop's hostname), so that
//! lists of devices and their warnings name something a person recognises. They live in the
//! `settings` document beside the conflict policies, one last-write-wins field per replica under
//! the key `device:HEX`, stamped like a policy (FORMAT.md, "Device names").

use automerge::{ReadDoc, ScalarValue, Value, transaction::Transactable};

use crate::{
    ChunkStore,
    error::WriteError,
    hlc::Hlc,
    ids::{Namespace, ReplicaId},
    namespace::NamespaceDoc,
    settings,
    vault::Vault,
};

const MAGIC: &[u8; 4] = b"SFDN";
const VERSION: u8 = 1;
const HEADER_LEN: usize = MAGIC.len() + 1 + Hlc::LEN;
/// The key prefix of device names in the `settings` document. No namespace name holds a ':', so
/// policies and names never share a key.
const PREFIX: &str = "device:";
/// The first key past every `device:` key (';' follows ':').
const PAST_PREFIX: &str = "device;";

/// The longest device name, in bytes of UTF-8.
pub const MAX_DEVICE_NAME_LEN: usize = 64;
/// The most device names read: more than any person's devices, and a bound on what a peer that
/// writes names can make every replica read.
pub const MAX_DEVICE_NAMES: usize = 256;

/// Why a device name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceNameError {
    /// Nothing but spaces.
    #[error("a device name cannot be empty")]
    Empty,
    /// Over [`MAX_DEVICE_NAME_LEN`] bytes.
    #[error("a device name is at most {MAX_DEVICE_NAME_LEN} bytes")]
    TooLong,
    /// A control character (a line break, a tab, ...).
    #[error("a device name cannot hold control characters")]
    Control,
}

/// `name` trimmed, if it is a valid device name.
fn checked(name: &str) -> Result<&str, DeviceNameError> {
    let name = name.trim();
    if name.is_empty() {
        Err(DeviceNameError::Empty)
    } else if name.len() > MAX_DEVICE_NAME_LEN {
        Err(DeviceNameError::TooLong)
    } else if name.chars().any(char::is_control) {
        Err(DeviceNameError::Control)
    } else {
        Ok(name)
    }
}

/// A device's name and the stamp of the write that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StampedName {
    updated: Hlc,
    name: String,
}

impl StampedName {
    /// `"SFDN" ‖ version ‖ stamp ‖ name (UTF-8)`, the bytes value `settings` holds.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.name.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.updated.to_bytes());
        out.extend_from_slice(self.name.as_bytes());
        out
    }

    /// A stored value, if it is one this build reads and its name is valid: a peer's value
    /// that is not counts as no value.
    fn decode(value: &Value<'_>) -> Option<Self> {
        let Value::Scalar(scalar) = value else {
            return None;
        };
        let ScalarValue::Bytes(b) = scalar.as_ref() else {
            return None;
        };
        if b.len() < HEADER_LEN || !b.starts_with(MAGIC) || b[MAGIC.len()] != VERSION {
            return None;
        }
        let stamp = <[u8; Hlc::LEN]>::try_from(&b[MAGIC.len() + 1..HEADER_LEN]).ok()?;
        let name = std::str::from_utf8(&b[HEADER_LEN..]).ok()?;
        Some(Self {
            updated: Hlc::from_bytes(&stamp),
            name: checked(name).ok()?.to_owned(),
        })
    }
}

fn key(replica: &ReplicaId) -> String {
    format!("{PREFIX}{replica}")
}

/// The name set for the device under `key`: the latest of its concurrent values.
fn current(settings: &NamespaceDoc, key: &str) -> Option<StampedName> {
    settings::latest(settings, key, StampedName::decode, |n| {
        (n.updated, n.name.clone())
    })
}

impl<S: ChunkStore> Vault<S> {
    /// Names the device of replica `replica` (this one or another of the vault). Syncs like
    /// any change; when two devices rename one concurrently, the later by hybrid logical clock
    /// wins everywhere. The name is trimmed; it must be 1 to [`MAX_DEVICE_NAME_LEN`] bytes with
    /// no control characters.
    pub fn set_device_name(
        &mut self,
        replica: &ReplicaId,
        name: &str,
        now_ms: u64,
    ) -> Result<(), WriteError> {
        let name = checked(name)?.to_owned();
        let key = key(replica);
        self.write_namespace(&Namespace::settings(), now_ms, |doc, clock, _| {
            // Order after the name this replica sees, even if its wall clock is behind.
            if let Some(seen) = current(doc, &key) {
                clock.observe(seen.updated, now_ms);
            }
            let value = StampedName {
                updated: clock.tick(now_ms),
                name,
            };
            doc.doc.put(&doc.records, key.as_str(), value.encode())?;
            Ok(((), Vec::new()))
        })?;
        Ok(())
    }

    /// The name of the device of `replica`, if one was set.
    pub fn device_name(&self, replica: &ReplicaId) -> Option<String> {
        let settings = self.namespace(&Namespace::settings())?;
        current(settings, &key(replica)).map(|n| n.name)
    }

    /// Every named device, by replica id (at most [`MAX_DEVICE_NAMES`]).
    pub fn device_names(&self) -> Vec<(ReplicaId, String)> {
        let Some(settings) = self.namespace(&Namespace::settings()) else {
            return Vec::new();
        };
        settings
            .doc
            .map_range(&settings.records, PREFIX.to_owned()..PAST_PREFIX.to_owned())
            .filter_map(|item| {
                let replica = item.key.strip_prefix(PREFIX)?.parse().ok()?;
                Some((replica, current(settings, &item.key)?.name))
            })
            .take(MAX_DEVICE_NAMES)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit_kit::{NOW, pair};

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(checked("  Chrome on Linux \n"), Ok("Chrome on Linux"));
        assert_eq!(checked(" \t "), Err(DeviceNameError::Empty));
        assert_eq!(checked(&"x".repeat(65)), Err(DeviceNameError::TooLong));
        assert_eq!(checked(&"é".repeat(32)).map(str::len), Ok(64));
        assert_eq!(checked("lap\ntop"), Err(DeviceNameError::Control));
    }

    #[test]
    fn a_name_syncs_and_the_later_of_two_concurrent_renames_wins_everywhere() {
        let (mut a, mut b) = pair();
        let laptop = a.replica();
        a.set_device_name(&laptop, "laptop", NOW).unwrap();
        b.merge_from(&mut a, NOW).unwrap();
        assert_eq!(b.device_name(&laptop).as_deref(), Some("laptop"));
        // Both rename it, b later by its clock: after merging both ways, b's name holds.
        a.set_device_name(&laptop, "work laptop", NOW + 1).unwrap();
        b.set_device_name(&laptop, "Ada's laptop", NOW + 2).unwrap();
        a.merge_from(&mut b, NOW).unwrap();
        b.merge_from(&mut a, NOW).unwrap();
        for v in [&a, &b] {
            assert_eq!(v.device_names(), vec![(laptop, "Ada's laptop".to_owned())]);
        }
        // Names are no policies, and policies no names.
        assert!(a.policies_set().is_empty());
    }

    #[test]
    fn a_refused_name_writes_nothing() {
        let (mut v, _) = pair();
        let me = v.replica();
        let before = v.heads(&Namespace::settings());
        let err = v.set_device_name(&me, "", NOW).unwrap_err();
        assert!(
            matches!(err, WriteError::DeviceName(DeviceNameError::Empty)),
            "{err}"
        );
        assert_eq!(v.heads(&Namespace::settings()), before);
        assert_eq!(v.device_name(&me), None);
    }

    #[test]
    fn a_value_this_build_cannot_read_counts_as_no_name() {
        let (mut v, _) = pair();
        let me = v.replica();
        v.write_namespace(&Namespace::settings(), NOW, |doc, _, _| {
            let mut bad = StampedName {
                updated: Hlc::default(),
                name: "x".into(),
            }
            .encode();
            bad[MAGIC.len()] = 2;
            doc.doc.put(&doc.records, key(&me).as_str(), bad)?;
            Ok(((), Vec::new()))
        })
        .unwrap();
        assert_eq!(v.device_name(&me), None);
        assert!(v.device_names().is_empty());
    }
}
