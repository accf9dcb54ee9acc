use ed25519_dalek::SigningKey;
use proptest::prelude::*;

use super::*;
use crate::spec_examples::protocol_example;
use crate::{
    BlobId, BlobIds, BlobPart, ListEntries, ListEntry, Listing, MAX_BLOB_PART_LEN, MAX_DELETE_IDS,
    MAX_LIST_ENTRIES, StoreUsage,
};

/// Strategies that build every frame type from arbitrary values.
mod arb {
    use super::*;

    pub(super) fn peer() -> impl Strategy<Value = PeerId> {
        any::<[u8; 16]>().prop_map(PeerId::from_bytes)
    }

    pub(super) fn room() -> impl Strategy<Value = RoomId> {
        any::<[u8; 32]>().prop_filter_map("weak key", |seed| {
            RoomId::try_from(SigningKey::from_bytes(&seed).verifying_key()).ok()
        })
    }

    pub(super) fn payload() -> impl Strategy<Value = Payload> {
        prop::collection::vec(any::<u8>(), 0..600)
            .prop_map(|bytes| Payload::try_from(bytes).unwrap())
    }

    fn challenge() -> impl Strategy<Value = Challenge> {
        ("[!-~]{1,255}", any::<u64>(), any::<[u8; 32]>()).prop_map(|(audience, ts, nonce)| {
            Challenge::new(audience.parse().unwrap(), ts, Nonce::from_bytes(nonce))
        })
    }

    fn join() -> impl Strategy<Value = Join> {
        (room(), peer(), any::<[u8; 64]>()).prop_map(|(room, peer, signature)| Join {
            room,
            peer,
            signature,
        })
    }

    pub(super) fn frame() -> impl Strategy<Value = Frame> {
        prop_oneof![
            challenge().prop_map(Frame::Challenge),
            join().prop_map(Frame::Join),
            prop::collection::vec(peer(), 0..=MAX_ROOM_PEERS).prop_map(|peers| Frame::Joined {
                peers: PeerList::try_from(peers).unwrap()
            }),
            peer().prop_map(Frame::PeerJoined),
            peer().prop_map(Frame::PeerLeft),
            (peer(), payload()).prop_map(|(to, payload)| Frame::Send { to, payload }),
            (peer(), payload()).prop_map(|(from, payload)| Frame::Deliver { from, payload }),
            (any::<u16>(), "\\PC{0,1100}").prop_map(|(code, text)| Frame::Error {
                code: ErrorCode::from_u16(code),
                message: ErrorMessage::new(&text),
            }),
            any::<u64>().prop_map(Frame::Ping),
            any::<u64>().prop_map(Frame::Pong),
            store().prop_map(Frame::Store),
        ]
    }

    fn blob_id() -> impl Strategy<Value = BlobId> {
        any::<[u8; 32]>().prop_map(BlobId::from_bytes)
    }

    fn part() -> impl Strategy<Value = BlobPart> {
        (
            any::<u32>(),
            blob_id(),
            prop::collection::vec(any::<u8>(), 0..300),
            any::<u32>(),
        )
            .prop_map(|(request, id, bytes, extra)| {
                let offset = extra % 1000;
                let total = offset + bytes.len() as u32 + extra % 7;
                BlobPart::new(request, id, total, offset, bytes).unwrap()
            })
    }

    fn store() -> impl Strategy<Value = StoreFrame> {
        let usage = (any::<(u64, u32, u64, u32, u32, u64)>()).prop_map(
            |(bytes, blobs, max_bytes, max_blobs, max_blob_len, updated_ms)| StoreUsage {
                bytes,
                blobs,
                max_bytes,
                max_blobs,
                max_blob_len,
                updated_ms,
            },
        );
        let entry = (any::<u64>(), blob_id(), any::<u32>()).prop_map(|(seq, id, size)| ListEntry {
            seq,
            id,
            size,
        });
        let listing = (
            any::<(u32, u64, u64, bool)>(),
            usage,
            prop::collection::vec(entry, 0..50),
        )
            .prop_map(|((request, epoch, head, more), usage, entries)| {
                StoreFrame::Listed(Listing {
                    request,
                    epoch,
                    head,
                    more,
                    usage,
                    entries: ListEntries::try_from(entries).unwrap(),
                })
            });
        prop_oneof![
            any::<(u32, u64)>().prop_map(|(request, since)| StoreFrame::List { request, since }),
            listing,
            (any::<u32>(), blob_id()).prop_map(|(request, id)| StoreFrame::Fetch { request, id }),
            part().prop_map(StoreFrame::Blob),
            part().prop_map(StoreFrame::Put),
            (any::<u32>(), prop::collection::vec(blob_id(), 0..50)).prop_map(|(request, ids)| {
                StoreFrame::Delete {
                    request,
                    ids: BlobIds::try_from(ids).unwrap(),
                }
            }),
            (any::<u32>(), 1u16..).prop_map(|(request, code)| StoreFrame::Done {
                request,
                error: Some(ErrorCode::from_u16(code)),
            }),
            any::<u32>().prop_map(|request| StoreFrame::Done {
                request,
                error: None
            }),
            any::<u64>().prop_map(|head| StoreFrame::Changed { head }),
        ]
    }
}

