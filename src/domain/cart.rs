//! The cart: lines, discounts, totals, payments.
//!
//! Lines:
//!
//! - A **weighed** line (grams from the scale or typed by hand, price per kg), a **piece** line
//!   (quantity of pieces or bunches, unit price) or a **divers** line (a price typed at sale
//!   time for what the catalogue lacks). Each line has the catalogue product id, a label and a
//!   VAT rate. Its amount is rounded once, when the line is made (see [`super::pricing`]).
//!   Quantities and prices must be positive: refunds are separate entries, not cart lines.
//! - Removing a line before payment is recorded as an event ([`CartEvent::LineRemoved`]), as is
//!   abandoning the cart ([`CartEvent::CartAbandoned`]): nothing is silently erased. The cart
//!   keeps every event; the controller journals them ([`Cart::take_events`]).
//!
//! Discounts:
//!
//! - A discount is a percentage (basis points, 1 to 10 000) or an amount (cents, positive),
//!   recorded with the staff member who gave it. One per line, one on the cart; giving another
//!   replaces it (the event says what it replaced); removing one is an event too.
//! - A line's discount applies to the line's amount: a percentage rounds half away from zero;
//!   an amount cannot exceed the line. The cart's discount applies to the subtotal after line
//!   discounts; an amount above the subtotal is refused when given, and shrinks to the subtotal
//!   if lines are removed afterwards (a total never goes below zero).
//! - **Allocation.** The cart discount is spread over the lines in proportion to their amounts
//!   after line discounts, by the *largest remainder* method: each line first gets
//!   `floor(D × line / subtotal)`, then the cents left over go one each to the lines with the
//!   largest remainders (ties: the earlier line). Every line's final amount is therefore an
//!   exact number of cents, the final amounts add up exactly to the total, and the VAT
//!   breakdown per rate (computed on final amounts, see [`super::vat`]) matches the ticket.
//!
//! Payments:
//!
//! - Cash, card (external terminal, amount recorded), cheque, compost credits (a voucher: VAT
//!   totals unchanged), and any mix. Each payment is positive.
//! - Only cash may exceed what remains due: the change due is `paid − total`, which is never
//!   more than the cash given. A card, cheque or credits payment above the remaining amount is
//!   refused, and nothing is accepted once the total is covered.
//! - Credits are limited to `floor(total × share / 10 000)` and to the resident's balance (see
//!   [`super::credits`]), counting every credits payment of the cart.
//! - Once a payment is recorded, lines and discounts are locked (the total must not move under
//!   the payments); remove the payments to change the cart. A cart with payments cannot be
//!   abandoned.
//! - [`Cart::close_paid`] refuses a payment short of the total and closes the cart: a second
//!   call (a double tap on "Payer") is refused, so one cart makes one sale.

use super::credits::max_credit_payment;
use super::metrology::WeighedNet;
use super::money::{share_bp, Cents};
use super::pricing::{piece_price, validate_price, weighed_price, PricingError};
use super::vat::{breakdown, validate_rate, VatError, VatLine};
use super::weight::{estimated_grams, Grams};

/// A catalogue product's id.
pub type ProductId = i64;
/// A staff member's id.
pub type StaffId = i64;
/// A line's number in its cart (1, 2, 3..., never reused within a cart).
pub type LineId = u32;

/// Why a cart operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartError {
    /// The cart was paid or abandoned.
    Closed,
    EmptyCart,
    UnknownLine,
    NonPositiveQuantity,
    Pricing(PricingError),
    Vat(VatError),
    /// A percentage of 0 or above 100 %, or an amount of zero or less.
    BadDiscount,
    /// An amount discount above what it applies to.
    DiscountTooLarge,
    NoDiscount,
    /// Lines, discounts and abandoning are locked while payments are recorded.
    PaymentsInProgress,
    PaymentNotPositive,
    UnknownPayment,
    /// The total is already covered.
    NothingDue,
    /// Card, cheque or credits above the remaining amount: only cash gives change.
    NonCashAboveRemaining(PaymentMethod),
    CreditsAboveShare,
    CreditsAboveBalance,
    /// Payments short of the total by `missing` cents.
    Short {
        missing: Cents,
    },
    Overflow,
}

impl CartError {
    /// Stable token for the UI.
    pub fn code(self) -> &'static str {
        match self {
            CartError::Closed => "cart_closed",
            CartError::EmptyCart => "empty_cart",
            CartError::UnknownLine => "unknown_line",
            CartError::NonPositiveQuantity => "non_positive_quantity",
            CartError::Pricing(e) => e.code(),
            CartError::Vat(e) => e.code(),
            CartError::BadDiscount => "bad_discount",
            CartError::DiscountTooLarge => "discount_too_large",
            CartError::NoDiscount => "no_discount",
            CartError::PaymentsInProgress => "payments_in_progress",
            CartError::PaymentNotPositive => "payment_not_positive",
            CartError::UnknownPayment => "unknown_payment",
            CartError::NothingDue => "nothing_due",
            CartError::NonCashAboveRemaining(_) => "non_cash_above_remaining",
            CartError::CreditsAboveShare => "credits_above_share",
            CartError::CreditsAboveBalance => "credits_above_balance",
            CartError::Short { .. } => "payment_short",
            CartError::Overflow => "overflow",
        }
    }
}

impl From<PricingError> for CartError {
    fn from(e: PricingError) -> Self {
        CartError::Pricing(e)
    }
}

impl From<VatError> for CartError {
    fn from(e: VatError) -> Self {
        match e {
            VatError::Overflow => CartError::Overflow,
            other => CartError::Vat(other),
        }
    }
}

/// What a line sells.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LineKind {
    /// Sold by weight; `manual` when typed by hand ("pesée manuelle").
    Weighed {
        grams: Grams,
        cents_per_kg: Cents,
        manual: bool,
    },
    /// Sold by piece or bunch; the average weight, when known, estimates kilograms.
    Piece {
        qty: i64,
        unit_cents: Cents,
        avg_weight_g: Option<Grams>,
    },
    /// A price typed at sale time.
    Divers { cents: Cents },
}

