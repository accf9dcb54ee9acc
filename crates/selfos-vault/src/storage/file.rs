//! A folder of files, written crash-safely.
//!
//! Layout: `<root>/header`, `<root>/chunks/<namespace>/<chunk-id>` and
//! `<root>/peers/<peer>.<namespace>` (saved sync state). A write goes to a
//! temporary file in the same folder, is fsynced, renamed over its final name, and the folder is
//! fsynced: after a crash a chunk is either absent or whole. Temporary files left by a crash start
//! with `.tmp-` and are ignored.

use std::{
    collections::HashSet,
    fs::{self, File, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
};

use super::{CHUNKS, ChunkStore, HEADER, PEERS, StoreError};
use crate::{
    ids::{ChunkId, Namespace},
    random,
};

const LOCK: &str = "lock";
const TMP_PREFIX: &str = ".tmp-";

/// Chunks in a folder.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
    durable: bool,
    /// Folders known to exist (and be durable), so a write skips checking them again.
    ready_dirs: HashSet<PathBuf>,
}

impl FileStore {
    /// A store in `root` (created on first write). Writes are durable when they return.
    ///
    /// The store takes no lock by itself, so that other processes can read a replica that is
    /// in use: a process that writes holds [`FileStore::lock`] for as long as its vault is
    /// open, or two processes may write as the same replica at once.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            durable: true,
            ready_dirs: HashSet::new(),
        }
    }

    /// A store that skips fsync: faster, but a crash can lose acknowledged writes. For
    /// benchmarks and throwaway data only.
    pub fn without_fsync(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            durable: false,
            ready_dirs: HashSet::new(),
        }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn ns_dir(&self, ns: &Namespace) -> PathBuf {
        self.root.join(CHUNKS).join(ns.as_str())
    }

    /// Writes `bytes` to `dir/name` so that a crash leaves either the old state or the new one.
    fn write_atomic(&mut self, dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let what = dir.join(name);
        let io = |e| StoreError::from_io(e, &what.display().to_string());
        if !self.ready_dirs.contains(dir) {
            let created = !dir.exists();
            fs::create_dir_all(dir).map_err(io)?;
            if created && self.durable {
                // Make the new folders themselves durable.
                let mut d = dir;
                while let Some(parent) = d.parent() {
                    // `Path::new("vault").parent()` is the empty path: the current folder.
                    let parent = if parent.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        parent
                    };
                    sync_dir(parent).map_err(io)?;
                    if parent == self.root || parent == Path::new(".") {
                        break;
                    }
                    d = parent;
                }
            }
            self.ready_dirs.insert(dir.to_path_buf());
        }
        let tmp_name = format!(
            "{TMP_PREFIX}{}",
            hex::encode(random::bytes::<8>().map_err(|_| {
                StoreError::Io(std::io::Error::other("no randomness for a temporary name"))
            })?)
        );
        let tmp = dir.join(&tmp_name);
        let result = (|| {
            let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            file.write_all(bytes)?;
            if self.durable {
                file.sync_all()?;
            }
            drop(file);
            fs::rename(&tmp, &what)?;
            if self.durable {
                sync_dir(dir)?;
            }
            Ok(())
        })();
        if result.is_err() {
            // Best effort: do not leave a partial file behind when we can help it.
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(io)
    }
}

/// An exclusive hold on a vault folder, released when dropped.
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

impl FileStore {
    /// Waits for, then takes, the folder's writer lock (an advisory lock on `<root>/lock`), so
    /// that two processes never write as the same replica at once. Readers need no lock.
    pub fn lock(&self) -> Result<FolderLock, StoreError> {
        let file = self.lock_file()?;
        file.lock()
            .map_err(|e| StoreError::from_io(e, &self.root.join(LOCK).display().to_string()))?;
        Ok(FolderLock { _file: file })
    }

    /// `<root>/lock`, created if missing.
    fn lock_file(&self) -> Result<File, StoreError> {
        let path = self.root.join(LOCK);
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StoreError::from_io(e, &path.display().to_string()))
    }
}

/// The entries of `dir` whose names parse as `T`; nothing if `dir` does not exist.
fn parsed_names<T: std::str::FromStr>(dir: &Path) -> Result<Vec<T>, StoreError> {
    let io = |e| StoreError::from_io(e, &dir.display().to_string());
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        if let Some(parsed) = entry
            .map_err(io)?
            .file_name()
            .to_str()
            .and_then(|n| n.parse().ok())
        {
            out.push(parsed);
        }
    }
    Ok(out)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

