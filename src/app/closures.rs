//! Day, month and year closures, made automatically once a period has ended (ARCHITECTURE.md,
//! "The journal"; issue 5, "Cash sessions and closures").
//!
//! # What is closed
//!
//! [`run_due`] appends, in this order, a `closure` entry for every local day that has ended
//! since the last day closure (or, for the first one, since the local date of the journal's
//! first entry), then one for every ended month, then one for every ended year. A period has
//! ended when its last local date is before today's local date in the configured time zone.
//! A kiosk that was off for days catches up at its next run: each missed period gets its own
//! closure, all dated now.
//!
//! **Days without a sale get a closure too**, with zero figures. The series of day closures
//! thus has no hole: an accountant sees every calendar day accounted for, and a missing day
//! can only mean a removed entry, never "nothing was sold". That is the usual "journal de
//! clôture" of French till software; a kiosk off for 20 days writes 20 empty day closures, a
//! few milliseconds of signing and about 1 kB each.
//!
//! # Which entries a period covers
//!
//! Periods cover contiguous ranges of `seq` (entries are ordered by `seq`, never by time): a
//! period starts just after the previous closure of its kind (`last_seq + 1`, or seq 1) and ends
//! just before the first later entry whose local date (`time_utc` in the configured zone) is
//! after the period's last day. Every entry thus belongs to exactly one day, one month and one
//! year, a month covers exactly the seqs of its days, and an entry dated early after an
//! admin's time correction falls into the period being closed rather than into a closed one.
//! The closure entries themselves are dated now, so they fall into the current period.
//!
//! Figures come from [`journal::sum_sales`] over the range (training tickets excluded); the
//! grand total is perpetual: the previous closure of the same kind's grand total plus the
//! period's total (every kind starts at seq 1, so the three grand totals agree).
//!
//! # Keys and the clock
//!
//! Closures are signed with the key file beside the database (`<db>.key`,
//! [`journal::key_path_for`]); [`journal::ensure_signing_key`] creates and registers it at the
//! first closure. When a key is registered but the file is missing or holds another key,
//! [`key_check`] fails with `key_missing` / `key_mismatch`: the lead blocks selling until an
//! admin confirms a rotation ([`confirm_key_rotation`]). [`run_due`] refuses the same way, and
//! refuses a clock earlier than the newest entry (`clock_behind`); a refusal appends nothing.
//!
//! An in-memory store (`:memory:`) has no place for a key beside it: [`close_due_periods`]
//! then needs an explicit key path and fails with `no_key_path` without one (signing is never
//! skipped: an unsigned closure would not verify).
//!
//! # A clock that jumps ahead: the date is confirmed first
//!
//! A Pi whose clock jumps weeks ahead would otherwise close every day up to the wrong date at
//! once. The kiosk ([`close_due_periods`]) therefore compares the periods due with the *last
//! entry's date*: the newest effective local date (below) of an entry dated before today, or,
//! when there is none, the day before the first period due. When yesterday is more than
//! `closure_confirm_after_days` (config, default 2) after that date, nothing is written and
//! [`ClosureError::DateUnconfirmed`] (`date_unconfirmed`) says so: selling and deposits wait
//! (the same refusal path as `clock_behind`) until a member of staff, any role, answers "Is
//! today <date>?" with Yes ([`confirm_date`]). The Yes journals a `date_confirmed` entry
//! (`staff_id`, `date`: today's local date, `last_entry_date`) and writes the closures, in one
//! transaction. Nothing records a standing answer: a restart asks again while closures wait.
//! [`run_due`] itself asks nothing (tests, tools); [`run_due_with`] takes the policy.
//!
//! # An admin sets the clock back: voided closures and effective times
//!
//! When an admin's `clock_set` (see [`super::clock::set_time`]) moves the time to `to_utc`,
//! every closure not yet voided whose `period_end` is on or after the local date of `to_utc`
//! was written "in the future": in the same transaction, right after the `clock_set` entry,
//! each gets its own `closure_voided` entry (`closure_seq`: the voided closure's seq,
//! `clock_set_seq`, `period`, `period_start`, `period_end`), dated `to_utc`. **A closure is
//! voided iff a later `closure_voided` entry names its seq.** A voided closure counts for
//! nothing: the next closure of its kind continues from the last closure of the same kind that
//! is not voided (its `last_seq + 1`, its `period_end + 1 day`, its grand total), so the
//! voided periods are closed again when they really end, and each kind's closures that are not
//! voided still cover contiguous ranges of seqs, one after the other from seq 1.
//!
//! Entries made under the wrong clock are placed by the corrected time through their
//! *effective time*, computed from the journal alone:
//!
//! - an entry's effective time starts as its `time_utc`;
//! - each `clock_set` entry `C` that went back (`to_utc < from_utc`), taken in seq order,
//!   moves every entry before it whose effective time is after `C.to_utc` back by
//!   `from_utc - to_utc`, and never later than `C.to_utc`:
//!   `effective = min(effective - (from_utc - to_utc), to_utc)`;
//! - `clock_set` entries that went forward (a clock that was behind) move nothing.
//!
//! Periods are then cut on effective local dates exactly as above ("Which entries a period
//! covers"): a period ends just before the first later entry whose *effective* date is after
//! its last day. So every entry is in exactly one day, month and year, ranges stay contiguous,
//! sales made between the jump and the correction fall into the day they really happened on
//! (or, if that day's closure was not voided, into the first open period), and the voided
//! closure entries themselves (moved back like any entry) fall into the period being closed.
//! Effective times are used for closures only: `time_utc` stays what it is everywhere else
//! (receipts, exports, the archive).
//!
//! # What a verifier recomputes
//!
//! For each kind (day, month, year), taking the closures in seq order and skipping every
//! voided one (named by a later `closure_voided`): `first_seq` is 1 for the first, else the
//! previous unvoided closure's `last_seq + 1`; `period_start` is the day after the previous
//! one's `period_end`; the figures are [`journal::sum_sales`] over `first_seq..=last_seq`;
//! `grand_total_cents` is the previous unvoided closure's plus `period_total_cents`. A
//! `closure_voided` entry must name an earlier `closure` entry not already voided, and its
//! `clock_set_seq` an earlier `clock_set` entry. Where a period was cut (`last_seq`) follows
//! from [`effective_times`] as the journal stood when the closure was written; figures and
//! ranges can be checked without it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::roles::Action;
use super::session::Denied;
use super::Kiosk;
use crate::store::journal::{self, ClosureFigures, Entry, JournalError, KeyStatus, Period};

