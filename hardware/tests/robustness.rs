//! The fuzz targets' properties on pseudo-random inputs, so they run on stable in CI.

use comptoir_hardware::cards::{decode_scan, ScanLineReader, MAX_SCAN_LEN};
use comptoir_hardware::printer::decode::EscPosDecoder;
use comptoir_hardware::scale::{check_decoder_invariants, Protocol};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Bytes biased towards the protocols' own alphabet, so frames do occur.
    fn bytes(&mut self, alphabet: &[u8], len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                let r = self.next();
                if r % 4 == 0 {
                    (r >> 8) as u8
                } else {
                    alphabet[(r >> 8) as usize % alphabet.len()]
                }
            })
            .collect()
    }
}

#[test]
fn scale_decoders_never_panic_and_ignore_splits() {
    let mut rng = Rng(0x5eed);
    let alphabet = b"\x02\r\n?@ABDHPp0123456789.,+-NGSTUOLkglb ^_RT";
    for _ in 0..3000 {
        let len = (rng.next() % 120) as usize;
        let data = rng.bytes(alphabet, len);
        for p in Protocol::ALL {
            check_decoder_invariants(p, &data);
        }
    }
}

#[test]
fn card_decoding_and_scan_lines_never_panic() {
    let mut rng = Rng(42);
    let alphabet = b"CPTBCDFGHJKLNPRSTVXaqzwm1&\r\n \x00\xc3\xa9";
    for _ in 0..5000 {
        let len = (rng.next() % 60) as usize;
        let data = rng.bytes(alphabet, len);
        if let Ok(text) = std::str::from_utf8(&data) {
            if let Ok(card) = decode_scan(text) {
                assert_eq!(decode_scan(&card.encode()), Ok(card));
            }
        }
        let mut r = ScanLineReader::new();
        for line in r.push(&data).into_iter().flatten() {
            assert!(line.len() <= MAX_SCAN_LEN);
        }
    }
}

#[test]
fn escpos_decoder_never_panics() {
    let mut rng = Rng(7);
    let alphabet = b"\x1b\x1d\x10\x04@tE!adpVv0(kL\n\x01\x02\x031PQ";
    for _ in 0..3000 {
        let len = (rng.next() % 200) as usize;
        let data = rng.bytes(alphabet, len);
        let mut d = EscPosDecoder::new();
        let _ = d.push(&data);
        let _ = d.flush().map(|j| j.text());
    }
}
