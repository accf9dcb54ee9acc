//! Errors as JavaScript sees them: an `Error` named `SelfosError` with a stable `code`.
//!
//! The codes are the contract with the TypeScript layer and its users; messages are for people
//! and never hold a passphrase, a key or plaintext.

use selfos::{
    sync::{SyncError, pairing::PairingError},
    vault::{CreateError, EntropyError, ErrorKind, OpenError, ReadError, WriteError},
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

/// Every vault error crosses with its kind's stable code (`ErrorKind::code`); the kinds are
/// matched in one place, the vault crate.
macro_rules! from_vault_error {
    ($($t:ty),* $(,)?) => {
        $(impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Self::new(e.kind().code(), e.to_string())
            }
        })*
    };
}

from_vault_error!(OpenError, CreateError, WriteError, ReadError);

impl From<SyncError> for Error {
    fn from(e: SyncError) -> Self {
        let code = e.vault_kind().map_or("sync", ErrorKind::code);
        Self::new(code, e.to_string())
    }
}

impl From<PairingError> for Error {
    fn from(e: PairingError) -> Self {
        let code = match e {
            // Both sides end with this one when the codes differ: type the code again.
            PairingError::WrongCode => "wrong-code",
            PairingError::Entropy(_) => "entropy",
            // The other device gave up or sent something unusable: start a new pairing.
            _ => "pairing",
        };
        Self::new(code, e.to_string())
    }
}

impl From<EntropyError> for Error {
    fn from(e: EntropyError) -> Self {
        Self::new("entropy", e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use selfos::vault::StoreError;

    use super::*;

    #[test]
    fn codes_name_the_remedy() {
        assert_eq!(
            Error::from(OpenError::WrongPassphrase).code(),
            "wrong-passphrase"
        );
        assert_eq!(Error::from(OpenError::NotFound).code(), "not-found");
        assert_eq!(
            Error::from(ReadError::Store(StoreError::Full)).code(),
            "storage-full"
        );
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
            Error::from(SyncError::Write(WriteError::OtherVault)).code(),
            "other-vault"
        );
        assert_eq!(
            Error::from(SyncError::Frame(selfos::proto::DecodeError::BadMagic)).code(),
            "sync"
        );
        assert_eq!(Error::from(PairingError::WrongCode).code(), "wrong-code");
        assert_eq!(Error::from(PairingError::PeerAborted).code(), "pairing");
    }
}
