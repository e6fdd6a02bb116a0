#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| xiangzhi_fuzzing::period(data));
