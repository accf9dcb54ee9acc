//! `selfos devices`: the names of the vault's devices, and renaming one. A new replica names
//! itself after this machine's hostname, so the other devices show something recognisable.

use std::path::Path;

use selfos::vault::{ChunkStore, ReplicaId, Vault};
use serde_json::json;

use crate::{
    cli::Global,
    output,
    session::{Outcome, Session, now_ms},
};

/// Lists the named devices; with `name`, first names this device (or `replica`) `name`.
pub(crate) fn devices(
    global: &Global,
    name: Option<&str>,
    replica: Option<ReplicaId>,
) -> anyhow::Result<Outcome> {
    let mut session = Session::open(global)?;
    let me = session.vault.replica();
    if let Some(name) = name {
        let target = replica.unwrap_or(me);
        session.vault.set_device_name(&target, name, now_ms()?)?;
    }
    let named = session.vault.device_names();
    if global.json {
        let list: Vec<_> = named
            .iter()
            .map(|(replica, name)| {
                json!({ "replica": replica.to_string(), "name": name, "this_device": *replica == me })
            })
            .collect();
        output::print_json(&json!(list))?;
    } else {
        for (replica, name) in &named {
            let this = if *replica == me {
                "  (this device)"
            } else {
                ""
            };
            println!("{replica}  {name}{this}");
        }
        if !named.iter().any(|(r, _)| *r == me) {
            println!("{me}  (unnamed: `selfos devices --name NAME`)  (this device)");
        }
    }
    Ok(if name.is_some() {
        session.finish_write()
    } else {
        session.finish()
    })
}

/// Names a new replica after this machine; a failure only warns (the replica works unnamed).
pub(crate) fn name_new_replica<S: ChunkStore>(vault: &mut Vault<S>) {
    let me = vault.replica();
    let named = now_ms().and_then(|now| Ok(vault.set_device_name(&me, &hostname(), now)?));
    if let Err(e) = named {
        output::warn(&format!("this device stays unnamed: {e:#}"));
    }
}

/// This machine's name, or a plain description when it has none to read.
fn hostname() -> String {
    let from_file = |path: &str| std::fs::read_to_string(Path::new(path)).ok();
    from_file("/proc/sys/kernel/hostname")
        .or_else(|| from_file("/etc/hostname"))
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "command line".to_owned())
}
