//! `Vault`: one unlocked replica whose chunks live in a [`JournalStore`]; the TypeScript layer
//! commits what [`Vault::take_pending`] returns to IndexedDB after each call.

use js_sys::{Array, Uint8Array};
use selfos::vault::{
    self as core, Answer, Content, JournalStore, KdfParams, Passphrase, Resolution, SessionKey,
    Status, VaultSecret, VaultV1,
    view::{ConflictView, DamagedView, ListingView, ResponseView},
};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::{
    convert::{from_js, ms, namespace, policy, response_id, store_ops, stored_entries, to_js},
    error::Error,
};

/// An unlocked vault. `free()` locks it: the keys are zeroized.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Vault {
    pub(crate) inner: core::Vault<JournalStore>,
    /// Stored entries the store did not recognise, reported with the damaged chunks.
    unrecognised: Vec<String>,
}

/// Argon2id parameters as JavaScript passes them.
#[derive(Serialize, Deserialize)]
struct KdfView {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

/// How to settle a conflict, as JavaScript passes it.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ResolutionView {
    Keep(usize),
    Answer(Answer),
}

/// A named device, as `deviceNames` lists it.
#[derive(Serialize)]
struct DeviceNameView {
    replica: String,
    name: String,
}

#[derive(Serialize)]
struct DeleteView {
    shredded_in_this_replica: bool,
}

#[derive(Serialize)]
struct ImportView {
    added: usize,
    existing: usize,
    deleted_here: usize,
}

/// `kdf` as JavaScript passes it, or the default for `null`.
fn kdf(kdf: JsValue) -> Result<KdfParams, Error> {
    if kdf.is_null() || kdf.is_undefined() {
        return Ok(KdfParams::DEFAULT);
    }
    let k: KdfView = from_js(kdf, "kdf")?;
    KdfParams::new(k.memory_kib, k.iterations, k.parallelism).map_err(Error::invalid)
}

fn response(r: &core::Response) -> Result<JsValue, Error> {
    to_js(&ResponseView::from(r))
}

#[wasm_bindgen]
impl Vault {
    /// Creates a new vault with a fresh random secret, wrapped under `passphrase` (Argon2id
    /// at `kdf`, default 64 MiB / 3 passes / 4 lanes; below 19 MiB or 2 passes is refused).
    /// Its first writes are pending: commit them before you rely on the vault.
    pub fn create(
        passphrase: String,
        #[wasm_bindgen(unchecked_param_type = "KdfParams | null")] kdf_params: JsValue,
    ) -> Result<Vault, Error> {
        let inner = core::Vault::create(
            JournalStore::new(),
            &Passphrase::new(passphrase),
            kdf(kdf_params)?,
        )?;
        Ok(Self::wrap(inner, Vec::new()))
    }

    /// A new replica of the vault whose recovery kit (24 words) this is, wrapped under this
    /// device's `passphrase`. A mistyped kit is refused (code `invalid`) before anything is
    /// created. Its first writes are pending.
    pub fn restore(
        recovery_kit: &str,
        passphrase: String,
        #[wasm_bindgen(unchecked_param_type = "KdfParams | null")] kdf_params: JsValue,
    ) -> Result<Vault, Error> {
        let secret = VaultSecret::from_recovery_kit(recovery_kit).map_err(Error::invalid)?;
        Self::restore_secret(&secret, passphrase, kdf_params)
    }

    /// The JSON export of a format-1 vault held in `entries` (a format this version opens for
    /// nothing else): import it into a new vault with `importJson(json, true)`.
    #[wasm_bindgen(js_name = exportFormat1)]
    pub fn export_format_1(
        #[wasm_bindgen(unchecked_param_type = "StoredEntry[]")] entries: &Array,
        passphrase: String,
    ) -> Result<String, Error> {
        let (store, _) = stored_entries(entries)?;
        let old = VaultV1::open(store, &Passphrase::new(passphrase))?;
        serde_json::to_string(&old.export()).map_err(|e| Error::new("internal", e.to_string()))
    }

