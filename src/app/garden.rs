//! The garden lead's tools: logging a harvest by touch (product, scale or count, plot,
//! harvester, destinations, confirm), the stock at a glance with losses, counts and low-stock
//! thresholds, the reports with their charts, and the week's sales.
//!
//! Every write checks the role first (`Action::Harvest` or `Action::Stock`) and goes through
//! one `Store::write()` transaction in `store::garden`. A refusal leaves everything recorded as
//! it was. Texts for people are formatted here (weights, money); everything else reaches the UI
//! as codes.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::devices::ScaleView;
use super::roles::Action;
use super::sell::scale_state;
use super::session::Denied;
use super::Kiosk;
use crate::domain::metrology::{MetrologyConfig, WeighGuard, WeighRefusal};
use crate::domain::money::format_money;
use crate::domain::stock::{
    days_left, is_low, to_grams, CorrectionReason, HarvestSplit, LossReason, StockError, StockMove,
    StockUnit,
};
use crate::domain::weight::format_kg;
use crate::domain::Lang;
use crate::store::catalog::{self, Pricing, Product};
use crate::store::garden::{self as gstore, GardenError, MoveSource, NewHarvest};
use crate::store::local_midnight_utc;
use crate::store::utc_text;

/// The most pieces one harvest can count.
pub const MAX_PIECES: i64 = 9_999;

/// Days of sales the selling rate ("days left") is measured over.
pub const RATE_DAYS: i64 = 28;

#[derive(Debug, thiserror::Error)]
pub enum GardenFlowError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("nothing chosen")]
    NothingChosen,
    #[error("unknown or retired product")]
    UnknownProduct,
    #[error("weighing refused: {0:?}")]
    Weigh(WeighRefusal),
    #[error("quantity must be 1 to {MAX_PIECES}")]
    BadQuantity,
    #[error("a sale of this product is in progress")]
    SaleInProgress,
    #[error("this product is counted in pieces")]
    NotWeighed,
    #[error("choose why the stock is corrected")]
    NoReason,
    #[error(transparent)]
    Garden(#[from] GardenError),
}

impl From<rusqlite::Error> for GardenFlowError {
    fn from(e: rusqlite::Error) -> Self {
        GardenFlowError::Garden(GardenError::Sqlite(e))
    }
}

impl GardenFlowError {
    /// A stable token for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            GardenFlowError::Denied(_) => "not_allowed",
            GardenFlowError::NothingChosen => "nothing_chosen",
            GardenFlowError::UnknownProduct => "unknown_product",
            GardenFlowError::Weigh(r) => r.code(),
            GardenFlowError::BadQuantity => "bad_quantity",
            GardenFlowError::SaleInProgress => "sale_in_progress",
            GardenFlowError::NotWeighed => "not_weighed",
            GardenFlowError::NoReason => "no_reason",
            GardenFlowError::Garden(GardenError::UnknownProduct) => "unknown_product",
            GardenFlowError::Garden(e) => e.code(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Harvest

/// Where the harvest entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HarvestStep {
    Product,
    Quantity,
    Plot,
    Harvester,
    Split,
}

/// The parts of a harvest that do not go on sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Donation,
    OwnUse,
    Compost,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Donation, Part::OwnUse, Part::Compost];

    fn index(self) -> usize {
        match self {
            Part::Donation => 0,
            Part::OwnUse => 1,
            Part::Compost => 2,
        }
    }
}

/// A harvest being entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestDraft {
    pub product: Product,
    pub step: HarvestStep,
    pub tare_g: i64,
    /// Pieces typed on the keypad.
    pub digits: String,
    /// The quantity taken (net grams or pieces).
    pub qty: Option<i64>,
    pub plot: Option<i64>,
    pub harvester: Option<i64>,
    /// Steps of each part that does not go on sale: tenths of the harvest for weighed
    /// products, pieces for the others.
    pub parts: [i64; 3],
}

