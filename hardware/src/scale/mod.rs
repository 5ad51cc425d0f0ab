//! Scales: one sans-IO module per protocol (bytes in, readings out, plus the request bytes
//! it needs and its serial settings), a simulator per protocol, and a blocking driver.
//!
//! Weights are integer grams; decimal text from the scale is parsed digit by digit, never
//! through floats.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::transport::SerialSettings;

pub mod adam_continuous;
mod adam_line;
pub mod adam_print;
pub mod continuous;
pub mod driver;
mod lines;
pub mod read;
pub mod simulator;
pub mod toledo8217;

pub use driver::{run_scale_driver, DriverConfig, ScaleCommand, ScaleEvent};
pub use simulator::{ScaleSimulator, SimCommand, SimState};

/// What a reading can say instead of a weight. `as_str` and serde give the snake_case
/// tokens of the command-line contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The scale reports motion without a weight.
    Motion,
    OverCapacity,
    UnderZero,
    /// Outside the zero range (e.g. not zeroed since power-up).
    NotZeroed,
    /// A unit other than kg or g (pounds are refused).
    UnsupportedUnit,
    /// No valid frame and no bytes at all within the answer timeout (2 s).
    NoAnswer,
    /// Bytes arrived but no valid frame within the answer timeout (2 s).
    Garbage,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 7] = [
        ErrorCode::Motion,
        ErrorCode::OverCapacity,
        ErrorCode::UnderZero,
        ErrorCode::NotZeroed,
        ErrorCode::UnsupportedUnit,
        ErrorCode::NoAnswer,
        ErrorCode::Garbage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Motion => "motion",
            ErrorCode::OverCapacity => "over_capacity",
            ErrorCode::UnderZero => "under_zero",
            ErrorCode::NotZeroed => "not_zeroed",
            ErrorCode::UnsupportedUnit => "unsupported_unit",
            ErrorCode::NoAnswer => "no_answer",
            ErrorCode::Garbage => "garbage",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A weight as the scale shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Weight {
    /// Integer grams; negative below zero (or below the tare).
    pub grams: i64,
    pub stable: bool,
    /// True when a tare is subtracted.
    pub net: bool,
}

/// One result from a scale: a weight or an error code.
///
/// JSON (`serde_json::to_string`): `{"grams":-12,"stable":false,"net":false}` or
/// `{"error":"motion"}`. Display: `1234 g stable gross` or `error no_answer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Reading {
    Weight(Weight),
    Error(ErrorReading),
}

/// The JSON shape of an error reading (`{"error":"motion"}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ErrorReading {
    pub error: ErrorCode,
}

impl Reading {
    pub fn weight(grams: i64, stable: bool, net: bool) -> Self {
        Reading::Weight(Weight { grams, stable, net })
    }

    pub fn error(code: ErrorCode) -> Self {
        Reading::Error(ErrorReading { error: code })
    }

    /// The weight, if this reading carries one.
    pub fn as_weight(&self) -> Option<Weight> {
        match self {
            Reading::Weight(w) => Some(*w),
            Reading::Error(_) => None,
        }
    }

    /// The error code, if this reading is an error.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            Reading::Weight(_) => None,
            Reading::Error(e) => Some(e.error),
        }
    }

    /// The one-line JSON of the `scale read --json` contract.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a reading always serialises")
    }
}

impl fmt::Display for Reading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reading::Weight(w) => write!(
                f,
                "{} g {} {}",
                w.grams,
                if w.stable { "stable" } else { "unstable" },
                if w.net { "net" } else { "gross" }
            ),
            Reading::Error(e) => write!(f, "error {}", e.error),
        }
    }
}

/// A sans-IO scale protocol decoder: feed it whatever bytes arrived (any split), get the
/// readings of the complete frames. Junk is skipped and the decoder resynchronises on the
/// next frame.
pub trait Decoder: Send {
    fn push(&mut self, bytes: &[u8]) -> Vec<Reading>;
}

/// How the host gets readings from a protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polling {
    /// The host sends `request` every `interval`; no answer within 2 s means no answer.
    Request {
        request: &'static [u8],
        interval: Duration,
    },
    /// The host sends `request` every `interval` but only while asked to (a weighing
    /// screen is open); the scale may stay silent, which is not a disconnection.
    OnDemand {
        request: &'static [u8],
        interval: Duration,
    },
    /// The scale streams frames by itself.
    Stream,
}

/// The scale protocols. Names on the command line and in the config: `toledo8217`,
/// `continuous`, `adam-print`, `adam-continuous`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Protocol {
    #[serde(rename = "toledo8217")]
    Toledo8217,
    #[serde(rename = "continuous")]
    Continuous,
    #[serde(rename = "adam-print")]
    AdamPrint,
    #[serde(rename = "adam-continuous")]
    AdamContinuous,
}

