//! Adapter of the selling flow: weighing panel, cart, payment, confirmation.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::pricing_kind;
use super::{AppWindow, CartLine, PayMethod, PaymentRow, SellFlowAdapter, Shared, TareChoice};
use crate::app::devices::ScaleView;
use crate::app::sell::{self, SellError};
use crate::app::{Kiosk, Screen};
use crate::devices::Devices;
use crate::domain::cart::{DiscountKind, LineKind, PaymentMethod};
use crate::domain::money::format_money;
use crate::domain::vat::format_rate;
use crate::domain::weight::format_kg;
use crate::store::catalog::Pricing;

fn method(m: PayMethod) -> PaymentMethod {
    match m {
        PayMethod::Cash => PaymentMethod::Cash,
        PayMethod::Card => PaymentMethod::Card,
        PayMethod::Cheque => PaymentMethod::Cheque,
        PayMethod::Credits => PaymentMethod::Credits,
    }
}

fn pay_method(m: PaymentMethod) -> PayMethod {
    match m {
        PaymentMethod::Card => PayMethod::Card,
        PaymentMethod::Cheque => PayMethod::Cheque,
        PaymentMethod::Credits => PayMethod::Credits,
        _ => PayMethod::Cash,
    }
}

/// Runs a sell action, shows its refusal if any, restarts the idle timer and refreshes.
fn act(
    window: &AppWindow,
    kiosk: &Shared,
    idle: &Rc<slint::Timer>,
    f: impl FnOnce(&mut Kiosk) -> Result<Option<Screen>, SellError>,
) {
    let result = {
        let mut k = kiosk.borrow_mut();
        let result = f(&mut k);
        if result.is_ok() {
            sell::park(&mut k);
        }
        result
    };
    let error = match result {
        Ok(Some(next)) => {
            kiosk.borrow_mut().navigate(next);
            ""
        }
        Ok(None) => "",
        Err(e) => {
            log::info!("sell: {e}");
            e.code()
        }
    };
    super::touched(window, kiosk, idle);
    super::refresh(window, kiosk);
    window.global::<SellFlowAdapter>().set_error(error.into());
}

