//! No relay at all: `sync` gives up with a clear error and leaves the vault as it was.

use std::time::{Duration, Instant};

use selfos_net::NetError;
use selfos_vault::{MemoryStore, Vault};

use crate::common::{answer, kdf, now_ms, ns, options, pass};

#[tokio::test]
async fn sync_without_a_relay_fails_clearly_and_changes_nothing() {
    // A port that was free a moment ago and has no listener now.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut vault = Vault::create(MemoryStore::new(), &pass(), kdf()).unwrap();
    vault
        .record(
            &ns("chatgpt"),
            answer("intent.include", "kept offline"),
            now_ms(),
        )
        .unwrap();
    let before = vault.store().clone();
    let mut opts = options(addr);
    opts.timeout = Duration::from_millis(800);
    let mut attempts = 0;
    let started = Instant::now();
    let err = selfos_net::sync(&mut vault, &opts, |p| {
        if matches!(p, selfos_net::Progress::Connecting(_)) {
            attempts += 1;
        }
    })
    .await
    .unwrap_err();
    let took = started.elapsed();

    assert!(
        matches!(err, NetError::Connection(_) | NetError::Timeout(_)),
        "{err:?}"
    );
    if let NetError::Connection(_) = err {
        assert!(
            err.to_string().starts_with("relay connection: "),
            "unclear: {err}"
        );
    }
    assert!(
        attempts > 1,
        "it should retry with backoff, made {attempts} attempts"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(vault.store() == &before, "the store changed");
    assert_eq!(vault.list(None).responses.len(), 1);
}
