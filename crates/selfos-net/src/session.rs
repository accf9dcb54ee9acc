//! One connection to the relay, and the two ways of running them: until quiet, or until told
//! to stop.

use std::{
    collections::BTreeSet,
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use futures_util::{SinkExt, StreamExt};
use selfos_proto::{CloseCode, PeerId, StoreUsage};
use selfos_sync::{StoreStatus, SyncEngine, SyncError, SyncEvent};
use selfos_vault::{ChunkStore, Namespace, ReadError, Vault};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    Connector, MaybeTlsStream, WebSocketStream,
    tungstenite::{
        Message,
        protocol::{CloseFrame, frame::coding::CloseCode as WsCloseCode},
    },
};
use tokio_util::sync::CancellationToken;

use crate::{Backoff, RelayAddress};

/// How a sync runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncOptions {
    /// The relay.
    pub relay: RelayAddress,
    /// How long [`sync`] waits for another device to be in the room before it gives up.
    pub peer_wait: Duration,
    /// Once devices are in the room, how long nothing must move for [`sync`] to call it done.
    pub quiet: Duration,
    /// [`sync`] gives up after this long in all, reconnects included.
    pub timeout: Duration,
    /// First and longest wait between reconnect attempts.
    pub backoff: (Duration, Duration),
    /// How often [`watch`] looks for answers other processes wrote to the vault's store.
    pub refresh_every: Duration,
    /// Extra certificate authorities to trust for `wss://` (DER), for a relay with a private
    /// certificate.
    pub extra_roots: Vec<Vec<u8>>,
}

