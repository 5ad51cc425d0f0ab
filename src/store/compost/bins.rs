//! Composters (bins) and their log.

use super::*;

/// A composter with its latest state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bin {
    pub id: i64,
    pub name: String,
    pub status: BinStatus,
    pub last_turned_utc: Option<String>,
    pub last_temperature: Option<(String, i64)>,
    /// Grams deposited since it last started filling.
    pub filled_g: i64,
}

pub fn add_bin(conn: &Connection, name: &str, status: BinStatus, now_utc: &str) -> Result<i64> {
    conn.execute(
        "INSERT INTO compost_bins (name, position, created_utc)
         VALUES (?1, (SELECT coalesce(max(position), 0) + 1 FROM compost_bins), ?2)",
        params![name.trim(), now_utc],
    )?;
    let id = conn.last_insert_rowid();
    log_bin(conn, id, BinEvent::Status(status), None, now_utc)?;
    Ok(id)
}

/// Records something done to a bin. A bin set to `filling` makes every other filling bin
/// `maturing`: deposits go into one bin.
pub fn log_bin(
    conn: &Connection,
    bin_id: i64,
    event: BinEvent,
    staff: Option<i64>,
    now_utc: &str,
) -> Result<()> {
    let exists: bool = conn.query_row(
        "SELECT count(*) FROM compost_bins WHERE id = ?1",
        [bin_id],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !exists {
        return Err(CompostError::UnknownBin(bin_id));
    }
    if event == BinEvent::Status(BinStatus::Filling) {
        for other in bins(conn)? {
            if other.id != bin_id && other.status == BinStatus::Filling {
                insert_bin_log(
                    conn,
                    other.id,
                    BinEvent::Status(BinStatus::Maturing),
                    staff,
                    now_utc,
                )?;
            }
        }
    }
    insert_bin_log(conn, bin_id, event, staff, now_utc)?;
    Ok(())
}

pub(super) fn insert_bin_log(
    conn: &Connection,
    bin_id: i64,
    event: BinEvent,
    staff: Option<i64>,
    now_utc: &str,
) -> rusqlite::Result<()> {
    let (status, temp, grams) = match event {
        BinEvent::Status(s) => (Some(s.code()), None, None),
        BinEvent::Turned => (None, None, None),
        BinEvent::Temperature(t) => (None, Some(t), None),
        BinEvent::BrownAdded(g) | BinEvent::Emptied(g) => (None, None, Some(g)),
    };
    conn.execute(
        "INSERT INTO compost_bin_log (bin_id, time_utc, kind, status, temperature_dc, grams, staff_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![bin_id, now_utc, event.code(), status, temp, grams, staff],
    )?;
    crate::store::ledger::chain_row(
        conn,
        &crate::store::ledger::COMPOST_BIN_LOG,
        conn.last_insert_rowid(),
    )
}

/// Every bin in order, with its status, last turning and last temperature.
pub fn bins(conn: &Connection) -> rusqlite::Result<Vec<Bin>> {
    let mut stmt = conn.prepare(
        "SELECT b.id, b.name,
            (SELECT status FROM compost_bin_log l WHERE l.bin_id = b.id AND l.kind = 'status'
               ORDER BY l.id DESC LIMIT 1),
            (SELECT time_utc FROM compost_bin_log l WHERE l.bin_id = b.id AND l.kind = 'turned'
               ORDER BY l.id DESC LIMIT 1),
            (SELECT time_utc FROM compost_bin_log l WHERE l.bin_id = b.id AND l.kind = 'temperature'
               ORDER BY l.id DESC LIMIT 1),
            (SELECT temperature_dc FROM compost_bin_log l WHERE l.bin_id = b.id AND l.kind = 'temperature'
               ORDER BY l.id DESC LIMIT 1),
            (SELECT coalesce(sum(d.net_g), 0) FROM deposits d WHERE d.bin_id = b.id
               AND d.time_utc >= coalesce((SELECT time_utc FROM compost_bin_log l WHERE l.bin_id = b.id
                   AND l.kind = 'status' AND l.status = 'filling' ORDER BY l.id DESC LIMIT 1), ''))
         FROM compost_bins b ORDER BY b.position, b.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let status: Option<String> = r.get(2)?;
        let temp_time: Option<String> = r.get(4)?;
        let temp: Option<i64> = r.get(5)?;
        Ok(Bin {
            id: r.get(0)?,
            name: r.get(1)?,
            status: status
                .as_deref()
                .and_then(BinStatus::parse)
                .unwrap_or(BinStatus::Maturing),
            last_turned_utc: r.get(3)?,
            last_temperature: temp_time.zip(temp),
            filled_g: r.get(6)?,
        })
    })?;
    rows.collect()
}

/// The bin that is filling now, if any.
pub fn filling_bin(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT b.id FROM compost_bins b
         WHERE (SELECT status FROM compost_bin_log l WHERE l.bin_id = b.id AND l.kind = 'status'
                ORDER BY l.id DESC LIMIT 1) = 'filling'
         ORDER BY b.position, b.id LIMIT 1",
    )?
    .query_row([], |r| r.get(0))
    .optional()
}
