//! The join handshake: the relay challenges, the client proves it holds the room's signing key.
//!
//! 1. The relay sends a [`Challenge`]: its own audience, its clock, a fresh [`Nonce`].
//! 2. The client checks the audience is the relay it meant to reach and answers with a [`Join`]
//!    made by [`sign_join`]: room id, peer id, and an Ed25519 signature over a domain-separated
//!    encoding of challenge, room and peer ([`JOIN_CONTEXT`]).
//! 3. The relay calls [`verify_join`] with the challenge it sent on this connection. On success it
//!    puts the connection in the room; either way it then forgets the challenge. Nothing outlives
//!    the connection.
//!
//! The nonce binds the signature to one connection, the audience to one relay and the timestamp
//! bounds how long a challenge stays answerable.

use core::{fmt, str::FromStr};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::{IdError, Nonce, PeerId, RoomId, limits::MAX_AUDIENCE_LEN};

/// The prefix of every signed join message, NUL included, so a join signature can never be taken
/// for a signature of anything else made with the room key.
pub const JOIN_CONTEXT: &[u8] = b"selfos/join/v1\0";

/// Length of an Ed25519 signature in bytes.
pub const SIGNATURE_LEN: usize = 64;

/// Why a string is not a valid [`Audience`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AudienceError {
    /// The audience is empty.
    #[error("audience is empty")]
    Empty,
    /// The audience is longer than [`MAX_AUDIENCE_LEN`] bytes.
    #[error("audience is {len} bytes, more than {MAX_AUDIENCE_LEN}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The audience holds a byte outside printable ASCII (`0x21..=0x7e`): no spaces, no
    /// control characters, no Unicode, so every implementation compares it byte for byte alike.
    #[error("audience holds a byte outside printable ASCII")]
    InvalidByte,
}

/// Who a challenge is for: the relay's public origin as clients are configured with it, for
/// example `wss://relay.example.org`. 1 to 255 bytes of printable ASCII.
///
/// Signing it stops a malicious relay from passing another relay's challenge to a client and
/// joining the other relay's room in the client's name.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Audience(String);

impl Audience {
    /// The audience text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn check(bytes: &[u8]) -> Result<(), AudienceError> {
        if bytes.is_empty() {
            return Err(AudienceError::Empty);
        }
        if bytes.len() > MAX_AUDIENCE_LEN {
            return Err(AudienceError::TooLong { len: bytes.len() });
        }
        if !bytes.iter().all(|b| (0x21..=0x7e).contains(b)) {
            return Err(AudienceError::InvalidByte);
        }
        Ok(())
    }
}

impl TryFrom<&[u8]> for Audience {
    type Error = AudienceError;

    fn try_from(bytes: &[u8]) -> Result<Self, AudienceError> {
        Self::check(bytes)?;
        let text = core::str::from_utf8(bytes).map_err(|_| AudienceError::InvalidByte)?;
        Ok(Self(text.to_owned()))
    }
}

impl TryFrom<String> for Audience {
    type Error = AudienceError;

    fn try_from(text: String) -> Result<Self, AudienceError> {
        Self::check(text.as_bytes())?;
        Ok(Self(text))
    }
}

impl FromStr for Audience {
    type Err = AudienceError;

    fn from_str(text: &str) -> Result<Self, AudienceError> {
        Self::try_from(text.as_bytes())
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Audience({:?})", self.0)
    }
}

/// The relay's first frame on a new connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Challenge {
    /// The relay that sends it, as clients know it.
    pub audience: Audience,
    /// The relay's clock when it sent the challenge, in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// A fresh random value, new for every connection.
    pub nonce: Nonce,
}

impl Challenge {
    /// A challenge. The caller supplies the time and a nonce drawn from a CSPRNG: this crate reads
    /// no clock and no randomness.
    pub fn new(audience: Audience, timestamp_ms: u64, nonce: Nonce) -> Self {
        Self {
            audience,
            timestamp_ms,
            nonce,
        }
    }
}

/// The client's answer to a [`Challenge`]: which room, as which peer, and the proof.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Join {
    /// The room to join: the public half of the key that made `signature`.
    pub room: RoomId,
    /// The peer id the client will be known by in the room.
    pub peer: PeerId,
    /// Ed25519 signature by the room key over the join message (see `PROTOCOL.md`).
    pub signature: [u8; SIGNATURE_LEN],
}

