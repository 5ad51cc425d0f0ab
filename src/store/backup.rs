//! Backups: copies of the database made with SQLite's online backup API into a folder (a USB
//! stick's mount point), each checked after writing, rotated (7 daily, 12 monthly); and the
//! restore of such a copy.
//!
//! - A copy is written as `.comptoir-YYYY-MM-DD.db.partial`, switched to a single file
//!   (`journal_mode=DELETE`), synced, then verified: `PRAGMA integrity_check`, the journal
//!   chain, signatures, closures, sales tables and every ledger ([`super::audit::verify_all`]).
//!   Only a copy that verifies becomes
//!   `comptoir-YYYY-MM-DD.db` (local date); a copy that fails is deleted and nothing older is
//!   rotated away.
//! - Rotation keeps the copies of the 7 most recent days and, for each of the 12 most recent
//!   months, the newest copy of that month.
//! - The folder is never created: a missing folder is a stick that is not plugged in, and
//!   writing into the empty mount point would fill the SD card.
//! - The signing key (`<db>.key`) is not copied: a private key does not belong on a stick.
//!   After a restore on a new card, an admin confirms a key rotation (journaled), as for a
//!   lost key.
//! - A restore verifies the copy first, refuses to replace a database whose journal is longer
//!   than the copy's (or cannot be read) unless told to, and moves the replaced database aside
//!   (`<db>.before-restore-<UTC time>`), never deletes it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rusqlite::{Connection, OpenFlags};

use super::{with_suffix, Access, OpenError, Store};

/// Copies of the most recent days kept.
pub const KEEP_DAILY: usize = 7;
/// Months for which the newest copy is kept.
pub const KEEP_MONTHLY: usize = 12;

const PREFIX: &str = "comptoir-";
const SUFFIX: &str = ".db";

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database to copy (or the copy to restore) cannot be opened as Comptoir's.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The backup folder is missing or not a folder (the stick is not plugged in).
    #[error("{path}: no backup folder here (is the USB stick plugged in?)")]
    NoFolder { path: PathBuf },
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("copying the database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The written copy did not verify; it was deleted.
    #[error("the copy failed verification and was deleted: {reason}")]
    CopyFailed { reason: String },
    /// The copy to restore does not verify; nothing was changed.
    #[error("{path}: this backup does not verify ({reason}); nothing was changed")]
    BackupBroken { path: PathBuf, reason: String },
    /// The database holds more journal entries than the copy: restoring would lose them.
    #[error("{db}: its journal has {current} entries, the backup only {backup}; restoring would lose {} of them (use --overwrite-longer-journal if that is really wanted)", current - backup)]
    JournalLonger {
        db: PathBuf,
        current: u64,
        backup: u64,
    },
    /// The database in place cannot be read, so its journal cannot be compared.
    #[error("{db}: cannot read this database to compare its journal ({reason}); use --overwrite-longer-journal to replace it anyway (it is kept aside)")]
    CurrentUnreadable { db: PathBuf, reason: String },
}

impl BackupError {
    /// A fixed English token for standard output.
    pub fn code(&self) -> &'static str {
        match self {
            BackupError::Open(_) => "database",
            BackupError::NoFolder { .. } => "no_folder",
            BackupError::Io { .. } => "io",
            BackupError::Sqlite(_) => "sqlite",
            BackupError::CopyFailed { .. } => "copy_failed",
            BackupError::BackupBroken { .. } => "backup_broken",
            BackupError::JournalLonger { .. } => "journal_longer",
            BackupError::CurrentUnreadable { .. } => "current_unreadable",
        }
    }
}

fn io(path: &Path, e: impl ToString) -> BackupError {
    BackupError::Io {
        path: path.into(),
        reason: e.to_string(),
    }
}

/// What a good copy holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub entries: u64,
    pub last_seq: i64,
    pub last_hash: String,
}

/// A backup made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub verified: Verified,
    /// Older copies removed by the rotation.
    pub removed: Vec<PathBuf>,
}

