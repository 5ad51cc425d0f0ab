//! Stock: the ledger of moves, on-hand quantities, lots (first in, first out), days left.
//!
//! Quantities are integers in the product's stock unit ([`StockUnit`]): grams for products sold
//! by weight, pieces (or bunches) for the others. Where kilograms are needed for a per-piece
//! product, its average weight converts ([`to_grams`]).
//!
//! The ledger ([`StockMove`]) only grows; state is derived from it:
//!
//! - `HarvestIn` adds, and creates a lot; `RefundIn` adds; `SaleOut`, `Loss` (spoiled,
//!   damaged, to compost, other) and `Donation` subtract; `Correction` adds or subtracts its
//!   signed delta; `Count` sets the on-hand quantity to what was counted.
//! - **On-hand = last count + moves since** ([`on_hand`]). Negative on-hand is allowed (weights
//!   vary, a harvest can be logged late) but flagged ([`Ledger::is_negative`]).
//! - Quantities in moves are positive (a `Correction` is non-zero, a `Count` is zero or more);
//!   anything else is refused.
//!
//! Lots:
//!
//! - Each harvest is a lot, numbered `YYMMDD-CODE-NN` ([`LotNumber`]): harvest date, product
//!   short code, counter of that product's lots that day (`01`, `02`...).
//! - Lots are consumed **oldest first**: in the order they entered the ledger. Every outgoing
//!   move (sale, loss, donation, negative correction, count below on-hand) draws from the
//!   oldest lots that still hold something, and reports what it took from which lot
//!   ([`Draw`]), so sales can name the lots they came from.
//! - When every lot is empty, what goes out anyway is an *unlotted* draw (`lot: None`) and is
//!   owed: the next quantity that comes in (harvest, refund, count, correction) first pays this
//!   back, then fills its lot. So on-hand = Σ lot remainders − owed, and something is owed only
//!   when every lot is empty.
//! - A **loss** consumes the oldest lots, like a sale.
//! - A **count lower** than on-hand consumes the oldest lots by the difference. A **count
//!   higher** than on-hand first settles what is owed, then puts the rest in a new lot of origin
//!   [`LotOrigin::Adjustment`], numbered by the count move (or anonymous without a number).
//! - A **refund** goes back into the lot it names if that lot is known, else into a new lot of
//!   origin [`LotOrigin::Return`] that keeps the number it names (the goods came from it).
//!   Only harvest lots must have unique numbers: a harvest repeating one is refused
//!   ([`StockError::DuplicateLot`]). A move naming a number held by several lots uses the
//!   oldest.
//! - A **correction** names a lot or not: a positive one goes into that lot (or a new
//!   adjustment lot), a negative one takes from that lot first, then from the oldest.
//!
//! Days of stock left at the selling rate: `floor(on_hand × days / sold)` where `sold` is what
//! was sold over the last `days` ([`days_left`]).

use std::fmt;

use super::weight::{estimated_grams, Grams};

/// The unit a product's stock is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockUnit {
    Grams,
    Pieces,
}

impl StockUnit {
    /// Stable token: `g`, `piece`.
    pub fn code(self) -> &'static str {
        match self {
            StockUnit::Grams => "g",
            StockUnit::Pieces => "piece",
        }
    }
}

/// A stock quantity in grams: itself for weighed products, pieces × average weight for the
/// others (`None` without an average weight).
pub fn to_grams(qty: i64, unit: StockUnit, avg_weight_g: Option<Grams>) -> Option<Grams> {
    match unit {
        StockUnit::Grams => Some(qty),
        StockUnit::Pieces => estimated_grams(qty, avg_weight_g),
    }
}

/// Why a stock move or lot number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockError {
    NonPositiveQuantity,
    NegativeCount,
    ZeroCorrection,
    BadLotNumber,
    DuplicateLot,
    /// The parts of a harvest split do not add up to the harvest.
    SplitMismatch,
    Overflow,
}

impl StockError {
    /// Stable token for the UI.
    pub fn code(self) -> &'static str {
        match self {
            StockError::NonPositiveQuantity => "non_positive_quantity",
            StockError::NegativeCount => "negative_count",
            StockError::ZeroCorrection => "zero_correction",
            StockError::BadLotNumber => "bad_lot_number",
            StockError::DuplicateLot => "duplicate_lot",
            StockError::SplitMismatch => "split_mismatch",
            StockError::Overflow => "overflow",
        }
    }
}

