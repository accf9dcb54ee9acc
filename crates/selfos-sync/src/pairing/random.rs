//! Randomness for pairing: drawn from the operating system (`crypto.getRandomValues` on wasm32)
//! through the `getrandom` the rest of the crate uses.

use chacha20::ChaCha20Rng;
use chacha20::rand_core::SeedableRng;
use selfos_vault::EntropyError;
use zeroize::Zeroizing;

/// Returns `N` fresh random bytes.
pub(super) fn bytes<const N: usize>() -> Result<[u8; N], EntropyError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|_| EntropyError)?;
    Ok(out)
}

/// A CSPRNG seeded once from the operating system, for the PAKE's secret scalar. The PAKE takes
/// an infallible RNG; drawing the seed here lets a failing OS generator surface as an error
/// instead of a panic, and keeps the PAKE crate off its own OS-RNG feature.
pub(super) fn rng() -> Result<ChaCha20Rng, EntropyError> {
    let seed = Zeroizing::new(bytes::<32>()?);
    Ok(ChaCha20Rng::from_seed(*seed))
}
