//! A record's body: its content sealed with XChaCha20-Poly1305 under a key of its own,
//! stamped with the hybrid-logical-clock time of the write. This is the value Automerge holds
//! for the record; the stamp stays outside the ciphertext so concurrent values can be ordered
//! without keys. See FORMAT.md.

use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
};
use zeroize::Zeroizing;

use crate::{
    chunk::SealError,
    hlc::Hlc,
    ids::{ResponseId, VaultId},
    keys::SecretKey,
    random,
    response::{Content, ContentError, JsonError},
};

const MAGIC: &[u8; 4] = b"SFRB";
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const PREFIX_LEN: usize = MAGIC.len() + 1 + Hlc::LEN + NONCE_LEN;
const TAG_LEN: usize = 16;
/// The longest content JSON within every limit of [`Content`] (checked by a test): its strings at
/// their limits, made of control characters, which the JSON writer escapes in 6 bytes each. A
/// longer body cannot hold valid content, so it is refused before it is decrypted and parsed:
/// a peer's oversized value costs nothing each time the records are read.
const MAX_PLAIN_LEN: usize = 300 * 1024;
/// The longest record body that can hold content within the limits.
pub(crate) const MAX_BODY_LEN: usize = PREFIX_LEN + MAX_PLAIN_LEN + TAG_LEN;

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// Not a record body, or cut short.
    #[error("not a record body or cut short")]
    Malformed,
    /// Written by an unknown version.
    #[error("unknown record format version {0}")]
    UnknownVersion(u8),
    /// Authentication failed.
    #[error("authentication failed: the record was changed")]
    Tampered,
    /// Decrypted but the content is not understood (written by another version, say).
    #[error("content not understood: {0}")]
    Content(#[from] JsonError),
    /// Longer than any content within the limits can be, so not decrypted.
    #[error("content breaks a limit: the record is over {max} bytes")]
    TooLarge {
        /// The longest record body that can hold content within the limits.
        max: usize,
    },
    /// Decrypted and understood, but the content breaks a limit: the replica that wrote it did
    /// not check it (a bug, another build, or a hostile writer holding the passphrase).
    #[error("content breaks a limit: {0}")]
    Invalid(#[from] ContentError),
}

/// Why one record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Its value arrived without the key that opens it, and a damaged chunk of its namespace
    /// may be what held the key.
    #[error("its key is missing: a damaged chunk of its namespace may hold it")]
    KeyMissing,
    /// Its value arrived before the key that opens it (they travel apart): the next sync with
    /// the device that wrote it brings the key. Not damage.
    #[error("its key has not arrived yet: the next sync with the device that wrote it brings it")]
    KeyPending,
    /// Its body could not be opened.
    #[error(transparent)]
    Body(#[from] BodyError),
}

fn aad(vault: &VaultId, id: &ResponseId, stamp: &[u8]) -> Vec<u8> {
    let ns = id.namespace.as_str().as_bytes();
    let mut aad = Vec::with_capacity(64 + ns.len());
    aad.extend_from_slice(MAGIC);
    aad.push(VERSION);
    aad.extend_from_slice(vault.as_bytes());
    aad.push(ns.len() as u8);
    aad.extend_from_slice(ns);
    aad.extend_from_slice(id.record.as_bytes());
    aad.extend_from_slice(stamp);
    aad
}

/// Reads the stamp without decrypting.
pub(crate) fn stamp(body: &[u8]) -> Result<Hlc, BodyError> {
    if body.len() < PREFIX_LEN || &body[..MAGIC.len()] != MAGIC {
        return Err(BodyError::Malformed);
    }
    if body[MAGIC.len()] != VERSION {
        return Err(BodyError::UnknownVersion(body[MAGIC.len()]));
    }
    let mut raw = [0u8; Hlc::LEN];
    raw.copy_from_slice(&body[MAGIC.len() + 1..MAGIC.len() + 1 + Hlc::LEN]);
    Ok(Hlc::from_bytes(&raw))
}

pub(crate) fn seal(
    content: &Content,
    hlc: Hlc,
    key: &SecretKey,
    vault: &VaultId,
    id: &ResponseId,
) -> Result<Vec<u8>, SealError> {
    let plain = Zeroizing::new(serde_json::to_vec(content).map_err(JsonError::from)?);
    seal_plain(&plain, hlc, key, vault, id)
}

/// Seals a body's plaintext (the content's JSON).
fn seal_plain(
    plain: &[u8],
    hlc: Hlc,
    key: &SecretKey,
    vault: &VaultId,
    id: &ResponseId,
) -> Result<Vec<u8>, SealError> {
    let nonce = random::bytes::<NONCE_LEN>()?;
    let stamp = hlc.to_bytes();
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    let sealed = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plain,
                aad: &aad(vault, id, &stamp),
            },
        )
        .map_err(|_| SealError::TooLarge)?;
    let mut out = Vec::with_capacity(PREFIX_LEN + sealed.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&stamp);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

