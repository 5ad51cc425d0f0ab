//! The resident-facing screens' idle timer (rules in `app::lockdown`): after 60 s without a
//! touch on the home screen or the composter's idle screen, the kiosk's language comes back and
//! nobody stays signed in.

use std::rc::Rc;
use std::time::Duration;

use slint::ComponentHandle;

use super::{AppWindow, Shared};
use crate::app::lockdown;

/// (Re)starts the idle timer of a resident-facing screen.
pub(super) fn start_resident_timer(window: &AppWindow, kiosk: &Shared, idle: &Rc<slint::Timer>) {
    let weak = window.as_weak();
    let k = kiosk.clone();
    idle.start(
        slint::TimerMode::SingleShot,
        Duration::from_secs(lockdown::RESIDENT_IDLE_SECONDS),
        move || {
            let Some(w) = weak.upgrade() else { return };
            if !lockdown::resident_idle(&mut k.borrow_mut()) {
                return;
            }
            let language = k.borrow().language.clone();
            super::apply_language(&w, &language);
            super::refresh(&w, &k);
        },
    );
}