#[derive(Debug, thiserror::Error)]
pub enum ClosureError {
    #[error(transparent)]
    NotAllowed(#[from] Denied),
    /// The clock reads earlier than the newest journal entry: nothing is closed.
    #[error("the clock reads earlier than the last journal entry ({last})")]
    ClockBehind { last: DateTime<Utc> },
    /// A key is registered but its file is gone: an admin must confirm a key rotation.
    #[error("signing key {} is missing; an admin must confirm a key rotation", path.display())]
    KeyMissing { path: PathBuf },
    /// The key file is not the registered key: an admin must confirm a key rotation.
    #[error("signing key {} is not the key registered in the journal", path.display())]
    KeyMismatch { path: PathBuf },
    /// An in-memory store and no key path given.
    #[error("an in-memory database needs an explicit signing key path")]
    NoKeyPath,
    /// Closures are due far beyond the last entry's date: a member of staff must confirm that
    /// today is `today` first ([`confirm_date`]). Nothing was written.
    #[error(
        "closures wait until a member of staff confirms that today is {today} (last entry {last})"
    )]
    DateUnconfirmed { today: NaiveDate, last: NaiveDate },
    #[error("journal: {0}")]
    Store(String),
}

impl ClosureError {
    /// The token the UI maps to a translated message.
    pub fn code(&self) -> &'static str {
        match self {
            ClosureError::NotAllowed(_) => "not_allowed",
            ClosureError::ClockBehind { .. } => "clock_behind",
            ClosureError::KeyMissing { .. } => "key_missing",
            ClosureError::KeyMismatch { .. } => "key_mismatch",
            ClosureError::NoKeyPath => "no_key_path",
            ClosureError::DateUnconfirmed { .. } => "date_unconfirmed",
            ClosureError::Store(_) => "store",
        }
    }

    /// Whether selling must wait: for an admin's key rotation, or for somebody to confirm
    /// the date.
    pub fn blocks_selling(&self) -> bool {
        matches!(
            self,
            ClosureError::KeyMissing { .. }
                | ClosureError::KeyMismatch { .. }
                | ClosureError::DateUnconfirmed { .. }
        )
    }
}

