//! Export (JSON that `import` reads back; Markdown for people) and import.

use std::{collections::BTreeMap, fmt::Write as _};

use automerge::transaction::Transactable;
use serde::{Deserialize, Serialize};

use crate::{
    body,
    conflict::Policy,
    error::WriteError,
    hlc::Hlc,
    ids::{Namespace, ResponseId},
    keys::SecretKey,
    keytable::KeyState,
    response::{Answer, Content},
    storage::ChunkStore,
    vault::Vault,
};

/// The `format` field of a JSON export.
pub const EXPORT_FORMAT: &str = "selfos-export";
/// The schema version this build writes and reads.
pub const EXPORT_VERSION: u32 = 1;

/// A whole vault as plain data. Serialized as JSON; see FORMAT.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// [`EXPORT_VERSION`].
    pub schema_version: u32,
    /// The vault it came from (hex).
    pub vault: String,
    /// The conflict policy of each namespace that has one set.
    pub policies: BTreeMap<String, Policy>,
    /// Every readable response, ordered by namespace and id.
    pub responses: Vec<ExportedResponse>,
}

/// One response in an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedResponse {
    /// `namespace/record`.
    pub id: String,
    /// When it was last written, ms since the Unix epoch.
    pub updated_ms: u64,
    /// Its content.
    #[serde(flatten)]
    pub content: Content,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Responses added.
    pub added: usize,
    /// Responses already present, left as they are.
    pub existing: usize,
    /// Responses deleted in this vault, not brought back.
    pub deleted_here: usize,
}

impl<S: ChunkStore> Vault<S> {
    /// The whole vault as an [`Export`]. Unreadable responses are not in it: check
    /// [`Vault::list`]'s `unreadable` first.
    pub fn export(&self) -> Export {
        let mut responses: Vec<ExportedResponse> = self
            .list(None)
            .responses
            .into_iter()
            .map(|r| ExportedResponse {
                id: r.id.to_string(),
                updated_ms: r.updated.wall_ms,
                content: r.content,
            })
            .collect();
        responses.sort_by(|a, b| a.id.cmp(&b.id));
        let policies = self
            .namespaces()
            .into_iter()
            .map(|ns| (ns.to_string(), self.policy(&ns)))
            .collect();
        Export {
            format: EXPORT_FORMAT.into(),
            schema_version: EXPORT_VERSION,
            vault: self.id().to_string(),
            policies,
            responses,
        }
    }

    /// The whole vault as Markdown, grouped by namespace, oldest first. Text from the vault is
    /// kept on one line, its control and bidi-control characters are written as escapes
    /// (`\u{202e}`), and Markdown's inline syntax in it is escaped: see FORMAT.md.
    pub fn export_markdown(&self) -> String {
        let mut out = String::from("# SelfOS vault export\n");
        let listing = self.list(None);
        for ns in self.namespaces() {
            let _ = write!(
                out,
                "\n## {} ({})\n\n",
                markdown_text(ns.as_str()),
                self.policy(&ns)
            );
            for r in listing.responses.iter().filter(|r| r.id.namespace == ns) {
                let c = &r.content;
                let answer = match &c.answer {
                    Some(Answer::Text(t) | Answer::Choice(t)) => markdown_text(t),
                    Some(Answer::Rating(n)) => format!("{n}/5"),
                    None => "(no answer)".into(),
                };
                let _ = writeln!(
                    out,
                    "- **{}** ({}, {}, {}): {answer}",
                    markdown_text(&c.card_id),
                    serde_plain(&c.card_kind),
                    serde_plain(&c.status),
                    utc(c.created_ms),
                );
            }
        }
        out
    }

