//! VAT: rates in basis points and the breakdown of a ticket per rate.
//!
//! Rules:
//!
//! - Prices are VAT-inclusive (TTC). A rate is a number of basis points (`u32`):
//!   550 = 5.5 % (fresh vegetables), 1000 = 10 %, 2000 = 20 %, 210 = 2.1 %, 0 = no VAT.
//!   A rate above 10 000 (100 %) is refused.
//! - The breakdown is computed on the ticket's TTC total **per rate**, never line by line:
//!   first the TTC of all lines at one rate are added, then
//!   `ht = round(ttc × 10000 / (10000 + bp))` (half away from zero) and `vat = ttc − ht`.
//!   So `ht + vat = ttc` exactly for every rate, and a refund (negative TTC) gives exactly the
//!   negated breakdown of the sale.
//! - The breakdown lists every rate that appears on the ticket, sorted by rate, even when its
//!   TTC comes to zero (a fully discounted line): the receipt shows what was sold.
//! - Rates are shown as percentages without trailing zeros: `5,5 %` (fr, U+202F before `%`),
//!   `5.5%` (en), `%5,5` (tr, CLDR), `5,5%` (ar, Western digits as in the Maghreb locales).

use std::collections::BTreeMap;

use super::money::{div_round, Cents, Lang, NNBSP};

/// 5.5 %: most food, including fresh vegetables.
pub const RATE_REDUCED: u32 = 550;
/// 10 %: intermediate rate (e.g. prepared food for immediate consumption).
pub const RATE_INTERMEDIATE: u32 = 1000;
/// 20 %: standard rate (non-food items).
pub const RATE_STANDARD: u32 = 2000;
/// 2.1 %: super-reduced rate.
pub const RATE_SUPER_REDUCED: u32 = 210;
/// No VAT.
pub const RATE_ZERO: u32 = 0;
/// The largest accepted rate: 100 %.
pub const MAX_RATE_BP: u32 = 10_000;

/// Why a VAT computation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VatError {
    /// A rate above [`MAX_RATE_BP`].
    RateTooHigh,
    /// A total left the `i64` range.
    Overflow,
}

impl VatError {
    /// Stable token for the UI.
    pub fn code(self) -> &'static str {
        match self {
            VatError::RateTooHigh => "vat_rate_too_high",
            VatError::Overflow => "overflow",
        }
    }
}

/// One rate of a ticket's VAT breakdown. `ht + vat == ttc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VatLine {
    pub rate_bp: u32,
    pub ttc: Cents,
    pub ht: Cents,
    pub vat: Cents,
}

/// Checks that a rate is at most 100 %.
pub fn validate_rate(rate_bp: u32) -> Result<(), VatError> {
    if rate_bp > MAX_RATE_BP {
        Err(VatError::RateTooHigh)
    } else {
        Ok(())
    }
}

/// The amount before VAT in a VAT-inclusive amount:
/// `round(ttc × 10000 / (10000 + bp))`, half away from zero.
pub fn ht_from_ttc(ttc: Cents, rate_bp: u32) -> Cents {
    let ht = div_round(i128::from(ttc) * 10_000, 10_000 + i128::from(rate_bp));
    // |ht| <= |ttc| because the divisor is at least 10 000.
    ht as Cents
}

/// The VAT line of one rate for a TTC total.
pub fn vat_line(rate_bp: u32, ttc: Cents) -> Result<VatLine, VatError> {
    validate_rate(rate_bp)?;
    let ht = ht_from_ttc(ttc, rate_bp);
    Ok(VatLine {
        rate_bp,
        ttc,
        ht,
        vat: ttc - ht,
    })
}