impl SyncOptions {
    /// Defaults: wait 10 s for a peer, done after 500 ms of quiet, give up after 60 s, back off
    /// from 250 ms to 30 s, look for local writes every second.
    pub fn new(relay: RelayAddress) -> Self {
        Self {
            relay,
            peer_wait: Duration::from_secs(10),
            quiet: Duration::from_millis(500),
            timeout: Duration::from_secs(60),
            backoff: (Duration::from_millis(250), Duration::from_secs(30)),
            refresh_every: Duration::from_secs(1),
            extra_roots: Vec::new(),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncSummary {
    /// Devices met in the room.
    pub peers: BTreeSet<PeerId>,
    /// Namespaces that changed here.
    pub changed: BTreeSet<Namespace>,
    /// Deletions that arrived.
    pub deletions: usize,
    /// Envelopes refused (forged, replayed, damaged), with the reason.
    pub rejected: Vec<String>,
    /// Things worth knowing that did not stop the run.
    pub warnings: Vec<String>,
    /// Connections made (more than one means the relay went away and came back).
    pub connections: u32,
    /// Where this device stood with the relay's store when the run ended (`None`: never asked).
    pub store: Option<StoreStatus>,
    /// What the relay's store held for the vault and may hold, as it last said.
    pub store_usage: Option<StoreUsage>,
}

/// What is happening, for a progress display.
#[derive(Debug)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// Connecting, attempt `n` (from 1).
    Connecting(u32),
    /// In the room.
    Joined,
    /// Something the engine reported.
    Event(&'a SyncEvent),
    /// The connection is gone; the next attempt is in `retry_in`.
    Disconnected {
        /// Why.
        reason: String,
        /// When the next attempt is.
        retry_in: Duration,
    },
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// Could not reach the relay, or the connection broke.
    #[error("relay connection: {0}")]
    Connection(String),
    /// The relay closed the connection.
    #[error("the relay closed the connection ({code}{}): {reason}", if *.reconnect { ", reconnect" } else { "" })]
    Closed {
        /// WebSocket close code.
        code: u16,
        /// Its reason text.
        reason: String,
        /// Whether the code says to come back later.
        reconnect: bool,
    },
    /// The relay refused to let this vault in (wrong relay address, or a clock far off).
    #[error("the relay refused the join: {0}")]
    Refused(String),
    /// No quiet moment before the timeout.
    #[error("gave up after {0:?}")]
    Timeout(Duration),
    /// The engine or the vault failed (storage full, ...).
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// Reading what other processes stored failed.
    #[error(transparent)]
    Read(#[from] ReadError),
}

impl NetError {
    /// Whether trying again later may work.
    fn is_transient(&self) -> bool {
        match self {
            Self::Connection(_) => true,
            Self::Closed { reconnect, .. } => *reconnect,
            _ => false,
        }
    }
}

/// How a session ended without error.
enum End {
    Quiet,
    NoPeers,
    Stopped,
}

enum Mode<'a> {
    UntilQuiet,
    Watch(&'a CancellationToken),
}

/// How often the engine checks for an exchange that a lost message stalled.
const TICK_EVERY: Duration = Duration::from_secs(1);
/// How many "unavailable" answers from the relay's store [`sync`] waits through before it stops
/// waiting for the store (the engine retries after 1 s, then 2 s, ...: about 3 s in all).
const STORE_ATTEMPTS: u32 = 3;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn connector(relay: &RelayAddress, extra_roots: &[Vec<u8>]) -> Result<Option<Connector>, NetError> {
    if !relay.is_tls() {
        return Ok(None);
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in extra_roots {
        roots
            .add(der.clone().into())
            .map_err(|e| NetError::Connection(format!("extra certificate authority: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| NetError::Connection(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Some(Connector::Rustls(Arc::new(config))))
}

/// A WebSocket to the relay.
pub(crate) type RelaySocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket to the relay (TLS 1.3 for `wss://`, trusting the web PKI and
/// `extra_roots`). The relay's challenge is the first thing to read from it.
pub(crate) async fn connect(
    relay: &RelayAddress,
    extra_roots: &[Vec<u8>],
) -> Result<RelaySocket, NetError> {
    let (ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        relay.endpoint(),
        None,
        true,
        connector(relay, extra_roots)?,
    )
    .await
    .map_err(|e| NetError::Connection(e.to_string()))?;
    Ok(ws)
}

/// The error for a close frame from the relay (or a connection that ended without one).
pub(crate) fn closed(frame: Option<CloseFrame>) -> NetError {
    let (code, reason) = frame
        .map(|f| (u16::from(f.code), f.reason.to_string()))
        .unwrap_or((u16::from(WsCloseCode::Abnormal), String::new()));
    let reconnect = CloseCode::from_u16(code).is_none_or(|c| c.should_reconnect());
    NetError::Closed {
        code,
        reason,
        reconnect,
    }
}

/// One connection, until it is quiet (or forever, for watch).
async fn session<S: ChunkStore>(
    vault: &mut Vault<S>,
    opts: &SyncOptions,
    mode: &Mode<'_>,
    deadline: Option<Instant>,
    summary: &mut SyncSummary,
    progress: &mut impl FnMut(Progress<'_>),
) -> Result<End, NetError> {
    let ws = connect(&opts.relay, &opts.extra_roots).await?;
    summary.connections += 1;
    let me = PeerId::from_bytes(*vault.replica().as_bytes());
    let mut engine = SyncEngine::new(
        &vault.sync_keys(),
        me,
        opts.relay.audience().clone(),
        now_ms(),
    )?;
    let (mut sink, mut stream) = ws.split();
    let mut last_activity = Instant::now();
    let mut joined_at: Option<Instant> = None;
    // Whether a peer was in the room during this connection: once the last one left, quiet
    // means done (waiting out `peer_wait` is for a device that has not shown up yet).
    let mut met_peer = false;
    let mut last_refresh = Instant::now();
    let mut last_tick = Instant::now();
    // Times the store answered "unavailable" since it last settled.
    let mut store_failures = 0;
    let result = loop {
        match flush(&mut engine, &mut sink).await {
            Ok(true) => last_activity = Instant::now(),
            Ok(false) => {}
            Err(e) => break Err(NetError::Connection(e.to_string())),
        }
        while let Some(event) = engine.poll_event() {
            note(summary, &event);
            match &event {
                SyncEvent::Store(StoreStatus::Unavailable) => store_failures += 1,
                SyncEvent::Store(StoreStatus::Settled | StoreStatus::Full) => store_failures = 0,
                _ => {}
            }
            if let SyncEvent::RelayError { code, message } = &event
                && *code == selfos_proto::ErrorCode::Unauthenticated
            {
                return Err(NetError::Refused(message.clone()));
            }
            progress(Progress::Event(&event));
        }
        if engine.is_joined() && joined_at.is_none() {
            joined_at = Some(Instant::now());
            progress(Progress::Joined);
        }
        match (mode, joined_at) {
            (Mode::UntilQuiet, Some(joined)) => {
                let peers = engine.peers().count();
                met_peer |= peers > 0;
                // With a store, the run is done once the vault and the store agree and the
                // devices online are quiet; no peer need come. Without one, it waits for a peer.
                let store = engine.store_status();
                let store_done = matches!(store, StoreStatus::Settled | StoreStatus::Full);
                // A store that stays unavailable is not waited for: the run ends as one
                // without a store would, and the summary says the store was unavailable.
                let store_down =
                    store == StoreStatus::Unavailable && store_failures >= STORE_ATTEMPTS;
                let store_busy = !store_done && store != StoreStatus::Disabled && !store_down;
                let quiet = last_activity.elapsed() >= opts.quiet;
                if !store_busy && met_peer && quiet {
                    break Ok(End::Quiet);
                }
                if store_done && peers == 0 {
                    break Ok(End::Quiet);
                }
                if !store_busy && peers == 0 && joined.elapsed() >= opts.peer_wait {
                    break Ok(End::NoPeers);
                }
            }
            (Mode::Watch(stop), _) => {
                if stop.is_cancelled() {
                    break Ok(End::Stopped);
                }
                if joined_at.is_some() && last_refresh.elapsed() >= opts.refresh_every {
                    last_refresh = Instant::now();
                    if !vault.refresh()?.is_empty() {
                        engine.local_change(vault)?;
                    }
                }
            }
            _ => {}
        }
        if last_tick.elapsed() >= TICK_EVERY {
            last_tick = Instant::now();
            engine.tick(vault, now_ms())?;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break Err(NetError::Timeout(opts.timeout));
        }
        let tick = tokio::time::sleep(Duration::from_millis(20));
        tokio::select! {
            message = stream.next() => match message {
                Some(Ok(Message::Binary(bytes))) => {
                    engine.handle_frame(vault, &bytes, now_ms())?;
                    last_activity = Instant::now();
                }
                Some(Ok(Message::Close(frame))) => break Err(closed(frame)),
                Some(Ok(_)) => {}
                Some(Err(e)) => break Err(NetError::Connection(e.to_string())),
                None => break Err(NetError::Connection("the relay went away".into())),
            },
            _ = tick => {}
        }
    };
    // Peers already in the room when we joined announce no PeerJoined.
    summary.peers.extend(engine.peers().copied());
    if engine.store_status() != StoreStatus::Unknown {
        summary.store = Some(engine.store_status());
    }
    summary.store_usage = engine.store_usage().or(summary.store_usage);
    engine.disconnected(vault);
    while let Some(event) = engine.poll_event() {
        note(summary, &event);
        progress(Progress::Event(&event));
    }
    if result.is_ok() {
        let _ = sink.send(Message::Close(None)).await;
    }
    result
}

/// Sends every frame the engine has ready; returns whether there was any.
async fn flush<W>(engine: &mut SyncEngine, sink: &mut W) -> Result<bool, W::Error>
where
    W: futures_util::Sink<Message> + Unpin,
{
    let mut sent = false;
    while let Some(frame) = engine.poll_transmit() {
        sink.send(Message::Binary(frame.into())).await?;
        sent = true;
    }
    Ok(sent)
}

fn note(summary: &mut SyncSummary, event: &SyncEvent) {
    match event {
        SyncEvent::PeerJoined(p) => {
            summary.peers.insert(*p);
        }
        SyncEvent::Changed {
            from,
            namespace,
            deletions,
        } => {
            summary.peers.insert(*from);
            summary.changed.insert(namespace.clone());
            summary.deletions += deletions;
        }
        SyncEvent::FromStore {
            namespace,
            deletions,
        } => {
            summary.changed.insert(namespace.clone());
            summary.deletions += deletions;
        }
        SyncEvent::Rejected { from, reason } => {
            summary.rejected.push(format!("from {from}: {reason}"));
        }
        SyncEvent::Warning(w) => summary.warnings.push(w.clone()),
        _ => {}
    }
}

/// Connects and syncs until the vault and the relay's store agree and the devices online are
/// quiet for [`SyncOptions::quiet`], reconnecting with backoff if the relay goes away. With a
/// store no other device need be online. A relay without one (`--store none`) only forwards:
/// the run then returns with empty `peers` if no other device showed up within
/// [`SyncOptions::peer_wait`]. So does a run whose store stays unavailable (its database down)
/// through a few retries, with `store` in the summary saying so.
pub async fn sync<S: ChunkStore>(
    vault: &mut Vault<S>,
    opts: &SyncOptions,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<SyncSummary, NetError> {
    let deadline = Instant::now() + opts.timeout;
    let mut backoff = Backoff::new(opts.backoff.0, opts.backoff.1);
    let mut summary = SyncSummary::default();
    for attempt in 1.. {
        progress(Progress::Connecting(attempt));
        match session(
            vault,
            opts,
            &Mode::UntilQuiet,
            Some(deadline),
            &mut summary,
            &mut progress,
        )
        .await
        {
            Ok(_) => return Ok(summary),
            Err(e) if e.is_transient() => {
                let delay = backoff.next_delay();
                if Instant::now() + delay >= deadline {
                    return Err(e);
                }
                progress(Progress::Disconnected {
                    reason: e.to_string(),
                    retry_in: delay,
                });
                tokio::time::sleep(delay).await;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(summary)
}

/// Stays in the room until `stop` is cancelled: syncs whatever arrives, sends what other
/// processes write to the vault's store, and reconnects with backoff whenever the relay goes
/// away.
pub async fn watch<S: ChunkStore>(
    vault: &mut Vault<S>,
    opts: &SyncOptions,
    stop: &CancellationToken,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<SyncSummary, NetError> {
    let mut backoff = Backoff::new(opts.backoff.0, opts.backoff.1);
    let mut summary = SyncSummary::default();
    let mut attempt = 0;
    while !stop.is_cancelled() {
        attempt += 1;
        progress(Progress::Connecting(attempt));
        let connected_before = summary.connections;
        let outcome = session(
            vault,
            opts,
            &Mode::Watch(stop),
            None,
            &mut summary,
            &mut progress,
        )
        .await;
        match outcome {
            Ok(_) => break,
            Err(e) if e.is_transient() => {
                // A connection that worked for a while starts the backoff over.
                if summary.connections > connected_before {
                    backoff.reset();
                }
                let delay = backoff.next_delay();
                progress(Progress::Disconnected {
                    reason: e.to_string(),
                    retry_in: delay,
                });
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.cancelled() => break,
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(summary)
}
