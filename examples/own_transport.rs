//! The sync engine over a transport of your own: two devices of one vault, each on its own
//! thread, whose frames travel through std channels instead of a WebSocket.
//!
//! The engine is sans-IO: it takes the relay's frames in and gives frames out, and the code that
//! moves them is yours. Here that code is [`Link`], a pair of channels to a relay thread; swap it
//! for a socket, a platform API or a message bus, as long as it carries each frame whole, once and
//! in order (see `selfos::sync` for what the engine does when it does not).
//!
//! The relay thread runs `selfos::testing::Relay`, the in-memory stand-in for `selfos-relay` (in
//! production the devices connect to a `selfos-relay`; `examples/two_devices.rs` does that with
//! `selfos::net`). The example then:
//!
//! 1. records an answer on the laptop, connects both devices and syncs: the phone has it;
//! 2. writes on the phone while both are offline, connects again: the laptop has it. The second
//!    connection is a new session, which starts from the state the first one saved.
//!
//! Run it with `cargo run -p selfos --example own_transport --features test-utils`.

use std::{
    collections::BTreeMap,
    error::Error,
    sync::mpsc::{self, Receiver, RecvTimeoutError, Sender},
    thread,
    time::{Duration, Instant},
};

use selfos::{
    now_ms,
    proto::{Nonce, PeerId, handshake::Audience},
    sync::{SyncEngine, SyncEvent},
    testing::{ConnectionId, Relay},
    vault::{
        Answer, CardKind, Content, KdfParams, MemoryStore, Namespace, Passphrase, Status, Vault,
    },
};

type Device = Vault<MemoryStore>;
type Failure = Box<dyn Error + Send + Sync>;

/// The address the relay names itself by; engines sign their joins for it.
const RELAY: &str = "ws://relay.example";

/// A session is over once nothing has arrived for this long after meeting a peer.
const QUIET: Duration = Duration::from_millis(200);

/// A session that meets no peer gives up after this long.
const GIVE_UP: Duration = Duration::from_secs(10);

/// What travels from the devices to the relay thread.
enum ToRelay {
    /// A new connection, and where to send its frames.
    Open(ConnectionId, Sender<Vec<u8>>),
    /// A frame on a connection.
    Frame(ConnectionId, Vec<u8>),
    /// The connection closed.
    Closed(ConnectionId),
}

/// The transport: one connection to the relay. Replace it with yours.
struct Link {
    id: ConnectionId,
    to_relay: Sender<ToRelay>,
    from_relay: Receiver<Vec<u8>>,
}

impl Link {
    fn open(id: ConnectionId, relay: &Sender<ToRelay>) -> Result<Self, Failure> {
        let (tx, rx) = mpsc::channel();
        relay.send(ToRelay::Open(id, tx))?;
        Ok(Self {
            id,
            to_relay: relay.clone(),
            from_relay: rx,
        })
    }

    fn send(&self, frame: Vec<u8>) -> Result<(), Failure> {
        Ok(self.to_relay.send(ToRelay::Frame(self.id, frame))?)
    }

    fn recv_timeout(&self, timeout: Duration) -> Result<Vec<u8>, RecvTimeoutError> {
        self.from_relay.recv_timeout(timeout)
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // The relay may be gone already; then there is nobody to tell.
        let _ = self.to_relay.send(ToRelay::Closed(self.id));
    }
}

/// The relay thread: the in-memory relay between the links, until every link and the main
/// thread let go of it.
fn relay(inbox: Receiver<ToRelay>, audience: Audience) {
    let mut relay = Relay::new(audience);
    let mut links: BTreeMap<ConnectionId, Sender<Vec<u8>>> = BTreeMap::new();
    for message in inbox {
        match message {
            ToRelay::Open(id, link) => {
                links.insert(id, link);
                // A real relay draws the challenge's nonce from its CSPRNG.
                let mut nonce = [0u8; 32];
                nonce[..8].copy_from_slice(&now_ms().to_be_bytes());
                nonce[8..16].copy_from_slice(&(id.0 as u64).to_be_bytes());
                relay.connect(id, now_ms(), Nonce::from_bytes(nonce));
            }
            ToRelay::Frame(id, frame) => relay.receive(id, &frame, now_ms()),
            ToRelay::Closed(id) => {
                links.remove(&id);
                relay.disconnect(id);
            }
        }
        while let Some((id, frame)) = relay.poll_transmit() {
            if let Some(link) = links.get(&id) {
                // A link that is gone has stopped listening: its frames go nowhere.
                let _ = link.send(frame);
            }
        }
    }
}

/// What one session did.
struct Session {
    device: Device,
    changes: usize,
    in_sync: bool,
}

