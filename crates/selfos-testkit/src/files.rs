//! Bytes and folders, compared whole: what a test checks to say "nothing changed" or "this
//! never left the device".

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

/// Every entry under `root`, by path relative to it: folders map to `None`, files to their bytes.
/// Two equal snapshots mean the same names and the same bytes.
#[track_caller]
pub fn snapshot_dir(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
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

/// Every file under `root` with its bytes, by path relative to it, in path order.
#[track_caller]
pub fn all_files(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    snapshot_dir(root)
        .into_iter()
        .filter_map(|(p, b)| Some((p, b?)))
        .collect()
}

/// Whether `needle` occurs in `haystack` (an empty needle never does).
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every form an id could take in a log line: lowercase and uppercase hex, and its first 4 bytes
/// in hex (the prefix logs once used): what a test searches a log for.
pub fn id_forms(bytes: &[u8]) -> Vec<String> {
    let lower: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    vec![lower.to_uppercase(), lower.chars().take(8).collect(), lower]
}
