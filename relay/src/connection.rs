//! One WebSocket connection: challenge, join, then forwarding until it ends.
//!
//! [`run`] is generic over any `Stream + Sink` of WebSocket messages, so unit tests drive it with
//! in-memory channels; the server hands it axum's `WebSocket`. Everything this task writes goes
//! through one of two bounded queues: the connection's outbound queue (frames from other peers and
//! the relay's own replies, under the slow-reader rule) and the answers of its store worker
//! (`store_session`, which waits for room instead). Every write waits at the same time for the
//! connection's kick and the server's drain, and must make progress within the idle timeout, so
//! a client that stops reading cannot hold the task (nor its queue's memory) for longer. Every
//! message the client sends is charged to its rate limits (`rate`) before it is handled.

use std::{
    error::Error as _,
    net::SocketAddr,
    pin::Pin,
    sync::{Arc, atomic::AtomicBool},
    time::Duration,
};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use bytes::{Bytes, BytesMut};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use selfos_proto::{
    CloseCode, DecodeError, ErrorCode, ErrorMessage, Frame, Nonce, PeerId, RoomId,
    handshake::{Challenge, verify_join},
    send_to_deliver_in_place,
};
use tokio::{
    sync::{
        mpsc::{self, error::TrySendError},
        oneshot,
    },
    time::{Instant, MissedTickBehavior, timeout, timeout_at},
};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tracing::{Instrument, debug, debug_span, info, info_span, warn};

use crate::{
    admission::HandshakeTicket,
    hub::{Hub, ShortRoom, now_ms},
    metrics::Rejection,
    outbox::{self, Inbox, Outbox},
    rate::RateLimit,
    room::{Kick, Member, RoomFull, Routed},
    store_session::{ANSWER_QUEUE, REQUEST_QUEUE, Request, Uploads, Violation, Worker},
};

/// How long closing may take: sending the `Error` and close frames, then waiting for the client's
/// close reply (so that our frames are not lost to a TCP reset).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Most queued frames written before one flush.
const MAX_BATCH: usize = 64;

/// Why a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The client closed, the socket failed or the server stopped: nothing more to send.
    Gone,
    /// The relay refuses the connection or a frame.
    Reject(Rejection),
    /// The server is draining: `Error{ShuttingDown}` and close 4000.
    Drain,
}

/// Serves one upgraded WebSocket until it ends. `drain` asks the connection to close with
/// "going away".
pub(crate) async fn run<S>(
    ws: S,
    hub: Arc<Hub>,
    drain: CancellationToken,
    remote: SocketAddr,
    handshake: Option<HandshakeTicket>,
) where
    S: Stream<Item = Result<Message, axum::Error>> + Sink<Message, Error = axum::Error> + Unpin,
{
    let conn = hub.next_conn();
    let metrics = &hub.metrics;
    metrics
        .connections
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    metrics
        .connections_total
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Info-level logs name a connection only by its number, which means nothing outside this
    // process; its address and (once joined) its room and peer ids are logged at debug level.
    let span = info_span!("conn", id = conn);
    debug!(parent: &span, %remote, "connected");
    let mut session = Session {
        ws,
        hub: &hub,
        drain,
        conn,
        handshake,
        rate: RateLimit::new(hub.cfg.rates(), Instant::now()),
    };
    session.serve().instrument(span).await;
    metrics
        .connections
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
}

/// The connection's side of its store worker.
struct StoreLink {
    requests: mpsc::Sender<Request>,
    /// The worker's answers, written like the frames of the connection's own queue.
    answers: mpsc::Receiver<Bytes>,
    uploads: Uploads,
    /// A request the worker had no room for: nothing more is read until it takes it.
    pending: Option<Request>,
}

struct Session<'a, S> {
    ws: S,
    hub: &'a Hub,
    drain: CancellationToken,
    conn: u64,
    /// Counts against the address's handshakes in flight until the `Join` is verified.
    handshake: Option<HandshakeTicket>,
    /// What the client may send, from its first message on.
    rate: RateLimit,
}

