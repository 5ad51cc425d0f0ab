//! The SQLite store: opening with the checks of ARCHITECTURE.md ("Command line", exit code 3),
//! pragmas, migrations, and one module per aggregate.
//!
//! Opening never changes a file it should not: before anything is written, the file is opened
//! read-only and its `application_id` and `user_version` are read. A file that is not SQLite,
//! not Comptoir's, from a newer Comptoir, or in a read-only location is refused with
//! [`OpenError`], and stays byte-for-byte as it was.

pub mod archive;
pub mod audit;
pub mod backup;
pub mod cash;
pub mod catalog;
pub mod compost;
pub mod garden;
pub mod journal;
pub mod ledger;
pub mod lock;
pub mod meta;
pub mod migrations;
pub mod parked;
pub mod people;
pub mod print_queue;
pub mod sale_rows;
mod sale_stock;
pub mod sales;
pub mod schema;
pub mod tickets;
pub mod witness;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

/// `PRAGMA application_id` of every Comptoir database: "CMPT" in ASCII.
pub const APPLICATION_ID: i32 = 0x434D_5054;

/// Why a database could not be opened. Each of these maps to exit code 3 on the command line.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{path}: no database here")]
    Missing { path: PathBuf },
    #[error("{path}: not a SQLite database")]
    NotSqlite { path: PathBuf },
    #[error("{path}: a damaged database ({reason}); restore a backup")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: a SQLite database, but not Comptoir's (application_id {found:#x})")]
    Foreign { path: PathBuf, found: i32 },
    #[error("{path}: made by a newer Comptoir (schema {found}, this build knows up to {known}); update Comptoir")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{path}: cannot write here ({reason})")]
    ReadOnly { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

/// How to open a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Create the file (and its folder) when missing; migrate to the current schema.
    ReadWrite,
    /// The file must exist and be a current or older Comptoir database; nothing is written.
    ReadOnly,
}

/// An open Comptoir database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    access: Access,
}

/// What the read-only look at a file found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// No file, or an empty SQLite file with no tables: a new database can be made here.
    Fresh,
    /// A Comptoir database at this schema version.
    Comptoir(i64),
}

fn probe(path: &Path) -> Result<Probe, OpenError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Probe::Fresh),
        Err(e) => {
            return Err(OpenError::ReadOnly {
                path: path.into(),
                reason: e.to_string(),
            });
        }
    };
    if meta.is_dir() {
        return Err(OpenError::NotSqlite { path: path.into() });
    }
    if meta.len() == 0 {
        return Ok(Probe::Fresh);
    }
    // Read the header ourselves first: SQLite would happily open any file and fail later.
    let mut header = [0u8; 16];
    {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| OpenError::ReadOnly {
            path: path.into(),
            reason: e.to_string(),
        })?;
        if f.read_exact(&mut header).is_err() || &header != b"SQLite format 3\0" {
            return Err(OpenError::NotSqlite { path: path.into() });
        }
    }
    let sqlite_err = |source| OpenError::Sqlite {
        path: path.into(),
        source,
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_err)?;
    let read = |pragma: &str| -> Result<i64, rusqlite::Error> {
        conn.query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))
    };
    let app_id = match read("application_id") {
        Ok(v) => v as i32,
        Err(rusqlite::Error::SqliteFailure(e, _))
            if matches!(
                e.code,
                rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
            ) =>
        {
            return Err(OpenError::NotSqlite { path: path.into() });
        }
        Err(e) => return Err(sqlite_err(e)),
    };
    let version = read("user_version").map_err(sqlite_err)?;
    // The header alone says little: reading the schema makes SQLite parse the first page.
    let tables: i64 = match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)) {
        Ok(n) => n,
        Err(rusqlite::Error::SqliteFailure(e, message))
            if matches!(
                e.code,
                rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
            ) =>
        {
            let reason = message.unwrap_or_else(|| e.to_string());
            return Err(OpenError::Corrupt {
                path: path.into(),
                reason,
            });
        }
        Err(e) => return Err(sqlite_err(e)),
    };
    if app_id == 0 && version == 0 && tables == 0 {
        return Ok(Probe::Fresh);
    }
    if app_id != APPLICATION_ID {
        return Err(OpenError::Foreign {
            path: path.into(),
            found: app_id,
        });
    }
    let known = migrations::latest_version();
    if version > known {
        return Err(OpenError::TooNew {
            path: path.into(),
            found: version,
            known,
        });
    }
    Ok(Probe::Comptoir(version))
}

/// Can we create or change files at `path` (the file itself, and its `-wal`/`-shm` beside it)?
fn check_writable(path: &Path) -> Result<(), OpenError> {
    let ro = |reason: String| OpenError::ReadOnly {
        path: path.into(),
        reason,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        std::fs::create_dir_all(dir)
            .map_err(|e| ro(format!("cannot create {}: {e}", dir.display())))?;
    }
    // Permission bits say little when running as root: try for real, without touching the
    // database file itself.
    let test = dir.join(format!(".comptoir-write-test-{}", std::process::id()));
    std::fs::write(&test, b"").map_err(|e| ro(e.to_string()))?;
    let _ = std::fs::remove_file(&test);
    if path.exists() {
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| ro(e.to_string()))?;
    }
    Ok(())
}

