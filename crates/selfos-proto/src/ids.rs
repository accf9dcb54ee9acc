//! Identifiers on the wire: [`RoomId`], [`PeerId`], the challenge [`Nonce`] and the store's
//! [`BlobId`].
//!
//! Each one is checked when it is built, from bytes (`TryFrom<&[u8]>`) or from its lowercase hex
//! text form (`FromStr`, printed back by `Display`). Hex accepts either case on input.

use core::{fmt, str::FromStr};

use ed25519_dalek::{PUBLIC_KEY_LENGTH, VerifyingKey};

/// Why bytes or text are not a valid identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The input has the wrong number of bytes (or hex digits, counted as the bytes they encode).
    #[error("expected {expected} bytes, found {found}")]
    WrongLength {
        /// How many bytes this identifier has.
        expected: usize,
        /// How many bytes the input has.
        found: usize,
    },
    /// The text is not hex (a character outside `0-9a-fA-F`).
    #[error("not a hex string")]
    InvalidHex,
    /// The 32 bytes are not the encoding of a point on the Ed25519 curve.
    #[error("not an Ed25519 public key")]
    NotACurvePoint,
    /// The bytes decode to a curve point, but not in its one canonical encoding, so the same key
    /// would have two room ids.
    #[error("not the canonical encoding of an Ed25519 public key")]
    NonCanonical,
    /// The point has small order: it cannot come from a signing key, and a signature under it
    /// proves nothing. Strict verification would reject every signature anyway.
    #[error("weak (small-order) Ed25519 public key")]
    WeakKey,
}

/// Parses hex into exactly `N` bytes.
fn parse_hex<const N: usize>(text: &str) -> Result<[u8; N], IdError> {
    if text.len() != 2 * N {
        return Err(IdError::WrongLength {
            expected: N,
            found: text.len() / 2,
        });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|_| IdError::InvalidHex)?;
    Ok(out)
}

/// Copies a slice into an array of exactly `N` bytes.
fn to_array<const N: usize>(bytes: &[u8]) -> Result<[u8; N], IdError> {
    <[u8; N]>::try_from(bytes).map_err(|_| IdError::WrongLength {
        expected: N,
        found: bytes.len(),
    })
}

/// Writes bytes as lowercase hex.
fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

/// A room: the Ed25519 public key whose signing half every device of one vault derives from the
/// vault's root key.
///
/// The id is self-certifying: whoever can sign a join challenge with the matching private key is a
/// member, so the relay needs no registry of rooms. A `RoomId` always holds the canonical encoding
/// of a curve point that is not of small order. It keeps only the 32 bytes (cheap to copy and to
/// use as a map key); verification decompresses the point again.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId([u8; RoomId::LEN]);

impl RoomId {
    /// Length of a room id in bytes.
    pub const LEN: usize = PUBLIC_KEY_LENGTH;

    /// Checks that `bytes` are a usable Ed25519 public key and wraps them.
    pub fn from_bytes(bytes: &[u8; Self::LEN]) -> Result<Self, IdError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| IdError::NotACurvePoint)?;
        if key.to_edwards().compress().as_bytes() != bytes {
            return Err(IdError::NonCanonical);
        }
        if key.is_weak() {
            return Err(IdError::WeakKey);
        }
        Ok(Self(*bytes))
    }

    /// The 32 bytes of the public key.
    pub const fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

impl TryFrom<VerifyingKey> for RoomId {
    type Error = IdError;

    /// Fails for bytes that [`RoomId::from_bytes`] refuses: in practice never for the public half
    /// of a `SigningKey`.
    fn try_from(key: VerifyingKey) -> Result<Self, IdError> {
        Self::from_bytes(key.as_bytes())
    }
}

impl TryFrom<&[u8]> for RoomId {
    type Error = IdError;

    fn try_from(bytes: &[u8]) -> Result<Self, IdError> {
        Self::from_bytes(&to_array(bytes)?)
    }
}

impl FromStr for RoomId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, IdError> {
        Self::from_bytes(&parse_hex(text)?)
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, self.as_bytes())
    }
}

impl fmt::Debug for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoomId({self})")
    }
}

/// One device's connection identity inside a room: 16 random bytes that the device picks.
///
/// The relay addresses frames by peer id; it learns nothing else about the device.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId([u8; PeerId::LEN]);

impl PeerId {
    /// Length of a peer id in bytes.
    pub const LEN: usize = 16;

    /// Wraps 16 bytes. The caller draws them from a CSPRNG (this crate does no randomness).
    pub const fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes of the id.
    pub const fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

impl TryFrom<&[u8]> for PeerId {
    type Error = IdError;

    fn try_from(bytes: &[u8]) -> Result<Self, IdError> {
        to_array(bytes).map(Self)
    }
}

impl FromStr for PeerId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, IdError> {
        parse_hex(text).map(Self)
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerId({self})")
    }
}

/// The relay's fresh random value in a join challenge, 32 bytes.
///
/// It is public (it travels in clear), so it compares with plain equality.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce([u8; Nonce::LEN]);

impl Nonce {
    /// Length of a nonce in bytes.
    pub const LEN: usize = 32;

    /// Wraps 32 bytes. The relay draws a new value from a CSPRNG for every connection.
    pub const fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes of the nonce.
    pub const fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

impl TryFrom<&[u8]> for Nonce {
    type Error = IdError;

