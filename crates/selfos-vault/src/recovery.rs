//! The vault secret as a user holds it: a recovery kit of 24 words.
//!
//! The words are BIP-39's English list: 24 words carry the 256-bit secret and an 8-bit
//! checksum, so a mistyped or missing word is caught before any use. The kit is the one secret
//! of the vault: whoever holds it can restore a device of the vault and read everything.

use std::fmt;

use bip39::{Language, Mnemonic};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::{
    error::CreateError,
    ids::VaultId,
    keys::{SecretKey, VaultKeys},
};

/// The first line of a printed kit. Lines starting with `#` are comments to the parser.
const TITLE: &str = "# SelfOS recovery kit, format 2";

/// How many words a kit has.
pub const RECOVERY_WORDS: usize = 24;

/// Why text is not a recovery kit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecoveryKitError {
    /// Not 24 words.
    #[error("a recovery kit has {RECOVERY_WORDS} words; this one has {found}")]
    WordCount {
        /// Words found.
        found: usize,
    },
    /// A word is not in the list.
    #[error("word {position} of the recovery kit ({word:?}) is not in its word list")]
    UnknownWord {
        /// 1-based position.
        position: usize,
        /// The word as given.
        word: String,
    },
    /// Every word is known but the checksum does not match: a word is wrong or out of place.
    #[error("the recovery kit's checksum does not match: a word is mistyped or out of place")]
    Checksum,
}

/// The vault secret: every key the vault's devices share derives from it. Zeroized on drop;
/// never printed (its [`VaultSecret::recovery_kit`] is for the user's eyes only).
#[derive(Clone)]
pub struct VaultSecret(pub(crate) SecretKey);

impl fmt::Debug for VaultSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultSecret(..)")
    }
}

impl VaultSecret {
    /// The id of the vault this secret belongs to (derived from it; public).
    pub fn vault_id(&self) -> Result<VaultId, CreateError> {
        Ok(VaultKeys::from_secret(self.0.clone())?.vault)
    }

