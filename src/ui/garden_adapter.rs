//! Adapter of the garden lead's screens: harvest entry, stock, reports, sales. Maps the
//! controller's plain data (`app::garden`) into Slint structs and wires the callbacks.

use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::{
    AppWindow, BarItem, GardenChoice, GardenFlowAdapter, HarvestProduct, HarvestStepKind, LotItem,
    MethodRow, SalesRow, Shared, SplitPart, StockItem, TopItem,
};
use crate::app::devices::ScaleView;
use crate::app::garden::{
    self, GardenFlowError, HarvestStep, Metric, Part, Period, StockOp, StockSort,
};
use crate::app::{Kiosk, Screen};
use crate::domain::stock::{CorrectionReason, LossReason, StockUnit};
use crate::domain::weight::{format_grams_short, format_kg};
use crate::store::catalog;
use crate::store::garden as gstore;

fn model<T: Clone + 'static>(v: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(v))
}

fn step_kind(s: HarvestStep) -> HarvestStepKind {
    match s {
        HarvestStep::Product => HarvestStepKind::Product,
        HarvestStep::Quantity => HarvestStepKind::Quantity,
        HarvestStep::Plot => HarvestStepKind::Plot,
        HarvestStep::Harvester => HarvestStepKind::Harvester,
        HarvestStep::Split => HarvestStepKind::Split,
    }
}

fn part_of(code: &str) -> Option<Part> {
    match code {
        "donation" => Some(Part::Donation),
        "own_use" => Some(Part::OwnUse),
        "compost" => Some(Part::Compost),
        _ => None,
    }
}

fn op_of(code: &str) -> Option<StockOp> {
    match code {
        "count" => Some(StockOp::Count),
        "threshold" => Some(StockOp::Threshold),
        "donation" => Some(StockOp::Donation),
        "correction" => Some(StockOp::Correction(None)),
        _ => match code.strip_prefix("correction-") {
            Some(reason) => {
                CorrectionReason::from_code(reason).map(|r| StockOp::Correction(Some(r)))
            }
            None => code
                .strip_prefix("loss-")
                .and_then(LossReason::from_code)
                .map(StockOp::Loss),
        },
    }
}

fn op_code(op: Option<StockOp>) -> String {
    match op {
        None => String::new(),
        Some(StockOp::Count) => "count".into(),
        Some(StockOp::Threshold) => "threshold".into(),
        Some(StockOp::Donation) => "donation".into(),
        Some(StockOp::Correction(None)) => "correction".into(),
        Some(StockOp::Correction(Some(r))) => format!("correction-{}", r.code()),
        Some(StockOp::Loss(r)) => format!("loss-{}", r.code()),
    }
}

/// Runs a garden action, shows its refusal if any, restarts the idle timer and refreshes.
fn act(
    window: &AppWindow,
    kiosk: &Shared,
    idle: &Rc<slint::Timer>,
    stock: bool,
    f: impl FnOnce(&mut Kiosk) -> Result<Option<Screen>, GardenFlowError>,
) {
    let result = f(&mut kiosk.borrow_mut());
    let error = match result {
        Ok(Some(next)) => {
            kiosk.borrow_mut().navigate(next);
            ""
        }
        Ok(None) => "",
        Err(e) => {
            log::info!("garden: {e}");
            e.code()
        }
    };
    super::touched(window, kiosk, idle);
    super::refresh(window, kiosk);
    let a = window.global::<GardenFlowAdapter>();
    if stock {
        a.set_stock_error(error.into());
    } else {
        a.set_error(error.into());
    }
}