impl HarvestDraft {
    pub fn unit(&self) -> StockUnit {
        gstore::unit_of(self.product.pricing)
    }

    /// Where the quantity goes; the rest is for sale.
    pub fn split(&self) -> HarvestSplit {
        let total = self.qty.unwrap_or(0);
        let part = |i: usize| match self.unit() {
            StockUnit::Grams => total * self.parts[i] / 10,
            StockUnit::Pieces => self.parts[i],
        };
        let (donation, own_use, compost) = (part(0), part(1), part(2));
        HarvestSplit {
            for_sale: total - donation - own_use - compost,
            donation,
            own_use,
            compost,
        }
    }
}

/// The harvest just logged, for the confirmation banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedHarvest {
    pub lot: String,
    pub product: String,
    pub qty: i64,
    pub unit: StockUnit,
}

/// What the stock panel is doing with the chosen product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockOp {
    Loss(LossReason),
    Count,
    Threshold,
    /// Goods given away from the shelf (a food bank, a neighbour).
    Donation,
    /// A signed correction; `None` while its reason is being chosen.
    Correction(Option<CorrectionReason>),
}

/// The garden's state behind its screens.
#[derive(Debug)]
pub struct Garden {
    /// The harvest's own weighing guard: not legal for trade (a software tare is allowed), the
    /// same scale limits, and the same return to zero between two loads.
    pub guard: WeighGuard,
    pub draft: Option<HarvestDraft>,
    pub logged: Option<LoggedHarvest>,
    /// The stock screen's chosen product, operation and typed digits.
    pub stock_product: Option<i64>,
    pub stock_op: Option<StockOp>,
    pub stock_digits: String,
    /// The sign of a correction being typed (`true`: take off).
    pub stock_negative: bool,
    /// The stock screen's filter ("" for all) and sort.
    pub category: String,
    pub sort: StockSort,
    /// The reports' choices.
    pub period: Period,
    pub metric: Metric,
    pub report_product: Option<i64>,
    /// The last recorded stock change, for the confirmation line.
    pub stock_done: Option<(i64, i64)>,
}

impl Garden {
    pub fn new(scale: MetrologyConfig) -> Garden {
        Garden {
            guard: WeighGuard::new(MetrologyConfig {
                legal_for_trade: false,
                ..scale
            }),
            draft: None,
            logged: None,
            stock_product: None,
            stock_op: None,
            stock_digits: String::new(),
            stock_negative: false,
            category: String::new(),
            sort: StockSort::Category,
            period: Period::Week,
            metric: Metric::HarvestedKg,
            report_product: None,
            stock_done: None,
        }
    }

    /// The tare the guard uses now: the chosen crate while a harvest is weighed.
    pub fn tare(&self) -> i64 {
        self.draft.as_ref().map_or(0, |d| d.tare_g)
    }

    /// Every scale reading goes through here, like the selling guard's.
    pub fn observe(&mut self, view: ScaleView) {
        let tare = self.tare();
        self.guard.observe(&scale_state(view), tare);
    }
}

impl Default for Garden {
    fn default() -> Self {
        Garden::new(MetrologyConfig::default())
    }
}

fn draft(kiosk: &mut Kiosk) -> Result<&mut HarvestDraft, GardenFlowError> {
    kiosk.session.require(Action::Harvest)?;
    kiosk
        .garden
        .draft
        .as_mut()
        .ok_or(GardenFlowError::NothingChosen)
}

/// A product tapped to start a harvest.
pub fn harvest_choose(kiosk: &mut Kiosk, product_id: i64) -> Result<(), GardenFlowError> {
    kiosk.session.require(Action::Harvest)?;
    let product = catalog::product(kiosk.store.conn(), product_id)?
        .filter(|p| p.active)
        .ok_or(GardenFlowError::UnknownProduct)?;
    kiosk.garden.logged = None;
    // The first crate of the presets (by default none).
    let tare_g = tare_presets(kiosk).first().copied().unwrap_or(0);
    kiosk.garden.draft = Some(HarvestDraft {
        product,
        step: HarvestStep::Quantity,
        tare_g,
        digits: String::new(),
        qty: None,
        plot: None,
        harvester: None,
        parts: [0; 3],
    });
    Ok(())
}

