//! `sync`: meet the vault's other devices at a relay.

use std::{io::IsTerminal as _, path::Path, time::Duration};

use anyhow::Context as _;
use base64::{Engine, engine::general_purpose::STANDARD};
use selfos::{
    net::{Progress, RelayAddress, SyncOptions, SyncSummary},
    sync::{StoreStatus, SyncEvent},
};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::{
    cli::{Global, SyncArgs},
    exit::{Failure, USAGE},
    output,
    passphrase::{self, Prompt},
    session::{Outcome, Session, vault_dir},
};

/// The relay address of `--relay`, checked, and the certificates of `--ca-cert`, if given.
pub(crate) fn relay_and_roots(
    relay: &str,
    ca_cert: Option<&Path>,
) -> anyhow::Result<(RelayAddress, Vec<Vec<u8>>)> {
    let relay: RelayAddress = relay
        .parse()
        .map_err(|e| Failure::new(USAGE, format!("{e}")))?;
    let Some(path) = ca_cert else {
        return Ok((relay, Vec::new()));
    };
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let roots = certificates(&bytes)
        .ok_or_else(|| Failure::new(USAGE, format!("{}: no certificate in it", path.display())))?;
    Ok((relay, roots))
}

/// The runtime network commands block on.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the network runtime")
}

/// Runs `sync` (or `sync --watch`).
pub(crate) fn run(global: &Global, args: &SyncArgs) -> anyhow::Result<Outcome> {
    let (relay, roots) = relay_and_roots(&args.relay, args.ca_cert.as_deref())?;
    let mut opts = SyncOptions::new(relay.clone());
    opts.peer_wait = Duration::from_secs(args.peer_wait);
    opts.timeout = Duration::from_secs(args.timeout);
    opts.extra_roots = roots;
    let dir = vault_dir(global)?;
    let pass = passphrase::read(global.passphrase_file.as_deref(), Prompt::Once)?;
    // Watch stays open for long, so it does not hold the writer lock (see Session).
    let mut session = if args.watch {
        Session::open_unlocked(dir, &pass)?
    } else {
        Session::open_with(dir, &pass)?
    };
    drop(pass);
    let runtime = runtime()?;
    let quiet = global.json;
    let report = |p: Progress<'_>| {
        if !quiet {
            progress(&relay, p);
        }
    };
    let summary = if args.watch {
        let stop = CancellationToken::new();
        let on_signal = stop.clone();
        runtime.block_on(async {
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                on_signal.cancel();
            });
            selfos::net::watch(&mut session.vault, &opts, &stop, report).await
        })?
    } else {
        runtime.block_on(selfos::net::sync(&mut session.vault, &opts, report))?
    };
    print_summary(global, &relay, &summary)?;
    Ok(session.finish_write())
}

/// DER certificates from PEM text, or the bytes themselves if they are DER.
fn certificates(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Some(vec![bytes.to_vec()]);
    };
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line == "-----BEGIN CERTIFICATE-----" {
            current = Some(String::new());
        } else if line == "-----END CERTIFICATE-----" {
            out.push(STANDARD.decode(current.take()?).ok()?);
        } else if let Some(body) = current.as_mut() {
            body.push_str(line);
        }
    }
    (!out.is_empty()).then_some(out)
}

