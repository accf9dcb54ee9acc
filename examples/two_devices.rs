//! Two devices of one vault, a laptop and a phone, syncing through a relay.
//!
//! The example starts a relay in this process, creates the two replicas, and then:
//!
//! 1. records an answer on the laptop and syncs: the phone has it;
//! 2. edits that answer on both devices while they are offline, then syncs: under the default
//!    policy, last-write-wins, the later edit (by hybrid logical clock) wins on both;
//! 3. does the same in a namespace set to user-merge: the conflict waits on both devices until
//!    the user resolves it on one of them, and the resolution syncs.
//!
//! Run it with `cargo run -p selfos --example two_devices`.

use std::{error::Error, net::SocketAddr, time::Duration};

use selfos::{
    net::{RelayAddress, SyncOptions},
    now_ms,
    vault::{
        Answer, CardKind, Content, KdfParams, MemoryStore, Namespace, Passphrase, Policy,
        Resolution, ResponseId, Status, Vault,
    },
};
use selfos_relay::{RelayConfig, Server};

type Device = Vault<MemoryStore>;

fn intent(agent: &str, text: &str) -> Content {
    Content {
        card_id: "intent.include".into(),
        card_kind: CardKind::Intent,
        answer: Some(Answer::Text(text.into())),
        agent: agent.into(),
        origin: "two_devices example".into(),
        created_ms: now_ms(),
        wait_ms: 8_000,
        status: Status::Answered,
        context: Default::default(),
    }
}

fn text_of(vault: &Device, id: &ResponseId) -> Result<String, Box<dyn Error>> {
    let response = vault.get(id)?.ok_or("the record is missing")?;
    Ok(match response.content.answer {
        Some(Answer::Text(t) | Answer::Choice(t)) => format!("{t:?}"),
        Some(Answer::Rating(r)) => format!("rating {r}"),
        None => "(no answer)".into(),
    })
}

/// Both devices sync at the same time, as two devices that come online together would.
async fn sync_both(
    laptop: &mut Device,
    phone: &mut Device,
    opts: &SyncOptions,
) -> Result<(), Box<dyn Error>> {
    let (l, p) = tokio::join!(
        selfos::net::sync(laptop, opts, |_| {}),
        selfos::net::sync(phone, opts, |_| {}),
    );
    let (l, p) = (l?, p?);
    println!(
        "  synced: laptop got changes in {:?}, phone in {:?}",
        l.changed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        p.changed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
    );
    Ok(())
}

fn show(
    label: &str,
    laptop: &Device,
    phone: &Device,
    id: &ResponseId,
) -> Result<(), Box<dyn Error>> {
    println!(
        "  {label}: laptop {}, phone {}",
        text_of(laptop, id)?,
        text_of(phone, id)?
    );
    Ok(())
}

/// Edits `id` on both devices while they are apart; the phone's edit comes 2 s later.
fn edit_offline(
    laptop: &mut Device,
    phone: &mut Device,
    id: &ResponseId,
    on_laptop: &str,
    on_phone: &str,
) -> Result<(), Box<dyn Error>> {
    let t = now_ms();
    laptop.edit(id, Some(Answer::Text(on_laptop.into())), None, t)?;
    phone.edit(id, Some(Answer::Text(on_phone.into())), None, t + 2_000)?;
    println!("  offline: the laptop writes {on_laptop:?}, 2 s later the phone writes {on_phone:?}");
    Ok(())
}

/// The conflict on `id`, if any, as `device` sees it.
fn print_conflict(device: &str, vault: &Device, id: &ResponseId) {
    let conflicts: Vec<_> = vault
        .conflicts()
        .into_iter()
        .filter(|c| &c.id == id)
        .collect();
    if conflicts.is_empty() {
        println!("  {device}: no conflict on {id}");
    }
    for c in conflicts {
        let state = if c.is_pending() {
            "pending, the user decides"
        } else {
            "settled"
        };
        println!(
            "  {device}: conflict on {} under {} ({state}):",
            c.id, c.policy
        );
        for (i, v) in c.values.iter().enumerate() {
            let text = match &v.content {
                Ok(content) => format!("{:?}", content.answer),
                Err(e) => format!("unreadable: {e}"),
            };
            println!("    [{i}] written at {} ms: {text}", v.updated.wall_ms);
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let relay = Server::spawn(RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)))).await?;
    println!("relay listening on {}", relay.local_addr());
    let mut opts =
        SyncOptions::new(format!("ws://{}", relay.local_addr()).parse::<RelayAddress>()?);
    opts.quiet = Duration::from_millis(200);

    // The cheapest key derivation accepted; real vaults use KdfParams::DEFAULT.
    let pass = || Passphrase::new("correct horse battery staple".into());
    let mut laptop = Vault::create(MemoryStore::new(), &pass(), KdfParams::FLOOR)?;
    // The phone gets the vault secret (here handed over in memory; between real devices by
    // pairing or the recovery kit) and wraps it under its own passphrase.
    let mut phone = Vault::restore(
        MemoryStore::new(),
        &laptop.secret(),
        &pass(),
        KdfParams::FLOOR,
    )?;
    println!("vault {} on laptop and phone\n", laptop.id());

    println!("1. an answer recorded on the laptop");
    let chatgpt = Namespace::new("chatgpt")?;
    let id = laptop.record(&chatgpt, intent("chatgpt", "a worked example"), now_ms())?;
    sync_both(&mut laptop, &mut phone, &opts).await?;
    show("after sync", &laptop, &phone, &id)?;

    println!(
        "\n2. conflicting edits under {} ({chatgpt})",
        laptop.policy(&chatgpt)
    );
    edit_offline(&mut laptop, &mut phone, &id, "code first", "sources first")?;
    sync_both(&mut laptop, &mut phone, &opts).await?;
    show("after sync", &laptop, &phone, &id)?;
    print_conflict("laptop", &laptop, &id);
    assert_eq!(text_of(&laptop, &id)?, text_of(&phone, &id)?);

    let claude = Namespace::new("claude")?;
    println!("\n3. conflicting edits under user-merge ({claude})");
    laptop.set_policy(&claude, Policy::UserMerge, now_ms())?;
    let id = laptop.record(&claude, intent("claude", "short answers"), now_ms())?;
    sync_both(&mut laptop, &mut phone, &opts).await?;
    println!(
        "  the phone's policy for {claude}: {}",
        phone.policy(&claude)
    );
    edit_offline(
        &mut laptop,
        &mut phone,
        &id,
        "bullet points",
        "one paragraph",
    )?;
    sync_both(&mut laptop, &mut phone, &opts).await?;
    print_conflict("laptop", &laptop, &id);
    print_conflict("phone", &phone, &id);
    println!("  the user merges the two on the phone");
    phone.resolve(
        &id,
        Resolution::Answer(Answer::Text("one paragraph, then bullet points".into())),
        now_ms() + 3_000,
    )?;
    sync_both(&mut laptop, &mut phone, &opts).await?;
    show("after sync", &laptop, &phone, &id)?;
    print_conflict("laptop", &laptop, &id);
    print_conflict("phone", &phone, &id);

    relay.shutdown().await;
    Ok(())
}
