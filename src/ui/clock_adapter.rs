//! Adapter of the clock screen: the kiosk's time, the administrator's correction (journaled as
//! `clock_set`), and the journal's signing key (a new key, confirmed by a second tap).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use slint::ComponentHandle;

use super::{AppWindow, ClockAdapter, ClockMessage, KeyStateKind, Shared};
use crate::app::clock::SetTimeError;
use crate::app::closures::{self, ClosureError};
use crate::app::Kiosk;

/// The time being chosen (UTC, whole minutes), and whether a new key waits for its second tap.
#[derive(Debug, Default)]
struct Draft {
    at: Option<DateTime<Utc>>,
    confirm_key: bool,
}

thread_local! {
    static DRAFT: Rc<RefCell<Draft>> = Rc::new(RefCell::new(Draft::default()));
    static MESSAGE: Cell<ClockMessage> = const { Cell::new(ClockMessage::None) };
}

fn draft() -> Rc<RefCell<Draft>> {
    DRAFT.with(Rc::clone)
}

/// The kiosk's time to the minute: where the choice starts.
fn start_of_draft(kiosk: &Kiosk) -> DateTime<Utc> {
    let now = kiosk.clock.now();
    now - Duration::seconds(i64::from(chrono::Timelike::second(&now)))
        - Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&now)))
}

/// Opening the screen: the choice starts at the kiosk's time, no message.
pub(super) fn reset() {
    *draft().borrow_mut() = Draft::default();
    MESSAGE.with(|m| m.set(ClockMessage::None));
}

fn key_state(kiosk: &Kiosk) -> KeyStateKind {
    match closures::check_key(kiosk, None) {
        Ok(()) => KeyStateKind::Ok,
        Err(ClosureError::KeyMissing { .. }) => KeyStateKind::Missing,
        Err(ClosureError::KeyMismatch { .. }) => KeyStateKind::Mismatch,
        Err(_) => KeyStateKind::Unknown,
    }
}

pub(super) fn wire(window: &AppWindow, kiosk: &Shared, idle: &Rc<slint::Timer>) {
    let a = window.global::<ClockAdapter>();
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_step(move |minutes| {
            let Some(w) = weak.upgrade() else { return };
            {
                let d = draft();
                let mut d = d.borrow_mut();
                let at = d.at.unwrap_or_else(|| start_of_draft(&k.borrow()));
                d.at = Some(at + Duration::minutes(i64::from(minutes)));
                d.confirm_key = false;
            }
            MESSAGE.with(|m| m.set(ClockMessage::None));
            super::touched(&w, &k, &idle);
            refresh(&w, &k.borrow());
        });
    }
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_set_time(move || {
            let Some(w) = weak.upgrade() else { return };
            let to = draft()
                .borrow()
                .at
                .unwrap_or_else(|| start_of_draft(&k.borrow()));
            let result = crate::app::clock::set_time(&mut k.borrow_mut(), to);
            let message = match result {
                Ok(set)
                    if set.system || matches!(k.borrow().clock, crate::app::Clock::Manual(_)) =>
                {
                    ClockMessage::TimeSet
                }
                Ok(_) => ClockMessage::TimeSetOffset,
                Err(SetTimeError::Implausible(_)) => ClockMessage::Implausible,
                Err(SetTimeError::Denied(_)) => ClockMessage::NotAllowed,
                Err(e) => {
                    log::error!("clock: {e}");
                    ClockMessage::Failed
                }
            };
            if matches!(message, ClockMessage::TimeSet | ClockMessage::TimeSetOffset) {
                draft().borrow_mut().at = None;
            }
            MESSAGE.with(|m| m.set(message));
            super::touched(&w, &k, &idle);
            super::refresh(&w, &k);
        });
    }
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_rotate_key(move || {
            let Some(w) = weak.upgrade() else { return };
            let d = draft();
            // The first tap asks; the second writes the new key and journals it.
            if !d.borrow().confirm_key {
                d.borrow_mut().confirm_key = true;
                MESSAGE.with(|m| m.set(ClockMessage::None));
            } else {
                d.borrow_mut().confirm_key = false;
                let reason = match key_state(&k.borrow()) {
                    KeyStateKind::Missing => "key file missing",
                    KeyStateKind::Mismatch => "key file replaced",
                    _ => "routine rotation",
                };
                let result = closures::confirm_key_rotation(&mut k.borrow_mut(), None, reason);
                MESSAGE.with(|m| {
                    m.set(match result {
                        Ok(_) => ClockMessage::KeyRotated,
                        Err(ClosureError::NotAllowed(_)) => ClockMessage::NotAllowed,
                        Err(e) => {
                            log::error!("key rotation: {e}");
                            ClockMessage::Failed
                        }
                    })
                });
            }
            super::touched(&w, &k, &idle);
            super::refresh(&w, &k);
        });
    }
}

pub(super) fn refresh(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<ClockAdapter>();
    let tz = kiosk.config.tz();
    let local = |t: DateTime<Utc>| tz.from_utc_datetime(&t.naive_utc());
    let now = kiosk.clock.now();
    a.set_now(local(now).format("%d/%m/%Y %H:%M").to_string().into());
    let last = crate::store::journal::last_time(kiosk.store.conn())
        .ok()
        .flatten();
    a.set_last_entry(
        last.map(|t| local(t).format("%d/%m/%Y %H:%M").to_string())
            .unwrap_or_else(|| "–".into())
            .into(),
    );
    a.set_behind(last.is_some_and(|l| now < l));
    let d = draft();
    let d = d.borrow();
    let at = local(d.at.unwrap_or_else(|| start_of_draft(kiosk)));
    a.set_draft_date(at.format("%d/%m/%Y").to_string().into());
    a.set_draft_time(at.format("%H:%M").to_string().into());
    a.set_draft_hour(at.format("%H h").to_string().into());
    a.set_draft_minute(at.format("%M min").to_string().into());
    a.set_key_state(key_state(kiosk));
    a.set_confirm_key(d.confirm_key);
    a.set_message(MESSAGE.with(|m| m.get()));
}