/// The crate tares the lead picks from when weighing a harvest (grams), from the config's
/// `[garden] crate_tares_g` (by default none, a wooden crate, a plastic crate, a big plastic
/// crate). The harvest is not a sale: the tare is taken off in software.
pub fn tare_presets(kiosk: &Kiosk) -> &[i64] {
    &kiosk.config.garden.crate_tares_g
}

/// Picks a crate tare from [`tare_presets`].
pub fn harvest_tare(kiosk: &mut Kiosk, index: usize) -> Result<(), GardenFlowError> {
    let tare = *tare_presets(kiosk)
        .get(index)
        .ok_or(GardenFlowError::BadQuantity)?;
    draft(kiosk)?.tare_g = tare;
    Ok(())
}

/// Can the load on the scale be taken now? Its net grams if so.
pub fn harvest_weigh_check(kiosk: &Kiosk) -> Result<i64, GardenFlowError> {
    let tare = kiosk.garden.tare();
    kiosk
        .garden
        .guard
        .check(&scale_state(kiosk.devices.scale), tare)
        .map_err(GardenFlowError::Weigh)
}

/// Takes the scale's stable net weight (gross minus the crate) as the harvest's quantity.
pub fn harvest_take_weight(kiosk: &mut Kiosk) -> Result<i64, GardenFlowError> {
    let d = draft(kiosk)?;
    if d.unit() != StockUnit::Grams {
        return Err(GardenFlowError::NotWeighed);
    }
    let tare = d.tare_g;
    let state = scale_state(kiosk.devices.scale);
    let net = kiosk
        .garden
        .guard
        .add(&state, tare)
        .map_err(GardenFlowError::Weigh)?;
    let d = draft(kiosk)?;
    d.qty = Some(net.grams);
    d.parts = [0; 3];
    d.step = HarvestStep::Plot;
    Ok(net.grams)
}

pub fn harvest_digit(kiosk: &mut Kiosk, c: char) -> Result<(), GardenFlowError> {
    let d = draft(kiosk)?;
    if c.is_ascii_digit() && d.digits.len() < 4 && !(d.digits.is_empty() && c == '0') {
        d.digits.push(c);
    }
    Ok(())
}

pub fn harvest_erase(kiosk: &mut Kiosk) -> Result<(), GardenFlowError> {
    draft(kiosk)?.digits.pop();
    Ok(())
}

/// Takes the counted pieces as the harvest's quantity.
pub fn harvest_take_count(kiosk: &mut Kiosk) -> Result<i64, GardenFlowError> {
    let d = draft(kiosk)?;
    if d.unit() != StockUnit::Pieces {
        return Err(GardenFlowError::BadQuantity);
    }
    let n: i64 = d.digits.parse().map_err(|_| GardenFlowError::BadQuantity)?;
    if !(1..=MAX_PIECES).contains(&n) {
        return Err(GardenFlowError::BadQuantity);
    }
    d.qty = Some(n);
    d.parts = [0; 3];
    d.step = HarvestStep::Plot;
    Ok(n)
}

/// The plot it came from (`None`: not from a plot, e.g. the hens' eggs).
pub fn harvest_plot(kiosk: &mut Kiosk, plot: Option<i64>) -> Result<(), GardenFlowError> {
    let d = draft(kiosk)?;
    if d.qty.is_none() {
        return Err(GardenFlowError::BadQuantity);
    }
    d.plot = plot;
    d.step = HarvestStep::Harvester;
    Ok(())
}

