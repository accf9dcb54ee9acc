use ed25519_dalek::SigningKey;
use proptest::prelude::*;

use super::*;
use crate::spec_examples::protocol_example;

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
fn raw(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut bytes = b"SOSF\x01".to_vec();
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
    assert_eq!(
        Frame::decode(&raw(0x0b, &[])),
        Err(DecodeError::UnknownFrameType { found: 0x0b })
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
        "unsupported frame version 9, this build speaks 1"
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
    fn arbitrary_bodies_never_panic(tag in 0u8..=11, body in prop::collection::vec(any::<u8>(), 0..200)) {
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
