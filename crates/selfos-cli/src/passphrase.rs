//! Where the passphrase comes from: `--passphrase-file`, `SELFOS_PASSPHRASE`, or a prompt (and
//! a new one, for `selfos passphrase`: `--new-passphrase-file`, `SELFOS_NEW_PASSPHRASE`, or a
//! prompt).
//!
//! The passphrase goes straight into a [`Passphrase`], which zeroizes it on drop; it is never
//! printed, logged or put into an error message.

use std::path::Path;

use anyhow::Context as _;
use selfos::vault::Passphrase;

use crate::exit::{Failure, USAGE};

/// The environment variable that holds the passphrase.
const ENV: &str = "SELFOS_PASSPHRASE";
/// The environment variable that holds the new passphrase of `selfos passphrase`.
const ENV_NEW: &str = "SELFOS_NEW_PASSPHRASE";

/// Whether a prompted passphrase is asked once or twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prompt {
    /// The vault will check it (opening an existing replica).
    Once,
    /// Nothing can check it yet (init, join): ask twice so a typo is caught.
    Confirm,
}

/// Reads the passphrase from the first source that is set.
pub(crate) fn read(file: Option<&Path>, prompt: Prompt) -> anyhow::Result<Passphrase> {
    read_from(file, ENV, "Passphrase", prompt)
}

/// Reads the new passphrase of `selfos passphrase`, asked twice on a prompt.
pub(crate) fn read_new(file: Option<&Path>) -> anyhow::Result<Passphrase> {
    read_from(file, ENV_NEW, "New passphrase", Prompt::Confirm)
}

fn read_from(
    file: Option<&Path>,
    env: &str,
    label: &str,
    prompt: Prompt,
) -> anyhow::Result<Passphrase> {
    if let Some(path) = file {
        return from_file(path);
    }
    if let Some(value) = std::env::var_os(env) {
        let value = value
            .into_string()
            .map_err(|_| Failure::new(USAGE, format!("{env} is not valid UTF-8")))?;
        return Ok(Passphrase::new(value));
    }
    from_prompt(label, prompt)
}

fn from_file(path: &Path) -> anyhow::Result<Passphrase> {
    let mut text = std::fs::read_to_string(path).map_err(|e| {
        Failure::new(
            USAGE,
            format!("cannot read the passphrase file {}: {e}", path.display()),
        )
    })?;
    // Keep the first line, in place, so no other copy of the passphrase is made.
    let end = text.find(['\n', '\r']).unwrap_or(text.len());
    text.truncate(end);
    Ok(Passphrase::new(text))
}

fn from_prompt(label: &str, prompt: Prompt) -> anyhow::Result<Passphrase> {
    let no_tty = |e: std::io::Error| {
        Failure::new(
            USAGE,
            format!(
                "no passphrase given and no terminal to ask on ({e}): use --passphrase-file or {ENV}"
            ),
        )
    };
    let first = rpassword::prompt_password(format!("{label}: ")).map_err(no_tty)?;
    if prompt == Prompt::Confirm {
        let second = rpassword::prompt_password(format!("{label} again: "))
            .map_err(no_tty)
            .context("confirming the passphrase")?;
        let same = first == second;
        // Wrapped only so that it is zeroized when dropped.
        drop(Passphrase::new(second));
        if !same {
            drop(Passphrase::new(first));
            return Err(Failure::new(USAGE, "the two passphrases differ").into());
        }
    }
    Ok(Passphrase::new(first))
}

/// How many words a generated passphrase has: 7 × 11 bits = 77 bits, beyond any offline guessing
/// at Argon2id's cost.
pub(crate) const GENERATED_WORDS: usize = 7;

/// A new passphrase of [`GENERATED_WORDS`] words drawn uniformly from BIP-39's English list (2048
/// words, so 11 random bits pick one without bias).
pub(crate) fn generate() -> anyhow::Result<Passphrase> {
    let list = bip39::Language::English.word_list();
    let mut words = Vec::with_capacity(GENERATED_WORDS);
    for _ in 0..GENERATED_WORDS {
        let n = getrandom::u32().map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        words.push(list[(n & 0x7ff) as usize]);
    }
    Ok(Passphrase::new(words.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passphrases_are_words_from_the_list_and_differ() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        let words: Vec<&str> = a.expose().split(' ').collect();
        assert_eq!(words.len(), GENERATED_WORDS);
        let list = bip39::Language::English.word_list();
        assert!(words.iter().all(|w| list.contains(w)), "{words:?}");
        assert_ne!(a.expose(), b.expose(), "77 random bits repeat once in 2^77");
        crate::strength::check(&a).expect("a generated passphrase is strong");
    }
}
