//! Selling at the stall: choose a product, weigh it (or count it), build the cart, take the
//! payment, commit the sale with its journal entry before anything is printed.
//!
//! Each seller has their own cart. When the staff screen locks (timeout) or another seller
//! signs in, the cart stays parked under its seller and comes back when they sign in again.
//! The weighing guard belongs to the scale, not to a cart: it sees every reading, so the same
//! load is never sold twice, whoever sells it.

use std::collections::HashMap;

use super::devices::ScaleView;
use super::roles::Action;
use super::session::Denied;
use super::Kiosk;
use crate::domain::cart::{Cart, CartError, LineKind, PaymentMethod, PaymentPolicy};
use crate::domain::metrology::{
    MetrologyConfig, ScaleFault, ScaleReading, ScaleState, WeighGuard, WeighRefusal,
};
use crate::store::catalog::{self, Pricing, Product};

/// What the seller is doing with a chosen product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub product: Product,
    /// Digits typed on the keypad: a quantity (pieces, bunches), the price of a "divers"
    /// line, or grams of a weight typed by hand.
    pub qty_digits: String,
    /// The scale is broken and the seller types the weight (roles in
    /// `[selling] manual_weight_roles`); the line says "pesée manuelle".
    pub manual: bool,
}

/// One seller's work in progress.
#[derive(Debug, Clone)]
pub struct SellerCart {
    pub cart: Cart,
    pub chosen: Option<Chosen>,
    /// Amount typed on the payment keypad, in cents.
    pub pay_digits: String,
    /// The resident who scanned their card to pay with compost credits, if any.
    pub credits_resident: Option<i64>,
    /// Why the last card shown at the till was refused (`unknown_card`, `revoked_card`...).
    pub credits_notice: Option<&'static str>,
    /// The line whose discount panel is open, and the digits typed on it.
    pub discount_line: Option<u32>,
    pub discount_digits: String,
}

impl SellerCart {
    fn new(seller: i64) -> SellerCart {
        SellerCart {
            cart: Cart::new(seller),
            chosen: None,
            pay_digits: String::new(),
            credits_resident: None,
            credits_notice: None,
            discount_line: None,
            discount_digits: String::new(),
        }
    }
}

/// The last sale, for the confirmation screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub seq: i64,
    pub total: i64,
    pub change: i64,
    /// Cash changed hands: the drawer opens.
    pub cash: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SellError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("cart: {0:?}")]
    Cart(CartError),
    #[error("weighing refused: {0:?}")]
    Weigh(WeighRefusal),
    #[error("no product chosen")]
    NothingChosen,
    #[error("unknown or retired product")]
    UnknownProduct,
    #[error("this product is sold by weight")]
    NeedsScale,
    #[error("quantity must be 1 to 999")]
    BadQuantity,
    #[error("amount: {0}")]
    BadAmount(String),
    #[error("the clock is earlier than the last recorded entry")]
    ClockBehind,
    #[error("closures: {0}")]
    Closure(&'static str),
    #[error("this sale was already refunded")]
    AlreadyRefunded,
    #[error("cash session: {0}")]
    Cash(#[from] super::cash::CashError),
    #[error("database: {0}")]
    Store(String),
}

impl SellError {
    /// A stable token for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            SellError::Denied(_) => "not_allowed",
            SellError::Cart(e) => e.code(),
            SellError::Weigh(r) => r.code(),
            SellError::NothingChosen => "nothing_chosen",
            SellError::UnknownProduct => "unknown_product",
            SellError::NeedsScale => "needs_scale",
            SellError::BadQuantity => "bad_quantity",
            SellError::BadAmount(_) => "bad_amount",
            SellError::ClockBehind => "clock_behind",
            SellError::Cash(e) => e.code(),
            SellError::AlreadyRefunded => "already_refunded",
            SellError::Closure(code) => code,
            SellError::Store(_) => "store",
        }
    }
}

impl From<CartError> for SellError {
    fn from(e: CartError) -> Self {
        SellError::Cart(e)
    }
}

impl From<rusqlite::Error> for SellError {
    fn from(e: rusqlite::Error) -> Self {
        SellError::Store(e.to_string())
    }
}

