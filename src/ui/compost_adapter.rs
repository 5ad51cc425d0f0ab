//! Adapter of the composter's screens (`compost.*`), the residents' admin screen and the
//! credits part of the payment screen.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use slint::{ComponentHandle, ModelRc, VecModel};

use super::{
    AppState, AppWindow, Bar, BinRow, CompostAdapter, CompostStep, FigureRow, ResidentRow,
    ResidentsAdapter, SellFlowAdapter, Shared,
};
use crate::app::compost::{self, Step};
use crate::app::residents::{self, Registration};
use crate::app::roles::Action;
use crate::app::{Kiosk, Screen};
use crate::devices::Devices;
use crate::domain::money::format_money;
use crate::domain::weight::{format_grams_short, format_kg};
use crate::domain::Lang;
use crate::store::compost::{self as store, BinStatus, WasteKind};

/// What the admin screens type and choose before it is saved.
#[derive(Debug, Default)]
struct Forms {
    registration: Option<Registration>,
    /// The card just made (registered or reissued), printed as it is by "print the card"; any
    /// other print makes a new card (only the card's hash is stored).
    fresh_card: Option<residents::NewCard>,
    /// The resident whose details the form changes; `None`: a new registration.
    editing: Option<i64>,
    /// Where the screen's keyboard types: "nickname" or "building".
    field: String,
    selected: Option<i64>,
    message: String,
    confirm_anonymise: bool,
    bin: Option<i64>,
    bin_entry: String,
    bin_digits: String,
    bin_message: String,
    granularity: String,
}

thread_local! {
    static FORMS: RefCell<Forms> = RefCell::new(Forms {
        bin_entry: "temperature".into(),
        granularity: "month".into(),
        ..Forms::default()
    });
    /// Resident screens go back to idle after 60 s without a touch; the thanks after 8 s.
    static RESIDENT_TIMER: slint::Timer = slint::Timer::default();
}

/// (Re)starts the resident screens' timer: after `seconds` the visit ends (nothing recorded
/// unless confirmed) and the idle screen shows again, in the kiosk's language.
fn restart_resident_timer(window: &AppWindow, kiosk: &Shared, seconds: u64) {
    let weak = window.as_weak();
    let k = kiosk.clone();
    RESIDENT_TIMER.with(|t| {
        t.start(
            slint::TimerMode::SingleShot,
            Duration::from_secs(seconds),
            move || {
                let Some(w) = weak.upgrade() else { return };
                compost::end(&mut k.borrow_mut());
                super::refresh(&w, &k);
            },
        )
    });
}

/// A card was read (serial reader or keyboard wedge): somebody is at the kiosk, as after a
/// touch. The idle timers restart, and a deposit the card started gets the compost flow's own
/// 60 s timer, so a resident who then touches nothing is sent back to the idle screen.
pub(super) fn scanned(window: &AppWindow, kiosk: &Shared, idle: &Rc<slint::Timer>) {
    super::touched(window, kiosk, idle);
    if kiosk.borrow().compost.visit.is_some() {
        restart_resident_timer(window, kiosk, compost::RESIDENT_IDLE_SECONDS);
    }
}