/// Why a join was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The challenge names another relay than the one expected.
    #[error("challenge is for another audience")]
    WrongAudience,
    /// The challenge is older than the allowed window.
    #[error("challenge expired {age_ms} ms after it was issued")]
    ChallengeExpired {
        /// How old the challenge is.
        age_ms: u64,
    },
    /// The challenge's timestamp is further in the future than the allowed window (the relay's
    /// clock went backwards).
    #[error("challenge is dated {ahead_ms} ms in the future")]
    ChallengeFromFuture {
        /// How far ahead of now the timestamp is.
        ahead_ms: u64,
    },
    /// The signature does not verify, strictly, under the room key for this challenge, room and
    /// peer. A signature made for another challenge (another nonce) lands here too.
    #[error("join signature does not verify")]
    BadSignature,
    /// The signing key's public half is not a usable room id.
    #[error("signing key does not make a valid room id")]
    InvalidRoomKey(#[source] IdError),
}

impl Challenge {
    /// Length of the challenge's fields as encoded in a frame and in the join message.
    pub(crate) fn fields_len(&self) -> usize {
        2 + self.audience.as_str().len() + 8 + Nonce::LEN
    }

    /// Appends the fields: audience (u16 big-endian length, then its bytes), timestamp (u64
    /// big-endian), nonce. The `Challenge` frame and the join message share this encoding.
    pub(crate) fn write_fields(&self, buf: &mut Vec<u8>) {
        let audience = self.audience.as_str().as_bytes();
        // An audience is at most MAX_AUDIENCE_LEN (255) bytes, so its length fits a u16.
        buf.extend_from_slice(&(audience.len() as u16).to_be_bytes());
        buf.extend_from_slice(audience);
        buf.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        buf.extend_from_slice(self.nonce.as_bytes());
    }
}

/// The bytes the room key signs: [`JOIN_CONTEXT`], the challenge's fields as a `Challenge` frame
/// encodes them, the room id and the peer id.
fn join_message(challenge: &Challenge, room: &RoomId, peer: &PeerId) -> Vec<u8> {
    let mut msg =
        Vec::with_capacity(JOIN_CONTEXT.len() + challenge.fields_len() + RoomId::LEN + PeerId::LEN);
    msg.extend_from_slice(JOIN_CONTEXT);
    challenge.write_fields(&mut msg);
    msg.extend_from_slice(room.as_bytes());
    msg.extend_from_slice(peer.as_bytes());
    msg
}

/// Client side: answers `challenge` for the room whose signing key is `room_key`, as `peer`.
///
/// Fails with [`HandshakeError::WrongAudience`] unless the challenge names `expected_audience`,
/// the relay this client meant to connect to. The key is only borrowed; the caller owns it and
/// zeroizes it (`SigningKey` does so on drop).
pub fn sign_join(
    challenge: &Challenge,
    expected_audience: &Audience,
    room_key: &SigningKey,
    peer: PeerId,
) -> Result<Join, HandshakeError> {
    if challenge.audience != *expected_audience {
        return Err(HandshakeError::WrongAudience);
    }
    let room =
        RoomId::try_from(room_key.verifying_key()).map_err(HandshakeError::InvalidRoomKey)?;
    let signature = room_key.sign(&join_message(challenge, &room, &peer));
    Ok(Join {
        room,
        peer,
        signature: signature.to_bytes(),
    })
}