impl Store {
    /// Opens (and, for [`Access::ReadWrite`], creates and migrates) the database at `path`.
    pub fn open(path: &Path, access: Access) -> Result<Store, OpenError> {
        let found = probe(path)?;
        let path_buf = path.to_path_buf();
        let sqlite_err = |source| OpenError::Sqlite {
            path: path_buf.clone(),
            source,
        };
        match access {
            Access::ReadOnly => {
                if found == Probe::Fresh {
                    return Err(OpenError::Missing { path: path.into() });
                }
                // A WAL database needs its -shm file to be readable; `immutable` would skip
                // the WAL. Opening read-only keeps the file as it is.
                let conn = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(sqlite_err)?;
                conn.busy_timeout(std::time::Duration::from_secs(5))
                    .map_err(sqlite_err)?;
                Ok(Store {
                    conn,
                    path: path.into(),
                    access,
                })
            }
            Access::ReadWrite => {
                check_writable(path)?;
                let mut conn = Connection::open(path).map_err(sqlite_err)?;
                conn.busy_timeout(std::time::Duration::from_secs(5))
                    .map_err(sqlite_err)?;
                conn.pragma_update(None, "journal_mode", "WAL")
                    .map_err(sqlite_err)?;
                conn.pragma_update(None, "synchronous", "FULL")
                    .map_err(sqlite_err)?;
                conn.pragma_update(None, "foreign_keys", "ON")
                    .map_err(sqlite_err)?;
                migrations::migrate(&mut conn).map_err(sqlite_err)?;
                meta::ensure_kiosk_id(&conn).map_err(sqlite_err)?;
                Ok(Store {
                    conn,
                    path: path.into(),
                    access,
                })
            }
        }
    }

    /// An in-memory database at the current schema (tests, and screenshots without `--db`).
    pub fn open_in_memory() -> rusqlite::Result<Store> {
        let mut conn = Connection::open_in_memory()?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::migrate(&mut conn)?;
        meta::ensure_kiosk_id(&conn)?;
        Ok(Store {
            conn,
            path: PathBuf::from(":memory:"),
            access: Access::ReadWrite,
        })
    }

    /// An in-memory copy of this database (SQLite's online backup): screenshots stage a sale
    /// on it while the file stays untouched.
    pub fn copy_in_memory(&self) -> rusqlite::Result<Store> {
        let mut conn = Connection::open_in_memory()?;
        {
            let backup = rusqlite::backup::Backup::new(&self.conn, &mut conn)?;
            backup.run_to_completion(1000, std::time::Duration::ZERO, None)?;
        }
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(Store {
            conn,
            path: PathBuf::from(":memory:"),
            access: Access::ReadWrite,
        })
    }

    /// A test fault point: from now on every statement that reads `table` fails, as on a
    /// damaged database (SQLite's authorizer refuses it; statements already prepared are
    /// prepared again and refused too); `None` lifts it. Tests use it to check that a screen
    /// says its records could not be read, never shows an empty list; the kiosk never calls it.
    #[doc(hidden)]
    pub fn fail_reads_of(&self, table: Option<&'static str>) {
        use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
        match table {
            Some(failing) => {
                self.conn
                    .authorizer(Some(move |ctx: AuthContext<'_>| match ctx.action {
                        AuthAction::Read { table_name, .. } if table_name == failing => {
                            Authorization::Deny
                        }
                        _ => Authorization::Allow,
                    }))
            }
            None => self
                .conn
                .authorizer(None::<fn(AuthContext<'_>) -> Authorization>),
        }
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// A write transaction that takes the write lock at once (`BEGIN IMMEDIATE`). The printer
    /// worker writes to the same file from its own connection: a deferred transaction that has
    /// read first would fail with `SQLITE_BUSY` (no waiting) if that worker committed meanwhile;
    /// an immediate one waits its turn (busy timeout), so a sale never fails because a receipt
    /// was printing.
    pub fn write(&mut self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        self.conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn access(&self) -> Access {
        self.access
    }

    /// The schema version of this database.
    pub fn schema_version(&self) -> rusqlite::Result<i64> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))
    }

    /// Does the database hold anything beyond what opening it creates (the kiosk id)?
    pub fn holds_data(&self) -> rusqlite::Result<bool> {
        let n: i64 = self.conn.query_row(
            "SELECT (SELECT count(*) FROM products) + (SELECT count(*) FROM staff)
                  + (SELECT count(*) FROM residents) + (SELECT count(*) FROM plots)",
            [],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }
}

/// Runs `f` inside a savepoint: kept whole on success, undone on error. Inside the caller's
/// transaction it nests; outside one (autocommit) it is a transaction of its own, so that a
/// ledger row and its chain link are never written one without the other.
pub fn atomically<T, E: From<rusqlite::Error>>(
    conn: &rusqlite::Connection,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    conn.execute_batch("SAVEPOINT comptoir_atomic")?;
    match f() {
        Ok(value) => {
            conn.execute_batch("RELEASE comptoir_atomic")?;
            Ok(value)
        }
        Err(e) => {
            if let Err(undo) =
                conn.execute_batch("ROLLBACK TO comptoir_atomic; RELEASE comptoir_atomic")
            {
                log::error!("rollback of a savepoint failed: {undo}");
            }
            Err(e)
        }
    }
}

/// `path` with `suffix` added to its file name (`comptoir.db` + `.key`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The stored UTC text of local midnight at the start of `date` in `tz` (the earliest, on a
/// day whose midnight is ambiguous; midnight taken as UTC on the rare day it does not exist).
pub fn local_midnight_utc(date: chrono::NaiveDate, tz: chrono_tz::Tz) -> String {
    use chrono::TimeZone;
    let local = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    let utc = tz
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| chrono::Utc.from_utc_datetime(&local));
    utc_text(utc)
}

/// The current time as stored: RFC 3339 UTC with seconds.
pub fn utc_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
