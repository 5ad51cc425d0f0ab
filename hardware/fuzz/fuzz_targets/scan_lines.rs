#![no_main]
use comptoir_hardware::cards::{ScanLineReader, MAX_SCAN_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut r = ScanLineReader::new();
    for line in r.push(data).into_iter().flatten() {
        assert!(line.len() <= MAX_SCAN_LEN);
        assert!(!line.chars().any(|c| c.is_control()));
    }
});
