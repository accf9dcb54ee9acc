//! Both sides of a pairing, wired back to back in memory.

use zeroize::Zeroizing;

use super::*;

const SECRET: &[u8] = b"vault secret: 0123456789abcdef0123456789abcdef";

fn code(text: &str) -> PairingCode {
    text.parse().unwrap()
}

fn sides(offered: &str, typed: &str) -> (Offer, Accept) {
    let offer = Offer::new(&code(offered), Zeroizing::new(SECRET.to_vec())).unwrap();
    (offer, Accept::new(&code(typed)).unwrap())
}

/// What each side ended with: its first error, if any.
#[derive(Debug)]
struct Outcome {
    offer: Result<(), PairingError>,
    accept: Result<(), PairingError>,
}

/// Moves messages both ways until neither side has anything to send, passing each through
/// `tamper` (which sees the message kind byte). Keeps each side's first error.
fn exchange(
    offer: &mut Offer,
    accept: &mut Accept,
    mut tamper: impl FnMut(u8, &mut Vec<u8>),
) -> Outcome {
    let mut out = Outcome {
        offer: Ok(()),
        accept: Ok(()),
    };
    loop {
        let mut moved = false;
        while let Some(mut m) = accept.poll_transmit() {
            moved = true;
            tamper(m[5], &mut m);
            if let Err(e) = offer.handle_message(&m) {
                out.offer = out.offer.and(Err(e));
            }
        }
        while let Some(mut m) = offer.poll_transmit() {
            moved = true;
            tamper(m[5], &mut m);
            if let Err(e) = accept.handle_message(&m) {
                out.accept = out.accept.and(Err(e));
            }
        }
        if !moved {
            return out;
        }
    }
}

fn flip_in(kind: Kind, at: usize) -> impl FnMut(u8, &mut Vec<u8>) {
    move |k, m| {
        if k == kind as u8 {
            m[at] ^= 0x01;
        }
    }
}

#[test]
fn the_right_code_hands_over_the_payload() {
    let (mut offer, mut accept) = sides("7-guitar-reveal", " 7-GUITAR-reveal ");
    let out = exchange(&mut offer, &mut accept, |_, _| {});
    assert!(out.offer.is_ok() && out.accept.is_ok(), "{out:?}");
    assert!(offer.is_complete());
    assert_eq!(&**accept.take_payload().unwrap(), SECRET);
    assert!(
        accept.take_payload().is_none(),
        "the payload is handed out once"
    );
}

#[test]
fn a_wrong_code_fails_on_both_sides() {
    for typed in ["7-guitar-review", "7-reveal-guitar", "8-guitar-reveal"] {
        let (mut offer, mut accept) = sides("7-guitar-reveal", typed);
        let out = exchange(&mut offer, &mut accept, |_, _| {});
        assert!(
            matches!(out.accept, Err(PairingError::WrongCode)),
            "{typed}: {out:?}"
        );
        assert!(
            matches!(out.offer, Err(PairingError::WrongCode)),
            "{typed}: {out:?}"
        );
        assert!(!offer.is_complete());
        assert!(accept.take_payload().is_none());
    }
}

/// Whatever is altered on the way, neither side completes and neither is left waiting: both
/// end with an error, and the payload never shows.
fn assert_both_fail(out: &Outcome, offer: &Offer, accept: &mut Accept, what: &str) {
    assert!(out.offer.is_err() && out.accept.is_err(), "{what}: {out:?}");
    assert!(!offer.is_complete(), "{what}");
    assert!(accept.take_payload().is_none(), "{what}");
}

#[test]
fn an_altered_pake_message_fails_cleanly() {
    // The side byte, a byte of the point, the point's last byte (its sign bit).
    for at in [6, 7, 20, 38] {
        for kind in [Kind::Start, Kind::Reply] {
            let (mut offer, mut accept) = sides("7-guitar-reveal", "7-guitar-reveal");
            let out = exchange(&mut offer, &mut accept, flip_in(kind, at));
            assert_both_fail(&out, &offer, &mut accept, &format!("{kind} byte {at}"));
        }
    }
}