fn progress(relay: &RelayAddress, p: Progress<'_>) {
    match p {
        Progress::Connecting(1) => eprintln!("connecting to {relay}"),
        Progress::Connecting(n) => eprintln!("connecting to {relay} (attempt {n})"),
        Progress::Joined => eprintln!("in the vault's room; syncing"),
        Progress::Disconnected { reason, retry_in } => {
            eprintln!("{reason}; trying again in {:.1} s", retry_in.as_secs_f64());
        }
        Progress::Event(event) => match event {
            SyncEvent::PeerJoined(p) => eprintln!("device {} is online", short(&p.to_string())),
            SyncEvent::PeerLeft(p) => eprintln!("device {} went offline", short(&p.to_string())),
            SyncEvent::Changed {
                from, namespace, ..
            } => eprintln!("{namespace}: changes from {}", short(&from.to_string())),
            SyncEvent::Rejected { from, reason } => output::warn(&format!(
                "refused a message from {}: {reason}",
                short(&from.to_string())
            )),
            SyncEvent::RelayError { code, message } => {
                output::warn(&format!("relay: {message} ({code:?})"));
            }
            SyncEvent::Resynced { peer, namespace } => eprintln!(
                "{namespace}: a message to or from {} was lost; starting that exchange over",
                short(&peer.to_string())
            ),
            SyncEvent::FromStore { namespace, .. } => {
                eprintln!("{namespace}: changes from the relay's store");
            }
            SyncEvent::StoreProgress {
                fetched_bytes,
                total_bytes,
            } => store_progress(*fetched_bytes, *total_bytes),
            SyncEvent::Store(StoreStatus::Full) => output::warn(
                "the relay's store for this vault is full: new answers stay on this device and \
                 reach the others only while they are online together with it",
            ),
            SyncEvent::Store(StoreStatus::Unavailable) => {
                eprintln!("the relay's store is unavailable; asking again shortly");
            }
            SyncEvent::Warning(w) => output::warn(w),
            _ => {}
        },
        _ => {}
    }
}

/// A progress bar for a catch-up from the store, redrawn in place on a terminal; elsewhere
/// only its end is written, once.
fn store_progress(fetched: u64, total: u64) {
    let done = fetched >= total;
    let line = format!(
        "catching up from the relay's store: {:>3}% ({} of {})",
        (fetched.saturating_mul(100) / total.max(1)).min(100),
        output::bytes(fetched),
        output::bytes(total)
    );
    if std::io::stderr().is_terminal() {
        eprint!("\r{line}{}", if done { "\n" } else { "" });
    } else if done {
        eprintln!("{line}");
    }
}

fn deletions(n: usize) -> String {
    if n > 0 {
        format!(" ({n} deletions)")
    } else {
        String::new()
    }
}

/// The word `--json` prints for a store status.
fn store_word(status: StoreStatus) -> &'static str {
    match status {
        StoreStatus::Disabled => "none",
        StoreStatus::Settled => "in-sync",
        StoreStatus::Full => "full",
        StoreStatus::Unavailable => "unavailable",
        _ => "syncing",
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn print_summary(global: &Global, relay: &RelayAddress, s: &SyncSummary) -> anyhow::Result<()> {
    let peers: Vec<String> = s.peers.iter().map(ToString::to_string).collect();
    let changed: Vec<&str> = s.changed.iter().map(|n| n.as_str()).collect();
    let store = s.store.map(store_word);
    if global.json {
        return output::print_json(&json!({
            "relay": relay.to_string(),
            "peers": peers,
            "changed": changed,
            "deletions": s.deletions,
            "rejected": s.rejected,
            "warnings": s.warnings,
            "connections": s.connections,
            "store": store,
            "store_bytes": s.store_usage.map(|u| u.bytes),
            "store_max_bytes": s.store_usage.map(|u| u.max_bytes),
        }));
    }
    let stored = s.store_usage.map(|u| {
        format!(
            " (it holds {} of this vault's {})",
            output::bytes(u.bytes),
            output::bytes(u.max_bytes)
        )
    });
    match s.store {
        Some(StoreStatus::Settled) => println!(
            "the relay's store and this device agree{}",
            stored.unwrap_or_default()
        ),
        Some(StoreStatus::Full) => println!(
            "the relay's store is full{}: what is new here stays here until space is freed",
            stored.unwrap_or_default()
        ),
        _ => {}
    }
    let stores = matches!(s.store, Some(StoreStatus::Settled | StoreStatus::Full));
    if peers.is_empty() && stores {
        if !changed.is_empty() {
            println!(
                "changed here: {}{}",
                changed.join(", "),
                deletions(s.deletions)
            );
        }
    } else if peers.is_empty() {
        println!(
            "no other device of this vault was online at {relay}, and the relay keeps no store \
             for it; run sync on both devices at the same time (or keep one running with --watch)"
        );
    } else if changed.is_empty() {
        println!("in sync with {} device(s); nothing new here", peers.len());
    } else {
        println!(
            "in sync with {} device(s); changed here: {}{}",
            peers.len(),
            changed.join(", "),
            deletions(s.deletions)
        );
    }
    for r in &s.rejected {
        output::warn(&format!("refused: {r}"));
    }
    Ok(())
}
