//! Export (JSON that `import` reads back; Markdown for people) and import.

use std::{collections::BTreeMap, fmt::Write as _};

use serde::{Deserialize, Serialize};

use crate::{
    body,
    conflict::Policy,
    error::WriteError,
    hlc::Hlc,
    ids::{Namespace, ResponseId, VaultId},
    keys::SecretKey,
    keytable::KeyState,
    response::{Answer, Content},
    settings::StampedPolicy,
    storage::ChunkStore,
    vault::Vault,
};

/// The `format` field of a JSON export.
pub const EXPORT_FORMAT: &str = "selfos-export";
/// The schema version this build writes. It reads this one and every earlier one (1: no stamps).
pub const EXPORT_VERSION: u32 = 2;

/// A whole vault as plain data. Serialized as JSON; see FORMAT.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// [`EXPORT_VERSION`], or an earlier version.
    pub schema_version: u32,
    /// The vault it came from (hex).
    pub vault: String,
    /// The conflict policy of each namespace that has one set.
    pub policies: BTreeMap<String, ExportedPolicy>,
    /// Every readable response, ordered by namespace and id.
    pub responses: Vec<ExportedResponse>,
}

/// One namespace's conflict policy in an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ExportedPolicy {
    /// Schema 2: the policy and the hybrid-logical-clock stamp of the write that set it.
    Stamped {
        /// The policy.
        policy: Policy,
        /// The stamp's wall time, ms since the Unix epoch.
        updated_ms: u64,
        /// The stamp's counter.
        updated_counter: u32,
        /// The stamp's node (16 hex digits).
        #[serde(with = "node_hex")]
        updated_node: [u8; 8],
    },
    /// Schema 1: the policy alone. It counts as set at the earliest possible time, so an import
    /// applies it only to namespaces with no policy set.
    Bare(Policy),
}

impl ExportedPolicy {
    /// The policy.
    pub fn policy(&self) -> Policy {
        match self {
            Self::Stamped { policy, .. } | Self::Bare(policy) => *policy,
        }
    }

    /// When it was set; the earliest possible stamp for a schema 1 policy.
    pub fn updated(&self) -> Hlc {
        match *self {
            Self::Stamped {
                updated_ms,
                updated_counter,
                updated_node,
                ..
            } => Hlc {
                wall_ms: updated_ms,
                counter: updated_counter,
                node: updated_node,
            },
            Self::Bare(_) => Hlc::default(),
        }
    }
}

/// One response in an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedResponse {
    /// `namespace/record`.
    pub id: String,
    /// When it was last written, ms since the Unix epoch.
    pub updated_ms: u64,
    /// With `updated_ms` and `updated_node`, the stamp of that write (schema 2; absent, 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_counter: Option<u32>,
    /// The stamp's node, 16 hex digits (schema 2; absent, all zeros).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "node_hex::option"
    )]
    pub updated_node: Option<[u8; 8]>,
    /// Its content.
    #[serde(flatten)]
    pub content: Content,
}

impl ExportedResponse {
    /// The stamp an import gives it. It depends on the export alone, so every replica that
    /// imports the export writes the same stamp, and the copies count as one value.
    pub fn stamp(&self) -> Hlc {
        Hlc {
            wall_ms: self.updated_ms,
            counter: self.updated_counter.unwrap_or(0),
            node: self.updated_node.unwrap_or_default(),
        }
    }
}

/// How to import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportOptions {
    /// Accept an export whose `vault` is not this vault's id. Off by default: answers from
    /// another vault are refused with [`WriteError::ExportFromOtherVault`].
    pub from_other_vault: bool,
}

impl ImportOptions {
    /// Options that accept an export from another vault.
    pub fn from_other_vault() -> Self {
        Self {
            from_other_vault: true,
        }
    }
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
                updated_counter: Some(r.updated.counter),
                updated_node: Some(r.updated.node),
                content: r.content,
            })
            .collect();
        responses.sort_by(|a, b| a.id.cmp(&b.id));
        let policies = self
            .policies_set()
            .into_iter()
            .map(|(ns, p)| {
                let policy = ExportedPolicy::Stamped {
                    policy: p.policy,
                    updated_ms: p.updated.wall_ms,
                    updated_counter: p.updated.counter,
                    updated_node: p.updated.node,
                };
                (ns.to_string(), policy)
            })
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

    /// Adds the responses of an export of this vault, with [`ImportOptions::default`]: an
    /// export of another vault is refused. See [`Vault::import_with`].
    pub fn import(&mut self, export: &Export, now_ms: u64) -> Result<ImportReport, WriteError> {
        self.import_with(export, &ImportOptions::default(), now_ms)
    }

    /// Adds the responses of an export. Responses already here are kept as they are; responses
    /// deleted here stay deleted; each value keeps the stamp the export gives it, so replicas
    /// that import the same export agree. A policy is taken only if it was set later than the
    /// one set here (a schema 1 policy, only where none is set). Each namespace is written as
    /// one chunk.
    pub fn import_with(
        &mut self,
        export: &Export,
        options: &ImportOptions,
        now_ms: u64,
    ) -> Result<ImportReport, WriteError> {
        if export.format != EXPORT_FORMAT || !(1..=EXPORT_VERSION).contains(&export.schema_version)
        {
            return Err(WriteError::UnsupportedExport {
                format: export.format.clone(),
                version: export.schema_version,
            });
        }
        if !options.from_other_vault && export.vault.parse::<VaultId>().ok() != Some(self.id()) {
            return Err(WriteError::ExportFromOtherVault {
                export: export.vault.clone(),
                vault: self.id(),
            });
        }
        // Checked before anything is written.
        let mut policies = Vec::with_capacity(export.policies.len());
        for (ns, policy) in &export.policies {
            let ns: Namespace = ns.parse()?;
            if ns.is_settings() {
                return Err(WriteError::ReservedNamespace(ns));
            }
            let stamped = StampedPolicy {
                policy: policy.policy(),
                updated: policy.updated(),
            };
            policies.push((ns, stamped));
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
                    // The original stamp: a later edit elsewhere still wins over it, and a
                    // replica that imports the same export writes the same value.
                    let stamp = r.stamp();
                    clock.observe(stamp, now_ms);
                    let key = SecretKey::random()?;
                    let sealed = body::seal(&r.content, stamp, &key, vault, &id)?;
                    doc.put_value(&id.record, sealed)?;
                    let entry = doc.insert_key(id.record, KeyState::Live(key))?;
                    new_keys.push((id.record, entry));
                    counts.added += 1;
                }
                Ok((counts, new_keys))
            })?;
            report.added += counts.added;
            report.existing += counts.existing;
            report.deleted_here += counts.deleted_here;
        }
        self.merge_policies(policies, now_ms)?;
        Ok(report)
    }
}

/// A stamp's node as 16 hex digits.
mod node_hex {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(node: &[u8; 8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(node))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 8], D::Error> {
        let text = String::deserialize(d)?;
        hex::FromHex::from_hex(&text).map_err(D::Error::custom)
    }

    /// The same, for an optional node.
    pub(super) mod option {
        use serde::{Deserializer, Serializer};

        /// Writes a present node as hex; `skip_serializing_if` leaves absent ones out.
        pub(crate) fn serialize<S: Serializer>(
            node: &Option<[u8; 8]>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match node {
                Some(node) => super::serialize(node, s),
                None => s.serialize_none(),
            }
        }

        /// Reads a node that is there; `#[serde(default)]` makes an absent one `None`.
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<[u8; 8]>, D::Error> {
            super::deserialize(d).map(Some)
        }
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