impl From<JournalError> for ClosureError {
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::ClockBehind { last } => ClosureError::ClockBehind { last },
            JournalError::KeyMissing { path } => ClosureError::KeyMissing { path },
            JournalError::KeyMismatch { path } => ClosureError::KeyMismatch { path },
            other => ClosureError::Store(other.to_string()),
        }
    }
}

impl From<rusqlite::Error> for ClosureError {
    fn from(e: rusqlite::Error) -> Self {
        ClosureError::Store(e.to_string())
    }
}

/// The first local date of the period of `period` holding `date`.
fn period_start(period: Period, date: NaiveDate) -> NaiveDate {
    match period {
        Period::Day => date,
        Period::Month => date.with_day(1).unwrap_or(date),
        Period::Year => NaiveDate::from_ymd_opt(date.year(), 1, 1).unwrap_or(date),
    }
}

/// The last local date of the period of `period` starting at `start`.
fn period_end(period: Period, start: NaiveDate) -> NaiveDate {
    match period {
        Period::Day => start,
        Period::Month => {
            let (y, m) = if start.month() == 12 {
                (start.year() + 1, 1)
            } else {
                (start.year(), start.month() + 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(start) - Duration::days(1)
        }
        Period::Year => NaiveDate::from_ymd_opt(start.year(), 12, 31).unwrap_or(start),
    }
}

/// Where the next closure of a kind starts.
struct Next {
    period: Period,
    start: NaiveDate,
    first_seq: i64,
    grand_total_cents: i64,
}

fn next_of(conn: &Connection, period: Period, first_date: NaiveDate) -> Result<Next, ClosureError> {
    Ok(match journal::last_closure(conn, period)? {
        Some(c) => Next {
            period,
            start: c.period_end + Duration::days(1),
            first_seq: c.last_seq + 1,
            grand_total_cents: c.grand_total_cents,
        },
        None => Next {
            period,
            start: period_start(period, first_date),
            first_seq: 1,
            grand_total_cents: 0,
        },
    })
}

fn parse_utc(seq: i64, time_utc: &str) -> Result<DateTime<Utc>, ClosureError> {
    DateTime::parse_from_rfc3339(time_utc)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ClosureError::Store(format!("journal entry {seq}: bad time_utc {time_utc}")))
}

fn local_date(seq: i64, time_utc: &str, tz: chrono_tz::Tz) -> Result<NaiveDate, ClosureError> {
    Ok(parse_utc(seq, time_utc)?.with_timezone(&tz).date_naive())
}

/// `(seq, effective time)` of this kiosk's entries from `from_seq` on, by seq: `time_utc`,
/// moved back by every later `clock_set` that went back (see the module documentation). An
/// entry's effective time depends only on the `clock_set` entries after it, so starting at
/// any seq gives the same times as starting at 1.
pub fn effective_times(
    conn: &Connection,
    from_seq: i64,
) -> Result<Vec<(i64, DateTime<Utc>)>, ClosureError> {
    let mut stmt = conn.prepare(
        "SELECT seq, time_utc,
                CASE WHEN kind = 'clock_set' THEN json_extract(payload, '$.from_utc') END,
                CASE WHEN kind = 'clock_set' THEN json_extract(payload, '$.to_utc') END
         FROM journal
         WHERE kiosk_id = (SELECT value FROM meta WHERE key = 'kiosk_id') AND seq >= ?1
         ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![from_seq])?;
    let mut out: Vec<(i64, DateTime<Utc>)> = Vec::new();
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let time: String = row.get(1)?;
        let from: Option<String> = row.get(2)?;
        let to: Option<String> = row.get(3)?;
        if let (Some(from), Some(to)) = (from, to) {
            let (from, to) = (parse_utc(seq, &from)?, parse_utc(seq, &to)?);
            if to < from {
                let back = from - to;
                for (_, t) in out.iter_mut() {
                    if *t > to {
                        *t = (*t - back).min(to);
                    }
                }
            }
        }
        out.push((seq, parse_utc(seq, &time)?));
    }
    Ok(out)
}

