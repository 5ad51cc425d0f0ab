//! The stock screen: products, lots, losses, donations, counts and corrections.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockSort {
    /// Catalogue order (category, then position).
    Category,
    /// Fewest days left first (unknown rate last).
    DaysLeft,
    /// Lowest on-hand (in kg) first.
    OnHand,
}

/// One product on the stock screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockRow {
    pub product_id: i64,
    pub name: String,
    pub icon: String,
    pub category: String,
    pub unit: StockUnit,
    pub on_hand: i64,
    pub on_hand_text: String,
    pub harvested_week: i64,
    pub harvested_week_text: String,
    pub sold_week: i64,
    pub sold_week_text: String,
    pub days_left: Option<i64>,
    pub threshold: Option<i64>,
    pub threshold_text: String,
    pub low: bool,
    pub negative: bool,
    /// On-hand at the current price (0 when negative).
    pub value_cents: i64,
}

/// The stock at a glance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockView {
    pub rows: Vec<StockRow>,
    pub categories: Vec<String>,
    pub low_count: usize,
    pub value_cents: i64,
}

/// Stock value of a quantity at the product's current price.
pub fn value_of(p: &Product, qty: i64) -> i64 {
    if qty <= 0 {
        return 0;
    }
    match p.pricing {
        Pricing::PerKg => {
            crate::domain::money::mul_div_round(qty, p.price_cents, 1000).unwrap_or(0)
        }
        Pricing::PerPiece | Pricing::PerBunch => qty.saturating_mul(p.price_cents),
    }
}

/// The panel of one product on the stock screen: what is on hand and its open lots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockPanel {
    pub product_id: i64,
    pub name: String,
    pub icon: String,
    pub unit: StockUnit,
    pub on_hand_text: String,
    /// Each open lot: its number, where it came from, what remains (formatted).
    pub lots: Vec<(String, String, String)>,
}

/// The stock panel of `product_id`; `None` for a product that no longer exists.
pub fn stock_panel(kiosk: &Kiosk, product_id: i64) -> rusqlite::Result<Option<StockPanel>> {
    let conn = kiosk.store.conn();
    let Some(p) = catalog::product(conn, product_id)? else {
        return Ok(None);
    };
    let lang = kiosk.lang();
    let unit = gstore::unit_of(p.pricing);
    let on_hand = gstore::on_hand(conn, p.id)?;
    let lots = gstore::open_lots(conn, p.id)?
        .into_iter()
        .map(|(number, origin, remaining)| {
            (
                number.unwrap_or_default(),
                origin,
                format_qty(remaining, unit, lang),
            )
        })
        .collect();
    Ok(Some(StockPanel {
        product_id: p.id,
        name: p.name,
        icon: p.icon,
        unit,
        on_hand_text: format_qty(on_hand, unit, lang),
        lots,
    }))
}

