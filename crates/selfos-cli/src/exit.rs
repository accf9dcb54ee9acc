//! Exit codes, and which errors map to which.

use selfos::{
    net::NetError,
    vault::{ErrorKind, OpenError, WriteError},
};

/// Success.
pub(crate) const OK: u8 = 0;
/// Any other error.
pub(crate) const OTHER: u8 = 1;
/// Bad usage: arguments, ids, input files (clap uses 2 as well).
pub(crate) const USAGE: u8 = 2;
/// The passphrase does not unlock the vault, or replicas were joined with different ones.
pub(crate) const WRONG_PASSPHRASE: u8 = 3;
/// Damaged data: an unreadable header, chunk or response. Commands still do what they can.
pub(crate) const DAMAGED: u8 = 4;
/// Storage is full or cannot be written.
pub(crate) const STORAGE: u8 = 5;
/// No vault in the folder, or no such response.
pub(crate) const NOT_FOUND: u8 = 6;
/// The relay could not be reached, went away for good, or refused the vault.
pub(crate) const RELAY: u8 = 7;

/// The exit-code table shown at the end of `--help`.
pub(crate) const HELP: &str = "\
Exit codes:
  0  ok
  1  other error
  2  usage: bad arguments, ids or input files
  3  wrong passphrase, or a pairing code that does not match
  4  damaged data (the command still printed everything readable)
  5  storage full or not writable
  6  not found: no vault in the folder, no such response, or no device offering the code
  7  relay unreachable, gone, or refusing this vault (sync, pair, join --code)

Environment:
  SELFOS_VAULT       the vault folder (instead of --vault)
  SELFOS_PASSPHRASE  the passphrase (instead of --passphrase-file or a prompt)
  SELFOS_NEW_PASSPHRASE  the new passphrase of `selfos passphrase`
  SELFOS_RELAY       the relay address (instead of --relay of sync, pair, join)";

/// An error the CLI itself raises, with the exit code it deserves.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The exit code.
    pub(crate) code: u8,
    /// What went wrong.
    pub(crate) message: String,
}

impl Failure {
    /// A failure with this exit code.
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The exit code for an error: the first cause in its chain that we recognise decides.
pub(crate) fn code(err: &anyhow::Error) -> u8 {
    err.chain().find_map(classify).unwrap_or(OTHER)
}

/// A hint for the user, for errors where one helps.
pub(crate) fn hint(err: &anyhow::Error) -> Option<&'static str> {
    let no_vault = |c: &(dyn std::error::Error + 'static)| {
        matches!(c.downcast_ref::<OpenError>(), Some(OpenError::NotFound))
    };
    if err.chain().any(no_vault) {
        return Some(
            "run `selfos init` to create a vault here, or `selfos join --code CODE --relay URL` \
             (or `--recovery-kit FILE`) to add this device to one",
        );
    }
    let other_vault = |c: &(dyn std::error::Error + 'static)| {
        matches!(
            c.downcast_ref::<WriteError>(),
            Some(WriteError::ExportFromOtherVault { .. })
        )
    };
    if err.chain().any(other_vault) {
        return Some(
            "nothing was imported; to add its answers to this vault anyway, run `selfos import --from-other-vault FILE`",
        );
    }
    match code(err) {
        WRONG_PASSPHRASE => {
            Some("check --passphrase-file or SELFOS_PASSPHRASE; the vault files were not changed")
        }
        STORAGE => Some("free some space or fix the folder's permissions, then try again"),
        _ => None,
    }
}

fn classify(cause: &(dyn std::error::Error + 'static)) -> Option<u8> {
    if let Some(f) = cause.downcast_ref::<Failure>() {
        return Some(f.code);
    }
    if let Some(e) = cause.downcast_ref::<NetError>() {
        return Some(match e {
            NetError::Connection(_)
            | NetError::Closed { .. }
            | NetError::Refused(_)
            | NetError::Timeout(_) => RELAY,
            NetError::Sync(s) => s.vault_kind().map_or(OTHER, exit_code),
            NetError::Read(r) => exit_code(r.kind()),
            _ => OTHER,
        });
    }
    ErrorKind::of(cause).map(exit_code)
}

/// The exit code for each kind of vault error.
fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::NotFound | ErrorKind::Deleted => NOT_FOUND,
        ErrorKind::WrongPassphrase => WRONG_PASSPHRASE,
        ErrorKind::AlreadyExists
        | ErrorKind::OldFormat
        | ErrorKind::EmptyPassphrase
        | ErrorKind::Invalid
        | ErrorKind::ReservedNamespace
        | ErrorKind::OtherVault
        | ErrorKind::UnsupportedExport => USAGE,
        ErrorKind::Damaged => DAMAGED,
        // Only ever a note on a listing: the next sync completes it.
        ErrorKind::Pending => OTHER,
        ErrorKind::StorageFull | ErrorKind::StorageUnwritable => STORAGE,
        // The CLI unlocks with the passphrase only.
        ErrorKind::WrongSessionKey
        | ErrorKind::Storage
        | ErrorKind::Entropy
        | ErrorKind::Internal => OTHER,
    }
}
