//! A whole sync through the relay binary, logged at info level as an operator keeps it: the log
//! names no client address, no peer id and no room id, in any form.

use std::net::SocketAddr;

use selfos_sync::room_of;
use selfos_testkit::{RelayProcess, id_forms, relay_binary};
use selfos_vault::{MemoryStore, Vault};

use crate::common::{answer, kdf, now_ms, ns, options, pass, snapshot};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_sync_leaves_no_address_and_no_id_in_the_relays_info_log() {
    let folder = tempfile::tempdir().unwrap();
    let log = folder.path().join("relay.log");
    let relay = {
        let log = log.clone();
        tokio::task::spawn_blocking(move || {
            let listen = SocketAddr::from(([127, 0, 0, 1], 0));
            RelayProcess::start_logged(&relay_binary(), listen, &std::env::temp_dir(), &[], &log)
        })
        .await
        .unwrap()
    };
    let addr = relay.addr;

    let mut laptop = Vault::create(MemoryStore::new(), &pass(), kdf()).unwrap();
    let mut phone = Vault::restore(MemoryStore::new(), &laptop.secret(), &pass(), kdf()).unwrap();
    for (i, vault) in [&mut laptop, &mut phone].into_iter().enumerate() {
        vault
            .record(
                &ns("chatgpt"),
                answer("intent.include", &format!("device {i}")),
                now_ms(),
            )
            .unwrap();
    }
    // Alone (through the store), then together with something new on each side.
    let opts = options(addr);
    for vault in [&mut laptop, &mut phone] {
        selfos_net::sync(vault, &opts, |_| {}).await.unwrap();
    }
    for (i, vault) in [&mut laptop, &mut phone].into_iter().enumerate() {
        let text = format!("device {i}, later");
        vault
            .record(&ns("claude"), answer("intent.include", &text), now_ms())
            .unwrap();
    }
    let mut together = opts.clone();
    together.quiet = std::time::Duration::from_secs(2);
    let tasks = [laptop, phone].map(|mut vault| {
        let opts = together.clone();
        tokio::spawn(async move {
            let summary = selfos_net::sync(&mut vault, &opts, |_| {}).await.unwrap();
            assert_eq!(summary.connections, 1, "{summary:?}");
            vault
        })
    });
    let [laptop, phone] = tasks;
    let (mut laptop, mut phone) = (laptop.await.unwrap(), phone.await.unwrap());
    assert_eq!(snapshot(&mut laptop), snapshot(&mut phone));
    tokio::task::spawn_blocking(move || relay.kill())
        .await
        .unwrap();

    let text = std::fs::read_to_string(&log).unwrap();
    // The log saw the sync: four connections joined and left.
    assert_eq!(text.matches(" joined").count(), 4, "{text}");
    let mut secrets = id_forms(room_of(&laptop.sync_keys()).unwrap().as_bytes());
    for vault in [&laptop, &phone] {
        secrets.extend(id_forms(vault.replica().as_bytes()));
    }
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "{secret:?} in\n{text}");
    }
    // No address either, but the relay's own (the devices' too, on loopback) where it says
    // where it listens.
    for line in text.lines().filter(|l| !l.contains("relay listening")) {
        assert!(!line.contains("127.0.0."), "an address in {line:?}");
    }
}
