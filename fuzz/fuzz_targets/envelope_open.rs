#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    selfos_sync::fuzzing::open_envelope(data);
});