/// `(seq, effective local date)` of this kiosk's entries from `from_seq` on, by seq.
fn entry_dates(
    conn: &Connection,
    from_seq: i64,
    tz: chrono_tz::Tz,
) -> Result<Vec<(i64, NaiveDate)>, ClosureError> {
    Ok(effective_times(conn, from_seq)?
        .into_iter()
        .map(|(seq, t)| (seq, t.with_timezone(&tz).date_naive()))
        .collect())
}

/// The last seq of a period starting at `first_seq` and ending on `end`: just before the
/// first entry from `first_seq` on dated after `end` (`first_seq - 1` when that is the first).
fn cut(dates: &[(i64, NaiveDate)], first_seq: i64, end: NaiveDate) -> i64 {
    let from = dates.partition_point(|(seq, _)| *seq < first_seq);
    let mut last = first_seq - 1;
    for &(seq, date) in &dates[from..] {
        if date > end {
            break;
        }
        last = seq;
    }
    last
}

/// Runs `f` inside a savepoint (see [`crate::store::atomically`]): kept on success, undone on
/// error, inside or outside the caller's transaction.
fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce() -> Result<T, ClosureError>,
) -> Result<T, ClosureError> {
    crate::store::atomically(conn, f)
}

/// Whether closures far beyond the last entry wait for a member of staff (see the module
/// documentation, "A clock that jumps ahead").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateCheck {
    /// Write them (the date was confirmed, or the caller does not ask: tests, tools).
    Confirmed,
    /// Refuse with `date_unconfirmed` when yesterday is more than this many days after the
    /// last entry's date.
    AskAfterDays(u32),
}

/// The question to ask before closures are written: "Is today `today`?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateQuestion {
    /// Today's local date by the kiosk's clock.
    pub today: NaiveDate,
    /// The last entry's effective local date.
    pub last_entry: NaiveDate,
}

/// What is due at `now`: the next closure of each kind, the effective dates of the entries
/// they may cover, today's local date.
struct Due {
    plans: Vec<Next>,
    dates: Vec<(i64, NaiveDate)>,
    today: NaiveDate,
}

impl Due {
    fn is_due(&self, n: &Next) -> bool {
        period_end(n.period, n.start) < self.today
    }

    /// The question, when yesterday is more than `days` after the last entry's date.
    fn question(&self, days: u32) -> Option<DateQuestion> {
        let day_start = self
            .plans
            .iter()
            .filter(|n| self.is_due(n))
            .map(|n| n.start)
            .min()?;
        let last_entry = self
            .dates
            .iter()
            .map(|(_, d)| *d)
            .filter(|d| *d < self.today)
            .max()
            .unwrap_or(day_start - Duration::days(1));
        let yesterday = self.today - Duration::days(1);
        (yesterday - last_entry > Duration::days(i64::from(days))).then_some(DateQuestion {
            today: self.today,
            last_entry,
        })
    }
}