/// Full check of an open connection: `PRAGMA integrity_check`, the journal, the sales tables.
pub fn check_connection(conn: &Connection) -> Result<Verified, String> {
    let mut stmt = conn
        .prepare("PRAGMA integrity_check")
        .map_err(|e| format!("integrity_check: {e}"))?;
    let problems: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<_, _>>())
        .map_err(|e| format!("integrity_check: {e}"))?;
    if problems != ["ok"] {
        return Err(format!("integrity_check: {}", problems.join("; ")));
    }
    let report = super::audit::verify_all(conn).map_err(|e| match e {
        super::audit::AuditError::Fault(f) => f.line(),
        super::audit::AuditError::Store(e) => format!("journal: {e}"),
    })?;
    Ok(Verified {
        entries: report.journal.entries,
        last_seq: report.journal.last_seq,
        last_hash: report.journal.last_hash,
    })
}

/// Opens a copy read-only (it must be a Comptoir database) and checks it fully.
pub fn verify_copy(path: &Path) -> Result<Verified, String> {
    let store = Store::open(path, Access::ReadOnly).map_err(|e| e.to_string())?;
    check_connection(store.conn())
}

/// The copy's file name for a local date.
pub fn file_name(date: NaiveDate) -> String {
    format!("{PREFIX}{}{SUFFIX}", date.format("%Y-%m-%d"))
}

/// The local date of a copy's file name (`comptoir-2026-06-13.db`), `None` for other files.
pub fn date_of(name: &str) -> Option<NaiveDate> {
    let middle = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if middle.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(middle, "%Y-%m-%d").ok()
}

/// The copies in `dir`, newest date first.
pub fn copies(dir: &Path) -> Result<Vec<(NaiveDate, PathBuf)>, BackupError> {
    let mut found = Vec::new();
    for item in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let item = item.map_err(|e| io(dir, e))?;
        if let Some(date) = item.file_name().to_str().and_then(date_of) {
            if item.file_type().map(|t| t.is_file()).unwrap_or(false) {
                found.push((date, item.path()));
            }
        }
    }
    found.sort_by_key(|c| std::cmp::Reverse(c.0));
    Ok(found)
}

/// Which of these dates (any order) a rotation keeps: the 7 most recent, and the newest of
/// each of the 12 most recent months.
pub fn keep(dates: &[NaiveDate]) -> std::collections::BTreeSet<NaiveDate> {
    let mut sorted: Vec<NaiveDate> = dates.to_vec();
    sorted.sort_unstable_by_key(|d| std::cmp::Reverse(*d));
    sorted.dedup();
    let mut kept: std::collections::BTreeSet<NaiveDate> =
        sorted.iter().take(KEEP_DAILY).copied().collect();
    let mut months = Vec::new();
    for d in &sorted {
        let month = (d.year(), d.month());
        if !months.contains(&month) {
            months.push(month);
            if months.len() > KEEP_MONTHLY {
                break;
            }
            kept.insert(*d);
        }
    }
    kept
}

/// Copies the database open in `store` into `dir` as the copy of local date `today`, verifies
/// it, then rotates the folder. Only reads the database.
pub fn backup_to(store: &Store, dir: &Path, today: NaiveDate) -> Result<BackupReport, BackupError> {
    backup_connection(store.conn(), dir, today)
}

