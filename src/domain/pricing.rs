//! Pricing: how a product is sold and what a line costs.
//!
//! Rules:
//!
//! - A product is sold per kilogram, per piece or per bunch ([`PricingMode`]). Per-piece and
//!   per-bunch products may carry an average weight in grams so kilogram totals stay possible
//!   (stock, reports); that weight is an estimate and never changes a price.
//! - A unit price is TTC cents per kilogram or per piece/bunch. Zero and negative prices are
//!   refused, and so is a price above [`MAX_PRICE_CENTS`] (999 999,99 €). The "divers" item,
//!   whose price is typed at sale time, obeys the same rule.
//! - A weighed line costs `round(grams × cents_per_kg / 1000)`, half away from zero: 1,234 kg at
//!   1,99 €/kg is 245.566 cents → 2,46 €; a refund of the same weight (negative grams) is
//!   exactly −2,46 €. A per-piece line costs `qty × unit price` (negative quantities are
//!   refunds). A zero quantity is refused. A line above [`MAX_LINE_CENTS`] is refused, so sums
//!   of lines never overflow.
//! - A per-piece product cannot be put on the scale ([`PricingError::NotSoldByWeight`]) and a
//!   per-kg product cannot be counted ([`PricingError::NotSoldByPiece`]).

use super::money::{format_money, mul_div_round, Cents, Lang};
use super::weight::{estimated_grams, Grams};

/// The highest unit price: 999 999,99 €.
pub const MAX_PRICE_CENTS: Cents = 99_999_999;
/// The highest amount of one line, in either direction: 9 999 999,99 €.
pub const MAX_LINE_CENTS: Cents = 999_999_999;

/// Why a price or a line was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PricingError {
    ZeroPrice,
    NegativePrice,
    PriceTooLarge,
    ZeroQuantity,
    /// A line above [`MAX_LINE_CENTS`].
    LineTooLarge,
    /// A per-piece or per-bunch product put on the scale.
    NotSoldByWeight,
    /// A per-kg product given a count.
    NotSoldByPiece,
    /// An average weight that is zero or negative.
    BadAverageWeight,
    /// A pricing mode code that is not `per_kg`, `per_piece` or `per_bunch`.
    UnknownMode,
}

impl PricingError {
    /// Stable token for the UI.
    pub fn code(self) -> &'static str {
        match self {
            PricingError::ZeroPrice => "zero_price",
            PricingError::NegativePrice => "negative_price",
            PricingError::PriceTooLarge => "price_too_large",
            PricingError::ZeroQuantity => "zero_quantity",
            PricingError::LineTooLarge => "line_too_large",
            PricingError::NotSoldByWeight => "not_sold_by_weight",
            PricingError::NotSoldByPiece => "not_sold_by_piece",
            PricingError::BadAverageWeight => "bad_average_weight",
            PricingError::UnknownMode => "unknown_pricing_mode",
        }
    }
}

/// How a product is sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PricingMode {
    PerKg,
    PerPiece { avg_weight_g: Option<Grams> },
    PerBunch { avg_weight_g: Option<Grams> },
}

impl PricingMode {
    /// Stable token stored in the database: `per_kg`, `per_piece`, `per_bunch`.
    pub fn code(self) -> &'static str {
        match self {
            PricingMode::PerKg => "per_kg",
            PricingMode::PerPiece { .. } => "per_piece",
            PricingMode::PerBunch { .. } => "per_bunch",
        }
    }

    /// The unit a price is given for: `kg`, `piece`, `bunch`.
    pub fn unit_code(self) -> &'static str {
        match self {
            PricingMode::PerKg => "kg",
            PricingMode::PerPiece { .. } => "piece",
            PricingMode::PerBunch { .. } => "bunch",
        }
    }

    /// Rebuilds a mode from its code and the stored average weight. An average weight on a
    /// per-kg product is ignored; a zero or negative one is refused.
    pub fn from_parts(code: &str, avg_weight_g: Option<Grams>) -> Result<Self, PricingError> {
        if code != "per_kg" && avg_weight_g.is_some_and(|g| g <= 0) {
            return Err(PricingError::BadAverageWeight);
        }
        match code {
            "per_kg" => Ok(PricingMode::PerKg),
            "per_piece" => Ok(PricingMode::PerPiece { avg_weight_g }),
            "per_bunch" => Ok(PricingMode::PerBunch { avg_weight_g }),
            _ => Err(PricingError::UnknownMode),
        }
    }

    /// Whether the product is weighed on the scale.
    pub fn is_weighed(self) -> bool {
        matches!(self, PricingMode::PerKg)
    }

    /// The average weight of one piece or bunch, when known.
    pub fn avg_weight_g(self) -> Option<Grams> {
        match self {
            PricingMode::PerKg => None,
            PricingMode::PerPiece { avg_weight_g } | PricingMode::PerBunch { avg_weight_g } => {
                avg_weight_g
            }
        }
    }
}

/// A product's price: TTC cents per kilogram (per-kg) or per piece/bunch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitPrice {
    pub mode: PricingMode,
    pub cents: Cents,
}

