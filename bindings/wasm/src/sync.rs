//! `SyncEngine`: the sans-IO sync engine for one relay connection; the TypeScript layer owns
//! the WebSocket and passes frames in and out.

use js_sys::Uint8Array;
use selfos::{
    proto::{PeerId, handshake::Audience},
    sync,
};
use wasm_bindgen::prelude::*;

use crate::{
    convert::{ms, store_status, store_usage, sync_event},
    error::Error,
    vault::Vault,
};

/// The sync engine of one connection. Make a new one for each connection.
#[wasm_bindgen]
#[derive(Debug)]
pub struct SyncEngine {
    inner: sync::SyncEngine,
}

#[wasm_bindgen]
impl SyncEngine {
    /// An engine for `vault` at the relay whose origin is `relay_url` (e.g.
    /// `wss://relay.example`; the socket goes to `relay_url + "/v1/ws"`).
    #[wasm_bindgen(constructor)]
    pub fn new(vault: &Vault, relay_url: &str, now_ms: f64) -> Result<SyncEngine, Error> {
        let relay: Audience = relay_url
            .trim_end_matches('/')
            .parse()
            .map_err(|e| Error::invalid(format!("relay address {relay_url:?}: {e}")))?;
        let me = PeerId::from_bytes(*vault.inner.replica().as_bytes());
        let inner = sync::SyncEngine::new(&vault.inner.sync_keys(), me, relay, ms(now_ms)?)?;
        Ok(Self { inner })
    }

    /// The vault's room id (hex): what the relay sees.
    #[wasm_bindgen(getter)]
    pub fn room(&self) -> String {
        self.inner.room().to_string()
    }

    /// Whether the relay let us into the room.
    #[wasm_bindgen(getter, js_name = isJoined)]
    pub fn is_joined(&self) -> bool {
        self.inner.is_joined()
    }

    /// Where this device stands with the room's store on the relay.
    #[wasm_bindgen(getter, js_name = storeStatus, unchecked_return_type = "StoreStatus")]
    pub fn store_status(&self) -> String {
        store_status(self.inner.store_status()).to_owned()
    }

    /// What the room's store holds and may hold, as the relay last said; `undefined` before its
    /// first listing.
    #[wasm_bindgen(getter, js_name = storeUsage, unchecked_return_type = "StoreUsage | undefined")]
    pub fn store_usage(&self) -> Result<JsValue, Error> {
        self.inner
            .store_usage()
            .map_or(Ok(JsValue::UNDEFINED), |usage| store_usage(&usage))
    }

    /// Whether the room's store, or another device in the room, is known to hold every change
    /// this vault holds.
    #[wasm_bindgen(js_name = inSync)]
    pub fn in_sync(&self, vault: &Vault) -> bool {
        self.inner.in_sync(&vault.inner)
    }

    /// The other devices in the room (replica ids, hex).
    pub fn peers(&self) -> Vec<String> {
        self.inner.peers().map(ToString::to_string).collect()
    }

    /// Handles one binary message from the relay. Commit the vault's pending changes
    /// before sending what `pollTransmit` returns.
    #[wasm_bindgen(js_name = handleFrame)]
    pub fn handle_frame(
        &mut self,
        vault: &mut Vault,
        frame: &[u8],
        now_ms: f64,
    ) -> Result<(), Error> {
        Ok(self
            .inner
            .handle_frame(&mut vault.inner, frame, ms(now_ms)?)?)
    }

    /// Tells every peer what changed locally; call after each local write.
    #[wasm_bindgen(js_name = localChange)]
    pub fn local_change(&mut self, vault: &mut Vault) -> Result<(), Error> {
        Ok(self.inner.local_change(&mut vault.inner)?)
    }

    /// Restarts an exchange that a lost message stalled (see the core's `SyncEngine::tick`);
    /// call every few seconds while connected.
    pub fn tick(&mut self, vault: &mut Vault, now_ms: f64) -> Result<(), Error> {
        Ok(self.inner.tick(&mut vault.inner, ms(now_ms)?)?)
    }

    /// The socket closed: saves what outlives the connection (pending changes follow).
    pub fn disconnected(&mut self, vault: &mut Vault) {
        self.inner.disconnected(&mut vault.inner);
    }

    /// The next binary message to send, or `undefined`.
    #[wasm_bindgen(js_name = pollTransmit)]
    pub fn poll_transmit(&mut self) -> Option<Uint8Array> {
        self.inner
            .poll_transmit()
            .map(|frame| Uint8Array::from(frame.as_slice()))
    }

    /// The next event, or `undefined`.
    #[wasm_bindgen(js_name = pollEvent, unchecked_return_type = "SyncEvent | undefined")]
    pub fn poll_event(&mut self) -> Result<JsValue, Error> {
        match self.inner.poll_event() {
            Some(event) => sync_event(&event),
            None => Ok(JsValue::UNDEFINED),
        }
    }
}
