#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    selfos_vault::fuzzing::recovery_kit(data);
});
