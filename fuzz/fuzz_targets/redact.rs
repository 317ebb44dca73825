#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lowcodeapi_runwayml_fuzz::redact(data));
