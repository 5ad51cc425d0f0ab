//! QR cards of residents: a versioned payload with a random token and a check code, built
//! from letters that a keyboard-wedge scanner types the same through a US or a French
//! AZERTY keymap; readers for serial scanners (lines ending CR or LF) and wedge text.
//!
//! A misread, truncated, overlong or binary scan is refused with a typed error before any
//! look-up.

mod keymap;
mod payload;
mod reader;

pub use keymap::{retype, Keymap};
pub use payload::{decode_scan, CardPayload, ALPHABET, PAYLOAD_LEN, PREFIX};
pub use reader::{ScanLineReader, MAX_SCAN_LEN};

/// Why a scan is not a card.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("the scan is empty")]
    Empty,
    #[error("the scan is too long ({len} bytes)")]
    TooLong { len: usize },
    #[error("the scan contains binary data")]
    Binary,
    #[error("this code is not a Comptoir card")]
    NotACard,
    #[error("this card was made by a newer version (payload version {0})")]
    UnknownVersion(u8),
    #[error("the card code is malformed")]
    Malformed,
    #[error("the card was misread (check code mismatch)")]
    BadCheck,
}

impl CardError {
    /// A stable token for the UI to translate (`too_long`, `bad_check`...).
    pub fn as_str(&self) -> &'static str {
        match self {
            CardError::Empty => "empty",
            CardError::TooLong { .. } => "too_long",
            CardError::Binary => "binary",
            CardError::NotACard => "not_a_card",
            CardError::UnknownVersion(_) => "unknown_version",
            CardError::Malformed => "malformed",
            CardError::BadCheck => "bad_check",
        }
    }
}
