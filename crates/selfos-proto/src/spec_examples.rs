//! Reads the worked examples out of `PROTOCOL.md`, so the tests and the spec cannot drift apart.

/// The bytes of the ```` ```text ```` block that follows `marker` in `PROTOCOL.md`: hex digits,
/// whitespace ignored, `#` starts a comment that runs to the end of the line.
pub(crate) fn protocol_example(marker: &str) -> Vec<u8> {
    const SPEC: &str = include_str!("../PROTOCOL.md");
    let after = &SPEC[SPEC.find(marker).unwrap()..];
    let start = after.find("```text\n").unwrap() + "```text\n".len();
    let block = &after[start..];
    let block = &block[..block.find("```").unwrap()];
    let digits: String = block
        .lines()
        .flat_map(|line| line.split('#').next().unwrap().split_whitespace())
        .collect();
    assert_eq!(
        digits.len() % 2,
        0,
        "odd number of hex digits after {marker}"
    );
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}
