//! Weights: integer grams, formatted for people.
//!
//! Rules:
//!
//! - A weight is a number of grams, [`Grams`] = `i64` (a type alias, like
//!   [`Cents`](super::money::Cents)). A scale can report negative weights (under zero, tare
//!   heavier than the load), so the type is signed.
//! - Weights are shown in kilograms with exactly 3 decimals, the language's decimal separator
//!   and thousands groups, then a no-break space (U+00A0) and `kg`: `1,234 kg` (fr, tr, ar),
//!   `1.234 kg` (en), `-0,012 kg`, `1 234,500 kg` (fr, U+202F groups). This is the form of the
//!   weighing panel, the cart and receipts.
//! - [`format_grams_short`] is for tight places (stock tiles, charts): under one kilogram in
//!   grams (`850 g`), from one kilogram on in kg with trailing zeros dropped (`1,25 kg`, `2 kg`).
//! - Manual weight entry (scale broken) types grams on the keypad ([`parse_grams_keypad`]).

use super::money::{parse_keypad_digits, push_fixed, KeypadError, Lang, NBSP};

/// A weight in grams.
pub type Grams = i64;

/// The largest weight the keypad accepts: 999,999 kg.
pub const MAX_KEYPAD_GRAMS: Grams = 999_999;

/// Why a weight input was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightError {
    /// Nothing was typed.
    Empty,
    /// A character other than an ASCII digit.
    NotADigit,
    /// Above [`MAX_KEYPAD_GRAMS`].
    TooLarge,
}

impl WeightError {
    /// Stable token for the UI.
    pub fn code(self) -> &'static str {
        match self {
            WeightError::Empty => "empty",
            WeightError::NotADigit => "not_a_digit",
            WeightError::TooLarge => "too_large",
        }
    }
}

/// Kilograms with 3 decimals and the unit: `1,234 kg` (fr, tr, ar), `1.234 kg` (en).
pub fn format_kg(grams: Grams, lang: Lang) -> String {
    let mut out = format_kg_number(grams, lang);
    out.push(NBSP);
    out.push_str("kg");
    out
}

/// Kilograms with 3 decimals, without the unit: `1,234` (for table columns and CSV for people).
pub fn format_kg_number(grams: Grams, lang: Lang) -> String {
    let mut out = String::new();
    if grams < 0 {
        out.push('-');
    }
    push_fixed(&mut out, grams, 3, lang, true);
    out
}

/// A short weight: `850 g` under one kilogram, otherwise kg without trailing zeros
/// (`1,25 kg`, `2 kg`, `-1,5 kg`).
pub fn format_grams_short(grams: Grams, lang: Lang) -> String {
    if grams.unsigned_abs() < 1000 {
        return format!("{grams}{NBSP}g");
    }
    let mut number = String::new();
    if grams < 0 {
        number.push('-');
    }
    push_fixed(&mut number, grams, 3, lang, true);
    let sep = lang.decimal_separator();
    let trimmed = number.trim_end_matches('0').trim_end_matches(sep);
    format!("{trimmed}{NBSP}kg")
}

/// Reads grams typed on the keypad for a manual weight: `"1234"` is 1,234 kg. Anything but
/// ASCII digits, an empty entry, or more than [`MAX_KEYPAD_GRAMS`] is refused.
pub fn parse_grams_keypad(digits: &str) -> Result<Grams, WeightError> {
    parse_keypad_digits(digits, MAX_KEYPAD_GRAMS).map_err(|e| match e {
        KeypadError::Empty => WeightError::Empty,
        KeypadError::NotADigit => WeightError::NotADigit,
        KeypadError::TooLarge => WeightError::TooLarge,
    })
}

