//! `record`, `list`, `show`, `edit` and `delete`: one response at a time.

use selfos::vault::{Answer, CardKind, Content, Namespace, Status, view::ResponseView};
use serde_json::json;

use crate::{
    cli::{EditArgs, Global, RecordArgs},
    exit::{Failure, NOT_FOUND},
    output,
    session::{Outcome, Session, now_ms},
};

/// Records a new answer and prints its id.
pub(crate) fn record(global: &Global, args: RecordArgs) -> anyhow::Result<Outcome> {
    let RecordArgs {
        agent,
        card,
        kind,
        value,
        skipped,
        origin,
        wait_ms,
    } = args;
    let answer = value.into_answer();
    let card_kind = kind.map(CardKind::from).unwrap_or(match answer {
        Some(Answer::Rating(_)) => CardKind::Rating,
        _ => CardKind::Intent,
    });
    let mut session = Session::open(global)?;
    let now = now_ms()?;
    let content = Content {
        card_id: card,
        card_kind,
        answer,
        agent: agent.to_string(),
        origin,
        created_ms: now,
        wait_ms,
        status: if skipped {
            Status::Skipped
        } else {
            Status::Answered
        },
        context: Default::default(),
    };
    let id = session.vault.record(&agent, content, now)?;
    if global.json {
        output::print_json(&json!({ "id": id.to_string() }))?;
    } else {
        println!("{id}");
    }
    Ok(session.finish_write())
}

/// Lists responses, oldest first.
pub(crate) fn list(global: &Global, agent: Option<&Namespace>) -> anyhow::Result<Outcome> {
    let mut session = Session::open(global)?;
    let listing = session.vault.list(agent);
    session.warn_unreadable(&listing.unreadable);
    if global.json {
        let views: Vec<ResponseView<'_>> = listing.responses.iter().map(Into::into).collect();
        output::print_json(&views)?;
        return Ok(session.finish());
    }
    if listing.responses.is_empty() {
        println!("no responses");
        return Ok(session.finish());
    }
    let now = now_ms()?;
    let rows: Vec<Vec<String>> = listing
        .responses
        .iter()
        .map(|r| {
            let c = &r.content;
            vec![
                format!(
                    "{}{}",
                    output::short_id(&r.id),
                    if r.conflicted { "*" } else { "" }
                ),
                output::name(&c.card_kind),
                output::clip(&c.card_id, 24),
                output::age(now, c.created_ms),
                output::clip(&output::answer(c), 60),
            ]
        })
        .collect();
    output::table(&["ID", "KIND", "CARD", "CREATED", "ANSWER"], &rows);
    if listing.responses.iter().any(|r| r.conflicted) {
        println!("* holds concurrent values: see `selfos conflicts`");
    }
    Ok(session.finish())
}

/// Shows one response.
pub(crate) fn show(global: &Global, prefix: &str) -> anyhow::Result<Outcome> {
    let session = Session::open(global)?;
    let id = session.find(prefix)?;
    let response = session
        .vault
        .get(&id)?
        .ok_or_else(|| Failure::new(NOT_FOUND, format!("no response {id}")))?;
    if global.json {
        output::print_json(&ResponseView::from(&response))?;
    } else {
        output::response(&response, now_ms()?);
    }
    Ok(session.finish())
}

/// Changes a response's answer and/or status.
pub(crate) fn edit(global: &Global, args: EditArgs) -> anyhow::Result<Outcome> {
    let mut session = Session::open(global)?;
    let id = session.find(&args.id)?;
    let now = now_ms()?;
    let response = session.vault.edit(
        &id,
        args.value.into_answer(),
        args.status.map(Status::from),
        now,
    )?;
    if global.json {
        output::print_json(&ResponseView::from(&response))?;
    } else {
        output::response(&response, now);
    }
    Ok(session.finish_write())
}

/// Deletes a response for good.
pub(crate) fn delete(global: &Global, prefix: &str) -> anyhow::Result<Outcome> {
    let mut session = Session::open(global)?;
    let id = session.find(prefix)?;
    let report = session.vault.delete(&id, now_ms()?)?;
    if !report.shredded_in_this_replica {
        output::warn(
            "damaged chunks kept this folder from being rewritten: the deleted answer's key \
             may survive in them until they are removed",
        );
    }
    if global.json {
        output::print_json(&json!({
            "deleted": id.to_string(),
            "shredded_in_this_replica": report.shredded_in_this_replica,
        }))?;
    } else {
        println!("deleted {id}: its key is shredded, other replicas drop it when they merge");
    }
    Ok(session.finish_write())
}
