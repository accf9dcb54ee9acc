//! Pairing: the one-time code, the offering and accepting state machines, and the frames of the
//! rendezvous room the code's number names. Sans-IO like the rest of this layer: the TypeScript
//! side owns the WebSocket, picks the partner in the room and keeps the deadlines.
//!
//! The vault secret never reaches JavaScript: [`PairingOffer`] seals a grant built from the open
//! vault, and [`PairingAccept::restore`] turns the grant it received into a new replica.

use std::collections::VecDeque;

use js_sys::Uint8Array;
use selfos::{
    proto::{
        ErrorCode, Frame, PeerId,
        handshake::{Audience, Challenge, HandshakeError, Join, sign_join},
    },
    sync::pairing::{self, Accept, Offer},
    vault::DeviceGrant,
};
use wasm_bindgen::prelude::*;

use crate::{convert::room_event, error::Error, vault::Vault};

/// A one-time pairing code such as `7-guitar-reveal`. Secret until the pairing ends: show it to
/// the user, never store or send it. `free()` zeroizes it.
#[wasm_bindgen]
#[derive(Debug)]
pub struct PairingCode {
    inner: pairing::PairingCode,
}

#[wasm_bindgen]
impl PairingCode {
    /// A fresh code from the browser's random number generator.
    pub fn generate() -> Result<PairingCode, Error> {
        Ok(Self {
            inner: pairing::PairingCode::generate()?,
        })
    }

    /// The code the user typed; a malformed one (or a word not in the list) is refused with
    /// code `invalid`.
    pub fn parse(text: &str) -> Result<PairingCode, Error> {
        let inner = text
            .parse()
            .map_err(|e| Error::invalid(format!("pairing code: {e}")))?;
        Ok(Self { inner })
    }

    /// The code as the user reads it.
    #[wasm_bindgen(js_name = toString)]
    pub fn text(&self) -> String {
        self.inner.to_string()
    }
}

/// Answers a relay's challenge for the rendezvous room.
type SignJoin = dyn Fn(&Challenge) -> Result<Join, HandshakeError>;

/// The rendezvous room of one code, as frames: joins with the key the code's number gives, and
/// turns the relay's frames into room events. Feed it every frame from the relay and send what
/// `pollTransmit` returns.
#[wasm_bindgen]
pub struct PairingRoom {
    /// Signs the relay's challenge with the room key; the key lives only in this closure.
    sign: Box<SignJoin>,
    outbox: VecDeque<Vec<u8>>,
}

impl std::fmt::Debug for PairingRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self { sign: _, outbox } = self;
        f.debug_struct("PairingRoom")
            .field("outgoing", &outbox.len())
            .finish_non_exhaustive()
    }
}

#[wasm_bindgen]
impl PairingRoom {
    /// The room of `code` at the relay whose origin is `relay_url`, joined as `peer_id`: 16
    /// random bytes (`crypto.getRandomValues`), new for each pairing.
    #[wasm_bindgen(constructor)]
    pub fn new(code: &PairingCode, relay_url: &str, peer_id: &[u8]) -> Result<PairingRoom, Error> {
        let relay: Audience = relay_url
            .trim_end_matches('/')
            .parse()
            .map_err(|e| Error::invalid(format!("relay address {relay_url:?}: {e}")))?;
        let me = PeerId::try_from(peer_id).map_err(|e| Error::invalid(format!("peer id: {e}")))?;
        let key = code.inner.rendezvous_key();
        Ok(Self {
            sign: Box::new(move |challenge| sign_join(challenge, &relay, &key, me)),
            outbox: VecDeque::new(),
        })
    }

    /// Handles one binary message from the relay: answers its challenge and pings itself, and
    /// returns what happened in the room, or `undefined`. A frame that ends the pairing (a
    /// refused join, a fatal relay error) throws with code `relay`.
    #[wasm_bindgen(js_name = handleFrame, unchecked_return_type = "RoomEvent | undefined")]
    pub fn handle_frame(&mut self, frame: &[u8]) -> Result<JsValue, Error> {
        let relay = |message: String| Error::new("relay", message);
        match Frame::decode(frame).map_err(|e| relay(format!("invalid frame: {e}")))? {
            Frame::Challenge(challenge) => {
                let join = (self.sign)(&challenge).map_err(|e| relay(e.to_string()))?;
                self.outbox.push_back(Frame::Join(join).encode());
                Ok(JsValue::UNDEFINED)
            }
            Frame::Ping(value) => {
                self.outbox.push_back(Frame::Pong(value).encode());
                Ok(JsValue::UNDEFINED)
            }
            // A message to a peer that just left: its leaving is reported on its own.
            Frame::Error {
                code: ErrorCode::UnknownPeer,
                ..
            } => Ok(JsValue::UNDEFINED),
            Frame::Error { message, .. } => Err(relay(format!("the relay refused: {message}"))),
            other => room_event(&other),
        }
    }

