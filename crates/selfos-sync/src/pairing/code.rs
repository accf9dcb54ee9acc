//! The one-time code a user reads on one device and types on the other: `7-guitar-reveal`.
//!
//! The number (the *nameplate*) only picks the rendezvous room, so it may be public; the whole
//! text, number included, is the PAKE password. Two words from the 2,048-word BIP-39 English list
//! give 22 bits: enough for a code that allows one online guess and then expires.

use std::{fmt, str::FromStr};

use bip39::Language;
use ed25519_dalek::SigningKey;
use hkdf::Hkdf;
use selfos_vault::EntropyError;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::random;

/// The HKDF label of the rendezvous room's signing seed.
const ROOM_SEED_LABEL: &[u8] = b"selfos/v2/pairing-room-ed25519-seed";

/// The largest nameplate; nameplates run from 1.
pub const MAX_NAMEPLATE: u16 = 9999;

/// How many words follow the nameplate.
const WORDS: usize = 2;

/// A pairing code: a nameplate from 1 to [`MAX_NAMEPLATE`] and two words of the BIP-39 English
/// list. It is a secret until the pairing ends: it zeroizes on drop and its `Debug` shows the
/// nameplate only. `Display` writes the whole code, for showing it to the user.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct PairingCode {
    nameplate: u16,
    /// Indexes into the word list.
    words: [u16; WORDS],
}

/// Why a text is not a pairing code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PairingCodeError {
    /// Not a number and two words joined by dashes.
    #[error("a pairing code looks like 7-guitar-reveal: a number, then two words, with dashes")]
    Form,
    /// The number is 0 or above [`MAX_NAMEPLATE`].
    #[error("the number of a pairing code is from 1 to {MAX_NAMEPLATE}")]
    NameplateOutOfRange,
    /// A word that is not in the list codes are made from (a typo, most likely). The word is
    /// not a secret: no code holds it.
    #[error("the word {0:?} is not in the word list")]
    UnknownWord(String),
}

impl PairingCode {
    /// A fresh code from the operating system's random number generator: every nameplate and
    /// every word equally likely.
    pub fn generate() -> Result<Self, EntropyError> {
        // 65,535 is not a multiple of 9,999: values from the last partial run are drawn again
        // so that no nameplate is more likely than another.
        let limit = u16::MAX - u16::MAX % MAX_NAMEPLATE;
        let nameplate = loop {
            let n = u16::from_be_bytes(random::bytes()?);
            if n < limit {
                break n % MAX_NAMEPLATE + 1;
            }
        };
        let mut words = [0u16; WORDS];
        for word in &mut words {
            // The list has 2^11 words: the low 11 bits are a uniform index.
            *word = u16::from_be_bytes(random::bytes()?) & 0x07ff;
        }
        Ok(Self { nameplate, words })
    }

    /// The public part: it names the rendezvous room.
    pub fn nameplate(&self) -> u16 {
        self.nameplate
    }

    /// The key of the rendezvous room both devices join: its seed is HKDF-SHA256 of the
    /// nameplate in ASCII digits, so anyone who knows the number can join the room. That is
    /// harmless: the PAKE, keyed by the whole code, protects what passes through it.
    pub fn rendezvous_key(&self) -> SigningKey {
        let digits = self.nameplate.to_string();
        let mut seed = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit of 8,160: expand cannot fail.
        let _ = Hkdf::<Sha256>::new(None, digits.as_bytes()).expand(ROOM_SEED_LABEL, &mut *seed);
        SigningKey::from_bytes(&seed)
    }

    /// The whole code as text, the PAKE password.
    pub(crate) fn secret_text(&self) -> Zeroizing<String> {
        Zeroizing::new(self.to_string())
    }
}

impl fmt::Display for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = Language::English.word_list();
        write!(f, "{}", self.nameplate)?;
        for &word in &self.words {
            write!(f, "-{}", list[usize::from(word)])?;
        }
        Ok(())
    }
}

impl fmt::Debug for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PairingCode({}-..)", self.nameplate)
    }
}

impl FromStr for PairingCode {
    type Err = PairingCodeError;

