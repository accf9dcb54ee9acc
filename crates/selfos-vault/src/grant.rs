//! What an existing device hands a new one through a pairing: the vault secret, and the relay
//! the devices meet at. Sent only under the pairing's key, never stored.
//!
//! `SOGR` ‖ version u8 = 1 ‖ vault secret [32] ‖ relay length u16 (≤ 512) ‖ relay URL (UTF-8).

use zeroize::Zeroizing;

use crate::{recovery::VaultSecret, wire::Reader};

const MAGIC: &[u8; 4] = b"SOGR";
const VERSION: u8 = 1;
/// The longest relay address a grant carries.
const MAX_RELAY_LEN: usize = 512;

/// Why bytes from a pairing are not a grant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// Wrong magic bytes, or the lengths do not add up.
    #[error("the other device sent something that is not a vault grant")]
    Malformed,
    /// A version this build does not read.
    #[error("the other device sent a vault grant of version {0}: update this device first")]
    UnknownVersion(u8),
    /// The relay address is not UTF-8 or too long.
    #[error("the relay address in the vault grant is invalid")]
    Relay,
}

/// The vault secret and the relay address one device grants another. Never printed.
pub struct DeviceGrant {
    /// The vault secret.
    pub secret: VaultSecret,
    /// Where the granting device syncs, if it names one: shown to the user, never followed
    /// without them.
    pub relay: Option<String>,
}

impl std::fmt::Debug for DeviceGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceGrant")
            .field("relay", &self.relay)
            .finish_non_exhaustive()
    }
}

impl DeviceGrant {
    /// The bytes to send under the pairing key. Secret.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>, GrantError> {
        let relay = self.relay.as_deref().unwrap_or("").as_bytes();
        let len = u16::try_from(relay.len())
            .ok()
            .filter(|&n| usize::from(n) <= MAX_RELAY_LEN)
            .ok_or(GrantError::Relay)?;
        let mut out = Zeroizing::new(Vec::with_capacity(4 + 1 + 32 + 2 + relay.len()));
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&*self.secret.to_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(relay);
        Ok(out)
    }

    /// Reads what [`DeviceGrant::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GrantError> {
        let mut r = Reader::new(bytes);
        if r.take(MAGIC.len()).map_err(|_| GrantError::Malformed)? != MAGIC {
            return Err(GrantError::Malformed);
        }
        match r.u8().map_err(|_| GrantError::Malformed)? {
            VERSION => {}
            other => return Err(GrantError::UnknownVersion(other)),
        }
        let mut secret = Zeroizing::new(r.array::<32>().map_err(|_| GrantError::Malformed)?);
        let len = usize::from(r.u16().map_err(|_| GrantError::Malformed)?);
        if len > MAX_RELAY_LEN {
            return Err(GrantError::Relay);
        }
        let relay = r.take(len).map_err(|_| GrantError::Malformed)?;
        if !r.remaining().is_empty() {
            return Err(GrantError::Malformed);
        }
        let relay = std::str::from_utf8(relay).map_err(|_| GrantError::Relay)?;
        Ok(Self {
            secret: VaultSecret::from_bytes(&mut secret),
            relay: (!relay.is_empty()).then(|| relay.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(relay: Option<&str>) -> DeviceGrant {
        DeviceGrant {
            secret: VaultSecret::from_bytes(&mut [9; 32]),
            relay: relay.map(str::to_owned),
        }
    }

    #[test]
    fn round_trips_with_and_without_a_relay() {
        for relay in [None, Some("wss://relay.example:8443")] {
            let bytes = grant(relay).to_bytes().unwrap();
            let back = DeviceGrant::from_bytes(&bytes).unwrap();
            assert!(back.secret.0.same_as(&grant(None).secret.0));
            assert_eq!(back.relay.as_deref(), relay);
        }
    }

    #[test]
    fn damage_is_named_and_never_panics() {
        let good = grant(Some("wss://r.example")).to_bytes().unwrap();
        for cut in 0..good.len() {
            assert!(
                DeviceGrant::from_bytes(&good[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut longer = good.to_vec();
        longer.push(0);
        assert_eq!(
            DeviceGrant::from_bytes(&longer).unwrap_err(),
            GrantError::Malformed
        );
        let mut v2 = good.to_vec();
        v2[4] = 2;
        assert_eq!(
            DeviceGrant::from_bytes(&v2).unwrap_err(),
            GrantError::UnknownVersion(2)
        );
        let long = "x".repeat(MAX_RELAY_LEN + 1);
        assert_eq!(
            grant(Some(&long)).to_bytes().unwrap_err(),
            GrantError::Relay
        );
        let printed = format!("{:?}", grant(None));
        assert!(!printed.contains("9, 9"), "{printed}");
    }
}
