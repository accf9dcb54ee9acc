//! A device of a vault that breaks the sync engine's rules, for the browser tests: the peer that
//! holds the vault's keys but not the other devices' resources (issue "trust model", part 6).
//!
//! ```text
//! SELFOS_PASSPHRASE=… selfos-hostile --vault DIR --relay ws://127.0.0.1:PORT
//! ```
//!
//! It opens the vault in `DIR` (a replica restored with `selfos join --recovery-kit`), records one
//! answer stamped a year ahead of the wall clock, and syncs it through the relay with a real engine
//! whose clock runs a year ahead too. Then it follows what its standard input says, a line each:
//!
//! - `attack`: sends every peer in the room the crafted messages of [`attacks`] (one of them
//!   128 MiB), prints `attacked NAME` after each, and from then on answers nobody (its engine's
//!   own envelopes would carry lower counters, refused as replays);
//! - end of input: leaves the room and exits.
//!
//! It prints `joined` once in the room and `peer HEX` for each peer it meets.

use std::{
    path::PathBuf,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use selfos_net::RelayAddress;
use selfos_proto::{Frame, Payload, PeerId};
use selfos_sync::{
    MAX_FRAGMENT_LEN, MAX_MESSAGE_LEN, MAX_MESSAGE_PARTS, SyncEngine, SyncEvent,
    testing::{Hostile, message_about, vector_message},
};
use selfos_vault::{Answer, CardKind, Content, FileStore, Namespace, Passphrase, Status, Vault};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::Message;

/// How far ahead of the wall clock this device's clock runs: far past the bound on stamps a
/// replica lets move its clock.
const AHEAD_MS: u64 = 365 * 24 * 60 * 60 * 1000;
/// The namespace the answer from a year ahead goes to.
const AGENT: &str = "chatgpt";

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let (dir, relay) = arguments()?;
    let passphrase = Passphrase::new(
        std::env::var("SELFOS_PASSPHRASE").context("SELFOS_PASSPHRASE is not set")?,
    );
    let mut vault = Vault::open(FileStore::new(&dir), &passphrase)
        .with_context(|| format!("vault {}", dir.display()))?;
    let ahead = || wall_ms().saturating_add(AHEAD_MS);
    let namespace = Namespace::new(AGENT).context("namespace")?;
    vault
        .record(&namespace, from_a_year_ahead(ahead()), ahead())
        .context("record")?;

    let me = PeerId::from_bytes(*vault.replica().as_bytes());
    let keys = vault.sync_keys();
    let mut engine = SyncEngine::new(&keys, me, relay.audience().clone(), ahead())?;
    let hostile = Hostile::new(&keys, me)?;
    let (ws, _) = tokio_tungstenite::connect_async(relay.endpoint())
        .await
        .context("connect to the relay")?;
    let (mut sink, mut stream) = ws.split();
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut attacked = false;
    // Above every counter its engine used: the engine counts up from its clock (ms << 16).
    let mut counter = ahead().saturating_add(AHEAD_MS).saturating_mul(1 << 16);
    loop {
        while let Some(frame) = engine.poll_transmit() {
            if !attacked {
                sink.send(Message::binary(frame)).await?;
            }
        }
        while let Some(event) = engine.poll_event() {
            match event {
                SyncEvent::Joined { .. } => {
                    println!("joined");
                    engine.local_change(&mut vault)?;
                }
                SyncEvent::PeerJoined(peer) => println!("peer {}", hex(peer.as_bytes())),
                _ => {}
            }
        }
        tokio::select! {
            line = stdin.next_line() => match line?.as_deref() {
                Some("attack") => {
                    attacked = true;
                    let peers: Vec<PeerId> = engine.peers().copied().collect();
                    for attack in attacks() {
                        attack.send(&hostile, &peers, &mut counter, &mut sink).await?;
                        println!("attacked {}", attack.name);
                    }
                }
                Some(other) => bail!("unknown command {other:?}"),
                None => break,
            },
            message = stream.next() => match message {
                Some(Ok(Message::Binary(bytes))) if !attacked => {
                    engine.handle_frame(&mut vault, &bytes, ahead())?;
                }
                Some(Ok(Message::Close(frame))) => bail!("the relay closed the connection: {frame:?}"),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => bail!("the relay went away"),
            },
            () = tokio::time::sleep(Duration::from_secs(1)), if !attacked => {
                engine.tick(&mut vault, ahead())?;
            }
        }
    }
    sink.close().await?;
    Ok(())
}

