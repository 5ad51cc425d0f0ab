//! The time source of the controllers: the system clock, or a clock that tests and screenshots
//! set by hand; and the administrator's time correction.
//!
//! # Setting the time
//!
//! A Raspberry Pi has no battery clock. Offline, it starts at the time it last saved, which
//! can be days behind: the journal then refuses every entry dated before its newest one
//! (ARCHITECTURE.md, "Time"), and selling and deposits stop with a message. An administrator sets
//! the time on the `admin.clock` screen ([`set_time`]): the correction is journaled first
//! (kind `clock_set`: `staff_id`, `from_utc`, `to_utc`; the one kind allowed to go back in
//! time), then applied. The kiosk asks the system to set its clock (`timedatectl set-time`;
//! the Pi guide's polkit rule allows the kiosk's user to); where the system refuses, the
//! kiosk keeps the correction as an offset over the system clock for as long as it runs.
//!
//! A correction back over closures written "in the future" voids them in the same transaction
//! (`closure_voided`), and the entries made meanwhile are placed by the corrected time: see
//! [`super::closures`].

use std::cell::Cell;
use std::rc::Rc;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub enum Clock {
    System,
    /// The system clock plus an administrator's correction the system refused to apply.
    Corrected(Rc<Cell<chrono::Duration>>),
    /// A time that only moves when told to (tests, reproducible screenshots).
    Manual(Rc<Cell<DateTime<Utc>>>),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Corrected(offset) => Utc::now() + offset.get(),
            Clock::Manual(t) => t.get(),
        }
    }

    pub fn manual(at: DateTime<Utc>) -> Clock {
        Clock::Manual(Rc::new(Cell::new(at)))
    }

    /// The kiosk's clock: the system's, which an administrator may correct.
    pub fn correctable() -> Clock {
        Clock::Corrected(Rc::new(Cell::new(chrono::Duration::zero())))
    }

    /// Applies a time correction: a manual clock jumps; a correctable clock asks the system
    /// first and otherwise keeps an offset. Returns whether the system clock itself was set.
    fn set(&self, to: DateTime<Utc>) -> bool {
        match self {
            Clock::Manual(t) => {
                t.set(to);
                false
            }
            Clock::Corrected(offset) => {
                let system = set_system_clock(to);
                offset.set(if system {
                    chrono::Duration::zero()
                } else {
                    to - Utc::now()
                });
                system
            }
            Clock::System => false,
        }
    }

    /// Moves a manual clock forward; does nothing to the system clock.
    pub fn advance(&self, by: chrono::Duration) {
        if let Clock::Manual(t) = self {
            t.set(t.get() + by);
        }
    }
}

/// Asks systemd to set the system clock (and the Pi's saved time with it).
fn set_system_clock(to: DateTime<Utc>) -> bool {
    let when = to.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    match std::process::Command::new("timedatectl")
        .args(["set-time", &when])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
    {
        Ok(status) if status.success() => true,
        Ok(status) => {
            log::warn!("timedatectl set-time refused ({status}): the kiosk keeps an offset");
            false
        }
        Err(e) => {
            log::warn!("timedatectl: {e}: the kiosk keeps an offset");
            false
        }
    }
}

/// The earliest and latest times an administrator may set (a typo of a year is refused).
pub const EARLIEST_YEAR: i32 = 2024;
pub const LATEST_YEAR: i32 = 2099;

#[derive(Debug, thiserror::Error)]
pub enum SetTimeError {
    #[error(transparent)]
    Denied(#[from] super::session::Denied),
    #[error("{0} is not a plausible time")]
    Implausible(DateTime<Utc>),
    #[error("journal: {0}")]
    Store(String),
}

impl SetTimeError {
    pub fn code(&self) -> &'static str {
        match self {
            SetTimeError::Denied(_) => "not_allowed",
            SetTimeError::Implausible(_) => "implausible",
            SetTimeError::Store(_) => "store",
        }
    }
}

/// What a time correction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeSet {
    /// The `clock_set` journal entry.
    pub seq: i64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The system clock was set too (otherwise the kiosk keeps an offset until it restarts).
    pub system: bool,
    /// The seqs of the closures voided because their periods end on or after the corrected
    /// date (written while the clock ran ahead).
    pub voided: Vec<i64>,
}

/// Sets the kiosk's time (administrators, [`super::roles::Action::SetTime`]): journaled as
/// `clock_set` with who, from and to, then applied. In the same transaction, closures written
/// while the clock ran ahead (periods ending on or after the corrected local date) are voided,
/// one `closure_voided` entry each ([`super::closures::void_future_closures`]); their periods
/// are closed again when they really end. Whole seconds; a time outside
/// [`EARLIEST_YEAR`]..=[`LATEST_YEAR`] is refused and nothing recorded.
pub fn set_time(kiosk: &mut super::Kiosk, to: DateTime<Utc>) -> Result<TimeSet, SetTimeError> {
    use chrono::{Datelike, Timelike};
    let me = kiosk.session.require(super::roles::Action::SetTime)?.id;
    let to = to.with_nanosecond(0).unwrap_or(to);
    if !(EARLIEST_YEAR..=LATEST_YEAR).contains(&to.year()) {
        return Err(SetTimeError::Implausible(to));
    }
    let from = kiosk.clock.now();
    let mut body = serde_json::Map::new();
    body.insert("staff_id".into(), me.into());
    body.insert("from_utc".into(), crate::store::utc_text(from).into());
    body.insert("to_utc".into(), crate::store::utc_text(to).into());
    let tz = kiosk.config.tz();
    let entry = (|| -> Result<(crate::store::journal::Entry, Vec<i64>), String> {
        let tx = kiosk.store.write().map_err(|e| e.to_string())?;
        let entry =
            crate::store::journal::append(&tx, crate::store::journal::KIND_CLOCK_SET, to, body)
                .map_err(|e| e.to_string())?;
        let voided = super::closures::void_future_closures(&tx, tz, to, entry.seq)
            .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
        Ok((entry, voided))
    })()
    .map_err(SetTimeError::Store)?;
    let (entry, voided) = entry;
    let system = kiosk.clock.set(to);
    Ok(TimeSet {
        seq: entry.seq,
        from,
        to,
        system,
        voided,
    })
}