/// The breakdown of a ticket from its lines `(rate_bp, ttc)`: TTC added per rate, then split
/// into HT and VAT; one [`VatLine`] per rate present, sorted by rate.
pub fn breakdown<I>(lines: I) -> Result<Vec<VatLine>, VatError>
where
    I: IntoIterator<Item = (u32, Cents)>,
{
    let mut per_rate: BTreeMap<u32, i128> = BTreeMap::new();
    for (rate_bp, ttc) in lines {
        validate_rate(rate_bp)?;
        *per_rate.entry(rate_bp).or_insert(0) += i128::from(ttc);
    }
    per_rate
        .into_iter()
        .map(|(rate_bp, ttc)| {
            let ttc = Cents::try_from(ttc).map_err(|_| VatError::Overflow)?;
            vat_line(rate_bp, ttc)
        })
        .collect()
}

/// The sums of a breakdown's columns, as one line with `rate_bp` 0.
pub fn breakdown_total(lines: &[VatLine]) -> Result<VatLine, VatError> {
    let mut total = VatLine {
        rate_bp: 0,
        ttc: 0,
        ht: 0,
        vat: 0,
    };
    for l in lines {
        total.ttc = total.ttc.checked_add(l.ttc).ok_or(VatError::Overflow)?;
        total.ht = total.ht.checked_add(l.ht).ok_or(VatError::Overflow)?;
        total.vat = total.vat.checked_add(l.vat).ok_or(VatError::Overflow)?;
    }
    Ok(total)
}

