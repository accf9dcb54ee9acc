//! The one place the vault asks the operating system for randomness.
//!
//! Keys, salts, nonces and ids must be unpredictable, so they come from the OS CSPRNG
//! (`getrandom`; `crypto.getRandomValues` on wasm32). Everything else the vault needs from the
//! outside world, the clock above all, is passed in by the caller.

/// The operating system's random number generator failed.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct EntropyError;

/// Returns `N` fresh random bytes.
pub(crate) fn bytes<const N: usize>() -> Result<[u8; N], EntropyError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|_| EntropyError)?;
    Ok(out)
}