pub(super) fn wire(
    window: &AppWindow,
    kiosk: &Shared,
    devices: &Rc<RefCell<Devices>>,
    idle: &Rc<slint::Timer>,
) {
    {
        let mut k = kiosk.borrow_mut();
        if k.compost.compost_only && k.screen == Screen::Home {
            k.screen = Screen::CompostIdle;
        }
    }
    let a = window.global::<CompostAdapter>();
    a.set_compost_only(kiosk.borrow().compost.compost_only);
    macro_rules! on {
        ($setter:ident, |$k:ident, $w:ident, $i:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {{
            let weak = window.as_weak();
            let kiosk = kiosk.clone();
            let $i = idle.clone();
            a.$setter(move |$($arg: $ty),*| {
                let Some($w) = weak.upgrade() else { return };
                {
                    let $k = &kiosk;
                    $body;
                }
                super::refresh(&$w, &kiosk);
            });
        }};
    }
    on!(on_touched, |k, w, _idle| restart_resident_timer(
        &w,
        k,
        compost::RESIDENT_IDLE_SECONDS
    ));
    on!(on_cancel, |k, w, _idle| {
        compost::end(&mut k.borrow_mut());
        RESIDENT_TIMER.with(|t| t.stop());
        let _ = &w;
    });
    on!(on_done, |k, w, _idle| {
        compost::end(&mut k.borrow_mut());
        RESIDENT_TIMER.with(|t| t.stop());
        let _ = &w;
    });
    on!(on_another, |k, w, _idle| {
        compost::another(&mut k.borrow_mut());
        restart_resident_timer(&w, k, compost::RESIDENT_IDLE_SECONDS);
    });
    on!(on_choose_kind, |k, w, _idle, code: slint::SharedString| {
        if let Some(kind) = WasteKind::parse(&code) {
            compost::choose_kind(&mut k.borrow_mut(), kind);
        }
        restart_resident_timer(&w, k, compost::RESIDENT_IDLE_SECONDS);
    });
    on!(on_full_weighed, |k, w, _idle| {
        let _ = compost::full_weighed(&mut k.borrow_mut());
        restart_resident_timer(&w, k, compost::RESIDENT_IDLE_SECONDS);
    });
    on!(on_confirm, |k, w, _idle| {
        let done = compost::confirm(&mut k.borrow_mut());
        match done {
            Ok(_) => restart_resident_timer(&w, k, compost::THANKS_SECONDS),
            Err(n) => {
                log::info!("deposit refused: {}", n.code());
                restart_resident_timer(&w, k, compost::RESIDENT_IDLE_SECONDS);
            }
        }
    });
    // Composters.
    on!(on_select_bin, |k, w, idle, id: i32| {
        FORMS.with(|f| f.borrow_mut().bin = Some(i64::from(id)));
        super::touched(&w, k, &idle);
    });
    on!(on_bin_turned, |k, w, idle| {
        bin_log(k, compost::BinAction::Turned);
        super::touched(&w, k, &idle);
    });
    on!(on_bin_next_status, |k, w, idle| {
        bin_log(k, compost::BinAction::NextStatus);
        super::touched(&w, k, &idle);
    });
    on!(
        on_bin_entry_kind,
        |k, w, idle, code: slint::SharedString| {
            FORMS.with(|f| {
                let mut f = f.borrow_mut();
                f.bin_entry = code.to_string();
                f.bin_digits.clear();
            });
            super::touched(&w, k, &idle);
        }
    );
    on!(on_bin_digit, |k, w, idle, d: slint::SharedString| {
        FORMS.with(|f| {
            let mut f = f.borrow_mut();
            if f.bin_digits.len() < 6 && d.chars().all(|c| c.is_ascii_digit()) {
                f.bin_digits.push_str(&d);
            }
        });
        super::touched(&w, k, &idle);
    });
    on!(on_bin_erase, |k, w, idle| {
        FORMS.with(|f| f.borrow_mut().bin_digits.pop());
        super::touched(&w, k, &idle);
    });
    on!(on_bin_ok, |k, w, idle| {
        let (entry, digits) = FORMS.with(|f| {
            let f = f.borrow();
            (f.bin_entry.clone(), f.bin_digits.clone())
        });
        match digits.parse::<i64>() {
            // Temperatures are typed in tenths (425 is 42,5 °C); weights in kg with 3 decimals.
            Ok(n) if n > 0 => bin_log(
                k,
                match entry.as_str() {
                    "temperature" => compost::BinAction::Temperature(n),
                    "brown" => compost::BinAction::BrownAdded(n),
                    _ => compost::BinAction::Emptied(n),
                },
            ),
            _ => FORMS.with(|f| f.borrow_mut().bin_message = "empty".into()),
        }
        super::touched(&w, k, &idle);
    });
    on!(
        on_set_granularity,
        |k, w, idle, code: slint::SharedString| {
            FORMS.with(|f| f.borrow_mut().granularity = code.to_string());
            super::touched(&w, k, &idle);
        }
    );
    wire_residents(window, kiosk, devices, idle);
}

fn selected_bin(k: &Kiosk) -> Option<store::Bin> {
    let chosen = FORMS.with(|f| f.borrow().bin);
    match compost::selected_bin(k, chosen) {
        Ok(bin) => bin,
        Err(e) => {
            log::error!("bins: {e}");
            None
        }
    }
}

/// Records something done to the selected bin (garden leads and admins); the form says how
/// it went.
fn bin_log(kiosk: &Shared, action: compost::BinAction) {
    let chosen = FORMS.with(|f| f.borrow().bin);
    let result = compost::log_bin(&mut kiosk.borrow_mut(), chosen, action);
    let message = match result {
        Ok(()) => "saved",
        Err(compost::BinLogError::Store(e)) => {
            log::error!("bin: {e}");
            "store"
        }
        Err(compost::BinLogError::Denied(_) | compost::BinLogError::NoBin) => "not_allowed",
    };
    FORMS.with(|f| {
        let mut f = f.borrow_mut();
        f.bin_message = message.into();
        if message == "saved" {
            f.bin_digits.clear();
        }
    });
}

fn wire_residents(
    window: &AppWindow,
    kiosk: &Shared,
    devices: &Rc<RefCell<Devices>>,
    idle: &Rc<slint::Timer>,
) {
    let a = window.global::<ResidentsAdapter>();
    macro_rules! on {
        ($setter:ident, |$k:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {{
            let weak = window.as_weak();
            let kiosk = kiosk.clone();
            let idle = idle.clone();
            a.$setter(move |$($arg: $ty),*| {
                let Some(w) = weak.upgrade() else { return };
                // The body may return early: the screen is refreshed all the same.
                #[allow(clippy::redundant_closure_call)]
                (|$k: &Shared| {
                    $body;
                })(&kiosk);
                super::touched(&w, &kiosk, &idle);
                super::refresh(&w, &kiosk);
            });
        }};
    }
    fn form(f: impl FnOnce(&mut Registration)) {
        FORMS.with(|forms| {
            if let Some(r) = forms.borrow_mut().registration.as_mut() {
                f(r);
            }
        });
    }
    fn message(m: &str) {
        FORMS.with(|f| {
            let mut f = f.borrow_mut();
            f.message = m.into();
            f.confirm_anonymise = false;
        });
    }
    on!(on_select, |_k, id: i32| FORMS.with(|f| {
        let mut f = f.borrow_mut();
        f.selected = Some(i64::from(id));
        f.registration = None;
        f.editing = None;
        f.message.clear();
        f.confirm_anonymise = false;
    }));
    on!(on_new_resident, |_k| FORMS.with(|f| {
        let mut f = f.borrow_mut();
        f.registration = Some(Registration {
            household_size: Some(1),
            language: "fr".into(),
            ..Registration::default()
        });
        f.editing = None;
        f.field = "nickname".into();
        f.message.clear();
    }));
    on!(on_edit, |k| {
        let Some(id) = FORMS.with(|f| f.borrow().selected) else {
            return;
        };
        match store::resident(k.borrow().store.conn(), id) {
            Ok(Some(r)) if r.anonymised_utc.is_none() => FORMS.with(|f| {
                let mut f = f.borrow_mut();
                f.registration = Some(Registration::of(&r));
                f.editing = Some(id);
                f.field = "nickname".into();
                f.message.clear();
                f.confirm_anonymise = false;
            }),
            Ok(Some(_)) => message("anonymised_resident"),
            Ok(None) => message("unknown_resident"),
            Err(e) => {
                log::error!("resident {id}: {e}");
                message("store");
            }
        }
    });
    on!(on_focus, |_k, field: slint::SharedString| FORMS.with(|f| {
        f.borrow_mut().field = if field == "building" {
            "building".into()
        } else {
            "nickname".into()
        };
    }));
    // The keyboard types into the focused field, up to the longest detail allowed.
    on!(on_nickname_char, |_k, c: slint::SharedString| {
        let building = FORMS.with(|f| f.borrow().field == "building");
        form(|r| {
            let text = if building {
                &mut r.building
            } else {
                &mut r.nickname
            };
            if text.chars().count() < residents::MAX_DETAIL_CHARS {
                text.push_str(&c);
            }
        })
    });
    on!(on_nickname_erase, |_k| {
        let building = FORMS.with(|f| f.borrow().field == "building");
        form(|r| {
            if building {
                r.building.pop();
            } else {
                r.nickname.pop();
            }
        })
    });
    on!(on_set_building, |_k, b: slint::SharedString| form(|r| {
        r.building = if r.building == b.as_str() {
            String::new()
        } else {
            b.to_string()
        };
    }));
    on!(on_household_step, |_k, step: i32| form(|r| {
        let n = r.household_size.unwrap_or(1) + i64::from(step);
        r.household_size = Some(n.clamp(1, 20));
    }));
    on!(on_set_language, |_k, l: slint::SharedString| form(|r| {
        r.language = l.to_string();
    }));
    on!(on_set_bucket, |_k, b: slint::SharedString| form(|r| {
        r.bucket_tare_g = b.parse().ok();
    }));
    on!(on_close_form, |_k| FORMS.with(|f| {
        let mut f = f.borrow_mut();
        f.registration = None;
        f.editing = None;
    }));
    on!(on_register, |k| {
        let Some(r) = FORMS.with(|f| f.borrow().registration.clone()) else {
            return;
        };
        if let Some(id) = FORMS.with(|f| f.borrow().editing) {
            match residents::update(&mut k.borrow_mut(), id, &r) {
                Ok(changed) => {
                    FORMS.with(|f| {
                        let mut f = f.borrow_mut();
                        f.registration = None;
                        f.editing = None;
                    });
                    message(if changed { "updated" } else { "unchanged" });
                }
                // The form stays open with what was typed, and says what is wrong.
                Err(e) => FORMS.with(|f| f.borrow_mut().message = e.code().into()),
            }
        } else {
            match residents::register(&mut k.borrow_mut(), &r) {
                Ok(card) => {
                    FORMS.with(|f| {
                        let mut f = f.borrow_mut();
                        f.registration = None;
                        f.selected = Some(card.resident_id);
                        f.fresh_card = Some(card);
                    });
                    message("saved");
                }
                Err(e) => message(e.code()),
            }
        }
    });
    {
        let d = devices.clone();
        on!(on_print_card, |k| {
            let Some(id) = FORMS.with(|f| f.borrow().selected) else {
                return;
            };
            let result = {
                let devices = d.borrow();
                match devices.printer_section() {
                    Some(section) => {
                        let fresh = FORMS.with(|f| f.borrow_mut().fresh_card.take());
                        residents::print_card(&mut k.borrow_mut(), section, id, fresh)
                    }
                    None => Err(residents::ResidentError::NoPrinter),
                }
            };
            match result {
                Ok(()) => {
                    d.borrow().wake_printer();
                    message("printed");
                }
                Err(e) => message(e.code()),
            }
        });
    }
    on!(on_reissue, |k| {
        let Some(id) = FORMS.with(|f| f.borrow().selected) else {
            return;
        };
        match residents::reissue(&mut k.borrow_mut(), id) {
            Ok(card) => {
                FORMS.with(|f| f.borrow_mut().fresh_card = Some(card));
                message("reissued");
            }
            Err(e) => message(e.code()),
        }
    });
    on!(on_revoke, |k| {
        let Some(id) = FORMS.with(|f| f.borrow().selected) else {
            return;
        };
        match residents::revoke(&mut k.borrow_mut(), id) {
            Ok(()) => message("revoked"),
            Err(e) => message(e.code()),
        }
    });
    on!(on_anonymise, |k| {
        let Some(id) = FORMS.with(|f| f.borrow().selected) else {
            return;
        };
        let confirmed = FORMS.with(|f| f.borrow().confirm_anonymise);
        if !confirmed {
            FORMS.with(|f| f.borrow_mut().confirm_anonymise = true);
            return;
        }
        match residents::anonymise(&mut k.borrow_mut(), id) {
            Ok(()) => message("anonymised"),
            Err(residents::ResidentError::Anonymised) => message("anonymised_resident"),
            Err(e) => message(e.code()),
        }
    });
}

/// Shows the composter's screens and the residents' screen with fresh data.
pub(super) fn refresh(window: &AppWindow, kiosk: &Kiosk) {
    // The resident's language on their screens, the kiosk's again at idle.
    let state = window.global::<AppState>();
    if state.get_language().as_str() != kiosk.language {
        super::apply_language(window, &kiosk.language);
    }
    let a = window.global::<CompostAdapter>();
    a.set_compost_only(kiosk.compost.compost_only);
    let notice = kiosk.compost.notice;
    a.set_notice(notice.map_or("", |n| n.code()).into());
    a.set_fault(notice.map_or("", |n| n.fault()).into());
    if !matches!(kiosk.screen, Screen::CompostWeigh | Screen::CompostThanks) {
        a.set_choosing_language(false);
    }
    match kiosk.screen {
        Screen::CompostWeigh => refresh_weigh(window, kiosk),
        Screen::CompostThanks => refresh_thanks(window, kiosk),
        Screen::CompostBins => refresh_bins(window, kiosk),
        Screen::CompostImpact => refresh_impact(window, kiosk),
        Screen::AdminResidents => refresh_residents(window, kiosk),
        _ => {}
    }
}

fn refresh_weigh(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<CompostAdapter>();
    let l = kiosk.lang();
    let Some(v) = &kiosk.compost.visit else {
        return;
    };
    a.set_nickname(v.nickname.clone().unwrap_or_default().into());
    a.set_step(match v.step {
        Step::AskAnother => CompostStep::AskAnother,
        Step::Weigh => CompostStep::Weigh,
        Step::WeighFull => CompostStep::WeighFull,
        Step::WeighEmpty { .. } => CompostStep::WeighEmpty,
    });
    a.set_kind(v.kind.map_or("", |k| k.code()).into());
    a.set_tare(format_grams_short(v.bucket_tare_g.unwrap_or(0), l).into());
    a.set_gross(match v.step {
        Step::WeighEmpty { gross_g } => format_kg(gross_g, l).into(),
        _ => "".into(),
    });
    match compost::live_net(kiosk) {
        Some((net, stable)) => {
            a.set_scale_ok(true);
            a.set_weight(format_kg(net, l).into());
            a.set_stable(stable);
        }
        None => {
            a.set_scale_ok(false);
            a.set_stable(false);
        }
    }
    let weighable = compost::weigh_now(kiosk);
    a.set_can_confirm(weighable.is_ok() && v.kind.is_some() && v.step != Step::WeighFull);
    // A scale fault or an unplugged scale is said at once; other refusals after a tap.
    if kiosk.compost.notice.is_none() {
        if let Err(r @ crate::domain::metrology::WeighRefusal::ScaleError(_)) = weighable {
            a.set_notice(r.code().into());
            a.set_fault(r.fault_code().unwrap_or("").into());
        }
    }
}

fn refresh_thanks(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<CompostAdapter>();
    let l = kiosk.lang();
    let Some(t) = &kiosk.compost.thanks else {
        return;
    };
    a.set_nickname(t.nickname.clone().unwrap_or_default().into());
    a.set_thanks_net(format_kg(t.net_g, l).into());
    a.set_thanks_month(format_kg(t.month_g, l).into());
    a.set_thanks_total(format_kg(t.total_g, l).into());
    a.set_thanks_co2e(format_kg(t.co2e_total_g, l).into());
    a.set_thanks_credits(format_money(t.credits_earned, l).into());
    a.set_thanks_balance(format_money(t.balance, l).into());
}

fn local(kiosk: &Kiosk, utc: &str) -> Option<DateTime<chrono_tz::Tz>> {
    DateTime::parse_from_rfc3339(utc)
        .ok()
        .map(|t| t.with_timezone(&kiosk.config.tz()))
}

/// Tenths of a degree: `42,5 °C`.
fn format_celsius(tenths: i64, l: Lang) -> String {
    let sign = if tenths < 0 { "-" } else { "" };
    let t = tenths.unsigned_abs();
    format!(
        "{sign}{}{}{}\u{a0}°C",
        t / 10,
        l.decimal_separator(),
        t % 10
    )
}

fn refresh_bins(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<CompostAdapter>();
    let l = kiosk.lang();
    let now = kiosk.clock.now();
    let bins = store::bins(kiosk.store.conn()).unwrap_or_else(|e| {
        log::error!("bins: {e}");
        Vec::new()
    });
    let rows: Vec<BinRow> = bins
        .iter()
        .map(|b| {
            let turned = b
                .last_turned_utc
                .as_deref()
                .and_then(|t| local(kiosk, t))
                .map(|t| t.format("%d/%m").to_string())
                .unwrap_or_default();
            let (measured, temperature, overdue) = match &b.last_temperature {
                Some((t, v)) => {
                    let at = local(kiosk, t);
                    let days = at.map_or(0, |at| (now - at.with_timezone(&Utc)).num_days());
                    (
                        at.map(|t| t.format("%d/%m").to_string())
                            .unwrap_or_default(),
                        format_celsius(*v, l),
                        days > 7,
                    )
                }
                None => (String::new(), String::new(), b.status != BinStatus::Ready),
            };
            BinRow {
                id: b.id as i32,
                name: b.name.as_str().into(),
                status: b.status.code().into(),
                turned: turned.into(),
                temperature: temperature.into(),
                measured: measured.into(),
                filled: if b.status == BinStatus::Filling {
                    format_kg(b.filled_g, l).into()
                } else {
                    "".into()
                },
                overdue,
            }
        })
        .collect();
    let selected = selected_bin(kiosk).map_or(0, |b| b.id as i32);
    a.set_bins(ModelRc::new(VecModel::from(rows)));
    a.set_selected_bin(selected);
    FORMS.with(|f| {
        let f = f.borrow();
        a.set_bin_entry(f.bin_entry.as_str().into());
        let typed = match (f.bin_entry.as_str(), f.bin_digits.parse::<i64>()) {
            (_, Err(_)) => String::new(),
            ("temperature", Ok(n)) => format_celsius(n, l),
            (_, Ok(n)) => format_kg(n, l),
        };
        a.set_bin_typed(typed.into());
        a.set_bin_message(f.bin_message.as_str().into());
    });
}

/// Figures of the impact screen: the last 12 weeks, 12 months or 5 years.
fn refresh_impact(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<CompostAdapter>();
    let l = kiosk.lang();
    let granularity = FORMS.with(|f| f.borrow().granularity.clone());
    a.set_granularity(granularity.as_str().into());
    let today = kiosk
        .clock
        .now()
        .with_timezone(&kiosk.config.tz())
        .date_naive();
    let report = match compost::impact(kiosk.store.conn(), &granularity, today) {
        Ok(r) => r,
        Err(e) => {
            log::error!("impact: {e}");
            return;
        }
    };
    let max = report.bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let bars: Vec<Bar> = report
        .bars
        .iter()
        .map(|(label, g)| Bar {
            label: label.as_str().into(),
            value: format_grams_short(*g - *g % 1000, l)
                .replace(['\u{a0}'], " ")
                .into(),
            share: *g as f32 / max as f32,
        })
        .collect();
    a.set_bars(ModelRc::new(VecModel::from(bars)));
    let t = &report.totals;
    a.set_total(format_kg(t.grams, l).into());
    a.set_co2e(format_kg(t.co2e_g, l).into());
    a.set_households(t.households.to_string().into());
    a.set_deposits(t.deposits.to_string().into());
    a.set_per_household(
        format_kg(
            if t.households > 0 {
                t.grams / t.households
            } else {
                0
            },
            l,
        )
        .into(),
    );
    a.set_garden_own(format_kg(report.garden_g, l).into());
    let rows = |v: &[store::StatRow], households: bool| -> ModelRc<FigureRow> {
        let rows: Vec<FigureRow> = v
            .iter()
            .map(|r| FigureRow {
                key: r.key.as_str().into(),
                value: format_kg(r.grams, l).into(),
                detail: if households { r.households } else { r.deposits }
                    .to_string()
                    .into(),
            })
            .collect();
        ModelRc::new(VecModel::from(rows))
    };
    a.set_buildings(rows(&report.buildings, true));
    a.set_kinds(rows(&report.kinds, false));
}

fn refresh_residents(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<ResidentsAdapter>();
    let l = kiosk.lang();
    let list = match residents::list(kiosk) {
        Ok(list) => {
            a.set_read_failed(false);
            list
        }
        Err(e) => {
            log::error!("residents: {e}");
            a.set_read_failed(true);
            Vec::new()
        }
    };
    let mut buildings: Vec<String> = list.iter().filter_map(|r| r.building.clone()).collect();
    buildings.sort();
    buildings.dedup();
    buildings.truncate(5);
    let rows: Vec<ResidentRow> = list
        .iter()
        .map(|r| ResidentRow {
            id: r.id as i32,
            nickname: r.nickname.clone().unwrap_or_default().into(),
            building: r.building.clone().unwrap_or_default().into(),
            state: r.card.code().into(),
            balance: format_money(r.balance_cents, l).into(),
        })
        .collect();
    a.set_rows(ModelRc::new(VecModel::from(rows)));
    a.set_buildings(ModelRc::new(VecModel::from(
        buildings
            .into_iter()
            .map(slint::SharedString::from)
            .collect::<Vec<_>>(),
    )));
    a.set_can_anonymise(kiosk.session.may(Action::AnonymiseResident));
    a.set_admin_tabs(kiosk.session.may(Action::ManageStaff));
    FORMS.with(|f| {
        let f = f.borrow();
        a.set_selected(f.selected.unwrap_or(0) as i32);
        let chosen = f.selected.and_then(|id| list.iter().find(|r| r.id == id));
        a.set_selected_anonymised(
            chosen.is_none_or(|r| r.card == residents::CardState::Anonymised),
        );
        a.set_selected_card_fresh(
            f.selected.is_some() && f.fresh_card.as_ref().map(|c| c.resident_id) == f.selected,
        );
        if let Some(r) = chosen {
            a.set_selected_household(r.household_size.unwrap_or(1) as i32);
            a.set_selected_language(r.language.to_uppercase().into());
            a.set_selected_bucket(
                r.bucket_tare_g
                    .map_or(String::new(), |g| format_grams_short(g, l))
                    .into(),
            );
        }
        a.set_editing(f.editing.unwrap_or(0) as i32);
        a.set_field(f.field.as_str().into());
        a.set_message(f.message.as_str().into());
        a.set_confirm_anonymise(f.confirm_anonymise);
        a.set_registering(f.registration.is_some());
        if let Some(r) = &f.registration {
            a.set_nickname(r.nickname.as_str().into());
            a.set_building(r.building.as_str().into());
            a.set_household(r.household_size.unwrap_or(1) as i32);
            a.set_language(r.language.as_str().into());
            a.set_bucket(
                r.bucket_tare_g
                    .map_or("none".to_string(), |g| g.to_string())
                    .into(),
            );
        }
    });
}

/// The credits part of the payment screen.
pub(super) fn refresh_pay_credits(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<SellFlowAdapter>();
    let l = kiosk.lang();
    match crate::app::sell::credits_status(kiosk) {
        Some((id, balance, available)) => {
            a.set_credits_resident(id.to_string().into());
            a.set_credits_balance(format_money(balance, l).into());
            a.set_credits_available(format_money(available, l).into());
        }
        None => {
            a.set_credits_resident("".into());
            a.set_credits_balance("".into());
            a.set_credits_available("".into());
        }
    }
    let notice = kiosk
        .session
        .current()
        .and_then(|s| kiosk.sell.peek(s.id))
        .and_then(|c| c.credits_notice)
        .unwrap_or("");
    a.set_credits_notice(notice.into());
}

/// Screenshots: a resident at the scale (compost.weigh, with the fixed 1,234 kg reading), a
/// deposit just made (compost.thanks, on the in-memory copy), the bins and the impact as the
/// database has them.
pub fn stage(k: &mut Kiosk, screen: Screen) {
    if screen == Screen::AdminResidents {
        // The newest resident with details, chosen: their details line and actions show.
        let newest = store::residents(k.store.conn()).ok().and_then(|rs| {
            rs.into_iter()
                .find(|r| r.anonymised_utc.is_none() && r.nickname.is_some())
        });
        // No form left open by an earlier staging in this thread (the form state is the UI
        // thread's, and the touch-target test stages many UIs one after the other).
        FORMS.with(|f| {
            let mut f = f.borrow_mut();
            f.registration = None;
            f.editing = None;
            f.message.clear();
            f.confirm_anonymise = false;
            f.selected = newest.map(|r| r.id);
        });
        return;
    }
    if !matches!(screen, Screen::CompostWeigh | Screen::CompostThanks) {
        return;
    }
    // A resident who speaks the screenshot's language (`--lang`), so that it shows.
    let resident = store::residents(k.store.conn()).ok().and_then(|rs| {
        let shown = |r: &&store::Resident| r.anonymised_utc.is_none() && r.nickname.is_some();
        rs.iter()
            .rev()
            .filter(shown)
            .find(|r| r.language == k.language)
            .or_else(|| rs.iter().rev().find(shown))
            .map(|r| r.id)
    });
    let Some(id) = resident else {
        return;
    };
    if let Err(e) = compost::start_visit(k, id) {
        log::warn!("screenshot: {e}");
        return;
    }
    if let Some(v) = &mut k.compost.visit {
        v.bucket_tare_g = Some(v.bucket_tare_g.unwrap_or(450).min(500));
        v.step = Step::Weigh;
        v.kind = Some(WasteKind::Kitchen);
    }
    if screen == Screen::CompostThanks {
        if let Err(n) = compost::confirm(k) {
            log::warn!("screenshot: deposit refused: {}", n.code());
        }
    }
}