pub(super) fn wire(window: &AppWindow, kiosk: &Shared, idle: &Rc<slint::Timer>) {
    let a = window.global::<GardenFlowAdapter>();
    macro_rules! on {
        ($setter:ident, $stock:expr, |$k:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {{
            let weak = window.as_weak();
            let kiosk = kiosk.clone();
            let idle = idle.clone();
            a.$setter(move |$($arg: $ty),*| {
                let Some(w) = weak.upgrade() else { return };
                act(&w, &kiosk, &idle, $stock, |$k| $body);
            });
        }};
    }
    let first = |d: &SharedString| d.chars().next().unwrap_or('x');
    on!(on_harvest_product, false, |k, id: i32| {
        garden::harvest_choose(k, i64::from(id)).map(|_| None)
    });
    on!(on_tare, false, |k, i: i32| garden::harvest_tare(
        k,
        usize::try_from(i).unwrap_or(usize::MAX)
    )
    .map(|_| None));
    on!(on_take_weight, false, |k| garden::harvest_take_weight(k)
        .map(|_| None));
    on!(on_digit, false, |k, d: SharedString| garden::harvest_digit(
        k,
        first(&d)
    )
    .map(|_| None));
    on!(on_erase, false, |k| garden::harvest_erase(k).map(|_| None));
    on!(on_take_count, false, |k| garden::harvest_take_count(k)
        .map(|_| None));
    on!(on_plot, false, |k, id: i32| garden::harvest_plot(
        k,
        (id >= 0).then_some(i64::from(id))
    )
    .map(|_| None));
    on!(on_harvester, false, |k, id: i32| garden::harvest_harvester(
        k,
        (id >= 0).then_some(i64::from(id))
    )
    .map(|_| None));
    on!(
        on_part,
        false,
        |k, code: SharedString, up: bool| match part_of(&code) {
            Some(p) => garden::harvest_part(k, p, up).map(|_| None),
            None => Err(GardenFlowError::NothingChosen),
        }
    );
    on!(on_back, false, |k| garden::harvest_back(k).map(|_| None));
    on!(on_confirm, false, |k| garden::harvest_confirm(k)
        .map(|_| None));
    on!(on_cancel, false, |k| {
        garden::harvest_cancel(k);
        Ok(None)
    });

    on!(on_stock_category, true, |k, c: SharedString| {
        k.garden.category = c.to_string();
        Ok(None)
    });
    on!(on_stock_sort, true, |k, s: SharedString| {
        k.garden.sort = match s.as_str() {
            "days" => StockSort::DaysLeft,
            "on_hand" => StockSort::OnHand,
            _ => StockSort::Category,
        };
        Ok(None)
    });
    on!(on_stock_choose, true, |k, id: i32| garden::stock_choose(
        k,
        i64::from(id)
    )
    .map(|_| None));
    on!(on_stock_op, true, |k, code: SharedString| garden::stock_op(
        k,
        op_of(&code)
    )
    .map(|_| None));
    on!(on_stock_digit, true, |k, d: SharedString| {
        garden::stock_digit(k, first(&d)).map(|_| None)
    });
    on!(on_stock_erase, true, |k| garden::stock_erase(k)
        .map(|_| None));
    on!(on_stock_sign, true, |k| garden::stock_sign(k).map(|_| None));
    on!(on_stock_scale, true, |k| garden::stock_from_scale(k)
        .map(|_| None));
    on!(on_stock_confirm, true, |k| garden::stock_confirm(k)
        .map(|_| None));
    on!(on_stock_close, true, |k| {
        k.garden.stock_product = None;
        k.garden.stock_op = None;
        k.garden.stock_digits.clear();
        k.garden.stock_negative = false;
        k.garden.stock_done = None;
        Ok(None)
    });

    on!(on_report_period, false, |k, p: SharedString| {
        k.garden.period = if p == "month" {
            Period::Month
        } else {
            Period::Week
        };
        Ok(None)
    });
    on!(on_report_metric, false, |k, m: SharedString| {
        k.garden.metric = match m.as_str() {
            "sold" => Metric::SoldKg,
            "amount" => Metric::SoldCents,
            "losses" => Metric::LossKg,
            _ => Metric::HarvestedKg,
        };
        Ok(None)
    });
    on!(on_report_product_step, false, |k, step: i32| {
        let ids: Vec<i64> = catalog::active_products(k.store.conn())?
            .into_iter()
            .map(|p| p.id)
            .collect();
        // All products, then each one in catalogue order, round and round.
        let pos = k
            .garden
            .report_product
            .and_then(|id| ids.iter().position(|i| *i == id))
            .map_or(0, |p| p + 1) as i64;
        let n = ids.len() as i64 + 1;
        let next = (pos + i64::from(step)).rem_euclid(n);
        k.garden.report_product = (next > 0).then(|| ids[next as usize - 1]);
        Ok(None)
    });
}

/// Refreshes whichever garden screen shows.
pub(super) fn refresh(window: &AppWindow, kiosk: &Kiosk) {
    match kiosk.screen {
        Screen::GardenHarvest => refresh_harvest(window, kiosk),
        Screen::GardenStock => refresh_stock(window, kiosk),
        Screen::GardenReports => refresh_reports(window, kiosk),
        Screen::GardenSales => refresh_sales(window, kiosk),
        _ => {}
    }
}

pub(super) fn refresh_harvest(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<GardenFlowAdapter>();
    let l = kiosk.lang();
    let conn = kiosk.store.conn();
    let g = &kiosk.garden;
    let products: Vec<HarvestProduct> = catalog::active_products(conn)
        .unwrap_or_default()
        .into_iter()
        .map(|p| HarvestProduct {
            id: p.id as i32,
            code: gstore::lot_code(&p).into(),
            weighed: gstore::unit_of(p.pricing) == StockUnit::Grams,
            name: p.name.into(),
            icon: p.icon.into(),
        })
        .collect();
    a.set_products(model(products));
    let tares: Vec<SharedString> = garden::tare_presets(kiosk)
        .iter()
        .map(|g| format_grams_short(*g, l).into())
        .collect();
    a.set_tares(model(tares));
    match &g.logged {
        Some(h) => {
            a.set_logged_lot(h.lot.as_str().into());
            a.set_logged_product(h.product.as_str().into());
            a.set_logged_qty(garden::format_qty(h.qty, h.unit, l).into());
            a.set_logged_weighed(h.unit == StockUnit::Grams);
        }
        None => a.set_logged_lot("".into()),
    }
    let Some(d) = &g.draft else {
        a.set_step(HarvestStepKind::Product);
        return;
    };
    a.set_step(step_kind(d.step));
    a.set_product_name(d.product.name.as_str().into());
    a.set_product_icon(d.product.icon.as_str().into());
    let weighed = d.unit() == StockUnit::Grams;
    a.set_weighed(weighed);
    a.set_tare_index(
        garden::tare_presets(kiosk)
            .iter()
            .position(|t| *t == d.tare_g)
            .map_or(-1, |i| i as i32),
    );
    a.set_qty_digits(d.digits.as_str().into());
    a.set_qty_text(
        d.qty
            .map(|q| garden::format_qty(q, d.unit(), l))
            .unwrap_or_default()
            .into(),
    );
    let plots = catalog::active_plots(conn).unwrap_or_default();
    a.set_plot_chosen(d.step > HarvestStep::Plot);
    a.set_plot_name(
        d.plot
            .and_then(|id| plots.iter().find(|(i, _)| *i == id))
            .map(|(_, n)| n.as_str())
            .unwrap_or("")
            .into(),
    );
    a.set_plots(model(
        plots
            .iter()
            .map(|(id, name)| GardenChoice {
                id: *id as i32,
                name: name.as_str().into(),
            })
            .collect(),
    ));
    let staff = crate::store::people::active_staff(conn).unwrap_or_default();
    a.set_harvester_chosen(d.step > HarvestStep::Harvester);
    a.set_harvester_name(
        d.harvester
            .and_then(|id| staff.iter().find(|s| s.id == id))
            .map(|s| s.name.as_str())
            .unwrap_or("")
            .into(),
    );
    a.set_harvesters(model(
        staff
            .iter()
            .map(|s| GardenChoice {
                id: s.id as i32,
                name: s.name.as_str().into(),
            })
            .collect(),
    ));
    let split = d.split();
    let fmt = |q: i64| SharedString::from(garden::format_qty(q, d.unit(), l));
    a.set_parts(model(vec![
        SplitPart {
            code: "donation".into(),
            qty: fmt(split.donation),
            steps: d.parts[0] as i32,
        },
        SplitPart {
            code: "own_use".into(),
            qty: fmt(split.own_use),
            steps: d.parts[1] as i32,
        },
        SplitPart {
            code: "compost".into(),
            qty: fmt(split.compost),
            steps: d.parts[2] as i32,
        },
    ]));
    a.set_for_sale(fmt(split.for_sale));
    refresh_weigh(window, kiosk);
}

/// The live weight of the harvest entry (called for every scale reading).
pub(super) fn refresh_weigh(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<GardenFlowAdapter>();
    let l = kiosk.lang();
    let tare = kiosk.garden.tare();
    match kiosk.devices.scale {
        ScaleView::Weight { grams, stable, net } => {
            a.set_scale_ok(true);
            let net_g = if net { grams } else { grams - tare };
            a.set_weight(format_kg(net_g, l).into());
            a.set_gross(format_kg(grams, l).into());
            a.set_stable(stable);
        }
        _ => {
            a.set_scale_ok(false);
            a.set_stable(false);
        }
    }
    match garden::harvest_weigh_check(kiosk) {
        Ok(_) => {
            a.set_can_take(true);
            a.set_refusal("".into());
            a.set_fault("".into());
        }
        Err(GardenFlowError::Weigh(r)) => {
            a.set_can_take(false);
            a.set_refusal(r.code().into());
            a.set_fault(r.fault_code().unwrap_or("").into());
        }
        Err(e) => {
            a.set_can_take(false);
            a.set_refusal(e.code().into());
            a.set_fault("".into());
        }
    }
}

pub(super) fn refresh_stock(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<GardenFlowAdapter>();
    let l = kiosk.lang();
    let g = &kiosk.garden;
    let view = match garden::stock_view(kiosk, &g.category, g.sort) {
        Ok(v) => {
            a.set_stock_read_failed(false);
            v
        }
        Err(e) => {
            log::error!("stock: {e}");
            a.set_stock_read_failed(true);
            a.set_stock(model(Vec::new()));
            a.set_chosen(-1);
            return;
        }
    };
    a.set_category(g.category.as_str().into());
    a.set_sort(
        match g.sort {
            StockSort::Category => "category",
            StockSort::DaysLeft => "days",
            StockSort::OnHand => "on_hand",
        }
        .into(),
    );
    a.set_categories(model(
        view.categories
            .iter()
            .map(|c| SharedString::from(c.as_str()))
            .collect(),
    ));
    a.set_low_count(view.low_count as i32);
    a.set_stock_value(crate::domain::money::format_money(view.value_cents, l).into());
    a.set_stock(model(
        view.rows
            .iter()
            .map(|r| StockItem {
                id: r.product_id as i32,
                name: r.name.as_str().into(),
                icon: r.icon.as_str().into(),
                weighed: r.unit == StockUnit::Grams,
                on_hand: r.on_hand_text.as_str().into(),
                harvested: r.harvested_week_text.as_str().into(),
                sold: r.sold_week_text.as_str().into(),
                days_left: r
                    .days_left
                    .map_or(-1, |d| d.min(i64::from(i32::MAX)) as i32),
                threshold: r.threshold_text.as_str().into(),
                low: r.low,
                negative: r.negative,
            })
            .collect(),
    ));
    let chosen = match g.stock_product.map(|id| garden::stock_panel(kiosk, id)) {
        None | Some(Ok(None)) => None,
        Some(Ok(Some(panel))) => Some(panel),
        Some(Err(e)) => {
            log::error!("stock panel: {e}");
            a.set_stock_read_failed(true);
            None
        }
    };
    match chosen {
        None => a.set_chosen(-1),
        Some(p) => {
            a.set_chosen(p.product_id as i32);
            a.set_chosen_name(p.name.as_str().into());
            a.set_chosen_icon(p.icon.as_str().into());
            a.set_chosen_weighed(p.unit == StockUnit::Grams);
            a.set_chosen_on_hand(p.on_hand_text.as_str().into());
            a.set_lots(model(
                p.lots
                    .into_iter()
                    .map(|(number, origin, remaining)| LotItem {
                        number: number.into(),
                        origin: origin.into(),
                        remaining: remaining.into(),
                    })
                    .collect(),
            ));
            a.set_op(op_code(g.stock_op).into());
            let unit = p.unit;
            let entry = match (g.stock_digits.parse::<i64>(), unit) {
                (Ok(n), u) => garden::format_qty(n, u, l),
                (Err(_), StockUnit::Grams) => format_kg(0, l),
                (Err(_), StockUnit::Pieces) => "0".into(),
            };
            a.set_stock_entry(entry.into());
            a.set_stock_negative(g.stock_negative);
            a.set_stock_done(
                g.stock_done
                    .filter(|(id, _)| *id == p.product_id)
                    .map(|(_, d)| garden::format_qty(d, unit, l))
                    .unwrap_or_default()
                    .into(),
            );
        }
    }
}

pub(super) fn refresh_reports(window: &AppWindow, kiosk: &Kiosk) {
    use chrono::Datelike;
    let a = window.global::<GardenFlowAdapter>();
    let g = &kiosk.garden;
    let r = match garden::report(kiosk) {
        Ok(r) => r,
        Err(e) => {
            log::error!("report: {e}");
            return;
        }
    };
    a.set_period(
        if g.period == Period::Month {
            "month"
        } else {
            "week"
        }
        .into(),
    );
    a.set_metric(
        match g.metric {
            Metric::HarvestedKg => "harvested",
            Metric::SoldKg => "sold",
            Metric::SoldCents => "amount",
            Metric::LossKg => "losses",
        }
        .into(),
    );
    let max = r.max.max(1) as f32;
    a.set_bars(model(
        r.bars
            .iter()
            .map(|b| BarItem {
                label: b.start.to_string().into(),
                month: b.start.month() as i32,
                week: if g.period == Period::Week {
                    b.start.iso_week().week() as i32
                } else {
                    0
                },
                share: (b.value.max(0) as f32 / max).min(1.0),
                text: b.text.as_str().into(),
            })
            .collect(),
    ));
    a.set_harvested(r.harvested_text.as_str().into());
    a.set_sold(r.sold_text.as_str().into());
    a.set_sold_amount(r.sold_cents_text.as_str().into());
    a.set_losses(r.loss_text.as_str().into());
    a.set_report_stock_value(r.stock_value_text.as_str().into());
    a.set_ratio(r.ratio_text.as_str().into());
    a.set_top(model(
        r.top
            .iter()
            .map(|t| TopItem {
                name: t.name.as_str().into(),
                icon: t.icon.as_str().into(),
                amount: t.sold_cents_text.as_str().into(),
            })
            .collect(),
    ));
    a.set_report_product(g.report_product.map_or(-1, |id| id as i32));
    let name = g
        .report_product
        .and_then(|id| catalog::product(kiosk.store.conn(), id).ok().flatten())
        .map(|p| p.name)
        .unwrap_or_default();
    a.set_report_product_name(name.into());
}

pub(super) fn refresh_sales(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<GardenFlowAdapter>();
    let s = match garden::sales_summary(kiosk) {
        Ok(s) => s,
        Err(e) => {
            log::error!("sales summary: {e}");
            return;
        }
    };
    let rows = |span: &garden::SalesSpan| -> ModelRc<SalesRow> {
        model(
            span.products
                .iter()
                .map(|p| SalesRow {
                    name: p.name.as_str().into(),
                    icon: p.icon.as_str().into(),
                    weighed: p.unit == StockUnit::Grams,
                    qty: p.qty_text.as_str().into(),
                    amount: p.cents_text.as_str().into(),
                })
                .collect(),
        )
    };
    let methods = |span: &garden::SalesSpan| -> ModelRc<MethodRow> {
        model(
            span.methods
                .iter()
                .map(|m| MethodRow {
                    method: m.method.as_str().into(),
                    amount: m.cents_text.as_str().into(),
                })
                .collect(),
        )
    };
    a.set_today_products(rows(&s.today));
    a.set_week_products(rows(&s.week));
    a.set_today_methods(methods(&s.today));
    a.set_week_methods(methods(&s.week));
    a.set_today_total(s.today.total_text.as_str().into());
    a.set_week_total(s.week.total_text.as_str().into());
    a.set_today_tickets(s.today.tickets as i32);
    a.set_week_tickets(s.week.tickets as i32);
}

/// Screenshots of the garden: the harvest entry weighs tomatoes in a wooden crate (the fixed
/// reading, 1,234 kg, less 450 g); the other screens show the demo data as they are.
pub(super) fn stage(k: &mut Kiosk, screen: Screen) {
    if screen != Screen::GardenHarvest {
        return;
    }
    let tomatoes = catalog::active_products(k.store.conn())
        .ok()
        .and_then(|ps| ps.into_iter().find(|p| p.short_code == "TOM"))
        .map(|p| p.id);
    if let Some(id) = tomatoes {
        if let Err(e) = garden::harvest_choose(k, id).and_then(|()| garden::harvest_tare(k, 1)) {
            log::warn!("screenshot {}: {e}", screen.name());
        }
    }
}