/// The selling state of the kiosk: the scale's guard and every seller's cart.
#[derive(Debug)]
pub struct Sell {
    pub guard: WeighGuard,
    carts: HashMap<i64, SellerCart>,
    pub last_done: Option<Done>,
    pub last_refund: Option<Refunded>,
    /// Training mode (an admin switches it on for a trainee): tickets are marked training on
    /// screen, on paper and in the journal, need no cash session and count in no real total.
    pub training: bool,
    /// The container tare Comptoir subtracts from the scale's gross reading (grams; 0: none).
    /// Only on installations that are not legal-for-trade, from `[selling] container_tares_g`;
    /// it stays until the seller changes it (the same bowl serves the whole market).
    pub tare_g: i64,
}

impl Default for Sell {
    fn default() -> Self {
        Sell {
            guard: WeighGuard::new(MetrologyConfig::default()),
            carts: HashMap::new(),
            last_done: None,
            last_refund: None,
            training: false,
            tare_g: 0,
        }
    }
}

/// The scale's last report as the weighing rules see it.
pub fn scale_state(view: ScaleView) -> ScaleState {
    match view {
        ScaleView::Weight { grams, stable, net } => Ok(ScaleReading { grams, stable, net }),
        ScaleView::Error(code) => Err(ScaleFault::from_code(code).unwrap_or(ScaleFault::Garbage)),
        ScaleView::Absent | ScaleView::Disconnected | ScaleView::Waiting => {
            Err(ScaleFault::Disconnected)
        }
    }
}

impl Sell {
    pub fn with_metrology(config: MetrologyConfig) -> Sell {
        Sell {
            guard: WeighGuard::new(config),
            ..Sell::default()
        }
    }

    /// The signed-in seller's cart (made when they first sell; parked while they are away).
    pub fn cart_of(&mut self, seller: i64) -> &mut SellerCart {
        self.carts
            .entry(seller)
            .or_insert_with(|| SellerCart::new(seller))
    }

    pub fn peek(&self, seller: i64) -> Option<&SellerCart> {
        self.carts.get(&seller)
    }

    /// Sellers whose cart holds lines.
    pub fn parked(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .carts
            .iter()
            .filter(|(_, c)| !c.cart.lines().is_empty())
            .map(|(id, _)| *id)
            .collect();
        v.sort();
        v
    }

    /// Every scale reading goes through here, whether a weighing screen is open or not.
    pub fn observe(&mut self, view: ScaleView) {
        self.guard.observe(&scale_state(view), self.tare_g);
    }
}

/// Keeps the signed-in seller's cart in the database (`parked_carts`), so that it survives a
/// power cut as it survives a screen lock. Called after each change of the cart; a failure is
/// logged, never shown: the cart in memory is still there.
pub fn park(kiosk: &mut Kiosk) {
    let Some(me) = kiosk.session.current().map(|s| s.id) else {
        return;
    };
    let Some(cart) = kiosk.sell.peek(me).map(|c| c.cart.clone()) else {
        return;
    };
    let now = kiosk.clock.now();
    if let Err(e) = crate::store::parked::save(kiosk.store.conn(), me, &cart, now) {
        log::error!("parking the cart of seller {me}: {e}");
    }
}

/// Brings back the carts parked in the database (after a restart).
pub fn restore_parked(kiosk: &mut Kiosk) {
    match crate::store::parked::load_all(kiosk.store.conn()) {
        Ok(carts) => {
            for (seller, cart) in carts {
                kiosk.sell.cart_of(seller).cart = cart;
            }
        }
        Err(e) => log::error!("reading parked carts: {e}"),
    }
}

fn seller(kiosk: &Kiosk) -> Result<i64, SellError> {
    Ok(kiosk.session.require(Action::Sell)?.id)
}

/// A product tapped in the catalogue.
pub fn choose(kiosk: &mut Kiosk, product_id: i64) -> Result<Pricing, SellError> {
    let me = seller(kiosk)?;
    let product = catalog::product(kiosk.store.conn(), product_id)?
        .filter(|p| p.active)
        .ok_or(SellError::UnknownProduct)?;
    let pricing = product.pricing;
    kiosk.sell.cart_of(me).chosen = Some(Chosen {
        product,
        qty_digits: String::new(),
        manual: false,
    });
    Ok(pricing)
}

/// Back from the weighing panel without adding anything.
pub fn unchoose(kiosk: &mut Kiosk) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    kiosk.sell.cart_of(me).chosen = None;
    Ok(())
}

/// Can the chosen product be added from the scale's reading now? The net weight if so.
pub fn weigh_check(kiosk: &Kiosk) -> Result<i64, SellError> {
    let state = scale_state(kiosk.devices.scale);
    kiosk
        .sell
        .guard
        .check(&state, kiosk.sell.tare_g)
        .map_err(SellError::Weigh)
}