    /// Reads a code as a user types it: surrounding white space and letter case do not matter.
    fn from_str(text: &str) -> Result<Self, PairingCodeError> {
        let text = Zeroizing::new(text.trim().to_ascii_lowercase());
        let mut parts = text.split('-');
        let (Some(number), Some(first), Some(second), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(PairingCodeError::Form);
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PairingCodeError::Form);
        }
        let nameplate = number
            .parse::<u16>()
            .ok()
            .filter(|n| (1..=MAX_NAMEPLATE).contains(n))
            .ok_or(PairingCodeError::NameplateOutOfRange)?;
        let word = |w: &str| {
            if w.is_empty() {
                return Err(PairingCodeError::Form);
            }
            Language::English
                .find_word(w)
                .ok_or_else(|| PairingCodeError::UnknownWord(w.to_owned()))
        };
        Ok(Self {
            nameplate,
            words: [word(first)?, word(second)?],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_it_displays_and_forgives_case_and_space() {
        let code: PairingCode = "  7-Guitar-REVEAL\n".parse().unwrap();
        assert_eq!(code.nameplate(), 7);
        assert_eq!(code.to_string(), "7-guitar-reveal");
        assert_eq!(
            code.to_string().parse::<PairingCode>().unwrap().words,
            code.words
        );
        let code: PairingCode = "9999-abandon-zoo".parse().unwrap();
        assert_eq!(code.to_string(), "9999-abandon-zoo");
    }

    #[test]
    fn refuses_what_is_not_a_code() {
        use PairingCodeError::*;
        let refused = |text: &str| text.parse::<PairingCode>().map(|_| ()).unwrap_err();
        for (text, err) in [
            ("", Form),
            ("7-guitar", Form),
            ("7-guitar-reveal-zoo", Form),
            ("guitar-7-revenge", Form),
            ("+7-guitar-reveal", Form),
            ("7--revenge", Form),
            ("7 guitar revenge", Form),
            ("0-guitar-reveal", NameplateOutOfRange),
            ("10000-guitar-reveal", NameplateOutOfRange),
            ("99999999999-guitar-reveal", NameplateOutOfRange),
            ("7-guitar-revenje", UnknownWord("revenje".into())),
        ] {
            assert_eq!(refused(text), err, "{text:?}");
        }
        assert_eq!(
            refused("7-guitar-revenje").to_string(),
            "the word \"revenje\" is not in the word list"
        );
    }

    #[test]
    fn debug_shows_the_nameplate_only() {
        let code: PairingCode = "42-guitar-reveal".parse().unwrap();
        let shown = format!("{code:?}");
        assert_eq!(shown, "PairingCode(42-..)");
        assert!(!shown.contains("guitar") && !shown.contains("reveal"));
    }

    #[test]
    fn generated_codes_are_in_range_and_differ() {
        let codes: Vec<PairingCode> = (0..200).map(|_| PairingCode::generate().unwrap()).collect();
        for code in &codes {
            assert!((1..=MAX_NAMEPLATE).contains(&code.nameplate()));
            let again: PairingCode = code.to_string().parse().unwrap();
            assert_eq!((again.nameplate, again.words), (code.nameplate, code.words));
        }
        // 200 draws of 22 + 13 bits: a repeat would mean the randomness is broken.
        let distinct: std::collections::BTreeSet<String> =
            codes.iter().map(ToString::to_string).collect();
        assert_eq!(distinct.len(), codes.len());
        // Every word position uses both halves of the list.
        assert!(
            codes.iter().any(|c| c.words[0] >= 1024) && codes.iter().any(|c| c.words[0] < 1024)
        );
    }

    #[test]
    fn the_rendezvous_room_depends_on_the_nameplate_only() {
        let room = |text: &str| {
            let code: PairingCode = text.parse().unwrap();
            let id = code.rendezvous_key().verifying_key().to_bytes();
            id.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        assert_eq!(room("7-guitar-reveal"), room("7-abandon-zoo"));
        assert_ne!(room("7-guitar-reveal"), room("8-guitar-reveal"));
        // PROTOCOL.md's worked example.
        assert_eq!(
            room("7-guitar-reveal"),
            "814e9c781652bad07d2dc8248b7dead3cfcef2f42e25881d7e757f30b5211088"
        );
    }

    #[test]
    fn the_word_list_is_bip39_english() {
        let list = Language::English.word_list();
        assert_eq!(list.len(), 2048);
        assert_eq!((list[0], list[2047]), ("abandon", "zoo"));
    }
}
