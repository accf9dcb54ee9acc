//! Printing: JSON views of vault values, aligned tables and short forms for people.

use selfos::vault::{Answer, Content, Hlc, Response, ResponseId};
use serde::Serialize;

/// Prints a warning on stderr.
pub(crate) fn warn(message: &str) {
    eprintln!("warning: {message}");
}

/// Prints `value` as pretty JSON on stdout.
pub(crate) fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An id short enough for a table: the namespace and 12 hex digits, still a usable prefix.
pub(crate) fn short_id(id: &ResponseId) -> String {
    let record = id.record.to_string();
    format!("{}/{}", id.namespace, &record[..record.len().min(12)])
}

/// A stamp for people: `1700000000000.0@0a1b2c3d`.
pub(crate) fn stamp(s: &Hlc) -> String {
    format!("{}.{}@{}", s.wall_ms, s.counter, hex(&s.node[..4]))
}

/// The answer for people, on one line.
pub(crate) fn answer(content: &Content) -> String {
    match &content.answer {
        Some(Answer::Text(t)) => t.replace(['\n', '\r'], " "),
        Some(Answer::Choice(c)) => format!("[{}]", c.replace(['\n', '\r'], " ")),
        Some(Answer::Rating(n)) => format!("{n}/5"),
        None => format!("({})", name(&content.status)),
    }
}

/// The serde name of a unit enum value (`intent`, `answered`, ...).
pub(crate) fn name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// How long ago `then_ms` was, roughly.
/// A byte count for people: `812 B`, `3.4 KB`, `1.2 MB`, `2.0 GB`.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub(crate) fn age(now_ms: u64, then_ms: u64) -> String {
    let s = now_ms.saturating_sub(then_ms) / 1000;
    match s {
        0..60 => format!("{s}s ago"),
        60..3600 => format!("{}m ago", s / 60),
        3600..86_400 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86_400),
    }
}

/// Cuts `text` to at most `max` characters, marking the cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Prints rows with aligned columns; the last column is not padded.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// Prints one response as aligned `key  value` lines.
pub(crate) fn response(r: &Response, now_ms: u64) {
    let c = &r.content;
    let mut fields = vec![
        ("id", r.id.to_string()),
        ("agent", c.agent.clone()),
        ("card", format!("{} ({})", c.card_id, name(&c.card_kind))),
        ("answer", answer(c)),
        ("status", name(&c.status)),
        ("origin", c.origin.clone()),
        ("waited", format!("{:.1} s", c.wait_ms as f64 / 1000.0)),
        ("created", age(now_ms, c.created_ms)),
        (
            "updated",
            format!("{} ({})", age(now_ms, r.updated.wall_ms), stamp(&r.updated)),
        ),
    ];
    if r.conflicted {
        fields.push(("conflict", "yes: see `selfos conflicts`".into()));
    }
    for (key, value) in fields {
        println!("{key:<9}{value}");
    }
}
