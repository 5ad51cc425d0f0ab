//! Who is signed in at the kiosk: choosing a name, typing a PIN, lockouts, sign-out and the
//! staff timeout.
//!
//! Five wrong PINs in a row at the staff-side sign-in lock that person; each lock lasts longer
//! than the one before (5 min, 15 min, 1 h, then 4 h each time) until the person signs in, an
//! admin lifts the lock or resets the PIN. Lockouts are derived from the `staff_events` ledger,
//! so they survive a restart. PINs of the wrong length are refused without counting as a
//! failure (they are a slip of the finger, not a guess).
//!
//! The sign-in the composter's self-service screens ask for (the lockdown) is within a
//! resident's reach: a wrong PIN typed there is recorded (`pin_failed_resident`) but locks
//! nobody. More than [`RESIDENT_MAX_FAILURES`] of them within [`RESIDENT_WINDOW_MINUTES`]
//! pause sign-in from the resident screens for [`RESIDENT_PAUSE_MINUTES`]; the staff-side
//! sign-in is unaffected. Admins see the wrong PINs at their next sign-in.

use chrono::{DateTime, Duration, Utc};

use super::roles::{self, Action};
use super::Clock;
use crate::store::people::{self, Role, Staff, StaffEvent};
use crate::store::{utc_text, Store};

/// Wrong PINs before a lock.
pub const MAX_FAILURES: i64 = 5;
/// How long the first, second, third and fourth lock last; every later one lasts as long as
/// the last of these.
pub const LOCK_MINUTES: [i64; 4] = [5, 15, 60, 240];
/// Wrong PINs from the resident screens that are tolerated within the window...
pub const RESIDENT_MAX_FAILURES: usize = 10;
/// ...of this many minutes; one more pauses sign-in from the resident screens...
pub const RESIDENT_WINDOW_MINUTES: i64 = 10;
/// ...for this long.
pub const RESIDENT_PAUSE_MINUTES: i64 = 10;
/// The admins' banner lists wrong PINs of at most this many days.
pub const BANNER_DAYS: i64 = 14;
/// Staff screens lock after this long without a touch.
pub const STAFF_TIMEOUT_SECONDS: u64 = 5 * 60;

/// Why a sign-in step was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInError {
    /// No such person.
    Unknown,
    /// The person has been retired.
    Retired,
    /// Too many wrong PINs; minutes left (rounded up).
    Locked {
        minutes: i64,
    },
    /// Wrong PIN; tries left before the lock.
    WrongPin {
        attempts_left: i64,
    },
    /// Wrong PIN typed from the resident screens (it counts toward no one's lock).
    WrongPinHere,
    /// Too many wrong PINs from the resident screens: sign-in from them is paused until then.
    Paused {
        until: DateTime<Utc>,
    },
    /// Not 4 to 6 digits.
    BadLength,
    /// Right PIN, but the role does not reach the requested screen.
    NotAllowed,
    /// Nobody has been chosen yet.
    NobodyChosen,
    Store,
}

impl From<rusqlite::Error> for SignInError {
    fn from(e: rusqlite::Error) -> Self {
        log::error!("sign-in: {e}");
        SignInError::Store
    }
}

/// A refusal of a controller action for lack of a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("nobody is signed in")]
    NotSignedIn,
    #[error("{role:?} may not {action:?}")]
    Role { role: Role, action: Action },
}

/// The person typing a PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub staff: Staff,
    pub pin: String,
}

#[derive(Debug, Clone, Default)]
pub struct Session {
    current: Option<Staff>,
    since: Option<DateTime<Utc>>,
    pending: Option<Pending>,
}

/// Is a PIN well formed (4 to 6 ASCII digits)?
pub fn pin_well_formed(pin: &str) -> bool {
    (4..=6).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// How long the `nth` lock since the last reset lasts (1 for the first).
pub fn lock_minutes(nth: i64) -> i64 {
    let index = (nth.max(1) - 1).min(LOCK_MINUTES.len() as i64 - 1);
    LOCK_MINUTES[index as usize]
}

/// Where the sign-in is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The staff side: a wrong PIN counts toward the person's lock.
    Staff,
    /// The sign-in the composter's self-service screens ask for: a resident may be typing.
    Resident,
}

/// Until when sign-in from the resident screens is paused, if it is now: more than
/// [`RESIDENT_MAX_FAILURES`] wrong PINs from them within [`RESIDENT_WINDOW_MINUTES`] pause it
/// for [`RESIDENT_PAUSE_MINUTES`] from the last of them. Derived from the ledger.
pub fn resident_pause_until(
    store: &Store,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let since = now - Duration::minutes(RESIDENT_WINDOW_MINUTES + RESIDENT_PAUSE_MINUTES);
    let times: Vec<DateTime<Utc>> = people::resident_failure_times(store.conn(), &utc_text(since))?
        .iter()
        .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .collect();
    let window = Duration::minutes(RESIDENT_WINDOW_MINUTES);
    let until = times
        .windows(RESIDENT_MAX_FAILURES + 1)
        .filter(|w| w[RESIDENT_MAX_FAILURES] - w[0] < window)
        .map(|w| w[RESIDENT_MAX_FAILURES] + Duration::minutes(RESIDENT_PAUSE_MINUTES))
        .max();
    Ok(until.filter(|&u| now < u))
}