#[test]
fn an_altered_confirmation_fails_on_both_sides() {
    for (kind, at) in [
        (Kind::Reply, 6 + 33),
        (Kind::Reply, 6 + 33 + 31),
        (Kind::Confirm, 6),
    ] {
        let (mut offer, mut accept) = sides("7-guitar-reveal", "7-guitar-reveal");
        let out = exchange(&mut offer, &mut accept, flip_in(kind, at));
        assert!(
            matches!(out.offer, Err(PairingError::WrongCode)),
            "{kind}: {out:?}"
        );
        assert!(
            matches!(out.accept, Err(PairingError::WrongCode)),
            "{kind}: {out:?}"
        );
    }
}

#[test]
fn an_altered_payload_is_refused_and_the_offer_hears_of_it() {
    // The nonce, the ciphertext, the tag.
    for at in [6, 6 + 24 + 2, 6 + 24 + 2 + SECRET.len() + 15] {
        let (mut offer, mut accept) = sides("7-guitar-reveal", "7-guitar-reveal");
        let out = exchange(&mut offer, &mut accept, flip_in(Kind::Sealed, at));
        assert!(
            matches!(out.accept, Err(PairingError::PayloadRejected)),
            "{out:?}"
        );
        assert!(
            matches!(out.offer, Err(PairingError::PeerAborted)),
            "{out:?}"
        );
        assert_both_fail(&out, &offer, &mut accept, "sealed");
    }
}

#[test]
fn an_altered_acknowledgement_is_refused() {
    let (mut offer, mut accept) = sides("7-guitar-reveal", "7-guitar-reveal");
    let out = exchange(&mut offer, &mut accept, flip_in(Kind::Ack, 10));
    assert!(
        matches!(out.offer, Err(PairingError::AckRejected)),
        "{out:?}"
    );
    assert!(!offer.is_complete());
}