/// The container presets the weighing screen offers (none on a legal-for-trade scale).
pub fn container_tares(kiosk: &Kiosk) -> Vec<i64> {
    if kiosk.sell.guard.config().legal_for_trade {
        Vec::new()
    } else {
        kiosk.config.selling.container_tares_g.clone()
    }
}

/// Chooses a container preset (0 takes the tare off). Refused on a legal-for-trade scale, and
/// for a weight that is not one of the configured presets.
pub fn set_tare(kiosk: &mut Kiosk, grams: i64) -> Result<(), SellError> {
    seller(kiosk)?;
    if grams != 0 {
        if kiosk.sell.guard.config().legal_for_trade {
            return Err(SellError::Weigh(WeighRefusal::SoftwareTareNotAllowed));
        }
        if !container_tares(kiosk).contains(&grams) {
            return Err(SellError::Weigh(WeighRefusal::BadTare));
        }
    }
    kiosk.sell.tare_g = grams;
    Ok(())
}

/// Whether the signed-in person may type a weight by hand (`[selling] manual_weight_roles`).
pub fn manual_allowed(kiosk: &Kiosk) -> bool {
    kiosk.session.current().is_some_and(|s| {
        kiosk
            .config
            .selling
            .manual_weight_roles
            .iter()
            .any(|r| r == s.role.as_str())
    })
}

/// Switches the chosen per-kg product between the scale and a weight typed by hand.
pub fn manual_toggle(kiosk: &mut Kiosk) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    let allowed = manual_allowed(kiosk);
    let c = kiosk.sell.cart_of(me);
    let chosen = c.chosen.as_mut().ok_or(SellError::NothingChosen)?;
    if chosen.product.pricing != Pricing::PerKg {
        return Err(SellError::NeedsScale);
    }
    if !chosen.manual && !allowed {
        return Err(SellError::Weigh(WeighRefusal::ManualNotAllowed));
    }
    chosen.manual = !chosen.manual;
    chosen.qty_digits.clear();
    Ok(())
}

/// Most digits of a weight typed by hand: 99 999 g.
const MANUAL_DIGITS: usize = 5;

/// Adds the chosen per-kg product with the scale's stable net weight.
pub fn add_weighed(kiosk: &mut Kiosk) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    let state = scale_state(kiosk.devices.scale);
    let chosen = kiosk
        .sell
        .cart_of(me)
        .chosen
        .clone()
        .ok_or(SellError::NothingChosen)?;
    if chosen.product.pricing != Pricing::PerKg {
        return Err(SellError::NeedsScale);
    }
    if chosen.manual {
        let grams: i64 = chosen.qty_digits.parse().unwrap_or(0);
        let net = kiosk
            .sell
            .guard
            .add_manual(grams, manual_allowed(kiosk))
            .map_err(SellError::Weigh)?;
        let c = kiosk.sell.cart_of(me);
        c.cart.add_line(
            chosen.product.id,
            chosen.product.name.clone(),
            chosen.product.vat_bp as u32,
            LineKind::from_weighing(net, chosen.product.price_cents),
        )?;
        c.chosen = None;
        return Ok(());
    }
    let tare = kiosk.sell.tare_g;
    // Check the weighing and price the line first, so a refusal leaves the guard as it was.
    let grams = kiosk
        .sell
        .guard
        .check(&state, tare)
        .map_err(SellError::Weigh)?;
    LineKind::Weighed {
        grams,
        cents_per_kg: chosen.product.price_cents,
        manual: false,
    }
    .amount()?;
    let net = kiosk
        .sell
        .guard
        .add(&state, tare)
        .map_err(SellError::Weigh)?;
    let c = kiosk.sell.cart_of(me);
    c.cart.add_line(
        chosen.product.id,
        chosen.product.name.clone(),
        chosen.product.vat_bp as u32,
        LineKind::from_weighing(net, chosen.product.price_cents),
    )?;
    c.chosen = None;
    Ok(())
}

pub fn qty_digit(kiosk: &mut Kiosk, d: char) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    if let Some(chosen) = &mut kiosk.sell.cart_of(me).chosen {
        let max = if is_divers(chosen) {
            7
        } else if chosen.manual {
            MANUAL_DIGITS
        } else {
            3
        };
        if d.is_ascii_digit()
            && chosen.qty_digits.len() < max
            && !(chosen.qty_digits.is_empty() && d == '0')
        {
            chosen.qty_digits.push(d);
        }
    }
    Ok(())
}

