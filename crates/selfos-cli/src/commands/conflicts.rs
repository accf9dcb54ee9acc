//! `conflicts`, `resolve` and `policy`: concurrent values and how they are settled.

use selfos::vault::{
    Namespace, Policy, Resolution,
    view::{ConflictView, ResponseView},
};
use serde_json::json;

use crate::{
    cli::{Global, ResolveArgs},
    exit::{Failure, USAGE},
    output,
    session::{Outcome, Session, now_ms},
};

/// Lists every response that holds concurrent values.
pub(crate) fn list(global: &Global) -> anyhow::Result<Outcome> {
    let mut session = Session::open(global)?;
    let conflicts = session.vault.conflicts();
    let unreadable: Vec<_> = conflicts
        .iter()
        .flat_map(|c| {
            c.values
                .iter()
                .filter_map(|v| Some((c.id.clone(), v.content.as_ref().err()?.clone())))
        })
        .collect();
    session.warn_unreadable(&unreadable);
    if global.json {
        let views: Vec<ConflictView<'_>> = conflicts.iter().map(Into::into).collect();
        output::print_json(&views)?;
        return Ok(session.finish());
    }
    if conflicts.is_empty() {
        println!("no conflicts");
    }
    let now = now_ms()?;
    for c in &conflicts {
        let state = if c.is_pending() {
            format!(
                "pending: settle it with `selfos resolve {} --keep N`",
                output::short_id(&c.id)
            )
        } else {
            "settled: value 0 won (latest write)".to_owned()
        };
        println!("{}  {}, {state}", c.id, c.policy);
        let rows: Vec<Vec<String>> = c
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                vec![
                    format!("  [{i}]"),
                    output::age(now, v.updated.wall_ms),
                    output::stamp(&v.updated),
                    match &v.content {
                        Ok(content) => output::clip(&output::answer(content), 60),
                        Err(reason) => format!("(unreadable: {reason})"),
                    },
                ]
            })
            .collect();
        output::table(&["", "WRITTEN", "STAMP", "ANSWER"], &rows);
    }
    Ok(session.finish())
}

/// Settles a conflict.
pub(crate) fn resolve(global: &Global, args: ResolveArgs) -> anyhow::Result<Outcome> {
    let resolution = match (args.keep, args.value.into_answer()) {
        (Some(index), _) => Resolution::Keep(index),
        (None, Some(answer)) => Resolution::Answer(answer),
        (None, None) => return Err(Failure::new(USAGE, "give --keep N or a new answer").into()),
    };
    let mut session = Session::open(global)?;
    let id = session.find(&args.id)?;
    let now = now_ms()?;
    let response = session.vault.resolve(&id, resolution, now)?;
    if global.json {
        output::print_json(&ResponseView::from(&response))?;
    } else {
        println!("resolved {id}: other replicas take this value when they merge");
        output::response(&response, now);
    }
    Ok(session.finish_write())
}

/// Shows or sets an agent's conflict policy.
pub(crate) fn policy(
    global: &Global,
    agent: &Namespace,
    policy: Option<Policy>,
) -> anyhow::Result<Outcome> {
    let mut session = Session::open(global)?;
    if let Some(policy) = policy {
        session.vault.set_policy(agent, policy, now_ms()?)?;
    }
    let current = session.vault.policy(agent);
    if global.json {
        output::print_json(&json!({ "agent": agent.as_str(), "policy": current }))?;
    } else {
        println!("{agent}: {current}");
    }
    Ok(if policy.is_some() {
        session.finish_write()
    } else {
        session.finish()
    })
}
