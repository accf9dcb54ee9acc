//! The relay sees ciphertext, sizes and timing: no answer, card id, agent name, record id or
//! record key crosses it in the clear.

use selfos_vault::{Answer, forensics::chunk_plaintexts};

use crate::support::{
    assert_converged, contains, content, forwarded_payloads, network, ns, pass, settle,
};

/// Bytes before the ciphertext in an envelope: magic, version, counter, part, parts, nonce.
const ENVELOPE_HEADER_LEN: usize = 4 + 1 + 8 + 2 + 2 + 24;

#[test]
fn relay_sees_no_plaintext_and_the_payloads_look_random() {
    let mut net = network(3, 3);
    let agents = ["chatgpt-zephyr", "claude-quokka", "gemini-axolotl"];
    let mut texts = Vec::new();
    let mut cards = Vec::new();
    let mut ids = Vec::new();
    for (i, agent) in agents.iter().enumerate() {
        for n in 0..5 {
            let text = format!("marmalade-{i}-{n}: my secret preference is long worked examples");
            let card = format!("card.zanzibar.{i}.{n}");
            let now = net.now_ms;
            let mut c = content(agent, &card, &text, now);
            c.context.prompt_excerpt = Some(format!("prompt-tangerine-{i}-{n}"));
            c.context.topics = vec![format!("topic-kumquat-{i}-{n}")];
            ids.push(
                net.devices[i]
                    .vault
                    .record(&ns(agent), c, now)
                    .expect("record"),
            );
            net.local_change(i).expect("local change");
            texts.push(text);
            cards.push(card);
        }
    }
    settle(&mut net);
    // Edits and a delete travel too.
    let now = net.now_ms;
    let edited = "edited-persimmon: rather bullet points".to_owned();
    net.devices[1]
        .vault
        .edit(&ids[0], Some(Answer::Text(edited.clone())), None, now)
        .expect("edit");
    net.local_change(1).expect("local change");
    net.devices[2].vault.delete(&ids[1], now).expect("delete");
    net.local_change(2).expect("local change");
    settle(&mut net);
    assert_eq!(assert_converged(&mut net), 14);
    texts.push(edited);

    // What must never cross the relay in the clear.
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    secrets.extend(texts.iter().map(|t| t.as_bytes().to_vec()));
    secrets.extend(cards.iter().map(|c| c.as_bytes().to_vec()));
    secrets.extend(agents.iter().map(|a| a.as_bytes().to_vec()));
    for distinctive in ["marmalade", "zanzibar", "tangerine", "kumquat", "persimmon"] {
        secrets.push(distinctive.as_bytes().to_vec());
    }
    for id in &ids {
        secrets.push(id.record.as_bytes().to_vec());
        secrets.push(id.record.to_string().into_bytes());
    }
    let mut keys = 0;
    for device in &net.devices {
        let (_, chunks) = chunk_plaintexts(device.vault.store(), &pass()).expect("forensics");
        for chunk in chunks {
            for (_, key) in chunk.keys {
                keys += 1;
                secrets.push(key.to_vec());
            }
        }
    }
    assert!(keys >= 14, "found only {keys} record keys in the stores");

    let frames = &net.forwarded;
    assert!(!frames.is_empty());
    for (f, frame) in frames.iter().enumerate() {
        for secret in &secrets {
            assert!(
                !contains(frame, secret),
                "frame {f} holds {:?}",
                String::from_utf8_lossy(secret)
            );
        }
    }

    // The ciphertexts look random: no runs of one byte, and a flat byte histogram.
    let payloads = forwarded_payloads(&net);
    let mut histogram = [0usize; 256];
    let mut total = 0;
    for (p, payload) in payloads.iter().enumerate() {
        assert_eq!(&payload[..4], b"SOSE");
        let ciphertext = &payload[ENVELOPE_HEADER_LEN..];
        let longest_run = ciphertext
            .chunk_by(|a, b| a == b)
            .map(<[u8]>::len)
            .max()
            .unwrap_or(0);
        assert!(
            longest_run < 6,
            "payload {p}: a run of {longest_run} equal bytes"
        );
        for &b in ciphertext {
            histogram[usize::from(b)] += 1;
        }
        total += ciphertext.len();
    }
    let expected = total as f64 / 256.0;
    assert!(
        expected > 50.0,
        "too few ciphertext bytes ({total}) to judge"
    );
    // Pearson's chi-squared over 255 degrees of freedom: mean 255, sd about 22.6; 400 is more
    // than six standard deviations out.
    let chi2: f64 = histogram
        .iter()
        .map(|&n| (n as f64 - expected).powi(2) / expected)
        .sum();
    assert!(chi2 < 400.0, "byte histogram is not flat: chi2 = {chi2:.1}");
    println!(
        "privacy: {} frames, {total} ciphertext bytes, chi2 = {chi2:.1}",
        payloads.len()
    );
}
