//! Who is signed in at the kiosk: choosing a name, typing a PIN, lockouts, sign-out and the
//! staff timeout.
//!
//! Five wrong PINs in a row lock that person for five minutes. Lockouts are derived from the
//! `staff_events` ledger, so they survive a restart. PINs of the wrong length are refused
//! without counting as a failure (they are a slip of the finger, not a guess).

use chrono::{DateTime, Duration, Utc};

use super::roles::{self, Action};
use super::Clock;
use crate::store::people::{self, Role, Staff, StaffEvent};
use crate::store::{utc_text, Store};

/// Wrong PINs before a lock.
pub const MAX_FAILURES: i64 = 5;
/// How long a lock lasts.
pub const LOCK_MINUTES: i64 = 5;
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

/// Minutes left on a person's lock, if locked now.
pub fn lock_minutes_left(
    store: &Store,
    staff_id: i64,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<i64>> {
    let Some(started) = people::last_lock(store.conn(), staff_id)? else {
        return Ok(None);
    };
    let Ok(started) = DateTime::parse_from_rfc3339(&started) else {
        return Ok(None);
    };
    let until = started.with_timezone(&Utc) + Duration::minutes(LOCK_MINUTES);
    if now >= until {
        return Ok(None);
    }
    let seconds = (until - now).num_seconds();
    Ok(Some((seconds + 59) / 60))
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

    /// Step two: OK on the keypad. Signs the person in when the PIN is right, the person is
    /// not locked, and their role reaches `needs` (the screen they are signing in for).
    pub fn submit(
        &mut self,
        store: &Store,
        clock: &Clock,
        needs: Option<Action>,
        screen: &str,
    ) -> Result<Staff, SignInError> {
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
            people::record_event(
                conn,
                &now_text,
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
                    &now_text,
                    StaffEvent::Locked,
                    Some(staff_id),
                    None,
                    screen,
                    "",
                )?;
                self.pending = None;
                return Err(SignInError::Locked {
                    minutes: LOCK_MINUTES,
                });
            }
            return Err(SignInError::WrongPin {
                attempts_left: MAX_FAILURES - failures,
            });
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