/// A lot number: `YYMMDD-CODE-NN`, e.g. `250614-TOM-02`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LotNumber {
    year: u16,
    month: u8,
    day: u8,
    code: String,
    counter: u32,
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        // years are 2000 to 2099: every fourth year is a leap year (2000 included)
        2 if year & 3 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl LotNumber {
    /// The longest product short code.
    pub const MAX_CODE_LEN: usize = 8;
    /// The highest counter of one product's lots in one day.
    pub const MAX_COUNTER: u32 = 999;

    /// A lot number from a harvest date (years 2000 to 2099), a product short code (1 to 8
    /// ASCII capital letters or digits) and a counter (1 to 999).
    pub fn new(
        year: u16,
        month: u8,
        day: u8,
        code: &str,
        counter: u32,
    ) -> Result<Self, StockError> {
        let date_ok = (2000..=2099).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        let code_ok = !code.is_empty()
            && code.len() <= Self::MAX_CODE_LEN
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !date_ok || !code_ok || counter == 0 || counter > Self::MAX_COUNTER {
            return Err(StockError::BadLotNumber);
        }
        Ok(LotNumber {
            year,
            month,
            day,
            code: code.to_string(),
            counter,
        })
    }

    /// Reads `YYMMDD-CODE-NN` (the counter has two or three digits).
    pub fn parse(text: &str) -> Result<Self, StockError> {
        let mut parts = text.split('-');
        let (date, code, counter) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(d), Some(c), Some(n), None) => (d, c, n),
            _ => return Err(StockError::BadLotNumber),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if date.len() != 6 || !all_digits(date) || !(2..=3).contains(&counter.len()) {
            return Err(StockError::BadLotNumber);
        }
        if !all_digits(counter) {
            return Err(StockError::BadLotNumber);
        }
        let num = |s: &str| s.parse::<u32>().map_err(|_| StockError::BadLotNumber);
        let yy = num(&date[0..2])?;
        let mm = num(&date[2..4])?;
        let dd = num(&date[4..6])?;
        let n = num(counter)?;
        let lot = LotNumber::new(2000 + yy as u16, mm as u8, dd as u8, code, n)?;
        // refuse non-canonical counters such as "007"
        if lot.to_string() != text {
            return Err(StockError::BadLotNumber);
        }
        Ok(lot)
    }

    /// The harvest date: (year, month, day).
    pub fn date(&self) -> (u16, u8, u8) {
        (self.year, self.month, self.day)
    }

    /// The product short code.
    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn counter(&self) -> u32 {
        self.counter
    }

    /// The next counter for a product's lots on a date: one more than the highest already
    /// used that day for that code, 1 if none.
    pub fn next_counter<'a, I>(existing: I, year: u16, month: u8, day: u8, code: &str) -> u32
    where
        I: IntoIterator<Item = &'a LotNumber>,
    {
        existing
            .into_iter()
            .filter(|l| l.date() == (year, month, day) && l.code == code)
            .map(|l| l.counter)
            .max()
            .unwrap_or(0)
            + 1
    }
}

impl fmt::Display for LotNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}{:02}{:02}-{}-{:02}",
            self.year % 100,
            self.month,
            self.day,
            self.code,
            self.counter
        )
    }
}

/// Why something was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossReason {
    Spoiled,
    Damaged,
    /// Counted by the compost side as the garden's own deposit.
    ToCompost,
    Other,
}

impl LossReason {
    /// Stable token: `spoiled`, `damaged`, `to_compost`, `other`.
    pub fn code(self) -> &'static str {
        match self {
            LossReason::Spoiled => "spoiled",
            LossReason::Damaged => "damaged",
            LossReason::ToCompost => "to_compost",
            LossReason::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            LossReason::Spoiled,
            LossReason::Damaged,
            LossReason::ToCompost,
            LossReason::Other,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}

/// Why the garden lead corrected a product's stock (recorded beside the correction move).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrectionReason {
    /// A harvest, loss or count was entered wrong.
    EntryError,
    /// The scale or the weights of a crate disagree with the books.
    Weighing,
    /// Goods found that the books did not know of (a crate left in the cold room).
    Found,
    Other,
}

impl CorrectionReason {
    pub const ALL: [CorrectionReason; 4] = [
        CorrectionReason::EntryError,
        CorrectionReason::Weighing,
        CorrectionReason::Found,
        CorrectionReason::Other,
    ];

    /// Stable token: `entry_error`, `weighing`, `found`, `other`.
    pub fn code(self) -> &'static str {
        match self {
            CorrectionReason::EntryError => "entry_error",
            CorrectionReason::Weighing => "weighing",
            CorrectionReason::Found => "found",
            CorrectionReason::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// One move of a product's stock ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockMove {
    HarvestIn {
        qty: i64,
        lot: LotNumber,
    },
    SaleOut {
        qty: i64,
    },
    /// A refunded sale puts goods back, into the lot named if it is known.
    RefundIn {
        qty: i64,
        lot: Option<LotNumber>,
    },
    Loss {
        qty: i64,
        reason: LossReason,
    },
    Donation {
        qty: i64,
    },
    /// The counted quantity becomes on-hand; `lot` numbers the adjustment lot a surplus makes.
    Count {
        counted: i64,
        lot: Option<LotNumber>,
    },
    /// A signed correction, optionally aimed at a lot.
    Correction {
        delta: i64,
        lot: Option<LotNumber>,
    },
}

impl StockMove {
    /// Stable token: `harvest_in`, `sale_out`, `refund_in`, `loss`, `donation`, `count`,
    /// `correction`.
    pub fn code(&self) -> &'static str {
        match self {
            StockMove::HarvestIn { .. } => "harvest_in",
            StockMove::SaleOut { .. } => "sale_out",
            StockMove::RefundIn { .. } => "refund_in",
            StockMove::Loss { .. } => "loss",
            StockMove::Donation { .. } => "donation",
            StockMove::Count { .. } => "count",
            StockMove::Correction { .. } => "correction",
        }
    }

