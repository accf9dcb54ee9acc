//! What an attacker who holds the passphrase and every stored byte can read. Tests use it to
//! prove that a deleted answer is gone: not in any chunk, and not decryptable from any body left
//! in Automerge's history with any key left anywhere.

use automerge::{AutoCommit, ScalarValue, legacy::OpType};

use crate::{
    body,
    chunk::ChunkBody,
    error::OpenError,
    header::VaultHeader,
    ids::{Namespace, RecordId, ResponseId, VaultId},
    keys::{Passphrase, SecretKey, VaultKeys},
    keytable::KeyState,
    namespace::genesis,
    storage::ChunkStore,
};

/// One chunk, decrypted.
#[derive(Debug)]
pub struct ChunkPlaintext {
    /// Its namespace.
    pub namespace: Namespace,
    /// The Automerge bytes it holds.
    pub doc: Vec<u8>,
    /// Every live record key it holds, with the record.
    pub keys: Vec<(RecordId, [u8; 32])>,
}

/// Decrypts every chunk in `store` that opens.
pub fn chunk_plaintexts(
    store: &impl ChunkStore,
    passphrase: &Passphrase,
) -> Result<(VaultId, Vec<ChunkPlaintext>), OpenError> {
    let header = VaultHeader::decode(&store.read_header()?.ok_or(OpenError::NotFound)?)?;
    let secret = header
        .unseal(&header.device_key(passphrase)?)
        .map_err(|_| OpenError::WrongPassphrase)?;
    let keys = VaultKeys::from_secret(secret)?;
    let mut out = Vec::new();
    for ns in store.namespaces()? {
        for id in store.list(&ns)? {
            let bytes = store.read(&ns, &id)?;
            if let Ok(chunk) = ChunkBody::open(&bytes, &keys.storage, &header.vault, &ns, &id) {
                out.push(ChunkPlaintext {
                    namespace: ns.clone(),
                    doc: chunk.doc,
                    keys: live_keys(chunk.keys),
                });
            }
        }
    }
    Ok((header.vault, out))
}

/// What a bundle of the relay's store holds, once the sync engine opened its blob (see
/// `selfos_sync::testing::open_blob`): `None` if it is not a bundle.
pub fn bundle_plaintext(namespace: Namespace, bundle: &[u8]) -> Option<ChunkPlaintext> {
    let bundle = crate::StoreBundle::decode(bundle).ok()?;
    let (doc, entries) = bundle.into_parts();
    Some(ChunkPlaintext {
        namespace,
        doc,
        keys: live_keys(entries),
    })
}

fn live_keys(entries: Vec<(RecordId, crate::keytable::KeyEntry)>) -> Vec<(RecordId, [u8; 32])> {
    entries
        .into_iter()
        .filter_map(|(r, e)| match e.state {
            KeyState::Live(k) => Some((r, *k.expose())),
            KeyState::Retired(_) | KeyState::Shredded => None,
        })
        .collect()
}

/// Every record body ever written into the Automerge bytes of a namespace's chunks, with its
/// record, taken from the full change history (not just the current state). Pass every chunk
/// of the namespace: incremental changes apply only on top of the ones before them.
pub fn historical_bodies(docs: &[&[u8]]) -> Vec<(RecordId, Vec<u8>)> {
    let mut d = AutoCommit::new();
    for doc in std::iter::once(genesis()).chain(docs.iter().copied()) {
        if d.load_incremental(doc).is_err() {
            return Vec::new();
        }
    }
    let mut out = Vec::new();
    for change in d.get_changes(&[]) {
        for op in change.decode().operations {
            let key = match &op.key {
                automerge::legacy::Key::Map(k) => k.to_string(),
                automerge::legacy::Key::Seq(_) => continue,
            };
            if let (OpType::Put(ScalarValue::Bytes(b)), Ok(record)) = (&op.action, key.parse()) {
                out.push((record, b.clone()));
            }
        }
    }
    out
}

/// Decrypts a body with a raw key, returning its content as JSON, or `None`.
pub fn open_body(
    bytes: &[u8],
    key: &[u8; 32],
    vault: &VaultId,
    namespace: &Namespace,
    record: RecordId,
) -> Option<String> {
    let mut raw = *key;
    let key = SecretKey::from_bytes(&mut raw);
    let id = ResponseId {
        namespace: namespace.clone(),
        record,
    };
    let (_, content) = body::open(bytes, &key, vault, &id).ok()?;
    serde_json::to_string(&content).ok()
}
