//! The cryptography of one pairing: the SPAKE2 exchange, the keys derived from its result, key
//! confirmation, sealing the payload and acknowledging it.
//!
//! ```text
//! transcript = SHA-256("selfos/v2/pairing/transcript" 00 ‖ offer's PAKE message ‖ accept's)
//! key(label) = HKDF-SHA256(ikm = SPAKE2 key, salt = transcript, info = label)
//! confirm(s) = HMAC-SHA256(key("selfos/v2/pairing/confirm-" s), transcript)
//! ```
//!
//! Each side's confirmation has a key of its own, so a tag cannot be reflected back to its
//! sender; the transcript binds both PAKE messages, so neither can be swapped.

use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use spake2::{Ed25519Group, Identity, Password, Spake2};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{
    PairingCode, PairingError,
    message::{Kind, MAC_LEN, MAGIC, MAX_PAIRING_PAYLOAD_LEN, NONCE_LEN, PAKE_LEN, VERSION},
    random,
};

/// The SPAKE2 identities of the two sides: the asymmetric mode keeps an offer's message from
/// being played back to it as an accept's.
const OFFER_ID: &[u8] = b"selfos/v2/pair/offer";
const ACCEPT_ID: &[u8] = b"selfos/v2/pair/accept";

type HmacSha256 = Hmac<Sha256>;

/// Which end of the pairing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Offer,
    Accept,
}

/// One side's half of the SPAKE2 exchange, before the other half arrives.
pub(super) struct Pake {
    side: Side,
    state: Spake2<Ed25519Group>,
    message: [u8; PAKE_LEN],
}

impl Pake {
    /// Starts the exchange with the whole code text as the password, so the nameplate is
    /// bound too.
    pub(super) fn start(code: &PairingCode, side: Side) -> Result<Self, PairingError> {
        let password = Password::new(code.secret_text().as_bytes());
        let (offer, accept) = (Identity::new(OFFER_ID), Identity::new(ACCEPT_ID));
        let rng = random::rng()?;
        let (state, message) = match side {
            Side::Offer => Spake2::start_a_with_rng(&password, &offer, &accept, rng),
            Side::Accept => Spake2::start_b_with_rng(&password, &offer, &accept, rng),
        };
        let message = message
            .try_into()
            .map_err(|_| PairingError::BadPakeMessage)?;
        Ok(Self {
            side,
            state,
            message,
        })
    }

    /// The message to send to the other side.
    pub(super) fn message(&self) -> [u8; PAKE_LEN] {
        self.message
    }

    /// Completes the exchange with the other side's message and derives the session's keys.
    /// A wrong code is not detected here: it gives different keys on each side, which key
    /// confirmation reveals.
    pub(super) fn finish(self, theirs: &[u8; PAKE_LEN]) -> Result<SessionKeys, PairingError> {
        let (offer_msg, accept_msg) = match self.side {
            Side::Offer => (&self.message, theirs),
            Side::Accept => (theirs, &self.message),
        };
        let transcript = transcript(offer_msg, accept_msg);
        let shared = Zeroizing::new(
            self.state
                .finish(theirs)
                .map_err(|_| PairingError::BadPakeMessage)?,
        );
        Ok(SessionKeys::derive(&shared, transcript))
    }
}

fn transcript(offer_msg: &[u8; PAKE_LEN], accept_msg: &[u8; PAKE_LEN]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"selfos/v2/pairing/transcript\0");
    h.update(offer_msg);
    h.update(accept_msg);
    h.finalize().into()
}

/// The keys of one pairing, all derived from the SPAKE2 key and the transcript.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(super) struct SessionKeys {
    #[zeroize(skip)]
    transcript: [u8; 32],
    confirm_offer: Box<[u8; 32]>,
    confirm_accept: Box<[u8; 32]>,
    payload: Box<[u8; 32]>,
    ack: Box<[u8; 32]>,
}