impl LineKind {
    /// Stable token: `weighed`, `piece`, `divers`.
    pub fn code(&self) -> &'static str {
        match self {
            LineKind::Weighed { .. } => "weighed",
            LineKind::Piece { .. } => "piece",
            LineKind::Divers { .. } => "divers",
        }
    }

    /// A weighed line from a weighing accepted by the metrology guards; a manual weight
    /// stays marked.
    pub fn from_weighing(net: WeighedNet, cents_per_kg: Cents) -> Self {
        LineKind::Weighed {
            grams: net.grams,
            cents_per_kg,
            manual: net.is_manual(),
        }
    }

    /// The rounded amount of the line, after checking quantities and prices.
    pub fn amount(&self) -> Result<Cents, CartError> {
        match *self {
            LineKind::Weighed {
                grams,
                cents_per_kg,
                ..
            } => {
                if grams <= 0 {
                    return Err(CartError::NonPositiveQuantity);
                }
                Ok(weighed_price(grams, cents_per_kg)?)
            }
            LineKind::Piece {
                qty, unit_cents, ..
            } => {
                if qty <= 0 {
                    return Err(CartError::NonPositiveQuantity);
                }
                Ok(piece_price(qty, unit_cents)?)
            }
            LineKind::Divers { cents } => {
                validate_price(cents)?;
                Ok(cents)
            }
        }
    }
}

/// A percentage or an amount off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DiscountKind {
    /// Basis points: 1000 = 10 %.
    Percent(u32),
    Amount(Cents),
}

/// A discount and who gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Discount {
    pub kind: DiscountKind,
    pub given_by: StaffId,
}

impl Discount {
    pub fn percent(bp: u32, given_by: StaffId) -> Self {
        Discount {
            kind: DiscountKind::Percent(bp),
            given_by,
        }
    }

    pub fn amount(cents: Cents, given_by: StaffId) -> Self {
        Discount {
            kind: DiscountKind::Amount(cents),
            given_by,
        }
    }

    fn validate(&self) -> Result<(), CartError> {
        match self.kind {
            DiscountKind::Percent(bp) if bp == 0 || bp > 10_000 => Err(CartError::BadDiscount),
            DiscountKind::Amount(c) if c <= 0 => Err(CartError::BadDiscount),
            _ => Ok(()),
        }
    }

    /// The discount on `base` cents; an amount above the base is capped to the base.
    fn on(&self, base: Cents) -> Result<Cents, CartError> {
        Ok(match self.kind {
            DiscountKind::Percent(bp) => share_bp(base, bp).ok_or(CartError::Overflow)?,
            DiscountKind::Amount(c) => c.min(base),
        })
    }

    /// The discount on `base` when it is given: an amount above the base is refused.
    fn given_on(&self, base: Cents) -> Result<Cents, CartError> {
        self.validate()?;
        if let DiscountKind::Amount(c) = self.kind {
            if c > base {
                return Err(CartError::DiscountTooLarge);
            }
        }
        self.on(base)
    }
}

/// A line of the cart.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    pub id: LineId,
    pub product_id: ProductId,
    pub label: String,
    pub vat_bp: u32,
    pub kind: LineKind,
    /// The line's amount before any discount, rounded.
    pub amount: Cents,
    pub discount: Option<Discount>,
}

impl Line {
    /// The weight sold, measured or estimated from an average weight.
    pub fn grams(&self) -> Option<Grams> {
        match self.kind {
            LineKind::Weighed { grams, .. } => Some(grams),
            LineKind::Piece {
                qty, avg_weight_g, ..
            } => estimated_grams(qty, avg_weight_g),
            LineKind::Divers { .. } => None,
        }
    }

    /// Whether the weight was typed by hand.
    pub fn is_manual_weight(&self) -> bool {
        matches!(self.kind, LineKind::Weighed { manual: true, .. })
    }
}

/// What a discount applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DiscountTarget {
    Line(LineId),
    Cart,
}

/// Something that happened to the cart, for the journal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CartEvent {
    LineAdded(Line),
    LineRemoved {
        line: Line,
        by: StaffId,
    },
    DiscountGiven {
        target: DiscountTarget,
        discount: Discount,
        /// The cents off when it was given.
        amount: Cents,
        replaced: Option<Discount>,
    },
    DiscountRemoved {
        target: DiscountTarget,
        discount: Discount,
        by: StaffId,
    },
    CartAbandoned {
        by: StaffId,
        lines: Vec<Line>,
        total: Cents,
    },
}

impl CartEvent {
    /// Stable token: `line_added`, `line_removed`, `discount_given`, `discount_removed`,
    /// `cart_abandoned`.
    pub fn code(&self) -> &'static str {
        match self {
            CartEvent::LineAdded(_) => "line_added",
            CartEvent::LineRemoved { .. } => "line_removed",
            CartEvent::DiscountGiven { .. } => "discount_given",
            CartEvent::DiscountRemoved { .. } => "discount_removed",
            CartEvent::CartAbandoned { .. } => "cart_abandoned",
        }
    }
}

/// A way to pay.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum PaymentMethod {
    Cash,
    Card,
    Cheque,
    /// Compost credits ("bons compost").
    Credits,
}

impl PaymentMethod {
    /// Stable token: `cash`, `card`, `cheque`, `credits`.
    pub fn code(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
            PaymentMethod::Cheque => "cheque",
            PaymentMethod::Credits => "credits",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            PaymentMethod::Cash,
            PaymentMethod::Card,
            PaymentMethod::Cheque,
            PaymentMethod::Credits,
        ]
        .into_iter()
        .find(|m| m.code() == code)
    }
}

/// One payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Payment {
    pub method: PaymentMethod,
    pub cents: Cents,
}

/// What limits credits payments for this cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PaymentPolicy {
    /// The largest share of the total payable in credits (basis points).
    pub credits_max_share_bp: u32,
    /// The identified resident's balance before this sale; 0 when nobody is identified.
    pub credits_balance: Cents,
}

/// A line's amounts after discounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTotal {
    pub line_id: LineId,
    pub vat_bp: u32,
    /// Before discounts.
    pub amount: Cents,
    pub line_discount: Cents,
    /// This line's share of the cart discount.
    pub cart_discount: Cents,
    /// What the customer pays for the line: `amount − line_discount − cart_discount`.
    pub net: Cents,
}

/// The cart's amounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub lines: Vec<LineTotal>,
    /// Sum of line amounts before discounts.
    pub gross: Cents,
    pub line_discounts: Cents,
    /// `gross − line_discounts`.
    pub subtotal: Cents,
    pub cart_discount: Cents,
    /// What is due: `subtotal − cart_discount`, also the sum of line nets.
    pub total: Cents,
    /// Per rate, on the line nets.
    pub vat: Vec<VatLine>,
}

/// How a cart was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub total: Cents,
    pub payments: Vec<Payment>,
    pub paid: Cents,
    /// Cash given back: `paid − total`.
    pub change_due: Cents,
}

