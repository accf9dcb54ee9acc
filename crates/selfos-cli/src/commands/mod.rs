//! One module per group of commands. Each command takes the global options and its own
//! arguments, does its job and says whether it met damaged data.

pub(crate) mod conflicts;
pub(crate) mod devices;
pub(crate) mod insight;
pub(crate) mod pairing;
pub(crate) mod responses;
pub(crate) mod setup;
pub(crate) mod sync;
pub(crate) mod transfer;
