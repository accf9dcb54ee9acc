#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    selfos_proto::fuzzing::decode_frame(data);
});