/// Who picked it (optional).
pub fn harvest_harvester(kiosk: &mut Kiosk, who: Option<i64>) -> Result<(), GardenFlowError> {
    let d = draft(kiosk)?;
    if d.qty.is_none() {
        return Err(GardenFlowError::BadQuantity);
    }
    d.harvester = who;
    d.step = HarvestStep::Split;
    Ok(())
}

/// One step more (`up`) or less of a part that does not go on sale; never more than the
/// harvest.
pub fn harvest_part(kiosk: &mut Kiosk, part: Part, up: bool) -> Result<(), GardenFlowError> {
    let d = draft(kiosk)?;
    let total = d.qty.ok_or(GardenFlowError::BadQuantity)?;
    let i = part.index();
    if up {
        let limit = match d.unit() {
            StockUnit::Grams => 10,
            StockUnit::Pieces => total,
        };
        if d.parts.iter().sum::<i64>() < limit {
            d.parts[i] += 1;
        }
    } else if d.parts[i] > 0 {
        d.parts[i] -= 1;
    }
    Ok(())
}

/// One step back in the entry.
pub fn harvest_back(kiosk: &mut Kiosk) -> Result<(), GardenFlowError> {
    kiosk.session.require(Action::Harvest)?;
    let Some(d) = kiosk.garden.draft.as_mut() else {
        return Ok(());
    };
    d.step = match d.step {
        HarvestStep::Product | HarvestStep::Quantity => {
            kiosk.garden.draft = None;
            return Ok(());
        }
        HarvestStep::Plot => {
            d.qty = None;
            HarvestStep::Quantity
        }
        HarvestStep::Harvester => HarvestStep::Plot,
        HarvestStep::Split => HarvestStep::Harvester,
    };
    Ok(())
}

/// Records the harvest: its row, its lot, the part for sale into stock, in one transaction.
/// The draft is gone afterwards, so a second tap records nothing.
pub fn harvest_confirm(kiosk: &mut Kiosk) -> Result<LoggedHarvest, GardenFlowError> {
    let me = kiosk.session.require(Action::Harvest)?.id;
    let d = kiosk
        .garden
        .draft
        .clone()
        .filter(|d| d.step == HarvestStep::Split)
        .ok_or(GardenFlowError::NothingChosen)?;
    let qty = d.qty.ok_or(GardenFlowError::BadQuantity)?;
    let now = kiosk.clock.now();
    let date = now.with_timezone(&kiosk.config.tz()).date_naive();
    let h = NewHarvest {
        product_id: d.product.id,
        plot_id: d.plot,
        harvester_id: d.harvester,
        recorded_by: me,
        qty,
        tare_g: d.tare_g,
        split: d.split(),
    };
    let tx = kiosk.store.write()?;
    let rec = gstore::record_harvest(&tx, &h, date, now)?;
    tx.commit()?;
    let logged = LoggedHarvest {
        lot: rec.lot.to_string(),
        product: d.product.name.clone(),
        qty,
        unit: d.unit(),
    };
    kiosk.garden.draft = None;
    kiosk.garden.logged = Some(logged.clone());
    Ok(logged)
}

/// Gives up the harvest being entered.
pub fn harvest_cancel(kiosk: &mut Kiosk) {
    kiosk.garden.draft = None;
}

// ---------------------------------------------------------------------------------------------
// Quantities for people

/// A stock quantity for people: `1,234 kg` or `12` (pieces: the UI adds the word).
pub fn format_qty(qty: i64, unit: StockUnit, lang: Lang) -> String {
    match unit {
        StockUnit::Grams => format_kg(qty, lang),
        StockUnit::Pieces => qty.to_string(),
    }
}

/// The Monday of a date's ISO week.
pub fn iso_monday(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

// ---------------------------------------------------------------------------------------------
// Stock

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
fn active_product(kiosk: &Kiosk, product_id: i64) -> Result<Product, GardenFlowError> {
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

// ---------------------------------------------------------------------------------------------
// Reports

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// The last 12 ISO weeks.
    Week,
    /// The last 12 months.
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    HarvestedKg,
    SoldKg,
    SoldCents,
    LossKg,
}

/// How many bars a chart shows.
pub const BARS: usize = 12;

/// One bar: its period's first day, value (grams or cents) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub start: NaiveDate,
    pub value: i64,
    pub text: String,
}