impl Protocol {
    pub const ALL: [Protocol; 4] = [
        Protocol::Toledo8217,
        Protocol::Continuous,
        Protocol::AdamPrint,
        Protocol::AdamContinuous,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Toledo8217 => "toledo8217",
            Protocol::Continuous => "continuous",
            Protocol::AdamPrint => "adam-print",
            Protocol::AdamContinuous => "adam-continuous",
        }
    }

    /// The protocol's default serial settings (the config may override each field).
    pub fn settings(self) -> SerialSettings {
        match self {
            Protocol::Toledo8217 => toledo8217::SETTINGS,
            Protocol::Continuous => continuous::SETTINGS,
            Protocol::AdamPrint => adam_print::SETTINGS,
            Protocol::AdamContinuous => adam_continuous::SETTINGS,
        }
    }

    pub fn polling(self) -> Polling {
        match self {
            Protocol::Toledo8217 => toledo8217::POLLING,
            Protocol::Continuous => continuous::POLLING,
            Protocol::AdamPrint => adam_print::POLLING,
            Protocol::AdamContinuous => adam_continuous::POLLING,
        }
    }

    /// A fresh decoder (one per connection).
    pub fn decoder(self) -> Box<dyn Decoder> {
        match self {
            Protocol::Toledo8217 => Box::new(toledo8217::Decoder::new()),
            Protocol::Continuous => Box::new(continuous::Decoder::new()),
            Protocol::AdamPrint => Box::new(adam_print::Decoder::new()),
            Protocol::AdamContinuous => Box::new(adam_continuous::Decoder::new()),
        }
    }

    /// A fresh simulator speaking this protocol (0 g, stable, gross).
    pub fn simulator(self) -> Box<dyn ScaleSimulator> {
        match self {
            Protocol::Toledo8217 => Box::new(toledo8217::Simulator::default()),
            Protocol::Continuous => Box::new(continuous::Simulator::default()),
            Protocol::AdamPrint => Box::new(adam_print::Simulator::default()),
            Protocol::AdamContinuous => Box::new(adam_continuous::Simulator::default()),
        }
    }

    /// Bytes that zero the scale, if the protocol can.
    pub fn zero_command(self) -> Option<&'static [u8]> {
        match self {
            Protocol::Toledo8217 => Some(toledo8217::ZERO),
            Protocol::AdamPrint | Protocol::AdamContinuous => Some(adam_line::ZERO),
            Protocol::Continuous => None,
        }
    }

    /// Bytes that tare the current load, if the protocol can.
    pub fn tare_command(self) -> Option<&'static [u8]> {
        match self {
            Protocol::Toledo8217 => Some(toledo8217::TARE),
            Protocol::AdamPrint | Protocol::AdamContinuous => Some(adam_line::TARE),
            Protocol::Continuous => None,
        }
    }

    /// Bytes that clear the tare, if the protocol can.
    pub fn clear_tare_command(self) -> Option<&'static [u8]> {
        match self {
            Protocol::Toledo8217 => Some(toledo8217::CLEAR_TARE),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown protocol name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown scale protocol {0:?} (expected toledo8217, continuous, adam-print or adam-continuous)"
)]
pub struct UnknownProtocol(pub String);

impl FromStr for Protocol {
    type Err = UnknownProtocol;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownProtocol(s.to_string()))
    }
}

/// Parses decimal text such as `-1.234`, `+ 0.012` or `12` into an integer of the value
/// times 10^`shift` (e.g. kg with `shift` 3 gives grams), digit by digit. Extra decimals
/// round half away from zero. Spaces between the sign and the digits are allowed; anything
/// else is refused.
pub(crate) fn parse_decimal(text: &str, shift: u32) -> Option<i64> {
    let t = text.trim();
    let (negative, rest) = match t.as_bytes().first()? {
        b'-' => (true, t[1..].trim_start()),
        b'+' => (false, t[1..].trim_start()),
        _ => (false, t),
    };
    if rest.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    let mut decimals: Option<u32> = None;
    let mut digits = 0u32;
    let mut round_up = false;
    let mut dropped = false;
    for b in rest.bytes() {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if digits > 12 {
                    return None;
                }
                let d = i64::from(b - b'0');
                match decimals {
                    Some(n) if n >= shift => {
                        if !dropped {
                            round_up = d >= 5;
                            dropped = true;
                        }
                    }
                    Some(n) => {
                        value = value * 10 + d;
                        decimals = Some(n + 1);
                    }
                    None => value = value * 10 + d,
                }
            }
            b'.' | b',' if decimals.is_none() => decimals = Some(0),
            _ => return None,
        }
    }
    if digits == 0 {
        return None;
    }
    let have = decimals.unwrap_or(0).min(shift);
    value *= 10i64.pow(shift - have);
    if round_up {
        value += 1;
    }
    Some(if negative { -value } else { value })
}