/// [`backup_to`] from any connection (the kiosk's background thread has its own).
pub fn backup_connection(
    src: &Connection,
    dir: &Path,
    today: NaiveDate,
) -> Result<BackupReport, BackupError> {
    if !dir.is_dir() {
        return Err(BackupError::NoFolder { path: dir.into() });
    }
    let name = file_name(today);
    let partial = dir.join(format!(".{name}.partial"));
    let target = dir.join(&name);
    let _ = std::fs::remove_file(&partial);
    let written = write_copy(src, &partial);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    let verified = match verify_copy(&partial) {
        Ok(v) => v,
        Err(reason) => {
            let _ = std::fs::remove_file(&partial);
            return Err(BackupError::CopyFailed { reason });
        }
    };
    let bytes = std::fs::metadata(&partial)
        .map_err(|e| io(&partial, e))?
        .len();
    std::fs::rename(&partial, &target).map_err(|e| io(&target, e))?;
    sync_dir(dir);
    let mut removed = Vec::new();
    let all = copies(dir)?;
    let dates: Vec<NaiveDate> = all.iter().map(|(d, _)| *d).collect();
    let kept = keep(&dates);
    for (date, path) in all {
        if !kept.contains(&date) && std::fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    if !removed.is_empty() {
        sync_dir(dir);
    }
    Ok(BackupReport {
        path: target,
        bytes,
        verified,
        removed,
    })
}

/// The online backup: pages are copied in steps, so a kiosk writing meanwhile only waits a
/// few milliseconds at a time; a write during the copy makes SQLite restart it.
fn write_copy(src: &Connection, to: &Path) -> Result<(), BackupError> {
    let mut dst = Connection::open(to)?;
    {
        let backup = rusqlite::backup::Backup::new(src, &mut dst)?;
        backup.run_to_completion(256, Duration::from_millis(5), None)?;
    }
    // The source is in WAL mode and the copy inherits it: make the copy one self-contained
    // file that a plain read-only open can check.
    dst.pragma_update(None, "journal_mode", "DELETE")?;
    drop(dst);
    let file = std::fs::File::open(to).map_err(|e| io(to, e))?;
    file.sync_all().map_err(|e| io(to, e))?;
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// When the newest copy in `dir` was written; `Ok(None)` when there is none.
pub fn last_backup_time(dir: &Path) -> Result<Option<SystemTime>, BackupError> {
    if !dir.is_dir() {
        return Err(BackupError::NoFolder { path: dir.into() });
    }
    let mut newest = None;
    for (_, path) in copies(dir)? {
        if let Ok(t) = std::fs::metadata(&path).and_then(|m| m.modified()) {
            newest = Some(newest.map_or(t, |n: SystemTime| n.max(t)));
        }
    }
    Ok(newest)
}

// ---------------------------------------------------------------------------------------------
// Restore

/// A restore made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    pub verified: Verified,
    /// Where the replaced database was moved, if there was one.
    pub kept_aside: Option<PathBuf>,
}

/// The number of journal entries of the database at `db`, read without writing anything.
fn journal_length(db: &Path) -> Result<u64, String> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| e.to_string())?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    conn.query_row("SELECT count(*) FROM journal", [], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
        .map_err(|e| e.to_string())
}

/// Replaces the database at `db` with the copy `from`, after verifying the copy. A database in
/// place whose journal is longer than the copy's (or that cannot be read) is replaced only with
/// `overwrite_longer`; it is moved aside, never deleted. The kiosk must not be running.
pub fn restore(
    from: &Path,
    db: &Path,
    overwrite_longer: bool,
    now: DateTime<Utc>,
) -> Result<RestoreReport, BackupError> {
    let verified = verify_copy(from).map_err(|reason| BackupError::BackupBroken {
        path: from.into(),
        reason,
    })?;
    let exists = db.exists();
    if exists && !overwrite_longer {
        match journal_length(db) {
            Ok(current) if current > verified.entries => {
                return Err(BackupError::JournalLonger {
                    db: db.into(),
                    current,
                    backup: verified.entries,
                });
            }
            Ok(_) => {}
            Err(reason) => {
                return Err(BackupError::CurrentUnreadable {
                    db: db.into(),
                    reason,
                });
            }
        }
    }
    let dir = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    // Copy first, beside the database, so a full disk fails before anything moves.
    let partial = with_suffix(db, ".restore-partial");
    std::fs::copy(from, &partial).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        io(&partial, e)
    })?;
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(&partial, e))?;
    let mut kept_aside = None;
    if exists {
        let stamp = now.format("%Y%m%dT%H%M%SZ");
        let aside = with_suffix(db, &format!(".before-restore-{stamp}"));
        std::fs::rename(db, &aside).map_err(|e| io(db, e))?;
        for extra in ["-wal", "-shm"] {
            let from_extra = with_suffix(db, extra);
            if from_extra.exists() {
                let to_extra = with_suffix(&aside, extra);
                std::fs::rename(&from_extra, &to_extra).map_err(|e| io(&from_extra, e))?;
            }
        }
        kept_aside = Some(aside);
    }
    std::fs::rename(&partial, db).map_err(|e| io(db, e))?;
    sync_dir(dir);
    Ok(RestoreReport {
        verified,
        kept_aside,
    })
}

