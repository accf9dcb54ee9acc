//! Reassembly of a message that arrives in several envelopes, within bounds: a peer holds the
//! vault's keys, not this device's memory. See PROTOCOL.md.

use zeroize::Zeroizing;

use crate::{envelope::Header, error::EnvelopeError};

/// The most fragments one message may come in. An honest sender needs at most
/// [`MAX_MESSAGE_LEN`] / 262,061 (a full fragment) rounded up, 513; a larger `parts` is refused at the first
/// fragment, before anything is buffered.
pub const MAX_MESSAGE_PARTS: u16 = 1024;

/// The longest message, reassembled: 128 MiB. A message carries what a peer lacks of one
/// namespace (all of it on a first sync), so this is the largest namespace that syncs; a device
/// buffers at most this much for each peer, and drops a message as soon as it grows past it.
pub const MAX_MESSAGE_LEN: usize = 128 * 1024 * 1024;

/// The most a device buffers for all the peers of its room at once: 192 MiB, a first sync of the
/// largest namespace and half another. The relay bounds the peers of a room, but each could make
/// a device hold [`MAX_MESSAGE_LEN`]; past this bound, the fragment that would cross it drops
/// its message (`EnvelopeError::RoomBufferFull`) and the others go on.
pub const MAX_BUFFERED_LEN: usize = MAX_MESSAGE_LEN + MAX_MESSAGE_LEN / 2;

/// The fragments received so far of one peer's message in several parts.
#[derive(Debug, Default)]
pub(crate) struct Reassembly {
    partial: Option<Partial>,
}

/// A message arriving in several envelopes.
#[derive(Debug)]
struct Partial {
    parts: u16,
    next: u16,
    bytes: Zeroizing<Vec<u8>>,
}

impl Reassembly {
    /// Bytes buffered of the message in progress.
    pub(crate) fn buffered(&self) -> usize {
        self.partial.as_ref().map_or(0, |p| p.bytes.len())
    }

    /// Takes the next fragment of the peer's message; returns the message once its last fragment
    /// is in. A fragment out of order, or one that breaks a bound, drops the whole message.
    /// `others` is what the room's other peers have buffered, for [`MAX_BUFFERED_LEN`].
    pub(crate) fn push(
        &mut self,
        header: Header,
        fragment: Zeroizing<Vec<u8>>,
        others: usize,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, EnvelopeError> {
        let partial = self.partial.take();
        if header.parts == 1 {
            return Ok(Some(fragment));
        }
        if header.parts > MAX_MESSAGE_PARTS {
            return Err(EnvelopeError::TooManyParts(header.parts));
        }
        let mut partial = match (header.part, partial) {
            (0, _) => Partial {
                parts: header.parts,
                next: 0,
                bytes: Zeroizing::new(Vec::new()),
            },
            (part, Some(p)) if p.next == part && p.parts == header.parts => p,
            _ => return Err(EnvelopeError::Fragments),
        };
        let len = partial.bytes.len() + fragment.len();
        if len > MAX_MESSAGE_LEN {
            return Err(EnvelopeError::MessageTooLong);
        }
        if others.saturating_add(len) > MAX_BUFFERED_LEN {
            return Err(EnvelopeError::RoomBufferFull);
        }
        partial.bytes.extend_from_slice(&fragment);
        partial.next += 1;
        if partial.next == partial.parts {
            return Ok(Some(partial.bytes));
        }
        self.partial = Some(partial);
        Ok(None)
    }
}
