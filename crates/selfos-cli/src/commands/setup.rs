//! `init`, `link` and `join`: creating replicas of a vault.

use anyhow::Context as _;
use selfos::vault::{FileStore, KdfParams, Vault, VaultLink};
use serde_json::json;

use crate::{
    cli::{Global, InitArgs},
    output,
    passphrase::{self, Prompt},
    session::{Outcome, vault_dir},
};

/// Creates a new vault in the `--vault` folder.
pub(crate) fn init(global: &Global, args: &InitArgs) -> anyhow::Result<Outcome> {
    let dir = vault_dir(global)?;
    let kdf = KdfParams::new(
        args.kdf_memory_kib,
        args.kdf_iterations,
        args.kdf_parallelism,
    )?;
    if kdf.is_weak() {
        output::warn(&format!(
            "Argon2id with {} KiB and {} passes is below OWASP's minimum (19 MiB, 2 passes): \
             fine for tests and demos, weak for a real vault",
            kdf.memory_kib, kdf.iterations
        ));
    }
    let pass = passphrase::read(global.passphrase_file.as_deref(), Prompt::Confirm)?;
    let vault = Vault::create(FileStore::new(dir), &pass, kdf)
        .with_context(|| format!("vault {}", dir.display()))?;
    if global.json {
        output::print_json(&json!({
            "vault": vault.id().to_string(),
            "replica": vault.replica().to_string(),
            "folder": dir,
        }))?;
    } else {
        println!("created vault {} in {}", vault.id(), dir.display());
        println!("next: `selfos record` an answer, or `selfos link` to add another device");
    }
    Ok(Outcome::Clean)
}

/// Prints the link another device joins with.
pub(crate) fn link(global: &Global, relay: Option<String>) -> anyhow::Result<Outcome> {
    let dir = vault_dir(global)?;
    // The link is read from the header: no passphrase, no key derivation.
    let link = Vault::peek_link(&FileStore::new(dir))
        .with_context(|| format!("vault {}", dir.display()))?
        .with_relay(relay)?;
    if global.json {
        output::print_json(&json!({ "link": link.to_string() }))?;
    } else {
        println!("{link}");
        eprintln!(
            "On the other device: selfos --vault DIR join LINK. The link holds nothing secret; \
             the passphrase never travels with it."
        );
    }
    Ok(Outcome::Clean)
}

/// Creates a new replica of the linked vault in the `--vault` folder.
pub(crate) fn join(global: &Global, link: &str) -> anyhow::Result<Outcome> {
    let dir = vault_dir(global)?;
    let link: VaultLink = link.parse()?;
    let pass = passphrase::read(global.passphrase_file.as_deref(), Prompt::Confirm)?;
    let vault = Vault::join(FileStore::new(dir), &link, &pass)
        .with_context(|| format!("vault {}", dir.display()))?;
    if global.json {
        output::print_json(&json!({
            "vault": vault.id().to_string(),
            "replica": vault.replica().to_string(),
            "folder": dir,
            "relay": link.relay,
        }))?;
    } else {
        println!(
            "joined vault {} as a new replica in {}",
            vault.id(),
            dir.display()
        );
        println!(
            "next: `selfos merge-from OTHER_DIR` to bring in another replica's answers \
             (a mistyped passphrase shows up there)"
        );
    }
    Ok(Outcome::Clean)
}
