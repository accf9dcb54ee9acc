//! Counters and gauges, rendered in the Prometheus text exposition format at `/metrics`.

use std::{
    fmt::Write as _,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
};

use selfos_proto::{CloseCode, ErrorCode};

/// Why the relay refused a connection or a frame: the `reason` label of
/// `selfos_relay_rejections_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    MalformedFrame,
    UnsupportedVersion,
    FrameTooLarge,
    UnexpectedFrame,
    Unauthenticated,
    RoomFull,
    DuplicatePeer,
    UnknownPeer,
    SlowReader,
    HandshakeTimeout,
    IdleTimeout,
    MaxConnections,
    /// The connection's address (its /64 for IPv6) holds too many connections or handshakes.
    AddressLimit,
    RateLimited,
    TlsHandshake,
}

impl Rejection {
    const ALL: [Self; 15] = [
        Self::MalformedFrame,
        Self::UnsupportedVersion,
        Self::FrameTooLarge,
        Self::UnexpectedFrame,
        Self::Unauthenticated,
        Self::RoomFull,
        Self::DuplicatePeer,
        Self::UnknownPeer,
        Self::SlowReader,
        Self::HandshakeTimeout,
        Self::IdleTimeout,
        Self::MaxConnections,
        Self::AddressLimit,
        Self::RateLimited,
        Self::TlsHandshake,
    ];

    /// The metric label.
    pub(crate) const fn label(self) -> &'static str {
        match self {
            Self::MalformedFrame => "malformed_frame",
            Self::UnsupportedVersion => "unsupported_version",
            Self::FrameTooLarge => "frame_too_large",
            Self::UnexpectedFrame => "unexpected_frame",
            Self::Unauthenticated => "unauthenticated",
            Self::RoomFull => "room_full",
            Self::DuplicatePeer => "duplicate_peer",
            Self::UnknownPeer => "unknown_peer",
            Self::SlowReader => "slow_reader",
            Self::HandshakeTimeout => "handshake_timeout",
            Self::IdleTimeout => "idle_timeout",
            Self::MaxConnections => "max_connections",
            Self::AddressLimit => "address_limit",
            Self::RateLimited => "rate_limited",
            Self::TlsHandshake => "tls_handshake",
        }
    }

    /// The `Error` frame sent before closing, if any.
    pub(crate) const fn error_code(self) -> Option<ErrorCode> {
        Some(match self {
            Self::MalformedFrame => ErrorCode::MalformedFrame,
            Self::UnsupportedVersion => ErrorCode::UnsupportedVersion,
            Self::FrameTooLarge => ErrorCode::FrameTooLarge,
            Self::UnexpectedFrame => ErrorCode::UnexpectedFrame,
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::RoomFull => ErrorCode::RoomFull,
            Self::DuplicatePeer => ErrorCode::DuplicatePeer,
            Self::UnknownPeer => ErrorCode::UnknownPeer,
            Self::SlowReader => ErrorCode::SlowReader,
            Self::RateLimited => ErrorCode::RateLimited,
            Self::HandshakeTimeout
            | Self::IdleTimeout
            | Self::MaxConnections
            | Self::AddressLimit
            | Self::TlsHandshake => return None,
        })
    }

    /// The WebSocket close code that follows, if the rejection ends the connection.
    pub(crate) const fn close_code(self) -> Option<CloseCode> {
        Some(match self {
            Self::MalformedFrame | Self::FrameTooLarge | Self::UnexpectedFrame => {
                CloseCode::ProtocolError
            }
            Self::UnsupportedVersion => CloseCode::UnsupportedVersion,
            Self::Unauthenticated => CloseCode::Unauthenticated,
            Self::RoomFull => CloseCode::RoomFull,
            Self::DuplicatePeer => CloseCode::PeerReplaced,
            Self::SlowReader => CloseCode::SlowReader,
            Self::HandshakeTimeout => CloseCode::HandshakeTimeout,
            Self::IdleTimeout => CloseCode::IdleTimeout,
            Self::RateLimited => CloseCode::RateLimited,
            Self::UnknownPeer | Self::MaxConnections | Self::AddressLimit | Self::TlsHandshake => {
                return None;
            }
        })
    }
}

