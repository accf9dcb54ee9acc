//! [`RateLimit`]: the token buckets that bound what one connection may send (PROTOCOL.md
//! section 5, `RateLimited`): messages per second and bytes per second, each with a burst.

use tokio::time::Instant;

/// A bucket of `burst` tokens, refilled at `per_sec` a second; a take finds enough or fails.
#[derive(Debug, Clone)]
struct TokenBucket {
    per_sec: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    fn new(per_sec: u64, burst: u64, now: Instant) -> Self {
        // Counts of messages and bytes are far below 2^52: f64 holds them exactly.
        let burst = burst as f64;
        Self {
            per_sec: per_sec as f64,
            burst,
            tokens: burst,
            last: now,
        }
    }

    fn take(&mut self, n: u64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.burst);
        let n = n as f64;
        if self.tokens < n {
            return false;
        }
        self.tokens -= n;
        true
    }
}

/// The limits of one connection: every message it sends (binary, text, ping, pong) takes one
/// token of the message bucket and its length of the byte bucket.
#[derive(Debug, Clone)]
pub(crate) struct RateLimit {
    messages: TokenBucket,
    bytes: TokenBucket,
}

/// The rates and bursts of a [`RateLimit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rates {
    pub(crate) messages_per_sec: u64,
    pub(crate) messages_burst: u64,
    pub(crate) bytes_per_sec: u64,
    pub(crate) bytes_burst: u64,
}

impl RateLimit {
    pub(crate) fn new(rates: Rates, now: Instant) -> Self {
        Self {
            messages: TokenBucket::new(rates.messages_per_sec, rates.messages_burst, now),
            bytes: TokenBucket::new(rates.bytes_per_sec, rates.bytes_burst, now),
        }
    }

    /// Whether a message of `len` bytes, arriving at `now`, is within the limits.
    pub(crate) fn admit(&mut self, len: usize, now: Instant) -> bool {
        let message = self.messages.take(1, now);
        // Both buckets are charged, so a flood of large messages cannot hide behind the other.
        let bytes = self.bytes.take(len as u64, now);
        message && bytes
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const RATES: Rates = Rates {
        messages_per_sec: 10,
        messages_burst: 100,
        bytes_per_sec: 1000,
        bytes_burst: 10_000,
    };

    #[test]
    fn a_burst_passes_and_the_next_message_waits_for_the_refill() {
        let t0 = Instant::now();
        let mut limit = RateLimit::new(RATES, t0);
        for _ in 0..100 {
            assert!(limit.admit(10, t0));
        }
        assert!(!limit.admit(10, t0));
        // A tenth of a second refills one message (and 100 bytes).
        assert!(limit.admit(10, t0 + Duration::from_millis(100)));
        assert!(!limit.admit(10, t0 + Duration::from_millis(100)));
    }

    #[test]
    fn bytes_are_limited_apart_from_messages() {
        let t0 = Instant::now();
        let mut limit = RateLimit::new(RATES, t0);
        assert!(limit.admit(10_000, t0));
        assert!(!limit.admit(1, t0));
        // A second later 1000 bytes are back, not more.
        let t1 = t0 + Duration::from_secs(1);
        assert!(!limit.admit(1001, t1));
        assert!(limit.admit(1000, t1 + Duration::from_millis(1)));
    }

    #[test]
    fn a_long_pause_refills_only_up_to_the_burst() {
        let t0 = Instant::now();
        let mut limit = RateLimit::new(RATES, t0);
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..100 {
            assert!(limit.admit(1, later));
        }
        assert!(!limit.admit(1, later));
    }
}