/// A rate as a percentage without trailing zeros (see the module documentation).
pub fn format_rate(rate_bp: u32, lang: Lang) -> String {
    let whole = rate_bp / 100;
    let frac = rate_bp % 100;
    let mut number = whole.to_string();
    if frac != 0 {
        number.push(lang.decimal_separator());
        let digits = format!("{frac:02}");
        number.push_str(digits.trim_end_matches('0'));
    }
    match lang {
        Lang::Fr => format!("{number}{NNBSP}%"),
        Lang::En | Lang::Ar => format!("{number}%"),
        Lang::Tr => format!("%{number}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(rate_bp: u32, ttc: Cents, ht: Cents, vat: Cents) -> VatLine {
        VatLine {
            rate_bp,
            ttc,
            ht,
            vat,
        }
    }

    #[test]
    fn ht_is_the_rounded_ttc_divided_by_one_plus_the_rate() {
        // 10,00 € TTC at 5.5 %: 1000 × 10000 / 10550 = 947.867... → 948
        assert_eq!(ht_from_ttc(1000, 550), 948);
        // 12,00 € at 20 %: exactly 10,00 €
        assert_eq!(ht_from_ttc(1200, 2000), 1000);
        // 1,00 € at 10 %: 90.909 → 91
        assert_eq!(ht_from_ttc(100, 1000), 91);
        // no VAT: ht = ttc
        assert_eq!(ht_from_ttc(1234, 0), 1234);
        assert_eq!(ht_from_ttc(0, 550), 0);
    }

    #[test]
    fn ht_rounds_half_away_from_zero() {
        // 1055 × 10000 / 10550 = 1000 exactly
        assert_eq!(ht_from_ttc(1055, 550), 1000);
        // at 100 %: 1 cent → 0.5 → 1, −1 cent → −0.5 → −1, 3 cents → 1.5 → 2
        assert_eq!(ht_from_ttc(1, 10_000), 1);
        assert_eq!(ht_from_ttc(-1, 10_000), -1);
        assert_eq!(ht_from_ttc(3, 10_000), 2); // 1.5 → 2
    }

    #[test]
    fn vat_line_adds_up_exactly() {
        assert_eq!(vat_line(550, 1000), Ok(line(550, 1000, 948, 52)));
        for ttc in -5000..5000 {
            for bp in [0, 210, 550, 1000, 2000] {
                let l = vat_line(bp, ttc).unwrap();
                assert_eq!(l.ht + l.vat, l.ttc);
            }
        }
    }

    #[test]
    fn a_refund_is_the_exact_negation_of_the_sale() {
        for ttc in 0..5000 {
            for bp in [210, 550, 1000, 2000] {
                let sale = vat_line(bp, ttc).unwrap();
                let refund = vat_line(bp, -ttc).unwrap();
                assert_eq!((refund.ht, refund.vat), (-sale.ht, -sale.vat));
            }
        }
    }

    #[test]
    fn breakdown_sums_ttc_per_rate_before_splitting() {
        // Three lines of 0,10 € at 5.5 %: line by line ht would be 9+9+9 = 27;
        // on the total of 30 cents it is round(28.436) = 28.
        let b = breakdown([(550, 10), (550, 10), (550, 10)]).unwrap();
        assert_eq!(b, vec![line(550, 30, 28, 2)]);
    }

    #[test]
    fn breakdown_is_sorted_by_rate_with_one_line_per_rate() {
        let b = breakdown([(2000, 1200), (550, 1000), (0, 500), (550, 55), (1000, 110)]).unwrap();
        assert_eq!(
            b,
            vec![
                line(0, 500, 500, 0),
                line(550, 1055, 1000, 55),
                line(1000, 110, 100, 10),
                line(2000, 1200, 1000, 200),
            ]
        );
        let total = breakdown_total(&b).unwrap();
        assert_eq!((total.ttc, total.ht, total.vat), (2865, 2600, 265));
    }

    #[test]
    fn breakdown_of_nothing_is_empty() {
        assert_eq!(breakdown(Vec::new()), Ok(vec![]));
        assert_eq!(breakdown_total(&[]).unwrap().ttc, 0);
    }

    #[test]
    fn breakdown_keeps_a_rate_whose_total_is_zero() {
        assert_eq!(
            breakdown([(2000, 0), (550, 100)]).unwrap(),
            vec![line(550, 100, 95, 5), line(2000, 0, 0, 0)]
        );
    }

    #[test]
    fn breakdown_of_a_refund_ticket_is_negative() {
        let b = breakdown([(550, -1000), (550, -55)]).unwrap();
        assert_eq!(b, vec![line(550, -1055, -1000, -55)]);
    }

    #[test]
    fn breakdown_refuses_absurd_rates_and_overflow() {
        assert_eq!(breakdown([(10_001, 100)]), Err(VatError::RateTooHigh));
        assert_eq!(vat_line(20_000, 100), Err(VatError::RateTooHigh));
        assert_eq!(
            breakdown([(550, i64::MAX), (550, 1)]),
            Err(VatError::Overflow)
        );
        assert_eq!(validate_rate(10_000), Ok(()));
        assert_eq!(VatError::RateTooHigh.code(), "vat_rate_too_high");
        assert_eq!(VatError::Overflow.code(), "overflow");
    }

    #[test]
    fn ht_never_overflows_on_extreme_amounts() {
        assert_eq!(ht_from_ttc(i64::MAX, 0), i64::MAX);
        assert_eq!(ht_from_ttc(i64::MIN, 0), i64::MIN);
        assert!(ht_from_ttc(i64::MAX, 550) < i64::MAX);
    }

    #[test]
    fn rates_are_formatted_per_language() {
        assert_eq!(format_rate(550, Lang::Fr), "5,5\u{202f}%");
        assert_eq!(format_rate(550, Lang::En), "5.5%");
        assert_eq!(format_rate(550, Lang::Tr), "%5,5");
        assert_eq!(format_rate(550, Lang::Ar), "5,5%");
        assert_eq!(format_rate(2000, Lang::Fr), "20\u{202f}%");
        assert_eq!(format_rate(1000, Lang::En), "10%");
        assert_eq!(format_rate(0, Lang::En), "0%");
        assert_eq!(format_rate(210, Lang::Fr), "2,1\u{202f}%");
        assert_eq!(format_rate(1234, Lang::En), "12.34%");
        assert_eq!(format_rate(5, Lang::En), "0.05%");
    }
}