fn example_challenge() -> Challenge {
    let nonce: [u8; 32] = core::array::from_fn(|i| i as u8);
    Challenge::new(
        "wss://relay.example.org".parse().unwrap(),
        1_700_000_000_000,
        Nonce::from_bytes(nonce),
    )
}

fn example_peer() -> PeerId {
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf".parse().unwrap()
}

#[test]
fn worked_example_challenge_matches_protocol_md() {
    let frame = Frame::Challenge(example_challenge());
    let expected = protocol_example("<!-- example: challenge -->");
    assert_eq!(frame.encode(), expected);
    assert_eq!(Frame::decode(&expected).unwrap(), frame);
}

#[test]
fn worked_example_join_matches_protocol_md() {
    let key = SigningKey::from_bytes(&[0x42; 32]);
    let audience = "wss://relay.example.org".parse().unwrap();
    let join =
        crate::handshake::sign_join(&example_challenge(), &audience, &key, example_peer()).unwrap();
    let frame = Frame::Join(join);
    let expected = protocol_example("<!-- example: join -->");
    assert_eq!(frame.encode(), expected);
    assert_eq!(Frame::decode(&expected).unwrap(), frame);
}

#[test]
fn worked_example_send_matches_protocol_md() {
    let frame = Frame::Send {
        to: example_peer(),
        payload: Payload::try_from(b"hi".to_vec()).unwrap(),
    };
    let expected = protocol_example("<!-- example: send -->");
    assert_eq!(frame.encode(), expected);
    assert_eq!(Frame::decode(&expected).unwrap(), frame);
}

#[test]
fn largest_payload_fills_the_largest_frame() {
    let payload = Payload::try_from(vec![0xee; MAX_PAYLOAD_LEN]).unwrap();
    let frame = Frame::Deliver {
        from: example_peer(),
        payload,
    };
    assert_eq!(frame.encoded_len(), MAX_FRAME_LEN);
    let bytes = frame.encode();
    assert_eq!(bytes.len(), MAX_FRAME_LEN);
    assert_eq!(Frame::decode(&bytes).unwrap(), frame);
}

/// A header for frame type `tag` followed by `body`.
/// A frame of `tag` with the version byte its type has (1 for a type no version has).
fn raw(tag: u8, body: &[u8]) -> Vec<u8> {
    raw_v(version_of(tag).unwrap_or(1), tag, body)
}

fn raw_v(version: u8, tag: u8, body: &[u8]) -> Vec<u8> {
    let mut bytes = b"SOSF".to_vec();
    bytes.push(version);
    bytes.push(tag);
    bytes.extend_from_slice(body);
    bytes
}

#[test]
fn header_errors() {
    assert_eq!(
        Frame::decode(b""),
        Err(DecodeError::Truncated { field: "magic" })
    );
    assert_eq!(
        Frame::decode(b"SO"),
        Err(DecodeError::Truncated { field: "magic" })
    );
    assert_eq!(Frame::decode(b"X"), Err(DecodeError::BadMagic));
    assert_eq!(Frame::decode(b"SOSG\x01\x09"), Err(DecodeError::BadMagic));
    assert_eq!(
        Frame::decode(b"SOSF"),
        Err(DecodeError::Truncated { field: "version" })
    );
    assert_eq!(
        Frame::decode(b"SOSF\x02\x09\0\0\0\0\0\0\0\0"),
        Err(DecodeError::UnsupportedVersion { found: 2 })
    );
    assert_eq!(
        Frame::decode(b"SOSF\x01"),
        Err(DecodeError::Truncated {
            field: "frame type"
        })
    );
    assert_eq!(
        Frame::decode(&raw(0x00, &[])),
        Err(DecodeError::UnknownFrameType { found: 0 })
    );
    // A store frame under version 1, a version-1 frame under version 2, a type no version has.
    assert_eq!(
        Frame::decode(&raw_v(1, 0x0b, &[0; 12])),
        Err(DecodeError::UnsupportedVersion { found: 1 })
    );
    assert_eq!(
        Frame::decode(b"SOSF\x02\x0a\0\0\0\0\0\0\0\0"),
        Err(DecodeError::UnsupportedVersion { found: 2 })
    );
    assert_eq!(
        Frame::decode(b"SOSF\x03\x0b"),
        Err(DecodeError::UnsupportedVersion { found: 3 })
    );
    assert_eq!(
        Frame::decode(b"SOSF\x02\x13"),
        Err(DecodeError::UnknownFrameType { found: 0x13 })
    );
}

