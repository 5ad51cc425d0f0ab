//! Money: integer cents, rounding, formatting for people, keypad entry, languages.
//!
//! Rules:
//!
//! - An amount is a number of euro cents, [`Cents`] = `i64` (a type alias rather than a newtype:
//!   amounts go to and from SQLite, JSON payloads and Slint as plain integers, and the alias keeps
//!   the arithmetic readable). Refunds are negative amounts.
//! - Every division of money rounds half away from zero ([`div_round`]): 0.5 cent becomes 1 cent,
//!   −0.5 cent becomes −1 cent, so a refund is exactly the negation of the sale it reverses.
//!   Products are taken on `i128` so no `i64` input can overflow in the middle of a formula.
//! - Amounts are formatted for people here, never by the UI's float-to-string:
//!
//!   | lang | positive       | negative        | notes                                      |
//!   |------|----------------|-----------------|--------------------------------------------|
//!   | fr   | `1 234,50 €`   | `-1 234,50 €`   | CLDR fr: U+202F groups, U+00A0 before `€`  |
//!   | en   | `€1,234.50`    | `-€1,234.50`    | CLDR en                                    |
//!   | tr   | `€1.234,50`    | `-€1.234,50`    | CLDR tr: symbol first, `.` groups, `,` decimals |
//!   | ar   | `1.234,50 €`   | `-1.234,50 €`   | see below                                  |
//!
//!   Arabic: CLDR's `ar` default uses Arabic-Indic digits, but the Maghreb locales (`ar-DZ`,
//!   `ar-MA`, `ar-TN`), closest to the residents a French neighbourhood kiosk serves, use Western
//!   digits with `,` decimals, `.` groups and the symbol after a no-break space. Prices on the
//!   stall are in Western digits too, so the screen matches the price signs. No bidi control
//!   characters are inserted: the UI lays the text out.
//! - The minus sign is the ASCII hyphen-minus (`-`), as in CLDR for these four languages.
//! - Keypad entry types cents: `1`, `2`, `3`, `4` reads `12,34 €` ([`parse_money_keypad`]).

/// An amount of money in euro cents (negative for refunds and money going out).
pub type Cents = i64;

/// No-break space (U+00A0): between a number and its unit or currency symbol.
pub const NBSP: char = '\u{a0}';
/// Narrow no-break space (U+202F): the French thousands separator.
pub const NNBSP: char = '\u{202f}';

/// The largest amount the keypad accepts: 999 999,99 €.
pub const MAX_KEYPAD_CENTS: Cents = 99_999_999;

/// A language of the interface. English is the source language of the UI strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    Fr,
    En,
    Tr,
    Ar,
}

impl Default for Lang {
    /// French, the kiosk's default.
    fn default() -> Self {
        Lang::Fr
    }
}

impl Lang {
    /// Every language, in the order the language picker shows them.
    pub const ALL: [Lang; 4] = [Lang::Fr, Lang::En, Lang::Tr, Lang::Ar];

    /// The ISO 639-1 code: `fr`, `en`, `tr`, `ar`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
            Lang::Tr => "tr",
            Lang::Ar => "ar",
        }
    }

    /// Reads a language code, case-insensitively; a region or encoding suffix is ignored
    /// (`fr_FR.UTF-8`, `ar-MA`). Unknown codes give `None`.
    pub fn from_code(code: &str) -> Option<Lang> {
        let base = code
            .trim()
            .split(['-', '_', '.', '@'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match base.as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            "tr" => Some(Lang::Tr),
            "ar" => Some(Lang::Ar),
            _ => None,
        }
    }

    /// Whether the language is written right to left.
    pub fn is_rtl(self) -> bool {
        matches!(self, Lang::Ar)
    }

    /// The decimal separator: `.` in English, `,` otherwise.
    pub fn decimal_separator(self) -> char {
        match self {
            Lang::En => '.',
            Lang::Fr | Lang::Tr | Lang::Ar => ',',
        }
    }

    /// The thousands separator: U+202F in French, `,` in English, `.` in Turkish and Arabic.
    pub fn group_separator(self) -> char {
        match self {
            Lang::Fr => NNBSP,
            Lang::En => ',',
            Lang::Tr | Lang::Ar => '.',
        }
    }
}