    /// Unlocks the vault held in `entries` (every entry the durable store has). Reads only:
    /// nothing becomes pending, whatever the outcome.
    pub fn open(
        #[wasm_bindgen(unchecked_param_type = "StoredEntry[]")] entries: &Array,
        passphrase: String,
    ) -> Result<Vault, Error> {
        let (store, unrecognised) = stored_entries(entries)?;
        let inner = core::Vault::open(store, &Passphrase::new(passphrase))?;
        Ok(Self::wrap(inner, unrecognised))
    }

    /// Unlocks the vault held in `entries` with a key from `sessionKey()`: no passphrase, no
    /// Argon2id. Reads only.
    pub fn resume(
        #[wasm_bindgen(unchecked_param_type = "StoredEntry[]")] entries: &Array,
        session_key: &[u8],
    ) -> Result<Vault, Error> {
        let (store, unrecognised) = stored_entries(entries)?;
        let key = SessionKey::from_bytes(session_key).map_err(Error::invalid)?;
        let inner = core::Vault::resume(store, &key)?;
        Ok(Self::wrap(inner, unrecognised))
    }

    /// A key that unlocks this vault again without the passphrase, for the next process of
    /// this device (an extension's service worker restarted by the browser). Secret: keep it
    /// only in memory-only storage such as `chrome.storage.session`, never on disk.
    #[wasm_bindgen(js_name = sessionKey)]
    pub fn session_key(&self) -> Uint8Array {
        Uint8Array::from(self.inner.session_key().to_bytes().as_slice())
    }

    /// The Argon2id parameters of new vaults.
    #[wasm_bindgen(js_name = defaultKdf, unchecked_return_type = "KdfParams")]
    pub fn default_kdf() -> Result<JsValue, Error> {
        let k = KdfParams::DEFAULT;
        to_js(&KdfView {
            memory_kib: k.memory_kib,
            iterations: k.iterations,
            parallelism: k.parallelism,
        })
    }

    /// A new replica of the vault whose secret this is, wrapped under `passphrase`: the end of
    /// a restore from the recovery kit, and of a pairing.
    pub(crate) fn restore_secret(
        secret: &VaultSecret,
        passphrase: String,
        kdf_params: JsValue,
    ) -> Result<Vault, Error> {
        let inner = core::Vault::restore(
            JournalStore::new(),
            secret,
            &Passphrase::new(passphrase),
            kdf(kdf_params)?,
        )?;
        Ok(Self::wrap(inner, Vec::new()))
    }

    fn wrap(inner: core::Vault<JournalStore>, unrecognised: Vec<String>) -> Self {
        Self {
            inner,
            unrecognised,
        }
    }

