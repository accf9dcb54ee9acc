//! `next-card`, `graph`, `metrics` and `export --format instructions`: what the answers say.

use selfos::{
    graph::{GraphBuilder, GraphConfig, KnowledgeGraph, Target},
    training::{AnswerSpec, Context, PickView, Scheduler, SchedulerConfig},
    vault::{Namespace, Response},
};
use serde_json::json;

use crate::{
    cli::Global,
    output,
    session::{Outcome, Session, now_ms},
};

/// The knowledge graph of every readable response, as of `now`.
fn build_graph(responses: &[Response], now: u64) -> anyhow::Result<KnowledgeGraph> {
    let mut builder = GraphBuilder::new(GraphConfig::new())?;
    builder.add(responses);
    Ok(builder.build(now))
}

/// Opens the vault and reads every response, warning about unreadable ones.
fn responses(global: &Global) -> anyhow::Result<(Session, Vec<Response>)> {
    let mut session = Session::open(global)?;
    let listing = session.vault.list(None);
    session.warn_unreadable(&listing.unreadable);
    Ok((session, listing.responses))
}

/// Picks the card to show while waiting for `agent`.
pub(crate) fn next_card(
    global: &Global,
    agent: &Namespace,
    wait_secs: u64,
    since_secs: u64,
) -> anyhow::Result<Outcome> {
    let (session, history) = responses(global)?;
    let now = now_ms()?;
    let weak = build_graph(&history, now)?.weak_topics();
    let mut context = Context::for_wait(
        agent.as_str(),
        now,
        wait_secs.saturating_mul(1000),
        &history,
        &weak,
    );
    context.elapsed_ms = since_secs.saturating_mul(1000);
    let scheduler = Scheduler::new(SchedulerConfig::new())?;
    let Some(pick) = scheduler.next(&context) else {
        if global.json {
            output::print_json(&json!({ "card": null }))?;
        } else {
            println!("no card fits a {wait_secs} s wait");
        }
        return Ok(session.finish());
    };
    if global.json {
        output::print_json(&PickView::from(&pick))?;
        return Ok(session.finish());
    }
    let card = pick.card;
    let options = match &card.answer {
        AnswerSpec::Text { placeholder } => vec![format!("({placeholder})")],
        AnswerSpec::Choice {
            options,
            allow_text,
        } => {
            let mut o: Vec<String> = options.iter().map(|s| (*s).to_owned()).collect();
            if *allow_text {
                o.push("(or your own words)".into());
            }
            o
        }
        AnswerSpec::Rating { low, high } => vec![format!("1 = {low} ... 5 = {high}")],
    };
    println!(
        "{}  [{}, about {} s]",
        pick.prompt(),
        card.id,
        card.est_seconds
    );
    for (i, option) in options.iter().enumerate() {
        println!("  {}. {option}", i + 1);
    }
    println!("why: {}", pick.reason);
    println!(
        "answer: selfos record --agent {agent} --card {} --kind {} ...",
        card.id,
        output::name(&card.kind)
    );
    Ok(session.finish())
}

/// Prints the knowledge graph.
pub(crate) fn graph(global: &Global) -> anyhow::Result<Outcome> {
    let (session, history) = responses(global)?;
    let graph = build_graph(&history, now_ms()?)?;
    if global.json {
        println!("{}", graph.to_json()?);
        return Ok(session.finish());
    }
    println!(
        "{} nodes, {} links from {} answers; strongest by PageRank:",
        graph.node_count(),
        graph.edges().len(),
        history.len()
    );
    let mut nodes: Vec<_> = graph.nodes().collect();
    nodes.sort_by(|a, b| b.pagerank.total_cmp(&a.pagerank));
    let rows: Vec<Vec<String>> = nodes
        .iter()
        .take(15)
        .map(|n| {
            vec![
                n.key.to_string(),
                format!("{:.4}", n.pagerank),
                format!("{:.2}", n.strength),
                n.support.to_string(),
                n.community.to_string(),
            ]
        })
        .collect();
    output::table(
        &["NODE", "PAGERANK", "STRENGTH", "ANSWERS", "COMMUNITY"],
        &rows,
    );
    Ok(session.finish())
}

/// Prints alignment metrics per agent.
pub(crate) fn metrics(global: &Global) -> anyhow::Result<Outcome> {
    let (session, history) = responses(global)?;
    let graph = build_graph(&history, now_ms()?)?;
    if global.json {
        output::print_json(graph.metrics())?;
        return Ok(session.finish());
    }
    let share = |v: Option<f64>| v.map_or("-".to_owned(), |x| format!("{:.0}%", x * 100.0));
    let num = |v: Option<f64>, digits: usize| v.map_or("-".to_owned(), |x| format!("{x:.digits$}"));
    let rows: Vec<Vec<String>> = graph
        .metrics()
        .iter()
        .map(|(agent, m)| {
            vec![
                agent.clone(),
                m.answers.to_string(),
                m.ratings.to_string(),
                num(m.rating_mean, 2),
                num(m.rating_trend_per_day, 3),
                share(m.intent_agreement),
                share(m.preference_adherence),
                share(m.consistency),
            ]
        })
        .collect();
    if rows.is_empty() {
        println!("no answers yet");
    } else {
        output::table(
            &[
                "AGENT",
                "ANSWERS",
                "RATINGS",
                "MEAN",
                "TREND/DAY",
                "INTENT AGREES",
                "PREF ADHERENCE",
                "CONSISTENCY",
            ],
            &rows,
        );
    }
    Ok(session.finish())
}

/// The instruction snippets for `agent`, as text (or JSON with `--json`), each line traceable
/// to the answers behind it.
pub(crate) fn instructions(
    session: &Session,
    agent: Option<&Namespace>,
    json: bool,
) -> anyhow::Result<String> {
    let history = session.vault.list(None).responses;
    let graph = build_graph(&history, now_ms()?)?;
    let target = match agent.map(Namespace::as_str) {
        Some("chatgpt") => Target::ChatGpt,
        Some("claude") => Target::Claude,
        _ => Target::Generic,
    };
    let snippet = graph.snippet(target);
    if json {
        return Ok(serde_json::to_string_pretty(&snippet)? + "\n");
    }
    let mut out = String::new();
    for field in &snippet.fields {
        let text = field.render();
        out.push_str(&format!(
            "## {} ({} of {} characters)\n\n{text}\n\n",
            field.title,
            text.chars().count(),
            field.limit
        ));
    }
    Ok(out)
}