/// Why a money input was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyError {
    /// Nothing was typed.
    Empty,
    /// A character other than an ASCII digit.
    NotADigit,
    /// Above [`MAX_KEYPAD_CENTS`].
    TooLarge,
    /// A computation left the `i64` range (or divided by zero).
    Overflow,
}

impl MoneyError {
    /// Stable token for the UI.
    pub fn code(self) -> &'static str {
        match self {
            MoneyError::Empty => "empty",
            MoneyError::NotADigit => "not_a_digit",
            MoneyError::TooLarge => "too_large",
            MoneyError::Overflow => "overflow",
        }
    }
}

/// `n / d` rounded half away from zero (2.5 → 3, −2.5 → −3).
///
/// # Panics
///
/// When `d` is zero, like integer division, or when the quotient does not fit an `i128`
/// (only `i128::MIN / -1`).
pub fn div_round(n: i128, d: i128) -> i128 {
    assert!(d != 0, "div_round: division by zero");
    let negative = (n < 0) != (d < 0);
    let (un, ud) = (n.unsigned_abs(), d.unsigned_abs());
    let mut q = un / ud;
    let r = un % ud;
    // r < ud <= 2^127, so r * 2 cannot overflow a u128.
    if r * 2 >= ud {
        q += 1;
    }
    if negative {
        0i128
            .checked_sub_unsigned(q)
            .expect("div_round: result out of range")
    } else {
        i128::try_from(q).expect("div_round: result out of range")
    }
}

/// `a × b / d` rounded half away from zero, on `i128`; `None` when `d` is zero or the result
/// does not fit an `i64`.
pub fn mul_div_round(a: i64, b: i64, d: i64) -> Option<i64> {
    if d == 0 {
        return None;
    }
    i64::try_from(div_round(i128::from(a) * i128::from(b), i128::from(d))).ok()
}

/// `a × b / d` rounded down (towards −∞), on `i128`; `None` when `d` is not positive or the
/// result does not fit an `i64`.
pub fn mul_div_floor(a: i64, b: i64, d: i64) -> Option<i64> {
    if d <= 0 {
        return None;
    }
    i64::try_from((i128::from(a) * i128::from(b)).div_euclid(i128::from(d))).ok()
}

/// A share of an amount given in basis points (10 000 = 100 %), rounded half away from zero:
/// `share_bp(1999, 1000)` is 200 (10 % of 19,99 €).
pub fn share_bp(cents: Cents, bp: u32) -> Option<Cents> {
    mul_div_round(cents, i64::from(bp), 10_000)
}

/// Writes `|value|` as a fixed-point number with `decimals` digits after the separator,
/// grouping the integer part by thousands.
pub(super) fn push_fixed(out: &mut String, value: i64, decimals: u32, lang: Lang, group: bool) {
    let abs = value.unsigned_abs();
    let scale = 10u64.pow(decimals);
    let int_part = (abs / scale).to_string();
    let frac_part = abs % scale;
    if group {
        // Groups of three digits from the right; the first group may be shorter.
        let groups: Vec<&[u8]> = int_part.as_bytes().rchunks(3).rev().collect();
        for (i, digits) in groups.iter().enumerate() {
            if i > 0 {
                out.push(lang.group_separator());
            }
            out.extend(digits.iter().map(|&b| char::from(b)));
        }
    } else {
        out.push_str(&int_part);
    }
    if decimals > 0 {
        out.push(lang.decimal_separator());
        out.push_str(&format!("{:0width$}", frac_part, width = decimals as usize));
    }
}