pub fn qty_erase(kiosk: &mut Kiosk) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    if let Some(chosen) = &mut kiosk.sell.cart_of(me).chosen {
        chosen.qty_digits.pop();
    }
    Ok(())
}

/// Adds the chosen per-piece or per-bunch product, with the typed quantity (1 if none).
pub fn add_pieces(kiosk: &mut Kiosk) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    let c = kiosk.sell.cart_of(me);
    let chosen = c.chosen.clone().ok_or(SellError::NothingChosen)?;
    if chosen.product.pricing == Pricing::PerKg {
        return Err(SellError::NeedsScale);
    }
    let qty: i64 = if chosen.qty_digits.is_empty() {
        1
    } else {
        chosen
            .qty_digits
            .parse()
            .map_err(|_| SellError::BadQuantity)?
    };
    if !(1..=999).contains(&qty) {
        return Err(SellError::BadQuantity);
    }
    let kind = LineKind::Piece {
        qty,
        unit_cents: chosen.product.price_cents,
        avg_weight_g: chosen.product.avg_weight_g,
    };
    c.cart.add_line(
        chosen.product.id,
        chosen.product.name.clone(),
        chosen.product.vat_bp as u32,
        kind,
    )?;
    c.chosen = None;
    Ok(())
}

/// "Divers": something the catalogue lacks, at a price typed on the keypad (VAT 5.5 %, the
/// rate of the stall's food). The typed digits are cents.
pub fn choose_divers(kiosk: &mut Kiosk) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    let product = Product {
        id: 0,
        name: DIVERS_LABEL.into(),
        short_code: "DIV".into(),
        category: "other".into(),
        icon: "harvest".into(),
        pricing: Pricing::PerPiece,
        price_cents: 0,
        avg_weight_g: None,
        vat_bp: 550,
        origin: String::new(),
        active: true,
    };
    kiosk.sell.cart_of(me).chosen = Some(Chosen {
        product,
        qty_digits: String::new(),
        manual: false,
    });
    Ok(())
}

/// The label of a "divers" line (receipts are in French).
pub const DIVERS_LABEL: &str = "Divers";

/// The price the weighing panel shows for the product chosen: of the weight typed by hand,
/// of the scale's weight net of the tare chosen on the kiosk (what the rules will sell), of
/// the "divers" amount typed, or of the pieces typed. `None` while the scale gives no weight.
pub fn live_line_price(kiosk: &Kiosk, chosen: &Chosen) -> Option<i64> {
    let p = &chosen.product;
    let typed = |default: i64| chosen.qty_digits.parse::<i64>().unwrap_or(default);
    let weighed = |grams: i64| {
        crate::domain::pricing::weighed_price(grams.max(0), p.price_cents).unwrap_or(0)
    };
    if p.pricing == Pricing::PerKg && chosen.manual {
        Some(weighed(typed(0)))
    } else if p.pricing == Pricing::PerKg {
        match kiosk.devices.scale {
            ScaleView::Weight { grams, stable, net } => {
                let reading = ScaleReading { grams, stable, net };
                Some(weighed(crate::domain::metrology::net_of(
                    &reading,
                    kiosk.sell.tare_g,
                )))
            }
            _ => None,
        }
    } else if is_divers(chosen) {
        Some(typed(0))
    } else {
        Some(typed(1) * p.price_cents)
    }
}

/// Is the chosen product the "divers" item?
pub fn is_divers(chosen: &Chosen) -> bool {
    chosen.product.id == 0
}

/// Adds the "divers" line at the typed price.
pub fn add_divers(kiosk: &mut Kiosk) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    let c = kiosk.sell.cart_of(me);
    let chosen = c.chosen.clone().ok_or(SellError::NothingChosen)?;
    let cents = crate::domain::money::parse_money_keypad(&chosen.qty_digits)
        .map_err(|e| SellError::BadAmount(e.code().into()))?;
    if cents <= 0 {
        return Err(SellError::BadAmount("zero".into()));
    }
    c.cart.add_line(
        0,
        DIVERS_LABEL,
        chosen.product.vat_bp as u32,
        LineKind::Divers { cents },
    )?;
    c.chosen = None;
    Ok(())
}

