//! Day, month and year closures, made automatically once a period has ended (DESIGN.md, "The
//! journal"; issue 5, "Cash sessions and closures").
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
            ClosureError::Store(_) => "store",
        }
    }

    /// Whether selling must wait for an admin's key rotation.
    pub fn blocks_selling(&self) -> bool {
        matches!(
            self,
            ClosureError::KeyMissing { .. } | ClosureError::KeyMismatch { .. }
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

fn local_date(seq: i64, time_utc: &str, tz: chrono_tz::Tz) -> Result<NaiveDate, ClosureError> {
    DateTime::parse_from_rfc3339(time_utc)
        .map(|t| t.with_timezone(&tz).date_naive())
        .map_err(|_| ClosureError::Store(format!("journal entry {seq}: bad time_utc {time_utc}")))
}

/// `(seq, local date)` of this kiosk's entries from `from_seq` on, by seq.
fn entry_dates(
    conn: &Connection,
    from_seq: i64,
    tz: chrono_tz::Tz,
) -> Result<Vec<(i64, NaiveDate)>, ClosureError> {
    let mut stmt = conn.prepare(
        "SELECT seq, time_utc FROM journal
         WHERE kiosk_id = (SELECT value FROM meta WHERE key = 'kiosk_id') AND seq >= ?1
         ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![from_seq])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let time: String = row.get(1)?;
        out.push((seq, local_date(seq, &time, tz)?));
    }
    Ok(out)
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

/// Runs `f` inside a savepoint: released on success, rolled back on error. Works inside or
/// outside the caller's transaction.
fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce() -> Result<T, ClosureError>,
) -> Result<T, ClosureError> {
    conn.execute_batch("SAVEPOINT comptoir_closures")?;
    match f() {
        Ok(value) => {
            conn.execute_batch("RELEASE comptoir_closures")?;
            Ok(value)
        }
        Err(e) => {
            if let Err(undo) =
                conn.execute_batch("ROLLBACK TO comptoir_closures; RELEASE comptoir_closures")
            {
                log::error!("closures: rollback failed: {undo}");
            }
            Err(e)
        }
    }
}

/// Appends every closure due at `now` (see the module documentation) and returns them, in
/// order: days, then months, then years. Nothing due: `Ok(vec![])`, the key file untouched.
/// Idempotent; all or nothing (one savepoint, inside the caller's transaction if any).
pub fn run_due(
    conn: &Connection,
    key_path: &Path,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<Vec<Entry>, ClosureError> {
    journal::check_clock(conn, now)?;
    let Some(first) = journal::entry(conn, 1)? else {
        return Ok(Vec::new());
    };
    let first_date = local_date(first.seq, &first.time_utc, tz)?;
    let today = now.with_timezone(&tz).date_naive();
    let mut plans = Vec::with_capacity(3);
    for period in [Period::Day, Period::Month, Period::Year] {
        plans.push(next_of(conn, period, first_date)?);
    }
    let due = |n: &Next| period_end(n.period, n.start) < today;
    if !plans.iter().any(due) {
        return Ok(Vec::new());
    }
    let from_seq = plans
        .iter()
        .filter(|n| due(n))
        .map(|n| n.first_seq)
        .min()
        .unwrap_or(1);
    let dates = entry_dates(conn, from_seq, tz)?;
    let timezone = tz.name();
    in_savepoint(conn, || {
        let key = journal::ensure_signing_key(conn, key_path, now)?;
        let mut appended = Vec::new();
        for mut next in plans {
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

/// [`run_due`] on the kiosk's database at the kiosk's clock, in one transaction. Returns how
/// many closures were appended. `key_path`: see [`key_path_of`]. No role needed: closures are
/// automatic.
pub fn close_due_periods(
    kiosk: &mut Kiosk,
    key_path: Option<&Path>,
) -> Result<usize, ClosureError> {
    let path = key_path_of(kiosk, key_path)?;
    let tz = kiosk.config.tz();
    let now = kiosk.clock.now();
    let tx = kiosk.store.write()?;
    let appended = run_due(&tx, &path, tz, now)?;
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
        "SELECT seq, payload FROM journal
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