impl UnitPrice {
    /// A validated price (see [`validate_price`] and [`PricingMode::from_parts`]).
    pub fn new(mode: PricingMode, cents: Cents) -> Result<Self, PricingError> {
        validate_price(cents)?;
        if mode.avg_weight_g().is_some_and(|g| g <= 0) {
            return Err(PricingError::BadAverageWeight);
        }
        Ok(UnitPrice { mode, cents })
    }

    /// The price of a weighed quantity; refused for per-piece and per-bunch products.
    pub fn price_weighed(&self, grams: Grams) -> Result<Cents, PricingError> {
        if !self.mode.is_weighed() {
            return Err(PricingError::NotSoldByWeight);
        }
        weighed_price(grams, self.cents)
    }

    /// The price of a counted quantity; refused for per-kg products.
    pub fn price_counted(&self, qty: i64) -> Result<Cents, PricingError> {
        if self.mode.is_weighed() {
            return Err(PricingError::NotSoldByPiece);
        }
        piece_price(qty, self.cents)
    }

    /// The estimated weight of `qty` pieces or bunches, when an average weight is known.
    pub fn estimated_grams(&self, qty: i64) -> Option<Grams> {
        estimated_grams(qty, self.mode.avg_weight_g())
    }
}

/// A unit price must be positive and at most [`MAX_PRICE_CENTS`].
pub fn validate_price(cents: Cents) -> Result<(), PricingError> {
    match cents {
        0 => Err(PricingError::ZeroPrice),
        c if c < 0 => Err(PricingError::NegativePrice),
        c if c > MAX_PRICE_CENTS => Err(PricingError::PriceTooLarge),
        _ => Ok(()),
    }
}

fn check_line(cents: Option<Cents>) -> Result<Cents, PricingError> {
    cents
        .filter(|c| c.unsigned_abs() <= MAX_LINE_CENTS as u64)
        .ok_or(PricingError::LineTooLarge)
}

/// `round(grams × cents_per_kg / 1000)`, half away from zero. Negative grams (refunds) give
/// the exact negation of the positive price.
pub fn weighed_price(grams: Grams, cents_per_kg: Cents) -> Result<Cents, PricingError> {
    validate_price(cents_per_kg)?;
    if grams == 0 {
        return Err(PricingError::ZeroQuantity);
    }
    check_line(mul_div_round(grams, cents_per_kg, 1000))
}

/// `qty × unit price`. Negative quantities (refunds) give negative amounts.
pub fn piece_price(qty: i64, unit_cents: Cents) -> Result<Cents, PricingError> {
    validate_price(unit_cents)?;
    if qty == 0 {
        return Err(PricingError::ZeroQuantity);
    }
    check_line(qty.checked_mul(unit_cents))
}