#[test]
fn size_and_trailing_errors() {
    let mut huge = raw(tag::PING, &[0; 8]);
    huge.resize(MAX_FRAME_LEN + 1, 0);
    assert_eq!(
        Frame::decode(&huge),
        Err(DecodeError::TooLong {
            len: MAX_FRAME_LEN + 1
        })
    );
    assert_eq!(
        Frame::decode(&raw(tag::PING, &[0; 9])),
        Err(DecodeError::TrailingBytes { count: 1 })
    );
    assert_eq!(
        Frame::decode(&raw(tag::PING, &[0; 7])),
        Err(DecodeError::Truncated {
            field: "ping value"
        })
    );
}

#[test]
fn length_prefixes_are_bounded_before_anything_is_read() {
    // A payload announcing 4 GiB in a 30-byte frame: refused on the prefix, nothing allocated.
    let mut send = [0u8; 16].to_vec();
    send.extend_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        Frame::decode(&raw(tag::SEND, &send)),
        Err(DecodeError::FieldTooLong {
            field: "payload",
            len: u32::MAX as usize,
            max: MAX_PAYLOAD_LEN
        })
    );
    // Within the bound but longer than what is there.
    let mut send = [0u8; 16].to_vec();
    send.extend_from_slice(&100u32.to_be_bytes());
    send.extend_from_slice(&[0; 99]);
    assert_eq!(
        Frame::decode(&raw(tag::SEND, &send)),
        Err(DecodeError::Truncated { field: "payload" })
    );
    assert_eq!(
        Frame::decode(&raw(tag::JOINED, &257u16.to_be_bytes())),
        Err(DecodeError::FieldTooLong {
            field: "peers",
            len: 257,
            max: MAX_ROOM_PEERS
        })
    );
    assert_eq!(
        Frame::decode(&raw(tag::JOINED, &2u16.to_be_bytes())),
        Err(DecodeError::Truncated { field: "peers" })
    );
    assert_eq!(
        Frame::decode(&raw(tag::CHALLENGE, &256u16.to_be_bytes())),
        Err(DecodeError::FieldTooLong {
            field: "audience",
            len: 256,
            max: MAX_AUDIENCE_LEN
        })
    );
    let mut error = 1u16.to_be_bytes().to_vec();
    error.extend_from_slice(&1025u16.to_be_bytes());
    assert_eq!(
        Frame::decode(&raw(tag::ERROR, &error)),
        Err(DecodeError::FieldTooLong {
            field: "message",
            len: 1025,
            max: MAX_ERROR_MESSAGE_LEN
        })
    );
}

#[test]
fn invalid_field_values() {
    // Room id y = 2: not on the curve.
    let mut join = vec![0u8; 32 + 16 + 64];
    join[0] = 2;
    assert_eq!(
        Frame::decode(&raw(tag::JOIN, &join)),
        Err(DecodeError::InvalidField {
            field: "room",
            source: FieldError::Id(IdError::NotACurvePoint)
        })
    );
    // Empty audience.
    let mut challenge = 0u16.to_be_bytes().to_vec();
    challenge.extend_from_slice(&[0; 8 + 32]);
    assert_eq!(
        Frame::decode(&raw(tag::CHALLENGE, &challenge)),
        Err(DecodeError::InvalidField {
            field: "audience",
            source: FieldError::Audience(AudienceError::Empty)
        })
    );
    // Message that is not UTF-8.
    let mut error = 1u16.to_be_bytes().to_vec();
    error.extend_from_slice(&2u16.to_be_bytes());
    error.extend_from_slice(&[0xc3, 0x28]);
    assert!(matches!(
        Frame::decode(&raw(tag::ERROR, &error)),
        Err(DecodeError::InvalidField {
            field: "message",
            source: FieldError::Utf8(_)
        })
    ));
}

