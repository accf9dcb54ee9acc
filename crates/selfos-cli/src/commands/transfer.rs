//! `export`, `import` and `merge-from`: moving answers between files and replicas.

use std::{io::Write as _, path::Path};

use anyhow::Context as _;
use selfos::vault::{Export, FileStore, ImportOptions, Namespace, VaultV1};
use serde_json::json;

use crate::{
    cli::{ExportFormat, Global},
    commands::insight,
    exit::{Failure, USAGE},
    output,
    passphrase::{self, Prompt},
    session::{Outcome, Session, now_ms, vault_dir},
};

/// Exports every readable response, to stdout or a file. A format-1 vault, which nothing else
/// opens any more, is read for this (JSON or Markdown only).
pub(crate) fn export(
    global: &Global,
    format: ExportFormat,
    agent: Option<&Namespace>,
    path: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let dir = vault_dir(global)?;
    if VaultV1::detect(&FileStore::new(dir)).unwrap_or(false) {
        return export_v1(global, dir, format, path);
    }
    let mut session = Session::open(global)?;
    // The export holds readable responses only: name every one it leaves out.
    session.warn_unreadable(&session.vault.list(None).unreadable);
    let data = session.vault.export();
    let text = match format {
        ExportFormat::Json => serde_json::to_string_pretty(&data)? + "\n",
        ExportFormat::Markdown => session.vault.export_markdown(),
        ExportFormat::Instructions => insight::instructions(&session, agent, global.json)?,
    };
    deliver(global, &text, data.responses.len(), path)?;
    Ok(session.finish())
}

fn export_v1(
    global: &Global,
    dir: &Path,
    format: ExportFormat,
    path: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let pass = passphrase::read(global.passphrase_file.as_deref(), Prompt::Once)?;
    let old = VaultV1::open(FileStore::new(dir), &pass)
        .with_context(|| format!("format-1 vault {}", dir.display()))?;
    let data = old.export();
    let text = match format {
        ExportFormat::Json => serde_json::to_string_pretty(&data)? + "\n",
        ExportFormat::Markdown => old.export_markdown(),
        ExportFormat::Instructions => {
            return Err(Failure::new(
                USAGE,
                "a format-1 vault exports as json or markdown only: move its answers first",
            )
            .into());
        }
    };
    deliver(global, &text, data.responses.len(), path)?;
    output::warn(&format!(
        "{} is a format-1 vault, which this version only exports: create a new vault \
         (selfos --vault NEW init) and import this export there (selfos --vault NEW import FILE \
         --from-other-vault)",
        dir.display()
    ));
    Ok(if old.damaged().is_empty() {
        Outcome::Clean
    } else {
        Outcome::Damaged
    })
}

/// Prints an export, or writes it to `path` and says so.
fn deliver(
    global: &Global,
    text: &str,
    responses: usize,
    path: Option<&Path>,
) -> anyhow::Result<()> {
    let Some(path) = path else {
        print!("{text}");
        return Ok(());
    };
    write_private(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    if global.json {
        output::print_json(&json!({ "output": path, "responses": responses }))?;
    } else {
        println!(
            "exported {responses} responses to {} (plain text: keep it private)",
            path.display()
        );
    }
    Ok(())
}

/// Writes a file only its owner can read: an export is not encrypted.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// Adds the responses of a JSON export (of another vault only with `from_other_vault`).
pub(crate) fn import(
    global: &Global,
    path: &Path,
    from_other_vault: bool,
) -> anyhow::Result<Outcome> {
    let bad = |what: String| Failure::new(USAGE, format!("{}: {what}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let data: Export =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a selfos JSON export: {e}")))?;
    let mut session = Session::open(global)?;
    let mut options = ImportOptions::default();
    options.from_other_vault = from_other_vault;
    let report = session.vault.import_with(&data, &options, now_ms()?)?;
    if global.json {
        output::print_json(&json!({
            "added": report.added,
            "existing": report.existing,
            "deleted_here": report.deleted_here,
        }))?;
    } else {
        println!(
            "imported {} responses ({} already here, {} deleted here and left deleted)",
            report.added, report.existing, report.deleted_here
        );
    }
    Ok(session.finish_write())
}

/// Merges another replica's folder into the `--vault` one.
pub(crate) fn merge_from(global: &Global, other_dir: &Path) -> anyhow::Result<Outcome> {
    let dir = vault_dir(global)?;
    let pass = passphrase::read(global.passphrase_file.as_deref(), Prompt::Once)?;
    let mut here = Session::open_with(dir, &pass)?;
    let mut other = Session::open_unlocked(other_dir, &pass).context("the other replica")?;
    let report = here.vault.merge_from(&mut other.vault, now_ms()?)?;
    let namespaces: Vec<&str> = report.namespaces.iter().map(|n| n.as_str()).collect();
    if global.json {
        output::print_json(&json!({
            "new_responses": report.new_responses,
            "deletions": report.deletions,
            "namespaces": namespaces,
            "settings_changed": report.settings_changed,
        }))?;
    } else if namespaces.is_empty() && !report.settings_changed {
        println!("already up to date with {}", other_dir.display());
    } else {
        let mut changed = namespaces.join(", ");
        if report.settings_changed {
            changed.push_str(if changed.is_empty() {
                "settings"
            } else {
                ", settings"
            });
        }
        println!(
            "merged from {}: {} new responses, {} deletions, in {changed}",
            other_dir.display(),
            report.new_responses,
            report.deletions,
        );
    }
    Ok(here.finish_write().and(other.finish()))
}
