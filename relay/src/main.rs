//! `selfos-relay`: parses flags, loads the config, runs the relay until SIGTERM or SIGINT.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context as _;
use clap::Parser;
use selfos_proto::handshake::Audience;
use selfos_relay::{RelayConfig, Server, StoreConfig};
use tracing_subscriber::EnvFilter;

/// WebSocket relay for SelfOS: forwards end-to-end-encrypted frames between the devices of one
/// vault as they arrive, and keeps per room the sealed blobs they upload, which it cannot read,
/// so a device that comes online alone still catches up. It sees only ciphertext and keeps no
/// registry of rooms or devices.
///
/// Every flag can also be set through the environment variable named in brackets. Durations take
/// a unit: `500ms`, `10s`, `2m` (a bare number is seconds). Logs go to stderr, filtered by
/// `RUST_LOG` (default `info`); stdout gets one line, `listening on ADDR`.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "SELFOS_RELAY_LISTEN", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// The relay's public origin as clients are configured with it, named in every challenge
    /// (e.g. `wss://relay.example.org`). [default: ws://LISTEN, or wss://LISTEN with TLS]
    #[arg(long, env = "SELFOS_RELAY_PUBLIC_URL")]
    public_url: Option<Audience>,
    /// PEM certificate chain; with --tls-key the relay serves wss:// with TLS 1.3 only.
    #[arg(long, env = "SELFOS_RELAY_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) for --tls-cert.
    #[arg(long, env = "SELFOS_RELAY_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Largest frame (WebSocket message) accepted, in bytes; larger ones get FrameTooLarge and
    /// close 4001. At most 262144.
    #[arg(long, env = "SELFOS_RELAY_MAX_FRAME_LEN", default_value_t = 262_144)]
    max_frame_len: usize,
    /// Frames that may wait for one connection; a reader whose queue is full is disconnected
    /// (SlowReader, close 4007).
    #[arg(long, env = "SELFOS_RELAY_QUEUE_LEN", default_value_t = 256)]
    queue_len: usize,
    /// Bytes that may wait for one connection; past it, as past --queue-len. At least
    /// --max-frame-len.
    #[arg(long, env = "SELFOS_RELAY_QUEUE_BYTES", default_value_t = 8 * 1024 * 1024)]
    queue_bytes: u64,
    /// Bytes that may wait for all connections together; a frame that would pass it disconnects
    /// its recipient as a slow reader. At least --queue-bytes.
    #[arg(long, env = "SELFOS_RELAY_QUEUE_BUDGET", default_value_t = 256 * 1024 * 1024)]
    queue_budget: u64,
    /// Peers per room (at most 256); one more gets RoomFull and close 4005.
    #[arg(long, env = "SELFOS_RELAY_MAX_ROOM_PEERS", default_value_t = 64)]
    max_room_peers: usize,
    /// TCP connections held at once (WebSocket and HTTP alike). Past it, a connection gets only
    /// /healthz (anything else: HTTP 503) on one of 64 extra short-lived slots, or is closed at
    /// once when those are taken too.
    #[arg(long, env = "SELFOS_RELAY_MAX_CONNECTIONS", default_value_t = 10_000)]
    max_connections: usize,
    /// Connections one address holds at once (an IPv4 address; for IPv6 its /64); past it, as
    /// past --max-connections but with HTTP 429.
    #[arg(
        long,
        env = "SELFOS_RELAY_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 32
    )]
    max_connections_per_address: usize,
    /// Connections of one address (as above) between the TCP accept and a valid Join (plain
    /// HTTP connections: until they close); past it: HTTP 429.
    #[arg(
        long,
        env = "SELFOS_RELAY_MAX_HANDSHAKES_PER_ADDRESS",
        default_value_t = 16
    )]
    max_handshakes_per_address: usize,
    /// Messages (binary, text, ping or pong) one connection may send a second on average; past
    /// it and its burst: RateLimited and close 4009.
    #[arg(long, env = "SELFOS_RELAY_RATE_MESSAGES", default_value_t = 200)]
    rate_messages: u64,
    /// Messages one connection may send at once before --rate-messages applies.
    #[arg(
        long,
        env = "SELFOS_RELAY_RATE_MESSAGES_BURST",
        default_value_t = 5_000
    )]
    rate_messages_burst: u64,
    /// Bytes one connection may send a second on average; past it and its burst: RateLimited
    /// and close 4009.
    #[arg(long, env = "SELFOS_RELAY_RATE_BYTES", default_value_t = 4 * 1024 * 1024)]
    rate_bytes: u64,
    /// Bytes one connection may send at once before --rate-bytes applies; at least
    /// --max-frame-len.
    #[arg(long, env = "SELFOS_RELAY_RATE_BYTES_BURST", default_value_t = 64 * 1024 * 1024)]
    rate_bytes_burst: u64,
    /// Serve /metrics (and /healthz) on this address instead of the public listener, e.g.
    /// 127.0.0.1:9100. [default: /metrics on --listen]
    #[arg(long, env = "SELFOS_RELAY_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Time for the TLS handshake and the HTTP upgrade, and again from the challenge to a valid
    /// Join (close 4004 after it).
    #[arg(long, env = "SELFOS_RELAY_HANDSHAKE_TIMEOUT", default_value = "10s", value_parser = duration)]
    handshake_timeout: Duration,
    /// A connection from which nothing (not even a pong) arrived for this long is closed with 4008;
    /// checked at each ping. A write to a connection that makes no progress for this long (the
    /// peer does not read) closes it as a slow reader (4007), whatever the peer sends.
    #[arg(long, env = "SELFOS_RELAY_IDLE_TIMEOUT", default_value = "90s", value_parser = duration)]
    idle_timeout: Duration,
    /// Interval of the relay's WebSocket pings.
    #[arg(long, env = "SELFOS_RELAY_PING_INTERVAL", default_value = "30s", value_parser = duration)]
    ping_interval: Duration,
    /// Largest difference between a challenge's timestamp and the verification of its Join.
    #[arg(long, env = "SELFOS_RELAY_MAX_CLOCK_SKEW", default_value = "30s", value_parser = duration)]
    max_clock_skew: Duration,
    /// On SIGTERM/SIGINT, how long to wait for connections to close after the going-away close
    /// (4000) before exiting anyway.
    #[arg(long, env = "SELFOS_RELAY_DRAIN_TIMEOUT", default_value = "10s", value_parser = duration)]
    drain_timeout: Duration,
    /// Read buffer of each WebSocket, in bytes (larger is faster for big frames, smaller holds
    /// more connections in less memory).
    #[arg(long, env = "SELFOS_RELAY_READ_BUFFER_LEN", default_value_t = 16 * 1024)]
    read_buffer_len: usize,
    /// Serve this folder's files at `/` (it must hold index.html): the built dashboard
    /// (clients/webapp/dist). Off unless given: whoever runs the relay serves the code that
    /// receives its users' passphrases, so a relay hosts the dashboard only when asked.
    #[arg(long, env = "SELFOS_RELAY_WEB_ROOT")]
    web_root: Option<PathBuf>,
    /// Where rooms' sealed blobs are kept: `none` (store requests get StoreDisabled), a SQLite
    /// file (`PATH` or `sqlite:PATH`; created with its folder, mode 0700), or a PostgreSQL URL
    /// (`postgres://...`).
    #[arg(long, env = "SELFOS_RELAY_STORE", default_value = DEFAULT_STORE)]
    store: StoreConfig,
    /// Bytes of blobs one room may keep; an upload past it gets QuotaExceeded.
    #[arg(long, env = "SELFOS_RELAY_STORE_MAX_BYTES", default_value_t = 64 * 1024 * 1024)]
    store_max_bytes: u64,
    /// Blobs one room may keep; an upload past it gets QuotaExceeded.
    #[arg(long, env = "SELFOS_RELAY_STORE_MAX_BLOBS", default_value_t = 10_000)]
    store_max_blobs: u32,
    /// Largest blob accepted, in bytes; a larger upload gets BlobTooLarge at its first part. At
    /// most --store-max-bytes and --store-upload-buffer.
    #[arg(long, env = "SELFOS_RELAY_STORE_MAX_BLOB_LEN", default_value_t = 16 * 1024 * 1024)]
    store_max_blob_len: u32,
    /// A room's store that no connection listed, fetched or wrote for this long is deleted
    /// (swept every tenth of it, at most hourly). Takes `d` for days too.
    #[arg(long, env = "SELFOS_RELAY_STORE_EXPIRY", default_value = "180d", value_parser = duration)]
    store_expiry: Duration,
    /// Bytes of unfinished uploads held in memory across all connections; an upload that would
    /// pass it gets StoreUnavailable (the client tries again later).
    #[arg(long, env = "SELFOS_RELAY_STORE_UPLOAD_BUFFER", default_value_t = 256 * 1024 * 1024)]
    store_upload_buffer: u64,
}

