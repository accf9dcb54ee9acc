//! `init`, `recovery-kit`, `join` and `passphrase`: creating replicas of a vault and guarding
//! the vault secret on this device.

use std::{io::Read as _, path::Path, time::Duration};

use anyhow::Context as _;
use selfos::vault::{ChunkStore as _, FileStore, KdfParams, Passphrase, Vault, VaultSecret};
use serde_json::json;
use zeroize::Zeroizing;

use crate::{
    cli::{Global, InitArgs, JoinArgs, KdfArgs, PassphraseArgs},
    commands::{devices, pairing},
    exit::{Failure, USAGE},
    output,
    passphrase::{self, Prompt},
    session::{Outcome, Session, vault_dir},
    strength,
};

/// The checked Argon2id parameters of the flags.
fn kdf(args: &KdfArgs) -> anyhow::Result<KdfParams> {
    let kdf = KdfParams::new(
        args.kdf_memory_kib,
        args.kdf_iterations,
        args.kdf_parallelism,
    )?;
    let floor = KdfParams::FLOOR;
    if kdf.memory_kib < floor.memory_kib || kdf.iterations < floor.iterations {
        // Only a build for the project's tests gets here.
        output::warn(&format!(
            "Argon2id with {} KiB and {} passes is below OWASP's minimum (19 MiB, 2 passes): \
             this test build accepts it, a release refuses it",
            kdf.memory_kib, kdf.iterations
        ));
    }
    Ok(kdf)
}

/// A new passphrase for this device, checked for strength.
fn new_passphrase(global: &Global) -> anyhow::Result<Passphrase> {
    let pass = passphrase::read(global.passphrase_file.as_deref(), Prompt::Confirm)?;
    strength::check(&pass)?;
    Ok(pass)
}

/// Creates a new vault in the `--vault` folder.
pub(crate) fn init(global: &Global, args: &InitArgs) -> anyhow::Result<Outcome> {
    let dir = vault_dir(global)?;
    let kdf = kdf(&args.kdf)?;
    let pass = if args.generate_passphrase {
        passphrase::generate()?
    } else {
        new_passphrase(global)?
    };
    let mut vault = Vault::create(FileStore::new(dir), &pass, kdf)
        .with_context(|| format!("vault {}", dir.display()))?;
    devices::name_new_replica(&mut vault);
    let generated = args.generate_passphrase.then(|| pass.expose());
    if global.json {
        output::print_json(&json!({
            "vault": vault.id().to_string(),
            "replica": vault.replica().to_string(),
            "folder": dir,
            "passphrase": generated,
        }))?;
    } else {
        println!("created vault {} in {}", vault.id(), dir.display());
        if let Some(words) = generated {
            println!("passphrase of this device: {words}");
            eprintln!("Write the passphrase down now: it is stored nowhere and never shown again.");
        }
        println!(
            "next: `selfos recovery-kit` and keep its 24 words offline (the one way back if \
             this device is lost), then `selfos record` an answer"
        );
    }
    Ok(Outcome::Clean)
}

/// Prints the recovery kit of the vault in the `--vault` folder.
pub(crate) fn recovery_kit(global: &Global) -> anyhow::Result<Outcome> {
    let session = Session::open(global)?;
    let kit = session.vault.secret().recovery_kit();
    if global.json {
        let words: Vec<&str> = kit
            .lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(str::split_whitespace)
            .collect();
        output::print_json(&json!({ "vault": session.vault.id().to_string(), "words": words }))?;
    } else {
        print!("{}", kit.as_str());
        eprintln!(
            "These 24 words are the vault's one secret: with them anyone can restore a device of \
             vault {} and read every answer. Write them down, keep them offline, never type them \
             into a website. On a new device: selfos --vault DIR join --recovery-kit FILE",
            session.vault.id()
        );
    }
    Ok(session.finish())
}

/// Reads a recovery kit from a file, or from standard input for `-`.
fn read_kit(path: &Path) -> anyhow::Result<VaultSecret> {
    let mut text = Zeroizing::new(String::new());
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut text).map(drop))
    };
    read.map_err(|e| {
        Failure::new(
            USAGE,
            format!("cannot read the recovery kit {}: {e}", path.display()),
        )
    })?;
    Ok(VaultSecret::from_recovery_kit(&text)?)
}

/// Creates a new replica, in the `--vault` folder, of the vault whose pairing code or recovery
/// kit is given.
pub(crate) fn join(global: &Global, args: &JoinArgs) -> anyhow::Result<Outcome> {
    let dir = vault_dir(global)?;
    let kdf = kdf(&args.kdf)?;
    let store = FileStore::new(dir);
    if let Some(code) = &args.code {
        // Checked before the code is spent, and the passphrase asked before the wait.
        if store.read_header()?.is_some() {
            let exists = format!("{} already holds a vault", dir.display());
            return Err(Failure::new(USAGE, exists).into());
        }
        let pass = new_passphrase(global)?;
        let relay = args.relay.as_deref().unwrap_or_default();
        let wait = Duration::from_secs(args.offer_wait);
        let grant = pairing::receive(code, relay, args.ca_cert.as_deref(), wait)?;
        let offered = grant.relay.as_deref().filter(|r| *r != relay);
        return finish_join(global, dir, store, &grant.secret, &pass, kdf, offered);
    }
    let path = args
        .recovery_kit
        .as_deref()
        .ok_or_else(|| Failure::new(USAGE, "give --code or --recovery-kit"))?;
    let secret = read_kit(path)?;
    let pass = new_passphrase(global)?;
    finish_join(global, dir, store, &secret, &pass, kdf, None)
}

/// Restores the vault secret into `store` under `pass`, and says what to do next.
fn finish_join(
    global: &Global,
    dir: &Path,
    store: FileStore,
    secret: &VaultSecret,
    pass: &Passphrase,
    kdf: KdfParams,
    offered_relay: Option<&str>,
) -> anyhow::Result<Outcome> {
    let mut vault = Vault::restore(store, secret, pass, kdf)
        .with_context(|| format!("vault {}", dir.display()))?;
    devices::name_new_replica(&mut vault);
    if global.json {
        output::print_json(&json!({
            "vault": vault.id().to_string(),
            "replica": vault.replica().to_string(),
            "folder": dir,
            "other_relay": offered_relay,
        }))?;
    } else {
        println!(
            "joined vault {} as a new replica in {}",
            vault.id(),
            dir.display()
        );
        if let Some(other) = offered_relay {
            // Never followed silently: the user decides where this device syncs.
            println!("the other device syncs at {other}");
        }
        println!("next: `selfos sync --relay URL` to bring in the other devices' answers");
    }
    Ok(Outcome::Clean)
}

/// Wraps the vault secret of this device under a new passphrase.
pub(crate) fn change_passphrase(global: &Global, args: &PassphraseArgs) -> anyhow::Result<Outcome> {
    let kdf = kdf(&args.kdf)?;
    let mut session = Session::open(global)?;
    let new = passphrase::read_new(args.new_passphrase_file.as_deref())?;
    strength::check(&new)?;
    session
        .vault
        .change_passphrase(&new, kdf)
        .context("writing the header with the new passphrase")?;
    if global.json {
        output::print_json(&json!({ "vault": session.vault.id().to_string() }))?;
    } else {
        println!(
            "this device's passphrase changed; the other devices of vault {} keep theirs",
            session.vault.id()
        );
    }
    Ok(session.finish())
}
