//! [`RelayConfig`]: every setting of the relay, with its default.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use selfos_proto::{MAX_FRAME_LEN, MAX_ROOM_PEERS, handshake::Audience};

use crate::{rate::Rates, store::StoreConfig};

const MIB: u32 = 1024 * 1024;

/// How the relay listens and what it bounds. Build it with [`RelayConfig::new`] and change the
/// public fields; [`Server::spawn`](crate::Server::spawn) checks them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RelayConfig {
    /// Address to listen on (port 0 picks a free port; see
    /// [`Server::local_addr`](crate::Server::local_addr)).
    pub listen: SocketAddr,
    /// The audience put in every challenge: the relay's public origin exactly as clients are
    /// configured with it, e.g. `wss://relay.example.org`. Default: `ws://ADDR` (or `wss://ADDR`
    /// with TLS) where ADDR is the bound listen address.
    pub public_url: Option<Audience>,
    /// PEM certificate chain; with [`tls_key`](Self::tls_key) the relay terminates TLS 1.3.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) for [`tls_cert`](Self::tls_cert).
    pub tls_key: Option<PathBuf>,
    /// Largest WebSocket message (one frame) accepted, in bytes. Default and maximum:
    /// [`MAX_FRAME_LEN`] (256 KiB).
    pub max_frame_len: usize,
    /// Frames that may wait for one connection. When a reader is so slow that its queue is full,
    /// it is disconnected (`SlowReader`, close 4007). Default 256.
    pub queue_len: usize,
    /// Bytes that may wait for one connection (as above, `SlowReader` past it). Default 8 MiB;
    /// at least [`max_frame_len`](Self::max_frame_len).
    pub queue_bytes: u64,
    /// Bytes that may wait for all connections together; a frame that would pass it is not
    /// queued and its recipient is disconnected as a slow reader. Default 256 MiB; at least
    /// [`queue_bytes`](Self::queue_bytes).
    pub queue_budget: u64,
    /// Peers per room; one more gets `RoomFull` (close 4005). Default 64, at most
    /// [`MAX_ROOM_PEERS`].
    pub max_room_peers: usize,
    /// TCP connections held at once (WebSocket and HTTP alike). Past it a connection is served
    /// only `/healthz` (every other path gets HTTP 503), on one of a few extra slots, and closed
    /// after one request; when those are taken too, it is closed at once. Default 10 000.
    pub max_connections: usize,
    /// Connections one address holds at once (an IPv4 address; for IPv6 its /64). Past it, as
    /// past [`max_connections`](Self::max_connections), but with HTTP 429. Default 32: a home
    /// behind one address with a few devices and browser tabs stays well below it.
    pub max_connections_per_address: usize,
    /// Connections of one address (as above) between the TCP accept and a valid `Join` (or, for
    /// plain HTTP, until the connection ends). Past it: HTTP 429. Default 16.
    pub max_handshakes_per_address: usize,
    /// Messages (binary, text, ping or pong) one connection may send a second, on average; past
    /// it and its burst, the connection gets `RateLimited` and close 4009. Default 200.
    pub rate_messages: u64,
    /// Messages one connection may send at once before [`rate_messages`](Self::rate_messages)
    /// applies. Default 5 000, well above the burst of an honest sync.
    pub rate_messages_burst: u64,
    /// Bytes one connection may send a second, on average (as above). Default 4 MiB.
    pub rate_bytes: u64,
    /// Bytes one connection may send at once before [`rate_bytes`](Self::rate_bytes) applies.
    /// Default 64 MiB: two blobs of the largest default size uploaded back to back. At least
    /// [`max_frame_len`](Self::max_frame_len).
    pub rate_bytes_burst: u64,
    /// A separate address for `/metrics`; when set, the public listener no longer serves it (so
    /// it can stay on loopback or a private network). Default `None`: served on
    /// [`listen`](Self::listen).
    pub metrics_listen: Option<SocketAddr>,
    /// Time from the TCP accept to a valid `Join` (TLS, HTTP upgrade, handshake); close 4004
    /// after it. Default 10 s.
    pub handshake_timeout: Duration,
    /// A connection from which nothing (not even a pong) arrived for this long is closed with
    /// 4008. A write to a connection that does not complete within it (the peer does not read)
    /// closes the connection as a slow reader (4007), whatever the peer sends. Default 90 s.
    pub idle_timeout: Duration,
    /// Interval of the relay's WebSocket pings. Default 30 s.
    pub ping_interval: Duration,
    /// Largest difference between the challenge's timestamp and the time the `Join` is verified.
    /// Default 30 s.
    pub max_clock_skew: Duration,
    /// On shutdown, how long to wait for connections to close after they were sent the
    /// going-away close (4000). Default 10 s.
    pub drain_timeout: Duration,
    /// Read buffer of each WebSocket, in bytes: larger is faster for big frames, smaller holds
    /// more connections in less memory. Default 16 KiB.
    pub read_buffer_len: usize,
    /// A folder of static files (the built dashboard) served at `/`; `None` serves none.
    pub web_root: Option<PathBuf>,
    /// Where the rooms' sealed blobs are kept (PROTOCOL.md section 11). Default here:
    /// [`StoreConfig::None`], so a relay embedded in a program writes no file unless told to;
    /// the `selfos-relay` binary defaults to `selfos-relay-data/store.db` under its working
    /// folder.
    pub store: StoreConfig,
    /// Bytes of blobs one room may keep; a put past it gets `QuotaExceeded`. Default 64 MiB.
    pub store_max_bytes: u64,
    /// Blobs one room may keep; a put past it gets `QuotaExceeded`. Default 10 000.
    pub store_max_blobs: u32,
    /// Largest blob accepted, in bytes; a larger upload gets `BlobTooLarge` at its first part.
    /// Default 16 MiB; at most [`store_max_bytes`](Self::store_max_bytes) and
    /// [`store_upload_buffer`](Self::store_upload_buffer).
    pub store_max_blob_len: u32,
    /// A room's store that no connection listed, fetched or wrote for this long is deleted whole
    /// (swept every tenth of it, at most every hour). Default 180 days.
    pub store_expiry: Duration,
    /// Bytes of unfinished uploads held in memory across all connections; an upload that would
    /// pass it gets `StoreUnavailable` at its first part (the client tries again later).
    /// Default 256 MiB.
    pub store_upload_buffer: u64,
}