/// Removes a line before payment: journaled (`line_removed`) first, then taken off the cart.
pub fn remove_line(kiosk: &mut Kiosk, line: u32) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    let mut cart = kiosk.sell.cart_of(me).cart.clone();
    let (label, amount) = cart
        .line(line)
        .map(|l| (l.label.clone(), l.amount))
        .ok_or(SellError::Cart(CartError::UnknownLine))?;
    cart.remove_line(line, me)?;
    let now = kiosk.clock.now();
    let tx = kiosk.store.write()?;
    crate::store::sales::record_line_removed(&tx, &label, amount, me, now)
        .map_err(|e| SellError::Store(e.to_string()))?;
    crate::store::parked::save(&tx, me, &cart, now)?;
    tx.commit()?;
    let c = kiosk.sell.cart_of(me);
    c.cart = cart;
    if c.discount_line == Some(line) {
        c.discount_line = None;
    }
    Ok(())
}

/// Opens the discount panel of a cart line (end of market: "−20 % on the last lettuces").
pub fn discount_open(kiosk: &mut Kiosk, line: u32) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    let c = kiosk.sell.cart_of(me);
    if c.cart.line(line).is_none() {
        return Err(SellError::Cart(CartError::UnknownLine));
    }
    c.discount_line = Some(line);
    c.discount_digits.clear();
    Ok(())
}

/// Closes the line discount panel without changing anything.
pub fn discount_close(kiosk: &mut Kiosk) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    let c = kiosk.sell.cart_of(me);
    c.discount_line = None;
    c.discount_digits.clear();
    Ok(())
}

pub fn discount_digit(kiosk: &mut Kiosk, d: char) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    let c = kiosk.sell.cart_of(me);
    push_digit(&mut c.discount_digits, d, 5);
    Ok(())
}

pub fn discount_erase(kiosk: &mut Kiosk) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    kiosk.sell.cart_of(me).discount_digits.pop();
    Ok(())
}

/// A discount typed on a keypad: a percentage (1 to 100) or an amount in cents.
fn typed_discount(
    digits: &str,
    percent: bool,
) -> Result<crate::domain::cart::DiscountKind, SellError> {
    use crate::domain::cart::DiscountKind;
    let n: i64 = digits
        .parse()
        .map_err(|_| SellError::BadAmount("digits".into()))?;
    if percent {
        if !(1..=100).contains(&n) {
            return Err(SellError::BadAmount("percent".into()));
        }
        Ok(DiscountKind::Percent((n * 100) as u32))
    } else {
        Ok(DiscountKind::Amount(n))
    }
}

/// Types a digit into a keypad buffer of at most `max` digits, without a leading zero.
fn push_digit(digits: &mut String, d: char, max: usize) {
    if d.is_ascii_digit() && digits.len() < max && !(digits.is_empty() && d == '0') {
        digits.push(d);
    }
}

/// Gives the discount typed on the panel to its line: a percentage (`percent`, 1 to 100) or
/// an amount in cents, recorded with who gave it (it goes into the sale's journal entry).
/// Only before the first payment; not more than the line.
pub fn line_discount(kiosk: &mut Kiosk, percent: bool) -> Result<(), SellError> {
    use crate::domain::cart::Discount;
    let me = seller(kiosk)?;
    let c = kiosk.sell.cart_of(me);
    let line = c.discount_line.ok_or(SellError::NothingChosen)?;
    let kind = typed_discount(&c.discount_digits, percent)?;
    c.cart
        .set_line_discount(line, Discount { kind, given_by: me })?;
    c.discount_line = None;
    c.discount_digits.clear();
    Ok(())
}

/// Takes the discount of the panel's line back.
pub fn line_discount_remove(kiosk: &mut Kiosk) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    let c = kiosk.sell.cart_of(me);
    let line = c.discount_line.ok_or(SellError::NothingChosen)?;
    match c.cart.remove_line_discount(line, me) {
        Ok(()) | Err(CartError::NoDiscount) => {}
        Err(e) => return Err(e.into()),
    }
    c.discount_line = None;
    c.discount_digits.clear();
    Ok(())
}

pub fn pay_digit(kiosk: &mut Kiosk, d: char) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    let c = kiosk.sell.cart_of(me);
    push_digit(&mut c.pay_digits, d, 7);
    Ok(())
}

pub fn pay_erase(kiosk: &mut Kiosk) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    kiosk.sell.cart_of(me).pay_digits.pop();
    Ok(())
}

/// A quick note or coin: sets the typed amount.
pub fn pay_quick(kiosk: &mut Kiosk, cents: i64) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    kiosk.sell.cart_of(me).pay_digits = cents.to_string();
    Ok(())
}

