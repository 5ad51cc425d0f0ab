//! The line format shared by Adam Equipment scales, in print-on-demand and continuous modes
//! (CPWplus style): `[U][sign]<space-padded number><unit>[ GR|NT]` ending CRLF.
//!
//! A leading `U` marks an unstable weight; the unit is lower case (`kg`, `g`; pounds are
//! refused); nine `^` mean over capacity, nine `-` under zero (or a zero-point error). An
//! optional word `GROSS`/`NET` before, or `GR`/`GS`/`G`/`NT`/`N` after, tells gross or net.

use super::{parse_decimal, unit_shift, ErrorCode, Reading};

/// Tare the current load.
pub const TARE: &[u8] = b"T\r\n";
/// Zero the scale.
pub const ZERO: &[u8] = b"Z\r\n";
/// Print the current weight (answered only for a new, non-zero, stable weight).
pub const PRINT: &[u8] = b"P\r\n";

pub(crate) const MAX_LINE: usize = 40;

/// Parses one Adam line (without its ending).
pub fn parse_line(line: &[u8]) -> Option<Reading> {
    let mut s = std::str::from_utf8(line).ok()?.trim_end();
    let mut stable = true;
    if let Some(rest) = s.strip_prefix('U') {
        stable = false;
        s = rest;
    }
    let mut s = s.trim();
    let mut net = None;
    for (word, is_net) in [("GROSS", false), ("NET", true), ("GS", false), ("NT", true)] {
        if let Some(rest) = s.strip_prefix(word) {
            if rest.starts_with(' ') {
                net = Some(is_net);
                s = rest.trim_start();
                break;
            }
        }
    }
    for (word, is_net) in [
        ("GR", false),
        ("GS", false),
        ("G", false),
        ("NT", true),
        ("N", true),
    ] {
        if let Some(rest) = s.strip_suffix(word) {
            if net.is_some() {
                return None;
            }
            net = Some(is_net);
            s = rest.trim_end();
            break;
        }
    }
    let net = net.unwrap_or(false);
    let split = s
        .rfind(|c: char| c.is_ascii_digit() || c == '.' || c == '^' || c == '-')
        .map(|i| i + 1)?;
    let (number, unit) = s.split_at(split);
    let number = number.trim();
    let shift = unit_shift(unit)?;
    if number.len() >= 3 && number.bytes().all(|b| b == b'^') {
        return Some(Reading::error(ErrorCode::OverCapacity));
    }
    if number.len() >= 3 && number.bytes().all(|b| b == b'-' || b == b'_') {
        return Some(Reading::error(ErrorCode::UnderZero));
    }
    let shift = match shift {
        Ok(shift) => shift,
        Err(code) => return Some(Reading::error(code)),
    };
    if number.starts_with('+') {
        return None;
    }
    let grams = parse_decimal(number, shift)?;
    Some(Reading::weight(grams, stable, net))
}

/// Formats a weight line: sign (or space) then the kg number padded to 7, `kg`, then ` NT`
/// when net; `U` first when unstable.
pub(crate) fn weight_line(grams: i64, stable: bool, net: bool, unit: &str) -> Vec<u8> {
    format!(
        "{}{}{:>7}{unit}{}\r\n",
        if stable { "" } else { "U" },
        if grams < 0 { '-' } else { ' ' },
        super::kg_text(grams),
        if net { " NT" } else { "" }
    )
    .into_bytes()
}

pub(crate) const OVER_LINE: &[u8] = b"^^^^^^^^^kg\r\n";
pub(crate) const UNDER_LINE: &[u8] = b"---------kg\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let ok = |l: &[u8], g, st, n| assert_eq!(parse_line(l), Some(Reading::weight(g, st, n)));
        ok(b"   1.234kg", 1234, true, false);
        ok(b"-  0.012kg", -12, true, false);
        ok(b"U  1.234kg", 1234, false, false);
        ok(b"U-  0.012 kg NT", -12, false, true);
        ok(b"   1.000kg GR", 1000, true, false);
        ok(b"GROSS   123.45 g ", 123, true, false);
        ok(b"NET   1.5 kg", 1500, true, true);
        ok(b"     12 g", 12, true, false);
        let err = |l: &[u8], c| assert_eq!(parse_line(l), Some(Reading::error(c)));
        err(b"^^^^^^^^^kg", ErrorCode::OverCapacity);
        err(b"---------kg", ErrorCode::UnderZero);
        err(b"   2.720lb", ErrorCode::UnsupportedUnit);
        err(b"U  2.7 lb", ErrorCode::UnsupportedUnit);
        for junk in [
            &b""[..],
            b"kg",
            b"Total   123.45 g",
            b"No.         01",
            b"   1.2.3kg",
            b"+  1.000kg",
            b"   1.000",
            b"   1.000 mg",
            b"NET 1.000kg NT",
            b"\xff\xfe",
        ] {
            assert_eq!(
                parse_line(junk),
                None,
                "{:?}",
                String::from_utf8_lossy(junk)
            );
        }
    }

    #[test]
    fn formatting_round_trips() {
        for (g, st, n) in [(1234, true, false), (-12, false, true), (0, true, false)] {
            let l = weight_line(g, st, n, "kg");
            assert_eq!(
                parse_line(&l[..l.len() - 2]),
                Some(Reading::weight(g, st, n))
            );
        }
        assert_eq!(weight_line(1234, true, false, "kg"), b"   1.234kg\r\n");
    }
}