#[test]
fn unknown_error_codes_survive_a_round_trip() {
    let mut error = 0x1234u16.to_be_bytes().to_vec();
    error.extend_from_slice(&0u16.to_be_bytes());
    let frame = Frame::decode(&raw(tag::ERROR, &error)).unwrap();
    assert_eq!(
        frame,
        Frame::Error {
            code: ErrorCode::Other(0x1234),
            message: ErrorMessage::default()
        }
    );
    assert_eq!(frame.encode(), raw(tag::ERROR, &error));
}

#[test]
fn send_rewrite_refuses_other_frames_and_leaves_them_alone() {
    let from = example_peer();
    let mut ping = Frame::Ping(5).encode();
    let before = ping.clone();
    assert_eq!(
        send_to_deliver_in_place(&mut ping, from),
        Err(DecodeError::UnknownFrameType { found: tag::PING })
    );
    assert_eq!(ping, before);
    let mut short = Frame::Send {
        to: from,
        payload: Payload::try_from(b"abc".to_vec()).unwrap(),
    }
    .encode();
    short.pop();
    let before = short.clone();
    assert_eq!(
        send_to_deliver_in_place(&mut short, from),
        Err(DecodeError::Truncated { field: "payload" })
    );
    assert_eq!(short, before);
}

#[test]
fn decode_error_messages_name_the_field() {
    let err = Frame::decode(&raw(tag::PEER_LEFT, &[0; 3])).unwrap_err();
    assert_eq!(err.to_string(), "frame ends inside its peer field");
    let err = DecodeError::UnsupportedVersion { found: 9 };
    assert_eq!(
        err.to_string(),
        "unsupported frame version 9, this build speaks 1 to 2"
    );
}

