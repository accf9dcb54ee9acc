//! Pairing over the relay: runs the sans-IO [`Offer`] and [`Accept`] of
//! [`selfos_sync::pairing`] in the rendezvous room that the code's number names.
//!
//! The room is open to anyone who knows the number, so the driver trusts nobody in it: the
//! offering side takes the first device that speaks to it as its one attempt, and the accepting
//! side talks to the first device that answers; messages from anyone else are ignored. Every
//! wait has a deadline, and a relay that goes away ends the pairing with an error.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use selfos_proto::{ErrorCode, Frame, PeerId, handshake::sign_join};
use selfos_sync::pairing::{Accept, MessageError, Offer, PairingCode, PairingError};
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::Message;
use zeroize::Zeroizing;

use crate::{
    NetError, RelayAddress,
    session::{RelaySocket, closed, connect},
};

/// How a pairing runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PairingOptions {
    /// How long an offer stays open for a device to use its code.
    pub expiry: Duration,
    /// How long the accepting side waits for the offering device to be in the room, and then
    /// for each of its answers.
    pub offer_wait: Duration,
    /// Extra certificate authorities to trust for `wss://` (DER), for a relay with a private
    /// certificate.
    pub extra_roots: Vec<Vec<u8>>,
}

impl PairingOptions {
    /// Defaults: an offer stays open 10 minutes; the accepting side waits 30 s for the offer.
    pub fn new() -> Self {
        Self {
            expiry: Duration::from_secs(600),
            offer_wait: Duration::from_secs(30),
            extra_roots: Vec::new(),
        }
    }
}

