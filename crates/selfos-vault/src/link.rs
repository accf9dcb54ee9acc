//! The vault link: what a second device needs, besides the passphrase, to join a vault.
//! It holds nothing secret: vault id, salt, KDF parameters and optionally a relay address.

use std::{fmt, str::FromStr};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::{
    header::{decode_kdf, encode_kdf},
    ids::VaultId,
    keys::KdfParams,
    wire::Reader,
};

const PREFIX: &str = "selfos-link:";
const MAGIC: &[u8; 4] = b"SOLK";
const VERSION: u8 = 1;
const MAX_RELAY_LEN: usize = 512;

/// Why a vault link could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Not a SelfOS vault link.
    #[error("not a vault link: it should start with {PREFIX}")]
    NotALink,
    /// The link is cut short or mistyped.
    #[error("the vault link is damaged or incomplete (copy it again)")]
    Damaged,
    /// Written by an unknown version.
    #[error("unknown vault link version {0}")]
    UnknownVersion(u8),
    /// The relay address is unusable.
    #[error("the relay address in the link is invalid")]
    Relay,
}

/// Everything a new replica needs to derive the vault's keys from the passphrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultLink {
    /// The vault.
    pub vault: VaultId,
    /// The Argon2id salt.
    pub salt: [u8; 16],
    /// The Argon2id parameters.
    pub kdf: KdfParams,
    /// Where the vault's devices meet, if a relay is configured.
    pub relay: Option<String>,
}

impl VaultLink {
    fn encode(&self) -> Vec<u8> {
        let relay = self.relay.as_deref().unwrap_or("");
        let mut out = Vec::with_capacity(64 + relay.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(self.vault.as_bytes());
        out.extend_from_slice(&self.salt);
        encode_kdf(&mut out, self.kdf);
        out.extend_from_slice(&(relay.len() as u16).to_be_bytes());
        out.extend_from_slice(relay.as_bytes());
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum[..4]);
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self, LinkError> {
        let (body, sum) = bytes
            .split_at_checked(bytes.len().saturating_sub(4))
            .ok_or(LinkError::Damaged)?;
        if body.len() < MAGIC.len() + 1 || &body[..MAGIC.len()] != MAGIC {
            return Err(LinkError::Damaged);
        }
        if Sha256::digest(body)[..4] != *sum {
            return Err(LinkError::Damaged);
        }
        let mut r = Reader::new(&body[MAGIC.len()..]);
        let version = r.u8().map_err(|_| LinkError::Damaged)?;
        if version != VERSION {
            return Err(LinkError::UnknownVersion(version));
        }
        let vault = VaultId::from(r.array().map_err(|_| LinkError::Damaged)?);
        let salt = r.array().map_err(|_| LinkError::Damaged)?;
        let kdf = decode_kdf(&mut r).map_err(|_| LinkError::Damaged)?;
        let len = usize::from(r.u16().map_err(|_| LinkError::Damaged)?);
        if len > MAX_RELAY_LEN {
            return Err(LinkError::Relay);
        }
        let relay = r.take(len).map_err(|_| LinkError::Damaged)?;
        if !r.remaining().is_empty() {
            return Err(LinkError::Damaged);
        }
        let relay = std::str::from_utf8(relay).map_err(|_| LinkError::Relay)?;
        Ok(Self {
            vault,
            salt,
            kdf,
            relay: (!relay.is_empty()).then(|| relay.to_owned()),
        })
    }

    /// Checks a relay address before it goes into a link.
    pub fn with_relay(mut self, relay: Option<String>) -> Result<Self, LinkError> {
        if let Some(r) = &relay {
            let scheme_ok = r.starts_with("ws://") || r.starts_with("wss://");
            if !scheme_ok || r.len() > MAX_RELAY_LEN || r.chars().any(char::is_whitespace) {
                return Err(LinkError::Relay);
            }
        }
        self.relay = relay;
        Ok(self)
    }
}

impl fmt::Display for VaultLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", URL_SAFE_NO_PAD.encode(self.encode()))
    }
}

impl FromStr for VaultLink {
    type Err = LinkError;
    fn from_str(s: &str) -> Result<Self, LinkError> {
        let body = s.trim().strip_prefix(PREFIX).ok_or(LinkError::NotALink)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| LinkError::Damaged)?;
        Self::decode(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(relay: Option<&str>) -> VaultLink {
        VaultLink {
            vault: VaultId::from([9; 16]),
            salt: [8; 16],
            kdf: KdfParams::DEFAULT,
            relay: None,
        }
        .with_relay(relay.map(str::to_owned))
        .unwrap()
    }

    #[test]
    fn round_trips_with_and_without_relay() {
        for l in [link(None), link(Some("wss://relay.example:8787"))] {
            assert_eq!(l.to_string().parse::<VaultLink>().unwrap(), l);
        }
    }

    #[test]
    fn typos_and_truncation_are_caught() {
        let text = link(Some("ws://127.0.0.1:8787")).to_string();
        assert_eq!(
            text[..text.len() - 3].parse::<VaultLink>(),
            Err(LinkError::Damaged)
        );
        let mut chars: Vec<char> = text.chars().collect();
        let i = PREFIX.len() + 10;
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        let typo: String = chars.into_iter().collect();
        assert_eq!(typo.parse::<VaultLink>(), Err(LinkError::Damaged));
        assert_eq!("hello".parse::<VaultLink>(), Err(LinkError::NotALink));
    }

    #[test]
    fn relay_must_be_a_websocket_url() {
        let base = link(None);
        assert!(base.clone().with_relay(Some("http://x".into())).is_err());
        assert!(base.with_relay(Some("ws://a b".into())).is_err());
    }
}