/// Per-period sums of one product or of all: grams harvested, sold, lost, and cents sold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    pub harvested_g: i64,
    pub sold_g: i64,
    pub sold_cents: i64,
    pub loss_g: i64,
}

/// A product's share of a report's range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopProduct {
    pub product_id: i64,
    pub name: String,
    pub icon: String,
    pub sold_cents: i64,
    pub sold_cents_text: String,
    pub sold_g: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub bars: Vec<Bar>,
    /// The highest bar (for the chart's scale), at least 1.
    pub max: i64,
    pub totals: Sums,
    pub harvested_text: String,
    pub sold_text: String,
    pub sold_cents_text: String,
    pub loss_text: String,
    pub top: Vec<TopProduct>,
    pub stock_value_cents: i64,
    pub stock_value_text: String,
    /// Sold over harvested, in basis points (kg); `None` when nothing was harvested.
    pub ratio_bp: Option<i64>,
    pub ratio_text: String,
}

/// The first days of the last [`BARS`] periods, oldest first, ending with the one holding
/// `today`.
pub fn period_starts(period: Period, today: NaiveDate) -> Vec<NaiveDate> {
    let mut starts = Vec::with_capacity(BARS + 1);
    match period {
        Period::Week => {
            let monday = iso_monday(today);
            for i in (0..BARS as i64).rev() {
                starts.push(monday - Duration::weeks(i));
            }
        }
        Period::Month => {
            let (mut y, mut m) = (today.year(), today.month() as i32);
            for _ in 0..BARS {
                starts.push(NaiveDate::from_ymd_opt(y, m as u32, 1).expect("first of month"));
                m -= 1;
                if m == 0 {
                    m = 12;
                    y -= 1;
                }
            }
            starts.reverse();
        }
    }
    starts
}

/// The day after the last period.
fn period_end(period: Period, last: NaiveDate) -> NaiveDate {
    match period {
        Period::Week => last + Duration::weeks(1),
        Period::Month => last
            .checked_add_months(chrono::Months::new(1))
            .expect("a next month"),
    }
}