/// The stock of every active product now (filtered by `category`, "" for all, and sorted).
pub fn stock_view(
    kiosk: &Kiosk,
    category: &str,
    sort: StockSort,
) -> Result<StockView, GardenFlowError> {
    let conn = kiosk.store.conn();
    let tz = kiosk.config.tz();
    let lang = kiosk.lang();
    let now = kiosk.clock.now();
    let today = now.with_timezone(&tz).date_naive();
    let week_start = local_midnight_utc(iso_monday(today), tz);
    let rate_start = local_midnight_utc(today - Duration::days(RATE_DAYS), tz);
    let end = utc_text(now + Duration::seconds(1));
    let products = catalog::active_products(conn)?;
    let on_hand = gstore::all_on_hand(conn)?;
    let thresholds = gstore::thresholds(conn)?;
    let harvested = gstore::harvested(conn, &week_start, &end)?;
    let week = gstore::move_sums(conn, &week_start, &end)?;
    let rate = gstore::move_sums(conn, &rate_start, &end)?;
    let mut rows: Vec<StockRow> = products
        .iter()
        .filter(|p| category.is_empty() || p.category == category)
        .map(|p| {
            let unit = gstore::unit_of(p.pricing);
            let oh = on_hand.get(&p.id).copied().unwrap_or(0);
            let h = harvested.get(&p.id).copied().unwrap_or(0);
            let sold = week.get(&p.id).map_or(0, |s| s.sold());
            let rate_sold = rate.get(&p.id).map_or(0, |s| s.sold());
            let threshold = thresholds.get(&p.id).copied();
            StockRow {
                product_id: p.id,
                name: p.name.clone(),
                icon: p.icon.clone(),
                category: p.category.clone(),
                unit,
                on_hand: oh,
                on_hand_text: format_qty(oh, unit, lang),
                harvested_week: h,
                harvested_week_text: format_qty(h, unit, lang),
                sold_week: sold,
                sold_week_text: format_qty(sold, unit, lang),
                days_left: days_left(oh, rate_sold, RATE_DAYS),
                threshold,
                threshold_text: threshold.map_or(String::new(), |t| format_qty(t, unit, lang)),
                low: is_low(oh, threshold),
                negative: oh < 0,
                value_cents: value_of(p, oh),
            }
        })
        .collect();
    let avg: HashMap<i64, Option<i64>> = products.iter().map(|p| (p.id, p.avg_weight_g)).collect();
    match sort {
        StockSort::Category => {}
        StockSort::DaysLeft => {
            rows.sort_by_key(|r| (r.days_left.unwrap_or(i64::MAX), r.product_id))
        }
        StockSort::OnHand => rows.sort_by_key(|r| {
            (
                to_grams(r.on_hand, r.unit, avg.get(&r.product_id).copied().flatten())
                    .unwrap_or(r.on_hand),
                r.product_id,
            )
        }),
    }
    Ok(StockView {
        low_count: rows.iter().filter(|r| r.low || r.negative).count(),
        value_cents: rows.iter().map(|r| r.value_cents).sum(),
        categories: crate::app::catalog::categories(&products),
        rows,
    })
}

/// A product chosen on the stock screen.
pub fn stock_choose(kiosk: &mut Kiosk, product_id: i64) -> Result<(), GardenFlowError> {
    kiosk.session.require(Action::Stock)?;
    catalog::product(kiosk.store.conn(), product_id)?
        .filter(|p| p.active)
        .ok_or(GardenFlowError::UnknownProduct)?;
    kiosk.garden.stock_product = Some(product_id);
    kiosk.garden.stock_op = None;
    kiosk.garden.stock_digits.clear();
    kiosk.garden.stock_done = None;
    Ok(())
}

/// What to do with it: a loss (with its reason), a count, its threshold, a donation, a
/// correction (its reason first).
pub fn stock_op(kiosk: &mut Kiosk, op: Option<StockOp>) -> Result<(), GardenFlowError> {
    kiosk.session.require(Action::Stock)?;
    kiosk.garden.stock_op = op;
    kiosk.garden.stock_digits.clear();
    kiosk.garden.stock_negative = false;
    kiosk.garden.stock_done = None;
    Ok(())
}

/// Turns the correction being typed from adding to taking off and back.
pub fn stock_sign(kiosk: &mut Kiosk) -> Result<(), GardenFlowError> {
    kiosk.session.require(Action::Stock)?;
    if !matches!(kiosk.garden.stock_op, Some(StockOp::Correction(Some(_)))) {
        return Err(GardenFlowError::NoReason);
    }
    kiosk.garden.stock_negative = !kiosk.garden.stock_negative;
    Ok(())
}

/// Digits typed on the stock keypad: grams for weighed products, pieces for the others.
pub fn stock_digit(kiosk: &mut Kiosk, c: char) -> Result<(), GardenFlowError> {
    kiosk.session.require(Action::Stock)?;
    let d = &mut kiosk.garden.stock_digits;
    if c.is_ascii_digit() && d.len() < 7 && d.as_str() != "0" {
        d.push(c);
    }
    Ok(())
}

