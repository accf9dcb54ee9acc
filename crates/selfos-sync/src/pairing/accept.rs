//! The accepting side: the new device, where the user types the code, and which receives the
//! payload.

use std::fmt;

use zeroize::Zeroizing;

use super::{
    Failure, Outbox, PairingCode, PairingError, Step,
    keys::{Pake, SessionKeys, Side},
    message::{Kind, Message},
};

/// The accepting side of one pairing, sans-IO: send what [`Accept::poll_transmit`] returns to
/// the offering device (the first message is ready at once), give it every message from that
/// device with [`Accept::handle_message`], and take the payload with [`Accept::take_payload`]
/// once it arrived. Send what `poll_transmit` returns after an error too: an abort tells the
/// offering side to stop waiting.
pub struct Accept {
    state: State,
    outbox: Outbox,
}

enum State {
    WaitingForReply { pake: Pake },
    WaitingForPayload { keys: SessionKeys },
    Done { payload: Option<Zeroizing<Vec<u8>>> },
    Failed,
}

impl Accept {
    /// Starts a pairing with the code the user typed.
    pub fn new(code: &PairingCode) -> Result<Self, PairingError> {
        let pake = Pake::start(code, Side::Accept)?;
        let mut outbox = Outbox::default();
        outbox.push(&Message::Start {
            pake: pake.message(),
        });
        Ok(Self {
            state: State::WaitingForReply { pake },
            outbox,
        })
    }

    /// Takes one message from the offering device.
    pub fn handle_message(&mut self, bytes: &[u8]) -> Result<(), PairingError> {
        super::advance(&mut self.state, &mut self.outbox, bytes)
    }

    /// The next message to send to the offering device.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.outbox.pop()
    }

    /// The payload, once it arrived (and the acknowledgement is in
    /// [`poll_transmit`](Self::poll_transmit)); `None` before, and after it was taken.
    pub fn take_payload(&mut self) -> Option<Zeroizing<Vec<u8>>> {
        match &mut self.state {
            State::Done { payload } => payload.take(),
            _ => None,
        }
    }
}

impl Step for State {
    const FAILED: Self = Self::Failed;

    fn is_over(&self) -> bool {
        matches!(self, Self::Done { .. } | Self::Failed)
    }

    fn step(self, message: Message, out: &mut Outbox) -> Result<Self, Failure> {
        match (self, message) {
            (_, Message::Abort(reason)) => Err(Failure::peer_abort(reason)),
            (
                Self::WaitingForReply { pake },
                Message::Reply {
                    pake: theirs,
                    confirm,
                },
            ) => {
                let keys = pake.finish(&theirs)?;
                keys.check_confirmation(Side::Offer, &confirm)?;
                out.push(&Message::Confirm {
                    confirm: keys.confirmation(Side::Accept),
                });
                Ok(Self::WaitingForPayload { keys })
            }
            (Self::WaitingForPayload { keys }, Message::Sealed { nonce, ciphertext }) => {
                let payload = keys.open(&nonce, &ciphertext)?;
                out.push(&Message::Ack {
                    mac: keys.ack(&nonce, &ciphertext),
                });
                Ok(Self::Done {
                    payload: Some(payload),
                })
            }
            (state, message) => Err(Failure::unexpected(message.kind(), state.expects())),
        }
    }
}

impl State {
    fn expects(&self) -> Option<Kind> {
        match self {
            Self::WaitingForReply { .. } => Some(Kind::Reply),
            Self::WaitingForPayload { .. } => Some(Kind::Sealed),
            Self::Done { .. } | Self::Failed => None,
        }
    }
}

impl fmt::Debug for Accept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { state, outbox } = self;
        let state = match state {
            State::WaitingForReply { .. } => "waiting for the offering device",
            State::WaitingForPayload { .. } => "waiting for the payload",
            State::Done { .. } => "complete",
            State::Failed => "failed",
        };
        f.debug_struct("Accept")
            .field("state", &state)
            .field("outgoing", &outbox.len())
            .finish_non_exhaustive()
    }
}