/// An amount without currency symbol, with the language's separators: `1 234,50` (fr),
/// `1,234.50` (en), `1.234,50` (tr, ar); negative amounts start with `-`. For receipt columns.
pub fn format_amount(cents: Cents, lang: Lang) -> String {
    let mut out = String::new();
    if cents < 0 {
        out.push('-');
    }
    push_fixed(&mut out, cents, 2, lang, true);
    out
}

/// An amount for people, per the table in the module documentation.
pub fn format_money(cents: Cents, lang: Lang) -> String {
    let mut out = String::new();
    if cents < 0 {
        out.push('-');
    }
    match lang {
        Lang::Fr | Lang::Ar => {
            push_fixed(&mut out, cents, 2, lang, true);
            out.push(NBSP);
            out.push('€');
        }
        Lang::En | Lang::Tr => {
            out.push('€');
            push_fixed(&mut out, cents, 2, lang, true);
        }
    }
    out
}

/// Reads what was typed on the money keypad, digits standing for cents: `"1234"` is 12,34 €,
/// `"5"` is 0,05 €, `"0"` is zero. Leading zeros are allowed; anything but ASCII digits,
/// an empty entry, or more than [`MAX_KEYPAD_CENTS`] is refused.
pub fn parse_money_keypad(digits: &str) -> Result<Cents, MoneyError> {
    parse_keypad_digits(digits, MAX_KEYPAD_CENTS).map_err(|e| match e {
        KeypadError::Empty => MoneyError::Empty,
        KeypadError::NotADigit => MoneyError::NotADigit,
        KeypadError::TooLarge => MoneyError::TooLarge,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeypadError {
    Empty,
    NotADigit,
    TooLarge,
}

/// Digits only, value at most `max`; shared by the money and weight keypads.
pub(super) fn parse_keypad_digits(digits: &str, max: i64) -> Result<i64, KeypadError> {
    if digits.is_empty() {
        return Err(KeypadError::Empty);
    }
    let mut value: i64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return Err(KeypadError::NotADigit);
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .filter(|v| *v <= max)
            .ok_or(KeypadError::TooLarge)?;
    }
    Ok(value)
}

/// Replaces the no-break spaces used by the formatters (U+00A0, U+202F) by plain spaces, for
/// outputs that cannot carry them (receipt printer code pages, CSV for old spreadsheets).
pub fn ascii_spaces(text: &str) -> String {
    text.chars()
        .map(|c| if c == NBSP || c == NNBSP { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_codes_round_trip() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_code(lang.code()), Some(lang));
        }
        assert_eq!(Lang::Fr.code(), "fr");
        assert_eq!(Lang::En.code(), "en");
        assert_eq!(Lang::Tr.code(), "tr");
        assert_eq!(Lang::Ar.code(), "ar");
    }

    #[test]
    fn lang_from_code_ignores_case_region_and_encoding() {
        assert_eq!(Lang::from_code("FR"), Some(Lang::Fr));
        assert_eq!(Lang::from_code("fr_FR.UTF-8"), Some(Lang::Fr));
        assert_eq!(Lang::from_code("ar-MA"), Some(Lang::Ar));
        assert_eq!(Lang::from_code(" tr "), Some(Lang::Tr));
        assert_eq!(Lang::from_code("en@euro"), Some(Lang::En));
    }

    #[test]
    fn lang_from_code_refuses_unknown() {
        assert_eq!(Lang::from_code(""), None);
        assert_eq!(Lang::from_code("de"), None);
        assert_eq!(Lang::from_code("fra"), None);
        assert_eq!(Lang::from_code("-fr"), None);
    }

    #[test]
    fn french_is_the_default_language() {
        assert_eq!(Lang::default(), Lang::Fr);
    }

    #[test]
    fn only_arabic_is_right_to_left() {
        assert!(Lang::Ar.is_rtl());
        assert!(!Lang::Fr.is_rtl() && !Lang::En.is_rtl() && !Lang::Tr.is_rtl());
    }

    #[test]
    fn div_round_rounds_half_away_from_zero() {
        assert_eq!(div_round(5, 2), 3);
        assert_eq!(div_round(-5, 2), -3);
        assert_eq!(div_round(5, -2), -3);
        assert_eq!(div_round(-5, -2), 3);
        assert_eq!(div_round(4, 3), 1);
        assert_eq!(div_round(-4, 3), -1);
        assert_eq!(div_round(499, 1000), 0);
        assert_eq!(div_round(500, 1000), 1);
        assert_eq!(div_round(-500, 1000), -1);
        assert_eq!(div_round(-499, 1000), 0);
        assert_eq!(div_round(0, 7), 0);
        assert_eq!(div_round(6, 3), 2);
    }

    #[test]
    fn div_round_is_odd_so_refunds_mirror_sales() {
        for n in -3000i128..3000 {
            for d in [1i128, 2, 3, 7, 1000, 10550] {
                assert_eq!(div_round(-n, d), -div_round(n, d), "n={n} d={d}");
            }
        }
    }

    #[test]
    fn div_round_handles_extreme_values() {
        assert_eq!(div_round(i128::MAX, 1), i128::MAX);
        assert_eq!(div_round(i128::MIN, 1), i128::MIN);
        assert_eq!(div_round(i128::MAX, i128::MAX), 1);
        assert_eq!(div_round(i128::MIN, 2), i128::MIN / 2);
    }

    #[test]
    #[should_panic(expected = "division by zero")]
    fn div_round_by_zero_panics() {
        div_round(1, 0);
    }

    #[test]
    fn mul_div_round_uses_wide_intermediates() {
        // i64::MAX * 1000 overflows an i64, not an i128.
        assert_eq!(mul_div_round(i64::MAX, 1000, 1000), Some(i64::MAX));
        assert_eq!(mul_div_round(1234, 199, 1000), Some(246)); // 245.566
        assert_eq!(mul_div_round(-1234, 199, 1000), Some(-246));
        assert_eq!(mul_div_round(1, 1, 0), None);
        assert_eq!(mul_div_round(i64::MAX, 2, 1), None);
    }

    #[test]
    fn mul_div_floor_rounds_down() {
        assert_eq!(mul_div_floor(1999, 10, 1000), Some(19));
        assert_eq!(mul_div_floor(-1, 1, 1000), Some(-1));
        assert_eq!(mul_div_floor(1000, 1, 1000), Some(1));
        assert_eq!(mul_div_floor(1, 1, 0), None);
        assert_eq!(mul_div_floor(1, 1, -5), None);
    }

    #[test]
    fn share_bp_takes_a_rounded_percentage() {
        assert_eq!(share_bp(1999, 1000), Some(200));
        assert_eq!(share_bp(1000, 550), Some(55));
        assert_eq!(share_bp(5, 1000), Some(1)); // 0.5 cent rounds up
        assert_eq!(share_bp(-5, 1000), Some(-1));
        assert_eq!(share_bp(1234, 10_000), Some(1234));
        assert_eq!(share_bp(1234, 0), Some(0));
    }

    #[test]
    fn french_money_uses_comma_narrow_groups_and_nbsp_before_euro() {
        assert_eq!(format_money(1234, Lang::Fr), "12,34\u{a0}€");
        assert_eq!(format_money(123450, Lang::Fr), "1\u{202f}234,50\u{a0}€");
        assert_eq!(
            format_money(123456789, Lang::Fr),
            "1\u{202f}234\u{202f}567,89\u{a0}€"
        );
        assert_eq!(format_money(0, Lang::Fr), "0,00\u{a0}€");
        assert_eq!(format_money(5, Lang::Fr), "0,05\u{a0}€");
        assert_eq!(format_money(100000, Lang::Fr), "1\u{202f}000,00\u{a0}€");
        assert_eq!(format_money(99999, Lang::Fr), "999,99\u{a0}€");
    }

    #[test]
    fn english_money_puts_the_symbol_first() {
        assert_eq!(format_money(1234, Lang::En), "€12.34");
        assert_eq!(format_money(123450, Lang::En), "€1,234.50");
        assert_eq!(format_money(7, Lang::En), "€0.07");
        assert_eq!(format_money(-1234, Lang::En), "-€12.34");
    }

    #[test]
    fn turkish_money_follows_cldr_tr() {
        assert_eq!(format_money(1234, Lang::Tr), "€12,34");
        assert_eq!(format_money(123450, Lang::Tr), "€1.234,50");
        assert_eq!(format_money(-1234, Lang::Tr), "-€12,34");
    }

    #[test]
    fn arabic_money_uses_western_digits_and_symbol_after() {
        assert_eq!(format_money(1234, Lang::Ar), "12,34\u{a0}€");
        assert_eq!(format_money(123450, Lang::Ar), "1.234,50\u{a0}€");
        assert_eq!(format_money(-1234, Lang::Ar), "-12,34\u{a0}€");
    }

    #[test]
    fn negative_amounts_carry_a_minus_sign() {
        assert_eq!(format_money(-1234, Lang::Fr), "-12,34\u{a0}€");
        assert_eq!(format_money(-1, Lang::Fr), "-0,01\u{a0}€");
        assert_eq!(format_money(-123450, Lang::Fr), "-1\u{202f}234,50\u{a0}€");
    }

    #[test]
    fn extreme_amounts_format_without_overflow() {
        assert_eq!(
            format_money(i64::MIN, Lang::En),
            "-€92,233,720,368,547,758.08"
        );
        assert_eq!(
            format_money(i64::MAX, Lang::En),
            "€92,233,720,368,547,758.07"
        );
    }

    #[test]
    fn format_amount_has_no_symbol() {
        assert_eq!(format_amount(123450, Lang::Fr), "1\u{202f}234,50");
        assert_eq!(format_amount(-250, Lang::En), "-2.50");
        assert_eq!(format_amount(250, Lang::Tr), "2,50");
    }

    #[test]
    fn keypad_digits_are_cents() {
        assert_eq!(parse_money_keypad("1234"), Ok(1234));
        assert_eq!(parse_money_keypad("5"), Ok(5));
        assert_eq!(parse_money_keypad("0"), Ok(0));
        assert_eq!(parse_money_keypad("0050"), Ok(50));
        assert_eq!(parse_money_keypad("99999999"), Ok(MAX_KEYPAD_CENTS));
    }

    #[test]
    fn keypad_refuses_bad_entries() {
        assert_eq!(parse_money_keypad(""), Err(MoneyError::Empty));
        assert_eq!(parse_money_keypad("12,34"), Err(MoneyError::NotADigit));
        assert_eq!(parse_money_keypad("-5"), Err(MoneyError::NotADigit));
        assert_eq!(parse_money_keypad(" 5"), Err(MoneyError::NotADigit));
        assert_eq!(parse_money_keypad("١٢"), Err(MoneyError::NotADigit));
        assert_eq!(parse_money_keypad("100000000"), Err(MoneyError::TooLarge));
        assert_eq!(
            parse_money_keypad("99999999999999999999999999"),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn money_error_codes_are_snake_case_tokens() {
        assert_eq!(MoneyError::Empty.code(), "empty");
        assert_eq!(MoneyError::NotADigit.code(), "not_a_digit");
        assert_eq!(MoneyError::TooLarge.code(), "too_large");
        assert_eq!(MoneyError::Overflow.code(), "overflow");
    }

    #[test]
    fn ascii_spaces_replaces_no_break_spaces() {
        assert_eq!(ascii_spaces(&format_money(123450, Lang::Fr)), "1 234,50 €");
        assert_eq!(ascii_spaces("€1,234.50"), "€1,234.50");
    }
}