    /// The vault's id (hex).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_string()
    }

    /// This replica's id (hex).
    #[wasm_bindgen(getter)]
    pub fn replica(&self) -> String {
        self.inner.replica().to_string()
    }

    /// The recovery kit: the vault secret as 24 words. Secret: show it to the user, who keeps
    /// it offline; never store or send it.
    #[wasm_bindgen(js_name = recoveryKit)]
    pub fn recovery_kit(&self) -> String {
        self.inner.secret().recovery_kit().to_string()
    }

    /// Wraps the vault secret under a new passphrase for this device only (session keys from
    /// before stop working). The new header is pending: commit it.
    #[wasm_bindgen(js_name = changePassphrase)]
    pub fn change_passphrase(
        &mut self,
        passphrase: String,
        #[wasm_bindgen(unchecked_param_type = "KdfParams | null")] kdf_params: JsValue,
    ) -> Result<(), Error> {
        let kdf = kdf(kdf_params)?;
        self.inner
            .change_passphrase(&Passphrase::new(passphrase), kdf)?;
        Ok(())
    }

    /// Namespaces that hold responses.
    pub fn namespaces(&self) -> Vec<String> {
        self.inner
            .namespaces()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// Records a new response.
    #[wasm_bindgen(unchecked_return_type = "VaultResponse")]
    pub fn record(
        &mut self,
        ns: &str,
        #[wasm_bindgen(unchecked_param_type = "Content")] content: JsValue,
        now_ms: f64,
    ) -> Result<JsValue, Error> {
        let content: Content = from_js(content, "content")?;
        let now = ms(now_ms)?;
        let id = self.inner.record(&namespace(ns)?, content, now)?;
        match self.inner.get(&id)? {
            Some(r) => response(&r),
            None => Err(Error::new("internal", "a recorded response is missing")),
        }
    }

    /// One response, or `undefined`.
    #[wasm_bindgen(unchecked_return_type = "VaultResponse | undefined")]
    pub fn get(&self, id: &str) -> Result<JsValue, Error> {
        match self.inner.get(&response_id(id)?)? {
            Some(r) => response(&r),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// Every response (of one namespace, if given), oldest first, and those unreadable.
    #[wasm_bindgen(unchecked_return_type = "Listing")]
    pub fn list(&self, ns: Option<String>) -> Result<JsValue, Error> {
        let ns = ns.as_deref().map(namespace).transpose()?;
        to_js(&ListingView::from(&self.inner.list(ns.as_ref())))
    }

    /// Changes a response's answer and/or status.
    #[wasm_bindgen(unchecked_return_type = "VaultResponse")]
    pub fn edit(
        &mut self,
        id: &str,
        #[wasm_bindgen(unchecked_param_type = "Answer | null")] answer: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Status | null")] status: JsValue,
        now_ms: f64,
    ) -> Result<JsValue, Error> {
        let answer: Option<Answer> = from_js(answer, "answer")?;
        let status: Option<Status> = from_js(status, "status")?;
        let r = self
            .inner
            .edit(&response_id(id)?, answer, status, ms(now_ms)?)?;
        response(&r)
    }

    /// Deletes a response for good (its key is shredded; see the vault's docs).
    #[wasm_bindgen(unchecked_return_type = "DeleteReport")]
    pub fn delete(&mut self, id: &str, now_ms: f64) -> Result<JsValue, Error> {
        let report = self.inner.delete(&response_id(id)?, ms(now_ms)?)?;
        to_js(&DeleteView {
            shredded_in_this_replica: report.shredded_in_this_replica,
        })
    }

    /// Every record with concurrent values.
    #[wasm_bindgen(unchecked_return_type = "VaultConflict[]")]
    pub fn conflicts(&self) -> Result<JsValue, Error> {
        let conflicts = self.inner.conflicts();
        to_js(&conflicts.iter().map(ConflictView::from).collect::<Vec<_>>())
    }

    /// Settles a conflict: keep one value, or write a new answer.
    #[wasm_bindgen(unchecked_return_type = "VaultResponse")]
    pub fn resolve(
        &mut self,
        id: &str,
        #[wasm_bindgen(unchecked_param_type = "Resolution")] resolution: JsValue,
        now_ms: f64,
    ) -> Result<JsValue, Error> {
        let resolution = match from_js(resolution, "resolution")? {
            ResolutionView::Keep(i) => Resolution::Keep(i),
            ResolutionView::Answer(a) => Resolution::Answer(a),
        };
        let r = self
            .inner
            .resolve(&response_id(id)?, resolution, ms(now_ms)?)?;
        response(&r)
    }

    /// A namespace's conflict policy.
    #[wasm_bindgen(unchecked_return_type = "Policy")]
    pub fn policy(&self, ns: &str) -> Result<String, Error> {
        Ok(self.inner.policy(&namespace(ns)?).to_string())
    }

    /// Sets a namespace's conflict policy; syncs like any change.
    #[wasm_bindgen(js_name = setPolicy)]
    pub fn set_policy(
        &mut self,
        ns: &str,
        #[wasm_bindgen(unchecked_param_type = "Policy")] name: &str,
        now_ms: f64,
    ) -> Result<(), Error> {
        Ok(self
            .inner
            .set_policy(&namespace(ns)?, policy(name)?, ms(now_ms)?)?)
    }

    /// Every named device of the vault, by replica id.
    #[wasm_bindgen(js_name = deviceNames, unchecked_return_type = "DeviceName[]")]
    pub fn device_names(&self) -> Result<JsValue, Error> {
        let named: Vec<DeviceNameView> = self
            .inner
            .device_names()
            .into_iter()
            .map(|(replica, name)| DeviceNameView {
                replica: replica.to_string(),
                name,
            })
            .collect();
        to_js(&named)
    }

    /// Names the device of `replica` (hex); syncs like any change.
    #[wasm_bindgen(js_name = setDeviceName)]
    pub fn set_device_name(&mut self, replica: &str, name: &str, now_ms: f64) -> Result<(), Error> {
        let replica = replica.parse().map_err(Error::invalid)?;
        Ok(self.inner.set_device_name(&replica, name, ms(now_ms)?)?)
    }

    /// The whole vault as JSON that `importJson` reads back.
    #[wasm_bindgen(js_name = exportJson)]
    pub fn export_json(&self) -> Result<String, Error> {
        serde_json::to_string_pretty(&self.inner.export())
            .map_err(|e| Error::new("internal", e.to_string()))
    }

    /// The whole vault as Markdown, for people.
    #[wasm_bindgen(js_name = exportMarkdown)]
    pub fn export_markdown(&self) -> String {
        self.inner.export_markdown()
    }

    /// Imports a JSON export; keeps ids and times, never brings back a deleted response, and
    /// takes a policy only where it was set later than here. An export of another vault is
    /// refused (`other-vault`, naming both vaults) unless `from_other_vault` is true.
    #[wasm_bindgen(js_name = importJson, unchecked_return_type = "ImportReport")]
    pub fn import_json(
        &mut self,
        json: &str,
        now_ms: f64,
        from_other_vault: Option<bool>,
    ) -> Result<JsValue, Error> {
        let export =
            serde_json::from_str(json).map_err(|e| Error::invalid(format!("export: {e}")))?;
        let mut options = core::ImportOptions::default();
        options.from_other_vault = from_other_vault.unwrap_or(false);
        let report = self.inner.import_with(&export, &options, ms(now_ms)?)?;
        to_js(&ImportView {
            added: report.added,
            existing: report.existing,
            deleted_here: report.deleted_here,
        })
    }

    /// Stored entries that could not be read when the vault was opened (left untouched).
    #[wasm_bindgen(unchecked_return_type = "DamagedEntry[]")]
    pub fn damaged(&self) -> Result<JsValue, Error> {
        let mut out: Vec<DamagedView> = self.inner.damaged().iter().map(Into::into).collect();
        out.extend(self.unrecognised.iter().map(|key| DamagedView {
            key: key.clone(),
            reason: "not an entry this version of SelfOS knows".into(),
        }));
        to_js(&out)
    }

    /// Compacts namespaces that are due; call when idle. Returns the namespaces compacted.
    pub fn maintain(&mut self) -> Result<Vec<String>, Error> {
        Ok(self
            .inner
            .maintain()?
            .iter()
            .map(ToString::to_string)
            .collect())
    }

    /// Every store change since the last call, oldest first. Commit them in one transaction.
    #[wasm_bindgen(js_name = takePending, unchecked_return_type = "StoreOp[]")]
    pub fn take_pending(&mut self) -> Result<Array, Error> {
        store_ops(self.inner.store_mut().take_pending())
    }

    /// Whether store changes wait to be taken.
    #[wasm_bindgen(js_name = hasPending)]
    pub fn has_pending(&self) -> bool {
        self.inner.store().has_pending()
    }
}
