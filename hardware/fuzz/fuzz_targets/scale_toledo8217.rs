#![no_main]
use comptoir_hardware::scale::{check_decoder_invariants, Protocol};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| check_decoder_invariants(Protocol::Toledo8217, data));
