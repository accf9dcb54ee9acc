//! `pair`, and the receiving half of `join --code`: a device of the vault hands the vault secret
//! to a new one under a one-time code, through the relay (SPAKE2; PROTOCOL.md, "Pairing").

use std::{io::Write as _, path::Path, time::Duration};

use selfos::{
    net::pairing::{PairingNetError, PairingOptions, accept, offer},
    sync::pairing::{PairingCode, PairingError},
    vault::DeviceGrant,
};
use serde_json::json;

use crate::{
    cli::{Global, PairArgs},
    commands::sync::{relay_and_roots, runtime},
    exit::{Failure, NOT_FOUND, RELAY, USAGE, WRONG_PASSPHRASE},
    output,
    passphrase::{self, Prompt},
    session::{Outcome, Session, vault_dir},
};

/// Shows a one-time code and hands the vault secret, and the relay address, to the device that
/// enters it.
pub(crate) fn pair(global: &Global, args: &PairArgs) -> anyhow::Result<Outcome> {
    let (relay, roots) = relay_and_roots(&args.relay, args.ca_cert.as_deref())?;
    let pass = passphrase::read(global.passphrase_file.as_deref(), Prompt::Once)?;
    // Only the secret is read: the writer lock stays free for the minutes the code is open.
    let session = Session::open_unlocked(vault_dir(global)?, &pass)?;
    drop(pass);
    let grant = DeviceGrant {
        secret: session.vault.secret(),
        relay: Some(relay.to_string()),
    };
    let payload = grant.to_bytes()?;
    let code = PairingCode::generate()?;
    if global.json {
        output::print_json(&json!({ "code": code.to_string(), "relay": relay.to_string() }))?;
    } else {
        println!("{code}");
        eprintln!(
            "On the new device, within {} minutes: selfos --vault DIR join --code {code} --relay {relay}\n\
             The code works once. Waiting for the other device...",
            args.expiry.div_ceil(60)
        );
    }
    std::io::stdout().flush()?;
    let mut opts = PairingOptions::new();
    opts.expiry = Duration::from_secs(args.expiry);
    opts.extra_roots = roots;
    runtime()?
        .block_on(offer(&relay, &code, payload, &opts))
        .map_err(|e| failed(&code, e))?;
    if global.json {
        output::print_json(&json!({ "paired": true }))?;
    } else {
        println!(
            "paired: the other device now holds vault {}",
            session.vault.id()
        );
    }
    Ok(session.finish())
}

/// Receives the grant of the device that shows `code`.
pub(crate) fn receive(
    code: &str,
    relay: &str,
    ca_cert: Option<&Path>,
    offer_wait: Duration,
) -> anyhow::Result<DeviceGrant> {
    let (relay, roots) = relay_and_roots(relay, ca_cert)?;
    let code: PairingCode = code
        .parse()
        .map_err(|e| Failure::new(USAGE, format!("pairing code: {e}")))?;
    let mut opts = PairingOptions::new();
    opts.offer_wait = offer_wait;
    opts.extra_roots = roots;
    eprintln!("pairing through {relay}...");
    let payload = runtime()?
        .block_on(accept(&relay, &code, &opts))
        .map_err(|e| failed(&code, e))?;
    Ok(DeviceGrant::from_bytes(&payload)?)
}

/// A failed pairing, named by its code (which no longer works either way), with the exit code
/// that says what to do.
fn failed(code: &PairingCode, e: PairingNetError) -> anyhow::Error {
    let exit = match &e {
        PairingNetError::Pairing(PairingError::WrongCode | PairingError::PeerAborted) => {
            WRONG_PASSPHRASE
        }
        PairingNetError::NoOffer | PairingNetError::Expired(_) => NOT_FOUND,
        _ => RELAY,
    };
    Failure::new(exit, format!("pairing with code {code} failed: {e}")).into()
}