pub fn stock_erase(kiosk: &mut Kiosk) -> Result<(), GardenFlowError> {
    kiosk.session.require(Action::Stock)?;
    kiosk.garden.stock_digits.pop();
    Ok(())
}

/// Fills the stock keypad with the scale's stable weight (gross, no tare: weigh the goods
/// without their crate, or take the crate off with the scale's own tare).
pub fn stock_from_scale(kiosk: &mut Kiosk) -> Result<(), GardenFlowError> {
    kiosk.session.require(Action::Stock)?;
    let id = kiosk
        .garden
        .stock_product
        .ok_or(GardenFlowError::NothingChosen)?;
    let p = catalog::product(kiosk.store.conn(), id)?.ok_or(GardenFlowError::UnknownProduct)?;
    if p.pricing != Pricing::PerKg {
        return Err(GardenFlowError::NotWeighed);
    }
    match kiosk.devices.scale {
        ScaleView::Weight {
            grams,
            stable: true,
            ..
        } if grams >= 0 && grams <= kiosk.garden.guard.config().capacity_g => {
            kiosk.garden.stock_digits = grams.to_string();
            Ok(())
        }
        ScaleView::Weight { stable: false, .. } => {
            Err(GardenFlowError::Weigh(WeighRefusal::Unstable))
        }
        ScaleView::Weight { grams, .. } if grams < 0 => {
            Err(GardenFlowError::Weigh(WeighRefusal::Negative))
        }
        ScaleView::Weight { .. } => Err(GardenFlowError::Weigh(WeighRefusal::OverCapacity)),
        other => Err(GardenFlowError::Weigh(WeighRefusal::ScaleError(
            scale_state(other)
                .err()
                .unwrap_or(crate::domain::metrology::ScaleFault::Disconnected),
        ))),
    }
}

/// Is a cart holding this product right now (a sale in progress)? Its goods are off the shelf
/// but not sold yet: a count now would count them out twice.
pub fn in_a_cart(kiosk: &Kiosk, product_id: i64) -> bool {
    kiosk.sell.parked().into_iter().any(|seller| {
        kiosk.sell.peek(seller).is_some_and(|c| {
            c.cart.lines().iter().any(|l| l.product_id == product_id)
                || c.chosen
                    .as_ref()
                    .is_some_and(|ch| ch.product.id == product_id)
        })
    })
}

/// Records what the stock panel holds: a loss, a count or a threshold. Returns the change of
/// on-hand.
pub fn stock_confirm(kiosk: &mut Kiosk) -> Result<i64, GardenFlowError> {
    let me = kiosk.session.require(Action::Stock)?.id;
    let id = kiosk
        .garden
        .stock_product
        .ok_or(GardenFlowError::NothingChosen)?;
    let op = kiosk
        .garden
        .stock_op
        .ok_or(GardenFlowError::NothingChosen)?;
    catalog::product(kiosk.store.conn(), id)?
        .filter(|p| p.active)
        .ok_or(GardenFlowError::UnknownProduct)?;
    if op == StockOp::Correction(None) {
        return Err(GardenFlowError::NoReason);
    }
    let qty: i64 = kiosk
        .garden
        .stock_digits
        .parse()
        .map_err(|_| GardenFlowError::BadQuantity)?;
    let now = kiosk.clock.now();
    let source = MoveSource {
        by_staff: Some(me),
        ..MoveSource::default()
    };
    let delta = match op {
        StockOp::Threshold => {
            let tx = kiosk.store.write()?;
            gstore::set_threshold(&tx, id, Some(qty), me, now)?;
            tx.commit()?;
            0
        }
        StockOp::Loss(reason) => {
            if qty <= 0 {
                return Err(GardenError::Stock(StockError::NonPositiveQuantity).into());
            }
            let tx = kiosk.store.write()?;
            let r = gstore::record_move(
                &tx,
                id,
                &StockMove::Loss { qty, reason },
                None,
                &source,
                now,
            )?;
            tx.commit()?;
            r.delta
        }
        StockOp::Count => {
            if in_a_cart(kiosk, id) {
                return Err(GardenFlowError::SaleInProgress);
            }
            let tx = kiosk.store.write()?;
            let r = gstore::record_move(
                &tx,
                id,
                &StockMove::Count {
                    counted: qty,
                    lot: None,
                },
                None,
                &source,
                now,
            )?;
            tx.commit()?;
            r.delta
        }
        StockOp::Donation => donate(kiosk, id, qty)?,
        StockOp::Correction(reason) => {
            let reason = reason.ok_or(GardenFlowError::NoReason)?;
            let delta = if kiosk.garden.stock_negative {
                -qty
            } else {
                qty
            };
            correct(kiosk, id, delta, reason)?
        }
    };
    kiosk.garden.stock_done = Some((id, delta));
    kiosk.garden.stock_op = None;
    kiosk.garden.stock_digits.clear();
    kiosk.garden.stock_negative = false;
    Ok(delta)
}

