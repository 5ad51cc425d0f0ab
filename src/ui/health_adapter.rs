//! The health banners and the failed-check screen: maps [`crate::app::health::Health`] into
//! `HealthAdapter`, and drains the health thread's reports from a timer on the UI thread.

use std::time::Duration;

use slint::ComponentHandle;

use super::{AppWindow, HealthAdapter, HealthFault, Shared};
use crate::app::health::{self, Checks, FaultKind, HealthConfig};
use crate::app::{self, Kiosk};

/// Sets the banners and the failure screen's texts from the kiosk's health.
pub fn refresh(window: &AppWindow, kiosk: &Kiosk) {
    let a = window.global::<HealthAdapter>();
    let h = &kiosk.health;
    a.set_checking(h.checks == Checks::Running);
    match &h.checks {
        Checks::Failed(f) => {
            a.set_fault(match f.kind {
                FaultKind::Unreadable => HealthFault::Unreadable,
                FaultKind::Damaged => HealthFault::Damaged,
                FaultKind::Journal => HealthFault::Journal,
                FaultKind::Missing => HealthFault::Missing,
                FaultKind::Schema => HealthFault::Schema,
                FaultKind::NoDatabase => HealthFault::NoDatabase,
            });
            a.set_detail(f.detail.as_str().into());
            a.set_since(
                f.since
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| {
                        t.with_timezone(&kiosk.config.tz())
                            .format("%d/%m/%Y %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default()
                    .into(),
            );
        }
        _ => {
            a.set_fault(HealthFault::None);
            a.set_detail("".into());
            a.set_since("".into());
        }
    }
    let w = h.warnings;
    a.set_folder_missing(w.folder_missing);
    a.set_backup_stale(w.backup_stale.is_some());
    a.set_backup_days(match w.backup_stale {
        Some(Some(days)) => days.min(i32::MAX as u64) as i32,
        _ => -1,
    });
    a.set_disk_full(w.disk_nearly_full.is_some());
    a.set_disk_free_mb(w.disk_nearly_full.unwrap_or(0).min(i32::MAX as u64) as i32);
    a.set_backup_plain(w.backup_plain);
    let stick_full = match &h.last_backup {
        Some(Err(f)) => f.stick_full,
        _ => None,
    };
    let mb = |v: u64| v.min(i32::MAX as u64) as i32;
    a.set_stick_full(stick_full.is_some());
    a.set_stick_free_mb(stick_full.map_or(0, |(free, _)| mb(free)));
    a.set_stick_needed_mb(stick_full.map_or(0, |(_, needed)| mb(needed)));
}

/// Applies what the health thread reported; a failed check shows the failure screen at once
/// (whoever was signed in stays signed in: nothing is lost, nothing can be sold).
pub fn drain(window: &AppWindow, kiosk: &Shared) {
    let changed = kiosk.borrow_mut().health.drain();
    if !changed {
        return;
    }
    {
        let mut k = kiosk.borrow_mut();
        if matches!(k.health.checks, Checks::Failed(_)) && k.screen != app::Screen::HealthFailed {
            k.screen = app::Screen::HealthFailed;
        }
    }
    refresh(window, &kiosk.borrow());
    super::refresh(window, kiosk);
}

/// Keeps the health timers alive.
pub struct HealthWatch {
    _start: slint::Timer,
    _drain: slint::Timer,
}

/// Marks the checks as running (the banner shows in the first frame), starts the health
/// thread once the event loop turns (after the first frame), and drains its reports.
pub fn watch(window: &AppWindow, kiosk: &Shared, config: HealthConfig) -> HealthWatch {
    kiosk.borrow_mut().health.checks = Checks::Running;
    refresh(window, &kiosk.borrow());
    let start = slint::Timer::default();
    {
        let k = kiosk.clone();
        start.start(
            slint::TimerMode::SingleShot,
            Duration::from_millis(50),
            move || {
                health::start(&mut k.borrow_mut().health, config.clone());
            },
        );
    }
    let drain_timer = slint::Timer::default();
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        drain_timer.start(
            slint::TimerMode::Repeated,
            Duration::from_millis(100),
            move || {
                if let Some(w) = weak.upgrade() {
                    drain(&w, &k);
                }
            },
        );
    }
    HealthWatch {
        _start: start,
        _drain: drain_timer,
    }
}

/// Keeps the head file up to date: once a second, the keeper writes it when the journal moved
/// on (cheap otherwise). The timer lives as long as the returned handle.
pub fn keep_head(kiosk: &Shared, mut keeper: crate::app::boot::HeadKeeper) -> slint::Timer {
    let timer = slint::Timer::default();
    let k = kiosk.clone();
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_secs(1),
        move || {
            if let Ok(k) = k.try_borrow() {
                keeper.tick(&k.store);
            }
        },
    );
    timer
}
