//! Exports the user hands to an AI: instruction snippets per agent and node embeddings.
//!
//! # Snippets
//!
//! Every line carries the ids of the answers behind it ([`SnippetLine::sources`]). Lines are
//! ordered strongest first and a field is cut by whole lines: a line that would overflow the
//! field's limit is dropped and shorter later lines may still fit.
//!
//! - *Response lines* come from preferences: for each dimension the value with the most
//!   support for this agent (the decayed weight of its edge to the agent node) or, when the
//!   user never answered that dimension for this agent, the strongest value overall:
//!   `Preferred length: concise.`
//! - *About lines* come from the strongest topics: `I often ask about rust.`
//!
//! | target | fields |
//! |---|---|
//! | ChatGPT custom instructions | "What would you like ChatGPT to know about you?" (about lines) and "How would you like ChatGPT to respond?" (response lines), 1,500 characters each |
//! | Claude profile preferences | one text, response lines then about lines, 1,500 characters |
//! | generic system prompt | one text, response lines then about lines, 4,000 characters |
//!
//! # Embeddings
//!
//! Each node gets a 16-dimensional vector: a fixed-seed random projection of its weighted
//! neighbourhood. Every node id (`topic:rust`) is hashed (FNV-1a 64) with a fixed seed into a
//! SplitMix64 stream that gives a base vector `b(id)` with entries uniform in `[-1, 1)`; then
//!
//! ```text
//! e(x) = normalise( b(x) + Σ_{y ~ x} (w(x,y) / Σ_{z ~ x} w(x,z)) * b(y) )
//! ```
//!
//! (L2 norm 1). Nodes with similar neighbourhoods get similar vectors; the same graph always
//! gives identical vectors, on every platform.

use std::collections::BTreeMap;

use selfos_vault::ResponseId;
use serde::{Deserialize, Serialize};

use crate::graph::{KnowledgeGraph, NodeKind};

/// ChatGPT's limit per custom-instructions field, in characters.
pub const CHATGPT_FIELD_LIMIT: usize = 1_500;
/// The limit kept for Claude's profile preferences, in characters.
pub const CLAUDE_LIMIT: usize = 1_500;
/// The limit kept for a generic system prompt, in characters.
pub const GENERIC_LIMIT: usize = 4_000;
/// Dimensions of a node embedding.
pub const EMBEDDING_DIM: usize = 16;
const EMBEDDING_SEED: u64 = 0x5e1f_05a1_7e11_0001;

/// Where a snippet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Target {
    /// ChatGPT custom instructions (agent `chatgpt`).
    ChatGpt,
    /// Claude profile preferences (agent `claude`).
    Claude,
    /// A system prompt for any model; preferences are taken across agents.
    Generic,
}

impl Target {
    /// The agent whose answers weigh most, if any.
    pub fn agent(self) -> Option<&'static str> {
        match self {
            Self::ChatGpt => Some("chatgpt"),
            Self::Claude => Some("claude"),
            Self::Generic => None,
        }
    }
}

/// One line of a snippet and the answers behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetLine {
    /// The text, without a line break.
    pub text: String,
    /// The answers it comes from, sorted; in JSON as `namespace/record` strings.
    #[serde(with = "ids_as_strings")]
    pub sources: Vec<ResponseId>,
}

/// One text field of a snippet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetField {
    /// The field's title, as the target's settings name it.
    pub title: String,
    /// Its limit in characters.
    pub limit: usize,
    /// The lines kept, strongest first.
    pub lines: Vec<SnippetLine>,
}

impl SnippetField {
    fn fit(title: &str, limit: usize, candidates: Vec<SnippetLine>) -> Self {
        let mut used = 0;
        let mut lines = Vec::new();
        for line in candidates {
            let len = line.text.chars().count() + usize::from(!lines.is_empty());
            if used + len <= limit {
                used += len;
                lines.push(line);
            }
        }
        Self {
            title: title.to_owned(),
            limit,
            lines,
        }
    }

