//! What one answer contributes: its nodes and edges, added to the running sums and kept by its
//! id so that it can be taken out again.

use std::{borrow::Cow, sync::Arc};

use selfos_vault::{Answer, CardKind, Hlc, Response, Status};

use super::{
    GraphBuilder,
    sources::Sources,
    sums::{Acc, EdgeEntry, added},
};
use crate::{
    graph::{NodeKey, NodeKind},
    metrics::Event,
    topics,
};

/// What one response added, so it can be taken out again.
#[derive(Debug, Clone)]
pub(super) struct Contribution {
    pub(super) updated: Hlc,
    pub(super) created_ms: u64,
    /// Supported node slots; the first `pinned` are explicit topics.
    pub(super) nodes: Vec<u32>,
    pub(super) pinned: usize,
    /// Supported edges, by their node slots (smaller first).
    pub(super) edges: Vec<(u32, u32)>,
    pub(super) event: Event,
}

impl GraphBuilder {
    fn slot(&mut self, kind: NodeKind, label: &str) -> u32 {
        let map = &mut self.slots[kind_index(kind)];
        if let Some(&s) = map.get(label) {
            return s;
        }
        let s = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        self.keys.push(NodeKey::new(kind, label));
        self.nodes.push(Acc::default());
        self.sources.push(Sources {
            gathered: self.previous.built,
            ..Sources::default()
        });
        map.insert(label.to_owned(), s);
        s
    }

    pub(super) fn insert<'a>(&mut self, r: &'a Response, explicit: &mut Vec<Cow<'a, str>>) {
        let c = &r.content;
        if c.status != Status::Answered || c.answer.is_none() {
            return;
        }
        let agent = (!c.agent.is_empty()).then(|| self.slot(NodeKind::Agent, label(&c.agent)));
        let card = self.slot(NodeKind::Card, label(&c.card_id));
        let pref = match (&c.card_kind, &c.answer) {
            (CardKind::Preference, Some(Answer::Choice(v))) => {
                let dim = c.card_id.strip_prefix("pref.").unwrap_or(&c.card_id);
                Some(self.slot(NodeKind::Preference, label(&format!("{dim}={v}"))))
            }
            _ => None,
        };
        // Topics: explicit first, then extracted.
        let max = self.config.max_topics_per_response;
        explicit.clear();
        explicit.extend(c.context.topics.iter().filter_map(|t| topics::normalize(t)));
        explicit.sort();
        explicit.dedup();
        explicit.truncate(max);
        let text_answer = match &c.answer {
            Some(Answer::Text(t)) => Some(t.as_str()),
            _ => None,
        };
        let texts = c
            .context
            .prompt_excerpt
            .as_deref()
            .into_iter()
            .chain(text_answer);
        let mut extracted: Vec<String> = topics::extract(texts, self.config.max_terms_per_response)
            .into_iter()
            .map(|(t, _)| t)
            .filter(|t| {
                explicit
                    .binary_search_by(|e| e.as_ref().cmp(t.as_str()))
                    .is_err()
            })
            .collect();
        extracted.truncate(max.saturating_sub(explicit.len()));
        let pinned = explicit.len();
        let mut nodes = Vec::with_capacity(pinned + extracted.len() + 3);
        nodes.extend(explicit.iter().map(|t| self.slot(NodeKind::Topic, t)));
        nodes.extend(extracted.iter().map(|t| self.slot(NodeKind::Topic, t)));
        let n_topics = nodes.len();
        // Sized exactly: kept in the contribution, and never grown while filled.
        let mut pairs =
            Vec::with_capacity(n_topics * n_topics.saturating_sub(1) / 2 + n_topics + 2);
        for i in 0..n_topics {
            for j in i + 1..n_topics {
                pairs.push(pair(nodes[i], nodes[j]));
            }
        }
        if let Some(ag) = agent {
            pairs.push(pair(card, ag));
            if let Some(p) = pref {
                pairs.push(pair(p, ag));
            }
            pairs.extend(nodes[..n_topics].iter().map(|&t| pair(t, ag)));
        }
        nodes.push(card);
        nodes.extend(pref);
        nodes.extend(agent);
        let v = self.unit(c.created_ms);
        let id = Arc::new(r.id.clone());
        let built = self.previous.built;
        for (i, &n) in nodes.iter().enumerate() {
            if let Some(acc) = self.nodes.get_mut(n as usize) {
                acc.add(v);
                if i < pinned {
                    acc.pinned += 1;
                }
            }
            if built {
                self.previous.changed.insert(n);
            }
            if let Some(src) = self.sources.get_mut(n as usize) {
                src.add(&id);
            }
        }
        for &ends in &pairs {
            let list = &mut self.edge_ends;
            let edge = self.edges.entry(ends).or_insert_with(|| {
                list.push(ends);
                EdgeEntry {
                    slot: u32::try_from(list.len() - 1).unwrap_or(u32::MAX),
                    count: 0,
                    scaled: 0.0,
                }
            });
            (edge.count, edge.scaled) = added(edge.count, edge.scaled, v);
            if built {
                self.previous.dirty.insert(edge.slot);
            }
        }
        let event = Event {
            agent,
            kind: c.card_kind,
            card,
            rating: match c.answer {
                Some(Answer::Rating(x)) if c.card_kind == CardKind::Rating => Some(x),
                _ => None,
            },
        };
        if built {
            self.alignment.insert(c.created_ms, &id, event);
        }
        self.contributions.insert(
            id,
            Contribution {
                updated: r.updated,
                created_ms: c.created_ms,
                nodes,
                pinned,
                edges: pairs,
                event,
            },
        );
    }
}

fn pair(a: u32, b: u32) -> (u32, u32) {
    (a.min(b), a.max(b))
}

/// `s` cut to `2 * MAX_LABEL_CHARS` characters.
fn label(s: &str) -> &str {
    match s.char_indices().nth(topics::MAX_LABEL_CHARS * 2) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn kind_index(kind: NodeKind) -> usize {
    match kind {
        NodeKind::Agent => 0,
        NodeKind::Card => 1,
        NodeKind::Preference => 2,
        NodeKind::Topic => 3,
    }
}