/// Minutes left on a person's lock, if locked now.
pub fn lock_minutes_left(
    store: &Store,
    staff_id: i64,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<i64>> {
    lock_minutes_left_in(store.conn(), staff_id, now)
}

/// [`lock_minutes_left`] on a connection (a transaction).
pub fn lock_minutes_left_in(
    conn: &rusqlite::Connection,
    staff_id: i64,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<i64>> {
    let Some((started, nth)) = people::last_lock(conn, staff_id)? else {
        return Ok(None);
    };
    let Ok(started) = DateTime::parse_from_rfc3339(&started) else {
        return Ok(None);
    };
    let until = started.with_timezone(&Utc) + Duration::minutes(lock_minutes(nth));
    if now >= until {
        return Ok(None);
    }
    let seconds = (until - now).num_seconds();
    Ok(Some((seconds + 59) / 60))
}

/// Records a wrong PIN typed on the staff side (the sign-in, a refund's approval) for
/// `staff_id`, and the lock it brings on at the [`MAX_FAILURES`]th: the refusal to show.
pub fn record_failure(
    store: &Store,
    staff_id: i64,
    now_text: &str,
    screen: &str,
) -> rusqlite::Result<SignInError> {
    let conn = store.conn();
    people::record_event(
        conn,
        now_text,
        StaffEvent::PinFailed,
        Some(staff_id),
        None,
        screen,
        "",
    )?;
    let failures = people::failures_since_reset(conn, staff_id)?;
    if failures >= MAX_FAILURES {
        people::record_event(
            conn,
            now_text,
            StaffEvent::Locked,
            Some(staff_id),
            None,
            screen,
            "",
        )?;
        let nth = people::last_lock(conn, staff_id)?.map_or(1, |(_, n)| n);
        return Ok(SignInError::Locked {
            minutes: lock_minutes(nth),
        });
    }
    Ok(SignInError::WrongPin {
        attempts_left: MAX_FAILURES - failures,
    })
}

/// The wrong PINs an admin who just signed in is shown: those since their sign-in before this
/// one, of at most [`BANNER_DAYS`].
pub fn failures_for_banner(
    store: &Store,
    clock: &Clock,
    admin_id: i64,
) -> rusqlite::Result<Vec<people::PinFailure>> {
    let after = people::previous_sign_in(store.conn(), admin_id)?;
    let since = utc_text(clock.now() - Duration::days(BANNER_DAYS));
    people::pin_failures_after(store.conn(), after, &since)
}

impl Session {
    /// The signed-in person.
    pub fn current(&self) -> Option<&Staff> {
        self.current.as_ref()
    }

    pub fn pending(&self) -> Option<&Pending> {
        self.pending.as_ref()
    }

    /// May the signed-in person do this?
    pub fn may(&self, action: Action) -> bool {
        self.current
            .as_ref()
            .is_some_and(|s| roles::allowed(s.role, action))
    }

    /// The check every controller action makes first.
    pub fn require(&self, action: Action) -> Result<&Staff, Denied> {
        let staff = self.current.as_ref().ok_or(Denied::NotSignedIn)?;
        if roles::allowed(staff.role, action) {
            Ok(staff)
        } else {
            Err(Denied::Role {
                role: staff.role,
                action,
            })
        }
    }

    /// Step one: a name was tapped.
    pub fn choose(
        &mut self,
        store: &Store,
        clock: &Clock,
        staff_id: i64,
    ) -> Result<&Pending, SignInError> {
        self.pending = None;
        let (staff, _) =
            people::staff_by_id(store.conn(), staff_id)?.ok_or(SignInError::Unknown)?;
        if !staff.active {
            return Err(SignInError::Retired);
        }
        if let Some(minutes) = lock_minutes_left(store, staff.id, clock.now())? {
            return Err(SignInError::Locked { minutes });
        }
        Ok(self.pending.insert(Pending {
            staff,
            pin: String::new(),
        }))
    }

    /// A keypad digit; PINs stop at 6 digits.
    pub fn digit(&mut self, d: char) {
        if let Some(p) = &mut self.pending {
            if d.is_ascii_digit() && p.pin.len() < 6 {
                p.pin.push(d);
            }
        }
    }

    pub fn erase(&mut self) {
        if let Some(p) = &mut self.pending {
            p.pin.pop();
        }
    }

    /// Back to the list of names.
    pub fn cancel(&mut self) {
        self.pending = None;
    }

    /// Step two: OK on the keypad of the staff-side sign-in. Signs the person in when the PIN
    /// is right, the person is not locked, and their role reaches `needs` (the screen they are
    /// signing in for).
    pub fn submit(
        &mut self,
        store: &Store,
        clock: &Clock,
        needs: Option<Action>,
        screen: &str,
    ) -> Result<Staff, SignInError> {
        self.submit_from(store, clock, needs, screen, Origin::Staff)
    }

    /// Step two, typed at `origin`: from the resident screens a wrong PIN locks nobody, and too
    /// many of them pause this sign-in (see [`resident_pause_until`]).
    pub fn submit_from(
        &mut self,
        store: &Store,
        clock: &Clock,
        needs: Option<Action>,
        screen: &str,
        origin: Origin,
    ) -> Result<Staff, SignInError> {
        if origin == Origin::Resident {
            if let Some(until) = resident_pause_until(store, clock.now())? {
                if let Some(p) = &mut self.pending {
                    p.pin.clear();
                }
                return Err(SignInError::Paused { until });
            }
        }
        let pending = self.pending.as_mut().ok_or(SignInError::NobodyChosen)?;
        let pin = std::mem::take(&mut pending.pin);
        let staff_id = pending.staff.id;
        if !pin_well_formed(&pin) {
            return Err(SignInError::BadLength);
        }
        let now = clock.now();
        let now_text = utc_text(now);
        let (staff, hash) =
            people::staff_by_id(store.conn(), staff_id)?.ok_or(SignInError::Unknown)?;
        if !staff.active {
            self.pending = None;
            return Err(SignInError::Retired);
        }
        if let Some(minutes) = lock_minutes_left(store, staff_id, now)? {
            self.pending = None;
            return Err(SignInError::Locked { minutes });
        }
        let conn = store.conn();
        if !people::verify_pin(&pin, &hash) {
            if origin == Origin::Resident {
                people::record_event(
                    conn,
                    &now_text,
                    StaffEvent::PinFailedResident,
                    Some(staff_id),
                    None,
                    screen,
                    "",
                )?;
                // The one that goes over the limit says so at once.
                if let Some(until) = resident_pause_until(store, now)? {
                    return Err(SignInError::Paused { until });
                }
                return Err(SignInError::WrongPinHere);
            }
            let refusal = record_failure(store, staff_id, &now_text, screen)?;
            if matches!(refusal, SignInError::Locked { .. }) {
                self.pending = None;
            }
            return Err(refusal);
        }
        if let Some(action) = needs {
            if !roles::allowed(staff.role, action) {
                people::record_event(
                    conn,
                    &now_text,
                    StaffEvent::Denied,
                    Some(staff_id),
                    None,
                    screen,
                    "",
                )?;
                self.pending = None;
                return Err(SignInError::NotAllowed);
            }
        }
        people::record_event(
            conn,
            &now_text,
            StaffEvent::SignedIn,
            Some(staff_id),
            Some(staff_id),
            screen,
            "",
        )?;
        self.pending = None;
        self.current = Some(staff.clone());
        self.since = Some(now);
        Ok(staff)
    }

    /// Signs out by the button (`timed_out` false) or by the staff timeout.
    pub fn sign_out(
        &mut self,
        store: &Store,
        clock: &Clock,
        timed_out: bool,
        screen: &str,
    ) -> Option<Staff> {
        self.pending = None;
        let staff = self.current.take()?;
        self.since = None;
        let kind = if timed_out {
            StaffEvent::TimedOut
        } else {
            StaffEvent::SignedOut
        };
        if let Err(e) = people::record_event(
            store.conn(),
            &utc_text(clock.now()),
            kind,
            Some(staff.id),
            Some(staff.id),
            screen,
            "",
        ) {
            log::error!("recording a sign-out: {e}");
        }
        Some(staff)
    }

    /// Refreshes the signed-in person from the store after an admin changed them.
    pub fn refresh(&mut self, store: &Store) -> rusqlite::Result<()> {
        if let Some(current) = &self.current {
            match people::staff_by_id(store.conn(), current.id)? {
                Some((staff, _)) if staff.active => self.current = Some(staff),
                _ => self.current = None,
            }
        }
        Ok(())
    }

    /// For screenshots and tests: somebody is signed in without a PIN.
    pub fn assume(&mut self, staff: Staff) {
        self.current = Some(staff);
    }
}

/// The names the sign-in screen offers: the active staff. A failure to read them is an error
/// the screen shows, never an empty list.
pub fn sign_in_list(store: &Store) -> rusqlite::Result<Vec<Staff>> {
    people::active_staff(store.conn())
}

/// Initials for a name tile: the first letters of the first two words ("Jean-Pierre" gives
/// "JP"), or the first two letters of a single word ("Nadia" gives "NA").
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .collect();
    let letters: String = match words.as_slice() {
        [] => String::new(),
        [one] => one.chars().take(2).collect(),
        [first, second, ..] => first
            .chars()
            .take(1)
            .chain(second.chars().take(1))
            .collect(),
    };
    letters.to_uppercase()
}