    /// The secret's 32 bytes, to send through a pairing channel. Secret.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(*self.0.expose())
    }

    /// Takes the secret out of `bytes`, zeroizing them.
    pub fn from_bytes(bytes: &mut [u8; 32]) -> Self {
        Self(SecretKey::from_bytes(bytes))
    }

    /// The recovery kit: a comment line, then the 24 words in four lines of six.
    ///
    /// BIP-39: the 256 bits and the first byte of their SHA-256 make 264 bits, read 11 at a time,
    /// most significant first, each an index into the word list.
    pub fn recovery_kit(&self) -> Zeroizing<String> {
        let mut bits = Zeroizing::new([0u8; 33]);
        bits[..32].copy_from_slice(self.0.expose());
        bits[32] = Sha256::digest(self.0.expose())[0];
        let list = Language::English.word_list();
        let mut out = Zeroizing::new(String::with_capacity(256));
        out.push_str(TITLE);
        out.push_str(": keep it offline; it unlocks the whole vault\n");
        for i in 0..RECOVERY_WORDS {
            let index = (0..11).fold(0usize, |acc, b| {
                let bit = i * 11 + b;
                (acc << 1) | usize::from((bits[bit / 8] >> (7 - bit % 8)) & 1)
            });
            out.push_str(list[index]);
            out.push(if i % 6 == 5 { '\n' } else { ' ' });
        }
        out
    }

    /// Reads a recovery kit: its 24 words in order, in any case, separated by any white space
    /// or line breaks; `#` comment lines and word numbers (`1.`, `2)`) are skipped.
    pub fn from_recovery_kit(text: &str) -> Result<Self, RecoveryKitError> {
        let mut words: Vec<Zeroizing<String>> = text
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .flat_map(str::split_whitespace)
            .filter(|w| {
                !w.trim_end_matches(['.', ')'])
                    .chars()
                    .all(|c| c.is_ascii_digit())
            })
            .map(|w| Zeroizing::new(w.to_lowercase()))
            .collect();
        if words.len() != RECOVERY_WORDS {
            return Err(RecoveryKitError::WordCount { found: words.len() });
        }
        if let Some((i, word)) = words
            .iter()
            .enumerate()
            .find(|(_, w)| Language::English.find_word(w).is_none())
        {
            return Err(RecoveryKitError::UnknownWord {
                position: i + 1,
                word: word.to_string(),
            });
        }
        let joined = Zeroizing::new(
            words
                .iter()
                .map(|w| w.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        );
        words.zeroize();
        let mut mnemonic = Mnemonic::parse_in_normalized(Language::English, &joined)
            .map_err(|_| RecoveryKitError::Checksum)?;
        let (mut entropy, len) = mnemonic.to_entropy_array();
        mnemonic.zeroize();
        debug_assert_eq!(len, 32);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&entropy[..32]);
        entropy.zeroize();
        Ok(Self::from_bytes(&mut bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> VaultSecret {
        VaultSecret::from_bytes(&mut [0x5a; 32])
    }

    #[test]
    fn round_trips_and_tolerates_how_people_copy() {
        let kit = secret().recovery_kit();
        assert!(kit.starts_with(TITLE));
        let back = VaultSecret::from_recovery_kit(&kit).unwrap();
        assert!(back.0.same_as(&secret().0));
        let words: Vec<&str> = kit
            .lines()
            .skip(1)
            .flat_map(str::split_whitespace)
            .collect();
        assert_eq!(words.len(), RECOVERY_WORDS);
        let numbered: String = words
            .iter()
            .enumerate()
            .map(|(i, w)| format!("{}. {}\n", i + 1, w.to_uppercase()))
            .collect();
        let back = VaultSecret::from_recovery_kit(&numbered).unwrap();
        assert!(back.0.same_as(&secret().0));
    }

    #[test]
    fn every_mistake_is_named() {
        let kit = secret().recovery_kit();
        let words: Vec<&str> = kit
            .lines()
            .skip(1)
            .flat_map(str::split_whitespace)
            .collect();
        assert_eq!(
            VaultSecret::from_recovery_kit(&words[..23].join(" ")).unwrap_err(),
            RecoveryKitError::WordCount { found: 23 }
        );
        let mut typo = words.clone();
        typo[4] = "zebraa";
        assert_eq!(
            VaultSecret::from_recovery_kit(&typo.join(" ")).unwrap_err(),
            RecoveryKitError::UnknownWord {
                position: 5,
                word: "zebraa".into()
            }
        );
        let mut swapped = words.clone();
        swapped.swap(0, 1);
        if swapped != words {
            assert_eq!(
                VaultSecret::from_recovery_kit(&swapped.join(" ")).unwrap_err(),
                RecoveryKitError::Checksum
            );
        }
        let mut wrong = words.clone();
        wrong[23] = if words[23] == "zoo" { "abandon" } else { "zoo" };
        assert_eq!(
            VaultSecret::from_recovery_kit(&wrong.join(" ")).unwrap_err(),
            RecoveryKitError::Checksum
        );
    }

    /// The words are BIP-39's, checked against the crate that parses them (and against the
    /// standard's first test vector: 32 zero bytes are 23 × "abandon" then "art").
    #[test]
    fn the_words_are_bip39s() {
        let zero = VaultSecret::from_bytes(&mut [0; 32]).recovery_kit();
        let words: Vec<&str> = zero
            .lines()
            .skip(1)
            .flat_map(str::split_whitespace)
            .collect();
        assert_eq!(words[..23], ["abandon"; 23]);
        assert_eq!(words[23], "art");
        for byte in [0x5a, 0xff, 0x01] {
            let kit = VaultSecret::from_bytes(&mut [byte; 32]).recovery_kit();
            let ours: Vec<&str> = kit
                .lines()
                .skip(1)
                .flat_map(str::split_whitespace)
                .collect();
            let theirs = Mnemonic::from_entropy_in(Language::English, &[byte; 32]).unwrap();
            assert_eq!(ours, theirs.words().collect::<Vec<_>>());
        }
    }

    #[test]
    fn never_printed_by_debug() {
        let printed = format!("{:?}", secret());
        assert_eq!(printed, "VaultSecret(..)");
    }
}
