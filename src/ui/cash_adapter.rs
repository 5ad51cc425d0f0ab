//! Adapter of the register screens: opening with the counted float, closing with a blind count
//! by denomination, the Z report.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::{AppWindow, CashAdapter, DenomRow, Shared};
use crate::app::{cash, Kiosk, Screen};
use crate::devices::Devices;
use crate::domain::money::format_money;
use crate::store::cash::{Denominations, DENOMINATIONS};

/// What the register screens hold while a person types.
#[derive(Debug, Default)]
struct Counting {
    float_digits: String,
    counts: Denominations,
    selected: Option<i64>,
    digits: String,
    /// After closing: (session, expected, counted, difference).
    closed: Option<(i64, i64, i64, i64)>,
}

/// "20 €" for notes and whole euros, "50 c" for the small coins.
fn denomination_label(cents: i64) -> String {
    if cents >= 100 {
        format!("{} €", cents / 100)
    } else {
        format!("{cents} c")
    }
}

fn show(window: &AppWindow, kiosk: &Kiosk, c: &Counting) {
    let a = window.global::<CashAdapter>();
    let l = kiosk.lang();
    let float: i64 = c.float_digits.parse().unwrap_or(0);
    a.set_float_typed(format_money(float, l).into());
    let rows: Vec<DenomRow> = DENOMINATIONS
        .iter()
        .rev()
        .map(|&cents| {
            let count = c.counts.count(cents);
            DenomRow {
                cents: cents as i32,
                label: denomination_label(cents).into(),
                count: count as i32,
                subtotal: format_money(count * cents, l).into(),
                selected: c.selected == Some(cents),
            }
        })
        .collect();
    a.set_denoms(ModelRc::new(VecModel::from(rows)));
    a.set_counted(format_money(c.counts.total(), l).into());
    match c.closed {
        Some((session, expected, counted, difference)) => {
            a.set_closed(true);
            a.set_session(session as i32);
            a.set_expected(format_money(expected, l).into());
            a.set_counted(format_money(counted, l).into());
            let sign = if difference > 0 { "+" } else { "" };
            a.set_difference(format!("{sign}{}", format_money(difference, l)).into());
            a.set_short(difference < 0);
        }
        None => {
            a.set_closed(false);
            a.set_z_queued(false);
        }
    }
}

pub(super) fn wire(
    window: &AppWindow,
    kiosk: &Shared,
    devices: &Rc<RefCell<Devices>>,
    idle: &Rc<slint::Timer>,
) {
    let counting = COUNTING.with(|c| c.clone());
    let a = window.global::<CashAdapter>();
    // A change to what is typed; shows it and restarts the idle timer.
    let edit = |f: fn(&mut Counting, &str)| {
        let weak = window.as_weak();
        let c = counting.clone();
        let k = kiosk.clone();
        let idle = idle.clone();
        move |arg: slint::SharedString| {
            let Some(w) = weak.upgrade() else { return };
            f(&mut c.borrow_mut(), &arg);
            w.global::<CashAdapter>().set_error("".into());
            show(&w, &k.borrow(), &c.borrow());
            super::touched(&w, &k, &idle);
        }
    };
    a.on_float_digit(edit(|c, d| {
        if c.float_digits.len() < 7 && !(c.float_digits.is_empty() && d == "0") {
            c.float_digits.push_str(d);
        }
    }));
    let float_erase = edit(|c, _| {
        c.float_digits.pop();
    });
    a.on_float_erase(move || float_erase("".into()));
    a.on_count_digit(edit(|c, d| {
        let Some(cents) = c.selected else { return };
        if c.digits.len() < 5 {
            c.digits.push_str(d);
        }
        let count: i64 = c.digits.parse().unwrap_or(0);
        let _ = c.counts.set(cents, count);
    }));
    let count_erase = edit(|c, _| {
        let Some(cents) = c.selected else { return };
        c.digits.pop();
        let count: i64 = c.digits.parse().unwrap_or(0);
        let _ = c.counts.set(cents, count);
    });
    a.on_count_erase(move || count_erase("".into()));
    {
        let f = edit(|c, arg| {
            let cents: i64 = arg.parse().unwrap_or(-1);
            if cents < 0 {
                // OK on the keypad: the next denomination down.
                let next = c
                    .selected
                    .and_then(|s| DENOMINATIONS.iter().rev().copied().find(|&d| d < s));
                c.selected = next;
            } else {
                c.selected = Some(cents);
            }
            c.digits = c
                .selected
                .map(|s| c.counts.count(s))
                .filter(|&n| n > 0)
                .map(|n| n.to_string())
                .unwrap_or_default();
        });
        a.on_select(move |cents| f(cents.to_string().into()));
    }
    {
        let weak = window.as_weak();
        let c = counting.clone();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_open(move || {
            let Some(w) = weak.upgrade() else { return };
            let float: i64 = c.borrow().float_digits.parse().unwrap_or(0);
            let result = cash::open(&mut k.borrow_mut(), float);
            match result {
                Ok(_) => {
                    *c.borrow_mut() = Counting::default();
                    k.borrow_mut().navigate(Screen::SellCatalog);
                    super::refresh(&w, &k);
                }
                Err(e) => w.global::<CashAdapter>().set_error(e.code().into()),
            }
            super::touched(&w, &k, &idle);
        });
    }
    {
        let weak = window.as_weak();
        let c = counting.clone();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_close(move || {
            let Some(w) = weak.upgrade() else { return };
            let counts = c.borrow().counts.clone();
            let result = cash::close(&mut k.borrow_mut(), &counts);
            match result {
                Ok((session, closing)) => {
                    let mut cc = c.borrow_mut();
                    cc.closed = Some((
                        session,
                        closing.expected,
                        closing.counted,
                        closing.difference,
                    ));
                    show(&w, &k.borrow(), &cc);
                }
                Err(e) => w.global::<CashAdapter>().set_error(e.code().into()),
            }
            super::touched(&w, &k, &idle);
        });
    }
    {
        let weak = window.as_weak();
        let c = counting.clone();
        let k = kiosk.clone();
        let d = devices.clone();
        a.on_print_z(move || {
            let Some(w) = weak.upgrade() else { return };
            let Some((session, ..)) = c.borrow().closed else {
                return;
            };
            let kk = k.borrow();
            let devices = d.borrow();
            let queued = match devices.printer_section() {
                Some(section) => crate::app::printing::queue_z_report(&kk, section, session),
                None => Err(crate::app::printing::PrintError::NoPrinter),
            };
            match queued {
                Ok(_) => {
                    devices.wake_printer();
                    w.global::<CashAdapter>().set_z_queued(true);
                }
                Err(e) => {
                    log::warn!("Z report: {e}");
                    w.global::<CashAdapter>().set_error("no_printer".into());
                }
            }
        });
    }
    {
        let weak = window.as_weak();
        let c = counting.clone();
        let k = kiosk.clone();
        a.on_finish(move || {
            let Some(w) = weak.upgrade() else { return };
            *c.borrow_mut() = Counting::default();
            k.borrow_mut().navigate(Screen::Home);
            super::refresh(&w, &k);
        });
    }
}

pub(super) fn refresh(window: &AppWindow, kiosk: &Kiosk) {
    window.global::<CashAdapter>().set_error("".into());
    COUNTING.with(|c| show(window, kiosk, &c.borrow()));
}

thread_local! {
    /// What is being typed on the register screens (the UI thread's own; a count survives a
    /// visit to another screen until the register is closed).
    static COUNTING: Rc<RefCell<Counting>> = Rc::new(RefCell::new(Counting::default()));
}
