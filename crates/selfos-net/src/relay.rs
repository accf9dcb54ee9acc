//! The address of a relay: the origin it names itself by in its challenges (its "audience"),
//! and the WebSocket endpoint under it.

use std::{fmt, str::FromStr};

use selfos_proto::handshake::Audience;

/// The WebSocket path of protocol version 1.
const WS_PATH: &str = "/v1/ws";

/// A relay, as `ws://host:port` or `wss://host:port` (a trailing `/v1/ws` is accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayAddress {
    origin: String,
    audience: Audience,
}

/// Why a relay address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("relay address {0:?} is invalid: use ws://HOST:PORT or wss://HOST:PORT")]
pub struct RelayAddressError(String);

impl RelayAddress {
    /// The origin, e.g. `wss://relay.example:8787`: what the relay must name in its challenge.
    pub fn audience(&self) -> &Audience {
        &self.audience
    }

    /// The URL to open the WebSocket on.
    pub fn endpoint(&self) -> String {
        format!("{}{WS_PATH}", self.origin)
    }

    /// Whether the connection uses TLS.
    pub fn is_tls(&self) -> bool {
        self.origin.starts_with("wss://")
    }
}

impl FromStr for RelayAddress {
    type Err = RelayAddressError;
    fn from_str(s: &str) -> Result<Self, RelayAddressError> {
        let bad = || RelayAddressError(s.to_owned());
        let origin = s.trim().trim_end_matches('/');
        let origin = origin.strip_suffix(WS_PATH).unwrap_or(origin);
        let rest = origin
            .strip_prefix("ws://")
            .or_else(|| origin.strip_prefix("wss://"))
            .ok_or_else(bad)?;
        if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
            return Err(bad());
        }
        let audience = origin.parse().map_err(|_| bad())?;
        Ok(Self {
            origin: origin.to_owned(),
            audience,
        })
    }
}

impl fmt::Display for RelayAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_origins_and_endpoints() {
        let a: RelayAddress = "ws://127.0.0.1:8787".parse().unwrap();
        assert_eq!(a.endpoint(), "ws://127.0.0.1:8787/v1/ws");
        assert_eq!(a.audience().as_str(), "ws://127.0.0.1:8787");
        assert!(!a.is_tls());
        let b: RelayAddress = "wss://relay.example/v1/ws".parse().unwrap();
        assert_eq!(b.to_string(), "wss://relay.example");
        assert!(b.is_tls());
        for bad in ["http://x", "ws://", "relay.example", "ws://a/b", "ws://a b"] {
            assert!(bad.parse::<RelayAddress>().is_err(), "{bad}");
        }
    }
}