/// The estimated weight of `qty` pieces or bunches of average weight `avg_g`; `None` when
/// the average is unknown or not positive, or the product overflows.
pub fn estimated_grams(qty: i64, avg_g: Option<Grams>) -> Option<Grams> {
    let avg = avg_g.filter(|a| *a > 0)?;
    qty.checked_mul(avg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kilograms_have_three_decimals_and_a_comma_in_french() {
        assert_eq!(format_kg(1234, Lang::Fr), "1,234\u{a0}kg");
        assert_eq!(format_kg(1234, Lang::Tr), "1,234\u{a0}kg");
        assert_eq!(format_kg(1234, Lang::Ar), "1,234\u{a0}kg");
        assert_eq!(format_kg(1234, Lang::En), "1.234\u{a0}kg");
    }

    #[test]
    fn small_and_zero_weights_keep_leading_zeros() {
        assert_eq!(format_kg(0, Lang::Fr), "0,000\u{a0}kg");
        assert_eq!(format_kg(5, Lang::Fr), "0,005\u{a0}kg");
        assert_eq!(format_kg(50, Lang::En), "0.050\u{a0}kg");
        assert_eq!(format_kg(1000, Lang::Fr), "1,000\u{a0}kg");
    }

    #[test]
    fn negative_weights_carry_a_minus_sign() {
        assert_eq!(format_kg(-12, Lang::Fr), "-0,012\u{a0}kg");
        assert_eq!(format_kg(-1500, Lang::En), "-1.500\u{a0}kg");
    }

    #[test]
    fn large_weights_are_grouped_by_thousands() {
        assert_eq!(format_kg(1_234_500, Lang::Fr), "1\u{202f}234,500\u{a0}kg");
        assert_eq!(format_kg(1_234_500, Lang::En), "1,234.500\u{a0}kg");
        assert_eq!(format_kg(1_234_500, Lang::Tr), "1.234,500\u{a0}kg");
        assert_eq!(format_kg(999_999, Lang::Fr), "999,999\u{a0}kg");
    }

    #[test]
    fn extreme_weights_do_not_overflow() {
        assert!(format_kg(i64::MIN, Lang::En).starts_with("-9,223,372,036,854,775.808"));
    }

    #[test]
    fn kg_number_has_no_unit() {
        assert_eq!(format_kg_number(1234, Lang::Fr), "1,234");
        assert_eq!(format_kg_number(-1234, Lang::En), "-1.234");
    }

    #[test]
    fn short_weights_use_grams_below_one_kilogram() {
        assert_eq!(format_grams_short(850, Lang::Fr), "850\u{a0}g");
        assert_eq!(format_grams_short(0, Lang::En), "0\u{a0}g");
        assert_eq!(format_grams_short(999, Lang::En), "999\u{a0}g");
        assert_eq!(format_grams_short(-999, Lang::Fr), "-999\u{a0}g");
    }

    #[test]
    fn short_weights_drop_trailing_zeros_from_one_kilogram() {
        assert_eq!(format_grams_short(1000, Lang::Fr), "1\u{a0}kg");
        assert_eq!(format_grams_short(1250, Lang::Fr), "1,25\u{a0}kg");
        assert_eq!(format_grams_short(1250, Lang::En), "1.25\u{a0}kg");
        assert_eq!(format_grams_short(1234, Lang::Tr), "1,234\u{a0}kg");
        assert_eq!(format_grams_short(-1500, Lang::Fr), "-1,5\u{a0}kg");
        assert_eq!(format_grams_short(10_000, Lang::Fr), "10\u{a0}kg");
        assert_eq!(
            format_grams_short(1_200_000, Lang::Fr),
            "1\u{202f}200\u{a0}kg"
        );
    }

    #[test]
    fn keypad_grams() {
        assert_eq!(parse_grams_keypad("1234"), Ok(1234));
        assert_eq!(parse_grams_keypad("007"), Ok(7));
        assert_eq!(parse_grams_keypad("999999"), Ok(MAX_KEYPAD_GRAMS));
        assert_eq!(parse_grams_keypad(""), Err(WeightError::Empty));
        assert_eq!(parse_grams_keypad("1,2"), Err(WeightError::NotADigit));
        assert_eq!(parse_grams_keypad("-3"), Err(WeightError::NotADigit));
        assert_eq!(parse_grams_keypad("1000000"), Err(WeightError::TooLarge));
    }

    #[test]
    fn weight_error_codes() {
        assert_eq!(WeightError::Empty.code(), "empty");
        assert_eq!(WeightError::NotADigit.code(), "not_a_digit");
        assert_eq!(WeightError::TooLarge.code(), "too_large");
    }

    #[test]
    fn estimated_grams_needs_a_positive_average() {
        assert_eq!(estimated_grams(3, Some(250)), Some(750));
        assert_eq!(estimated_grams(-2, Some(250)), Some(-500));
        assert_eq!(estimated_grams(3, None), None);
        assert_eq!(estimated_grams(3, Some(0)), None);
        assert_eq!(estimated_grams(3, Some(-1)), None);
        assert_eq!(estimated_grams(i64::MAX, Some(2)), None);
    }
}
