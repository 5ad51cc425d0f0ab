//! Logging a harvest: the form, the weighing, the split and the label.

use super::*;

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

    pub(super) fn index(self) -> usize {
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

pub(super) fn draft(kiosk: &mut Kiosk) -> Result<&mut HarvestDraft, GardenFlowError> {
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
