//! The offering side: the device that holds the vault, shows the code and sends the payload.

use std::fmt;

use zeroize::Zeroizing;

use super::{
    Failure, Outbox, PairingCode, PairingError, Step,
    keys::{Pake, SessionKeys, Side},
    message::{Kind, MAX_PAIRING_PAYLOAD_LEN, Message, NONCE_LEN},
};

/// The offering side of one pairing, sans-IO: give it every message from the accepting device
/// with [`Offer::handle_message`] and send what [`Offer::poll_transmit`] returns, after an
/// error too (it may hold an abort that tells the other side to stop waiting).
///
/// It waits for the other device to start; one attempt is all it allows. Once a step fails it is
/// finished and refuses every later message, so a code admits one guess.
pub struct Offer {
    state: State,
    outbox: Outbox,
}

enum State {
    WaitingForStart {
        pake: Pake,
        payload: Zeroizing<Vec<u8>>,
    },
    WaitingForConfirm {
        keys: SessionKeys,
        payload: Zeroizing<Vec<u8>>,
    },
    WaitingForAck {
        keys: SessionKeys,
        nonce: [u8; NONCE_LEN],
        ciphertext: Vec<u8>,
    },
    Done,
    Failed,
}

impl Offer {
    /// Gets ready to hand `payload` (at most
    /// [`MAX_PAIRING_PAYLOAD_LEN`](super::MAX_PAIRING_PAYLOAD_LEN) bytes) to the device that
    /// proves it knows `code`.
    pub fn new(code: &PairingCode, payload: Zeroizing<Vec<u8>>) -> Result<Self, PairingError> {
        if payload.len() > MAX_PAIRING_PAYLOAD_LEN {
            return Err(PairingError::PayloadTooLarge(payload.len()));
        }
        Ok(Self {
            state: State::WaitingForStart {
                pake: Pake::start(code, Side::Offer)?,
                payload,
            },
            outbox: Outbox::default(),
        })
    }

    /// Takes one message from the accepting device.
    pub fn handle_message(&mut self, bytes: &[u8]) -> Result<(), PairingError> {
        super::advance(&mut self.state, &mut self.outbox, bytes)
    }

    /// The next message to send to the accepting device.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.outbox.pop()
    }

    /// Whether the accepting device acknowledged the payload: the pairing succeeded.
    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Done)
    }
}

impl Step for State {
    const FAILED: Self = Self::Failed;

    fn is_over(&self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }

    fn step(self, message: Message, out: &mut Outbox) -> Result<Self, Failure> {
        match (self, message) {
            (_, Message::Abort(reason)) => Err(Failure::peer_abort(reason)),
            (Self::WaitingForStart { pake, payload }, Message::Start { pake: theirs }) => {
                let mine = pake.message();
                let keys = pake.finish(&theirs)?;
                out.push(&Message::Reply {
                    pake: mine,
                    confirm: keys.confirmation(Side::Offer),
                });
                Ok(Self::WaitingForConfirm { keys, payload })
            }
            (Self::WaitingForConfirm { keys, payload }, Message::Confirm { confirm }) => {
                keys.check_confirmation(Side::Accept, &confirm)?;
                let (nonce, ciphertext) = keys.seal(&payload)?;
                out.push(&Message::Sealed {
                    nonce,
                    ciphertext: ciphertext.clone(),
                });
                Ok(Self::WaitingForAck {
                    keys,
                    nonce,
                    ciphertext,
                })
            }
            (
                Self::WaitingForAck {
                    keys,
                    nonce,
                    ciphertext,
                },
                Message::Ack { mac },
            ) => {
                keys.check_ack(&nonce, &ciphertext, &mac)?;
                Ok(Self::Done)
            }
            (state, message) => Err(Failure::unexpected(message.kind(), state.expects())),
        }
    }
}

impl State {
    fn expects(&self) -> Option<Kind> {
        match self {
            Self::WaitingForStart { .. } => Some(Kind::Start),
            Self::WaitingForConfirm { .. } => Some(Kind::Confirm),
            Self::WaitingForAck { .. } => Some(Kind::Ack),
            Self::Done | Self::Failed => None,
        }
    }
}

impl fmt::Debug for Offer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { state, outbox } = self;
        let state = match state {
            State::WaitingForStart { .. } => "waiting for the other device",
            State::WaitingForConfirm { .. } => "waiting for key confirmation",
            State::WaitingForAck { .. } => "waiting for the acknowledgement",
            State::Done => "complete",
            State::Failed => "failed",
        };
        f.debug_struct("Offer")
            .field("state", &state)
            .field("outgoing", &outbox.len())
            .finish_non_exhaustive()
    }
}