/// Sums per period and per product over the periods starting at `starts` (UTC boundaries of
/// local midnights): what the report and the exports' totals are made of.
pub fn sums_by_period(
    conn: &rusqlite::Connection,
    products: &[Product],
    starts: &[NaiveDate],
    end: NaiveDate,
    tz: chrono_tz::Tz,
) -> rusqlite::Result<Vec<HashMap<i64, Sums>>> {
    let bounds: Vec<String> = starts
        .iter()
        .copied()
        .chain(std::iter::once(end))
        .map(|d| local_midnight_utc(d, tz))
        .collect();
    let mut out: Vec<HashMap<i64, Sums>> = vec![HashMap::new(); starts.len()];
    let (first, last) = (&bounds[0], &bounds[bounds.len() - 1]);
    let bucket = |t: &str| -> Option<usize> {
        let i = bounds.partition_point(|b| b.as_str() <= t);
        (i >= 1 && i < bounds.len()).then(|| i - 1)
    };
    let grams = |id: i64, qty: i64| -> i64 {
        products
            .iter()
            .find(|p| p.id == id)
            .and_then(|p| to_grams(qty, gstore::unit_of(p.pricing), p.avg_weight_g))
            .unwrap_or(0)
    };
    // Harvests (every destination).
    let mut stmt = conn.prepare_cached(
        "SELECT time_utc, product_id, qty FROM harvests WHERE time_utc >= ?1 AND time_utc < ?2",
    )?;
    let mut rows = stmt.query([first, last])?;
    while let Some(r) = rows.next()? {
        let t: String = r.get(0)?;
        if let Some(b) = bucket(&t) {
            let id: i64 = r.get(1)?;
            out[b].entry(id).or_default().harvested_g += grams(id, r.get(2)?);
        }
    }
    // Losses.
    let mut stmt = conn.prepare_cached(
        "SELECT time_utc, product_id, qty FROM stock_moves
         WHERE kind = 'loss' AND time_utc >= ?1 AND time_utc < ?2",
    )?;
    let mut rows = stmt.query([first, last])?;
    while let Some(r) = rows.next()? {
        let t: String = r.get(0)?;
        if let Some(b) = bucket(&t) {
            let id: i64 = r.get(1)?;
            out[b].entry(id).or_default().loss_g += grams(id, r.get(2)?);
        }
    }
    // Sales and refunds (not training): the lines' net amounts and weights.
    let mut stmt = conn.prepare_cached(
        "SELECT s.time_utc, l.product_id, coalesce(l.grams, 0), l.net_cents
         FROM sales s JOIN sale_lines l ON l.kiosk_id = s.kiosk_id AND l.seq = s.seq
         WHERE s.training = 0 AND l.product_id IS NOT NULL
           AND s.time_utc >= ?1 AND s.time_utc < ?2",
    )?;
    let mut rows = stmt.query([first, last])?;
    while let Some(r) = rows.next()? {
        let t: String = r.get(0)?;
        if let Some(b) = bucket(&t) {
            let s = out[b].entry(r.get(1)?).or_default();
            s.sold_g += r.get::<_, i64>(2)?;
            s.sold_cents += r.get::<_, i64>(3)?;
        }
    }
    Ok(out)
}

/// A bar's short value: whole kilograms from 10 kg (`263 kg`), whole euros from 100 €.
pub fn bar_text(v: i64, metric: Metric, lang: Lang) -> String {
    let whole = |n: i64, d: i64| (n + d / 2 * n.signum()) / d;
    match metric {
        Metric::SoldCents if v.abs() >= 10_000 => match lang {
            Lang::Fr | Lang::Ar => format!("{}\u{a0}€", whole(v, 100)),
            _ => format!("€{}", whole(v, 100)),
        },
        Metric::SoldCents => format_money(v, lang),
        _ if v.abs() >= 10_000 => format!("{}\u{a0}kg", whole(v, 1000)),
        _ => crate::domain::weight::format_grams_short(v, lang),
    }
}

fn ratio_text(bp: Option<i64>, lang: Lang) -> String {
    match bp {
        None => "–".into(),
        Some(bp) => {
            let sep = lang.decimal_separator();
            format!("{}{}{}\u{a0}%", bp / 100, sep, (bp % 100) / 10)
        }
    }
}

/// The report for the kiosk's current choices.
pub fn report(kiosk: &Kiosk) -> Result<Report, GardenFlowError> {
    let g = &kiosk.garden;
    report_for(kiosk, g.period, g.metric, g.report_product)
}

