//! Kiosk identity and small settings kept in the database.

use rusqlite::{Connection, OptionalExtension};

/// Creates the kiosk id (a UUID, made once with the database) if it is missing.
pub fn ensure_kiosk_id(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('kiosk_id', ?1)",
        [uuid::Uuid::new_v4().to_string()],
    )?;
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('created_utc', ?1)",
        [super::utc_text(chrono::Utc::now())],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

pub fn set(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

/// The kiosk's UUID.
pub fn kiosk_id(conn: &Connection) -> rusqlite::Result<String> {
    get(conn, "kiosk_id")?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}
