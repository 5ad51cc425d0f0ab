//! Line readers for serial-mode scanners: lines end in CR, LF or CRLF.

use super::CardError;

/// Longest scan accepted, in bytes (a version-1 payload is 40).
pub const MAX_SCAN_LEN: usize = 128;

/// Splits a serial scanner's bytes into scans. Overlong lines and lines with binary data
/// (control bytes, invalid UTF-8) come out as errors, once per line, and never as text.
#[derive(Debug, Default)]
pub struct ScanLineReader {
    buf: Vec<u8>,
    overlong: usize,
}

impl ScanLineReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes (any split); returns one result per completed non-empty line.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<String, CardError>> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == b'\r' || b == b'\n' {
                if self.overlong > 0 {
                    out.push(Err(CardError::TooLong { len: self.overlong }));
                } else if !self.buf.is_empty() {
                    out.push(line(&self.buf));
                }
                self.buf.clear();
                self.overlong = 0;
            } else if self.overlong > 0 {
                self.overlong += 1;
            } else if self.buf.len() >= MAX_SCAN_LEN {
                self.overlong = self.buf.len() + 1;
                self.buf.clear();
            } else {
                self.buf.push(b);
            }
        }
        out
    }
}

fn line(bytes: &[u8]) -> Result<String, CardError> {
    let text = std::str::from_utf8(bytes).map_err(|_| CardError::Binary)?;
    if text.chars().any(|c| c.is_control()) {
        return Err(CardError::Binary);
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{decode_scan, CardPayload};
    use super::*;

    #[test]
    fn lines_split_any_way() {
        let card = CardPayload::from_token([7; 16]).encode();
        let mut r = ScanLineReader::new();
        let bytes = format!("{card}\r\n{card}\n{card}\r");
        let mut results = Vec::new();
        for chunk in bytes.as_bytes().chunks(7) {
            results.extend(r.push(chunk));
        }
        assert_eq!(results.len(), 3);
        for res in results {
            assert_eq!(
                decode_scan(&res.unwrap()).unwrap(),
                CardPayload::from_token([7; 16])
            );
        }
    }

    #[test]
    fn overlong_and_binary_are_refused() {
        let mut r = ScanLineReader::new();
        let mut long = vec![b'B'; 300];
        long.extend_from_slice(b"\r\nok\r\n\x00\x01\r\n\xff\xfe\r\n");
        assert_eq!(
            r.push(&long),
            [
                Err(CardError::TooLong { len: 300 }),
                Ok("ok".to_string()),
                Err(CardError::Binary),
                Err(CardError::Binary)
            ]
        );
    }
}