    /// Adds the responses of an export. Responses already here are kept as they are; responses
    /// deleted here stay deleted. Each namespace is written as one chunk.
    pub fn import(&mut self, export: &Export, now_ms: u64) -> Result<ImportReport, WriteError> {
        if export.format != EXPORT_FORMAT || export.schema_version != EXPORT_VERSION {
            return Err(WriteError::UnsupportedExport {
                format: export.format.clone(),
                version: export.schema_version,
            });
        }
        let mut by_ns: BTreeMap<Namespace, Vec<(ResponseId, &ExportedResponse)>> = BTreeMap::new();
        for r in &export.responses {
            let invalid = |source: WriteError| WriteError::InvalidImport {
                id: r.id.clone(),
                source: Box::new(source),
            };
            let id: ResponseId = r.id.parse().map_err(|e| invalid(WriteError::Id(e)))?;
            if id.namespace.is_settings() {
                return Err(WriteError::ReservedNamespace(id.namespace));
            }
            r.content
                .validate()
                .map_err(|e| invalid(WriteError::Invalid(e)))?;
            by_ns.entry(id.namespace.clone()).or_default().push((id, r));
        }
        let mut report = ImportReport::default();
        for (ns, items) in by_ns {
            let node = self.writer_node();
            let (counts, _) = self.write_namespace(&ns, now_ms, |doc, clock, vault| {
                let mut counts = ImportReport::default();
                let mut new_keys = Vec::new();
                for (id, r) in items {
                    if doc.keys.is_shredded(&id.record) {
                        counts.deleted_here += 1;
                        continue;
                    }
                    if !doc.values(&id.record).is_empty() {
                        counts.existing += 1;
                        continue;
                    }
                    // Keep the original time, so a later edit elsewhere still wins over it.
                    let stamp = Hlc {
                        wall_ms: r.updated_ms,
                        counter: 0,
                        node,
                    };
                    clock.observe(stamp);
                    let key = SecretKey::random()?;
                    let sealed = body::seal(&r.content, stamp, &key, vault, &id)?;
                    doc.doc.put(&doc.records, id.record.to_string(), sealed)?;
                    let entry = doc.insert_key(id.record, KeyState::Live(key));
                    new_keys.push((id.record, entry));
                    counts.added += 1;
                }
                Ok((counts, new_keys))
            })?;
            report.added += counts.added;
            report.existing += counts.existing;
            report.deleted_here += counts.deleted_here;
        }
        for (ns, policy) in &export.policies {
            let ns: Namespace = ns.parse()?;
            if self.policy(&ns) != *policy {
                self.set_policy(&ns, *policy, now_ms)?;
            }
        }
        Ok(report)
    }
}

/// The serde name of a unit enum value (`answered`, `intent`, ...).
fn serde_plain<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Text from the vault as Markdown inline text that shows what it holds, whoever wrote it:
///
/// - line breaks and tabs become spaces, so the text stays inside its list item;
/// - controls (C0, DEL, C1: NUL, ESC, ...), bidi controls (U+061C, U+200E, U+200F,
///   U+202A-U+202E, U+2066-U+2069) and the line and paragraph separators (U+2028, U+2029) become
///   their escape as text (`\u{202e}`), so nothing reorders, hides or cuts what a reader sees,
///   on screen or in a terminal;
/// - Markdown's inline syntax characters (`` \ ` * _ [ ] < & ~ ``) get a backslash, so a value
///   cannot open a link, an image, an HTML tag, an entity or a code span. A backslash the text
///   holds is doubled, so a single backslash before `u{` is always an escape written here.
///
/// Everything else (accents, any script, emoji with their joiners) passes unchanged.
fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() || is_bidi_or_separator(c) => out.extend(c.escape_unicode()),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Unicode's Bidi_Control characters, and the line and paragraph separators (which some
/// viewers break lines at).
fn is_bidi_or_separator(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// `YYYY-MM-DD HH:MM UTC` from ms since the Unix epoch (civil-from-days, proleptic Gregorian).
pub(crate) fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{d:02} {h:02}:{m:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(utc(1_795_996_800_000 + 3_660_000), "2026-11-30 01:01 UTC");
    }
}