pub(crate) fn open(
    body: &[u8],
    key: &SecretKey,
    vault: &VaultId,
    id: &ResponseId,
) -> Result<(Hlc, Content), BodyError> {
    let (hlc, plain) = decrypt(body, key, vault, id)?;
    let content = serde_json::from_slice(&plain).map_err(JsonError::from)?;
    Ok((hlc, content))
}

/// Checks and decrypts a body; its plaintext is the content's JSON.
fn decrypt(
    body: &[u8],
    key: &SecretKey,
    vault: &VaultId,
    id: &ResponseId,
) -> Result<(Hlc, Zeroizing<Vec<u8>>), BodyError> {
    let hlc = stamp(body)?;
    let stamp_bytes = &body[MAGIC.len() + 1..MAGIC.len() + 1 + Hlc::LEN];
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&body[MAGIC.len() + 1 + Hlc::LEN..PREFIX_LEN]);
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &body[PREFIX_LEN..],
                    aad: &aad(vault, id, stamp_bytes),
                },
            )
            .map_err(|_| BodyError::Tampered)?,
    );
    Ok((hlc, plain))
}

/// Which of `keys` sealed a body, whatever its content: the key an overwrite of the body retires.
/// Content over a limit counts too, since its value is overwritten all the same.
pub(crate) fn sealed_by(
    body: &[u8],
    keys: &[&SecretKey],
    vault: &VaultId,
    id: &ResponseId,
) -> Option<usize> {
    keys.iter()
        .position(|key| decrypt(body, key, vault, id).is_ok())
}

