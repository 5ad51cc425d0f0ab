#![no_main]
use comptoir_hardware::cards::decode_scan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(card) = decode_scan(text) {
            assert_eq!(decode_scan(&card.encode()), Ok(card));
        }
    }
});
