//! Jobs waiting for the receipt printer. The printer worker opens its own connection and
//! serves the oldest job first.
//!
//! Rules (all times are the kiosk's clock, as RFC 3339 UTC text):
//! - A worker **claims** a job in the database ([`claim_next`], one `BEGIN IMMEDIATE`
//!   transaction) before sending it, then marks it printed or releases it. Two workers on one
//!   database (two kiosk processes by mistake) never both send the same job. A claim older
//!   than [`CLAIM_EXPIRES`] is a worker that died mid-job: the job may be claimed again (it may
//!   then print twice, which beats never).
//! - A job queued more than [`HOLD_AFTER`] ago and not printed is **held**: it prints only
//!   once somebody confirms it on the admin devices screen ([`confirm`]), or is dropped
//!   ([`drop_held`]). A receipt from last week must not come out in the middle of a market.
//! - Cash drawer kicks are never queued (the drawer opens now or not at all: see
//!   `devices::Devices::open_drawer`).
//! - Printed jobs are deleted [`PURGE_AFTER`] after printing ([`purge_printed`], at start-up
//!   and daily by the health thread), so the database and its backups do not carry every
//!   receipt's picture. Nothing is lost: the journal is the record, and `comptoir receipt SEQ`
//!   remakes any receipt (marked DUPLICATA) from it.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::utc_text;

/// Queued longer than this without printing: held until somebody confirms.
pub const HOLD_AFTER: chrono::Duration = chrono::Duration::hours(24);
/// Printed longer than this: deleted.
pub const PURGE_AFTER: chrono::Duration = chrono::Duration::days(7);
/// A claim not finished after this is a worker that died mid-job.
pub const CLAIM_EXPIRES: chrono::Duration = chrono::Duration::minutes(2);

/// A job a worker claimed: send it, then [`mark_printed`] or [`release`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub label: String,
    pub data: Vec<u8>,
}

/// A job held for confirmation, as the admin screen lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldJob {
    pub id: i64,
    /// What it is: `ticket 42`, `Z 3`, `test`, `card 12`, `sign TCB`, `duplicata 42`.
    pub label: String,
    pub created_utc: String,
}

/// Which held jobs an admin's tap is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    One(i64),
    All,
}

