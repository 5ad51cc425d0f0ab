//! Jobs waiting for the receipt printer. The printer worker opens its own connection and
//! serves the oldest job first.

use rusqlite::{params, Connection, OptionalExtension};

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

/// The oldest job not printed yet: (id, label, bytes).
pub fn next(conn: &Connection) -> rusqlite::Result<Option<(i64, String, Vec<u8>)>> {
    conn.query_row(
        "SELECT id, label, data FROM print_queue WHERE printed_utc IS NULL ORDER BY id LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

pub fn mark_printed(conn: &Connection, id: i64, now_utc: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE print_queue SET printed_utc = ?2 WHERE id = ?1",
        params![id, now_utc],
    )?;
    Ok(())
}

/// How many jobs wait.
pub fn waiting(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM print_queue WHERE printed_utc IS NULL",
        [],
        |r| r.get(0),
    )
}