/// The store of a relay started without `--store`: a SQLite file under the working folder.
const DEFAULT_STORE: &str = "selfos-relay-data/store.db";

impl Args {
    fn into_config(self) -> RelayConfig {
        let mut cfg = RelayConfig::new(self.listen);
        cfg.public_url = self.public_url;
        cfg.tls_cert = self.tls_cert;
        cfg.tls_key = self.tls_key;
        cfg.max_frame_len = self.max_frame_len;
        cfg.queue_len = self.queue_len;
        cfg.queue_bytes = self.queue_bytes;
        cfg.queue_budget = self.queue_budget;
        cfg.max_room_peers = self.max_room_peers;
        cfg.max_connections = self.max_connections;
        cfg.max_connections_per_address = self.max_connections_per_address;
        cfg.max_handshakes_per_address = self.max_handshakes_per_address;
        cfg.metrics_listen = self.metrics_listen;
        cfg.rate_messages = self.rate_messages;
        cfg.rate_messages_burst = self.rate_messages_burst;
        cfg.rate_bytes = self.rate_bytes;
        cfg.rate_bytes_burst = self.rate_bytes_burst;
        cfg.handshake_timeout = self.handshake_timeout;
        cfg.idle_timeout = self.idle_timeout;
        cfg.ping_interval = self.ping_interval;
        cfg.max_clock_skew = self.max_clock_skew;
        cfg.drain_timeout = self.drain_timeout;
        cfg.read_buffer_len = self.read_buffer_len;
        cfg.store = self.store;
        cfg.store_max_bytes = self.store_max_bytes;
        cfg.store_max_blobs = self.store_max_blobs;
        cfg.store_max_blob_len = self.store_max_blob_len;
        cfg.store_expiry = self.store_expiry;
        cfg.store_upload_buffer = self.store_upload_buffer;
        cfg.web_root = self.web_root;
        cfg
    }
}