pub fn report_for(
    kiosk: &Kiosk,
    period: Period,
    metric: Metric,
    product: Option<i64>,
) -> Result<Report, GardenFlowError> {
    let conn = kiosk.store.conn();
    let tz = kiosk.config.tz();
    let lang = kiosk.lang();
    let today = kiosk.clock.now().with_timezone(&tz).date_naive();
    let products = catalog::active_products(conn)?;
    let starts = period_starts(period, today);
    let end = period_end(period, *starts.last().expect("bars"));
    let sums = sums_by_period(conn, &products, &starts, end, tz)?;
    let pick = |m: &HashMap<i64, Sums>| -> Sums {
        m.iter()
            .filter(|(id, _)| product.is_none_or(|p| p == **id))
            .fold(Sums::default(), |a, (_, s)| Sums {
                harvested_g: a.harvested_g + s.harvested_g,
                sold_g: a.sold_g + s.sold_g,
                sold_cents: a.sold_cents + s.sold_cents,
                loss_g: a.loss_g + s.loss_g,
            })
    };
    let per: Vec<Sums> = sums.iter().map(pick).collect();
    let value = |s: &Sums| match metric {
        Metric::HarvestedKg => s.harvested_g,
        Metric::SoldKg => s.sold_g,
        Metric::SoldCents => s.sold_cents,
        Metric::LossKg => s.loss_g,
    };
    let text = |v: i64| bar_text(v, metric, lang);
    let bars: Vec<Bar> = starts
        .iter()
        .zip(&per)
        .map(|(start, s)| Bar {
            start: *start,
            value: value(s),
            text: text(value(s)),
        })
        .collect();
    let totals = per.iter().fold(Sums::default(), |a, s| Sums {
        harvested_g: a.harvested_g + s.harvested_g,
        sold_g: a.sold_g + s.sold_g,
        sold_cents: a.sold_cents + s.sold_cents,
        loss_g: a.loss_g + s.loss_g,
    });
    let mut by_product: HashMap<i64, Sums> = HashMap::new();
    for m in &sums {
        for (id, s) in m {
            let e = by_product.entry(*id).or_default();
            e.sold_cents += s.sold_cents;
            e.sold_g += s.sold_g;
        }
    }
    let mut top: Vec<TopProduct> = products
        .iter()
        .filter_map(|p| {
            let s = by_product.get(&p.id)?;
            Some(TopProduct {
                product_id: p.id,
                name: p.name.clone(),
                icon: p.icon.clone(),
                sold_cents: s.sold_cents,
                sold_cents_text: format_money(s.sold_cents, lang),
                sold_g: s.sold_g,
            })
        })
        .filter(|t| t.sold_cents > 0)
        .collect();
    top.sort_by_key(|t| (-t.sold_cents, t.product_id));
    top.truncate(5);
    let on_hand = gstore::all_on_hand(conn)?;
    let stock_value_cents: i64 = products
        .iter()
        .filter(|p| product.is_none_or(|id| id == p.id))
        .map(|p| value_of(p, on_hand.get(&p.id).copied().unwrap_or(0)))
        .sum();
    let ratio_bp = (totals.harvested_g > 0)
        .then(|| crate::domain::money::mul_div_round(totals.sold_g, 10_000, totals.harvested_g))
        .flatten();
    Ok(Report {
        max: bars.iter().map(|b| b.value).max().unwrap_or(0).max(1),
        bars,
        harvested_text: format_kg(totals.harvested_g, lang),
        sold_text: format_kg(totals.sold_g, lang),
        sold_cents_text: format_money(totals.sold_cents, lang),
        loss_text: format_kg(totals.loss_g, lang),
        totals,
        top,
        stock_value_text: format_money(stock_value_cents, lang),
        stock_value_cents,
        ratio_text: ratio_text(ratio_bp, lang),
        ratio_bp,
    })
}

// ---------------------------------------------------------------------------------------------
// Sales of the day and the week

/// One product's sales over a span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSales {
    pub product_id: Option<i64>,
    pub name: String,
    pub icon: String,
    pub unit: StockUnit,
    /// Grams (weighed) or pieces, net of refunds.
    pub qty: i64,
    pub qty_text: String,
    pub cents: i64,
    pub cents_text: String,
}