impl Settlement {
    /// The sum paid with one method.
    pub fn paid_with(&self, method: PaymentMethod) -> Cents {
        self.payments
            .iter()
            .filter(|p| p.method == method)
            .map(|p| p.cents)
            .sum()
    }
}

/// A paid cart, ready to be committed with its journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    pub seller: StaffId,
    pub lines: Vec<Line>,
    pub cart_discount: Option<Discount>,
    pub totals: Totals,
    pub settlement: Settlement,
}

impl Sale {
    /// The amounts of a refund of some lines of this sale (all of them when `line_ids` is
    /// empty): each line's final amount, discount shares included, negated, and the VAT
    /// breakdown of those negative amounts, which is exactly the negation of the same lines'
    /// breakdown. The refund itself is a new journal entry referencing the sale.
    pub fn refund(&self, line_ids: &[LineId]) -> Result<Totals, CartError> {
        if line_ids
            .iter()
            .any(|id| !self.totals.lines.iter().any(|l| l.line_id == *id))
        {
            return Err(CartError::UnknownLine);
        }
        let lines: Vec<LineTotal> = self
            .totals
            .lines
            .iter()
            .filter(|l| line_ids.is_empty() || line_ids.contains(&l.line_id))
            .map(|l| LineTotal {
                line_id: l.line_id,
                vat_bp: l.vat_bp,
                amount: -l.amount,
                line_discount: -l.line_discount,
                cart_discount: -l.cart_discount,
                net: -l.net,
            })
            .collect();
        let gross = checked_sum(lines.iter().map(|l| l.amount))?;
        let line_discounts = checked_sum(lines.iter().map(|l| l.line_discount))?;
        let cart_discount = checked_sum(lines.iter().map(|l| l.cart_discount))?;
        let total = checked_sum(lines.iter().map(|l| l.net))?;
        let vat = breakdown(lines.iter().map(|l| (l.vat_bp, l.net)))?;
        Ok(Totals {
            lines,
            gross,
            line_discounts,
            subtotal: gross - line_discounts,
            cart_discount,
            total,
            vat,
        })
    }
}

/// Where the cart stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CartState {
    Open,
    Paid,
    Abandoned,
}

/// A cart in progress. It is plain data: a parked cart is kept as it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cart {
    seller: StaffId,
    lines: Vec<Line>,
    discount: Option<Discount>,
    payments: Vec<Payment>,
    next_id: LineId,
    state: CartState,
    events: Vec<CartEvent>,
}

