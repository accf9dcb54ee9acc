//! `selfos`: the SelfOS command-line client.
//!
//! It keeps a vault of micro-training answers in a folder (one replica per device), records,
//! lists, edits and deletes answers, shows and settles conflicts, exports and imports, merges
//! another replica's folder into this one, syncs with other devices through a relay, picks the
//! next micro-training card, and shows the knowledge graph, metrics and instruction snippets.
//! Every write is stamped with this machine's wall clock.
//!
//! This file only parses the command line and dispatches; each command lives in
//! [`commands`], exit codes in [`exit`].

mod cli;
mod commands;
mod exit;
mod output;
mod passphrase;
mod session;
mod strength;

use std::process::ExitCode;

use clap::Parser;

use crate::{
    cli::{Cli, Command},
    commands::{conflicts, devices, insight, pairing, responses, setup, sync, transfer},
    session::Outcome,
};

fn main() -> ExitCode {
    // `selfos list --json | head` ends quietly, as Unix tools do, instead of panicking.
    sigpipe::reset();
    let Cli { global, command } = Cli::parse();
    let g = &global;
    let result = match command {
        Command::Init(args) => setup::init(g, &args),
        Command::RecoveryKit => setup::recovery_kit(g),
        Command::Pair(args) => pairing::pair(g, &args),
        Command::Join(args) => setup::join(g, &args),
        Command::Passphrase(args) => setup::change_passphrase(g, &args),
        Command::Devices { name, replica } => devices::devices(g, name.as_deref(), replica),
        Command::Record(args) => responses::record(g, args),
        Command::List { agent } => responses::list(g, agent.as_ref()),
        Command::Show { id } => responses::show(g, &id),
        Command::Edit(args) => responses::edit(g, args),
        Command::Delete { id } => responses::delete(g, &id),
        Command::Conflicts => conflicts::list(g),
        Command::Resolve(args) => conflicts::resolve(g, args),
        Command::Policy { agent, policy } => conflicts::policy(g, &agent, policy),
        Command::Export {
            format,
            agent,
            output,
        } => transfer::export(g, format, agent.as_ref(), output.as_deref()),
        Command::NextCard {
            agent,
            wait_secs,
            since_secs,
        } => insight::next_card(g, &agent, wait_secs, since_secs),
        Command::Graph => insight::graph(g),
        Command::Metrics => insight::metrics(g),
        Command::Import {
            file,
            from_other_vault,
        } => transfer::import(g, &file, from_other_vault),
        Command::MergeFrom { dir } => transfer::merge_from(g, &dir),
        Command::Sync(args) => sync::run(g, &args),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::from(exit::OK),
        Ok(Outcome::Damaged) => ExitCode::from(exit::DAMAGED),
        Err(err) => {
            eprintln!("error: {err:#}");
            if let Some(hint) = exit::hint(&err) {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(exit::code(&err))
        }
    }
}