/// Adds a payment of the typed amount (or of what remains when nothing is typed). Cash may be
/// more than what remains (change is given); card and cheque may not. When the total is
/// covered, the sale is committed with its journal entry, in one transaction, and the cart is
/// emptied: a second tap finds nothing to pay.
pub fn pay(kiosk: &mut Kiosk, method: PaymentMethod) -> Result<Option<Done>, SellError> {
    let me = seller(kiosk)?;
    let c = kiosk.sell.cart_of(me);
    let remaining = c.cart.remaining()?;
    if remaining <= 0 || c.cart.lines().is_empty() {
        return Err(SellError::Cart(CartError::NothingDue));
    }
    let amount = if c.pay_digits.is_empty() {
        remaining
    } else {
        crate::domain::money::parse_money_keypad(&c.pay_digits)
            .map_err(|e| SellError::BadAmount(e.code().into()))?
    };
    let policy = credits_policy(&kiosk.store, &kiosk.config, c.credits_resident)?;
    let c = kiosk.sell.cart_of(me);
    let amount = if method == PaymentMethod::Credits && c.pay_digits.is_empty() {
        c.cart.credits_available(&policy)?
    } else {
        amount
    };
    if method == PaymentMethod::Credits && c.credits_resident.is_none() {
        return Err(SellError::Cart(CartError::CreditsAboveBalance));
    }
    c.cart.add_payment(method, amount, &policy)?;
    let typed = std::mem::take(&mut c.pay_digits);
    if c.cart.remaining()? > 0 {
        return Ok(None);
    }
    match commit(kiosk, me) {
        Ok(done) => Ok(Some(done)),
        Err(e) => {
            // Nothing was recorded: the cart goes back to how it was before this tap, so the
            // seller can pay again once the cause is fixed (clock set, key confirmed...).
            let c = kiosk.sell.cart_of(me);
            let last = c.cart.payments().len().saturating_sub(1);
            if c.cart.remove_payment(last).is_err() {
                log::error!("a refused sale's last payment could not be taken back");
            }
            c.pay_digits = typed;
            Err(e)
        }
    }
}

/// What limits a credits payment: the config's share and the resident's balance (none when
/// nobody scanned a card).
fn credits_policy(
    store: &crate::store::Store,
    config: &crate::config::Config,
    resident: Option<i64>,
) -> Result<PaymentPolicy, SellError> {
    let balance = match resident {
        Some(id) => crate::store::compost::balance(store.conn(), id)?,
        None => 0,
    };
    Ok(PaymentPolicy {
        credits_max_share_bp: config.compost.credit_max_share_percent * 100,
        credits_balance: balance,
    })
}

/// A card shown at the till, on the payment screen: the resident who pays with credits.
pub fn credits_scan(kiosk: &mut Kiosk, event: &crate::devices::scanner::ScannerEvent) {
    use crate::devices::scanner::ScannerEvent;
    use crate::store::compost::{lookup_card, CardLookup};
    let Some(me) = kiosk.session.current().map(|s| s.id) else {
        return;
    };
    let found = match event {
        ScannerEvent::Card { token } => lookup_card(kiosk.store.conn(), token),
        ScannerEvent::Refused { .. } => {
            kiosk.sell.cart_of(me).credits_notice = Some("malformed_card");
            return;
        }
        _ => return,
    };
    let c = kiosk.sell.cart_of(me);
    match found {
        Ok(CardLookup::Valid(id)) => {
            if c.cart.paid_with(PaymentMethod::Credits) > 0 && c.credits_resident != Some(id) {
                c.credits_notice = Some("busy");
                return;
            }
            c.credits_resident = Some(id);
            c.credits_notice = None;
        }
        Ok(CardLookup::Revoked) => c.credits_notice = Some("revoked_card"),
        Ok(CardLookup::Unknown) => c.credits_notice = Some("unknown_card"),
        Err(e) => {
            log::error!("card look-up: {e}");
            c.credits_notice = Some("store");
        }
    }
}

/// The resident paying with credits on the signed-in seller's cart: `(id, balance, the most
/// credits may still pay)`.
pub fn credits_status(kiosk: &Kiosk) -> Option<(i64, i64, i64)> {
    let me = kiosk.session.current()?.id;
    let c = kiosk.sell.peek(me)?;
    let id = c.credits_resident?;
    let policy = credits_policy(&kiosk.store, &kiosk.config, Some(id)).ok()?;
    let available = c.cart.credits_available(&policy).unwrap_or(0);
    Some((id, policy.credits_balance, available))
}

