//! The register's recent tickets (sales and refunds) as the tickets screen lists them, and
//! reprints: a copy printed from the kiosk says DUPLICATA and is a journal entry of its own.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde_json::{Map, Value};

use super::journal::{self, Entry, JournalError};
use crate::domain::money::Cents;

/// Journal kind of a reprint.
pub const KIND_REPRINT: &str = "reprint";

/// A ticket as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub seq: i64,
    pub refund: bool,
    pub time_utc: String,
    pub cashier_name: String,
    pub total_cents: Cents,
    pub training: bool,
    /// For a refund: the sale it refunds.
    pub refund_of: Option<i64>,
    /// For a sale: what its refunds took back (negative or 0).
    pub refunded_cents: Cents,
    /// Copies printed from the kiosk so far.
    pub reprints: i64,
}

/// Tickets from `from` (inclusive) to `to` (exclusive), newest first, at most `limit`. Each
/// table is read through its index (`INDEXED BY`): SQLite's own choice walked every sale for
/// each ticket, 49 s for a day at 1,000,000 entries (`cargo bench --bench journal`).
pub fn tickets_between(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: usize,
) -> rusqlite::Result<Vec<Ticket>> {
    let kiosk = super::meta::kiosk_id(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT s.seq, s.kind, s.time_utc, s.cashier_name, s.total_cents, s.training, s.refund_of,
                (SELECT coalesce(sum(r.total_cents), 0) FROM sales r INDEXED BY sales_by_refund_of
                  WHERE r.kiosk_id = s.kiosk_id AND r.refund_of = s.seq
                    AND r.refund_of IS NOT NULL),
                (SELECT count(*) FROM journal j INDEXED BY journal_by_kind
                  WHERE j.kiosk_id = s.kiosk_id AND j.kind = 'reprint'
                    AND json_extract(j.payload, '$.of_seq') = s.seq)
         FROM sales s INDEXED BY sales_by_time
         WHERE s.kiosk_id = ?1 AND s.time_utc >= ?2 AND s.time_utc < ?3
         ORDER BY s.seq DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![
            kiosk,
            super::utc_text(from),
            super::utc_text(to),
            limit as i64
        ],
        |r| {
            let kind: String = r.get(1)?;
            Ok(Ticket {
                seq: r.get(0)?,
                refund: kind == "refund",
                time_utc: r.get(2)?,
                cashier_name: r.get(3)?,
                total_cents: r.get(4)?,
                training: r.get(5)?,
                refund_of: r.get(6)?,
                refunded_cents: r.get(7)?,
                reprints: r.get(8)?,
            })
        },
    )?;
    rows.collect()
}

/// Records that ticket `seq` was printed again from the kiosk, by `staff_id`. Inside the
/// caller's transaction; the copy is printed only once this is committed.
pub fn record_reprint(
    conn: &Connection,
    seq: i64,
    staff_id: i64,
    now: DateTime<Utc>,
) -> Result<Entry, JournalError> {
    let mut body = Map::new();
    body.insert("of_seq".into(), Value::from(seq));
    body.insert("staff_id".into(), Value::from(staff_id));
    journal::append(conn, KIND_REPRINT, now, body)
}

/// How many times ticket `seq` was reprinted from the kiosk.
pub fn reprint_count(conn: &Connection, seq: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM journal INDEXED BY journal_by_kind
         WHERE kiosk_id = (SELECT value FROM meta WHERE key = 'kiosk_id') AND kind = 'reprint'
           AND json_extract(payload, '$.of_seq') = ?1",
        [seq],
        |r| r.get(0),
    )
}