/// A price per kilogram for signs and the weighing panel: `2,50 €/kg` (fr), `€2.50/kg` (en).
pub fn format_price_per_kg(cents_per_kg: Cents, lang: Lang) -> String {
    format!("{}/kg", format_money(cents_per_kg, lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weighed_line_rounds_half_up_to_the_cent() {
        // 1,234 kg at 1,99 €/kg = 245.566 cents → 2,46 €
        assert_eq!(weighed_price(1234, 199), Ok(246));
        // 500 g at 3,01 €/kg = 150.5 cents → 1,51 €
        assert_eq!(weighed_price(500, 301), Ok(151));
        // 499 g at 1,00 €/kg = 49.9 cents → 0,50 €
        assert_eq!(weighed_price(499, 100), Ok(50));
        // 1 g at 4,99 €/kg = 0.499 cent → 0
        assert_eq!(weighed_price(1, 499), Ok(0));
        // 1 kg exactly is the price per kg
        assert_eq!(weighed_price(1000, 350), Ok(350));
    }

    #[test]
    fn a_weighed_refund_rounds_half_away_from_zero() {
        assert_eq!(weighed_price(-500, 301), Ok(-151));
        assert_eq!(weighed_price(-1234, 199), Ok(-246));
        for g in 1..3000 {
            assert_eq!(
                weighed_price(-g, 277).unwrap(),
                -weighed_price(g, 277).unwrap()
            );
        }
    }

    #[test]
    fn a_piece_line_is_quantity_times_unit_price() {
        assert_eq!(piece_price(3, 150), Ok(450));
        assert_eq!(piece_price(1, 99), Ok(99));
        assert_eq!(piece_price(-2, 150), Ok(-300));
    }

    #[test]
    fn zero_and_negative_prices_are_refused() {
        assert_eq!(validate_price(0), Err(PricingError::ZeroPrice));
        assert_eq!(validate_price(-1), Err(PricingError::NegativePrice));
        assert_eq!(
            validate_price(MAX_PRICE_CENTS + 1),
            Err(PricingError::PriceTooLarge)
        );
        assert_eq!(validate_price(1), Ok(()));
        assert_eq!(weighed_price(1000, 0), Err(PricingError::ZeroPrice));
        assert_eq!(weighed_price(1000, -250), Err(PricingError::NegativePrice));
        assert_eq!(piece_price(1, 0), Err(PricingError::ZeroPrice));
        assert_eq!(piece_price(1, -5), Err(PricingError::NegativePrice));
    }

    #[test]
    fn zero_quantities_are_refused() {
        assert_eq!(weighed_price(0, 250), Err(PricingError::ZeroQuantity));
        assert_eq!(piece_price(0, 250), Err(PricingError::ZeroQuantity));
    }

    #[test]
    fn huge_lines_are_refused_instead_of_overflowing() {
        assert_eq!(
            weighed_price(i64::MAX, MAX_PRICE_CENTS),
            Err(PricingError::LineTooLarge)
        );
        assert_eq!(piece_price(i64::MAX, 2), Err(PricingError::LineTooLarge));
        assert_eq!(piece_price(i64::MIN, 1), Err(PricingError::LineTooLarge));
        assert_eq!(piece_price(10, MAX_PRICE_CENTS), Ok(999_999_990));
        assert_eq!(
            piece_price(11, MAX_PRICE_CENTS),
            Err(PricingError::LineTooLarge)
        );
    }

    #[test]
    fn pricing_mode_codes_round_trip() {
        for mode in [
            PricingMode::PerKg,
            PricingMode::PerPiece { avg_weight_g: None },
            PricingMode::PerPiece {
                avg_weight_g: Some(350),
            },
            PricingMode::PerBunch {
                avg_weight_g: Some(120),
            },
        ] {
            assert_eq!(
                PricingMode::from_parts(mode.code(), mode.avg_weight_g()),
                Ok(mode)
            );
        }
        assert_eq!(PricingMode::PerKg.unit_code(), "kg");
        assert_eq!(
            PricingMode::PerBunch { avg_weight_g: None }.unit_code(),
            "bunch"
        );
    }

    #[test]
    fn pricing_mode_refuses_bad_parts() {
        assert_eq!(
            PricingMode::from_parts("per_litre", None),
            Err(PricingError::UnknownMode)
        );
        assert_eq!(
            PricingMode::from_parts("per_piece", Some(0)),
            Err(PricingError::BadAverageWeight)
        );
        assert_eq!(
            PricingMode::from_parts("per_bunch", Some(-10)),
            Err(PricingError::BadAverageWeight)
        );
        // an average weight means nothing for a per-kg product: ignored
        assert_eq!(
            PricingMode::from_parts("per_kg", Some(0)),
            Ok(PricingMode::PerKg)
        );
    }

    #[test]
    fn a_per_piece_product_cannot_go_on_the_scale() {
        let lettuce = UnitPrice::new(
            PricingMode::PerPiece {
                avg_weight_g: Some(400),
            },
            120,
        )
        .unwrap();
        assert_eq!(
            lettuce.price_weighed(400),
            Err(PricingError::NotSoldByWeight)
        );
        assert_eq!(lettuce.price_counted(2), Ok(240));
        let radish = UnitPrice::new(PricingMode::PerBunch { avg_weight_g: None }, 150).unwrap();
        assert_eq!(
            radish.price_weighed(200),
            Err(PricingError::NotSoldByWeight)
        );
    }

    #[test]
    fn a_per_kg_product_cannot_be_counted() {
        let tomato = UnitPrice::new(PricingMode::PerKg, 350).unwrap();
        assert_eq!(tomato.price_counted(2), Err(PricingError::NotSoldByPiece));
        assert_eq!(tomato.price_weighed(2000), Ok(700));
        assert_eq!(tomato.estimated_grams(3), None);
    }

    #[test]
    fn unit_price_validates_on_creation() {
        assert_eq!(
            UnitPrice::new(PricingMode::PerKg, 0),
            Err(PricingError::ZeroPrice)
        );
        assert_eq!(
            UnitPrice::new(
                PricingMode::PerPiece {
                    avg_weight_g: Some(0)
                },
                100
            ),
            Err(PricingError::BadAverageWeight)
        );
    }

    #[test]
    fn average_weight_gives_estimated_kilograms() {
        let lettuce = UnitPrice::new(
            PricingMode::PerPiece {
                avg_weight_g: Some(400),
            },
            120,
        )
        .unwrap();
        assert_eq!(lettuce.estimated_grams(3), Some(1200));
        let bunch = UnitPrice::new(PricingMode::PerBunch { avg_weight_g: None }, 150).unwrap();
        assert_eq!(bunch.estimated_grams(3), None);
    }

    #[test]
    fn price_per_kg_is_formatted_with_the_money_rules() {
        assert_eq!(format_price_per_kg(250, Lang::Fr), "2,50\u{a0}€/kg");
        assert_eq!(format_price_per_kg(250, Lang::En), "€2.50/kg");
    }

    #[test]
    fn pricing_error_codes() {
        assert_eq!(PricingError::ZeroPrice.code(), "zero_price");
        assert_eq!(PricingError::NegativePrice.code(), "negative_price");
        assert_eq!(PricingError::NotSoldByWeight.code(), "not_sold_by_weight");
        assert_eq!(PricingError::UnknownMode.code(), "unknown_pricing_mode");
    }
}