    /// Checks the quantities of a move on its own.
    pub fn validate(&self) -> Result<(), StockError> {
        match *self {
            StockMove::HarvestIn { qty, .. }
            | StockMove::SaleOut { qty }
            | StockMove::RefundIn { qty, .. }
            | StockMove::Loss { qty, .. }
            | StockMove::Donation { qty } => {
                if qty <= 0 {
                    return Err(StockError::NonPositiveQuantity);
                }
            }
            StockMove::Count { counted, .. } => {
                if counted < 0 {
                    return Err(StockError::NegativeCount);
                }
            }
            StockMove::Correction { delta, .. } => {
                if delta == 0 {
                    return Err(StockError::ZeroCorrection);
                }
            }
        }
        Ok(())
    }

    /// The on-hand quantity after this move, from the quantity before it.
    pub fn apply_to(&self, on_hand: i64) -> Result<i64, StockError> {
        self.validate()?;
        let next = match *self {
            StockMove::HarvestIn { qty, .. } | StockMove::RefundIn { qty, .. } => {
                on_hand.checked_add(qty)
            }
            StockMove::SaleOut { qty }
            | StockMove::Loss { qty, .. }
            | StockMove::Donation { qty } => on_hand.checked_sub(qty),
            StockMove::Count { counted, .. } => Some(counted),
            StockMove::Correction { delta, .. } => on_hand.checked_add(delta),
        };
        next.ok_or(StockError::Overflow)
    }
}

/// On-hand after a ledger: the last count plus the moves since (0 before any move).
pub fn on_hand<'a, I>(moves: I) -> Result<i64, StockError>
where
    I: IntoIterator<Item = &'a StockMove>,
{
    moves.into_iter().try_fold(0, |acc, m| m.apply_to(acc))
}

/// How a lot came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LotOrigin {
    Harvest,
    /// Goods brought back by a refund whose lot was not known.
    Return,
    /// A count above on-hand, or a positive correction without a known lot.
    Adjustment,
}

impl LotOrigin {
    /// Stable token: `harvest`, `return`, `adjustment`.
    pub fn code(self) -> &'static str {
        match self {
            LotOrigin::Harvest => "harvest",
            LotOrigin::Return => "return",
            LotOrigin::Adjustment => "adjustment",
        }
    }
}

/// A lot and what is left of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    /// `None` for an adjustment or return lot made without a number.
    pub number: Option<LotNumber>,
    pub origin: LotOrigin,
    /// Everything that went into the lot.
    pub received: i64,
    /// What is left (never negative).
    pub remaining: i64,
}

/// What an outgoing move took from one lot; `lot: None` is an unlotted draw (stock ran out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draw {
    pub lot: Option<LotNumber>,
    pub qty: i64,
}

/// What applying a move did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    /// The change of on-hand (for a count: counted − on-hand before, the recorded difference).
    pub delta: i64,
    /// What was taken from which lot, oldest first.
    pub draws: Vec<Draw>,
}

/// A product's stock replayed from its ledger, with lots.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    lots: Vec<Lot>,
    /// Every lot before this index is empty: draws start here, so a year of lots costs a
    /// draw nothing (a refund or correction into an older lot moves it back).
    first_open: usize,
    owed: i64,
    on_hand: i64,
}

/// Equal when lots, debt and on-hand are: `first_open` is a search hint.
impl PartialEq for Ledger {
    fn eq(&self, other: &Self) -> bool {
        self.lots == other.lots && self.owed == other.owed && self.on_hand == other.on_hand
    }
}

impl Eq for Ledger {}

impl Ledger {
    pub fn new() -> Self {
        Ledger::default()
    }

    /// Replays a whole ledger.
    pub fn replay<'a, I>(moves: I) -> Result<Self, StockError>
    where
        I: IntoIterator<Item = &'a StockMove>,
    {
        let mut ledger = Ledger::new();
        for m in moves {
            ledger.apply(m)?;
        }
        Ok(ledger)
    }

    pub fn on_hand(&self) -> i64 {
        self.on_hand
    }

    /// Negative on-hand is allowed but flagged.
    pub fn is_negative(&self) -> bool {
        self.on_hand < 0
    }

