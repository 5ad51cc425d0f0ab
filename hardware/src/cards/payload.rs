//! The card payload, version 1: `CPT` + version + 32 token letters + 4 check letters
//! (40 characters, QR alphanumeric mode).
//!
//! Every character comes from [`ALPHABET`], sixteen consonants that sit on the same key on
//! US QWERTY and French AZERTY (no A, Q, W, Z, M, no digits), so a wedge scanner typing
//! through either keymap gives the same text; case is ignored (Caps Lock). Each letter
//! carries 4 bits: the token is 128 random bits; the check code is the CRC-16/CCITT
//! (init 0xFFFF) of the version byte and the token bytes. Decoding still tries the US and
//! the AZERTY readings of the text (for scanners that type other characters, or future
//! versions), and the check code tells which reading is right.

use std::fmt;
use std::str::FromStr;

use super::keymap::{retype, Keymap};
use super::reader::MAX_SCAN_LEN;
use super::CardError;

/// Sixteen letters on the same key in QWERTY and AZERTY; index = 4-bit value.
pub const ALPHABET: &[u8; 16] = b"BCDFGHJKLNPRSTVX";
/// Every payload starts with this.
pub const PREFIX: &str = "CPT";
/// Current payload version.
pub const VERSION: u8 = 1;
/// Characters in a version-1 payload.
pub const PAYLOAD_LEN: usize = 3 + 1 + 32 + 4;

/// A card's content: a version and a 128-bit random token.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CardPayload {
    token: [u8; 16],
}

impl fmt::Debug for CardPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token is a secret of its holder: keep it out of logs.
        f.write_str("CardPayload { .. }")
    }
}

impl CardPayload {
    /// A payload with a fresh random token from the operating system.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut token = [0u8; 16];
        getrandom::getrandom(&mut token)?;
        Ok(CardPayload { token })
    }

    pub fn from_token(token: [u8; 16]) -> Self {
        CardPayload { token }
    }

    pub fn token(&self) -> &[u8; 16] {
        &self.token
    }

    /// The token as 32 lowercase hex digits (for storage).
    pub fn token_hex(&self) -> String {
        self.token.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn version(&self) -> u8 {
        VERSION
    }

    /// The text to put in the QR code.
    pub fn encode(&self) -> String {
        let mut s = String::with_capacity(PAYLOAD_LEN);
        s.push_str(PREFIX);
        s.push(ALPHABET[VERSION as usize] as char);
        for b in self.token {
            s.push(ALPHABET[(b >> 4) as usize] as char);
            s.push(ALPHABET[(b & 15) as usize] as char);
        }
        let crc = check_code(&self.token);
        for shift in [12, 8, 4, 0] {
            s.push(ALPHABET[((crc >> shift) & 15) as usize] as char);
        }
        s
    }

    /// Decodes exactly one payload text, as typed (no keymap guessing; see [`decode_scan`]).
    pub fn decode_exact(text: &str) -> Result<Self, CardError> {
        let t = text.trim().to_ascii_uppercase();
        let rest = t.strip_prefix(PREFIX).ok_or(CardError::NotACard)?;
        let mut values = Vec::with_capacity(rest.len());
        for c in rest.bytes() {
            match ALPHABET.iter().position(|&a| a == c) {
                Some(v) => values.push(v as u8),
                None => return Err(CardError::Malformed),
            }
        }
        let (&version, rest) = values.split_first().ok_or(CardError::Malformed)?;
        if version != VERSION {
            return Err(CardError::UnknownVersion(version));
        }
        if rest.len() != 36 {
            return Err(CardError::Malformed);
        }
        let mut token = [0u8; 16];
        for (i, pair) in rest[..32].chunks(2).enumerate() {
            token[i] = pair[0] << 4 | pair[1];
        }
        let crc = rest[32..]
            .iter()
            .fold(0u16, |acc, &v| acc << 4 | u16::from(v));
        if crc != check_code(&token) {
            return Err(CardError::BadCheck);
        }
        Ok(CardPayload { token })
    }
}

impl fmt::Display for CardPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl FromStr for CardPayload {
    type Err = CardError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        decode_scan(s)
    }
}