impl Default for PairingOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a pairing over the relay failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PairingNetError {
    /// The pairing itself failed: [`PairingError::WrongCode`] above all.
    #[error(transparent)]
    Pairing(#[from] PairingError),
    /// The relay could not be reached, refused the join, or went away.
    #[error(transparent)]
    Net(#[from] NetError),
    /// No device answered in the room of this code's number.
    #[error("no device is offering this code; check the number")]
    NoOffer,
    /// No device used the code before the offer expired.
    #[error("no device used the code within {0:?}; start again with a new code")]
    Expired(Duration),
    /// The other device left the room before the pairing completed.
    #[error("the other device left before the pairing completed")]
    PeerLeft,
}

/// Offers `payload` to the device that proves it knows `code`: joins the code's rendezvous
/// room, waits up to [`PairingOptions::expiry`] for a device to start, and returns once that
/// device acknowledged the payload. The first device that starts is the one attempt the code
/// allows.
pub async fn offer(
    relay: &RelayAddress,
    code: &PairingCode,
    payload: Zeroizing<Vec<u8>>,
    opts: &PairingOptions,
) -> Result<(), PairingNetError> {
    let mut machine = Offer::new(code, payload)?;
    let (mut room, _) = Rendezvous::join(relay, code, opts).await?;
    let deadline = Instant::now() + opts.expiry;
    let mut partner: Option<PeerId> = None;
    loop {
        match room.next(deadline).await? {
            Event::Message { from, bytes } if partner.is_none_or(|p| p == from) => {
                partner = Some(from);
                let handled = machine.handle_message(&bytes);
                while let Some(out) = machine.poll_transmit() {
                    room.send(from, out).await?;
                }
                handled?;
                if machine.is_complete() {
                    room.close().await;
                    return Ok(());
                }
            }
            Event::Left(peer) if partner == Some(peer) => return Err(PairingNetError::PeerLeft),
            Event::Deadline => return Err(PairingNetError::Expired(opts.expiry)),
            _ => {}
        }
    }
}

/// Receives the payload from the device offering `code`: joins the code's rendezvous room,
/// starts the exchange with every device there or arriving until one answers, within
/// [`PairingOptions::offer_wait`], and returns the payload once it arrived and was
/// acknowledged.
pub async fn accept(
    relay: &RelayAddress,
    code: &PairingCode,
    opts: &PairingOptions,
) -> Result<Zeroizing<Vec<u8>>, PairingNetError> {
    let mut machine = Accept::new(code)?;
    let start = machine.poll_transmit().ok_or(PairingError::Finished)?;
    let (mut room, present) = Rendezvous::join(relay, code, opts).await?;
    // Whoever is in the room, or comes in before an answer, may be the offering device: the
    // first to answer is taken. A stranger who answers first costs this attempt (a wrong
    // code), never the payload; a stranger who stays silent costs nothing.
    let mut asked = present;
    for &peer in &asked {
        room.send(peer, start.clone()).await?;
    }
    let mut deadline = Instant::now() + opts.offer_wait;
    let mut partner: Option<PeerId> = None;
    loop {
        match room.next(deadline).await? {
            Event::Joined(peer) if partner.is_none() => {
                room.send(peer, start.clone()).await?;
                asked.push(peer);
            }
            Event::Message { from, bytes }
                if asked.contains(&from) && partner.is_none_or(|p| p == from) =>
            {
                partner = Some(from);
                deadline = Instant::now() + opts.offer_wait;
                let handled = machine.handle_message(&bytes);
                while let Some(out) = machine.poll_transmit() {
                    room.send(from, out).await?;
                }
                handled?;
                if let Some(payload) = machine.take_payload() {
                    room.close().await;
                    return Ok(payload);
                }
            }
            Event::Left(peer) if partner == Some(peer) => return Err(PairingNetError::PeerLeft),
            Event::Deadline if partner.is_none() => return Err(PairingNetError::NoOffer),
            Event::Deadline => return Err(NetError::Timeout(opts.offer_wait).into()),
            _ => {}
        }
    }
}

/// What happened in the rendezvous room.
enum Event {
    Joined(PeerId),
    Left(PeerId),
    Message { from: PeerId, bytes: Vec<u8> },
    Deadline,
}

/// A connection joined to a code's rendezvous room.
struct Rendezvous {
    ws: RelaySocket,
}

impl Rendezvous {
    /// Connects and joins the room with the key the code's number gives; returns the peers
    /// already there.
    async fn join(
        relay: &RelayAddress,
        code: &PairingCode,
        opts: &PairingOptions,
    ) -> Result<(Self, Vec<PeerId>), PairingNetError> {
        let mut room = Self {
            ws: connect(relay, &opts.extra_roots).await?,
        };
        let me = PeerId::from_bytes(random_peer_id()?);
        // The relay's handshake timeout bounds these two reads; this bounds a relay that
        // neither answers nor closes.
        let deadline = Instant::now() + opts.offer_wait;
        let silent = || NetError::Timeout(opts.offer_wait);
        let Frame::Challenge(challenge) = room.frame(deadline).await?.ok_or_else(silent)? else {
            return Err(unexpected("a challenge"));
        };
        let join = sign_join(&challenge, relay.audience(), &code.rendezvous_key(), me)
            .map_err(|e| NetError::Refused(e.to_string()))?;
        room.write(Frame::Join(join)).await?;
        match room.frame(deadline).await?.ok_or_else(silent)? {
            Frame::Joined { peers } => Ok((room, peers.into_vec())),
            Frame::Error { message, .. } => Err(NetError::Refused(message.to_string()).into()),
            _ => Err(unexpected("the join's answer")),
        }
    }

    /// The next thing that happens in the room, or [`Event::Deadline`].
    async fn next(&mut self, deadline: Instant) -> Result<Event, PairingNetError> {
        loop {
            let Some(frame) = self.frame(deadline).await? else {
                return Ok(Event::Deadline);
            };
            return Ok(match frame {
                Frame::PeerJoined(peer) => Event::Joined(peer),
                Frame::PeerLeft(peer) => Event::Left(peer),
                Frame::Deliver { from, payload } => Event::Message {
                    from,
                    bytes: payload.into_vec(),
                },
                // A message to a peer that just left: its leaving is reported on its own.
                Frame::Error {
                    code: ErrorCode::UnknownPeer,
                    ..
                } => continue,
                Frame::Error { message, .. } => {
                    return Err(NetError::Connection(message.to_string()).into());
                }
                Frame::Ping(value) => {
                    self.write(Frame::Pong(value)).await?;
                    continue;
                }
                _ => continue,
            });
        }
    }

    /// The next frame from the relay; `None` once `deadline` passed.
    async fn frame(&mut self, deadline: Instant) -> Result<Option<Frame>, PairingNetError> {
        loop {
            let Ok(message) = timeout_at(deadline, self.ws.next()).await else {
                return Ok(None);
            };
            match message {
                Some(Ok(Message::Binary(bytes))) => {
                    return Frame::decode(&bytes)
                        .map(Some)
                        .map_err(|e| NetError::Connection(format!("invalid frame: {e}")).into());
                }
                Some(Ok(Message::Close(frame))) => return Err(closed(frame).into()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(NetError::Connection(e.to_string()).into()),
                None => return Err(NetError::Connection("the relay went away".into()).into()),
            }
        }
    }

    async fn send(&mut self, to: PeerId, bytes: Vec<u8>) -> Result<(), PairingNetError> {
        // Pairing messages are at most MAX_PAIRING_MESSAGE_LEN bytes, far below the relay's
        // payload bound: this conversion refuses nothing the pairing sends.
        let len = bytes.len();
        let payload = bytes
            .try_into()
            .map_err(|_| PairingError::from(MessageError::TooLarge(len)))?;
        self.write(Frame::Send { to, payload }).await
    }

    async fn write(&mut self, frame: Frame) -> Result<(), PairingNetError> {
        self.ws
            .send(Message::Binary(frame.encode().into()))
            .await
            .map_err(|e| NetError::Connection(e.to_string()).into())
    }

    /// Leaves the room politely; the pairing is over either way.
    async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

fn unexpected(what: &str) -> PairingNetError {
    NetError::Connection(format!("the relay did not send {what}")).into()
}

fn random_peer_id() -> Result<[u8; PeerId::LEN], PairingError> {
    let mut id = [0u8; PeerId::LEN];
    getrandom::fill(&mut id).map_err(|_| PairingError::Entropy(selfos_vault::EntropyError))?;
    Ok(id)
}