/// An active product, or `unknown_product` (retired or unknown products take no stock moves).
pub(super) fn active_product(kiosk: &Kiosk, product_id: i64) -> Result<Product, GardenFlowError> {
    catalog::product(kiosk.store.conn(), product_id)?
        .filter(|p| p.active)
        .ok_or(GardenFlowError::UnknownProduct)
}

/// Records a donation from the shelf of `qty` (grams or pieces, more than zero): the goods go
/// out of the oldest lots, like a sale. Returns the change of on-hand.
pub fn donate(kiosk: &mut Kiosk, product_id: i64, qty: i64) -> Result<i64, GardenFlowError> {
    let me = kiosk.session.require(Action::Stock)?.id;
    active_product(kiosk, product_id)?;
    if qty <= 0 {
        return Err(GardenError::Stock(StockError::NonPositiveQuantity).into());
    }
    let now = kiosk.clock.now();
    let tx = kiosk.store.write()?;
    let r = gstore::record_move(
        &tx,
        product_id,
        &StockMove::Donation { qty },
        None,
        &MoveSource {
            by_staff: Some(me),
            ..MoveSource::default()
        },
        now,
    )?;
    tx.commit()?;
    Ok(r.delta)
}

/// Records a signed correction (`delta`, not zero) with its reason. A correction that takes
/// off while a cart holds the product is allowed (unlike a count, it does not depend on what
/// is on the shelf now). Returns the change of on-hand.
pub fn correct(
    kiosk: &mut Kiosk,
    product_id: i64,
    delta: i64,
    reason: CorrectionReason,
) -> Result<i64, GardenFlowError> {
    let me = kiosk.session.require(Action::Stock)?.id;
    active_product(kiosk, product_id)?;
    if delta == 0 {
        return Err(GardenError::Stock(StockError::ZeroCorrection).into());
    }
    let now = kiosk.clock.now();
    let tx = kiosk.store.write()?;
    let r = gstore::record_correction(
        &tx,
        product_id,
        delta,
        reason,
        &MoveSource {
            by_staff: Some(me),
            ..MoveSource::default()
        },
        now,
    )?;
    tx.commit()?;
    Ok(r.delta)
}

/// A count of `counted` (a negative count is refused: `negative_count`), for tests and tools
/// that do not go through the keypad.
pub fn count(kiosk: &mut Kiosk, product_id: i64, counted: i64) -> Result<i64, GardenFlowError> {
    let me = kiosk.session.require(Action::Stock)?.id;
    if counted < 0 {
        return Err(GardenError::Stock(StockError::NegativeCount).into());
    }
    if in_a_cart(kiosk, product_id) {
        return Err(GardenFlowError::SaleInProgress);
    }
    let now = kiosk.clock.now();
    let tx = kiosk.store.write()?;
    let r = gstore::record_move(
        &tx,
        product_id,
        &StockMove::Count { counted, lot: None },
        None,
        &MoveSource {
            by_staff: Some(me),
            ..MoveSource::default()
        },
        now,
    )?;
    tx.commit()?;
    Ok(r.delta)
}