/// One payment method's takings over a span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodSales {
    pub method: String,
    pub cents: i64,
    pub cents_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesSpan {
    pub products: Vec<ProductSales>,
    pub methods: Vec<MethodSales>,
    pub tickets: i64,
    pub total_cents: i64,
    pub total_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesSummary {
    pub today: SalesSpan,
    pub week: SalesSpan,
}

/// Sales (not training) from `from_utc` to `to_utc` by product and by payment method.
pub fn sales_span(
    conn: &rusqlite::Connection,
    from_utc: &str,
    to_utc: &str,
    lang: Lang,
) -> rusqlite::Result<SalesSpan> {
    let products: HashMap<i64, Product> = catalog::active_products(conn)?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut stmt = conn.prepare_cached(
        "SELECT l.product_id, min(l.label), l.kind, sum(coalesce(l.grams, 0)),
                sum(coalesce(l.qty, 0)), sum(l.net_cents)
         FROM sales s JOIN sale_lines l ON l.kiosk_id = s.kiosk_id AND l.seq = s.seq
         WHERE s.training = 0 AND s.time_utc >= ?1 AND s.time_utc < ?2
         GROUP BY l.product_id, l.kind ORDER BY sum(l.net_cents) DESC",
    )?;
    let mut out = Vec::new();
    let mut rows = stmt.query([from_utc, to_utc])?;
    while let Some(r) = rows.next()? {
        let id: Option<i64> = r.get(0)?;
        let label: String = r.get(1)?;
        let kind: String = r.get(2)?;
        let (grams, pieces, cents): (i64, i64, i64) = (r.get(3)?, r.get(4)?, r.get(5)?);
        let unit = if kind == "weighed" {
            StockUnit::Grams
        } else {
            StockUnit::Pieces
        };
        let qty = if unit == StockUnit::Grams {
            grams
        } else {
            pieces
        };
        let p = id.and_then(|id| products.get(&id));
        out.push(ProductSales {
            product_id: id,
            name: p.map_or(label, |p| p.name.clone()),
            icon: p.map_or("harvest".into(), |p| p.icon.clone()),
            unit,
            qty,
            qty_text: if kind == "divers" {
                String::new()
            } else {
                format_qty(qty, unit, lang)
            },
            cents,
            cents_text: format_money(cents, lang),
        });
    }
    let mut stmt = conn.prepare_cached(
        "SELECT p.method, sum(p.amount_cents) FROM sales s
         JOIN sale_payments p ON p.kiosk_id = s.kiosk_id AND p.seq = s.seq
         WHERE s.training = 0 AND s.time_utc >= ?1 AND s.time_utc < ?2
         GROUP BY p.method",
    )?;
    let mut by_method: HashMap<String, i64> = HashMap::new();
    let mut rows = stmt.query([from_utc, to_utc])?;
    while let Some(r) = rows.next()? {
        by_method.insert(r.get(0)?, r.get(1)?);
    }
    // Change given back in cash is not takings.
    let (tickets, change, total): (i64, i64, i64) = conn.query_row(
        "SELECT count(*) FILTER (WHERE kind = 'sale'), coalesce(sum(change_cents), 0),
                coalesce(sum(total_cents), 0)
         FROM sales WHERE training = 0 AND time_utc >= ?1 AND time_utc < ?2",
        [from_utc, to_utc],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if let Some(cash) = by_method.get_mut("cash") {
        *cash -= change;
    }
    let methods = ["cash", "card", "cheque", "credits"]
        .into_iter()
        .filter_map(|m| {
            by_method.get(m).map(|c| MethodSales {
                method: m.into(),
                cents: *c,
                cents_text: format_money(*c, lang),
            })
        })
        .collect();
    Ok(SalesSpan {
        products: out,
        methods,
        tickets,
        total_cents: total,
        total_text: format_money(total, lang),
    })
}

/// Today's and this ISO week's sales.
pub fn sales_summary(kiosk: &Kiosk) -> Result<SalesSummary, GardenFlowError> {
    let conn = kiosk.store.conn();
    let tz = kiosk.config.tz();
    let now: DateTime<Utc> = kiosk.clock.now();
    let today = now.with_timezone(&tz).date_naive();
    let end = local_midnight_utc(today + Duration::days(1), tz);
    let lang = kiosk.lang();
    Ok(SalesSummary {
        today: sales_span(conn, &local_midnight_utc(today, tz), &end, lang)?,
        week: sales_span(conn, &local_midnight_utc(iso_monday(today), tz), &end, lang)?,
    })
}
