//! Helpers shared by every test module.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use selfos_vault::{Answer, CardKind, Content, KdfParams, Namespace, Passphrase, Response, Status};

/// A fixed wall-clock origin for every test, in ms since the Unix epoch.
pub(crate) const T0: u64 = 1_700_000_000_000;

/// The passphrase of every test vault.
pub(crate) const PASS: &str = "correct horse battery staple";

/// Cheap Argon2id parameters: tests derive keys hundreds of times.
pub(crate) fn kdf() -> KdfParams {
    KdfParams::new(64, 1, 1).expect("cheap KDF parameters are in range")
}

pub(crate) fn pass() -> Passphrase {
    Passphrase::new(PASS.into())
}

pub(crate) fn ns(name: &str) -> Namespace {
    Namespace::new(name).expect("valid namespace")
}

/// An answered intent card with a free-text answer.
pub(crate) fn content(agent: &str, text: &str, created_ms: u64) -> Content {
    Content {
        card_id: "intent.include".into(),
        card_kind: CardKind::Intent,
        answer: Some(Answer::Text(text.into())),
        agent: agent.into(),
        origin: "tests".into(),
        created_ms,
        wait_ms: 7_000,
        status: Status::Answered,
        context: Default::default(),
    }
}

/// The text answer of a response, if it has one.
pub(crate) fn text_of(r: &Response) -> Option<&str> {
    match &r.content.answer {
        Some(Answer::Text(t) | Answer::Choice(t)) => Some(t),
        _ => None,
    }
}

/// Every entry under `root`, by path relative to it: folders map to `None`, files to their bytes.
/// Two equal snapshots mean the same names and the same bytes.
pub(crate) fn snapshot_dir(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        for entry in fs::read_dir(dir).expect("read folder") {
            let path = entry.expect("folder entry").path();
            let rel = path.strip_prefix(root).expect("under root").to_path_buf();
            if path.is_dir() {
                out.insert(rel, None);
                walk(root, &path, out);
            } else {
                out.insert(rel, Some(fs::read(&path).expect("read file")));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Every file under `root` with its bytes.
pub(crate) fn all_files(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    snapshot_dir(root)
        .into_iter()
        .filter_map(|(p, b)| Some((p, b?)))
        .collect()
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Two distinct elements of a slice, both mutable.
pub(crate) fn pair_mut<T>(v: &mut [T], i: usize, j: usize) -> (&mut T, &mut T) {
    assert_ne!(i, j, "a replica cannot merge from itself");
    if i < j {
        let (lo, hi) = v.split_at_mut(j);
        (&mut lo[i], &mut hi[0])
    } else {
        let (lo, hi) = v.split_at_mut(i);
        (&mut hi[0], &mut lo[j])
    }
}

/// A deterministic xorshift64* generator for delays and choices.
#[derive(Debug)]
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `lo..hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}