/// Queues a job; returns its id.
pub fn enqueue(
    conn: &Connection,
    label: &str,
    data: &[u8],
    now_utc: &str,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO print_queue (created_utc, label, data) VALUES (?1, ?2, ?3)",
        params![now_utc, label, data],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The oldest job not printed yet, whatever its state: (id, label, bytes). For tests and
/// tools; the worker uses [`claim_next`].
pub fn next(conn: &Connection) -> rusqlite::Result<Option<(i64, String, Vec<u8>)>> {
    conn.query_row(
        "SELECT id, label, data FROM print_queue WHERE printed_utc IS NULL ORDER BY id LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

/// Claims the oldest job that may print now for `worker`: not printed, not claimed by a live
/// worker, and queued less than [`HOLD_AFTER`] ago or confirmed. The claim is written in the
/// same `BEGIN IMMEDIATE` transaction that chose the job, so no other worker can choose it.
pub fn claim_next(
    conn: &Connection,
    worker: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<Job>> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let claimed = (|| -> rusqlite::Result<Option<Job>> {
        let job = conn
            .query_row(
                "SELECT id, label, data FROM print_queue
                 WHERE printed_utc IS NULL
                   AND (claimed_utc IS NULL OR claimed_utc < ?1)
                   AND (created_utc >= ?2 OR confirmed_utc IS NOT NULL)
                 ORDER BY id LIMIT 1",
                params![utc_text(now - CLAIM_EXPIRES), utc_text(now - HOLD_AFTER)],
                |r| {
                    Ok(Job {
                        id: r.get(0)?,
                        label: r.get(1)?,
                        data: r.get(2)?,
                    })
                },
            )
            .optional()?;
        if let Some(job) = &job {
            conn.execute(
                "UPDATE print_queue SET claimed_by = ?2, claimed_utc = ?3 WHERE id = ?1",
                params![job.id, worker, utc_text(now)],
            )?;
        }
        Ok(job)
    })();
    match claimed {
        Ok(job) => {
            conn.execute_batch("COMMIT")?;
            Ok(job)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The job was sent: it will not be served again.
pub fn mark_printed(conn: &Connection, id: i64, now_utc: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE print_queue SET printed_utc = ?2 WHERE id = ?1",
        params![id, now_utc],
    )?;
    Ok(())
}

/// The job could not be sent: back in the queue for the next attempt.
pub fn release(conn: &Connection, id: i64, worker: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE print_queue SET claimed_by = NULL, claimed_utc = NULL
         WHERE id = ?1 AND claimed_by = ?2 AND printed_utc IS NULL",
        params![id, worker],
    )?;
    Ok(())
}

/// How many jobs wait, held ones included.
pub fn waiting(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM print_queue WHERE printed_utc IS NULL",
        [],
        |r| r.get(0),
    )
}

/// How many jobs wait to print without anybody's tap, and how many are held: `(ready, held)`.
pub fn counts(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<(i64, i64)> {
    conn.query_row(
        "SELECT
            count(*) FILTER (WHERE created_utc >= ?1 OR confirmed_utc IS NOT NULL),
            count(*) FILTER (WHERE created_utc < ?1 AND confirmed_utc IS NULL)
         FROM print_queue WHERE printed_utc IS NULL",
        params![utc_text(now - HOLD_AFTER)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// The held jobs, oldest first.
pub fn held(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<Vec<HeldJob>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, label, created_utc FROM print_queue
         WHERE printed_utc IS NULL AND created_utc < ?1 AND confirmed_utc IS NULL
         ORDER BY id",
    )?;
    let rows = stmt.query_map(params![utc_text(now - HOLD_AFTER)], |r| {
        Ok(HeldJob {
            id: r.get(0)?,
            label: r.get(1)?,
            created_utc: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// Somebody confirmed held jobs: they print at the printer's next turn. Returns how many.
pub fn confirm(conn: &Connection, which: Which, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    let cutoff = utc_text(now - HOLD_AFTER);
    let now = utc_text(now);
    match which {
        Which::One(id) => conn.execute(
            "UPDATE print_queue SET confirmed_utc = ?3
             WHERE id = ?1 AND printed_utc IS NULL AND created_utc < ?2 AND confirmed_utc IS NULL",
            params![id, cutoff, now],
        ),
        Which::All => conn.execute(
            "UPDATE print_queue SET confirmed_utc = ?2
             WHERE printed_utc IS NULL AND created_utc < ?1 AND confirmed_utc IS NULL",
            params![cutoff, now],
        ),
    }
}

/// Somebody dropped held jobs: deleted unprinted (the journal keeps every sale; `comptoir
/// receipt SEQ` remakes a receipt). Returns how many.
pub fn drop_held(conn: &Connection, which: Which, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    let cutoff = utc_text(now - HOLD_AFTER);
    match which {
        Which::One(id) => conn.execute(
            "DELETE FROM print_queue
             WHERE id = ?1 AND printed_utc IS NULL AND created_utc < ?2 AND confirmed_utc IS NULL",
            params![id, cutoff],
        ),
        Which::All => conn.execute(
            "DELETE FROM print_queue
             WHERE printed_utc IS NULL AND created_utc < ?1 AND confirmed_utc IS NULL",
            params![cutoff],
        ),
    }
}

/// Deletes the jobs printed more than [`PURGE_AFTER`] before `now` (the table has no trigger
/// against it: the queue is scratch, not a record). `comptoir receipt SEQ` remakes any receipt
/// from the journal. Returns how many went.
pub fn purge_printed(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM print_queue WHERE printed_utc IS NOT NULL AND printed_utc < ?1",
        params![utc_text(now - PURGE_AFTER)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn store() -> super::super::Store {
        super::super::Store::open_in_memory().unwrap()
    }

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 20, 8, 0, 0).unwrap() + chrono::Duration::hours(h)
    }

    #[test]
    fn a_claimed_job_is_not_claimed_again_until_released_or_its_claim_expires() {
        let s = store();
        let c = s.conn();
        let id = enqueue(c, "ticket 1", b"abc", &utc_text(at(0))).unwrap();
        let job = claim_next(c, "a", at(0)).unwrap().unwrap();
        assert_eq!((job.id, job.data.as_slice()), (id, &b"abc"[..]));
        assert_eq!(claim_next(c, "b", at(0)).unwrap(), None, "claimed by a");
        release(c, id, "b").unwrap();
        assert_eq!(claim_next(c, "b", at(0)).unwrap(), None, "only a releases");
        release(c, id, "a").unwrap();
        assert_eq!(claim_next(c, "b", at(0)).unwrap().unwrap().id, id);
        // b died mid-job: after the claim expires, a may take it.
        let later = at(0) + CLAIM_EXPIRES + chrono::Duration::seconds(1);
        assert_eq!(claim_next(c, "a", later).unwrap().unwrap().id, id);
        mark_printed(c, id, &utc_text(later)).unwrap();
        assert_eq!(claim_next(c, "b", at(1)).unwrap(), None, "printed");
    }

    #[test]
    fn a_job_older_than_a_day_waits_for_a_confirmation_or_is_dropped() {
        let s = store();
        let c = s.conn();
        let old = enqueue(c, "ticket 1", b"old", &utc_text(at(-30))).unwrap();
        let older = enqueue(c, "Z 1", b"older", &utc_text(at(-48))).unwrap();
        let fresh = enqueue(c, "ticket 2", b"new", &utc_text(at(-1))).unwrap();
        assert_eq!(counts(c, at(0)).unwrap(), (1, 2));
        let held_ids: Vec<i64> = held(c, at(0)).unwrap().iter().map(|h| h.id).collect();
        assert_eq!(held_ids, [old, older]);
        assert_eq!(claim_next(c, "w", at(0)).unwrap().unwrap().id, fresh);
        mark_printed(c, fresh, &utc_text(at(0))).unwrap();
        assert_eq!(claim_next(c, "w", at(0)).unwrap(), None, "held jobs wait");
        assert_eq!(confirm(c, Which::One(old), at(0)).unwrap(), 1);
        assert_eq!(confirm(c, Which::One(fresh), at(0)).unwrap(), 0, "not held");
        assert_eq!(claim_next(c, "w", at(0)).unwrap().unwrap().id, old);
        assert_eq!(counts(c, at(0)).unwrap(), (1, 1));
        assert_eq!(drop_held(c, Which::All, at(0)).unwrap(), 1);
        assert_eq!(
            drop_held(c, Which::One(old), at(0)).unwrap(),
            0,
            "confirmed"
        );
        assert!(held(c, at(0)).unwrap().is_empty());
        assert_eq!(waiting(c).unwrap(), 1, "the confirmed one, claimed");
    }

    #[test]
    fn printed_jobs_go_after_seven_days_and_waiting_ones_stay() {
        let s = store();
        let c = s.conn();
        let a = enqueue(c, "ticket 1", b"a", &utc_text(at(-200))).unwrap();
        let b = enqueue(c, "ticket 2", b"b", &utc_text(at(-100))).unwrap();
        enqueue(c, "ticket 3", b"c", &utc_text(at(-200))).unwrap();
        mark_printed(c, a, &utc_text(at(-24 * 7 - 1))).unwrap();
        mark_printed(c, b, &utc_text(at(-24 * 7 + 1))).unwrap();
        assert_eq!(purge_printed(c, at(0)).unwrap(), 1);
        let left: i64 = c
            .query_row("SELECT count(*) FROM print_queue", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 2, "the recent printed job and the unprinted one stay");
    }
}