/// How many decimal places to shift a number in this unit to get grams; `Err` for a unit
/// that is known but refused (pounds, ounces), `None` for text that is no unit at all.
pub(crate) fn unit_shift(unit: &str) -> Option<Result<u32, ErrorCode>> {
    match unit.trim().to_ascii_lowercase().as_str() {
        "kg" => Some(Ok(3)),
        "g" => Some(Ok(0)),
        "lb" | "lbs" | "oz" | "ozt" | "lb:oz" | "t" | "ct" | "dwt" | "gn" | "tl" | "mo" => {
            Some(Err(ErrorCode::UnsupportedUnit))
        }
        _ => None,
    }
}

/// Formats grams as kg text with three decimals and no sign (`1234` -> `1.234`).
pub(crate) fn kg_text(grams: i64) -> String {
    let g = grams.unsigned_abs();
    format!("{}.{:03}", g / 1000, g % 1000)
}

/// Checks what must hold for any input (fuzz targets and robustness tests): the readings
/// do not depend on how the bytes are split, and each one's JSON reads back the same.
#[doc(hidden)]
pub fn check_decoder_invariants(protocol: Protocol, data: &[u8]) {
    let whole = protocol.decoder().push(data);
    for split in [1, 2, 3, 7, data.len() / 2] {
        if split == 0 || split >= data.len() {
            continue;
        }
        let mut d = protocol.decoder();
        let mut parts = Vec::new();
        for chunk in data.chunks(split) {
            parts.extend(d.push(chunk));
        }
        assert_eq!(parts, whole, "split every {split}");
    }
    for r in &whole {
        let back: Reading = serde_json::from_str(&r.to_json()).expect("JSON reads back");
        assert_eq!(&back, r);
        assert!(!r.to_string().is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_to_grams_without_floats() {
        assert_eq!(parse_decimal("1.234", 3), Some(1234));
        assert_eq!(parse_decimal("  0.012", 3), Some(12));
        assert_eq!(parse_decimal("-  0.012", 3), Some(-12));
        assert_eq!(parse_decimal("+12", 3), Some(12000));
        assert_eq!(parse_decimal("1.2", 3), Some(1200));
        assert_eq!(parse_decimal("0,5", 3), Some(500));
        assert_eq!(parse_decimal("1.2345", 3), Some(1235));
        assert_eq!(parse_decimal("1.2344", 3), Some(1234));
        assert_eq!(parse_decimal("-1.2345", 3), Some(-1235));
        assert_eq!(parse_decimal("123.4", 0), Some(123));
        assert_eq!(parse_decimal("123.5", 0), Some(124));
        assert_eq!(parse_decimal("", 3), None);
        assert_eq!(parse_decimal("-", 3), None);
        assert_eq!(parse_decimal(".", 3), None);
        assert_eq!(parse_decimal("1.2.3", 3), None);
        assert_eq!(parse_decimal("1 2", 3), None);
        assert_eq!(parse_decimal("1e3", 3), None);
        assert_eq!(parse_decimal("9999999999999", 3), None);
        assert_eq!(parse_decimal("99999999.999", 3), Some(99_999_999_999));
    }

    #[test]
    fn reading_formats_match_the_command_line_contract() {
        let w = Reading::weight(-12, false, false);
        assert_eq!(w.to_json(), r#"{"grams":-12,"stable":false,"net":false}"#);
        assert_eq!(w.to_string(), "-12 g unstable gross");
        assert_eq!(
            Reading::weight(1234, true, false).to_string(),
            "1234 g stable gross"
        );
        assert_eq!(Reading::weight(5, true, true).to_string(), "5 g stable net");
        let e = Reading::error(ErrorCode::Motion);
        assert_eq!(e.to_json(), r#"{"error":"motion"}"#);
        assert_eq!(
            Reading::error(ErrorCode::NoAnswer).to_string(),
            "error no_answer"
        );
        for code in ErrorCode::ALL {
            let json = Reading::error(code).to_json();
            assert_eq!(json, format!("{{\"error\":\"{}\"}}", code.as_str()));
            let back: Reading = serde_json::from_str(&json).unwrap();
            assert_eq!(back, Reading::error(code));
        }
        let back: Reading = serde_json::from_str(&w.to_json()).unwrap();
        assert_eq!(back, w);
    }

    #[test]
    fn protocol_names() {
        for p in Protocol::ALL {
            assert_eq!(p.as_str().parse::<Protocol>().unwrap(), p);
            assert_eq!(
                serde_json::to_string(&p).unwrap(),
                format!("\"{}\"", p.as_str())
            );
        }
        assert!("adam_print".parse::<Protocol>().is_err());
    }

    #[test]
    fn units() {
        assert_eq!(unit_shift("kg"), Some(Ok(3)));
        assert_eq!(unit_shift("KG"), Some(Ok(3)));
        assert_eq!(unit_shift("g"), Some(Ok(0)));
        assert_eq!(unit_shift("lb"), Some(Err(ErrorCode::UnsupportedUnit)));
        assert_eq!(unit_shift("x"), None);
        assert_eq!(kg_text(1234), "1.234");
        assert_eq!(kg_text(-12), "0.012");
    }
}