impl RelayConfig {
    /// The default settings, listening on `listen`.
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            public_url: None,
            tls_cert: None,
            tls_key: None,
            max_frame_len: MAX_FRAME_LEN,
            queue_len: 256,
            queue_bytes: u64::from(8 * MIB),
            queue_budget: u64::from(256 * MIB),
            max_room_peers: 64,
            max_connections: 10_000,
            max_connections_per_address: 32,
            max_handshakes_per_address: 16,
            metrics_listen: None,
            rate_messages: 200,
            rate_messages_burst: 5_000,
            rate_bytes: u64::from(4 * MIB),
            rate_bytes_burst: u64::from(64 * MIB),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(90),
            ping_interval: Duration::from_secs(30),
            max_clock_skew: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(10),
            read_buffer_len: 16 * 1024,
            web_root: None,
            store: StoreConfig::None,
            store_max_bytes: u64::from(64 * MIB),
            store_max_blobs: 10_000,
            store_max_blob_len: 16 * MIB,
            store_expiry: Duration::from_secs(180 * 24 * 3600),
            store_upload_buffer: u64::from(256 * MIB),
        }
    }

    /// Checks every bound, naming the first setting that is out of range.
    pub(crate) fn check(&self) -> Result<(), InvalidConfig> {
        let fail = |setting, reason| Err(InvalidConfig { setting, reason });
        // The smallest frame a client must be able to send is a `Join` (118 bytes).
        if !(118..=MAX_FRAME_LEN).contains(&self.max_frame_len) {
            return fail("max_frame_len", "must be between 118 and 262144 bytes");
        }
        if self.queue_len == 0 {
            return fail("queue_len", "must be at least 1");
        }
        if !(1..=MAX_ROOM_PEERS).contains(&self.max_room_peers) {
            return fail("max_room_peers", "must be between 1 and 256");
        }
        for (setting, value) in [
            ("max_connections", self.max_connections),
            (
                "max_connections_per_address",
                self.max_connections_per_address,
            ),
            (
                "max_handshakes_per_address",
                self.max_handshakes_per_address,
            ),
        ] {
            if value == 0 {
                return fail(setting, "must be at least 1");
            }
        }
        for (setting, value) in [
            ("rate_messages", self.rate_messages),
            ("rate_messages_burst", self.rate_messages_burst),
            ("rate_bytes", self.rate_bytes),
        ] {
            if value == 0 {
                return fail(setting, "must be at least 1");
            }
        }
        if self.queue_bytes < self.max_frame_len as u64 {
            return fail("queue_bytes", "must be at least max_frame_len");
        }
        if self.queue_budget < self.queue_bytes {
            return fail("queue_budget", "must be at least queue_bytes");
        }
        if self.rate_bytes_burst < self.max_frame_len as u64 {
            return fail(
                "rate_bytes_burst",
                "must be at least max_frame_len (else the largest frame never passes)",
            );
        }
        for (setting, value) in [
            ("handshake_timeout", self.handshake_timeout),
            ("idle_timeout", self.idle_timeout),
            ("ping_interval", self.ping_interval),
        ] {
            if value.is_zero() {
                return fail(setting, "must be more than zero");
            }
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return fail("tls_cert", "tls_cert and tls_key go together");
        }
        if self.read_buffer_len < 1024 {
            return fail("read_buffer_len", "must be at least 1024 bytes");
        }
        if self
            .web_root
            .as_ref()
            .is_some_and(|root| !root.join("index.html").is_file())
        {
            return fail(
                "web_root",
                "must be a folder holding index.html (a built dashboard)",
            );
        }
        self.check_store()
    }

    fn check_store(&self) -> Result<(), InvalidConfig> {
        let fail = |setting, reason| Err(InvalidConfig { setting, reason });
        if self.store_max_bytes == 0 {
            return fail("store_max_bytes", "must be at least 1 byte");
        }
        if self.store_max_blobs == 0 {
            return fail("store_max_blobs", "must be at least 1");
        }
        if self.store_max_blob_len == 0 || u64::from(self.store_max_blob_len) > self.store_max_bytes
        {
            return fail(
                "store_max_blob_len",
                "must be at least 1 byte and at most store_max_bytes",
            );
        }
        if self.store_expiry < Duration::from_secs(1) {
            return fail("store_expiry", "must be at least 1 s");
        }
        // The buffer is a semaphore of bytes, whose bound is usize::MAX >> 3.
        if self.store_upload_buffer < u64::from(self.store_max_blob_len)
            || self.store_upload_buffer > (usize::MAX >> 3) as u64
        {
            return fail(
                "store_upload_buffer",
                "must be at least store_max_blob_len (and below 2^61 bytes)",
            );
        }
        Ok(())
    }

    /// The rate limits of one connection.
    pub(crate) fn rates(&self) -> Rates {
        Rates {
            messages_per_sec: self.rate_messages,
            messages_burst: self.rate_messages_burst,
            bytes_per_sec: self.rate_bytes,
            bytes_burst: self.rate_bytes_burst,
        }
    }

    /// Whether the relay terminates TLS.
    pub(crate) fn tls(&self) -> bool {
        self.tls_cert.is_some()
    }
}

