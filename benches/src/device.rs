//! A device for benches that need a real relay: a vault in memory and a hand-driven
//! `SyncEngine` over a tokio-tungstenite WebSocket, counting the bytes it moves.

// Bench set-up: a failure should abort the run loudly, not be handled.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt, stream::SplitSink, stream::SplitStream};
use selfos::{
    net::RelayAddress,
    proto::PeerId,
    sync::SyncEngine,
    vault::{MemoryStore, Vault},
};
use selfos_testkit::now_ms;
use tokio::{net::TcpStream, time::timeout};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One device connected to the relay.
pub struct Device {
    /// Its replica.
    pub vault: Vault<MemoryStore>,
    /// Its engine for this connection.
    pub engine: SyncEngine,
    sink: SplitSink<Ws, Message>,
    /// Frames from the relay.
    pub stream: SplitStream<Ws>,
    /// WebSocket payload bytes sent and received.
    pub bytes: usize,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("engine", &self.engine)
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

impl Device {
    /// Connects `vault` to the relay (Nagle off, as the clients do).
    ///
    /// # Panics
    ///
    /// If the relay cannot be reached: a bench set-up fails loudly.
    pub async fn connect(vault: Vault<MemoryStore>, relay: &RelayAddress) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(relay.endpoint())
            .await
            .unwrap();
        if let MaybeTlsStream::Plain(tcp) = ws.get_ref() {
            let _ = tcp.set_nodelay(true);
        }
        let (sink, stream) = ws.split();
        let me = PeerId::from_bytes(*vault.replica().as_bytes());
        let engine =
            SyncEngine::new(&vault.sync_keys(), me, relay.audience().clone(), now_ms()).unwrap();
        Self {
            vault,
            engine,
            sink,
            stream,
            bytes: 0,
        }
    }

    /// Sends what the engine has ready; drops its events.
    ///
    /// # Panics
    ///
    /// If the connection is gone.
    pub async fn flush(&mut self) {
        while let Some(frame) = self.engine.poll_transmit() {
            self.bytes += frame.len();
            self.sink.send(Message::Binary(frame.into())).await.unwrap();
        }
        while self.engine.poll_event().is_some() {}
    }

    /// Hands the engine one message from the relay.
    ///
    /// # Panics
    ///
    /// If the engine fails.
    pub fn handle(&mut self, message: Message) {
        if let Message::Binary(bytes) = message {
            self.bytes += bytes.len();
            self.engine
                .handle_frame(&mut self.vault, &bytes, now_ms())
                .unwrap();
        }
    }

    /// Moves frames between this device and the relay until `done` holds.
    ///
    /// # Panics
    ///
    /// If nothing arrives for 30 s, or the connection is lost.
    pub async fn run_until(&mut self, mut done: impl FnMut(&Self) -> bool) {
        loop {
            self.flush().await;
            if done(self) {
                return;
            }
            match timeout(Duration::from_secs(30), self.stream.next()).await {
                Ok(Some(Ok(message))) => self.handle(message),
                other => panic!("no progress from the relay: {other:?}"),
            }
        }
    }
}

/// Moves frames between two devices and the relay until `done` holds of `b`, then until nothing
/// moves for `settle`.
///
/// # Panics
///
/// If nothing arrives for 10 s before `done` holds, or a connection is lost.
pub async fn pump(
    a: &mut Device,
    b: &mut Device,
    settle: Duration,
    mut done: impl FnMut(&Device) -> bool,
) {
    let mut finished = done(b);
    loop {
        a.flush().await;
        b.flush().await;
        let wait = if finished {
            settle
        } else {
            Duration::from_secs(10)
        };
        let next = timeout(wait, async {
            tokio::select! {
                m = a.stream.next() => (true, m),
                m = b.stream.next() => (false, m),
            }
        })
        .await;
        match next {
            Err(_) if finished => return,
            Err(_) => panic!("no progress for 10 s"),
            Ok((on_a, Some(Ok(message)))) => {
                if on_a {
                    a.handle(message);
                } else {
                    b.handle(message);
                    finished = finished || done(b);
                }
            }
            Ok((_, other)) => panic!("connection lost: {other:?}"),
        }
    }
}