fn check_code(token: &[u8; 16]) -> u16 {
    let mut crc: u16 = 0xffff;
    for &b in std::iter::once(&VERSION).chain(token.iter()) {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                crc << 1 ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Decodes what a scanner gave (a serial line or wedge text, without its Enter).
///
/// Refuses empty, overlong (> [`MAX_SCAN_LEN`] bytes) and binary input (control
/// characters) first. Then tries the text as read, its reading as a US scanner typing
/// through an AZERTY host, and as an AZERTY scanner typing through a US host; the first
/// reading whose check code verifies wins. If none does, the error of the plain reading.
pub fn decode_scan(text: &str) -> Result<CardPayload, CardError> {
    if text.len() > MAX_SCAN_LEN {
        return Err(CardError::TooLong { len: text.len() });
    }
    let t = text.trim_matches([' ', '\r', '\n', '\t']);
    if t.is_empty() {
        return Err(CardError::Empty);
    }
    if t.chars().any(|c| c.is_control() || c == '\u{fffd}') {
        return Err(CardError::Binary);
    }
    let plain = CardPayload::decode_exact(t);
    if plain.is_ok() {
        return plain;
    }
    for (scanner, host) in [
        (Keymap::Us, Keymap::FrAzerty),
        (Keymap::FrAzerty, Keymap::Us),
    ] {
        // The text was typed by `scanner` and read through `host`: undo it.
        let meant = retype(t, host, scanner);
        if let Ok(p) = CardPayload::decode_exact(&meant) {
            return Ok(p);
        }
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CardPayload {
        CardPayload::from_token(
            *b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff",
        )
    }

    #[test]
    fn golden_encoding() {
        let text = sample().encode();
        assert_eq!(text.len(), PAYLOAD_LEN);
        assert!(text.starts_with("CPTC"));
        assert_eq!(&text[4..36], "BBCCDDFFGGHHJJKKLLNNPPRRSSTTVVXX");
        assert_eq!(decode_scan(&text), Ok(sample()));
        assert_eq!(sample().token_hex(), "00112233445566778899aabbccddeeff");
        assert_eq!(format!("{:?}", sample()), "CardPayload { .. }");
    }

    #[test]
    fn alphabet_survives_both_keymaps() {
        let a = std::str::from_utf8(ALPHABET).unwrap();
        assert_eq!(retype(a, Keymap::Us, Keymap::FrAzerty), a);
        assert_eq!(retype(a, Keymap::FrAzerty, Keymap::Us), a);
        assert_eq!(retype(PREFIX, Keymap::Us, Keymap::FrAzerty), PREFIX);
        let lower = a.to_ascii_lowercase();
        assert_eq!(retype(&lower, Keymap::Us, Keymap::FrAzerty), lower);
    }

    #[test]
    fn random_cards_decode_under_both_keymaps_and_caps_lock() {
        for _ in 0..200 {
            let card = CardPayload::generate().unwrap();
            let text = card.encode();
            for (scanner, host) in [
                (Keymap::Us, Keymap::Us),
                (Keymap::Us, Keymap::FrAzerty),
                (Keymap::FrAzerty, Keymap::Us),
                (Keymap::FrAzerty, Keymap::FrAzerty),
            ] {
                let typed = retype(&text, scanner, host);
                assert_eq!(decode_scan(&typed), Ok(card));
                assert_eq!(decode_scan(&typed.to_ascii_lowercase()), Ok(card));
                assert_eq!(decode_scan(&format!("{typed}\r\n")), Ok(card));
            }
        }
    }

    #[test]
    fn misreads_are_refused() {
        let text = sample().encode();
        // Every single-character substitution within the alphabet fails the check.
        for i in 4..text.len() {
            for &c in ALPHABET {
                if text.as_bytes()[i] == c {
                    continue;
                }
                let mut t = text.clone().into_bytes();
                t[i] = c;
                let t = String::from_utf8(t).unwrap();
                let r = decode_scan(&t);
                assert!(
                    matches!(r, Err(CardError::BadCheck | CardError::UnknownVersion(_))),
                    "{t}: {r:?}"
                );
            }
        }
        // Two neighbours swapped.
        let mut t = text.clone().into_bytes();
        t.swap(10, 11);
        if t != text.as_bytes() {
            assert_eq!(
                decode_scan(std::str::from_utf8(&t).unwrap()),
                Err(CardError::BadCheck)
            );
        }
        assert_eq!(decode_scan(&text[..39]), Err(CardError::Malformed));
        assert_eq!(decode_scan(&format!("{text}B")), Err(CardError::Malformed));
        assert_eq!(decode_scan(""), Err(CardError::Empty));
        assert_eq!(decode_scan(" \r\n"), Err(CardError::Empty));
        assert_eq!(decode_scan("https://example.org"), Err(CardError::NotACard));
        assert_eq!(decode_scan("CPTA"), Err(CardError::Malformed));
        assert_eq!(decode_scan("CPTD"), Err(CardError::UnknownVersion(2)));
        assert_eq!(decode_scan("CPTC\u{7}BB"), Err(CardError::Binary));
        assert_eq!(decode_scan("CPT\u{fffd}"), Err(CardError::Binary));
        assert_eq!(
            decode_scan(&"B".repeat(300)),
            Err(CardError::TooLong { len: 300 })
        );
        assert_eq!(CardError::BadCheck.as_str(), "bad_check");
    }
}