/// A setting of [`RelayConfig`] that is out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting {setting}: {reason}")]
pub struct InvalidConfig {
    /// The field of [`RelayConfig`].
    pub setting: &'static str,
    /// What is wrong.
    pub reason: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bounds_are_checked() {
        let mut cfg = RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        assert_eq!(cfg.check(), Ok(()));
        cfg.max_room_peers = MAX_ROOM_PEERS + 1;
        assert_eq!(cfg.check().unwrap_err().setting, "max_room_peers");
        cfg.max_room_peers = 2;
        cfg.max_frame_len = MAX_FRAME_LEN + 1;
        assert_eq!(cfg.check().unwrap_err().setting, "max_frame_len");
        cfg.max_frame_len = 1024;
        cfg.tls_key = Some("key.pem".into());
        assert_eq!(cfg.check().unwrap_err().setting, "tls_cert");
        cfg.tls_key = None;
        cfg.rate_bytes_burst = 1023;
        assert_eq!(cfg.check().unwrap_err().setting, "rate_bytes_burst");
        cfg.rate_bytes_burst = 1024;
        cfg.max_connections_per_address = 0;
        assert_eq!(
            cfg.check().unwrap_err().setting,
            "max_connections_per_address"
        );
    }

    #[test]
    fn store_bounds_are_checked() {
        let ok = RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        type Change = fn(&mut RelayConfig);
        let cases: [(&str, Change); 6] = [
            ("store_max_bytes", |c| c.store_max_bytes = 0),
            ("store_max_blobs", |c| c.store_max_blobs = 0),
            ("store_max_blob_len", |c| c.store_max_blob_len = 0),
            ("store_max_blob_len", |c| {
                c.store_max_bytes = u64::from(c.store_max_blob_len) - 1;
            }),
            ("store_expiry", |c| c.store_expiry = Duration::ZERO),
            ("store_upload_buffer", |c| {
                c.store_upload_buffer = u64::from(c.store_max_blob_len) - 1;
            }),
        ];
        for (setting, change) in cases {
            let mut cfg = ok.clone();
            change(&mut cfg);
            assert_eq!(cfg.check().unwrap_err().setting, setting);
        }
    }
}