/// Why the relay refused a store request: the `reason` label of
/// `selfos_relay_store_rejections_total`. None of them closes the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreRejection {
    Quota,
    TooLarge,
    Mismatch,
    BadCursor,
    Unavailable,
    Disabled,
}

impl StoreRejection {
    const ALL: [Self; 6] = [
        Self::Quota,
        Self::TooLarge,
        Self::Mismatch,
        Self::BadCursor,
        Self::Unavailable,
        Self::Disabled,
    ];

    /// The metric label.
    pub(crate) const fn label(self) -> &'static str {
        match self {
            Self::Quota => "quota",
            Self::TooLarge => "too_large",
            Self::Mismatch => "mismatch",
            Self::BadCursor => "bad_cursor",
            Self::Unavailable => "unavailable",
            Self::Disabled => "disabled",
        }
    }

    /// The code of the `StoreDone` that answers the request.
    pub(crate) const fn error_code(self) -> ErrorCode {
        match self {
            Self::Quota => ErrorCode::QuotaExceeded,
            Self::TooLarge => ErrorCode::BlobTooLarge,
            Self::Mismatch => ErrorCode::BlobMismatch,
            Self::BadCursor => ErrorCode::BadCursor,
            Self::Unavailable => ErrorCode::StoreUnavailable,
            Self::Disabled => ErrorCode::StoreDisabled,
        }
    }
}

/// The relay's counters. All updates are relaxed atomics: metrics need no ordering.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub(crate) connections: AtomicU64,
    /// Bytes waiting in every connection's outbound queue, shared with the queue budget.
    pub(crate) queued_bytes: Arc<AtomicU64>,
    pub(crate) connections_total: AtomicU64,
    pub(crate) joined_peers: AtomicU64,
    pub(crate) rooms: AtomicU64,
    pub(crate) frames_forwarded: AtomicU64,
    pub(crate) bytes_forwarded: AtomicU64,
    rejections: [AtomicU64; Rejection::ALL.len()],
    /// The store's totals, refreshed in the background (see `store::refresh_gauges`).
    pub(crate) store_rooms: AtomicU64,
    pub(crate) store_blobs: AtomicU64,
    pub(crate) store_bytes: AtomicU64,
    pub(crate) blobs_stored: AtomicU64,
    pub(crate) blobs_fetched: AtomicU64,
    pub(crate) blobs_deleted: AtomicU64,
    store_rejections: [AtomicU64; StoreRejection::ALL.len()],
}

impl Metrics {
    pub(crate) fn reject(&self, why: Rejection) {
        if let Some(counter) = self.rejections.get(why as usize) {
            counter.fetch_add(1, Relaxed);
        }
    }

    pub(crate) fn store_reject(&self, why: StoreRejection) {
        if let Some(counter) = self.store_rejections.get(why as usize) {
            counter.fetch_add(1, Relaxed);
        }
    }

