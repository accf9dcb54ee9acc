//! Pairing: a new device receives the vault's secret from a device that already holds it, by a
//! one-time code the user carries from one screen to the other (`7-guitar-reveal`).
//!
//! The offering device shows a fresh [`PairingCode`]; both join the rendezvous room that the
//! code's number names ([`PairingCode::rendezvous_key`]) and run SPAKE2 through the relay with
//! the whole code as the password; each proves it holds the same key (key confirmation); then
//! [`Offer`] sends the payload sealed with XChaCha20-Poly1305 under a key derived from the
//! exchange, and [`Accept`] acknowledges it:
//!
//! ```text
//! accept → offer   Start    accept's SPAKE2 message
//! offer → accept   Reply    offer's SPAKE2 message, offer's confirmation
//! accept → offer   Confirm  accept's confirmation
//! offer → accept   Sealed   nonce, payload sealed
//! accept → offer   Ack      a MAC over the sealed payload
//! either way       Abort    the sender gave up (wrong code, or a message it could not use)
//! ```
//!
//! A wrong code gives each side a different key: the accepting side finds out from the
//! offering side's confirmation and tells it with an abort, so both end with
//! [`PairingError::WrongCode`]. Someone who knows only the number learns nothing from the
//! messages that would let them test codes offline, and gets one online guess: an [`Offer`]
//! accepts one attempt, and after any failure refuses every later message.
//!
//! Sans-IO like the rest of this crate: bytes in, bytes out. The randomness (a nonce, the PAKE's
//! scalar, new codes) comes from the operating system through `getrandom`; there is no clock,
//! so the caller decides how long an offer stays open.
//!
//! # Example
//!
//! ```
//! use selfos_sync::pairing::{Accept, Offer, PairingCode};
//! use zeroize::Zeroizing;
//!
//! let code = PairingCode::generate()?;
//! let mut offer = Offer::new(&code, Zeroizing::new(b"the vault secret".to_vec()))?;
//! // The user types the code shown on the other screen.
//! let typed: PairingCode = code.to_string().parse()?;
//! let mut accept = Accept::new(&typed)?;
//! // In real life these bytes go through the relay's rendezvous room.
//! while !offer.is_complete() {
//!     while let Some(m) = accept.poll_transmit() {
//!         offer.handle_message(&m)?;
//!     }
//!     while let Some(m) = offer.poll_transmit() {
//!         accept.handle_message(&m)?;
//!     }
//! }
//! assert_eq!(&**accept.take_payload().unwrap(), b"the vault secret");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod accept;
mod code;
mod keys;
mod message;
mod offer;
mod random;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use selfos_vault::EntropyError;

use self::message::{AbortReason, Message};
pub use self::{
    accept::Accept,
    code::{MAX_NAMEPLATE, PairingCode, PairingCodeError},
    message::{Kind, MAX_PAIRING_MESSAGE_LEN, MAX_PAIRING_PAYLOAD_LEN, MessageError},
    offer::Offer,
};

/// Why a pairing failed. Every failure ends the pairing on that side.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PairingError {
    /// Key confirmation failed, here or on the other side: the two codes differ (or a PAKE
    /// message or a confirmation was altered on the way, which looks the same).
    #[error("the pairing code does not match the other device's")]
    WrongCode,
    /// The other side gave up for a reason other than a wrong code.
    #[error("the other device gave up the pairing")]
    PeerAborted,
    /// The other side sent bytes that are not a pairing message.
    #[error("the other device sent an invalid message: {0}")]
    Message(#[from] MessageError),
    /// The other side sent a valid message at the wrong time.
    #[error("the other device sent {got} while {} was expected", expected.map_or("nothing".to_owned(), |k| k.to_string()))]
    Unexpected {
        /// What arrived.
        got: Kind,
        /// What this side was waiting for.
        expected: Option<Kind>,
    },
    /// The other side's PAKE message is not a valid one (damaged, or from the wrong side).
    #[error("the other device's key exchange message is invalid")]
    BadPakeMessage,
    /// The sealed payload did not open: it was altered on the way.
    #[error("the payload was altered on the way")]
    PayloadRejected,
    /// The acknowledgement is not the accepting side's: whether the payload arrived is unknown.
    #[error("the acknowledgement of the payload is not valid")]
    AckRejected,
    /// The payload is over [`MAX_PAIRING_PAYLOAD_LEN`] bytes.
    #[error("a payload of {0} bytes, over the limit of {MAX_PAIRING_PAYLOAD_LEN}")]
    PayloadTooLarge(usize),
    /// This side already completed or failed: a code allows one attempt.
    #[error("this pairing is over: start a new one with a new code")]
    Finished,
    /// The operating system's random number generator failed.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

/// A failed step: the error, and what to tell the other side (nothing if it gave up first).
struct Failure {
    error: PairingError,
    tell: Option<AbortReason>,
}

impl Failure {
    fn peer_abort(reason: AbortReason) -> Self {
        Self {
            error: match reason {
                AbortReason::WrongCode => PairingError::WrongCode,
                AbortReason::Failed => PairingError::PeerAborted,
            },
            tell: None,
        }
    }

    fn unexpected(got: Kind, expected: Option<Kind>) -> Self {
        PairingError::Unexpected { got, expected }.into()
    }
}

impl From<PairingError> for Failure {
    fn from(error: PairingError) -> Self {
        let tell = match error {
            PairingError::WrongCode => Some(AbortReason::WrongCode),
            // The other side is done already (it sent the acknowledgement) or gave up itself.
            PairingError::AckRejected | PairingError::PeerAborted | PairingError::Finished => None,
            _ => Some(AbortReason::Failed),
        };
        Self { error, tell }
    }
}

/// Encoded messages waiting to be sent.
#[derive(Default)]
struct Outbox(VecDeque<Vec<u8>>);

impl Outbox {
    fn push(&mut self, message: &Message) {
        self.0.push_back(message.encode());
    }

    fn pop(&mut self) -> Option<Vec<u8>> {
        self.0.pop_front()
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

/// The state machine of one side.
trait Step: Sized {
    /// The state after a failure.
    const FAILED: Self;
    /// Whether the pairing completed or failed.
    fn is_over(&self) -> bool;
    /// Takes one message; queues what to send in reply.
    fn step(self, message: Message, out: &mut Outbox) -> Result<Self, Failure>;
}

/// Feeds one message to a side: a side that is over refuses it, and any failure leaves the side
/// failed with an abort queued for the other side.
fn advance<S: Step>(state: &mut S, out: &mut Outbox, bytes: &[u8]) -> Result<(), PairingError> {
    if state.is_over() {
        return Err(PairingError::Finished);
    }
    let current = std::mem::replace(state, S::FAILED);
    let outcome = Message::decode(bytes)
        .map_err(|e| Failure::from(PairingError::from(e)))
        .and_then(|message| current.step(message, out));
    match outcome {
        Ok(next) => {
            *state = next;
            Ok(())
        }
        Err(Failure { error, tell }) => {
            if let Some(reason) = tell {
                out.push(&Message::Abort(reason));
            }
            Err(error)
        }
    }
}
