//! [`channel`]: a connection's outbound queue, bounded in frames, in bytes per connection and in
//! bytes across all connections ([`QueueBudget`]). A frame that would pass any bound is not
//! queued: the sender gets it back as `Full`, and the room evicts the recipient as a slow reader.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering::Relaxed},
};

use bytes::Bytes;
use tokio::sync::mpsc::{self, error::TrySendError};

/// Bytes queued for all connections, and their bound.
#[derive(Debug)]
pub(crate) struct QueueBudget {
    limit: u64,
    /// Shared with the metrics, which show it as a gauge.
    used: Arc<AtomicU64>,
}

impl QueueBudget {
    pub(crate) fn new(limit: u64, used: Arc<AtomicU64>) -> Arc<Self> {
        Arc::new(Self { limit, used })
    }
}

/// Takes `len` from `used` if that stays within `limit`.
fn reserve(used: &AtomicU64, limit: u64, len: u64) -> bool {
    used.fetch_update(Relaxed, Relaxed, |now| {
        now.checked_add(len).filter(|after| *after <= limit)
    })
    .is_ok()
}

/// What a connection's two ends share.
#[derive(Debug)]
struct Counts {
    queued: AtomicU64,
    limit: u64,
    budget: Arc<QueueBudget>,
}

impl Counts {
    fn release(&self, len: u64) {
        self.queued.fetch_sub(len, Relaxed);
        self.budget.used.fetch_sub(len, Relaxed);
    }
}

/// The sending end, held by the room (and the connection, for its own replies).
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    tx: mpsc::Sender<Bytes>,
    counts: Arc<Counts>,
}

/// The receiving end, held by the connection that writes the frames.
#[derive(Debug)]
pub(crate) struct Inbox {
    rx: mpsc::Receiver<Bytes>,
    counts: Arc<Counts>,
}

/// A queue of at most `frames` frames and `bytes` bytes, within `budget`.
pub(crate) fn channel(frames: usize, bytes: u64, budget: Arc<QueueBudget>) -> (Outbox, Inbox) {
    let (tx, rx) = mpsc::channel(frames);
    let counts = Arc::new(Counts {
        queued: AtomicU64::new(0),
        limit: bytes,
        budget,
    });
    let inbox = Inbox {
        rx,
        counts: counts.clone(),
    };
    (Outbox { tx, counts }, inbox)
}

impl Outbox {
    /// Queues `frame`, or gives it back: `Full` when a bound would be passed, `Closed` when the
    /// connection is gone.
    pub(crate) fn try_send(&self, frame: Bytes) -> Result<(), TrySendError<Bytes>> {
        let len = frame.len() as u64;
        let counts = &self.counts;
        if !reserve(&counts.queued, counts.limit, len) {
            return Err(TrySendError::Full(frame));
        }
        if !reserve(&counts.budget.used, counts.budget.limit, len) {
            counts.queued.fetch_sub(len, Relaxed);
            return Err(TrySendError::Full(frame));
        }
        self.tx.try_send(frame).inspect_err(|_| counts.release(len))
    }
}

impl Inbox {
    pub(crate) async fn recv(&mut self) -> Option<Bytes> {
        let frame = self.rx.recv().await?;
        self.counts.release(frame.len() as u64);
        Some(frame)
    }

    pub(crate) fn try_recv(&mut self) -> Option<Bytes> {
        let frame = self.rx.try_recv().ok()?;
        self.counts.release(frame.len() as u64);
        Some(frame)
    }
}

impl Drop for Inbox {
    /// Frames never written give their bytes back to the budget.
    fn drop(&mut self) {
        self.rx.close();
        while self.try_recv().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(limit: u64) -> (Arc<QueueBudget>, Arc<AtomicU64>) {
        let used = Arc::new(AtomicU64::new(0));
        (QueueBudget::new(limit, used.clone()), used)
    }

    fn frame(len: usize) -> Bytes {
        Bytes::from(vec![0; len])
    }

    #[tokio::test]
    async fn bytes_per_connection_are_bounded_and_given_back_when_written() {
        let (budget, used) = budget(1_000_000);
        let (tx, mut rx) = channel(100, 1000, budget);
        tx.try_send(frame(600)).unwrap();
        assert!(matches!(
            tx.try_send(frame(500)),
            Err(TrySendError::Full(_))
        ));
        tx.try_send(frame(400)).unwrap();
        assert_eq!(used.load(Relaxed), 1000);
        assert_eq!(rx.recv().await.unwrap().len(), 600);
        assert_eq!(used.load(Relaxed), 400);
        tx.try_send(frame(500)).unwrap();
    }

    #[test]
    fn the_budget_bounds_all_connections_together_and_dropped_queues_give_back() {
        let (budget, used) = budget(1500);
        let (a, a_rx) = channel(100, 1000, budget.clone());
        let (b, _b_rx) = channel(100, 1000, budget);
        a.try_send(frame(1000)).unwrap();
        assert!(matches!(b.try_send(frame(600)), Err(TrySendError::Full(_))));
        b.try_send(frame(500)).unwrap();
        assert_eq!(used.load(Relaxed), 1500);
        // A connection that ends with frames unwritten gives their bytes back.
        drop(a_rx);
        assert_eq!(used.load(Relaxed), 500);
        assert!(matches!(a.try_send(frame(1)), Err(TrySendError::Closed(_))));
        assert_eq!(used.load(Relaxed), 500);
    }

    #[test]
    fn frames_are_bounded_too() {
        let (budget, used) = budget(1_000_000);
        let (tx, _rx) = channel(2, 1000, budget);
        tx.try_send(frame(1)).unwrap();
        tx.try_send(frame(1)).unwrap();
        assert!(matches!(tx.try_send(frame(1)), Err(TrySendError::Full(_))));
        assert_eq!(used.load(Relaxed), 2);
    }
}