/// Opens a body with whichever of the record's keys sealed it, and checks its content's limits:
/// the value may come from a peer, and only what this replica would have written is shown.
pub(crate) fn open_any(
    body: &[u8],
    keys: &[&SecretKey],
    vault: &VaultId,
    id: &ResponseId,
) -> Result<(Hlc, Content), BodyError> {
    if body.len() > MAX_BODY_LEN {
        return Err(BodyError::TooLarge { max: MAX_BODY_LEN });
    }
    let mut last = BodyError::Tampered;
    for key in keys {
        match open(body, key, vault, id) {
            Ok((hlc, content)) => {
                content.validate()?;
                return Ok((hlc, content));
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        ids::{Namespace, RecordId},
        response::{Answer, CardKind, Context, Status},
    };

    fn content() -> Content {
        Content {
            card_id: "intent.include".into(),
            card_kind: CardKind::Intent,
            answer: Some(Answer::Text("a worked example".into())),
            agent: "chatgpt".into(),
            origin: "cli".into(),
            created_ms: 1,
            wait_ms: 2,
            status: Status::Answered,
            context: Context::default(),
        }
    }

    fn fixture() -> (SecretKey, VaultId, ResponseId, Hlc) {
        let id = ResponseId {
            namespace: Namespace::new("chatgpt").unwrap(),
            record: RecordId::from([3; 16]),
        };
        let hlc = Hlc {
            wall_ms: 10,
            counter: 1,
            node: [4; 8],
        };
        (
            SecretKey::from_bytes(&mut [1; 32]),
            VaultId::from([2; 16]),
            id,
            hlc,
        )
    }

    /// A body written by another version, whose field holds the user's text where this build
    /// expects a number: the decoder's message would quote the text, so no error may hold it.
    #[test]
    fn content_errors_never_quote_the_plaintext() {
        let (key, vault, id, hlc) = fixture();
        let marker = "MARKER my SSN is 078-05-1120";
        let mut json = serde_json::to_value(content()).unwrap();
        json["wait_ms"] = serde_json::Value::String(marker.into());
        let plain = serde_json::to_vec(&json).unwrap();
        let sealed = seal_plain(&plain, hlc, &key, &vault, &id).unwrap();

        let err = open(&sealed, &key, &vault, &id).unwrap_err();
        assert!(matches!(
            err,
            BodyError::Content(JsonError {
                category: crate::response::JsonErrorCategory::Data,
                ..
            })
        ));
        // serde_json itself would have quoted it: the test can fail.
        let raw = serde_json::from_slice::<Content>(&plain).unwrap_err();
        assert!(raw.to_string().contains("078-05-1120"));

        let record = RecordError::from(err);
        let read = crate::error::ReadError::Body {
            id: id.clone(),
            source: record.clone(),
        };
        let write = crate::error::WriteError::Read(crate::error::ReadError::Body {
            id,
            source: record.clone(),
        });
        let mut shown = vec![format!("{record} {record:?}"), format!("{read} {read:?}")];
        shown.push(format!("{write} {write:?}"));
        let mut cause: Option<&dyn std::error::Error> = Some(&write);
        while let Some(e) = cause {
            shown.push(format!("{e} {e:?}"));
            cause = e.source();
        }
        for text in shown {
            assert!(!text.contains("078-05-1120"), "plaintext in {text}");
            assert!(!text.contains("MARKER"), "plaintext in {text}");
        }
    }

    /// The largest content within the limits fits under the size refused unread, with its
    /// strings made of control characters, which JSON escapes longest.
    #[test]
    fn the_largest_valid_content_is_not_refused_by_size() {
        use crate::response::{
            MAX_AGENT_LEN, MAX_CARD_ID_LEN, MAX_ORIGIN_LEN, MAX_TEXT_LEN, MAX_TIME_MS,
            MAX_TOPIC_LEN, MAX_TOPICS,
        };
        let worst = |n: usize| "\u{1}".repeat(n);
        let largest = Content {
            card_id: worst(MAX_CARD_ID_LEN),
            card_kind: CardKind::Preference,
            answer: Some(Answer::Choice(worst(MAX_TEXT_LEN))),
            agent: worst(MAX_AGENT_LEN),
            origin: worst(MAX_ORIGIN_LEN),
            created_ms: MAX_TIME_MS,
            wait_ms: MAX_TIME_MS,
            status: Status::Answered,
            context: Context {
                prompt_excerpt: Some(worst(MAX_TEXT_LEN)),
                topics: vec![worst(MAX_TOPIC_LEN); MAX_TOPICS],
            },
        };
        largest.validate().unwrap();
        let (key, vault, id, hlc) = fixture();
        let sealed = seal(&largest, hlc, &key, &vault, &id).unwrap();
        assert!(
            sealed.len() > MAX_PLAIN_LEN * 9 / 10,
            "the bound is not tight"
        );
        assert_eq!(open_any(&sealed, &[&key], &vault, &id).unwrap().1, largest);

        let mut over = sealed;
        over.resize(MAX_BODY_LEN + 1, 0);
        assert!(matches!(
            open_any(&over, &[&key], &vault, &id),
            Err(BodyError::TooLarge { .. })
        ));
    }

    #[test]
    fn seal_open_and_stamp_is_bound() {
        let (key, vault, id, hlc) = fixture();
        let sealed = seal(&content(), hlc, &key, &vault, &id).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"worked"));
        assert_eq!(stamp(&sealed).unwrap(), hlc);
        assert_eq!(open(&sealed, &key, &vault, &id).unwrap(), (hlc, content()));

        // Changing the stamp (to win last-write-wins) breaks authentication.
        let mut forged = sealed.clone();
        forged[5] ^= 0x80;
        assert_eq!(open(&forged, &key, &vault, &id), Err(BodyError::Tampered));
        let other_key = SecretKey::from_bytes(&mut [9; 32]);
        assert_eq!(
            open(&sealed, &other_key, &vault, &id),
            Err(BodyError::Tampered)
        );
        assert_eq!(
            open(&sealed[..10], &key, &vault, &id),
            Err(BodyError::Malformed)
        );
    }
}