/// One crafted message, sent to every peer.
struct Attack {
    name: &'static str,
    /// The fragment count its envelopes claim.
    parts: u16,
    /// How many fragments are sent (0, 1, ...), each holding `fragment`.
    sent: u16,
    fragment: Vec<u8>,
    /// Whether each envelope's seal is then broken (one bit of the tag flipped).
    forge: bool,
}

impl Attack {
    fn one(name: &'static str, plain: Vec<u8>) -> Self {
        Self {
            name,
            parts: 1,
            sent: 1,
            fragment: plain,
            forge: false,
        }
    }

    async fn send<S>(
        &self,
        hostile: &Hostile,
        peers: &[PeerId],
        counter: &mut u64,
        sink: &mut S,
    ) -> anyhow::Result<()>
    where
        S: futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
    {
        for part in 0..self.sent {
            for peer in peers {
                *counter += 1;
                let mut envelope =
                    hostile.envelope(peer, *counter, part, self.parts, &self.fragment)?;
                if self.forge
                    && let Some(last) = envelope.last_mut()
                {
                    *last ^= 1;
                }
                let frame = Frame::Send {
                    to: *peer,
                    payload: Payload::try_from(envelope)?,
                };
                sink.send(Message::binary(frame.encode())).await?;
            }
        }
        Ok(())
    }
}

/// What `attack` sends, in order.
fn attacks() -> Vec<Attack> {
    vec![
        // Reassembly is bounded in parts: refused at its first fragment.
        Attack {
            parts: MAX_MESSAGE_PARTS + 1,
            ..Attack::one("too-many-parts", vec![0; 64])
        },
        // ...and in bytes: a message that grows past the bound is dropped as it does.
        Attack {
            parts: MAX_MESSAGE_PARTS,
            sent: u16::try_from(MAX_MESSAGE_LEN / MAX_FRAGMENT_LEN + 1).unwrap_or(u16::MAX),
            ..Attack::one("too-long", vec![0x5a; MAX_FRAGMENT_LEN])
        },
        // Key-table counts at u64::MAX, which would wrap on the next count.
        Attack::one(
            "count-at-u64-max",
            vector_message(AGENT, [0xAB; 16], u64::MAX),
        ),
        // Sealed right, but no replication message inside.
        Attack::one("not-a-message", message_about(AGENT, &[0xff; 40])),
        // A replication message whose seal does not hold.
        Attack {
            forge: true,
            ..Attack::one("forged", vector_message(AGENT, [0xAB; 16], 3))
        },
    ]
}

/// An answer whose own creation time is a year ahead too.
fn from_a_year_ahead(created_ms: u64) -> Content {
    Content {
        card_id: "intent.include".into(),
        card_kind: CardKind::Intent,
        answer: Some(Answer::Text("from a year ahead".into())),
        agent: AGENT.into(),
        origin: "hostile".into(),
        created_ms,
        wait_ms: 1_000,
        status: Status::Answered,
        context: Default::default(),
    }
}

fn arguments() -> anyhow::Result<(PathBuf, RelayAddress)> {
    let mut args = std::env::args().skip(1);
    let (mut dir, mut relay) = (None, None);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--vault" => dir = Some(PathBuf::from(value)),
            "--relay" => relay = Some(value.parse::<RelayAddress>()?),
            _ => bail!("unknown flag {flag}: use --vault DIR --relay URL"),
        }
    }
    Ok((
        dir.context("--vault DIR is required")?,
        relay.context("--relay URL is required")?,
    ))
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