/// Relay side: checks `join` against `challenge_sent`, the challenge this connection was sent.
///
/// Checks that the challenge names `expected_audience`, that `now_ms` is within `max_skew_ms` of
/// its timestamp (either way), and that the signature verifies strictly under the room key over
/// this challenge's nonce, the room and the peer. Returns who joined. The relay keeps neither the
/// challenge nor the signature afterwards.
pub fn verify_join(
    challenge_sent: &Challenge,
    join: &Join,
    expected_audience: &Audience,
    now_ms: u64,
    max_skew_ms: u64,
) -> Result<(RoomId, PeerId), HandshakeError> {
    if challenge_sent.audience != *expected_audience {
        return Err(HandshakeError::WrongAudience);
    }
    let issued = challenge_sent.timestamp_ms;
    if now_ms > issued && now_ms - issued > max_skew_ms {
        return Err(HandshakeError::ChallengeExpired {
            age_ms: now_ms - issued,
        });
    }
    if issued > now_ms && issued - now_ms > max_skew_ms {
        return Err(HandshakeError::ChallengeFromFuture {
            ahead_ms: issued - now_ms,
        });
    }
    let message = join_message(challenge_sent, &join.room, &join.peer);
    // A `RoomId` is always a valid key, so `from_bytes` does not fail here.
    VerifyingKey::from_bytes(join.room.as_bytes())
        .and_then(|key| key.verify_strict(&message, &Signature::from_bytes(&join.signature)))
        .map_err(|_| HandshakeError::BadSignature)?;
    Ok((join.room, join.peer))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const NOW: u64 = 1_700_000_000_000;
    const SKEW: u64 = 30_000;

    fn audience() -> Audience {
        "wss://relay.example.org".parse().unwrap()
    }

    fn challenge(nonce: u8) -> Challenge {
        Challenge::new(audience(), NOW, Nonce::from_bytes([nonce; 32]))
    }

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn peer() -> PeerId {
        PeerId::from_bytes([9; 16])
    }

    #[test]
    fn valid_join_is_accepted() {
        let ch = challenge(1);
        let join = sign_join(&ch, &audience(), &key(1), peer()).unwrap();
        let room = RoomId::try_from(key(1).verifying_key()).unwrap();
        assert_eq!(join.room, room);
        assert_eq!(
            verify_join(&ch, &join, &audience(), NOW + 5, SKEW),
            Ok((room, peer()))
        );
        // The edges of the window are inside it.
        assert!(verify_join(&ch, &join, &audience(), NOW + SKEW, SKEW).is_ok());
        assert!(verify_join(&ch, &join, &audience(), NOW - SKEW, SKEW).is_ok());
    }

    #[test]
    fn client_refuses_a_challenge_for_another_relay() {
        let ch = Challenge::new(
            "wss://evil.example".parse().unwrap(),
            NOW,
            Nonce::from_bytes([1; 32]),
        );
        assert_eq!(
            sign_join(&ch, &audience(), &key(1), peer()),
            Err(HandshakeError::WrongAudience)
        );
    }

    #[test]
    fn relay_refuses_wrong_audience() {
        let ch = challenge(1);
        let join = sign_join(&ch, &audience(), &key(1), peer()).unwrap();
        let other: Audience = "wss://other.example.org".parse().unwrap();
        assert_eq!(
            verify_join(&ch, &join, &other, NOW, SKEW),
            Err(HandshakeError::WrongAudience)
        );
    }

    #[test]
    fn signature_over_another_audience_is_rejected() {
        // The client signed for relay B; relay A presents the join against its own challenge.
        let other: Audience = "wss://other.example.org".parse().unwrap();
        let theirs = Challenge::new(other.clone(), NOW, Nonce::from_bytes([1; 32]));
        let join = sign_join(&theirs, &other, &key(1), peer()).unwrap();
        assert_eq!(
            verify_join(&challenge(1), &join, &audience(), NOW, SKEW),
            Err(HandshakeError::BadSignature)
        );
    }

    #[test]
    fn wrong_key_is_rejected() {
        let ch = challenge(1);
        let mut join = sign_join(&ch, &audience(), &key(2), peer()).unwrap();
        // Claims room 1 with a signature by key 2.
        join.room = RoomId::try_from(key(1).verifying_key()).unwrap();
        assert_eq!(
            verify_join(&ch, &join, &audience(), NOW, SKEW),
            Err(HandshakeError::BadSignature)
        );
    }

    #[test]
    fn wrong_room_is_rejected() {
        // A valid signature by room 1's key cannot be moved to room 2, nor to another peer id.
        let ch = challenge(1);
        let join = sign_join(&ch, &audience(), &key(1), peer()).unwrap();
        let moved = Join {
            room: RoomId::try_from(key(2).verifying_key()).unwrap(),
            ..join.clone()
        };
        assert_eq!(
            verify_join(&ch, &moved, &audience(), NOW, SKEW),
            Err(HandshakeError::BadSignature)
        );
        let renamed = Join {
            peer: PeerId::from_bytes([8; 16]),
            ..join
        };
        assert_eq!(
            verify_join(&ch, &renamed, &audience(), NOW, SKEW),
            Err(HandshakeError::BadSignature)
        );
    }

    #[test]
    fn stale_challenge_is_rejected() {
        let ch = challenge(1);
        let join = sign_join(&ch, &audience(), &key(1), peer()).unwrap();
        assert_eq!(
            verify_join(&ch, &join, &audience(), NOW + SKEW + 1, SKEW),
            Err(HandshakeError::ChallengeExpired { age_ms: SKEW + 1 })
        );
    }

    #[test]
    fn future_challenge_is_rejected() {
        let ch = challenge(1);
        let join = sign_join(&ch, &audience(), &key(1), peer()).unwrap();
        assert_eq!(
            verify_join(&ch, &join, &audience(), NOW - SKEW - 1, SKEW),
            Err(HandshakeError::ChallengeFromFuture { ahead_ms: SKEW + 1 })
        );
    }

    #[test]
    fn signature_replayed_on_another_connection_is_rejected() {
        // Signed for the nonce of connection 1; presented on connection 2 (another nonce).
        let join = sign_join(&challenge(1), &audience(), &key(1), peer()).unwrap();
        assert_eq!(
            verify_join(&challenge(2), &join, &audience(), NOW, SKEW),
            Err(HandshakeError::BadSignature)
        );
        // Same nonce but another timestamp is another challenge too.
        let later = Challenge::new(audience(), NOW + 1, Nonce::from_bytes([1; 32]));
        assert_eq!(
            verify_join(&later, &join, &audience(), NOW, SKEW),
            Err(HandshakeError::BadSignature)
        );
    }

    #[test]
    fn malleated_signature_is_rejected() {
        // s + l (the group order) passes a lax verifier that skips the scalar range check.
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let ch = challenge(1);
        let mut join = sign_join(&ch, &audience(), &key(1), peer()).unwrap();
        let mut carry = 0u16;
        for (i, l) in L.iter().enumerate() {
            let sum = u16::from(join.signature[32 + i]) + u16::from(*l) + carry;
            join.signature[32 + i] = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(
            verify_join(&ch, &join, &audience(), NOW, SKEW),
            Err(HandshakeError::BadSignature)
        );
    }

    #[test]
    fn worked_example_join_message_matches_protocol_md() {
        let ch = Challenge::new(
            audience(),
            1_700_000_000_000,
            Nonce::from_bytes(core::array::from_fn(|i| i as u8)),
        );
        let room = RoomId::try_from(key(0x42).verifying_key()).unwrap();
        let peer: PeerId = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf".parse().unwrap();
        assert_eq!(
            join_message(&ch, &room, &peer),
            crate::spec_examples::protocol_example("<!-- example: join message -->")
        );
    }

    #[test]
    fn audience_validation() {
        assert_eq!("".parse::<Audience>(), Err(AudienceError::Empty));
        assert_eq!(
            "a".repeat(256).parse::<Audience>(),
            Err(AudienceError::TooLong { len: 256 })
        );
        assert!("a".repeat(255).parse::<Audience>().is_ok());
        assert_eq!(
            "relay example".parse::<Audience>(),
            Err(AudienceError::InvalidByte)
        );
        assert_eq!("rélay".parse::<Audience>(), Err(AudienceError::InvalidByte));
        assert_eq!(
            Audience::try_from(String::from("wss://x"))
                .unwrap()
                .to_string(),
            "wss://x"
        );
    }

    proptest! {
        #[test]
        fn any_tampered_signature_bit_is_rejected(seed: [u8; 32], bit in 0usize..SIGNATURE_LEN * 8) {
            let ch = challenge(3);
            let mut join = sign_join(&ch, &audience(), &SigningKey::from_bytes(&seed), peer()).unwrap();
            prop_assert!(verify_join(&ch, &join, &audience(), NOW, SKEW).is_ok());
            join.signature[bit / 8] ^= 1 << (bit % 8);
            prop_assert_eq!(
                verify_join(&ch, &join, &audience(), NOW, SKEW),
                Err(HandshakeError::BadSignature)
            );
        }
    }
}
