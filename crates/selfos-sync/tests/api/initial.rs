//! A fresh replica catches up with a big vault: messages larger than a frame travel in
//! fragments, and every frame stays within the relay's limit.

use selfos_proto::MAX_FRAME_LEN;
use selfos_sync::testing::Network;
use selfos_vault::{MemoryStore, Vault};

use crate::support::{
    assert_converged, assert_no_trouble, content, forwarded_bytes, forwarded_payloads, kdf, ns,
    pass, replicas, settle,
};

const ANSWERS: usize = 1_500;

/// About 300 bytes of text, different for every `n`.
fn text(n: usize) -> String {
    let mut t = format!("answer {n}: ");
    while t.len() < 300 {
        t.push_str(&format!(
            "{:x} prefer worked examples; ",
            n.wrapping_mul(0x9E37_79B9) + t.len()
        ));
    }
    t
}

#[test]
fn a_fresh_replica_catches_up_with_1500_answers_in_fragments() {
    let mut vaults = replicas(1);
    let mut big = vaults.remove(0);
    let secret = big.secret();
    let t0 = 1_800_000_000_000;
    for n in 0..ANSWERS {
        let agent = ["chatgpt", "claude", "gemini"][n % 3];
        let now = t0 + n as u64;
        big.record(
            &ns(agent),
            content(agent, "intent.include", &text(n), now),
            now,
        )
        .expect("record");
    }

    let mut net = Network::new(5);
    let a = net.add(big);
    net.connect(a).expect("connect");
    settle(&mut net);
    let fresh = Vault::restore(MemoryStore::new(), &secret, &pass(), kdf()).expect("restore");
    let b = net.add(fresh);
    net.connect(b).expect("connect");
    let steps = settle(&mut net);

    assert_eq!(assert_converged(&mut net), ANSWERS);
    assert_no_trouble(&net);

    let total = forwarded_bytes(&net, 0);
    let largest = net.forwarded.iter().map(Vec::len).max().unwrap_or(0);
    assert!(largest <= MAX_FRAME_LEN, "a frame of {largest} bytes");
    // The document is bigger than a frame, so it must have travelled in several.
    assert!(total > MAX_FRAME_LEN, "only {total} bytes crossed");
    let fragmented = forwarded_payloads(&net)
        .iter()
        .filter(|p| u16::from_be_bytes([p[15], p[16]]) > 1)
        .count();
    assert!(fragmented >= 2, "{fragmented} fragments");
    println!(
        "initial sync of {ANSWERS} answers: {} frames, {total} bytes, largest {largest}, \
         {fragmented} fragments, {steps} steps",
        net.forwarded.len()
    );
}
