//! How strong a new passphrase must be.
//!
//! The passphrase guards this device's copy of the vault secret: a thief with the folder can
//! try guesses offline at Argon2id's cost, so a guessable one is refused with zxcvbn's advice.

use selfos::vault::Passphrase;
use zxcvbn::{Score, zxcvbn};

use crate::exit::{Failure, USAGE};

/// zxcvbn's "safely unguessable" (about 10^10 guesses): with Argon2id at its default cost, years
/// of one GPU's time.
const MIN_SCORE: Score = Score::Three;

/// Refuses a passphrase below [`MIN_SCORE`], saying why and what would help.
pub(crate) fn check(passphrase: &Passphrase) -> Result<(), Failure> {
    let estimate = zxcvbn(passphrase.expose(), &["selfos"]);
    if estimate.score() >= MIN_SCORE {
        return Ok(());
    }
    let mut message = String::from("this passphrase is too easy to guess");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            message.push_str(&format!(": {warning}"));
        }
        for suggestion in feedback.suggestions() {
            message.push_str(&format!("\n  - {suggestion}"));
        }
    }
    message.push_str("\n  - four or more random words make a strong one");
    Err(Failure::new(USAGE, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_refused_with_advice_strong_accepted() {
        for weak in ["letmein1", "selfos2026", "qwerty123", "aaaaaaaaaaaa"] {
            let err = check(&Passphrase::new(weak.into())).expect_err(weak);
            assert!(err.to_string().contains("too easy to guess"), "{err}");
            assert!(!err.to_string().contains(weak), "never quoted: {err}");
        }
        for strong in [
            "correct horse battery staple",
            "quartz lagoon ember thimble",
        ] {
            assert!(check(&Passphrase::new(strong.into())).is_ok(), "{strong}");
        }
    }
}