#[test]
fn malformed_and_untimely_messages_are_errors() {
    let (_, mut accept) = sides("7-guitar-reveal", "7-guitar-reveal");
    let start = accept.poll_transmit().unwrap();
    let fresh = || sides("7-guitar-reveal", "7-guitar-reveal").0;
    let mut oversized = start.clone();
    oversized.resize(MAX_PAIRING_MESSAGE_LEN + 1, 0);
    let mut other_version = start.clone();
    other_version[4] = 2;
    for (bytes, expected) in [
        (start[..start.len() - 1].to_vec(), MessageError::Truncated),
        (
            oversized,
            MessageError::TooLarge(MAX_PAIRING_MESSAGE_LEN + 1),
        ),
        (other_version, MessageError::UnsupportedVersion(2)),
        ([&start[..], b"x"].concat(), MessageError::TrailingBytes),
    ] {
        let mut offer = fresh();
        let err = offer.handle_message(&bytes).unwrap_err();
        assert!(
            matches!(&err, PairingError::Message(e) if *e == expected),
            "{err:?}"
        );
        // The other side is told to stop waiting.
        let abort = offer.poll_transmit().unwrap();
        assert_eq!(abort, b"SOPR\x01\x06\x02");
    }

    // A confirmation before the exchange started.
    let confirm = Message::Confirm { confirm: [0; 32] }.encode();
    let err = fresh().handle_message(&confirm).unwrap_err();
    assert!(
        matches!(
            err,
            PairingError::Unexpected {
                got: Kind::Confirm,
                expected: Some(Kind::Start)
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the other device sent Confirm while Start was expected"
    );

    // The accepting side's own first message sent back to it.
    let err = accept.handle_message(&start).unwrap_err();
    assert!(
        matches!(
            err,
            PairingError::Unexpected {
                got: Kind::Start,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn an_offer_allows_one_attempt() {
    let (mut offer, mut guess) = sides("7-guitar-reveal", "7-guitar-review");
    let out = exchange(&mut offer, &mut guess, |_, _| {});
    assert!(matches!(out.offer, Err(PairingError::WrongCode)), "{out:?}");

    // The right code now comes too late.
    let mut right = Accept::new(&code("7-guitar-reveal")).unwrap();
    let start = right.poll_transmit().unwrap();
    assert!(matches!(
        offer.handle_message(&start),
        Err(PairingError::Finished)
    ));
    assert!(
        offer.poll_transmit().is_none(),
        "a finished offer sends nothing"
    );
    assert!(!offer.is_complete());

    // A completed pairing is over too.
    let (mut offer, mut accept) = sides("7-guitar-reveal", "7-guitar-reveal");
    exchange(&mut offer, &mut accept, |_, _| {});
    assert!(offer.is_complete());
    let mut again = Accept::new(&code("7-guitar-reveal")).unwrap();
    let start = again.poll_transmit().unwrap();
    assert!(matches!(
        offer.handle_message(&start),
        Err(PairingError::Finished)
    ));
    assert!(offer.is_complete());
}

#[test]
fn a_payload_over_the_limit_is_refused_up_front() {
    let payload = Zeroizing::new(vec![0; MAX_PAIRING_PAYLOAD_LEN + 1]);
    let err = Offer::new(&code("7-guitar-reveal"), payload).unwrap_err();
    assert!(
        matches!(err, PairingError::PayloadTooLarge(4097)),
        "{err:?}"
    );
    let payload = Zeroizing::new(vec![0xee; MAX_PAIRING_PAYLOAD_LEN]);
    let mut offer = Offer::new(&code("7-guitar-reveal"), payload).unwrap();
    let mut accept = Accept::new(&code("7-guitar-reveal")).unwrap();
    let out = exchange(&mut offer, &mut accept, |_, _| {});
    assert!(out.offer.is_ok() && out.accept.is_ok(), "{out:?}");
    assert_eq!(
        accept.take_payload().unwrap().len(),
        MAX_PAIRING_PAYLOAD_LEN
    );
}

#[test]
fn debug_output_holds_no_secret() {
    let (mut offer, mut accept) = sides("7-guitar-reveal", "7-guitar-reveal");
    let mut shown = vec![format!(
        "{offer:?} {accept:?} {:?}",
        code("7-guitar-reveal")
    )];
    // Stop before the payload is sealed, with keys in both states.
    let start = accept.poll_transmit().unwrap();
    offer.handle_message(&start).unwrap();
    let reply = offer.poll_transmit().unwrap();
    accept.handle_message(&reply).unwrap();
    shown.push(format!("{offer:?} {accept:?}"));
    let confirm = accept.poll_transmit().unwrap();
    offer.handle_message(&confirm).unwrap();
    shown.push(format!("{offer:?} {accept:?}"));
    let sealed = offer.poll_transmit().unwrap();
    accept.handle_message(&sealed).unwrap();
    shown.push(format!("{offer:?} {accept:?}"));
    let shown = shown.join("\n");
    for secret in ["guitar", "reveal", "vault secret"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    // No run of message bytes either (a tag or a PAKE point would show as numbers).
    for message in [&start, &reply, &confirm, &sealed] {
        let bytes = format!("{:?}", &message[6..10]);
        assert!(!shown.contains(&bytes[1..bytes.len() - 1]), "{shown}");
    }
    // The exact text, so a new field shows up in review.
    let expected = "\
Offer { state: \"waiting for the other device\", outgoing: 0, .. } \
Accept { state: \"waiting for the offering device\", outgoing: 1, .. } PairingCode(7-..)
Offer { state: \"waiting for key confirmation\", outgoing: 0, .. } \
Accept { state: \"waiting for the payload\", outgoing: 1, .. }
Offer { state: \"waiting for the acknowledgement\", outgoing: 1, .. } \
Accept { state: \"waiting for the payload\", outgoing: 0, .. }
Offer { state: \"waiting for the acknowledgement\", outgoing: 0, .. } \
Accept { state: \"complete\", outgoing: 1, .. }";
    assert_eq!(shown, expected);
}
