//! The Markdown export shows what the vault holds and nothing more: no control or bidi-control
//! character, and no Markdown syntax, from a value reaches the output as such.

use selfos_vault::{Answer, MemoryStore, Vault};

use crate::support::{T0, content, kdf, ns, pass};

fn vault() -> Vault<MemoryStore> {
    Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create")
}

/// Every character the export must not pass through: NUL and other C0 controls, DEL, C1
/// controls, bidi embeddings, overrides, isolates and marks, and the line and paragraph
/// separators.
const HIDDEN: &[char] = &[
    '\0', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{61c}', '\u{200e}', '\u{200f}',
    '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{2028}', '\u{2029}',
];

#[test]
fn controls_and_bidi_controls_are_escaped_visibly() {
    let mut v = vault();
    let hidden: String = HIDDEN.iter().collect();
    let mut c = content("gpt\0\u{202e}x", &format!("pay\0{hidden}gnp.exe"), T0);
    c.card_id = "intent\0\u{202e}include".into();
    c.origin = "ori\0\u{202e}gin".into();
    v.record(&ns("chatgpt"), c, T0).expect("record");

    let md = v.export_markdown();
    for hidden in HIDDEN {
        assert!(!md.contains(*hidden), "{:?} passed into {md:?}", hidden);
    }
    assert!(!md.as_bytes().contains(&0), "a NUL byte in {md:?}");
    assert!(
        md.contains(r"pay\u{0}\u{0}\u{7}\u{1b}\u{7f}\u{85}\u{9b}\u{61c}"),
        "{md}"
    );
    assert!(md.contains(r"\u{2029}gnp.exe"), "{md}");
    assert!(md.contains(r"**intent\u{0}\u{202e}include**"), "{md}");
}

#[test]
fn an_answer_stays_inside_its_list_item() {
    let mut v = vault();
    let chatgpt = ns("chatgpt");
    let sneaky = "one\n# Heading\r\n- [click](https://example.com) ![i](https://t.example/p.png) \
                  <img src=x> &#x202E; `code` **bold** _it_ ~~gone~~ back\\slash \\u{202e}";
    v.record(&chatgpt, content("chatgpt", sneaky, T0), T0)
        .expect("record");

    let md = v.export_markdown();
    let items: Vec<&str> = md.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(items.len(), 1, "{md}");
    assert_eq!(md.lines().filter(|l| l.starts_with('#')).count(), 2, "{md}");
    let item = items[0];
    assert!(
        item.ends_with(
            r"one # Heading  - \[click\](https://example.com) !\[i\](https://t.example/p.png) \<img src=x> \&#x202E; \`code\` \*\*bold\*\* \_it\_ \~\~gone\~\~ back\\slash \\u{202e}"
        ),
        "{item}"
    );
}

#[test]
fn ordinary_text_in_any_script_passes_unchanged() {
    let mut v = vault();
    let text = "Café naïve façade — 日本語のテキスト 한국어 مرحبا بالعالم שלום 👩‍💻 🇫🇷 🦀 (1/2): ok.";
    v.record(&ns("claude"), content("claude", text, T0), T0)
        .expect("record");
    let mut rated = content("claude", "", T0 + 1);
    rated.answer = Some(Answer::Rating(5));
    v.record(&ns("claude"), rated, T0 + 1).expect("record");

    let md = v.export_markdown();
    assert!(md.contains(&format!("): {text}\n")), "{md}");
    assert!(md.contains("): 5/5\n"), "{md}");
    assert!(md.contains("\n## claude (last-write-wins)\n"), "{md}");
}