impl ChunkStore for FileStore {
    fn read_header(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.root.join(HEADER);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::from_io(e, &path.display().to_string())),
        }
    }

    fn write_header(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let root = self.root.clone();
        self.write_atomic(&root, HEADER, bytes)?;
        // The lock file exists from the start, so taking the lock later adds no file. Opened,
        // not locked: a passphrase change rewrites the header under a lock already held.
        self.lock_file().map(drop)
    }

    fn namespaces(&self) -> Result<Vec<Namespace>, StoreError> {
        let mut out: Vec<Namespace> = parsed_names(&self.root.join(CHUNKS))?;
        out.sort();
        Ok(out)
    }

    fn list(&self, ns: &Namespace) -> Result<Vec<ChunkId>, StoreError> {
        // Temporary files from interrupted writes do not parse as chunk ids.
        parsed_names(&self.ns_dir(ns))
    }

    fn read(&self, ns: &Namespace, id: &ChunkId) -> Result<Vec<u8>, StoreError> {
        let path = self.ns_dir(ns).join(id.to_string());
        fs::read(&path).map_err(|e| StoreError::from_io(e, &path.display().to_string()))
    }

    fn write(&mut self, ns: &Namespace, id: &ChunkId, bytes: &[u8]) -> Result<(), StoreError> {
        let dir = self.ns_dir(ns);
        self.write_atomic(&dir, &id.to_string(), bytes)
    }

    fn delete(&mut self, ns: &Namespace, id: &ChunkId) -> Result<(), StoreError> {
        let dir = self.ns_dir(ns);
        let path = dir.join(id.to_string());
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::from_io(e, &path.display().to_string())),
        }
        if self.durable {
            sync_dir(&dir).map_err(|e| StoreError::from_io(e, &dir.display().to_string()))?;
        }
        Ok(())
    }

    fn read_peer_state(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.root.join(PEERS).join(peer_file(name)?);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::from_io(e, &path.display().to_string())),
        }
    }

    fn write_peer_state(&mut self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let name = peer_file(name)?;
        let dir = self.root.join(PEERS);
        self.write_atomic(&dir, name, bytes)
    }
}

/// Refuses names that could leave the folder or collide with temporary files.
fn peer_file(name: &str) -> Result<&str, StoreError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if ok {
        Ok(name)
    } else {
        Err(StoreError::NotFound(format!(
            "invalid peer state name {name:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChunkKind;

    #[test]
    fn write_list_read_delete() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FileStore::new(dir.path().join("vault"));
        assert!(store.read_header().unwrap().is_none());
        assert!(store.namespaces().unwrap().is_empty());
        let ns = Namespace::new("claude").unwrap();
        let id = ChunkId::random(ChunkKind::Incremental).unwrap();
        store.write(&ns, &id, b"abc").unwrap();
        store.write_header(b"hdr").unwrap();
        // A leftover temporary file is not a chunk.
        fs::write(store.ns_dir(&ns).join(".tmp-0011"), b"partial").unwrap();
        assert_eq!(store.namespaces().unwrap(), vec![ns.clone()]);
        assert_eq!(store.list(&ns).unwrap(), vec![id]);
        assert_eq!(store.read(&ns, &id).unwrap(), b"abc");
        assert_eq!(store.read_header().unwrap().unwrap(), b"hdr");
        let held = store.lock().unwrap();
        assert!(
            File::open(store.root().join(LOCK))
                .unwrap()
                .try_lock()
                .is_err(),
            "a second writer must wait"
        );
        drop(held);
        store.delete(&ns, &id).unwrap();
        assert!(store.list(&ns).unwrap().is_empty());
        assert!(store.read_peer_state("00ff.claude").unwrap().is_none());
        store.write_peer_state("00ff.claude", b"state").unwrap();
        assert_eq!(
            store.read_peer_state("00ff.claude").unwrap().unwrap(),
            b"state"
        );
        assert!(store.write_peer_state("../escape", b"x").is_err());
        assert!(matches!(store.read(&ns, &id), Err(StoreError::NotFound(_))));
    }

    #[test]
    fn a_relative_folder_is_created() {
        // `Path::new(name).parent()` is empty: the folder's parent is the current folder.
        let name = "relative-store-test-folder";
        let mut relative = FileStore::new(name);
        let created = relative.write_header(b"hdr");
        let _ = fs::remove_dir_all(name);
        created.unwrap();
    }

    #[test]
    fn unwritable_location_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the vault folder should be: nothing can be created beneath it.
        let blocker = dir.path().join("vault");
        fs::write(&blocker, b"not a folder").unwrap();
        let mut store = FileStore::new(&blocker);
        let err = store.write_header(b"hdr").unwrap_err();
        assert!(
            matches!(err, StoreError::Io(_) | StoreError::Unwritable(_)),
            "{err:?}"
        );
        assert_eq!(fs::read(&blocker).unwrap(), b"not a folder");
    }
}