    pub(crate) fn forwarded(&self, frame_len: usize) {
        self.frames_forwarded.fetch_add(1, Relaxed);
        self.bytes_forwarded
            .fetch_add(u64::try_from(frame_len).unwrap_or(u64::MAX), Relaxed);
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub(crate) fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        let mut metric = |name: &str, kind: &str, help: &str, value: &AtomicU64| {
            // Writing to a String cannot fail.
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}\n",
                value.load(Relaxed)
            );
        };
        metric(
            "selfos_relay_connections",
            "gauge",
            "WebSocket connections open now (joined or in the handshake).",
            &self.connections,
        );
        metric(
            "selfos_relay_queued_bytes",
            "gauge",
            "Bytes waiting in the outbound queues of all connections.",
            &self.queued_bytes,
        );
        metric(
            "selfos_relay_connections_total",
            "counter",
            "WebSocket connections accepted since start.",
            &self.connections_total,
        );
        metric(
            "selfos_relay_peers",
            "gauge",
            "Connections joined to a room now.",
            &self.joined_peers,
        );
        metric(
            "selfos_relay_rooms",
            "gauge",
            "Rooms with at least one peer now.",
            &self.rooms,
        );
        metric(
            "selfos_relay_frames_forwarded_total",
            "counter",
            "Send frames forwarded as Deliver frames.",
            &self.frames_forwarded,
        );
        metric(
            "selfos_relay_bytes_forwarded_total",
            "counter",
            "Bytes of the Deliver frames forwarded (frame header included).",
            &self.bytes_forwarded,
        );
        metric(
            "selfos_relay_store_rooms",
            "gauge",
            "Rooms with a store (refreshed every few seconds).",
            &self.store_rooms,
        );
        metric(
            "selfos_relay_store_blobs",
            "gauge",
            "Blobs kept in all rooms' stores (refreshed every few seconds).",
            &self.store_blobs,
        );
        metric(
            "selfos_relay_store_bytes",
            "gauge",
            "Bytes of the blobs kept in all rooms' stores (refreshed every few seconds).",
            &self.store_bytes,
        );
        metric(
            "selfos_relay_store_blobs_stored_total",
            "counter",
            "Blobs stored (a put of a blob the room held already not counted).",
            &self.blobs_stored,
        );
        metric(
            "selfos_relay_store_blobs_fetched_total",
            "counter",
            "Blobs sent in answer to a fetch.",
            &self.blobs_fetched,
        );
        metric(
            "selfos_relay_store_blobs_deleted_total",
            "counter",
            "Blob ids named in delete requests served (ids the room did not hold included).",
            &self.blobs_deleted,
        );
        out.push_str(
            "# HELP selfos_relay_store_rejections_total Store requests refused, by reason.\n\
             # TYPE selfos_relay_store_rejections_total counter\n",
        );
        for (why, counter) in StoreRejection::ALL.iter().zip(&self.store_rejections) {
            let _ = writeln!(
                out,
                "selfos_relay_store_rejections_total{{reason=\"{}\"}} {}",
                why.label(),
                counter.load(Relaxed)
            );
        }
        out.push_str(
            "# HELP selfos_relay_rejections_total Connections or frames refused, by reason.\n\
             # TYPE selfos_relay_rejections_total counter\n",
        );
        for (why, counter) in Rejection::ALL.iter().zip(&self.rejections) {
            let _ = writeln!(
                out,
                "selfos_relay_rejections_total{{reason=\"{}\"}} {}",
                why.label(),
                counter.load(Relaxed)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_table_is_indexed_by_discriminant() {
        for (i, why) in Rejection::ALL.iter().enumerate() {
            assert_eq!(*why as usize, i);
        }
        for (i, why) in StoreRejection::ALL.iter().enumerate() {
            assert_eq!(*why as usize, i);
        }
    }

    #[test]
    fn renders_counters_and_labels() {
        let m = Metrics::default();
        m.forwarded(1000);
        m.reject(Rejection::SlowReader);
        let text = m.render();
        assert!(text.contains("selfos_relay_frames_forwarded_total 1\n"));
        assert!(text.contains("selfos_relay_bytes_forwarded_total 1000\n"));
        assert!(text.contains("selfos_relay_rejections_total{reason=\"slow_reader\"} 1\n"));
        assert!(text.contains("selfos_relay_rejections_total{reason=\"room_full\"} 0\n"));
        assert!(text.contains("# TYPE selfos_relay_connections gauge\n"));
        m.store_reject(StoreRejection::Quota);
        m.store_bytes.store(77, Relaxed);
        let text = m.render();
        assert!(text.contains("selfos_relay_store_rejections_total{reason=\"quota\"} 1\n"));
        assert!(text.contains("selfos_relay_store_rejections_total{reason=\"disabled\"} 0\n"));
        assert!(text.contains("selfos_relay_store_bytes 77\n"));
    }
}
