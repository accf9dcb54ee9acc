//! Time for tests: a fixed origin where results must not depend on the day, the wall clock
//! where something outside the test (a relay, a peer's session) compares against it.

use std::time::{SystemTime, UNIX_EPOCH};

/// A fixed wall-clock origin, in ms since the Unix epoch (November 2023): tests and benches
/// that pass time in count from here, so every run writes the same stamps.
pub const T0: u64 = 1_700_000_000_000;

/// The wall clock, in ms since the Unix epoch.
#[track_caller]
pub fn now_ms() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    u64::try_from(since_epoch.as_millis()).expect("ms since 1970 fit in u64")
}
