//! Adapter of the devices view (admin): live weight, printer, card reader, and in demo mode
//! the simulators' controls.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, Model, ModelRc, VecModel};

use super::{
    AppWindow, DevicesAdapter, HeldJobRow, PrinterStateKind, ScaleStateKind, ScanKind,
    ScannerStateKind, Shared,
};
use crate::app::devices::{LastScan, ScaleView};
use crate::app::{Action, Kiosk};
use crate::devices::Devices;
use crate::domain::weight::format_kg;
use crate::domain::Lang;
use crate::store::print_queue::{HeldJob, Which};

pub(super) fn wire(
    window: &AppWindow,
    kiosk: &Shared,
    devices: &Rc<RefCell<Devices>>,
    idle: &Rc<slint::Timer>,
) {
    let a = window.global::<DevicesAdapter>();
    let scale = |command: comptoir_hardware::scale::ScaleCommand| {
        let d = devices.clone();
        let k = kiosk.clone();
        let weak = window.as_weak();
        let idle = idle.clone();
        move || {
            if k.borrow().session.require(Action::Devices).is_ok() {
                d.borrow().scale_command(command);
            }
            if let Some(w) = weak.upgrade() {
                super::touched(&w, &k, &idle);
            }
        }
    };
    use comptoir_hardware::scale::ScaleCommand as C;
    a.on_zero(scale(C::Zero));
    a.on_tare(scale(C::Tare));
    a.on_clear_tare(scale(C::ClearTare));
    {
        let d = devices.clone();
        let k = kiosk.clone();
        let weak = window.as_weak();
        let idle = idle.clone();
        a.on_test_print(move || {
            let Some(w) = weak.upgrade() else { return };
            super::touched(&w, &k, &idle);
            let result =
                crate::app::printing::queue_test_receipt(&k.borrow(), d.borrow().printer_section());
            match result {
                Ok(()) => d.borrow().wake_printer(),
                Err(e) => log::error!("test print: {e}"),
            }
        });
    }
    a.on_open_held({
        let k = kiosk.clone();
        let weak = window.as_weak();
        let idle = idle.clone();
        move || {
            let Some(w) = weak.upgrade() else { return };
            super::touched(&w, &k, &idle);
            w.global::<DevicesAdapter>().set_held_open(true);
            refresh(&w, &k.borrow());
        }
    });
    // Print or drop held jobs (an id, or -1 for all): the app checks the admin's right.
    let held_action = |print: bool| {
        let d = devices.clone();
        let k = kiosk.clone();
        let weak = window.as_weak();
        let idle = idle.clone();
        move |id: i32| {
            let Some(w) = weak.upgrade() else { return };
            super::touched(&w, &k, &idle);
            let which = if id < 0 {
                Which::All
            } else {
                Which::One(i64::from(id))
            };
            let done = if print {
                crate::app::printing::confirm_held(&k.borrow(), which)
            } else {
                crate::app::printing::drop_held(&k.borrow(), which)
            };
            match done {
                Ok(_) => d.borrow().wake_printer(),
                Err(e) => log::error!("held print jobs: {e}"),
            }
            let kiosk = k.borrow();
            if crate::app::printing::held_jobs(&kiosk).is_empty() {
                w.global::<DevicesAdapter>().set_held_open(false);
            }
            refresh(&w, &kiosk);
        }
    };
    a.on_print_held(held_action(true));
    a.on_drop_held(held_action(false));
    {
        let d = devices.clone();
        a.on_simulate_scale(move |c| {
            d.borrow().demo_scale(&c);
        });
    }
    {
        let d = devices.clone();
        a.on_simulate_printer(move |c| {
            d.borrow().demo_printer(&c);
        });
    }
    {
        let d = devices.clone();
        let k = kiosk.clone();
        a.on_simulate_scan(move |what| {
            let text = if what == "card" {
                crate::app::printing::some_card_payload(&k.borrow())
                    .unwrap_or_else(|| "CPT1".into())
            } else {
                "HELLO-WORLD-1234".to_string()
            };
            d.borrow().demo_scan(&text);
        });
    }
}