    /// What went out without stock and will be paid back by the next incoming quantity.
    pub fn owed(&self) -> i64 {
        self.owed
    }

    /// Every lot, oldest first, empty ones included.
    pub fn lots(&self) -> &[Lot] {
        &self.lots
    }

    /// The lots that still hold something, oldest first.
    pub fn open_lots(&self) -> impl Iterator<Item = &Lot> {
        self.lots.iter().filter(|l| l.remaining > 0)
    }

    fn find_lot(&self, number: &LotNumber) -> Option<usize> {
        self.lots
            .iter()
            .position(|l| l.number.as_ref() == Some(number))
    }

    /// Pays back what is owed from an incoming quantity; returns what is left for a lot.
    fn settle_owed(&mut self, qty: i64) -> i64 {
        let pay = qty.min(self.owed);
        self.owed -= pay;
        qty - pay
    }

    fn receive_into(&mut self, index: usize, qty: i64) -> Result<(), StockError> {
        let rest = self.settle_owed(qty);
        let lot = &mut self.lots[index];
        lot.received = lot.received.checked_add(qty).ok_or(StockError::Overflow)?;
        lot.remaining += rest;
        if rest > 0 {
            self.first_open = self.first_open.min(index);
        }
        Ok(())
    }

    fn receive_new(&mut self, number: Option<LotNumber>, origin: LotOrigin, qty: i64) {
        let rest = self.settle_owed(qty);
        self.lots.push(Lot {
            number,
            origin,
            received: qty,
            remaining: rest,
        });
    }

    /// Takes `qty` from the lot at `first` (if any), then from the oldest lots; the rest is
    /// owed.
    fn draw(&mut self, mut qty: i64, first: Option<usize>) -> Result<Vec<Draw>, StockError> {
        let mut draws = Vec::new();
        let order = first
            .into_iter()
            .chain((self.first_open..self.lots.len()).filter(|i| Some(*i) != first));
        for i in order {
            if qty == 0 {
                break;
            }
            let lot = &mut self.lots[i];
            let take = qty.min(lot.remaining);
            if take > 0 {
                lot.remaining -= take;
                qty -= take;
                draws.push(Draw {
                    lot: lot.number.clone(),
                    qty: take,
                });
            }
        }
        while self
            .lots
            .get(self.first_open)
            .is_some_and(|l| l.remaining == 0)
        {
            self.first_open += 1;
        }
        if qty > 0 {
            self.owed = self.owed.checked_add(qty).ok_or(StockError::Overflow)?;
            draws.push(Draw { lot: None, qty });
        }
        Ok(draws)
    }

    /// Applies one move (module documentation for what it does to lots).
    pub fn apply(&mut self, mv: &StockMove) -> Result<Applied, StockError> {
        let before = self.on_hand;
        let after = mv.apply_to(before)?;
        let mut draws = Vec::new();
        match mv {
            StockMove::HarvestIn { qty, lot } => {
                let harvested =
                    |l: &Lot| l.origin == LotOrigin::Harvest && l.number.as_ref() == Some(lot);
                if self.lots.iter().any(harvested) {
                    return Err(StockError::DuplicateLot);
                }
                self.receive_new(Some(lot.clone()), LotOrigin::Harvest, *qty);
            }
            StockMove::RefundIn { qty, lot } => match lot.as_ref().and_then(|n| self.find_lot(n)) {
                Some(i) => self.receive_into(i, *qty)?,
                None => self.receive_new(lot.clone(), LotOrigin::Return, *qty),
            },
            StockMove::SaleOut { qty }
            | StockMove::Loss { qty, .. }
            | StockMove::Donation { qty } => {
                draws = self.draw(*qty, None)?;
            }
            StockMove::Count { counted, lot } => {
                let diff = counted - before;
                if diff < 0 {
                    draws = self.draw(-diff, None)?;
                } else if diff > 0 {
                    let rest = self.settle_owed(diff);
                    if rest > 0 {
                        self.receive_new(lot.clone(), LotOrigin::Adjustment, rest);
                    }
                }
            }
            StockMove::Correction { delta, lot } => {
                let known = lot.as_ref().and_then(|n| self.find_lot(n));
                if *delta > 0 {
                    match known {
                        Some(i) => self.receive_into(i, *delta)?,
                        None => self.receive_new(lot.clone(), LotOrigin::Adjustment, *delta),
                    }
                } else {
                    draws = self.draw(-delta, known)?;
                }
            }
        }
        self.on_hand = after;
        debug_assert_eq!(
            self.on_hand,
            self.lots.iter().map(|l| l.remaining).sum::<i64>() - self.owed
        );
        debug_assert!(self.lots[..self.first_open]
            .iter()
            .all(|l| l.remaining == 0));
        Ok(Applied {
            delta: after - before,
            draws,
        })
    }
}