// ---------------------------------------------------------------------------------------------
// Commands

/// `comptoir backup --db PATH --to DIR`: exit 0 with `backup: PATH` and `verified: N entries`
/// (then `removed: PATH` per rotated copy); 1 when the folder is missing or the copy fails
/// (deleted); 3 when the database cannot be opened.
pub fn command_backup(db: &Path, dir: &Path, today: NaiveDate) -> u8 {
    let store = match Store::open(db, Access::ReadOnly) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("comptoir: {e}");
            return 3;
        }
    };
    match backup_to(&store, dir, today) {
        Ok(report) => {
            println!("backup: {}", report.path.display());
            println!("verified: {} entries", report.verified.entries);
            for path in &report.removed {
                println!("removed: {}", path.display());
            }
            0
        }
        Err(e) => {
            println!("failed: {}", e.code());
            eprintln!("comptoir: {e}");
            match e {
                BackupError::Open(_) => 3,
                _ => 1,
            }
        }
    }
}

/// `comptoir restore --from FILE --db PATH [--overwrite-longer-journal]`: exit 0 with
/// `restored: N entries` (and `kept: PATH` for the replaced database); 1 with
/// `refused: REASON` when the copy does not verify or the database in place has a longer (or
/// unreadable) journal; nothing is changed then.
pub fn command_restore(from: &Path, db: &Path, overwrite_longer: bool) -> u8 {
    match restore(from, db, overwrite_longer, Utc::now()) {
        Ok(report) => {
            println!("restored: {} entries", report.verified.entries);
            if let Some(aside) = &report.kept_aside {
                println!("kept: {}", aside.display());
            }
            0
        }
        Err(e) => {
            println!("refused: {}", e.code());
            eprintln!("comptoir: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn names_carry_the_local_date() {
        assert_eq!(file_name(d("2026-06-13")), "comptoir-2026-06-13.db");
        assert_eq!(date_of("comptoir-2026-06-13.db"), Some(d("2026-06-13")));
        assert_eq!(date_of(".comptoir-2026-06-13.db.partial"), None);
        assert_eq!(date_of("comptoir-2026-13-01.db"), None);
        assert_eq!(date_of("comptoir-2026-06-13.db-wal"), None);
        assert_eq!(date_of("notes.txt"), None);
    }

    #[test]
    fn rotation_keeps_seven_days_and_twelve_months() {
        // Every day for two years.
        let first = d("2024-07-01");
        let days: Vec<NaiveDate> = (0..730).map(|i| first + chrono::Days::new(i)).collect();
        let kept = keep(&days);
        let last = *days.last().unwrap();
        assert_eq!(last, d("2026-06-30"));
        for i in 0..7 {
            assert!(kept.contains(&(last - chrono::Days::new(i))));
        }
        // The newest of each of the 12 most recent months: the last day of each month, and
        // the current month's newest (also a daily one).
        let monthly: Vec<&NaiveDate> = kept.iter().filter(|x| **x < d("2026-06-24")).collect();
        assert_eq!(monthly.len(), 11, "{monthly:?}");
        assert_eq!(*monthly[0], d("2025-07-31"));
        assert_eq!(*monthly[10], d("2026-05-31"));
        assert_eq!(kept.len(), 7 + 11);
        // Few copies: all kept.
        assert_eq!(keep(&days[..3]).len(), 3);
    }
}