/// The closures due at `now`, `None` when nothing is due (or the journal is empty).
fn due_at(
    conn: &Connection,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<Option<Due>, ClosureError> {
    let Some(first) = journal::entry(conn, 1)? else {
        return Ok(None);
    };
    let first_date = local_date(first.seq, &first.time_utc, tz)?;
    let today = now.with_timezone(&tz).date_naive();
    let mut plans = Vec::with_capacity(3);
    for period in [Period::Day, Period::Month, Period::Year] {
        plans.push(next_of(conn, period, first_date)?);
    }
    let mut due = Due {
        plans,
        dates: Vec::new(),
        today,
    };
    let Some(from_seq) = due
        .plans
        .iter()
        .filter(|n| due.is_due(n))
        .map(|n| n.first_seq)
        .min()
    else {
        return Ok(None);
    };
    due.dates = entry_dates(conn, from_seq, tz)?;
    Ok(Some(due))
}

/// Appends every closure due at `now` (see the module documentation) and returns them, in
/// order: days, then months, then years, without asking for the date
/// ([`DateCheck::Confirmed`]; the kiosk asks, see [`close_due_periods`]).
pub fn run_due(
    conn: &Connection,
    key_path: &Path,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<Vec<Entry>, ClosureError> {
    run_due_with(conn, key_path, tz, now, DateCheck::Confirmed)
}

/// Appends every closure due at `now` and returns them, in order: days, then months, then
/// years. Nothing due: `Ok(vec![])`, the key file untouched. Far beyond the last entry with
/// [`DateCheck::AskAfterDays`]: `date_unconfirmed`, nothing appended. Idempotent; all or
/// nothing (one savepoint, inside the caller's transaction if any).
pub fn run_due_with(
    conn: &Connection,
    key_path: &Path,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    check: DateCheck,
) -> Result<Vec<Entry>, ClosureError> {
    journal::check_clock(conn, now)?;
    let Some(due) = due_at(conn, tz, now)? else {
        return Ok(Vec::new());
    };
    if let DateCheck::AskAfterDays(days) = check {
        if let Some(q) = due.question(days) {
            return Err(ClosureError::DateUnconfirmed {
                today: q.today,
                last: q.last_entry,
            });
        }
    }
    let today = due.today;
    let dates = due.dates;
    let timezone = tz.name();
    in_savepoint(conn, || {
        let key = journal::ensure_signing_key(conn, key_path, now)?;
        let mut appended = Vec::new();
        for mut next in due.plans {
            loop {
                let end = period_end(next.period, next.start);
                if end >= today {
                    break;
                }
                let last_seq = cut(&dates, next.first_seq, end);
                let totals = if last_seq >= next.first_seq {
                    journal::sum_sales(conn, next.first_seq, last_seq)?
                } else {
                    journal::SalesTotals::default()
                };
                let figures = ClosureFigures::from_totals(
                    next.period,
                    next.start,
                    end,
                    timezone,
                    next.first_seq,
                    last_seq,
                    &totals,
                    next.grand_total_cents,
                );
                appended.push(journal::append_closure(conn, now, &figures, &key)?);
                next.first_seq = last_seq + 1;
                next.grand_total_cents = figures.grand_total_cents;
                next.start = end + Duration::days(1);
            }
        }
        Ok(appended)
    })
}

/// The question the kiosk must ask before its closures are written, if any: `None` when
/// nothing is due, or due close enough to the last entry. Reads only.
pub fn date_question(kiosk: &Kiosk) -> Result<Option<DateQuestion>, ClosureError> {
    let now = kiosk.clock.now();
    let conn = kiosk.store.conn();
    journal::check_clock(conn, now)?;
    Ok(due_at(conn, kiosk.config.tz(), now)?
        .and_then(|due| due.question(kiosk.config.closure_confirm_after_days)))
}

/// A member of staff (any role) answered Yes to "Is today <date>?": journals
/// `date_confirmed` (`staff_id`, `date`, `last_entry_date`) and writes the closures due, in one
/// transaction. Returns how many closures were written; nothing to confirm: `Ok(0)` and
/// nothing journaled.
pub fn confirm_date(kiosk: &mut Kiosk, key_path: Option<&Path>) -> Result<usize, ClosureError> {
    let me = kiosk.session.current().ok_or(Denied::NotSignedIn)?.id;
    let Some(q) = date_question(kiosk)? else {
        return close_due_periods(kiosk, key_path);
    };
    let path = key_path_of(kiosk, key_path)?;
    let tz = kiosk.config.tz();
    let now = kiosk.clock.now();
    let mut body = Map::new();
    body.insert("staff_id".into(), Value::from(me));
    body.insert("date".into(), q.today.format("%Y-%m-%d").to_string().into());
    body.insert(
        "last_entry_date".into(),
        q.last_entry.format("%Y-%m-%d").to_string().into(),
    );
    let tx = kiosk.store.write()?;
    journal::append(&tx, journal::KIND_DATE_CONFIRMED, now, body)?;
    let appended = run_due_with(&tx, &path, tz, now, DateCheck::Confirmed)?;
    tx.commit()?;
    Ok(appended.len())
}

/// After an admin's time correction to `to` (the `clock_set` entry `clock_set_seq`, in the
/// caller's transaction): voids every closure not yet voided whose period ends on or after
/// `to`'s local date, one `closure_voided` entry each, dated `to`. Returns their seqs.
pub fn void_future_closures(
    conn: &Connection,
    tz: chrono_tz::Tz,
    to: DateTime<Utc>,
    clock_set_seq: i64,
) -> Result<Vec<i64>, ClosureError> {
    let corrected = to.with_timezone(&tz).date_naive();
    let mut stmt = conn.prepare(
        "SELECT seq, json_extract(payload, '$.period'), json_extract(payload, '$.period_start'),
                json_extract(payload, '$.period_end')
         FROM journal INDEXED BY journal_by_kind
         WHERE kiosk_id = (SELECT value FROM meta WHERE key = 'kiosk_id') AND kind = 'closure'
         AND json_extract(payload, '$.period_end') >= ?1
         AND seq NOT IN (SELECT json_extract(payload, '$.closure_seq')
                         FROM journal INDEXED BY journal_by_kind
                         WHERE kiosk_id = (SELECT value FROM meta WHERE key = 'kiosk_id')
                         AND kind = 'closure_voided')
         ORDER BY seq",
    )?;
    let future: Vec<(i64, String, String, String)> = stmt
        .query_map(params![corrected.format("%Y-%m-%d").to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut voided = Vec::with_capacity(future.len());
    for (seq, period, start, end) in future {
        let mut body = Map::new();
        body.insert("closure_seq".into(), Value::from(seq));
        body.insert("clock_set_seq".into(), Value::from(clock_set_seq));
        body.insert("period".into(), Value::from(period));
        body.insert("period_start".into(), Value::from(start));
        body.insert("period_end".into(), Value::from(end));
        journal::append(conn, journal::KIND_CLOSURE_VOIDED, to, body)?;
        voided.push(seq);
    }
    Ok(voided)
}

/// Whether the next closure can be signed: `key_missing` / `key_mismatch` when a key is
/// registered in the journal (which happens with the first closure) and the file at
/// `key_path` is gone or holds another key. Selling waits until an admin confirms a rotation.
pub fn key_check(conn: &Connection, key_path: &Path) -> Result<(), ClosureError> {
    match journal::key_status(conn, key_path)? {
        KeyStatus::Ok => Ok(()),
        KeyStatus::Missing => Err(ClosureError::KeyMissing {
            path: key_path.into(),
        }),
        KeyStatus::Mismatch => Err(ClosureError::KeyMismatch {
            path: key_path.into(),
        }),
    }
}

/// The key file of the kiosk's database: `key_path` when given, else `<db>.key`;
/// `no_key_path` for an in-memory store without one.
pub fn key_path_of(kiosk: &Kiosk, key_path: Option<&Path>) -> Result<PathBuf, ClosureError> {
    if let Some(path) = key_path {
        return Ok(path.to_path_buf());
    }
    let db = kiosk.store.path();
    if db.as_os_str().is_empty() || db == Path::new(":memory:") {
        return Err(ClosureError::NoKeyPath);
    }
    Ok(journal::key_path_for(db))
}

/// [`key_check`] for the kiosk's database (see [`key_path_of`]).
pub fn check_key(kiosk: &Kiosk, key_path: Option<&Path>) -> Result<(), ClosureError> {
    key_check(kiosk.store.conn(), &key_path_of(kiosk, key_path)?)
}

/// [`run_due_with`] on the kiosk's database at the kiosk's clock, in one transaction, asking
/// for the date after the config's `closure_confirm_after_days`. Returns how many closures
/// were appended. `key_path`: see [`key_path_of`]. No role needed: closures are automatic.
pub fn close_due_periods(
    kiosk: &mut Kiosk,
    key_path: Option<&Path>,
) -> Result<usize, ClosureError> {
    let path = key_path_of(kiosk, key_path)?;
    let tz = kiosk.config.tz();
    let now = kiosk.clock.now();
    let check = DateCheck::AskAfterDays(kiosk.config.closure_confirm_after_days);
    let tx = kiosk.store.write()?;
    let appended = run_due_with(&tx, &path, tz, now, check)?;
    tx.commit()?;
    Ok(appended.len())
}

/// The admin's answer to `key_missing` / `key_mismatch` (or a routine rotation): a new key is
/// written to the key file and its registration journaled with `reason` and the admin's
/// `staff_id`. Needs [`Action::Closures`].
pub fn confirm_key_rotation(
    kiosk: &mut Kiosk,
    key_path: Option<&Path>,
    reason: &str,
) -> Result<Entry, ClosureError> {
    let me = kiosk.session.require(Action::Closures)?.id;
    let path = key_path_of(kiosk, key_path)?;
    let now = kiosk.clock.now();
    journal::check_clock(kiosk.store.conn(), now)?;
    let mut body = Map::new();
    body.insert("reason".into(), Value::from(reason));
    body.insert("staff_id".into(), Value::from(me));
    let tx = kiosk.store.write()?;
    let (_, entry) = journal::rotate_key(&tx, &path, now, body)?;
    tx.commit()?;
    Ok(entry)
}

/// The figures of every closure of `period`, by seq (for reports and tests): the payloads
/// parsed, keyed by seq.
pub fn closures_of(
    conn: &Connection,
    period: Period,
) -> Result<BTreeMap<i64, Map<String, Value>>, ClosureError> {
    let mut stmt = conn.prepare(
        "SELECT seq, payload FROM journal INDEXED BY journal_by_kind
         WHERE kiosk_id = (SELECT value FROM meta WHERE key = 'kiosk_id') AND kind = 'closure'
         AND json_extract(payload, '$.period') = ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![period.as_str()])?;
    let mut out = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let payload: String = row.get(1)?;
        let map: Option<Map<String, Value>> = serde_json::from_str(&payload).ok();
        let map = map.ok_or_else(|| ClosureError::Store(format!("closure {seq}: bad payload")))?;
        out.insert(seq, map);
    }
    Ok(out)
}

/// Whether this kiosk has made any closure yet.
pub fn any_closure(conn: &Connection) -> Result<bool, ClosureError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM journal WHERE kind = 'closure'
             AND kiosk_id = (SELECT value FROM meta WHERE key = 'kiosk_id') LIMIT 1",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}