/// Removes the payments typed so far (before the total is covered).
pub fn clear_payments(kiosk: &mut Kiosk) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    let c = kiosk.sell.cart_of(me);
    while !c.cart.payments().is_empty() {
        c.cart.remove_payment(0)?;
    }
    c.pay_digits.clear();
    Ok(())
}

/// What every new ticket (sale or refund) needs first: a clock not behind the journal, the
/// closures of ended periods written, an open and fresh cash session; then who sells, where.
fn ticket_context(
    kiosk: &mut Kiosk,
    me: i64,
) -> Result<
    (
        crate::store::sales::SaleContext,
        chrono::DateTime<chrono::Utc>,
    ),
    SellError,
> {
    let now = kiosk.clock.now();
    if let Some(last) = crate::store::journal::last_time(kiosk.store.conn())
        .map_err(|e| SellError::Store(e.to_string()))?
    {
        if now < last {
            return Err(SellError::ClockBehind);
        }
    }
    close_ended_periods(kiosk)?;
    // Training tickets stay out of the real drawer.
    let cash_session = if kiosk.sell.training {
        None
    } else {
        Some(super::cash::session_for_sale(kiosk)?)
    };
    let cashier_name = kiosk
        .session
        .current()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let ctx = crate::store::sales::SaleContext {
        cashier_id: me,
        cashier_name,
        cash_session,
        training: kiosk.sell.training,
    };
    Ok((ctx, now))
}

fn commit(kiosk: &mut Kiosk, me: i64) -> Result<Done, SellError> {
    let (ctx, now) = ticket_context(kiosk, me)?;
    let mut cart = kiosk.sell.cart_of(me).cart.clone();
    let credits_resident = kiosk.sell.cart_of(me).credits_resident;
    let sale = cart.close_paid()?;
    let tx = kiosk.store.write()?;
    let entry = crate::store::sales::record_sale(&tx, &sale, &ctx, now)
        .map_err(|e| SellError::Store(e.to_string()))?;
    // Credits paid: the resident's ledger says so, in the sale's own transaction.
    let credits = sale.settlement.paid_with(PaymentMethod::Credits);
    if let (Some(resident), true) = (credits_resident, credits > 0) {
        crate::store::compost::append_credit(
            &tx,
            resident,
            crate::domain::credits::CreditMove::Spent(credits),
            None,
            Some(entry.seq),
            &crate::store::utc_text(now),
        )
        .map_err(|e| match e {
            crate::store::compost::CompostError::AboveBalance { .. } => {
                SellError::Cart(CartError::CreditsAboveBalance)
            }
            other => SellError::Store(other.to_string()),
        })?;
    }
    // The parked copy of this cart goes with the sale, in the same transaction.
    crate::store::parked::remove(&tx, me)?;
    tx.commit()?;
    let done = Done {
        seq: entry.seq,
        total: sale.settlement.total,
        change: sale.settlement.change_due,
        cash: sale.settlement.paid_with(PaymentMethod::Cash) > 0,
    };
    // Only now, with the sale safely stored, does the cart start again.
    *kiosk.sell.cart_of(me) = SellerCart::new(me);
    kiosk.sell.last_done = Some(done.clone());
    Ok(done)
}

/// Gives up the cart before payment; recorded in the journal, never silently erased.
pub fn abandon(kiosk: &mut Kiosk) -> Result<(), SellError> {
    let me = seller(kiosk)?;
    let mut cart = kiosk.sell.cart_of(me).cart.clone();
    if cart.lines().is_empty() {
        return Ok(());
    }
    let lines: Vec<(String, i64)> = cart
        .lines()
        .iter()
        .map(|l| (l.label.clone(), l.amount))
        .collect();
    cart.abandon(me)?;
    let now = kiosk.clock.now();
    let tx = kiosk.store.write()?;
    crate::store::sales::record_abandoned_cart(&tx, &lines, me, now)
        .map_err(|e| SellError::Store(e.to_string()))?;
    crate::store::parked::remove(&tx, me)?;
    tx.commit()?;
    *kiosk.sell.cart_of(me) = SellerCart::new(me);
    Ok(())
}

/// A refund just recorded, for the confirmation screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refunded {
    /// The refund's own ticket number (journal seq).
    pub seq: i64,
    pub refund_of: i64,
    /// What goes back to the customer (positive), and how much of it in cash.
    pub amount: i64,
    pub cash: i64,
}