    /// Queues `message` (from a pairing machine's `pollTransmit`) for the device `peer` (hex).
    pub fn send(&mut self, peer: &str, message: Vec<u8>) -> Result<(), Error> {
        let to: PeerId = peer.parse().map_err(Error::invalid)?;
        // Pairing messages are far below the relay's payload bound; anything else is a caller bug.
        let payload = message
            .try_into()
            .map_err(|_| Error::invalid("a pairing message over the relay's payload limit"))?;
        self.outbox.push_back(Frame::Send { to, payload }.encode());
        Ok(())
    }

    /// The next binary message to send to the relay, or `undefined`.
    #[wasm_bindgen(js_name = pollTransmit)]
    pub fn poll_transmit(&mut self) -> Option<Uint8Array> {
        self.outbox
            .pop_front()
            .map(|frame| Uint8Array::from(frame.as_slice()))
    }
}

/// The offering side: hands this vault's secret, and the relay address, to the device that
/// proves it knows the code. One attempt: after any failure it refuses every message.
#[wasm_bindgen]
#[derive(Debug)]
pub struct PairingOffer {
    inner: Offer,
}

#[wasm_bindgen]
impl PairingOffer {
    /// An offer of `vault` under `code`; the grant names `relay_url` so the new device syncs
    /// where this one does.
    #[wasm_bindgen(constructor)]
    pub fn new(vault: &Vault, code: &PairingCode, relay_url: &str) -> Result<PairingOffer, Error> {
        let grant = DeviceGrant {
            secret: vault.inner.secret(),
            relay: Some(relay_url.to_owned()),
        };
        let payload = grant.to_bytes().map_err(Error::invalid)?;
        Ok(Self {
            inner: Offer::new(&code.inner, payload)?,
        })
    }

    /// Takes one message from the accepting device. Send what `pollTransmit` returns even when
    /// this throws: it may tell the other device to stop waiting.
    #[wasm_bindgen(js_name = handleMessage)]
    pub fn handle_message(&mut self, message: &[u8]) -> Result<(), Error> {
        Ok(self.inner.handle_message(message)?)
    }

    /// The next message for the accepting device, or `undefined`.
    #[wasm_bindgen(js_name = pollTransmit)]
    pub fn poll_transmit(&mut self) -> Option<Uint8Array> {
        self.inner
            .poll_transmit()
            .map(|m| Uint8Array::from(m.as_slice()))
    }

    /// Whether the other device acknowledged the grant: the pairing succeeded.
    #[wasm_bindgen(getter, js_name = isComplete)]
    pub fn is_complete(&self) -> bool {
        self.inner.is_complete()
    }
}

/// The accepting side: the new device, which receives the grant and becomes a replica.
#[wasm_bindgen]
#[derive(Debug)]
pub struct PairingAccept {
    inner: Accept,
    /// The grant, once it arrived; taken by `restore`.
    grant: Option<DeviceGrant>,
}

#[wasm_bindgen]
impl PairingAccept {
    /// Starts a pairing with the code the user typed; its first message is ready at once.
    #[wasm_bindgen(constructor)]
    pub fn new(code: &PairingCode) -> Result<PairingAccept, Error> {
        Ok(Self {
            inner: Accept::new(&code.inner)?,
            grant: None,
        })
    }

    /// Takes one message from the offering device. Send what `pollTransmit` returns even when
    /// this throws: it may tell the other device to stop waiting.
    #[wasm_bindgen(js_name = handleMessage)]
    pub fn handle_message(&mut self, message: &[u8]) -> Result<(), Error> {
        self.inner.handle_message(message)?;
        if let Some(payload) = self.inner.take_payload() {
            self.grant = Some(
                DeviceGrant::from_bytes(&payload)
                    .map_err(|e| Error::new("pairing", e.to_string()))?,
            );
        }
        Ok(())
    }

    /// The next message for the offering device, or `undefined`.
    #[wasm_bindgen(js_name = pollTransmit)]
    pub fn poll_transmit(&mut self) -> Option<Uint8Array> {
        self.inner
            .poll_transmit()
            .map(|m| Uint8Array::from(m.as_slice()))
    }

    /// Whether the grant arrived (its acknowledgement is in `pollTransmit`).
    #[wasm_bindgen(getter)]
    pub fn received(&self) -> bool {
        self.grant.is_some()
    }

    /// A new replica of the granted vault, wrapped under this device's `passphrase` (Argon2id
    /// at `kdf`, as `Vault.restore`). Its first writes are pending. Once only.
    pub fn restore(
        &mut self,
        passphrase: String,
        #[wasm_bindgen(unchecked_param_type = "KdfParams | null")] kdf_params: JsValue,
    ) -> Result<Vault, Error> {
        let grant = self
            .grant
            .take()
            .ok_or_else(|| Error::new("pairing", "no grant arrived (or it was used already)"))?;
        Vault::restore_secret(&grant.secret, passphrase, kdf_params)
    }
}