pub(super) fn refresh(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<DevicesAdapter>();
    let status = &kiosk.devices;
    let lang = Lang::from_code(&kiosk.language).unwrap_or(Lang::Fr);
    match status.scale {
        ScaleView::Absent => a.set_scale(ScaleStateKind::Absent),
        ScaleView::Disconnected => a.set_scale(ScaleStateKind::Disconnected),
        ScaleView::Waiting => a.set_scale(ScaleStateKind::Waiting),
        ScaleView::Weight { grams, stable, net } => {
            a.set_scale(ScaleStateKind::Weight);
            a.set_weight(format_kg(grams, lang).into());
            a.set_stable(stable);
            a.set_net(net);
        }
        ScaleView::Error(code) => {
            a.set_scale(ScaleStateKind::Error);
            a.set_scale_error(code.into());
        }
    }
    a.set_printer(match status.printer {
        None => PrinterStateKind::Absent,
        Some(p) if !p.connected => PrinterStateKind::Disconnected,
        Some(p) if p.paper_end => PrinterStateKind::PaperOut,
        Some(p) if p.cover_open => PrinterStateKind::CoverOpen,
        Some(p) if p.offline => PrinterStateKind::Offline,
        Some(p) if p.error => PrinterStateKind::Error,
        Some(p) if p.paper_near_end => PrinterStateKind::PaperLow,
        Some(_) => PrinterStateKind::Ready,
    });
    a.set_printer_waiting(status.printer_waiting as i32);
    a.set_printer_held(status.printer_held as i32);
    if a.get_held_open() {
        let rows: Vec<HeldJobRow> = crate::app::printing::held_jobs(kiosk)
            .iter()
            .map(|j| held_row(j, kiosk.config.tz()))
            .collect();
        // Only a changed list is set again: a new model would scroll the list back up.
        let current = a.get_held_jobs();
        if current.row_count() != rows.len() || current.iter().zip(&rows).any(|(a, b)| a != *b) {
            a.set_held_jobs(ModelRc::new(VecModel::from(rows)));
        }
        // Shown from the queue itself, not the worker's last count, which lags a turn.
        a.set_printer_held(a.get_held_jobs().row_count() as i32);
    }
    a.set_scanner(match status.scanner {
        None => ScannerStateKind::Absent,
        Some(false) => ScannerStateKind::Disconnected,
        Some(true) => ScannerStateKind::Ready,
    });
    match &status.last_scan {
        None => a.set_last_scan(ScanKind::None),
        Some(LastScan::Resident(id)) => {
            a.set_last_scan(ScanKind::Resident);
            a.set_last_resident(*id as i32);
        }
        Some(LastScan::UnknownCard) => a.set_last_scan(ScanKind::Unknown),
        Some(LastScan::Refused(code)) => {
            a.set_last_scan(ScanKind::Refused);
            a.set_scan_refusal((*code).into());
        }
    }
}

/// A held job for the list: its kind as a code (the view words it), and when it was queued in
/// local time.
fn held_row(job: &HeldJob, tz: chrono_tz::Tz) -> HeldJobRow {
    let (kind, what) = match job.label.split_once(' ') {
        Some((k @ ("ticket" | "duplicata" | "card" | "sign"), rest)) => (k, rest),
        Some(("Z", rest)) => ("z", rest),
        None if job.label == "test" => ("test", ""),
        _ => ("other", job.label.as_str()),
    };
    let queued = chrono::DateTime::parse_from_rfc3339(&job.created_utc)
        .map(|t| t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_else(|_| job.created_utc.clone());
    HeldJobRow {
        id: job.id as i32,
        kind: kind.into(),
        what: what.into(),
        queued: queued.into(),
    }
}
