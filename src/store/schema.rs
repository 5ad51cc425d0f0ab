//! The schema fingerprint: the tables, indexes, views and triggers of a database must be
//! exactly those its migrations make, SQL text included.
//!
//! Append-only ledgers rely on triggers that refuse UPDATE and DELETE. Someone with the file
//! can drop such a trigger, edit rows and put it back, or add one of their own (say, one that
//! deletes failed-PIN events): the chain of the journal does not see that, the schema does.
//! [`check`] compares the database's `sqlite_master` with a fresh in-memory database migrated
//! to the same version and names the first difference: `trigger X is missing`, `trigger X
//! was changed`, `extra trigger X`. It runs at start-up (a failure is the blocking health
//! screen), in `comptoir journal verify` (`broken: schema: REASON`) and before a restore.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::migrations;

/// One schema object: (type, name) -> SQL text (`None` for SQLite's automatic indexes).
type Objects = BTreeMap<(String, String), Option<String>>;

fn objects(conn: &Connection) -> rusqlite::Result<Objects> {
    let mut stmt = conn.prepare(
        "SELECT type, name, sql FROM sqlite_master
         WHERE type IN ('table', 'index', 'view', 'trigger') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )?;
    let rows = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
    rows.collect()
}

/// The objects the migrations make up to `version`: migrated once per version and process
/// (in memory), since the start-up checks, the daily check and every verify ask.
fn expected(version: i64) -> rusqlite::Result<Objects> {
    static MADE: OnceLock<Mutex<HashMap<i64, Objects>>> = OnceLock::new();
    let made = MADE.get_or_init(Mutex::default);
    if let Some(objects) = made.lock().ok().and_then(|m| m.get(&version).cloned()) {
        return Ok(objects);
    }
    let mut conn = Connection::open_in_memory()?;
    migrations::migrate_to(&mut conn, version)?;
    let objects = objects(&conn)?;
    if let Ok(mut m) = made.lock() {
        m.insert(version, objects.clone());
    }
    Ok(objects)
}

/// The fingerprint of a database's schema: SHA-256 over its objects' type, name and SQL, in
/// order, first 16 hex digits. Two databases with the same fingerprint have the same schema.
pub fn fingerprint(conn: &Connection) -> rusqlite::Result<String> {
    let mut hasher = Sha256::new();
    for ((kind, name), sql) in objects(conn)? {
        hasher.update(kind.as_bytes());
        hasher.update([0]);
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(sql.as_deref().unwrap_or("").as_bytes());
        hasher.update([0]);
    }
    Ok(hex::encode(hasher.finalize())[..16].to_string())
}

/// `Ok(Ok(()))` when the schema is exactly the migrations' for the database's version;
/// `Ok(Err(reason))` naming the first difference.
pub fn check(conn: &Connection) -> rusqlite::Result<Result<(), String>> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > migrations::latest_version() {
        return Ok(Err(format!(
            "schema version {version} is newer than this build knows"
        )));
    }
    let want = expected(version)?;
    let have = objects(conn)?;
    for ((kind, name), sql) in &want {
        match have.get(&(kind.clone(), name.clone())) {
            None => return Ok(Err(format!("{kind} {name} is missing"))),
            Some(found) if found != sql => return Ok(Err(format!("{kind} {name} was changed"))),
            Some(_) => {}
        }
    }
    if let Some(((kind, name), _)) = have.iter().find(|(k, _)| !want.contains_key(*k)) {
        return Ok(Err(format!("extra {kind} {name}")));
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrated() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations::migrate(&mut conn).unwrap();
        conn
    }

    #[test]
    fn a_migrated_database_passes_and_any_trigger_change_is_named() {
        let conn = migrated();
        assert_eq!(check(&conn).unwrap(), Ok(()));
        let before = fingerprint(&conn).unwrap();

        conn.execute_batch("DROP TRIGGER journal_no_delete")
            .unwrap();
        assert_eq!(
            check(&conn).unwrap(),
            Err("trigger journal_no_delete is missing".into())
        );
        conn.execute_batch(
            "CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
             BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;",
        )
        .unwrap();
        assert_eq!(
            check(&conn).unwrap(),
            Err("trigger journal_no_delete was changed".into())
        );

        let conn = migrated();
        conn.execute_batch(
            "CREATE TRIGGER forget_failures AFTER INSERT ON staff_events
             WHEN NEW.kind = 'pin_failed' BEGIN SELECT 1; END;",
        )
        .unwrap();
        assert_eq!(
            check(&conn).unwrap(),
            Err("extra trigger forget_failures".into())
        );
        assert_ne!(fingerprint(&conn).unwrap(), before);
    }

    #[test]
    fn an_older_schema_is_checked_against_its_own_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations::migrate_to(&mut conn, 5).unwrap();
        assert_eq!(check(&conn).unwrap(), Ok(()));
    }
}