pub(super) fn wire(
    window: &AppWindow,
    kiosk: &Shared,
    devices: &Rc<RefCell<Devices>>,
    idle: &Rc<slint::Timer>,
) {
    let a = window.global::<SellFlowAdapter>();
    macro_rules! on {
        ($setter:ident, |$k:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {{
            let weak = window.as_weak();
            let kiosk = kiosk.clone();
            let idle = idle.clone();
            a.$setter(move |$($arg: $ty),*| {
                let Some(w) = weak.upgrade() else { return };
                act(&w, &kiosk, &idle, |$k| $body);
            });
        }};
    }
    on!(on_choose_divers, |k| sell::choose_divers(k)
        .map(|_| Some(Screen::SellWeigh)));
    on!(on_weigh_cancel, |k| sell::unchoose(k)
        .map(|_| Some(Screen::SellCatalog)));
    on!(on_weigh_add, |k| {
        let chosen = k
            .sell
            .peek(k.session.current().map_or(-1, |s| s.id))
            .and_then(|c| c.chosen.clone());
        match chosen {
            Some(c) if sell::is_divers(&c) => {
                sell::add_divers(k).map(|_| Some(Screen::SellCatalog))
            }
            Some(c) if c.product.pricing == Pricing::PerKg => {
                sell::add_weighed(k).map(|_| Some(Screen::SellCatalog))
            }
            Some(_) => sell::add_pieces(k).map(|_| Some(Screen::SellCatalog)),
            None => Err(SellError::NothingChosen),
        }
    });
    on!(on_qty_digit, |k, d: slint::SharedString| sell::qty_digit(
        k,
        d.chars().next().unwrap_or('x')
    )
    .map(|_| None));
    on!(on_qty_erase, |k| sell::qty_erase(k).map(|_| None));
    on!(on_set_tare, |k, grams: i32| sell::set_tare(
        k,
        i64::from(grams)
    )
    .map(|_| None));
    on!(on_manual_toggle, |k| sell::manual_toggle(k).map(|_| None));
    on!(on_open_cart, |_k| Ok(Some(Screen::SellCart)));
    on!(on_remove_line, |k, id: i32| sell::remove_line(k, id as u32)
        .map(|_| None));
    on!(on_abandon, |k| sell::abandon(k)
        .map(|_| Some(Screen::SellCatalog)));
    on!(on_open_pay, |_k| Ok(Some(Screen::SellPay)));
    on!(on_pay_digit, |k, d: slint::SharedString| sell::pay_digit(
        k,
        d.chars().next().unwrap_or('x')
    )
    .map(|_| None));
    on!(on_pay_erase, |k| sell::pay_erase(k).map(|_| None));
    on!(on_pay_quick, |k, cents: i32| sell::pay_quick(
        k,
        i64::from(cents)
    )
    .map(|_| None));
    on!(on_give_discount, |k, percent: bool| sell::cart_discount(
        k, percent
    )
    .map(|_| None));
    on!(on_discount_open, |k, line: i32| sell::discount_open(
        k,
        line as u32
    )
    .map(|_| None));
    on!(on_discount_close, |k| sell::discount_close(k).map(|_| None));
    on!(on_discount_digit, |k, d: slint::SharedString| {
        sell::discount_digit(k, d.chars().next().unwrap_or('x')).map(|_| None)
    });
    on!(on_discount_erase, |k| sell::discount_erase(k).map(|_| None));
    on!(on_line_discount, |k, percent: bool| sell::line_discount(
        k, percent
    )
    .map(|_| None));
    on!(on_line_discount_remove, |k| sell::line_discount_remove(k)
        .map(|_| None));
    on!(on_pay_clear, |k| sell::clear_payments(k).map(|_| None));
    {
        let weak = window.as_weak();
        let kiosk = kiosk.clone();
        let idle = idle.clone();
        let d = devices.clone();
        a.on_pay_method(move |m: PayMethod| {
            let Some(w) = weak.upgrade() else { return };
            let mut sold = None;
            act(&w, &kiosk, &idle, |k| {
                let done = sell::pay(k, method(m))?;
                sold = done.clone();
                Ok(done.map(|_| Screen::SellReceipt))
            });
            // The sale is stored: the drawer, and the receipt where every receipt prints.
            if let Some(done) = sold {
                match crate::app::printing::after_sale(&kiosk.borrow(), &d.borrow(), &done) {
                    Ok(false) => {}
                    Ok(true) => show_receipt_queued(&w, Ok(())),
                    Err(e) => show_receipt_queued(&w, Err(e)),
                }
            }
        });
    }
    on!(on_new_sale, |k| {
        k.sell.last_refund = None;
        Ok(Some(Screen::SellCatalog))
    });
    {
        let weak = window.as_weak();
        let kiosk = kiosk.clone();
        let idle = idle.clone();
        a.on_cancel_sale(move || {
            let Some(w) = weak.upgrade() else { return };
            let a = w.global::<SellFlowAdapter>();
            if !a.get_confirm_cancel() {
                a.set_confirm_cancel(true);
                super::touched(&w, &kiosk, &idle);
                return;
            }
            act(&w, &kiosk, &idle, |k| {
                let seq = k
                    .sell
                    .last_done
                    .as_ref()
                    .map(|d| d.seq)
                    .ok_or(SellError::NothingChosen)?;
                sell::refund_sale(k, seq).map(|_| None)
            });
        });
    }
    {
        let d = devices.clone();
        let weak = window.as_weak();
        let kiosk = kiosk.clone();
        let idle = idle.clone();
        a.on_tare(move || {
            d.borrow()
                .scale_command(comptoir_hardware::scale::ScaleCommand::Tare);
            if let Some(w) = weak.upgrade() {
                super::touched(&w, &kiosk, &idle);
            }
        });
    }
    {
        let d = devices.clone();
        let weak = window.as_weak();
        let kiosk = kiosk.clone();
        let idle = idle.clone();
        a.on_print_receipt(move || {
            let Some(w) = weak.upgrade() else { return };
            let queued = crate::app::printing::queue_last_receipt(&kiosk.borrow(), &d.borrow());
            show_receipt_queued(&w, queued);
            super::touched(&w, &kiosk, &idle);
        });
    }
}

/// Says that the receipt is queued, or why not (the sale is stored either way).
fn show_receipt_queued(w: &AppWindow, queued: Result<(), crate::app::printing::PrintError>) {
    match queued {
        Ok(()) => w.global::<SellFlowAdapter>().set_receipt_queued(true),
        Err(e) => {
            log::warn!("receipt: {e}");
            w.global::<SellFlowAdapter>().set_error("no_printer".into());
        }
    }
}

/// "−0,350 kg", starting with a left-to-right mark so that an Arabic screen does not move the
/// minus sign to the end.
fn minus(amount: String) -> String {
    format!("\u{200E}−{amount}")
}

/// The seller's cart lines and total (also shown beside the catalogue).
pub(super) fn refresh_cart(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<SellFlowAdapter>();
    let l = kiosk.lang();
    let me = kiosk.session.current().map_or(-1, |s| s.id);
    let Some(c) = kiosk.sell.peek(me) else {
        let zero: slint::SharedString = format_money(0, l).into();
        a.set_lines(ModelRc::new(VecModel::from(Vec::<CartLine>::new())));
        a.set_total(zero.clone());
        a.set_count(0);
        a.set_typed("".into());
        a.set_paid(zero.clone());
        a.set_remaining(zero);
        a.set_discount("".into());
        a.set_payments(ModelRc::new(VecModel::from(Vec::<PaymentRow>::new())));
        a.set_discount_line(-1);
        return;
    };
    let totals = c.cart.totals().ok();
    let line_discount = |id: u32| -> String {
        let line = c.cart.line(id);
        let cents = totals
            .as_ref()
            .and_then(|t| t.lines.iter().find(|lt| lt.line_id == id))
            .map_or(0, |lt| lt.line_discount);
        match line.and_then(|l| l.discount) {
            None => String::new(),
            Some(d) => match d.kind {
                DiscountKind::Percent(bp) => {
                    format!("−{} · −{}", format_rate(bp, l), format_money(cents, l))
                }
                DiscountKind::Amount(_) => format!("−{}", format_money(cents, l)),
            },
        }
    };
    let lines: Vec<CartLine> = c
        .cart
        .lines()
        .iter()
        .map(|line| {
            let (detail, manual) = match line.kind {
                LineKind::Weighed {
                    grams,
                    cents_per_kg,
                    manual,
                } => (
                    format!(
                        "{} × {}",
                        format_kg(grams, l),
                        format_money(cents_per_kg, l)
                    ),
                    manual,
                ),
                LineKind::Piece {
                    qty, unit_cents, ..
                } => (format!("{qty} × {}", format_money(unit_cents, l)), false),
                LineKind::Divers { .. } => (String::new(), false),
            };
            CartLine {
                id: line.id as i32,
                label: line.label.as_str().into(),
                detail: detail.into(),
                amount: format_money(line.amount, l).into(),
                manual,
                discount: line_discount(line.id).into(),
            }
        })
        .collect();
    let total = c.cart.totals().map(|t| t.total).unwrap_or(0);
    a.set_count(lines.len() as i32);
    a.set_lines(ModelRc::new(VecModel::from(lines)));
    a.set_total(format_money(total, l).into());
    a.set_typed(if c.pay_digits.is_empty() {
        "".into()
    } else {
        format_money(c.pay_digits.parse().unwrap_or(0), l).into()
    });
    let discount = c
        .cart
        .totals()
        .ok()
        .filter(|t| t.cart_discount > 0)
        .map(|t| format!("−{}", format_money(t.cart_discount, l)))
        .unwrap_or_default();
    a.set_discount(discount.into());
    let paid = c.cart.paid();
    a.set_paid(format_money(paid, l).into());
    a.set_remaining(format_money((total - paid).max(0), l).into());
    let payments: Vec<PaymentRow> = c
        .cart
        .payments()
        .iter()
        .map(|p| PaymentRow {
            method: pay_method(p.method),
            amount: format_money(p.cents, l).into(),
        })
        .collect();
    a.set_payments(ModelRc::new(VecModel::from(payments)));
    match c.discount_line.and_then(|id| c.cart.line(id)) {
        Some(line) => {
            a.set_discount_line(line.id as i32);
            a.set_discount_label(line.label.as_str().into());
            a.set_discount_typed(c.discount_digits.as_str().into());
            let cents: i64 = c.discount_digits.parse().unwrap_or(0);
            a.set_discount_typed_money(format_money(cents, l).into());
            a.set_discount_current(line_discount(line.id).into());
        }
        None => a.set_discount_line(-1),
    }
}

/// The weighing panel: live weight, price, and whether the line may be added now.
pub(super) fn refresh_weigh(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<SellFlowAdapter>();
    let l = kiosk.lang();
    let me = kiosk.session.current().map_or(-1, |s| s.id);
    let Some(chosen) = kiosk.sell.peek(me).and_then(|c| c.chosen.clone()) else {
        // Nothing chosen (a stale screen): show nothing rather than old values.
        a.set_product_name("".into());
        a.set_product_icon("".into());
        a.set_unit_price("".into());
        a.set_scale_ok(false);
        a.set_line_price("".into());
        a.set_can_add(false);
        a.set_refusal("nothing_chosen".into());
        return;
    };
    let p = &chosen.product;
    // The price of what the rules will sell.
    let price = sell::live_line_price(kiosk, &chosen);
    a.set_product_name(p.name.as_str().into());
    a.set_product_icon(p.icon.as_str().into());
    a.set_unit_price(format_money(p.price_cents, l).into());
    a.set_pricing(pricing_kind(p.pricing));
    a.set_divers(sell::is_divers(&chosen));
    let tares: Vec<TareChoice> = sell::container_tares(kiosk)
        .into_iter()
        .map(|g| TareChoice {
            grams: g as i32,
            label: minus(format_kg(g, l)).into(),
        })
        .collect();
    a.set_tares(ModelRc::new(VecModel::from(tares)));
    a.set_tare_g(kiosk.sell.tare_g as i32);
    a.set_tare_applied(minus(format_kg(kiosk.sell.tare_g, l)).into());
    a.set_uncertified(!kiosk.sell.guard.config().legal_for_trade);
    a.set_manual_allowed(sell::manual_allowed(kiosk));
    a.set_manual(chosen.manual);
    if p.pricing == Pricing::PerKg && chosen.manual {
        // The weight typed by hand, in grams, shown in kg like the scale's.
        let grams: i64 = chosen.qty_digits.parse().unwrap_or(0);
        a.set_scale_ok(true);
        a.set_weight(format_kg(grams, l).into());
        a.set_stable(true);
        a.set_net(true);
        a.set_line_price(format_money(price.unwrap_or(0), l).into());
        a.set_can_add(grams > 0);
        a.set_refusal("".into());
        a.set_fault("".into());
    } else if p.pricing == Pricing::PerKg {
        match kiosk.devices.scale {
            ScaleView::Weight { grams, stable, net } => {
                a.set_scale_ok(true);
                a.set_weight(format_kg(grams, l).into());
                a.set_stable(stable);
                a.set_net(net);
                a.set_line_price(format_money(price.unwrap_or(0), l).into());
            }
            _ => {
                a.set_scale_ok(false);
                a.set_stable(false);
                a.set_line_price("".into());
            }
        }
        match sell::weigh_check(kiosk) {
            Ok(_) => {
                a.set_can_add(true);
                a.set_refusal("".into());
                a.set_fault("".into());
            }
            Err(SellError::Weigh(r)) => {
                a.set_can_add(false);
                a.set_refusal(r.code().into());
                a.set_fault(r.fault_code().unwrap_or("").into());
            }
            Err(e) => {
                a.set_can_add(false);
                a.set_refusal(e.code().into());
            }
        }
    } else if sell::is_divers(&chosen) {
        let cents = price.unwrap_or(0);
        a.set_line_price(format_money(cents, l).into());
        a.set_unit_price("".into());
        a.set_can_add(cents > 0);
        a.set_refusal("".into());
    } else {
        let qty: i64 = chosen.qty_digits.parse().unwrap_or(1);
        a.set_qty(qty.to_string().into());
        a.set_line_price(format_money(price.unwrap_or(0), l).into());
        a.set_can_add(true);
        a.set_refusal("".into());
    }
}

pub(super) fn refresh(window: &AppWindow, kiosk: &Kiosk) {
    refresh_cart(window, kiosk);
    super::compost_adapter::refresh_pay_credits(window, kiosk);
    let a = window.global::<SellFlowAdapter>();
    match kiosk.screen {
        Screen::SellWeigh => refresh_weigh(window, kiosk),
        Screen::SellReceipt => {
            a.set_confirm_cancel(false);
            match &kiosk.sell.last_refund {
                Some(r)
                    if kiosk
                        .sell
                        .last_done
                        .as_ref()
                        .is_some_and(|d| d.seq == r.refund_of) =>
                {
                    a.set_refunded(true);
                    a.set_refund_ticket(r.seq as i32);
                    a.set_refund_amount(format_money(r.amount, kiosk.lang()).into());
                }
                _ => a.set_refunded(false),
            }
            if let Some(done) = &kiosk.sell.last_done {
                let l = kiosk.lang();
                a.set_ticket(done.seq as i32);
                a.set_done_total(format_money(done.total, l).into());
                a.set_change(format_money(done.change, l).into());
            }
        }
        _ => a.set_receipt_queued(false),
    }
}