impl SessionKeys {
    fn derive(shared: &[u8], transcript: [u8; 32]) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(&transcript), shared);
        let key = |label: &[u8]| {
            let mut okm = Box::new([0u8; 32]);
            // 32 bytes is far below HKDF-SHA256's limit of 8,160: expand cannot fail.
            let _ = hk.expand(label, okm.as_mut_slice());
            okm
        };
        Self {
            transcript,
            confirm_offer: key(b"selfos/v2/pairing/confirm-offer"),
            confirm_accept: key(b"selfos/v2/pairing/confirm-accept"),
            payload: key(b"selfos/v2/pairing/payload-xchacha20poly1305"),
            ack: key(b"selfos/v2/pairing/ack"),
        }
    }

    #[allow(clippy::expect_used, reason = "HMAC takes keys of every length")]
    fn mac(key: &[u8; 32]) -> HmacSha256 {
        <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes keys of every length")
    }

    fn confirm_key(&self, side: Side) -> &[u8; 32] {
        match side {
            Side::Offer => &self.confirm_offer,
            Side::Accept => &self.confirm_accept,
        }
    }

    /// The key confirmation `side` sends.
    pub(super) fn confirmation(&self, side: Side) -> [u8; MAC_LEN] {
        let mut mac = Self::mac(self.confirm_key(side));
        mac.update(&self.transcript);
        mac.finalize().into_bytes().into()
    }

    /// Checks the confirmation `side` sent, in constant time.
    pub(super) fn check_confirmation(
        &self,
        side: Side,
        tag: &[u8; MAC_LEN],
    ) -> Result<(), PairingError> {
        let mut mac = Self::mac(self.confirm_key(side));
        mac.update(&self.transcript);
        mac.verify_slice(tag).map_err(|_| PairingError::WrongCode)
    }

    fn aad(&self) -> Vec<u8> {
        [&MAGIC[..], &[VERSION, Kind::Sealed as u8], &self.transcript].concat()
    }

    /// Encrypts the payload under a fresh random nonce; returns the nonce and the ciphertext.
    pub(super) fn seal(&self, payload: &[u8]) -> Result<([u8; NONCE_LEN], Vec<u8>), PairingError> {
        if payload.len() > MAX_PAIRING_PAYLOAD_LEN {
            return Err(PairingError::PayloadTooLarge(payload.len()));
        }
        let nonce = random::bytes::<NONCE_LEN>()?;
        let cipher = XChaCha20Poly1305::new((&*self.payload).into());
        let aad = self.aad();
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: payload,
                    aad: &aad,
                },
            )
            .map_err(|_| PairingError::PayloadTooLarge(payload.len()))?;
        Ok((nonce, ciphertext))
    }

    /// Decrypts a sealed payload.
    pub(super) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, PairingError> {
        let cipher = XChaCha20Poly1305::new((&*self.payload).into());
        let aad = self.aad();
        cipher
            .decrypt(
                &XNonce::from(*nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| PairingError::PayloadRejected)
    }

    fn ack_mac(&self, nonce: &[u8; NONCE_LEN], ciphertext: &[u8]) -> HmacSha256 {
        let mut mac = Self::mac(&self.ack);
        mac.update(&self.transcript);
        mac.update(nonce);
        mac.update(ciphertext);
        mac
    }

    /// The acknowledgement of one sealed payload: proves it reached the holder of the keys.
    pub(super) fn ack(&self, nonce: &[u8; NONCE_LEN], ciphertext: &[u8]) -> [u8; MAC_LEN] {
        self.ack_mac(nonce, ciphertext)
            .finalize()
            .into_bytes()
            .into()
    }

    /// Checks an acknowledgement, in constant time.
    pub(super) fn check_ack(
        &self,
        nonce: &[u8; NONCE_LEN],
        ciphertext: &[u8],
        tag: &[u8; MAC_LEN],
    ) -> Result<(), PairingError> {
        self.ack_mac(nonce, ciphertext)
            .verify_slice(tag)
            .map_err(|_| PairingError::AckRejected)
    }
}