/// One connection of one device: the engine over `link` until the session is quiet.
fn session(mut device: Device, link: Link, audience: Audience) -> Result<Session, Failure> {
    let me = PeerId::from_bytes(*device.replica().as_bytes());
    let mut engine = SyncEngine::new(&device.sync_keys(), me, audience, now_ms())?;
    let started = Instant::now();
    let mut met_peer = false;
    let mut in_sync = false;
    let mut changes = 0;
    loop {
        // Frames out, after every call into the engine.
        while let Some(frame) = engine.poll_transmit() {
            link.send(frame)?;
        }
        while let Some(event) = engine.poll_event() {
            match event {
                SyncEvent::Changed { .. } => changes += 1,
                SyncEvent::Rejected { from, reason } => {
                    // Over a reliable transport, only a forger causes this.
                    eprintln!("  refused an envelope from {from}: {reason}");
                }
                _ => {}
            }
        }
        if engine.peers().next().is_some() {
            met_peer = true;
            // Whether a peer is known to hold every change this replica holds: until then, the
            // local writes exist here only.
            in_sync = engine.in_sync(&device);
        }
        // Frames in.
        match link.recv_timeout(QUIET) {
            Ok(frame) => engine.handle_frame(&mut device, &frame, now_ms())?,
            Err(RecvTimeoutError::Timeout) if met_peer => break,
            Err(RecvTimeoutError::Timeout) if started.elapsed() > GIVE_UP => {
                return Err("no other device showed up".into());
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Err("the relay went away".into()),
        }
    }
    // Saves what the next session with each peer starts from.
    engine.disconnected(&mut device);
    drop(link);
    // Compacts what the session stored (see "Call maintain() periodically" in selfos' docs).
    device.maintain()?;
    Ok(Session {
        device,
        changes,
        in_sync,
    })
}

/// Connects both devices at once, each on its own thread, and waits for both sessions.
fn sync_both(
    laptop: Device,
    phone: Device,
    relay: &Sender<ToRelay>,
    next_id: &mut usize,
    audience: &Audience,
) -> Result<(Device, Device), Failure> {
    let mut threads = Vec::new();
    for (name, device) in [("laptop", laptop), ("phone", phone)] {
        let link = Link::open(ConnectionId(*next_id), relay)?;
        *next_id += 1;
        let audience = audience.clone();
        threads.push((name, thread::spawn(move || session(device, link, audience))));
    }
    let mut devices = Vec::new();
    for (name, thread) in threads {
        let session = thread
            .join()
            .map_err(|_| format!("the {name} thread panicked"))??;
        println!(
            "  {name}: {} changes received, in sync: {}",
            session.changes, session.in_sync
        );
        devices.push(session.device);
    }
    let phone = devices.pop().ok_or("no phone")?;
    let laptop = devices.pop().ok_or("no laptop")?;
    Ok((laptop, phone))
}

fn intent(text: &str) -> Content {
    Content {
        card_id: "intent.include".into(),
        card_kind: CardKind::Intent,
        answer: Some(Answer::Text(text.into())),
        agent: "chatgpt".into(),
        origin: "own_transport example".into(),
        created_ms: now_ms(),
        wait_ms: 8_000,
        status: Status::Answered,
        context: Default::default(),
    }
}

fn texts(device: &Device) -> Vec<String> {
    device
        .list(None)
        .responses
        .into_iter()
        .filter_map(|r| match r.content.answer {
            Some(Answer::Text(t)) => Some(t),
            _ => None,
        })
        .collect()
}

fn main() -> Result<(), Failure> {
    let audience: Audience = RELAY.parse()?;
    let (to_relay, inbox) = mpsc::channel();
    let relay_thread = {
        let audience = audience.clone();
        thread::spawn(move || relay(inbox, audience))
    };
    let mut next_id = 0;

    // The cheapest key derivation accepted; real vaults use KdfParams::DEFAULT. The phone gets
    // the vault secret (between real devices: by pairing or the recovery kit).
    let pass = || Passphrase::new("correct horse battery staple".into());
    let mut laptop = Vault::create(MemoryStore::new(), &pass(), KdfParams::FLOOR)?;
    let phone = Vault::restore(
        MemoryStore::new(),
        &laptop.secret(),
        &pass(),
        KdfParams::FLOOR,
    )?;
    let chatgpt = Namespace::new("chatgpt")?;

    println!("1. an answer recorded on the laptop, then both devices connect");
    laptop.record(&chatgpt, intent("a worked example"), now_ms())?;
    let (laptop, mut phone) = sync_both(laptop, phone, &to_relay, &mut next_id, &audience)?;
    println!("  the phone holds {:?}", texts(&phone));
    if texts(&phone) != ["a worked example"] {
        return Err("the phone did not receive the answer".into());
    }

    println!("2. the phone writes offline, then both connect again");
    phone.record(&chatgpt, intent("sources first"), now_ms())?;
    let (laptop, phone) = sync_both(laptop, phone, &to_relay, &mut next_id, &audience)?;
    println!("  the laptop holds {:?}", texts(&laptop));
    if texts(&laptop) != texts(&phone) || texts(&laptop).len() != 2 {
        return Err("the devices did not converge".into());
    }

    // Every link is closed; letting go of the last sender ends the relay thread.
    drop(to_relay);
    relay_thread
        .join()
        .map_err(|_| "the relay thread panicked")?;
    Ok(())
}
