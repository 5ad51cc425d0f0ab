//! Adapter of the date question ("Is today <date>?"), asked over the staff screens while
//! closures wait for a member of staff to confirm the date (see `app::closures`, "A clock that
//! jumps ahead"). Yes journals the confirmation and writes the closures; No sends an
//! administrator to the clock screen, and tells anybody else to call one.

use std::cell::Cell;
use std::rc::Rc;

use chrono::Datelike;
use slint::ComponentHandle;

use super::{AppWindow, DateConfirmAdapter, DateConfirmMessage, Shared};
use crate::app::closures::{self, ClosureError};
use crate::app::{Action, Kiosk, Screen};

thread_local! {
    static MESSAGE: Cell<DateConfirmMessage> = const { Cell::new(DateConfirmMessage::None) };
}

/// The question, when it must be asked on the current screen: somebody of the staff is signed
/// in on a staff screen (not the clock screen, where an administrator corrects the time).
pub fn question(kiosk: &Kiosk) -> Option<closures::DateQuestion> {
    if kiosk.session.current().is_none()
        || !kiosk.screen.is_staff()
        || kiosk.screen == Screen::AdminClock
    {
        return None;
    }
    match closures::date_question(kiosk) {
        Ok(q) => q,
        Err(ClosureError::ClockBehind { .. }) => None,
        Err(e) => {
            log::error!("date question: {e}");
            None
        }
    }
}

pub(super) fn wire(window: &AppWindow, kiosk: &Shared, idle: &Rc<slint::Timer>) {
    let a = window.global::<DateConfirmAdapter>();
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_yes(move || {
            let Some(w) = weak.upgrade() else { return };
            let result = closures::confirm_date(&mut k.borrow_mut(), None);
            MESSAGE.with(|m| {
                m.set(match result {
                    Ok(n) => {
                        log::info!("date confirmed: {n} closures written");
                        DateConfirmMessage::None
                    }
                    Err(e) => {
                        log::error!("date confirmation: {e}");
                        DateConfirmMessage::Failed
                    }
                })
            });
            super::touched(&w, &k, &idle);
            super::refresh(&w, &k);
        });
    }
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_no(move || {
            let Some(w) = weak.upgrade() else { return };
            let admin = k.borrow().session.may(Action::SetTime);
            if admin {
                MESSAGE.with(|m| m.set(DateConfirmMessage::None));
                k.borrow_mut().navigate(Screen::AdminClock);
            } else {
                MESSAGE.with(|m| m.set(DateConfirmMessage::CallAdmin));
            }
            super::touched(&w, &k, &idle);
            super::refresh(&w, &k);
        });
    }
}

pub(super) fn refresh(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<DateConfirmAdapter>();
    let Some(q) = question(kiosk) else {
        a.set_asking(false);
        MESSAGE.with(|m| m.set(DateConfirmMessage::None));
        return;
    };
    a.set_asking(true);
    a.set_weekday(q.today.weekday().number_from_monday() as i32);
    a.set_day(q.today.day().to_string().into());
    a.set_month(q.today.month() as i32);
    a.set_year(q.today.year().to_string().into());
    a.set_last_entry(q.last_entry.format("%d/%m/%Y").to_string().into());
    a.set_message(MESSAGE.with(|m| m.get()));
}
