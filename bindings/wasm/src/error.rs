//! Errors as JavaScript sees them: an `Error` named `SelfosError` with a stable `code`.
//!
//! The codes are the contract with the TypeScript layer and its users; messages are for people
//! and never hold a passphrase, a key or plaintext.

use selfos::{
    sync::SyncError,
    vault::{CreateError, OpenError, ReadError, StoreError, WriteError},
};
use wasm_bindgen::JsValue;

/// A failure on its way to JavaScript.
#[derive(Debug)]
pub struct Error {
    code: &'static str,
    message: String,
}

impl Error {
    /// A failure with a code from the contract.
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// A bad argument from JavaScript.
    pub(crate) fn invalid(message: impl std::fmt::Display) -> Self {
        Self::new("invalid", message.to_string())
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl From<Error> for JsValue {
    fn from(e: Error) -> Self {
        let error = js_sys::Error::new(&e.message);
        error.set_name("SelfosError");
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&error, &"code".into(), &e.code.into());
        error.into()
    }
}

fn store_code(e: &StoreError) -> &'static str {
    match e {
        StoreError::Full => "storage-full",
        StoreError::Unwritable(_) => "storage-unwritable",
        _ => "storage",
    }
}

fn read_code(e: &ReadError) -> &'static str {
    match e {
        ReadError::Store(s) => store_code(s),
        ReadError::Id(_) => "invalid",
        _ => "damaged",
    }
}

impl From<OpenError> for Error {
    fn from(e: OpenError) -> Self {
        let code = match &e {
            OpenError::NotFound => return Self::new("not-found", "no vault in this storage"),
            OpenError::WrongPassphrase => "wrong-passphrase",
            OpenError::WrongSessionKey => "wrong-session-key",
            OpenError::Header(_) => "damaged",
            OpenError::Read(r) => read_code(r),
            OpenError::Store(s) => store_code(s),
            _ => "internal",
        };
        Self::new(code, e.to_string())
    }
}

impl From<CreateError> for Error {
    fn from(e: CreateError) -> Self {
        let code = match &e {
            CreateError::AlreadyExists => "already-exists",
            CreateError::EmptyPassphrase => "empty-passphrase",
            CreateError::Params(_) => "invalid",
            CreateError::Store(s) => store_code(s),
            CreateError::Entropy(_) => "entropy",
            _ => "internal",
        };
        Self::new(code, e.to_string())
    }
}

impl From<WriteError> for Error {
    fn from(e: WriteError) -> Self {
        let code = match &e {
            WriteError::NotFound(_) => "not-found",
            WriteError::Deleted(_) => "deleted",
            WriteError::ReservedNamespace(_) => "reserved-namespace",
            WriteError::Invalid(_) | WriteError::NoSuchValue { .. } => "invalid",
            WriteError::OtherVault => "other-vault",
            WriteError::PassphraseMismatch => "passphrase-mismatch",
            WriteError::UnsupportedExport { .. } => "unsupported-export",
            WriteError::Read(r) => read_code(r),
            WriteError::Store(s) => store_code(s),
            WriteError::Entropy(_) => "entropy",
            _ => "internal",
        };
        Self::new(code, e.to_string())
    }
}

impl From<ReadError> for Error {
    fn from(e: ReadError) -> Self {
        Self::new(read_code(&e), e.to_string())
    }
}

impl From<SyncError> for Error {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Write(w) => w.into(),
            SyncError::Read(r) => r.into(),
            other => Self::new("sync", other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_name_the_remedy() {
        assert_eq!(
            Error::from(OpenError::WrongPassphrase).code(),
            "wrong-passphrase"
        );
        assert_eq!(Error::from(OpenError::NotFound).code(), "not-found");
        assert_eq!(
            Error::from(OpenError::Store(StoreError::Full)).code(),
            "storage-full"
        );
        assert_eq!(
            Error::from(WriteError::Store(StoreError::Unwritable("x".into()))).code(),
            "storage-unwritable"
        );
        assert_eq!(
            Error::from(CreateError::AlreadyExists).code(),
            "already-exists"
        );
        assert_eq!(
            Error::from(SyncError::Write(WriteError::PassphraseMismatch)).code(),
            "passphrase-mismatch"
        );
        assert_eq!(
            Error::from(SyncError::Frame(selfos::proto::DecodeError::BadMagic)).code(),
            "sync"
        );
    }
}