    fn try_from(bytes: &[u8]) -> Result<Self, IdError> {
        to_array(bytes).map(Self)
    }
}

impl FromStr for Nonce {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, IdError> {
        parse_hex(text).map(Self)
    }
}

impl fmt::Display for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({self})")
    }
}

/// A blob in a room's store: the SHA-256 of its sealed bytes, so an upload is idempotent and the
/// relay can check what it receives. Any 32 bytes are a valid id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId([u8; BlobId::LEN]);

impl BlobId {
    /// Length of a blob id in bytes.
    pub const LEN: usize = 32;

    /// Wraps 32 bytes: the SHA-256 of a blob's bytes (this crate does no hashing).
    pub const fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes of the id.
    pub const fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

impl TryFrom<&[u8]> for BlobId {
    type Error = IdError;

    fn try_from(bytes: &[u8]) -> Result<Self, IdError> {
        to_array(bytes).map(Self)
    }
}

impl FromStr for BlobId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, IdError> {
        parse_hex(text).map(Self)
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobId({self})")
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use proptest::prelude::*;

    use super::*;

    fn room_from_seed(seed: [u8; 32]) -> RoomId {
        RoomId::try_from(SigningKey::from_bytes(&seed).verifying_key()).unwrap()
    }

    #[test]
    fn room_id_text_round_trip() {
        let room = room_from_seed([7; 32]);
        let text = room.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text, text.to_lowercase());
        assert_eq!(text.parse::<RoomId>().unwrap(), room);
        assert_eq!(text.to_uppercase().parse::<RoomId>().unwrap(), room);
        assert_eq!(format!("{room:?}"), format!("RoomId({text})"));
    }

    #[test]
    fn room_id_rejects_wrong_lengths_and_bad_hex() {
        assert_eq!(
            RoomId::try_from(&[1u8; 31][..]),
            Err(IdError::WrongLength {
                expected: 32,
                found: 31
            })
        );
        assert_eq!(
            "ab".parse::<RoomId>(),
            Err(IdError::WrongLength {
                expected: 32,
                found: 1
            })
        );
        assert_eq!("zz".repeat(32).parse::<RoomId>(), Err(IdError::InvalidHex));
    }

    #[test]
    fn room_id_rejects_points_off_the_curve() {
        // y = 2 is not the y-coordinate of any Ed25519 point.
        let mut bytes = [0u8; 32];
        bytes[0] = 2;
        assert_eq!(RoomId::from_bytes(&bytes), Err(IdError::NotACurvePoint));
    }

    #[test]
    fn room_id_rejects_small_order_points() {
        // The identity (y = 1) and the point of order 2 (y = -1).
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(RoomId::from_bytes(&identity), Err(IdError::WeakKey));
        let minus_one: [u8; 32] = {
            let mut b = [0xff; 32];
            b[0] = 0xec;
            b[31] = 0x7f;
            b
        };
        assert_eq!(RoomId::from_bytes(&minus_one), Err(IdError::WeakKey));
    }

    #[test]
    fn room_id_rejects_non_canonical_encodings() {
        // y + p for small y encodes the same point as y when that point exists. p = 2^255 - 19.
        let mut found = 0;
        for y in 0u8..19 {
            let mut bytes = [0xff; 32];
            bytes[31] = 0x7f;
            bytes[0] = 0xed + y;
            match RoomId::from_bytes(&bytes) {
                Err(IdError::NonCanonical) => found += 1,
                Err(IdError::NotACurvePoint | IdError::WeakKey) => {}
                other => panic!("y = {y}: accepted non-canonical encoding: {other:?}"),
            }
        }
        assert!(found > 0, "no non-canonical point among the candidates");
    }

    #[test]
    fn peer_id_and_nonce_parse() {
        let peer: PeerId = "000102030405060708090a0b0c0d0e0f".parse().unwrap();
        assert_eq!(peer.as_bytes()[15], 15);
        assert_eq!(
            format!("{peer:?}"),
            "PeerId(000102030405060708090a0b0c0d0e0f)"
        );
        assert_eq!(
            PeerId::try_from(&[0u8; 17][..]),
            Err(IdError::WrongLength {
                expected: 16,
                found: 17
            })
        );
        assert_eq!("0g".repeat(16).parse::<PeerId>(), Err(IdError::InvalidHex));
        let nonce = Nonce::from_bytes([0xab; 32]);
        assert_eq!(nonce.to_string(), "ab".repeat(32));
        assert_eq!(Nonce::try_from(&[0xab; 32][..]), Ok(nonce));
        assert!("ab".repeat(31).parse::<Nonce>().is_err());
    }

    proptest! {
        #[test]
        fn room_ids_from_signing_keys_round_trip(seed: [u8; 32]) {
            let room = room_from_seed(seed);
            prop_assert_eq!(RoomId::try_from(&room.as_bytes()[..]), Ok(room));
            prop_assert_eq!(room.to_string().parse::<RoomId>(), Ok(room));
        }

        #[test]
        fn any_32_bytes_never_panic(bytes: [u8; 32]) {
            if let Ok(room) = RoomId::from_bytes(&bytes) {
                prop_assert_eq!(room.as_bytes(), &bytes);
            }
        }

        #[test]
        fn peer_ids_round_trip(bytes: [u8; 16]) {
            let peer = PeerId::from_bytes(bytes);
            prop_assert_eq!(peer.to_string().parse::<PeerId>(), Ok(peer));
            prop_assert_eq!(PeerId::try_from(&bytes[..]), Ok(peer));
        }
    }
}