proptest! {
    #[test]
    fn round_trip(frame in arb::frame()) {
        let bytes = frame.encode();
        prop_assert_eq!(Frame::decode(&bytes), Ok(frame));
    }

    #[test]
    fn encoded_len_is_exact(frame in arb::frame()) {
        let bytes = frame.encode();
        prop_assert_eq!(frame.encoded_len(), bytes.len());
        prop_assert!(bytes.len() <= MAX_FRAME_LEN);
    }

    #[test]
    fn truncated_frames_are_rejected(frame in arb::frame(), cut in any::<prop::sample::Index>()) {
        let bytes = frame.encode();
        let len = cut.index(bytes.len());
        prop_assert!(Frame::decode(&bytes[..len]).is_err());
        crate::fuzzing::decode_frame(&bytes[..len]);
    }

    #[test]
    fn bit_flipped_frames_never_panic(frame in arb::frame(), bit in any::<prop::sample::Index>()) {
        let mut bytes = frame.encode();
        let bit = bit.index(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        // Either an error, or a frame that encodes back to exactly these bytes.
        crate::fuzzing::decode_frame(&bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        crate::fuzzing::decode_frame(&bytes);
    }

    #[test]
    fn arbitrary_bodies_never_panic(tag in 0u8..=0x13, body in prop::collection::vec(any::<u8>(), 0..200)) {
        crate::fuzzing::decode_frame(&raw(tag, &body));
    }

    #[test]
    fn send_rewrite_matches_encoding_a_deliver(
        to in arb::peer(),
        from in arb::peer(),
        payload in arb::payload(),
    ) {
        let mut bytes = Frame::Send { to, payload: payload.clone() }.encode();
        prop_assert_eq!(send_to_deliver_in_place(&mut bytes, from), Ok(to));
        prop_assert_eq!(bytes, Frame::Deliver { from, payload }.encode());
    }
}

#[test]
fn store_frames_carry_version_2_and_the_rest_version_1() {
    let list = Frame::Store(StoreFrame::List {
        request: 7,
        since: 3,
    });
    let bytes = list.encode();
    assert_eq!(&bytes[..6], b"SOSF\x02\x0b");
    assert_eq!(bytes.len(), 18);
    assert_eq!(Frame::decode(&bytes), Ok(list));
    assert_eq!(Frame::Ping(1).encode()[4], 1);
}

#[test]
fn blob_parts_are_bounded_and_end_within_the_blob() {
    let id = BlobId::from_bytes([9; 32]);
    assert!(BlobPart::new(1, id, 10, 8, vec![0; 2]).is_ok());
    assert!(BlobPart::new(1, id, 10, 8, vec![0; 3]).is_err());
    assert!(BlobPart::new(1, id, u32::MAX, u32::MAX, vec![0; 1]).is_err());
    assert!(BlobPart::new(1, id, u32::MAX, 0, vec![0; MAX_BLOB_PART_LEN + 1]).is_err());
    // The largest part fills the largest frame.
    let part = BlobPart::new(1, id, u32::MAX, 0, vec![0; MAX_BLOB_PART_LEN]).unwrap();
    assert_eq!(
        Frame::Store(StoreFrame::Put(part)).encode().len(),
        MAX_FRAME_LEN
    );

    // On the wire: a part that ends past the total is refused.
    let mut body = 1u32.to_be_bytes().to_vec();
    body.extend_from_slice(&[9; 32]);
    body.extend_from_slice(&4u32.to_be_bytes()); // total
    body.extend_from_slice(&2u32.to_be_bytes()); // offset
    body.extend_from_slice(&3u32.to_be_bytes()); // length
    body.extend_from_slice(&[0; 3]);
    assert!(matches!(
        Frame::decode(&raw(0x0f, &body)),
        Err(DecodeError::InvalidField { field: "part", .. })
    ));
}

#[test]
fn split_gives_consecutive_parts_that_rebuild_the_blob() {
    let id = BlobId::from_bytes([1; 32]);
    let blob: Vec<u8> = (0..2 * MAX_BLOB_PART_LEN + 5).map(|i| i as u8).collect();
    let parts: Vec<_> = BlobPart::split(4, id, &blob).unwrap().collect();
    assert_eq!(parts.len(), 3);
    let mut rebuilt = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        assert_eq!(part.offset() as usize, rebuilt.len());
        assert_eq!(part.total() as usize, blob.len());
        assert_eq!(part.is_last(), i == 2);
        rebuilt.extend_from_slice(part.bytes());
    }
    assert_eq!(rebuilt, blob);
    let empty: Vec<_> = BlobPart::split(4, id, &[]).unwrap().collect();
    assert_eq!(empty.len(), 1);
    assert!(empty[0].is_last());
}

#[test]
fn only_the_frames_a_client_sends_carry_a_client_request() {
    let id = BlobId::from_bytes([1; 32]);
    let part = || BlobPart::split(7, id, b"blob").unwrap().next().unwrap();
    let ids = BlobIds::try_from(vec![id]).unwrap();
    let asked = [
        StoreFrame::List {
            request: 7,
            since: 0,
        },
        StoreFrame::Fetch { request: 7, id },
        StoreFrame::Put(part()),
        StoreFrame::Delete { request: 7, ids },
    ];
    for frame in asked {
        assert_eq!(frame.client_request(), Some(7), "{frame:?}");
    }
    let answers = [
        StoreFrame::Blob(part()),
        StoreFrame::Done {
            request: 7,
            error: None,
        },
        StoreFrame::Changed { head: 7 },
    ];
    for frame in answers {
        assert_eq!(frame.client_request(), None, "{frame:?}");
    }
}

#[test]
fn store_lists_are_bounded_before_anything_is_read() {
    let mut delete = 1u32.to_be_bytes().to_vec();
    delete.extend_from_slice(&4097u16.to_be_bytes());
    assert_eq!(
        Frame::decode(&raw(0x10, &delete)),
        Err(DecodeError::FieldTooLong {
            field: "blob ids",
            len: 4097,
            max: MAX_DELETE_IDS
        })
    );
    let mut listed = vec![0u8; 4 + 8 + 8];
    listed.push(0);
    listed.extend_from_slice(&[0; 36]);
    listed.extend_from_slice(&4097u16.to_be_bytes());
    assert_eq!(
        Frame::decode(&raw(0x0c, &listed)),
        Err(DecodeError::FieldTooLong {
            field: "entries",
            len: 4097,
            max: MAX_LIST_ENTRIES
        })
    );
    // `more` is 0 or 1, so the encoding stays canonical.
    listed[20] = 2;
    listed.truncate(listed.len() - 2);
    listed.extend_from_slice(&0u16.to_be_bytes());
    assert!(matches!(
        Frame::decode(&raw(0x0c, &listed)),
        Err(DecodeError::InvalidField { field: "more", .. })
    ));
    // The largest listing fits in a frame.
    let entries = vec![
        ListEntry {
            seq: 1,
            id: BlobId::from_bytes([0; 32]),
            size: 1
        };
        MAX_LIST_ENTRIES
    ];
    let full = Frame::Store(StoreFrame::Listed(Listing {
        request: 0,
        epoch: 0,
        head: 0,
        more: true,
        usage: StoreUsage::default(),
        entries: ListEntries::try_from(entries).unwrap(),
    }));
    assert!(full.encoded_len() <= MAX_FRAME_LEN);
    assert_eq!(Frame::decode(&full.encode()), Ok(full));
}
