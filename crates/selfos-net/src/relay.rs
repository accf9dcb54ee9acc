//! The address of a relay: the origin it names itself by in its challenges (its "audience"),
//! and the WebSocket endpoint under it.

use std::{fmt, str::FromStr};

use selfos_proto::handshake::Audience;

/// The WebSocket path of protocol version 1.
const WS_PATH: &str = "/v1/ws";

/// A relay, as `wss://host:port`, or `ws://host:port` for a relay on this machine (`localhost`,
/// `127.0.0.0/8`, `[::1]`): a plain connection across a network would show the relay's address
/// book and timing to anyone on the path and let them stand in for the relay. A trailing `/v1/ws`
/// is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayAddress {
    origin: String,
    audience: Audience,
}

/// Why a relay address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "relay address {0:?} is invalid: use wss://HOST:PORT (ws:// only to a relay on this machine: \
     localhost, 127.0.0.1 or [::1])"
)]
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
        let (rest, tls) = match (origin.strip_prefix("ws://"), origin.strip_prefix("wss://")) {
            (Some(rest), _) => (rest, false),
            (_, Some(rest)) => (rest, true),
            _ => return Err(bad()),
        };
        if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) || !(tls || is_loopback(rest)) {
            return Err(bad());
        }
        let audience = origin.parse().map_err(|_| bad())?;
        Ok(Self {
            origin: origin.to_owned(),
            audience,
        })
    }
}

/// Whether `authority` (`host` or `host:port`) names this machine.
fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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

    #[test]
    fn plain_websockets_reach_this_machine_only() {
        for ok in [
            "ws://localhost:8787",
            "ws://LOCALHOST",
            "ws://127.0.0.1:1",
            "ws://127.3.2.1",
            "ws://[::1]:8787",
            "wss://relay.example",
            "wss://10.0.0.2:8787",
        ] {
            assert!(ok.parse::<RelayAddress>().is_ok(), "{ok}");
        }
        for bad in [
            "ws://relay.example:8787",
            "ws://10.0.0.2:8787",
            "ws://localhost.example",
            "ws://127.0.0.1.example",
            "ws://[::2]:8787",
            "ws://0.0.0.0:8787",
        ] {
            let error = bad.parse::<RelayAddress>().unwrap_err().to_string();
            assert!(error.contains("wss://"), "{bad}: {error}");
        }
    }
}