/// Cancels a recorded sale: a new `refund` entry with negative amounts referencing it, never
/// an edit. The money goes back the way it came (cash first up to the cash the sale kept).
/// Lines already refunded are refused.
pub fn refund_sale(kiosk: &mut Kiosk, seq: i64) -> Result<Refunded, SellError> {
    refund_lines(kiosk, seq, &[])
}

/// Refunds some lines of a recorded sale (`lines` empty: every line not refunded yet), as
/// [`refund_sale`] does.
pub fn refund_lines(kiosk: &mut Kiosk, seq: i64, lines: &[u32]) -> Result<Refunded, SellError> {
    refund_lines_approved(kiosk, seq, lines, None)
}

/// [`refund_lines`], approved by staff member `approved_by` (checked by the caller: see
/// `tickets::refund_lines_approved`), who is kept in the refund's entry.
pub fn refund_lines_approved(
    kiosk: &mut Kiosk,
    seq: i64,
    lines: &[u32],
    approved_by: Option<i64>,
) -> Result<Refunded, SellError> {
    let me = seller(kiosk)?;
    let (ctx, now) = ticket_context(kiosk, me)?;
    let tx = kiosk.store.write()?;
    let entry =
        crate::store::sales::record_refund_approved(&tx, seq, lines, &ctx, approved_by, now)
            .map_err(|e| match e {
                crate::store::sales::SalesError::AlreadyRefunded { .. }
                | crate::store::sales::SalesError::NothingToRefund(_) => SellError::AlreadyRefunded,
                other => SellError::Store(other.to_string()),
            })?;
    // Credits paid go back to the resident's balance.
    if let Some((resident, _)) = crate::store::compost::credits_spent_on_sale(&tx, seq)? {
        let back = crate::store::sales::sale(&tx, entry.seq)
            .map_err(|e| SellError::Store(e.to_string()))?
            .map(|s| -s.paid_with(PaymentMethod::Credits))
            .unwrap_or(0);
        if back > 0 {
            crate::store::compost::append_credit(
                &tx,
                resident,
                crate::domain::credits::CreditMove::Refunded(back),
                None,
                Some(entry.seq),
                &crate::store::utc_text(now),
            )
            .map_err(|e| SellError::Store(e.to_string()))?;
        }
    }
    tx.commit()?;
    let stored = crate::store::sales::sale(kiosk.store.conn(), entry.seq)
        .map_err(|e| SellError::Store(e.to_string()))?
        .ok_or_else(|| SellError::Store("refund not found after commit".into()))?;
    let cash = -stored.paid_with(PaymentMethod::Cash);
    let refunded = Refunded {
        seq: entry.seq,
        refund_of: seq,
        amount: -stored.total_cents,
        cash,
    };
    kiosk.sell.last_refund = Some(refunded.clone());
    Ok(refunded)
}

/// A discount on the whole cart (end of market), from the payment keypad: the typed number is a
/// percentage (`percent`) or an amount in cents; recorded with who gave it. Only before the
/// first payment. Typing nothing removes the discount.
pub fn cart_discount(kiosk: &mut Kiosk, percent: bool) -> Result<(), SellError> {
    use crate::domain::cart::Discount;
    let me = seller(kiosk)?;
    let c = kiosk.sell.cart_of(me);
    if c.pay_digits.is_empty() {
        if c.cart.lines().is_empty() {
            return Err(SellError::Cart(CartError::EmptyCart));
        }
        return match c.cart.remove_cart_discount(me) {
            Ok(()) | Err(CartError::NoDiscount) => Ok(()),
            Err(e) => Err(e.into()),
        };
    }
    let kind = typed_discount(&c.pay_digits, percent)?;
    c.cart.set_cart_discount(Discount { kind, given_by: me })?;
    c.pay_digits.clear();
    Ok(())
}

/// Before a sale: the day, month and year closures of ended periods are written first (after
/// the kiosk was off for days too), signed with the key beside the database. A missing or
/// foreign key while closures exist blocks selling until an admin confirms a key rotation.
/// A database without a file (screenshots, tests) has no key: closures wait.
fn close_ended_periods(kiosk: &mut Kiosk) -> Result<(), SellError> {
    match super::closures::close_due_periods(kiosk, None) {
        Ok(_) => Ok(()),
        Err(e) if e.code() == "no_key_path" => Ok(()),
        Err(e) if e.code() == "clock_behind" => Err(SellError::ClockBehind),
        Err(e) if e.blocks_selling() => Err(SellError::Closure(e.code())),
        Err(e) => Err(SellError::Store(e.to_string())),
    }
}