/// Parses `500ms`, `10s`, `2m`, `1h`, `180d` or a bare number of seconds.
fn duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 500ms, 10s or 2m"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        "h" => Ok(Duration::from_secs(n.saturating_mul(3600))),
        "d" => Ok(Duration::from_secs(n.saturating_mul(86_400))),
        _ => Err(format!("unknown unit in `{text}`: use ms, s, m, h or d")),
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the Tokio runtime")?
        .block_on(run(args.into_config()))
}

async fn run(cfg: RelayConfig) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};

    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    let web_root = cfg.web_root.clone();
    let server = Server::spawn(cfg).await.context("cannot start the relay")?;
    println!("listening on {}", server.local_addr());
    if let Some(root) = &web_root {
        tracing::info!(folder = %root.display(), "serving the dashboard at /");
    }
    let signal = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(signal, "shutting down");
    let drained = server.shutdown().await;
    tracing::info!(remaining = drained.remaining, "bye");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(duration("7"), Ok(Duration::from_secs(7)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert!(duration("ten").is_err());
        assert_eq!(duration("2d"), Ok(Duration::from_secs(172_800)));
        assert!(duration("5w").is_err());
    }

    #[test]
    fn store_flag_parses() {
        let parse = |text: &str| text.parse::<StoreConfig>();
        assert_eq!(parse("none"), Ok(StoreConfig::None));
        assert_eq!(parse("a/b.db"), Ok(StoreConfig::Sqlite("a/b.db".into())));
        assert_eq!(
            parse("sqlite:/x.db"),
            Ok(StoreConfig::Sqlite("/x.db".into()))
        );
        for url in ["postgres://u@h/db", "postgresql://h/db"] {
            assert_eq!(parse(url), Ok(StoreConfig::Postgres(url.into())));
        }
        for bad in ["", "sqlite:", "mysql://h/db"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let args = Args::try_parse_from(["selfos-relay"]).unwrap();
        assert_eq!(args.store, StoreConfig::Sqlite(DEFAULT_STORE.into()));
        // The flags' defaults are the library's.
        let cfg = Args::try_parse_from(["selfos-relay"])
            .unwrap()
            .into_config();
        let lib = RelayConfig::new(cfg.listen);
        let limits = |c: &RelayConfig| {
            [
                c.rate_messages,
                c.rate_messages_burst,
                c.rate_bytes,
                c.rate_bytes_burst,
                c.max_connections_per_address as u64,
                c.max_handshakes_per_address as u64,
                c.queue_bytes,
                c.queue_budget,
            ]
        };
        assert_eq!(limits(&cfg), limits(&lib));
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}
