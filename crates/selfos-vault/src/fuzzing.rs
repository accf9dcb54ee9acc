//! Entry points for the cargo-fuzz targets in `fuzz/`. Not a stable API.

use crate::replication::ReplicationMessage;

/// Decodes arbitrary bytes as a replication message from a peer. Must never panic, and what
/// decodes must encode to bytes that decode and encode the same again.
pub fn decode_replication_message(data: &[u8]) {
    let Ok(message) = ReplicationMessage::decode(data) else {
        return;
    };
    // The framing is checked without the Automerge part: Automerge's encoder is only meant for
    // messages Automerge generated (it debug-asserts that their hashes are sorted), and the vault
    // never re-encodes one it received.
    let framing = ReplicationMessage {
        doc: None,
        ..message
    };
    let mut encoded = Vec::new();
    framing.encode_into(&mut encoded);
    let mut again = Vec::new();
    if let Ok(back) = ReplicationMessage::decode(&encoded) {
        back.encode_into(&mut again);
    }
    assert_eq!(
        encoded, again,
        "a decoded message does not re-encode stably"
    );
}