    /// The lines joined by `\n`; never longer than `limit` characters.
    pub fn render(&self) -> String {
        self.lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Instruction text for one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    /// Where it goes.
    pub target: Target,
    /// Its fields (two for ChatGPT, one otherwise).
    pub fields: Vec<SnippetField>,
}

impl KnowledgeGraph {
    /// Instruction snippets for `target`, built from preferences and the strongest topics.
    pub fn snippet(&self, target: Target) -> Snippet {
        let agent = target
            .agent()
            .and_then(|a| self.index_of(NodeKind::Agent, a));
        // Preferences: best value per dimension.
        let mut best: BTreeMap<&str, (bool, f64, usize, &str)> = BTreeMap::new();
        for (i, n) in self.nodes().enumerate() {
            if n.key.kind != NodeKind::Preference {
                continue;
            }
            let (dim, value) = n.key.label.split_once('=').unwrap_or((&n.key.label, ""));
            let for_agent = agent.and_then(|a| self.edge_weight(i, a));
            let cand = (
                for_agent.is_some(),
                for_agent.unwrap_or(n.strength),
                i,
                value,
            );
            let better = |old: &(bool, f64, usize, &str)| (cand.0, cand.1) > (old.0, old.1);
            if best.get(dim).is_none_or(better) {
                best.insert(dim, cand);
            }
        }
        let mut prefs: Vec<(f64, SnippetLine)> = best
            .into_iter()
            .map(|(dim, (_, score, i, value))| {
                let text = format!(
                    "Preferred {}: {}.",
                    dim.replace(['.', '_', '-'], " "),
                    value
                );
                (
                    score,
                    SnippetLine {
                        text,
                        sources: self.sources(i).to_vec(),
                    },
                )
            })
            .collect();
        prefs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut topics: Vec<(f64, usize)> = self
            .nodes()
            .enumerate()
            .filter(|(i, n)| n.key.kind == NodeKind::Topic && !self.sources(*i).is_empty())
            .map(|(i, n)| (n.strength, i))
            .collect();
        topics.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let about: Vec<SnippetLine> = topics
            .iter()
            .filter_map(|&(_, i)| {
                let n = self.node_at(i)?;
                Some(SnippetLine {
                    text: format!("I often ask about {}.", n.key.label),
                    sources: self.sources(i).to_vec(),
                })
            })
            .collect();
        let respond: Vec<SnippetLine> = prefs.into_iter().map(|(_, l)| l).collect();
        let fields = match target {
            Target::ChatGpt => vec![
                SnippetField::fit(
                    "What would you like ChatGPT to know about you?",
                    CHATGPT_FIELD_LIMIT,
                    about,
                ),
                SnippetField::fit(
                    "How would you like ChatGPT to respond?",
                    CHATGPT_FIELD_LIMIT,
                    respond,
                ),
            ],
            Target::Claude => {
                vec![SnippetField::fit(
                    "Profile preferences",
                    CLAUDE_LIMIT,
                    [respond, about].concat(),
                )]
            }
            Target::Generic => {
                vec![SnippetField::fit(
                    "System prompt",
                    GENERIC_LIMIT,
                    [respond, about].concat(),
                )]
            }
        };
        Snippet { target, fields }
    }

    /// 16-dimensional node embeddings in node order (see the module docs).
    pub fn embeddings(&self) -> Vec<[f64; EMBEDDING_DIM]> {
        let ids: Vec<String> = self.nodes().map(|n| n.key.to_string()).collect();
        let base: Vec<[f64; EMBEDDING_DIM]> = ids.iter().map(|id| base_vector(id)).collect();
        let mut total = vec![0.0_f64; ids.len()];
        for e in self.edges() {
            total[e.source] += e.weight;
            total[e.target] += e.weight;
        }
        let mut out = base.clone();
        for e in self.edges() {
            for (x, y) in [(e.source, e.target), (e.target, e.source)] {
                if total[x] > 0.0 {
                    let f = e.weight / total[x];
                    for k in 0..EMBEDDING_DIM {
                        out[x][k] += f * base[y][k];
                    }
                }
            }
        }
        for v in &mut out {
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|x| *x /= norm);
            }
        }
        out
    }
}

mod ids_as_strings {
    use selfos_vault::ResponseId;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(ids: &[ResponseId], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ids.iter().map(ToString::to_string))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<ResponseId>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| s.parse().map_err(D::Error::custom))
            .collect()
    }
}

fn base_vector(id: &str) -> [f64; EMBEDDING_DIM] {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ EMBEDDING_SEED;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut v = [0.0; EMBEDDING_DIM];
    for x in &mut v {
        h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        *x = (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> SnippetLine {
        SnippetLine {
            text: text.into(),
            sources: Vec::new(),
        }
    }

    #[test]
    fn fit_cuts_by_whole_lines() {
        let f = SnippetField::fit("t", 10, vec![line("aaaa"), line("bbbbbbbb"), line("ccccc")]);
        assert_eq!(f.render(), "aaaa\nccccc");
        assert!(f.render().chars().count() <= 10);
    }

    #[test]
    fn base_vectors_are_fixed() {
        assert_eq!(base_vector("topic:rust"), base_vector("topic:rust"));
        assert_ne!(base_vector("topic:rust"), base_vector("topic:go"));
        assert!(base_vector("x").iter().all(|x| (-1.0..1.0).contains(x)));
    }
}
