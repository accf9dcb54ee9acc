//! An honest sync stays under the relay's default rate limits: a burst of thousands of changes,
//! uploaded to the store, caught up from it by a device alone, then synced live, each on one
//! connection that the relay never closes.

use std::net::SocketAddr;

use selfos_relay::{RelayConfig, Server, StoreConfig};
use selfos_vault::{MemoryStore, Vault};

use crate::common::{answer, kdf, now_ms, ns, options, pass, snapshot};

/// Answers recorded at once on one device, spread over namespaces.
const BURST: usize = 2000;

fn record_burst(vault: &mut Vault<MemoryStore>, from: &str) {
    for i in 0..BURST {
        let namespace = ns(["chatgpt", "claude", "profile", "agent-ocelot"][i % 4]);
        let text = format!("{from} answer {i}");
        vault
            .record(&namespace, answer("intent.include", &text), now_ms())
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_thousands_of_changes_stays_under_the_default_rate_limits() {
    let folder = tempfile::tempdir().unwrap();
    let mut cfg = RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    cfg.store = StoreConfig::Sqlite(folder.path().join("store.db"));
    let server = Server::spawn(cfg).await.unwrap();
    let opts = options(server.local_addr());

    let mut laptop = Vault::create(MemoryStore::new(), &pass(), kdf()).unwrap();
    let mut phone = Vault::restore(MemoryStore::new(), &laptop.secret(), &pass(), kdf()).unwrap();
    record_burst(&mut laptop, "laptop");
    // Alone: everything goes up to the store, then comes down to the other device.
    for vault in [&mut laptop, &mut phone] {
        let summary = selfos_net::sync(vault, &opts, |_| {}).await.unwrap();
        assert_eq!(summary.connections, 1, "{summary:?}");
    }
    assert_eq!(snapshot(&mut phone), snapshot(&mut laptop));

    // Together: a second burst from each side, live.
    record_burst(&mut laptop, "laptop again");
    record_burst(&mut phone, "phone");
    let mut opts_together = opts.clone();
    opts_together.quiet = std::time::Duration::from_secs(2);
    let (a, b) = tokio::join!(
        selfos_net::sync(&mut laptop, &opts_together, |_| {}),
        selfos_net::sync(&mut phone, &opts_together, |_| {}),
    );
    for summary in [a.unwrap(), b.unwrap()] {
        assert_eq!(summary.connections, 1, "{summary:?}");
        assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
    }
    let both = snapshot(&mut laptop);
    assert_eq!(both.responses.len(), 3 * BURST);
    assert_eq!(snapshot(&mut phone), both);
}