/// Spreads `discount` over `weights` by the largest remainder method (module documentation).
/// `weights` are non-negative and `discount` is at most their sum.
pub fn allocate_largest_remainder(discount: Cents, weights: &[Cents]) -> Vec<Cents> {
    let total: i128 = weights.iter().map(|&w| i128::from(w)).sum();
    if total <= 0 || discount == 0 {
        return vec![0; weights.len()];
    }
    let d = i128::from(discount);
    let mut shares: Vec<i128> = weights.iter().map(|&w| d * i128::from(w) / total).collect();
    let mut left = d - shares.iter().sum::<i128>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    // Largest remainder first; stable sort keeps earlier lines first on ties.
    order.sort_by_key(|&i| std::cmp::Reverse(d * i128::from(weights[i]) % total));
    for i in order {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    shares.into_iter().map(|s| s as Cents).collect()
}

fn checked_sum<I: IntoIterator<Item = Cents>>(items: I) -> Result<Cents, CartError> {
    items.into_iter().try_fold(0 as Cents, |a, b| {
        a.checked_add(b).ok_or(CartError::Overflow)
    })
}

impl Cart {
    /// An empty cart for a seller.
    pub fn new(seller: StaffId) -> Self {
        Cart {
            seller,
            lines: Vec::new(),
            discount: None,
            payments: Vec::new(),
            next_id: 1,
            state: CartState::Open,
            events: Vec::new(),
        }
    }

    pub fn seller(&self) -> StaffId {
        self.seller
    }

    pub fn state(&self) -> CartState {
        self.state
    }

    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    pub fn line(&self, id: LineId) -> Option<&Line> {
        self.lines.iter().find(|l| l.id == id)
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn cart_discount(&self) -> Option<Discount> {
        self.discount
    }

    pub fn payments(&self) -> &[Payment] {
        &self.payments
    }

    /// Every event since the cart was made (or since the last [`Cart::take_events`]).
    pub fn events(&self) -> &[CartEvent] {
        &self.events
    }

    /// Hands the events over to be journaled.
    pub fn take_events(&mut self) -> Vec<CartEvent> {
        std::mem::take(&mut self.events)
    }

    fn ensure_editable(&self) -> Result<(), CartError> {
        if self.state != CartState::Open {
            return Err(CartError::Closed);
        }
        if !self.payments.is_empty() {
            return Err(CartError::PaymentsInProgress);
        }
        Ok(())
    }

    fn line_index(&self, id: LineId) -> Result<usize, CartError> {
        self.lines
            .iter()
            .position(|l| l.id == id)
            .ok_or(CartError::UnknownLine)
    }

    /// Adds a line; returns its id.
    pub fn add_line(
        &mut self,
        product_id: ProductId,
        label: impl Into<String>,
        vat_bp: u32,
        kind: LineKind,
    ) -> Result<LineId, CartError> {
        self.ensure_editable()?;
        validate_rate(vat_bp)?;
        let amount = kind.amount()?;
        let id = self.next_id;
        let line = Line {
            id,
            product_id,
            label: label.into(),
            vat_bp,
            kind,
            amount,
            discount: None,
        };
        self.next_id += 1;
        self.lines.push(line.clone());
        self.events.push(CartEvent::LineAdded(line));
        Ok(id)
    }

    /// Removes a line (with its discount); recorded with who removed it.
    pub fn remove_line(&mut self, id: LineId, by: StaffId) -> Result<(), CartError> {
        self.ensure_editable()?;
        let index = self.line_index(id)?;
        let line = self.lines.remove(index);
        self.events.push(CartEvent::LineRemoved { line, by });
        Ok(())
    }

    /// Gives a discount on a line, replacing any previous one.
    pub fn set_line_discount(&mut self, id: LineId, discount: Discount) -> Result<(), CartError> {
        self.ensure_editable()?;
        let index = self.line_index(id)?;
        let amount = discount.given_on(self.lines[index].amount)?;
        let replaced = self.lines[index].discount.replace(discount);
        self.events.push(CartEvent::DiscountGiven {
            target: DiscountTarget::Line(id),
            discount,
            amount,
            replaced,
        });
        Ok(())
    }

    /// Takes a line's discount back.
    pub fn remove_line_discount(&mut self, id: LineId, by: StaffId) -> Result<(), CartError> {
        self.ensure_editable()?;
        let index = self.line_index(id)?;
        let discount = self.lines[index]
            .discount
            .take()
            .ok_or(CartError::NoDiscount)?;
        self.events.push(CartEvent::DiscountRemoved {
            target: DiscountTarget::Line(id),
            discount,
            by,
        });
        Ok(())
    }

    /// Gives a discount on the whole cart, replacing any previous one.
    pub fn set_cart_discount(&mut self, discount: Discount) -> Result<(), CartError> {
        self.ensure_editable()?;
        if self.lines.is_empty() {
            return Err(CartError::EmptyCart);
        }
        let subtotal = self.subtotal()?;
        let amount = discount.given_on(subtotal)?;
        let replaced = self.discount.replace(discount);
        self.events.push(CartEvent::DiscountGiven {
            target: DiscountTarget::Cart,
            discount,
            amount,
            replaced,
        });
        Ok(())
    }

    /// Takes the cart discount back.
    pub fn remove_cart_discount(&mut self, by: StaffId) -> Result<(), CartError> {
        self.ensure_editable()?;
        let discount = self.discount.take().ok_or(CartError::NoDiscount)?;
        self.events.push(CartEvent::DiscountRemoved {
            target: DiscountTarget::Cart,
            discount,
            by,
        });
        Ok(())
    }

    /// Abandons the cart before payment; recorded with its lines and total.
    pub fn abandon(&mut self, by: StaffId) -> Result<(), CartError> {
        self.ensure_editable()?;
        let total = self.totals()?.total;
        self.state = CartState::Abandoned;
        self.events.push(CartEvent::CartAbandoned {
            by,
            lines: self.lines.clone(),
            total,
        });
        Ok(())
    }

    fn line_nets(&self) -> Result<Vec<(Cents, Cents)>, CartError> {
        self.lines
            .iter()
            .map(|l| {
                let off = match &l.discount {
                    Some(d) => d.on(l.amount)?,
                    None => 0,
                };
                Ok((off, l.amount - off))
            })
            .collect()
    }

    fn subtotal(&self) -> Result<Cents, CartError> {
        checked_sum(self.line_nets()?.into_iter().map(|(_, net)| net))
    }

    /// Every amount of the cart, discounts allocated and VAT broken down.
    pub fn totals(&self) -> Result<Totals, CartError> {
        let nets = self.line_nets()?;
        let gross = checked_sum(self.lines.iter().map(|l| l.amount))?;
        let line_discounts = checked_sum(nets.iter().map(|(off, _)| *off))?;
        let subtotal = checked_sum(nets.iter().map(|(_, net)| *net))?;
        let cart_discount = match &self.discount {
            Some(d) => d.on(subtotal)?,
            None => 0,
        };
        let weights: Vec<Cents> = nets.iter().map(|(_, net)| *net).collect();
        let shares = allocate_largest_remainder(cart_discount, &weights);
        let lines: Vec<LineTotal> = self
            .lines
            .iter()
            .zip(nets.iter())
            .zip(shares.iter())
            .map(|((l, (off, net)), share)| LineTotal {
                line_id: l.id,
                vat_bp: l.vat_bp,
                amount: l.amount,
                line_discount: *off,
                cart_discount: *share,
                net: net - share,
            })
            .collect();
        let vat = breakdown(lines.iter().map(|l| (l.vat_bp, l.net)))?;
        Ok(Totals {
            lines,
            gross,
            line_discounts,
            subtotal,
            cart_discount,
            total: subtotal - cart_discount,
            vat,
        })
    }

    /// The sum of the payments recorded.
    pub fn paid(&self) -> Cents {
        self.payments.iter().map(|p| p.cents).sum()
    }

    /// What remains due (zero or less once covered).
    pub fn remaining(&self) -> Result<Cents, CartError> {
        Ok(self.totals()?.total - self.paid())
    }

    /// The most the resident may still pay in credits on this cart.
    pub fn credits_available(&self, policy: &PaymentPolicy) -> Result<Cents, CartError> {
        let total = self.totals()?.total;
        let used = self.paid_with(PaymentMethod::Credits);
        let limit = max_credit_payment(total, policy.credits_max_share_bp, policy.credits_balance);
        Ok((limit - used).min(self.remaining()?).max(0))
    }

    pub fn paid_with(&self, method: PaymentMethod) -> Cents {
        self.payments
            .iter()
            .filter(|p| p.method == method)
            .map(|p| p.cents)
            .sum()
    }

    /// Records a payment (module documentation for the rules).
    pub fn add_payment(
        &mut self,
        method: PaymentMethod,
        cents: Cents,
        policy: &PaymentPolicy,
    ) -> Result<(), CartError> {
        if self.state != CartState::Open {
            return Err(CartError::Closed);
        }
        if self.lines.is_empty() {
            return Err(CartError::EmptyCart);
        }
        if cents <= 0 {
            return Err(CartError::PaymentNotPositive);
        }
        let total = self.totals()?.total;
        let remaining = total - self.paid();
        if remaining <= 0 {
            return Err(CartError::NothingDue);
        }
        if method != PaymentMethod::Cash && cents > remaining {
            return Err(CartError::NonCashAboveRemaining(method));
        }
        if method == PaymentMethod::Credits {
            let used = self
                .paid_with(PaymentMethod::Credits)
                .checked_add(cents)
                .ok_or(CartError::Overflow)?;
            if used > policy.credits_balance {
                return Err(CartError::CreditsAboveBalance);
            }
            if used > max_credit_payment(total, policy.credits_max_share_bp, policy.credits_balance)
            {
                return Err(CartError::CreditsAboveShare);
            }
        }
        self.paid().checked_add(cents).ok_or(CartError::Overflow)?;
        self.payments.push(Payment { method, cents });
        Ok(())
    }

    /// Takes back a payment recorded by mistake (by its position in [`Cart::payments`]).
    pub fn remove_payment(&mut self, index: usize) -> Result<Payment, CartError> {
        if self.state != CartState::Open {
            return Err(CartError::Closed);
        }
        if index >= self.payments.len() {
            return Err(CartError::UnknownPayment);
        }
        Ok(self.payments.remove(index))
    }

    /// The payments as they would settle the cart now; refused when short of the total.
    pub fn settlement(&self) -> Result<Settlement, CartError> {
        if self.lines.is_empty() {
            return Err(CartError::EmptyCart);
        }
        let total = self.totals()?.total;
        let paid = self.paid();
        if paid < total {
            return Err(CartError::Short {
                missing: total - paid,
            });
        }
        Ok(Settlement {
            total,
            payments: self.payments.clone(),
            paid,
            change_due: paid - total,
        })
    }

    /// Closes a fully paid cart and hands the sale over. A second call is refused.
    pub fn close_paid(&mut self) -> Result<Sale, CartError> {
        if self.state != CartState::Open {
            return Err(CartError::Closed);
        }
        let settlement = self.settlement()?;
        let totals = self.totals()?;
        self.state = CartState::Paid;
        Ok(Sale {
            seller: self.seller,
            lines: self.lines.clone(),
            cart_discount: self.discount,
            totals,
            settlement,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SELLER: StaffId = 7;
    const BOSS: StaffId = 1;

    fn weighed(grams: Grams, cents_per_kg: Cents) -> LineKind {
        LineKind::Weighed {
            grams,
            cents_per_kg,
            manual: false,
        }
    }

    fn pieces(qty: i64, unit_cents: Cents) -> LineKind {
        LineKind::Piece {
            qty,
            unit_cents,
            avg_weight_g: None,
        }
    }

    fn no_credits() -> PaymentPolicy {
        PaymentPolicy::default()
    }

    /// Tomatoes 1,234 kg at 3,50 €/kg (4,32 €), 2 lettuces at 1,20 € (2,40 €), a jar at 20 %.
    fn market_cart() -> Cart {
        let mut cart = Cart::new(SELLER);
        cart.add_line(10, "Tomates", 550, weighed(1234, 350))
            .unwrap();
        cart.add_line(11, "Salade", 550, pieces(2, 120)).unwrap();
        cart.add_line(99, "Bocal", 2000, LineKind::Divers { cents: 300 })
            .unwrap();
        cart
    }

    #[test]
    fn lines_are_priced_when_added() {
        let cart = market_cart();
        let amounts: Vec<Cents> = cart.lines().iter().map(|l| l.amount).collect();
        assert_eq!(amounts, vec![432, 240, 300]); // 431.9 → 432
        let ids: Vec<LineId> = cart.lines().iter().map(|l| l.id).collect();
        assert_eq!(ids, vec![1, 2, 3]);
        let t = cart.totals().unwrap();
        assert_eq!((t.gross, t.subtotal, t.total), (972, 972, 972));
    }

    #[test]
    fn bad_lines_are_refused() {
        let mut cart = Cart::new(SELLER);
        assert_eq!(
            cart.add_line(1, "x", 550, weighed(0, 350)),
            Err(CartError::NonPositiveQuantity)
        );
        assert_eq!(
            cart.add_line(1, "x", 550, weighed(-10, 350)),
            Err(CartError::NonPositiveQuantity)
        );
        assert_eq!(
            cart.add_line(1, "x", 550, pieces(0, 100)),
            Err(CartError::NonPositiveQuantity)
        );
        assert_eq!(
            cart.add_line(1, "x", 550, weighed(500, 0)),
            Err(CartError::Pricing(PricingError::ZeroPrice))
        );
        assert_eq!(
            cart.add_line(1, "x", 550, pieces(1, -100)),
            Err(CartError::Pricing(PricingError::NegativePrice))
        );
        assert_eq!(
            cart.add_line(1, "x", 550, LineKind::Divers { cents: 0 }),
            Err(CartError::Pricing(PricingError::ZeroPrice))
        );
        assert_eq!(
            cart.add_line(1, "x", 10_001, pieces(1, 100)),
            Err(CartError::Vat(VatError::RateTooHigh))
        );
        assert!(cart.is_empty());
        assert!(cart.events().is_empty());
        assert_eq!(
            CartError::Pricing(PricingError::ZeroPrice).code(),
            "zero_price"
        );
    }

    #[test]
    fn a_manual_weight_stays_marked_on_the_line() {
        let mut cart = Cart::new(SELLER);
        let id = cart
            .add_line(
                10,
                "Courgettes",
                550,
                LineKind::Weighed {
                    grams: 800,
                    cents_per_kg: 250,
                    manual: true,
                },
            )
            .unwrap();
        assert!(cart.line(id).unwrap().is_manual_weight());
        assert_eq!(cart.line(id).unwrap().grams(), Some(800));
    }

    #[test]
    fn piece_lines_estimate_kilograms_from_the_average_weight() {
        let mut cart = Cart::new(SELLER);
        let id = cart
            .add_line(
                11,
                "Salade",
                550,
                LineKind::Piece {
                    qty: 3,
                    unit_cents: 120,
                    avg_weight_g: Some(400),
                },
            )
            .unwrap();
        assert_eq!(cart.line(id).unwrap().grams(), Some(1200));
        let d = cart
            .add_line(99, "Divers", 550, LineKind::Divers { cents: 100 })
            .unwrap();
        assert_eq!(cart.line(d).unwrap().grams(), None);
    }

    #[test]
    fn every_change_is_an_event() {
        let mut cart = market_cart();
        cart.remove_line(2, SELLER).unwrap();
        cart.set_line_discount(1, Discount::percent(1000, BOSS))
            .unwrap();
        cart.remove_line_discount(1, BOSS).unwrap();
        let codes: Vec<&str> = cart.events().iter().map(|e| e.code()).collect();
        assert_eq!(
            codes,
            vec![
                "line_added",
                "line_added",
                "line_added",
                "line_removed",
                "discount_given",
                "discount_removed"
            ]
        );
        match &cart.events()[3] {
            CartEvent::LineRemoved { line, by } => {
                assert_eq!((line.id, line.label.as_str(), *by), (2, "Salade", SELLER));
            }
            other => panic!("{other:?}"),
        }
        let taken = cart.take_events();
        assert_eq!(taken.len(), 6);
        assert!(cart.events().is_empty());
    }

    #[test]
    fn removing_an_unknown_line_is_refused() {
        let mut cart = market_cart();
        assert_eq!(cart.remove_line(42, SELLER), Err(CartError::UnknownLine));
        cart.remove_line(1, SELLER).unwrap();
        assert_eq!(cart.remove_line(1, SELLER), Err(CartError::UnknownLine));
        // ids are never reused
        let id = cart
            .add_line(10, "Tomates", 550, weighed(500, 350))
            .unwrap();
        assert_eq!(id, 4);
    }

    #[test]
    fn abandoning_records_the_lines_and_closes_the_cart() {
        let mut cart = market_cart();
        cart.abandon(SELLER).unwrap();
        assert_eq!(cart.state(), CartState::Abandoned);
        match cart.events().last().unwrap() {
            CartEvent::CartAbandoned { by, lines, total } => {
                assert_eq!((*by, lines.len(), *total), (SELLER, 3, 972));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            cart.add_line(10, "x", 550, pieces(1, 1)),
            Err(CartError::Closed)
        );
        assert_eq!(cart.abandon(SELLER), Err(CartError::Closed));
        assert_eq!(
            cart.add_payment(PaymentMethod::Cash, 1000, &no_credits()),
            Err(CartError::Closed)
        );
    }

    #[test]
    fn a_line_percentage_discount_rounds_half_away_from_zero() {
        let mut cart = market_cart();
        // 10 % of 4,32 € = 43.2 → 43
        cart.set_line_discount(1, Discount::percent(1000, BOSS))
            .unwrap();
        let t = cart.totals().unwrap();
        assert_eq!(t.lines[0].line_discount, 43);
        assert_eq!(t.lines[0].net, 389);
        assert_eq!((t.line_discounts, t.total), (43, 929));
        // 25 % of 2,40 € = 60; 15 % of 3,00 € = 45; 12,5 % of 4,32 € = 54
        let mut c2 = market_cart();
        c2.set_line_discount(1, Discount::percent(1250, BOSS))
            .unwrap();
        assert_eq!(c2.totals().unwrap().lines[0].line_discount, 54);
    }

    #[test]
    fn a_line_amount_discount_cannot_exceed_the_line() {
        let mut cart = market_cart();
        assert_eq!(
            cart.set_line_discount(2, Discount::amount(241, BOSS)),
            Err(CartError::DiscountTooLarge)
        );
        cart.set_line_discount(2, Discount::amount(240, BOSS))
            .unwrap();
        assert_eq!(cart.totals().unwrap().lines[1].net, 0);
    }

    #[test]
    fn bad_discounts_are_refused() {
        let mut cart = market_cart();
        for d in [
            Discount::percent(0, BOSS),
            Discount::percent(10_001, BOSS),
            Discount::amount(0, BOSS),
            Discount::amount(-5, BOSS),
        ] {
            assert_eq!(cart.set_line_discount(1, d), Err(CartError::BadDiscount));
            assert_eq!(cart.set_cart_discount(d), Err(CartError::BadDiscount));
        }
        assert_eq!(
            cart.set_line_discount(9, Discount::percent(100, BOSS)),
            Err(CartError::UnknownLine)
        );
        assert_eq!(
            cart.remove_line_discount(1, BOSS),
            Err(CartError::NoDiscount)
        );
        assert_eq!(cart.remove_cart_discount(BOSS), Err(CartError::NoDiscount));
        assert_eq!(
            Cart::new(SELLER).set_cart_discount(Discount::percent(100, BOSS)),
            Err(CartError::EmptyCart)
        );
    }

    #[test]
    fn a_new_discount_replaces_the_old_one_and_says_so() {
        let mut cart = market_cart();
        cart.set_cart_discount(Discount::percent(500, BOSS))
            .unwrap();
        cart.set_cart_discount(Discount::amount(100, SELLER))
            .unwrap();
        match cart.events().last().unwrap() {
            CartEvent::DiscountGiven {
                target,
                discount,
                amount,
                replaced,
            } => {
                assert_eq!(*target, DiscountTarget::Cart);
                assert_eq!(*discount, Discount::amount(100, SELLER));
                assert_eq!(*amount, 100);
                assert_eq!(*replaced, Some(Discount::percent(500, BOSS)));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(cart.totals().unwrap().cart_discount, 100);
    }

    #[test]
    fn the_cart_discount_is_allocated_by_largest_remainder() {
        let mut cart = market_cart(); // 432 + 240 + 300 = 972
        cart.set_cart_discount(Discount::amount(100, BOSS)).unwrap();
        let t = cart.totals().unwrap();
        // exact shares: 44.44, 24.69, 30.86 → floors 44, 24, 30 (98); the 2 cents left go to
        // the largest remainders: 30.86 then 24.69.
        let shares: Vec<Cents> = t.lines.iter().map(|l| l.cart_discount).collect();
        assert_eq!(shares, vec![44, 25, 31]);
        assert_eq!(t.cart_discount, 100);
        assert_eq!(t.total, 872);
        assert_eq!(t.lines.iter().map(|l| l.net).sum::<Cents>(), t.total);
    }

    #[test]
    fn the_vat_breakdown_stays_exact_after_discounts() {
        let mut cart = market_cart();
        cart.set_line_discount(1, Discount::percent(1000, BOSS))
            .unwrap();
        cart.set_cart_discount(Discount::percent(1500, BOSS))
            .unwrap();
        let t = cart.totals().unwrap();
        let vat_ttc: Cents = t.vat.iter().map(|v| v.ttc).sum();
        assert_eq!(vat_ttc, t.total);
        let rates: Vec<u32> = t.vat.iter().map(|v| v.rate_bp).collect();
        assert_eq!(rates, vec![550, 2000]);
        for v in &t.vat {
            assert_eq!(v.ht + v.vat, v.ttc);
        }
        // 15 % of 929 = 139.35 → 139
        assert_eq!(t.cart_discount, 139);
        assert_eq!(t.total, 790);
    }

    #[test]
    fn a_full_discount_makes_a_free_cart() {
        let mut cart = market_cart();
        cart.set_cart_discount(Discount::percent(10_000, BOSS))
            .unwrap();
        let t = cart.totals().unwrap();
        assert_eq!(t.total, 0);
        assert!(t.lines.iter().all(|l| l.net == 0));
        let sale = cart.close_paid().unwrap();
        assert_eq!(sale.settlement.change_due, 0);
        assert!(sale.settlement.payments.is_empty());
    }

    #[test]
    fn a_cart_amount_discount_shrinks_when_lines_are_removed() {
        let mut cart = market_cart();
        assert_eq!(
            cart.set_cart_discount(Discount::amount(973, BOSS)),
            Err(CartError::DiscountTooLarge)
        );
        cart.set_cart_discount(Discount::amount(500, BOSS)).unwrap();
        cart.remove_line(1, SELLER).unwrap();
        cart.remove_line(3, SELLER).unwrap();
        let t = cart.totals().unwrap();
        assert_eq!((t.subtotal, t.cart_discount, t.total), (240, 240, 0));
    }

    #[test]
    fn allocation_edge_cases() {
        assert_eq!(allocate_largest_remainder(0, &[100, 200]), vec![0, 0]);
        assert_eq!(allocate_largest_remainder(10, &[]), Vec::<Cents>::new());
        assert_eq!(allocate_largest_remainder(10, &[0, 0]), vec![0, 0]);
        assert_eq!(allocate_largest_remainder(300, &[100, 200]), vec![100, 200]);
        // ties: the earlier line gets the cent
        assert_eq!(allocate_largest_remainder(1, &[100, 100]), vec![1, 0]);
        assert_eq!(
            allocate_largest_remainder(2, &[100, 100, 100]),
            vec![1, 1, 0]
        );
        // a zero-amount line never gets a share
        assert_eq!(allocate_largest_remainder(5, &[0, 7, 3]), vec![0, 4, 1]);
    }

    #[test]
    fn allocation_always_adds_up_and_never_exceeds_a_line() {
        let weights = [432, 240, 300, 1, 0, 999, 57];
        let sum: Cents = weights.iter().sum();
        for d in 0..=sum {
            let shares = allocate_largest_remainder(d, &weights);
            assert_eq!(shares.iter().sum::<Cents>(), d);
            for (s, w) in shares.iter().zip(weights.iter()) {
                assert!(*s >= 0 && s <= w, "d={d}");
            }
        }
    }

    #[test]
    fn cash_overpayment_gives_change() {
        let mut cart = market_cart(); // 9,72 €
        cart.add_payment(PaymentMethod::Cash, 2000, &no_credits())
            .unwrap();
        let s = cart.settlement().unwrap();
        assert_eq!((s.paid, s.change_due), (2000, 1028));
        let sale = cart.close_paid().unwrap();
        assert_eq!(sale.settlement.change_due, 1028);
        assert_eq!(sale.totals.total, 972);
        assert_eq!(cart.state(), CartState::Paid);
    }

    #[test]
    fn a_double_tap_on_pay_makes_one_sale() {
        let mut cart = market_cart();
        cart.add_payment(PaymentMethod::Card, 972, &no_credits())
            .unwrap();
        assert!(cart.close_paid().is_ok());
        assert_eq!(cart.close_paid(), Err(CartError::Closed));
    }

    #[test]
    fn a_card_above_the_remaining_amount_is_refused() {
        let mut cart = market_cart();
        assert_eq!(
            cart.add_payment(PaymentMethod::Card, 973, &no_credits()),
            Err(CartError::NonCashAboveRemaining(PaymentMethod::Card))
        );
        cart.add_payment(PaymentMethod::Cash, 500, &no_credits())
            .unwrap();
        assert_eq!(
            cart.add_payment(PaymentMethod::Card, 473, &no_credits()),
            Err(CartError::NonCashAboveRemaining(PaymentMethod::Card))
        );
        assert_eq!(
            cart.add_payment(PaymentMethod::Cheque, 473, &no_credits()),
            Err(CartError::NonCashAboveRemaining(PaymentMethod::Cheque))
        );
        cart.add_payment(PaymentMethod::Card, 472, &no_credits())
            .unwrap();
        let s = cart.settlement().unwrap();
        assert_eq!((s.paid, s.change_due), (972, 0));
        assert_eq!(s.paid_with(PaymentMethod::Cash), 500);
        assert_eq!(s.paid_with(PaymentMethod::Card), 472);
    }

    #[test]
    fn nothing_is_accepted_once_the_total_is_covered() {
        let mut cart = market_cart();
        cart.add_payment(PaymentMethod::Cash, 1000, &no_credits())
            .unwrap();
        assert_eq!(
            cart.add_payment(PaymentMethod::Cash, 100, &no_credits()),
            Err(CartError::NothingDue)
        );
        assert_eq!(
            cart.add_payment(PaymentMethod::Card, 1, &no_credits()),
            Err(CartError::NothingDue)
        );
    }

    #[test]
    fn a_payment_short_of_the_total_is_refused() {
        let mut cart = market_cart();
        assert_eq!(cart.close_paid(), Err(CartError::Short { missing: 972 }));
        cart.add_payment(PaymentMethod::Cheque, 900, &no_credits())
            .unwrap();
        assert_eq!(cart.close_paid(), Err(CartError::Short { missing: 72 }));
        assert_eq!(cart.state(), CartState::Open);
        assert_eq!(cart.remaining(), Ok(72));
        assert_eq!(CartError::Short { missing: 72 }.code(), "payment_short");
    }

    #[test]
    fn payments_must_be_positive_and_carts_not_empty() {
        let mut cart = market_cart();
        assert_eq!(
            cart.add_payment(PaymentMethod::Cash, 0, &no_credits()),
            Err(CartError::PaymentNotPositive)
        );
        assert_eq!(
            cart.add_payment(PaymentMethod::Cash, -100, &no_credits()),
            Err(CartError::PaymentNotPositive)
        );
        let mut empty = Cart::new(SELLER);
        assert_eq!(
            empty.add_payment(PaymentMethod::Cash, 100, &no_credits()),
            Err(CartError::EmptyCart)
        );
        assert_eq!(empty.close_paid(), Err(CartError::EmptyCart));
    }

    #[test]
    fn credits_are_limited_to_the_share_and_the_balance() {
        let policy = PaymentPolicy {
            credits_max_share_bp: 5000,
            credits_balance: 10_000,
        };
        let mut cart = market_cart(); // 972: half is 486
        assert_eq!(cart.credits_available(&policy), Ok(486));
        assert_eq!(
            cart.add_payment(PaymentMethod::Credits, 487, &policy),
            Err(CartError::CreditsAboveShare)
        );
        cart.add_payment(PaymentMethod::Credits, 300, &policy)
            .unwrap();
        assert_eq!(cart.credits_available(&policy), Ok(186));
        // the share counts every credits payment of the cart
        assert_eq!(
            cart.add_payment(PaymentMethod::Credits, 187, &policy),
            Err(CartError::CreditsAboveShare)
        );
        cart.add_payment(PaymentMethod::Credits, 186, &policy)
            .unwrap();
        cart.add_payment(PaymentMethod::Cash, 500, &policy).unwrap();
        let s = cart.close_paid().unwrap().settlement;
        assert_eq!(s.paid_with(PaymentMethod::Credits), 486);
        assert_eq!(s.change_due, 14);
    }

    #[test]
    fn credits_above_the_balance_are_refused() {
        let policy = PaymentPolicy {
            credits_max_share_bp: 10_000,
            credits_balance: 250,
        };
        let mut cart = market_cart();
        assert_eq!(cart.credits_available(&policy), Ok(250));
        assert_eq!(
            cart.add_payment(PaymentMethod::Credits, 251, &policy),
            Err(CartError::CreditsAboveBalance)
        );
        // nobody identified: no balance, no credits
        assert_eq!(
            cart.add_payment(PaymentMethod::Credits, 1, &no_credits()),
            Err(CartError::CreditsAboveBalance)
        );
    }

    #[test]
    fn credits_never_exceed_what_remains() {
        let policy = PaymentPolicy {
            credits_max_share_bp: 10_000,
            credits_balance: 10_000,
        };
        let mut cart = market_cart();
        cart.add_payment(PaymentMethod::Card, 900, &policy).unwrap();
        assert_eq!(cart.credits_available(&policy), Ok(72));
        assert_eq!(
            cart.add_payment(PaymentMethod::Credits, 73, &policy),
            Err(CartError::NonCashAboveRemaining(PaymentMethod::Credits))
        );
    }

    #[test]
    fn credits_leave_the_vat_breakdown_unchanged() {
        let policy = PaymentPolicy {
            credits_max_share_bp: 5000,
            credits_balance: 10_000,
        };
        let mut paid_cash = market_cart();
        paid_cash
            .add_payment(PaymentMethod::Cash, 972, &policy)
            .unwrap();
        let mut paid_credits = market_cart();
        paid_credits
            .add_payment(PaymentMethod::Credits, 486, &policy)
            .unwrap();
        paid_credits
            .add_payment(PaymentMethod::Cash, 486, &policy)
            .unwrap();
        assert_eq!(
            paid_cash.close_paid().unwrap().totals.vat,
            paid_credits.close_paid().unwrap().totals.vat
        );
    }

    #[test]
    fn the_cart_is_locked_while_payments_are_recorded() {
        let mut cart = market_cart();
        cart.add_payment(PaymentMethod::Cash, 500, &no_credits())
            .unwrap();
        assert_eq!(
            cart.add_line(10, "x", 550, pieces(1, 100)),
            Err(CartError::PaymentsInProgress)
        );
        assert_eq!(
            cart.remove_line(1, SELLER),
            Err(CartError::PaymentsInProgress)
        );
        assert_eq!(
            cart.set_cart_discount(Discount::percent(100, BOSS)),
            Err(CartError::PaymentsInProgress)
        );
        assert_eq!(cart.abandon(SELLER), Err(CartError::PaymentsInProgress));
        assert_eq!(cart.remove_payment(3), Err(CartError::UnknownPayment));
        assert_eq!(
            cart.remove_payment(0),
            Ok(Payment {
                method: PaymentMethod::Cash,
                cents: 500
            })
        );
        assert!(cart.remove_line(1, SELLER).is_ok());
    }

    #[test]
    fn the_sale_carries_everything_the_journal_needs() {
        let mut cart = market_cart();
        cart.set_cart_discount(Discount::amount(72, BOSS)).unwrap();
        cart.add_payment(PaymentMethod::Cash, 1000, &no_credits())
            .unwrap();
        let sale = cart.close_paid().unwrap();
        assert_eq!(sale.seller, SELLER);
        assert_eq!(sale.lines.len(), 3);
        assert_eq!(sale.cart_discount, Some(Discount::amount(72, BOSS)));
        assert_eq!(sale.totals.total, 900);
        assert_eq!(sale.settlement.change_due, 100);
    }

    #[test]
    fn a_full_refund_mirrors_the_sale() {
        let mut cart = market_cart();
        cart.set_cart_discount(Discount::amount(100, BOSS)).unwrap();
        cart.add_payment(PaymentMethod::Cash, 872, &no_credits())
            .unwrap();
        let sale = cart.close_paid().unwrap();
        let refund = sale.refund(&[]).unwrap();
        assert_eq!(refund.total, -872);
        assert_eq!(refund.cart_discount, -100);
        assert_eq!(refund.gross, -972);
        for (r, s) in refund.vat.iter().zip(sale.totals.vat.iter()) {
            assert_eq!(
                (r.rate_bp, r.ttc, r.ht, r.vat),
                (s.rate_bp, -s.ttc, -s.ht, -s.vat)
            );
        }
    }

    #[test]
    fn a_partial_refund_returns_the_lines_final_amounts() {
        let mut cart = market_cart();
        cart.set_cart_discount(Discount::amount(100, BOSS)).unwrap();
        cart.add_payment(PaymentMethod::Cash, 872, &no_credits())
            .unwrap();
        let sale = cart.close_paid().unwrap();
        // the lettuces: 240 − 25 of the cart discount
        let refund = sale.refund(&[2]).unwrap();
        assert_eq!(refund.total, -215);
        assert_eq!(refund.lines.len(), 1);
        assert_eq!(refund.vat.len(), 1);
        assert_eq!(sale.refund(&[4]), Err(CartError::UnknownLine));
    }

    #[test]
    fn a_weighing_becomes_a_weighed_line() {
        use super::super::metrology::WeightSource;
        let manual = WeighedNet {
            grams: 1234,
            source: WeightSource::Manual,
        };
        assert_eq!(
            LineKind::from_weighing(manual, 350),
            LineKind::Weighed {
                grams: 1234,
                cents_per_kg: 350,
                manual: true
            }
        );
    }

    #[test]
    fn payment_method_codes_round_trip() {
        for m in [
            PaymentMethod::Cash,
            PaymentMethod::Card,
            PaymentMethod::Cheque,
            PaymentMethod::Credits,
        ] {
            assert_eq!(PaymentMethod::from_code(m.code()), Some(m));
        }
        assert_eq!(PaymentMethod::from_code("bitcoin"), None);
    }

    #[test]
    fn cart_error_codes_are_snake_case() {
        for e in [
            CartError::Closed,
            CartError::EmptyCart,
            CartError::UnknownLine,
            CartError::NonPositiveQuantity,
            CartError::BadDiscount,
            CartError::DiscountTooLarge,
            CartError::NoDiscount,
            CartError::PaymentsInProgress,
            CartError::PaymentNotPositive,
            CartError::UnknownPayment,
            CartError::NothingDue,
            CartError::NonCashAboveRemaining(PaymentMethod::Card),
            CartError::CreditsAboveShare,
            CartError::CreditsAboveBalance,
            CartError::Short { missing: 1 },
            CartError::Overflow,
        ] {
            assert!(e
                .code()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }
}
