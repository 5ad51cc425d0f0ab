//! The admins' banner of wrong PINs (see `app::session::failures_for_banner`): filled when an
//! administrator signs in, emptied when they dismiss it or nobody is signed in any more.

use slint::{ComponentHandle, ModelRc, VecModel};

use super::{AppWindow, PinAlertAdapter, PinAlertRow};
use crate::app::session;
use crate::app::Kiosk;

/// The banner lists this many lines; the others are counted.
const SHOWN: usize = 4;

/// Fills the banner for admin `admin_id`, who just signed in (empty when nothing went wrong).
pub(super) fn show(window: &AppWindow, kiosk: &Kiosk, admin_id: i64) {
    let failures = match session::failures_for_banner(&kiosk.store, &kiosk.clock, admin_id) {
        Ok(f) => f,
        Err(e) => {
            log::error!("reading wrong PINs for the banner: {e}");
            return;
        }
    };
    let tz = kiosk.config.tz();
    let rows: Vec<PinAlertRow> = failures
        .iter()
        .take(SHOWN)
        .map(|f| PinAlertRow {
            name: f.name.as_str().into(),
            count: f.count as i32,
            screen: f.screen.as_str().into(),
            when: chrono::DateTime::parse_from_rfc3339(&f.last_utc)
                .map(|t| t.with_timezone(&tz).format("%d/%m %H:%M").to_string())
                .unwrap_or_else(|_| f.last_utc.clone())
                .into(),
        })
        .collect();
    let a = window.global::<PinAlertAdapter>();
    a.set_more(failures.len().saturating_sub(SHOWN) as i32);
    a.set_rows(ModelRc::new(VecModel::from(rows)));
}

fn clear(window: &AppWindow) {
    let a = window.global::<PinAlertAdapter>();
    a.set_rows(ModelRc::default());
    a.set_more(0);
}

pub(super) fn wire(window: &AppWindow) {
    let weak = window.as_weak();
    window.global::<PinAlertAdapter>().on_dismiss(move || {
        if let Some(w) = weak.upgrade() {
            clear(&w);
        }
    });
}

/// Nobody signed in: no banner.
pub(super) fn refresh(window: &AppWindow, kiosk: &Kiosk) {
    if kiosk.session.current().is_none() {
        clear(window);
    }
}