impl<S> Session<'_, S>
where
    S: Stream<Item = Result<Message, axum::Error>> + Sink<Message, Error = axum::Error> + Unpin,
{
    async fn serve(&mut self) {
        let joined = self.handshake().await;
        self.handshake = None;
        let end = match joined {
            Ok((room, peer)) => {
                // Set apart so that its ids show at debug level only.
                let ids = debug_span!("peer", room = %ShortRoom(room), %peer);
                self.joined(room, peer).instrument(ids).await
            }
            Err(end) => end,
        };
        if let End::Reject(why) = end {
            self.hub.metrics.reject(why);
            info!(reason = why.label(), "connection refused");
        }
        self.close(end).await;
        debug!("disconnected");
    }

    /// Sends the challenge and waits for a valid `Join`.
    async fn handshake(&mut self) -> Result<(RoomId, PeerId), End> {
        let deadline = Instant::now() + self.hub.cfg.handshake_timeout;
        let nonce = fresh_nonce().map_err(|e| {
            warn!(error = %e, "no randomness for a challenge nonce");
            End::Gone
        })?;
        let challenge = Challenge::new(self.hub.audience.clone(), now_ms(), nonce);
        let hello = Message::Binary(Frame::Challenge(challenge.clone()).encode().into());
        match timeout_at(deadline, self.ws.send(hello)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(End::Gone),
            Err(_) => return Err(End::Reject(Rejection::HandshakeTimeout)),
        }
        loop {
            let next = tokio::select! {
                () = self.drain.cancelled() => return Err(End::Drain),
                next = timeout_at(deadline, self.ws.next()) => next,
            };
            let msg = match next {
                Err(_) => return Err(End::Reject(Rejection::HandshakeTimeout)),
                Ok(None) => return Err(End::Gone),
                Ok(Some(Err(e))) => return Err(read_error(&e)),
                Ok(Some(Ok(msg))) => msg,
            };
            self.within_rate(&msg)?;
            let bytes = match msg {
                Message::Binary(bytes) => bytes,
                Message::Text(_) => return Err(End::Reject(Rejection::MalformedFrame)),
                Message::Ping(_) | Message::Pong(_) => continue,
                Message::Close(_) => return Err(End::Gone),
            };
            let join = match Frame::decode(&bytes) {
                Ok(Frame::Join(join)) => join,
                Ok(_) => return Err(End::Reject(Rejection::UnexpectedFrame)),
                Err(e) => return Err(End::Reject(decode_rejection(&e))),
            };
            let hub = self.hub;
            return verify_join(
                &challenge,
                &join,
                &hub.audience,
                now_ms(),
                hub.max_skew_ms(),
            )
            .map_err(|e| {
                let ids = debug_span!("peer", room = %ShortRoom(join.room), peer = %join.peer);
                ids.in_scope(|| info!(error = %e, "join refused"));
                End::Reject(Rejection::Unauthenticated)
            });
        }
    }

    /// Puts the connection in its room and forwards until the connection ends; then leaves.
    async fn joined(&mut self, room: RoomId, peer: PeerId) -> End {
        let hub = self.hub;
        let (tx, mut rx) = outbox::channel(
            hub.cfg.queue_len,
            hub.cfg.queue_bytes,
            hub.queue_budget.clone(),
        );
        let (kick_tx, mut kick) = oneshot::channel();
        let listed = Arc::new(AtomicBool::new(false));
        let member = Member::new(self.conn, tx.clone(), kick_tx, listed.clone());
        let joined = match self.hub.join(room, peer, member) {
            Ok(joined) => joined,
            Err(RoomFull) => {
                info!("room full");
                return End::Reject(Rejection::RoomFull);
            }
        };
        info!(replaced = joined.replaced, "joined");
        self.hub.log_evicted(room, &joined.evicted);

        let (requests, requests_rx) = mpsc::channel(REQUEST_QUEUE);
        let (answers_tx, answers) = mpsc::channel(ANSWER_QUEUE);
        let worker = Worker {
            hub: self.hub,
            room,
            conn: self.conn,
            listed,
            answers: answers_tx,
        };
        let mut store = StoreLink {
            requests,
            answers,
            uploads: Uploads::default(),
            pending: None,
        };
        // The worker runs in this task beside the loop; it ends when the loop drops `store`.
        let end = tokio::select! {
            end = self.forward(room, peer, &tx, &mut rx, &mut kick, &mut store) => end,
            () = worker.serve(requests_rx) => End::Gone,
        };
        if let Some(evicted) = self.hub.leave(room, peer, self.conn) {
            self.hub.log_evicted(room, &evicted);
        }
        info!("left");
        end
    }

    async fn forward(
        &mut self,
        room: RoomId,
        peer: PeerId,
        tx: &Outbox,
        rx: &mut Inbox,
        kick: &mut oneshot::Receiver<Kick>,
        store: &mut StoreLink,
    ) -> End {
        let cfg = &self.hub.cfg;
        let mut ticks =
            tokio::time::interval_at(Instant::now() + cfg.ping_interval, cfg.ping_interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_seen = Instant::now();
        // A write that makes no progress for this long means the peer does not read.
        let stall = cfg.idle_timeout;
        // Made once: a `cancelled()` future per loop turn would register a waiter every time.
        let drained = self.drain.clone().cancelled_owned();
        tokio::pin!(drained);
        loop {
            tokio::select! {
                kicked = &mut *kick => return kicked_end(kicked),
                () = &mut drained => return End::Drain,
                Some(first) = rx.recv() => {
                    let write = write_batch(&mut self.ws, first, || rx.try_recv(), stall);
                    if let Err(end) = guarded(write, kick, drained.as_mut()).await {
                        return end;
                    }
                }
                Some(first) = store.answers.recv() => {
                    let more = || store.answers.try_recv().ok();
                    let write = write_batch(&mut self.ws, first, more, stall);
                    if let Err(end) = guarded(write, kick, drained.as_mut()).await {
                        return end;
                    }
                }
                // The worker is behind: stop reading until it takes the waiting request, but
                // keep writing, so its answers drain.
                permit = store.requests.reserve(), if store.pending.is_some() => {
                    match (permit, store.pending.take()) {
                        (Ok(permit), Some(request)) => permit.send(request),
                        _ => return End::Gone,
                    }
                }
                next = self.ws.next(), if store.pending.is_none() => {
                    last_seen = Instant::now();
                    let msg = match next {
                        None => return End::Gone,
                        Some(Err(e)) => return read_error(&e),
                        Some(Ok(msg)) => msg,
                    };
                    if let Err(end) = self.within_rate(&msg) {
                        return end;
                    }
                    let bytes = match msg {
                        Message::Binary(bytes) => bytes,
                        Message::Text(_) => return End::Reject(Rejection::MalformedFrame),
                        Message::Ping(_) | Message::Pong(_) => continue,
                        Message::Close(_) => return End::Gone,
                    };
                    match self.on_frame(room, peer, bytes, tx, &mut store.uploads) {
                        Err(end) => return end,
                        Ok(None) => {}
                        Ok(Some(request)) => match store.requests.try_send(request) {
                            Ok(()) => {}
                            Err(TrySendError::Full(request)) => store.pending = Some(request),
                            Err(TrySendError::Closed(_)) => return End::Gone,
                        },
                    }
                }
                _ = ticks.tick() => {
                    if last_seen.elapsed() >= cfg.idle_timeout {
                        return End::Reject(Rejection::IdleTimeout);
                    }
                    let ping = within(stall, self.ws.send(Message::Ping(Bytes::new())));
                    if let Err(end) = guarded(ping, kick, drained.as_mut()).await {
                        return end;
                    }
                }
            }
        }
    }

    /// Charges `msg` to the connection's rate limits: past them the connection ends with
    /// `RateLimited`.
    fn within_rate(&mut self, msg: &Message) -> Result<(), End> {
        let len = match msg {
            Message::Binary(bytes) | Message::Ping(bytes) | Message::Pong(bytes) => bytes.len(),
            Message::Text(text) => text.len(),
            // The close handshake is not charged: it ends the connection anyway.
            Message::Close(_) => return Ok(()),
        };
        if self.rate.admit(len, Instant::now()) {
            Ok(())
        } else {
            Err(End::Reject(Rejection::RateLimited))
        }
    }

    /// Handles one binary message from a joined client; a store frame may make a store request.
    fn on_frame(
        &self,
        room: RoomId,
        peer: PeerId,
        bytes: Bytes,
        own_queue: &Outbox,
        uploads: &mut Uploads,
    ) -> Result<Option<Request>, End> {
        let len = bytes.len();
        if len > self.hub.cfg.max_frame_len {
            return Err(End::Reject(Rejection::FrameTooLarge));
        }
        // The frame is rewritten in place into the `Deliver` the recipient gets.
        let mut buf = bytes
            .try_into_mut()
            .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
        let reply = match send_to_deliver_in_place(&mut buf, peer) {
            Ok(to) => match self.hub.route(room, peer, to, buf.freeze()) {
                Routed::Delivered => {
                    self.hub.metrics.forwarded(len);
                    return Ok(None);
                }
                Routed::UnknownPeer => {
                    self.hub.metrics.reject(Rejection::UnknownPeer);
                    debug!(to = %to, "send to unknown peer");
                    error_frame(ErrorCode::UnknownPeer, "no such peer in the room")
                }
                Routed::Evicted(evicted) => {
                    self.hub.log_evicted(room, &evicted);
                    return Ok(None);
                }
            },
            Err(_) => match Frame::decode(&buf) {
                Ok(Frame::Ping(value)) => Frame::Pong(value).encode(),
                Ok(Frame::Pong(_)) => return Ok(None),
                Ok(Frame::Store(frame)) => {
                    return uploads
                        .request(frame, self.hub)
                        .map_err(|Violation| End::Reject(Rejection::UnexpectedFrame));
                }
                Ok(_) => return Err(End::Reject(Rejection::UnexpectedFrame)),
                Err(e) => return Err(End::Reject(decode_rejection(&e))),
            },
        };
        // Replies go through the client's own queue: a client that does not read its replies is
        // a slow reader like any other.
        own_queue
            .try_send(Bytes::from(reply))
            .map(|()| None)
            .map_err(|_| End::Reject(Rejection::SlowReader))
    }

    /// Sends the `Error` frame and close code that `end` calls for, then waits briefly for the
    /// client's close reply.
    async fn close(&mut self, end: End) {
        let (error, code) = match end {
            End::Gone => return,
            End::Reject(why) => (why.error_code(), why.close_code()),
            End::Drain => (Some(ErrorCode::ShuttingDown), Some(CloseCode::GoingAway)),
        };
        let ws = &mut self.ws;
        let closing = async {
            if let Some(code) = error {
                let text = match end {
                    End::Reject(why) => why.label(),
                    _ => "relay is shutting down, reconnect",
                };
                ws.feed(Message::Binary(error_frame(code, text).into()))
                    .await?;
            }
            let close = code.map(|code| CloseFrame {
                code: code.to_u16(),
                reason: Utf8Bytes::from_static(""),
            });
            ws.send(Message::Close(close)).await?;
            // Drain what the client still sends until its close reply.
            while let Some(Ok(msg)) = ws.next().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
            Ok::<(), axum::Error>(())
        };
        let _ = timeout(CLOSE_TIMEOUT, closing).await;
    }
}

/// Feeds `first` and whatever else `more` has queued (up to [`MAX_BATCH`]), then flushes once.
/// Each step must make progress within `stall`.
async fn write_batch<S>(
    ws: &mut S,
    first: Bytes,
    mut more: impl FnMut() -> Option<Bytes>,
    stall: Duration,
) -> Result<(), End>
where
    S: Sink<Message, Error = axum::Error> + Unpin,
{
    within(stall, ws.feed(Message::Binary(first))).await?;
    for _ in 1..MAX_BATCH {
        match more() {
            Some(next) => within(stall, ws.feed(Message::Binary(next))).await?,
            None => break,
        }
    }
    within(stall, ws.flush()).await
}

/// One write to the peer, which must end within `stall`: one that does not means the peer does
/// not read (its TCP window stays shut), so it is dropped as a slow reader, whatever it sends.
async fn within(
    stall: Duration,
    write: impl Future<Output = Result<(), axum::Error>>,
) -> Result<(), End> {
    match timeout(stall, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(End::Gone),
        Err(_) => Err(End::Reject(Rejection::SlowReader)),
    }
}

/// Waits for `write`, but gives up the moment the connection is kicked or drained: a client
/// that does not read must not hold this task.
async fn guarded(
    write: impl Future<Output = Result<(), End>>,
    kick: &mut oneshot::Receiver<Kick>,
    drained: Pin<&mut WaitForCancellationFutureOwned>,
) -> Result<(), End> {
    tokio::select! {
        written = write => written,
        kicked = kick => Err(kicked_end(kicked)),
        () = drained => Err(End::Drain),
    }
}

fn kicked_end(kicked: Result<Kick, oneshot::error::RecvError>) -> End {
    match kicked {
        Ok(Kick::Replaced) => End::Reject(Rejection::DuplicatePeer),
        Ok(Kick::SlowReader) => End::Reject(Rejection::SlowReader),
        // The rooms are gone: the server is stopping.
        Err(_) => End::Gone,
    }
}

/// A read error: an oversized message is the client's fault, anything else means the socket is
/// gone.
fn read_error(e: &axum::Error) -> End {
    let too_long = e
        .source()
        .and_then(|inner| inner.downcast_ref::<tungstenite::Error>())
        .is_some_and(|inner| {
            matches!(
                inner,
                tungstenite::Error::Capacity(
                    tungstenite::error::CapacityError::MessageTooLong { .. }
                )
            )
        });
    if too_long {
        End::Reject(Rejection::FrameTooLarge)
    } else {
        debug!(error = %e, "read failed");
        End::Gone
    }
}

fn decode_rejection(e: &DecodeError) -> Rejection {
    match e {
        DecodeError::TooLong { .. } => Rejection::FrameTooLarge,
        DecodeError::UnsupportedVersion { .. } => Rejection::UnsupportedVersion,
        _ => Rejection::MalformedFrame,
    }
}

fn error_frame(code: ErrorCode, text: &str) -> Vec<u8> {
    Frame::Error {
        code,
        message: ErrorMessage::new(text),
    }
    .encode()
}

fn fresh_nonce() -> Result<Nonce, getrandom::Error> {
    let mut bytes = [0; Nonce::LEN];
    getrandom::fill(&mut bytes)?;
    Ok(Nonce::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    //! The handler driven through in-memory channels instead of sockets.

    use std::{
        pin::Pin,
        task::{Context, Poll},
    };

    use ed25519_dalek::SigningKey;
    use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
    use selfos_proto::handshake::sign_join;

    use super::*;
    use crate::config::RelayConfig;

    /// The relay's end of an in-memory WebSocket.
    struct Duplex {
        incoming: UnboundedReceiver<Result<Message, axum::Error>>,
        outgoing: UnboundedSender<Message>,
    }

    impl Stream for Duplex {
        type Item = Result<Message, axum::Error>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            self.incoming.poll_next_unpin(cx)
        }
    }

    impl Sink<Message> for Duplex {
        type Error = axum::Error;
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
            Poll::Ready(Ok(()))
        }
        fn start_send(self: Pin<&mut Self>, msg: Message) -> Result<(), axum::Error> {
            self.outgoing.unbounded_send(msg).map_err(axum::Error::new)
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
            Poll::Ready(Ok(()))
        }
    }

    /// The client's end.
    struct Peer {
        to_relay: UnboundedSender<Result<Message, axum::Error>>,
        from_relay: UnboundedReceiver<Message>,
    }

    impl Peer {
        fn connect(hub: &Arc<Hub>, drain: &CancellationToken) -> Self {
            let (to_relay, incoming) = unbounded();
            let (outgoing, from_relay) = unbounded();
            let ws = Duplex { incoming, outgoing };
            let remote = SocketAddr::from(([127, 0, 0, 1], 1));
            tokio::spawn(run(ws, hub.clone(), drain.clone(), remote, None));
            Self {
                to_relay,
                from_relay,
            }
        }

        fn send(&self, frame: &Frame) {
            self.to_relay
                .unbounded_send(Ok(Message::Binary(frame.encode().into())))
                .unwrap();
        }

        async fn recv(&mut self) -> Message {
            timeout(Duration::from_secs(5), self.from_relay.next())
                .await
                .unwrap()
                .unwrap()
        }

        async fn frame(&mut self) -> Frame {
            match self.recv().await {
                Message::Binary(bytes) => Frame::decode(&bytes).unwrap(),
                other => panic!("expected a frame, got {other:?}"),
            }
        }

        async fn join(&mut self, hub: &Hub, key: &SigningKey, peer: PeerId) -> Frame {
            let Frame::Challenge(challenge) = self.frame().await else {
                panic!("no challenge")
            };
            self.send(&Frame::Join(
                sign_join(&challenge, &hub.audience, key, peer).unwrap(),
            ));
            self.frame().await
        }

        async fn close_code(&mut self) -> Option<u16> {
            match self.recv().await {
                Message::Close(frame) => frame.map(|f| f.code),
                other => panic!("expected a close, got {other:?}"),
            }
        }
    }

    fn hub() -> Arc<Hub> {
        let cfg = RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        let store = Arc::new(crate::store::Store::None);
        Arc::new(Hub::new(cfg, "ws://relay.test".parse().unwrap(), store))
    }

    #[tokio::test]
    async fn join_forward_and_drain_over_channels() {
        let (hub, drain) = (hub(), CancellationToken::new());
        let key = SigningKey::from_bytes(&[5; 32]);
        let (p1, p2) = (PeerId::from_bytes([1; 16]), PeerId::from_bytes([2; 16]));
        let mut a = Peer::connect(&hub, &drain);
        let mut b = Peer::connect(&hub, &drain);
        assert!(matches!(a.join(&hub, &key, p1).await, Frame::Joined { .. }));
        assert!(matches!(b.join(&hub, &key, p2).await, Frame::Joined { .. }));
        assert_eq!(a.frame().await, Frame::PeerJoined(p2));

        let payload = b"opaque".to_vec().try_into().unwrap();
        a.send(&Frame::Send { to: p2, payload });
        let payload = b"opaque".to_vec().try_into().unwrap();
        assert_eq!(b.frame().await, Frame::Deliver { from: p1, payload });

        drain.cancel();
        for peer in [&mut a, &mut b] {
            assert!(matches!(
                peer.frame().await,
                Frame::Error {
                    code: ErrorCode::ShuttingDown,
                    ..
                } | Frame::PeerLeft(_)
            ));
        }
    }

    #[tokio::test]
    async fn oversized_message_is_frame_too_large() {
        let (hub, drain) = (hub(), CancellationToken::new());
        let mut a = Peer::connect(&hub, &drain);
        let key = SigningKey::from_bytes(&[5; 32]);
        a.join(&hub, &key, PeerId::from_bytes([1; 16])).await;
        let too_long =
            tungstenite::Error::Capacity(tungstenite::error::CapacityError::MessageTooLong {
                size: 300_000,
                max_size: 262_144,
            });
        a.to_relay
            .unbounded_send(Err(axum::Error::new(too_long)))
            .unwrap();
        assert!(matches!(
            a.frame().await,
            Frame::Error {
                code: ErrorCode::FrameTooLarge,
                ..
            }
        ));
        assert_eq!(a.close_code().await, Some(4001));
    }
}
