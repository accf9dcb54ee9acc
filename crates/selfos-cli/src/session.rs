//! An opened vault for the length of one command: the folder, the clock, and what was damaged.

use std::{
    path::Path,
    time::{SystemTime, UNIX_EPOCH},
};

use anyhow::Context as _;
use selfos::vault::{ErrorKind, FileStore, FolderLock, Passphrase, RecordError, ResponseId, Vault};

use crate::{
    cli::Global,
    exit::{Failure, USAGE},
    output,
    passphrase::{self, Prompt},
};

/// How a command ended, when it did its job.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Everything was readable.
    Clean,
    /// Some data could not be read; a warning was printed for each piece.
    Damaged,
}

impl Outcome {
    /// Damaged if either is.
    pub(crate) fn and(self, other: Self) -> Self {
        if self == Self::Damaged || other == Self::Damaged {
            Self::Damaged
        } else {
            Self::Clean
        }
    }
}

/// The vault folder from `--vault` or `SELFOS_VAULT`.
pub(crate) fn vault_dir(global: &Global) -> anyhow::Result<&Path> {
    global.vault.as_deref().ok_or_else(|| {
        Failure::new(
            USAGE,
            "no vault folder given: pass --vault DIR or set SELFOS_VAULT",
        )
        .into()
    })
}

/// The wall clock, in ms since the Unix epoch: the time every vault write is stamped with.
pub(crate) fn now_ms() -> anyhow::Result<u64> {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is set before 1970")?;
    Ok(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}

/// An unlocked vault, and whether anything in it was found damaged.
#[derive(Debug)]
pub(crate) struct Session {
    /// The vault.
    pub(crate) vault: Vault<FileStore>,
    damaged: bool,
    /// Held for the whole command (writers only), so two processes never write as this replica
    /// at once.
    _lock: Option<FolderLock>,
}

impl Session {
    /// Opens the `--vault` folder with the passphrase from wherever it is given.
    pub(crate) fn open(global: &Global) -> anyhow::Result<Self> {
        let dir = vault_dir(global)?;
        let pass = passphrase::read(global.passphrase_file.as_deref(), Prompt::Once)?;
        Self::open_with(dir, &pass)
    }

    /// Opens the vault in `dir` for this command to read and write; warns about each damaged
    /// chunk.
    pub(crate) fn open_with(dir: &Path, pass: &Passphrase) -> anyhow::Result<Self> {
        let mut session = Self::open_unlocked(dir, pass)?;
        let lock = session.vault.store().lock()?;
        // Another process may have written while this one waited for the lock.
        session.vault.refresh()?;
        session._lock = Some(lock);
        Ok(session)
    }

    /// Opens the vault in `dir` without the writer lock: to read another replica
    /// (`merge-from`), or for `sync --watch`, which stays open for long and writes only what
    /// other devices authored, never changes of its own replica.
    pub(crate) fn open_unlocked(dir: &Path, pass: &Passphrase) -> anyhow::Result<Self> {
        let vault = Vault::open(FileStore::new(dir), pass)
            .with_context(|| format!("vault {}", dir.display()))?;
        for d in vault.damaged() {
            output::warn(&format!(
                "damaged chunk {}/{} in {} (left untouched, its changes are missing): {}",
                d.namespace,
                d.chunk,
                dir.display(),
                d.reason
            ));
        }
        let damaged = !vault.damaged().is_empty();
        Ok(Self {
            vault,
            damaged,
            _lock: None,
        })
    }

    /// Warns about responses that exist but cannot be read. Those whose key has not arrived
    /// yet are not damage: they do not change the exit code.
    pub(crate) fn warn_unreadable(&mut self, unreadable: &[(ResponseId, RecordError)]) {
        for (id, reason) in unreadable {
            if reason.kind() == ErrorKind::Pending {
                output::warn(&format!("response {id} cannot be read yet: {reason}"));
            } else {
                output::warn(&format!("response {id} cannot be read: {reason}"));
                self.damaged = true;
            }
        }
    }

    /// The one response whose id starts with `prefix`.
    pub(crate) fn find(&self, prefix: &str) -> anyhow::Result<ResponseId> {
        Ok(self.vault.find(prefix)?)
    }

    /// How a command that wrote ended: compacts what is due first, off the write path (the
    /// write itself is already durable, so a failure here is only a warning).
    pub(crate) fn finish_write(mut self) -> Outcome {
        if let Err(e) = self.vault.maintain() {
            output::warn(&format!("compaction postponed: {e}"));
        }
        self.finish()
    }

    /// How the command ended.
    pub(crate) fn finish(self) -> Outcome {
        if self.damaged {
            Outcome::Damaged
        } else {
            Outcome::Clean
        }
    }
}