/// Days of stock left at the rate of `sold` over the last `days`: `floor(on_hand × days /
/// sold)`; 0 when nothing is on hand; `None` when nothing was sold (no rate).
pub fn days_left(on_hand: i64, sold: i64, days: i64) -> Option<i64> {
    if sold <= 0 || days <= 0 {
        return None;
    }
    if on_hand <= 0 {
        return Some(0);
    }
    let d = i128::from(on_hand) * i128::from(days) / i128::from(sold);
    Some(i64::try_from(d).unwrap_or(i64::MAX))
}

/// Whether on-hand is at or below a product's low-stock threshold (if it has one).
pub fn is_low(on_hand: i64, threshold: Option<i64>) -> bool {
    threshold.is_some_and(|t| on_hand <= t)
}

/// Where a harvest goes. The parts add up to the harvest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HarvestSplit {
    pub for_sale: i64,
    pub donation: i64,
    pub own_use: i64,
    pub compost: i64,
}

impl HarvestSplit {
    /// Everything for sale.
    pub fn all_for_sale(total: i64) -> Self {
        HarvestSplit {
            for_sale: total,
            ..HarvestSplit::default()
        }
    }

    /// Checks the parts: none negative, and they add up to `total`.
    pub fn validate(&self, total: i64) -> Result<(), StockError> {
        let parts = [self.for_sale, self.donation, self.own_use, self.compost];
        if parts.iter().any(|p| *p < 0) {
            return Err(StockError::SplitMismatch);
        }
        let sum = parts
            .iter()
            .try_fold(0i64, |a, b| a.checked_add(*b))
            .ok_or(StockError::Overflow)?;
        if sum != total {
            return Err(StockError::SplitMismatch);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correction_reasons_round_trip_their_codes() {
        for r in CorrectionReason::ALL {
            assert_eq!(CorrectionReason::from_code(r.code()), Some(r));
        }
        assert_eq!(CorrectionReason::from_code("spoiled"), None);
    }

    fn lot(day: u8, n: u32) -> LotNumber {
        LotNumber::new(2025, 6, day, "TOM", n).unwrap()
    }

    fn harvest(qty: i64, day: u8) -> StockMove {
        StockMove::HarvestIn {
            qty,
            lot: lot(day, 1),
        }
    }

    fn sale(qty: i64) -> StockMove {
        StockMove::SaleOut { qty }
    }

    fn count(counted: i64) -> StockMove {
        StockMove::Count { counted, lot: None }
    }

    fn remaining(l: &Ledger) -> Vec<i64> {
        l.lots().iter().map(|l| l.remaining).collect()
    }

    #[test]
    fn lot_numbers_read_date_code_counter() {
        let l = LotNumber::new(2025, 6, 14, "TOM", 2).unwrap();
        assert_eq!(l.to_string(), "250614-TOM-02");
        assert_eq!(LotNumber::parse("250614-TOM-02"), Ok(l.clone()));
        assert_eq!(l.date(), (2025, 6, 14));
        assert_eq!((l.code(), l.counter()), ("TOM", 2));
        let big = LotNumber::new(2031, 12, 31, "SALADE2", 123).unwrap();
        assert_eq!(big.to_string(), "311231-SALADE2-123");
        assert_eq!(LotNumber::parse("311231-SALADE2-123"), Ok(big));
    }

    #[test]
    fn bad_lot_numbers_are_refused() {
        for (y, m, d, code, n) in [
            (2025, 2, 29, "TOM", 1), // not a leap year
            (2025, 13, 1, "TOM", 1),
            (2025, 4, 31, "TOM", 1),
            (2025, 6, 0, "TOM", 1),
            (1999, 6, 1, "TOM", 1),
            (2025, 6, 1, "", 1),
            (2025, 6, 1, "tom", 1),
            (2025, 6, 1, "TO-M", 1),
            (2025, 6, 1, "TOOLONGCO", 1),
            (2025, 6, 1, "TOM", 0),
            (2025, 6, 1, "TOM", 1000),
        ] {
            assert_eq!(
                LotNumber::new(y, m, d, code, n),
                Err(StockError::BadLotNumber),
                "{y}-{m}-{d} {code} {n}"
            );
        }
        assert!(LotNumber::new(2024, 2, 29, "TOM", 1).is_ok());
        for text in [
            "",
            "250614-TOM",
            "250614-TOM-2",
            "250614-TOM-002",
            "250614-TOM-02-1",
            "2506-TOM-02",
            "25061X-TOM-02",
            "250614-tom-02",
            "250631-TOM-02",
            "250614-TOM-+2",
        ] {
            assert_eq!(
                LotNumber::parse(text),
                Err(StockError::BadLotNumber),
                "{text}"
            );
        }
    }

    #[test]
    fn lot_counters_count_per_product_and_day() {
        let existing = [
            LotNumber::new(2025, 6, 14, "TOM", 1).unwrap(),
            LotNumber::new(2025, 6, 14, "TOM", 2).unwrap(),
            LotNumber::new(2025, 6, 14, "SAL", 5).unwrap(),
            LotNumber::new(2025, 6, 13, "TOM", 7).unwrap(),
        ];
        assert_eq!(LotNumber::next_counter(&existing, 2025, 6, 14, "TOM"), 3);
        assert_eq!(LotNumber::next_counter(&existing, 2025, 6, 14, "SAL"), 6);
        assert_eq!(LotNumber::next_counter(&existing, 2025, 6, 15, "TOM"), 1);
        assert_eq!(LotNumber::next_counter(&[], 2025, 6, 15, "TOM"), 1);
    }

    #[test]
    fn on_hand_is_the_last_count_plus_moves_since() {
        let moves = [
            harvest(5000, 1),
            sale(1200),
            count(3500),
            sale(500),
            StockMove::RefundIn {
                qty: 200,
                lot: None,
            },
            StockMove::Loss {
                qty: 300,
                reason: LossReason::Spoiled,
            },
            StockMove::Donation { qty: 100 },
            StockMove::Correction {
                delta: -50,
                lot: None,
            },
        ];
        assert_eq!(on_hand(&moves), Ok(3500 - 500 + 200 - 300 - 100 - 50));
        assert_eq!(on_hand(&[]), Ok(0));
        assert_eq!(Ledger::replay(&moves).unwrap().on_hand(), 2750);
    }

    #[test]
    fn bad_moves_are_refused() {
        for m in [
            harvest(0, 1),
            sale(0),
            sale(-5),
            StockMove::Loss {
                qty: -1,
                reason: LossReason::Other,
            },
            StockMove::Donation { qty: 0 },
            StockMove::RefundIn { qty: 0, lot: None },
        ] {
            assert_eq!(m.validate(), Err(StockError::NonPositiveQuantity), "{m:?}");
        }
        assert_eq!(count(-1).validate(), Err(StockError::NegativeCount));
        assert_eq!(
            StockMove::Correction {
                delta: 0,
                lot: None
            }
            .validate(),
            Err(StockError::ZeroCorrection)
        );
        assert_eq!(count(0).validate(), Ok(()));
        let mut l = Ledger::new();
        assert_eq!(l.apply(&sale(0)), Err(StockError::NonPositiveQuantity));
        assert_eq!(l, Ledger::new());
    }

    #[test]
    fn a_harvest_lot_cannot_be_logged_twice() {
        let mut l = Ledger::new();
        l.apply(&harvest(1000, 1)).unwrap();
        assert_eq!(l.apply(&harvest(1000, 1)), Err(StockError::DuplicateLot));
        assert_eq!(l.on_hand(), 1000);
    }

    #[test]
    fn sales_consume_the_oldest_lot_first() {
        let mut l = Ledger::replay(&[harvest(1000, 1), harvest(2000, 2)]).unwrap();
        let a = l.apply(&sale(1500)).unwrap();
        assert_eq!(a.delta, -1500);
        assert_eq!(
            a.draws,
            vec![
                Draw {
                    lot: Some(lot(1, 1)),
                    qty: 1000
                },
                Draw {
                    lot: Some(lot(2, 1)),
                    qty: 500
                }
            ]
        );
        assert_eq!(remaining(&l), vec![0, 1500]);
        assert_eq!(l.open_lots().count(), 1);
    }

    #[test]
    fn selling_more_than_on_hand_goes_negative_and_is_flagged() {
        let mut l = Ledger::replay(&[harvest(1000, 1)]).unwrap();
        let a = l.apply(&sale(1200)).unwrap();
        assert_eq!(
            a.draws,
            vec![
                Draw {
                    lot: Some(lot(1, 1)),
                    qty: 1000
                },
                Draw {
                    lot: None,
                    qty: 200
                }
            ]
        );
        assert_eq!(l.on_hand(), -200);
        assert!(l.is_negative());
        assert_eq!(l.owed(), 200);
        // the next harvest pays back what was owed
        l.apply(&harvest(3000, 2)).unwrap();
        assert_eq!(l.on_hand(), 2800);
        assert!(!l.is_negative());
        assert_eq!(l.owed(), 0);
        assert_eq!(l.lots()[1].received, 3000);
        assert_eq!(l.lots()[1].remaining, 2800);
    }

    #[test]
    fn a_loss_consumes_the_oldest_lots() {
        let mut l = Ledger::replay(&[harvest(1000, 1), harvest(1000, 2)]).unwrap();
        let a = l
            .apply(&StockMove::Loss {
                qty: 300,
                reason: LossReason::ToCompost,
            })
            .unwrap();
        assert_eq!(a.draws[0].lot, Some(lot(1, 1)));
        assert_eq!(remaining(&l), vec![700, 1000]);
    }

    #[test]
    fn a_count_lower_than_on_hand_consumes_the_oldest_lots() {
        let mut l = Ledger::replay(&[harvest(1000, 1), harvest(1000, 2)]).unwrap();
        let a = l.apply(&count(1400)).unwrap();
        assert_eq!(a.delta, -600);
        assert_eq!(remaining(&l), vec![400, 1000]);
        assert_eq!(l.on_hand(), 1400);
    }

    #[test]
    fn a_count_higher_than_on_hand_makes_an_adjustment_lot() {
        let mut l = Ledger::replay(&[harvest(1000, 1)]).unwrap();
        let adj = LotNumber::new(2025, 6, 3, "TOM", 1).unwrap();
        let a = l
            .apply(&StockMove::Count {
                counted: 1300,
                lot: Some(adj.clone()),
            })
            .unwrap();
        assert_eq!(a.delta, 300);
        assert!(a.draws.is_empty());
        let last = l.lots().last().unwrap();
        assert_eq!(last.origin, LotOrigin::Adjustment);
        assert_eq!(last.number, Some(adj));
        assert_eq!(last.remaining, 300);
        // sales still take the harvest lot first
        let s = l.apply(&sale(1100)).unwrap();
        assert_eq!(s.draws.len(), 2);
        assert_eq!(s.draws[0].qty, 1000);
        assert_eq!(s.draws[1].qty, 100);
    }

    #[test]
    fn a_count_equal_to_on_hand_changes_nothing() {
        let mut l = Ledger::replay(&[harvest(1000, 1)]).unwrap();
        let a = l.apply(&count(1000)).unwrap();
        assert_eq!(a, Applied::default());
        assert_eq!(l.lots().len(), 1);
    }

    #[test]
    fn a_count_resets_negative_stock() {
        let mut l = Ledger::replay(&[harvest(1000, 1), sale(1500)]).unwrap();
        assert_eq!(l.on_hand(), -500);
        let a = l.apply(&count(0)).unwrap();
        assert_eq!(a.delta, 500);
        assert_eq!((l.on_hand(), l.owed()), (0, 0));
        assert_eq!(l.lots().len(), 1); // nothing left over for a lot
        l.apply(&sale(100)).unwrap();
        l.apply(&count(250)).unwrap();
        assert_eq!((l.on_hand(), l.owed()), (250, 0));
        assert_eq!(l.lots().last().unwrap().remaining, 250);
        assert_eq!(l.lots().last().unwrap().number, None);
    }

    #[test]
    fn a_refund_goes_back_into_its_lot_when_known() {
        let mut l = Ledger::replay(&[harvest(1000, 1), harvest(1000, 2), sale(1500)]).unwrap();
        l.apply(&StockMove::RefundIn {
            qty: 200,
            lot: Some(lot(1, 1)),
        })
        .unwrap();
        assert_eq!(remaining(&l), vec![200, 500]);
        l.apply(&StockMove::RefundIn {
            qty: 100,
            lot: None,
        })
        .unwrap();
        assert_eq!(l.lots().last().unwrap().origin, LotOrigin::Return);
        assert_eq!(l.on_hand(), 800);
    }

    #[test]
    fn a_refund_naming_an_unknown_lot_keeps_its_number() {
        let mut l = Ledger::new();
        l.apply(&StockMove::RefundIn {
            qty: 100,
            lot: Some(lot(1, 1)),
        })
        .unwrap();
        assert_eq!(l.lots()[0].origin, LotOrigin::Return);
        assert_eq!(l.lots()[0].number, Some(lot(1, 1)));
        // the harvest of that lot logged late is still accepted
        l.apply(&harvest(1000, 1)).unwrap();
        assert_eq!(l.on_hand(), 1100);
        assert_eq!(l.apply(&harvest(5, 1)), Err(StockError::DuplicateLot));
    }

    #[test]
    fn a_correction_aims_at_its_lot() {
        let mut l = Ledger::replay(&[harvest(1000, 1), harvest(1000, 2)]).unwrap();
        // the second harvest was 100 g lighter than typed
        let a = l
            .apply(&StockMove::Correction {
                delta: -100,
                lot: Some(lot(2, 1)),
            })
            .unwrap();
        assert_eq!(a.draws[0].lot, Some(lot(2, 1)));
        assert_eq!(remaining(&l), vec![1000, 900]);
        // a negative correction larger than its lot takes the rest from the oldest
        l.apply(&StockMove::Correction {
            delta: -1000,
            lot: Some(lot(2, 1)),
        })
        .unwrap();
        assert_eq!(remaining(&l), vec![900, 0]);
        // a positive one goes back into the lot
        l.apply(&StockMove::Correction {
            delta: 50,
            lot: Some(lot(2, 1)),
        })
        .unwrap();
        assert_eq!(remaining(&l), vec![900, 50]);
        assert_eq!(l.lots()[1].received, 1050);
        // without a lot: an adjustment lot
        l.apply(&StockMove::Correction {
            delta: 10,
            lot: None,
        })
        .unwrap();
        assert_eq!(l.lots().last().unwrap().origin, LotOrigin::Adjustment);
        assert_eq!(l.on_hand(), 960);
    }

    #[test]
    fn lots_and_on_hand_agree_in_every_order() {
        // Every permutation of a small set of moves: the replayed ledger always agrees with
        // the plain on-hand arithmetic, and lots never go negative.
        let moves = [
            harvest(1000, 1),
            sale(700),
            StockMove::RefundIn {
                qty: 100,
                lot: Some(lot(1, 1)),
            },
            StockMove::Loss {
                qty: 200,
                reason: LossReason::Damaged,
            },
            count(400),
            StockMove::Correction {
                delta: -150,
                lot: None,
            },
        ];
        let mut idx: Vec<usize> = (0..moves.len()).collect();
        let mut seen = 0;
        permute(&mut idx, 0, &mut |order| {
            let seq: Vec<StockMove> = order.iter().map(|&i| moves[i].clone()).collect();
            let ledger = Ledger::replay(&seq).unwrap();
            assert_eq!(ledger.on_hand(), on_hand(&seq).unwrap(), "{order:?}");
            assert!(ledger.lots().iter().all(|l| l.remaining >= 0));
            let lots: i64 = ledger.lots().iter().map(|l| l.remaining).sum();
            assert_eq!(lots - ledger.owed(), ledger.on_hand());
            assert!(ledger.owed() == 0 || lots == 0);
            seen += 1;
        });
        assert_eq!(seen, 720);
    }

    fn permute(v: &mut Vec<usize>, k: usize, f: &mut dyn FnMut(&[usize])) {
        if k == v.len() {
            f(v);
            return;
        }
        for i in k..v.len() {
            v.swap(k, i);
            permute(v, k + 1, f);
            v.swap(k, i);
        }
    }

    #[test]
    fn piece_products_convert_to_kilograms_with_their_average_weight() {
        assert_eq!(to_grams(1234, StockUnit::Grams, None), Some(1234));
        assert_eq!(to_grams(12, StockUnit::Pieces, Some(400)), Some(4800));
        assert_eq!(to_grams(12, StockUnit::Pieces, None), None);
        assert_eq!(to_grams(-3, StockUnit::Pieces, Some(100)), Some(-300));
        assert_eq!(StockUnit::Pieces.code(), "piece");
    }

    #[test]
    fn days_left_at_the_selling_rate() {
        // 10 kg on hand, 14 kg sold over 7 days (2 kg/day): 5 days
        assert_eq!(days_left(10_000, 14_000, 7), Some(5));
        assert_eq!(days_left(1_000, 14_000, 7), Some(0));
        assert_eq!(days_left(0, 14_000, 7), Some(0));
        assert_eq!(days_left(-500, 14_000, 7), Some(0));
        assert_eq!(days_left(10_000, 0, 7), None);
        assert_eq!(days_left(10_000, -10, 7), None);
        assert_eq!(days_left(10_000, 100, 0), None);
        assert_eq!(days_left(i64::MAX, 1, i64::MAX), Some(i64::MAX));
    }

    #[test]
    fn low_stock_alert() {
        assert!(is_low(500, Some(1000)));
        assert!(is_low(1000, Some(1000)));
        assert!(!is_low(1001, Some(1000)));
        assert!(!is_low(-5, None));
    }

    #[test]
    fn a_harvest_split_adds_up() {
        let s = HarvestSplit {
            for_sale: 3000,
            donation: 500,
            own_use: 200,
            compost: 300,
        };
        assert_eq!(s.validate(4000), Ok(()));
        assert_eq!(s.validate(4001), Err(StockError::SplitMismatch));
        assert_eq!(HarvestSplit::all_for_sale(4000).validate(4000), Ok(()));
        let neg = HarvestSplit {
            for_sale: 4100,
            donation: -100,
            ..HarvestSplit::default()
        };
        assert_eq!(neg.validate(4000), Err(StockError::SplitMismatch));
    }

    #[test]
    fn codes_are_stable_tokens() {
        assert_eq!(LossReason::ToCompost.code(), "to_compost");
        for r in [
            LossReason::Spoiled,
            LossReason::Damaged,
            LossReason::ToCompost,
            LossReason::Other,
        ] {
            assert_eq!(LossReason::from_code(r.code()), Some(r));
        }
        assert_eq!(LossReason::from_code("stolen"), None);
        assert_eq!(count(1).code(), "count");
        assert_eq!(harvest(1, 1).code(), "harvest_in");
        assert_eq!(LotOrigin::Adjustment.code(), "adjustment");
        assert_eq!(StockError::NegativeCount.code(), "negative_count");
        assert_eq!(StockError::DuplicateLot.code(), "duplicate_lot");
    }
}
