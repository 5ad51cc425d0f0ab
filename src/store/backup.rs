//! Backups: copies of the database made with SQLite's online backup API into a folder (a USB
//! stick's mount point), each checked before it counts, encrypted when recipients are set,
//! rotated (7 daily, 12 monthly); and the restore of such a copy.
//!
//! # A backup
//!
//! 1. The folder must be there (it is never created: a missing folder is a stick that is not
//!    plugged in, and writing into the empty mount point would fill the SD card), and have room
//!    for the copy: a stick too full says so in words ([`BackupError::StickFull`]) before
//!    anything is written.
//! 2. When the caller holds a writable connection (the kiosk's health thread, `comptoir
//!    backup`, which takes the database's lock), the backup is journaled first (a `technical`
//!    `backup` entry naming the file and the head it copies), so the copy contains it.
//! 3. The copy is written with the online backup API, switched to a single file
//!    (`journal_mode=DELETE`), synced, then verified: `PRAGMA integrity_check`, the journal
//!    chain, signatures, closures, sales tables, every ledger and the schema
//!    ([`super::audit::verify_all`]). A copy that fails is deleted and nothing older is
//!    rotated away.
//! 4. Without recipients the verified copy becomes `comptoir-YYYY-MM-DD.db` (local date).
//!    With recipients (`backup_recipients`, age X25519 public keys) the plain copy is written
//!    and verified on the kiosk's own disk, beside the database, then encrypted with `age` to
//!    `comptoir-YYYY-MM-DD.db.age` on the stick, and removed: a plain copy never touches the
//!    stick. Only a whole file gets its final name (`.NAME.partial` until then, deleted on any
//!    failure, a full stick included).
//! 5. The folder's `SHA256SUMS` lists the SHA-256 of each copy in it (of the file as it is on
//!    the stick: `sha256sum -c --ignore-missing SHA256SUMS` checks them without Comptoir), the
//!    folder's manifest (`comptoir-heads.txt`, [`witness::append_manifest`]) gets the copy's
//!    head (never removed by rotation), and the kiosk's head file is rewritten.
//! 6. Rotation keeps the copies of the 7 most recent days and, for each of the 12 most recent
//!    months, the newest copy of that month; plain and encrypted copies alike.
//!
//! The signing key (`<db>.key`) is never copied: a private key does not belong on a stick.
//! After a restore on a new card, an admin confirms a key rotation (journaled), as for a lost
//! key.
//!
//! # A restore ([`restore`])
//!
//! Holds the database's lock throughout (a running kiosk refuses it). The copy is read through
//! SQLite (its `-wal` included) into a single file beside the database, and taken only if it is
//! a Comptoir database of this kiosk (or `--new-kiosk`), its schema is exactly the migrations'
//! (and the same fingerprint as the database in place at the same version), it verifies, and
//! its journal contains the current head (of the database in place, or of the head file when the
//! database is missing or unreadable) unless `--accept-rollback`. The restore is journaled in
//! the restored database (`technical` `restore`: from_head, to_head, file, accept_rollback,
//! new_kiosk). Then the database in place is checkpointed and switched to a single file, hard
//! linked aside (`<db>.before-restore-<UTC>`), and the new file renamed over it in one step: at
//! every instant the path opens as the old database whole or the new one whole, and no
//! `-wal`/`-shm` of one sits beside the other. Last, the head file is rewritten to the new head.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rusqlite::{Connection, OpenFlags};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::journal::TechnicalEvent;
use super::lock::{DbLock, LockError};
use super::{journal, meta, schema, with_suffix, witness, Access, OpenError, Store};

/// Copies of the most recent days kept.
pub const KEEP_DAILY: usize = 7;
/// Months for which the newest copy is kept.
pub const KEEP_MONTHLY: usize = 12;
/// The checksums of the copies in a backup folder (`sha256sum` format).
pub const SUMS_NAME: &str = "SHA256SUMS";

const PREFIX: &str = "comptoir-";
const SUFFIX: &str = ".db";
const AGE_SUFFIX: &str = ".db.age";
/// Room kept beyond the copy's size (age's framing, the folder's small files).
const MARGIN: u64 = 256 * 1024;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database to copy (or the copy to restore) cannot be opened as Comptoir's.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// Another process holds the database (a running kiosk).
    #[error(transparent)]
    Locked(#[from] LockError),
    /// The backup folder is missing or not a folder (the stick is not plugged in).
    #[error("{path}: no backup folder here (is the USB stick plugged in?)")]
    NoFolder { path: PathBuf },
    /// The stick has no room for the copy; nothing was left on it.
    #[error("the backup stick is full: {free_mb} MB free, the copy needs {needed_mb} MB; delete old files from it or use a larger stick")]
    StickFull { free_mb: u64, needed_mb: u64 },
    /// The kiosk's own disk has no room for a temporary copy; nothing was left on it.
    #[error("{path}: the kiosk's disk is full: {free_mb} MB free, the copy needs {needed_mb} MB")]
    DiskFull {
        path: PathBuf,
        free_mb: u64,
        needed_mb: u64,
    },
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("copying the database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The written copy did not verify; it was deleted.
    #[error("the copy failed verification and was deleted: {reason}")]
    CopyFailed { reason: String },
    /// Encrypting the copy failed; nothing was left on the stick.
    #[error("encrypting the copy: {reason}")]
    Encrypt { reason: String },
    /// The copy to restore does not verify; nothing was changed.
    #[error("{path}: this backup does not verify ({reason}); nothing was changed")]
    BackupBroken { path: PathBuf, reason: String },
    /// The copy to restore has a schema other than the migrations' (a trigger added, dropped
    /// or changed), or not the one of the database in place.
    #[error("{path}: this backup's schema is not Comptoir's ({reason}); nothing was changed")]
    Schema { path: PathBuf, reason: String },
    /// The copy is another kiosk's.
    #[error("{path}: this backup is of another kiosk ({backup}), not of this one ({current}); nothing was changed (use --new-kiosk if this card is to carry that kiosk's data)")]
    ForeignKiosk {
        path: PathBuf,
        backup: String,
        current: String,
    },
    /// The copy's journal does not contain the current head: restoring it would lose entries.
    #[error("{path}: this backup is older than the journal in place ({reason}); restoring it would lose those entries; nothing was changed (use --accept-rollback if that is really wanted: it is journaled)")]
    Rollback { path: PathBuf, reason: String },
    /// The database in place (and its head file) cannot be read, so nothing says what the copy
    /// must contain.
    #[error("{db}: cannot read this database or its head file to compare journals ({reason}); nothing was changed (use --accept-rollback to replace it anyway: it is kept aside)")]
    CurrentUnreadable { db: PathBuf, reason: String },
    /// The copy is encrypted and no identity was given.
    #[error(
        "{path}: an encrypted backup: give the identity file that decrypts it with --identity FILE"
    )]
    NeedsIdentity { path: PathBuf },
    /// The identity does not decrypt the copy (or the file is not an identity).
    #[error("{path}: cannot decrypt: {reason}; nothing was changed")]
    Decrypt { path: PathBuf, reason: String },
    /// The restore could not be journaled in the copy (a clock behind the copy's last entry).
    #[error("the restore cannot be journaled ({0}); nothing was changed")]
    Journal(String),
}

impl BackupError {
    /// A fixed English token for standard output.
    pub fn code(&self) -> &'static str {
        match self {
            BackupError::Open(_) => "database",
            BackupError::Locked(_) => "locked",
            BackupError::NoFolder { .. } => "no_folder",
            BackupError::StickFull { .. } => "stick_full",
            BackupError::DiskFull { .. } => "disk_full",
            BackupError::Io { .. } => "io",
            BackupError::Sqlite(_) => "sqlite",
            BackupError::CopyFailed { .. } => "copy_failed",
            BackupError::Encrypt { .. } => "encrypt",
            BackupError::BackupBroken { .. } => "backup_broken",
            BackupError::Schema { .. } => "schema",
            BackupError::ForeignKiosk { .. } => "foreign_kiosk",
            BackupError::Rollback { .. } => "rollback",
            BackupError::CurrentUnreadable { .. } => "current_unreadable",
            BackupError::NeedsIdentity { .. } => "needs_identity",
            BackupError::Decrypt { .. } => "decrypt",
            BackupError::Journal(_) => "journal",
        }
    }
}

fn io(path: &Path, e: impl ToString) -> BackupError {
    BackupError::Io {
        path: path.into(),
        reason: e.to_string(),
    }
}

/// A test hook (debug builds only): the value of the environment variable `name`.
fn hook(name: &str) -> Option<String> {
    if cfg!(debug_assertions) {
        std::env::var(name).ok()
    } else {
        None
    }
}

const MB: u64 = 1024 * 1024;

fn mb_up(bytes: u64) -> u64 {
    bytes.div_ceil(MB)
}

/// Free bytes and total bytes of the file system holding `path` (a folder, or a file's
/// folder).
pub fn disk_space(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().filter(|p| !p.as_os_str().is_empty())?
    };
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid C string and a zeroed struct for the kernel to fill.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    let free = s.f_bavail as u64 * s.f_frsize as u64;
    let total = s.f_blocks as u64 * s.f_frsize as u64;
    Some((free, total))
}

/// Free bytes of the backup folder (the test hook `COMPTOIR_TEST_STICK_FREE_BYTES` stands for
/// a small stick in debug builds).
fn stick_free(dir: &Path) -> Option<u64> {
    if let Some(bytes) = hook("COMPTOIR_TEST_STICK_FREE_BYTES").and_then(|v| v.parse().ok()) {
        return Some(bytes);
    }
    disk_space(dir).map(|(free, _)| free)
}

fn sqlite_no_space(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull)
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
    /// Encrypted with age (`.db.age`).
    pub encrypted: bool,
    /// SHA-256 of the file on the stick (also in the folder's `SHA256SUMS`).
    pub sha256: String,
    /// The seq of the `technical` `backup` entry, when the backup was journaled.
    pub journaled: Option<i64>,
    /// Older copies removed by the rotation.
    pub removed: Vec<PathBuf>,
    /// What went wrong around a good copy (the manifest, the head file, the journal entry).
    pub warnings: Vec<String>,
}

/// How to make a backup.
#[derive(Debug, Clone, Default)]
pub struct BackupOptions {
    /// age recipients the copy is encrypted to; empty: a plain copy.
    pub recipients: Vec<age::x25519::Recipient>,
    /// Journal the backup in the source before copying (the caller's connection is writable
    /// and it holds the database, as the kiosk and `comptoir backup` do).
    pub journal: bool,
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

/// The plain copy's file name for a local date.
pub fn file_name(date: NaiveDate) -> String {
    format!("{PREFIX}{}{SUFFIX}", date.format("%Y-%m-%d"))
}

/// The encrypted copy's file name for a local date.
pub fn encrypted_file_name(date: NaiveDate) -> String {
    format!("{}.age", file_name(date))
}

/// Whether `dir` holds a copy (plain or encrypted) of local date `date`.
pub fn has_copy(dir: &Path, date: NaiveDate) -> bool {
    dir.join(file_name(date)).is_file() || dir.join(encrypted_file_name(date)).is_file()
}

/// The local date of a copy's file name (`comptoir-2026-06-13.db` or
/// `comptoir-2026-06-13.db.age`), `None` for other files.
pub fn date_of(name: &str) -> Option<NaiveDate> {
    let rest = name.strip_prefix(PREFIX)?;
    let middle = rest
        .strip_suffix(AGE_SUFFIX)
        .or_else(|| rest.strip_suffix(SUFFIX))?;
    if middle.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(middle, "%Y-%m-%d").ok()
}

/// The copies in `dir` (plain and encrypted), newest date first.
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
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
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

/// Copies the database open in `store` into `dir` as the plain copy of local date `today`,
/// verifies it, then rotates the folder. Journals nothing.
pub fn backup_to(store: &Store, dir: &Path, today: NaiveDate) -> Result<BackupReport, BackupError> {
    backup_with(store.conn(), dir, today, &BackupOptions::default())
}

/// [`backup_to`] from any connection (the kiosk's background thread has its own).
pub fn backup_connection(
    src: &Connection,
    dir: &Path,
    today: NaiveDate,
) -> Result<BackupReport, BackupError> {
    backup_with(src, dir, today, &BackupOptions::default())
}

/// The database file of a connection, `None` in memory.
fn db_path_of(conn: &Connection) -> Option<PathBuf> {
    conn.path().filter(|p| !p.is_empty()).map(PathBuf::from)
}

/// The size of the database as the connection sees it (its WAL included), in bytes.
fn database_size(conn: &Connection) -> Result<u64, BackupError> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok((pages.max(0) as u64) * (size.max(0) as u64))
}

/// Journals the backup about to be made (`technical` `backup`: file, head_seq, head_hash of
/// the head it copies). Returns the entry's seq.
fn journal_backup(conn: &Connection, file: &str) -> Result<i64, String> {
    let mut body = Map::new();
    body.insert("file".into(), file.into());
    let head = journal::head(conn).map_err(|e| e.to_string())?;
    body.insert(
        "head_seq".into(),
        head.as_ref().map_or(Value::Null, |h| h.seq.into()),
    );
    body.insert(
        "head_hash".into(),
        head.map_or(Value::Null, |h| h.hash.into()),
    );
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| e.to_string())?;
    match journal::append_technical(conn, Utc::now(), TechnicalEvent::Backup, body) {
        Ok(entry) => match conn.execute_batch("COMMIT") {
            Ok(()) => Ok(entry.seq),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e.to_string())
            }
        },
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e.to_string())
        }
    }
}

/// Removes `path` when dropped, unless disarmed: no partial or temporary file survives a
/// failure.
struct Cleanup(Option<PathBuf>);

impl Cleanup {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Copies `src` into `dir` as the copy of local date `today` (see the module documentation:
/// room checked first, journaled when asked, verified, encrypted to `options.recipients` when
/// there are any, checksum, manifest, head file, rotation).
pub fn backup_with(
    src: &Connection,
    dir: &Path,
    today: NaiveDate,
    options: &BackupOptions,
) -> Result<BackupReport, BackupError> {
    if !dir.is_dir() {
        return Err(BackupError::NoFolder { path: dir.into() });
    }
    let encrypted = !options.recipients.is_empty();
    let name = if encrypted {
        encrypted_file_name(today)
    } else {
        file_name(today)
    };
    let partial = dir.join(format!(".{name}.partial"));
    let target = dir.join(&name);
    let db = db_path_of(src);
    let _ = std::fs::remove_file(&partial);

    // Room first: a full stick says so before anything is written.
    let needed = database_size(src)? + MARGIN;
    if let Some(free) = stick_free(dir) {
        if free < needed {
            return Err(BackupError::StickFull {
                free_mb: free / MB,
                needed_mb: mb_up(needed),
            });
        }
    }
    // The plain copy: on the stick, or beside the database when it is to be encrypted.
    let plain = if encrypted {
        let p = match &db {
            Some(db) => with_suffix(db, ".backup-plain"),
            None => std::env::temp_dir().join(format!("comptoir-backup-{}", std::process::id())),
        };
        if let Some((free, _)) = disk_space(&p) {
            if free < needed {
                return Err(BackupError::DiskFull {
                    path: p,
                    free_mb: free / MB,
                    needed_mb: mb_up(needed),
                });
            }
        }
        p
    } else {
        partial.clone()
    };

    let mut warnings = Vec::new();
    let journaled = if options.journal {
        match journal_backup(src, &name) {
            Ok(seq) => Some(seq),
            Err(e) => {
                warnings.push(format!("the backup was not journaled: {e}"));
                None
            }
        }
    } else {
        None
    };

    let mut plain_guard = Cleanup(Some(plain.clone()));
    let _ = std::fs::remove_file(&plain);
    write_copy(src, &plain).map_err(|e| no_space(e, &plain, dir, needed, encrypted))?;
    if hook("COMPTOIR_TEST_FAIL_BACKUP_WRITE").is_some() && !encrypted {
        // Stands for a stick that fills up while the copy is written.
        return Err(no_space(
            io(&plain, std::io::Error::from_raw_os_error(libc::ENOSPC)),
            &plain,
            dir,
            needed,
            false,
        ));
    }
    let verified = verify_copy(&plain).map_err(|reason| BackupError::CopyFailed { reason })?;
    let head = Store::open(&plain, Access::ReadOnly)
        .ok()
        .and_then(|s| witness::current(s.conn()).ok().flatten());

    let mut partial_guard = Cleanup(Some(partial.clone()));
    if encrypted {
        encrypt_file(&plain, &partial, &options.recipients)
            .map_err(|e| no_space(e, &partial, dir, needed, false))?;
        drop(plain_guard); // the plain copy is removed now
        plain_guard = Cleanup(None);
    }
    let sha256 = sha256_file(&partial).map_err(|e| io(&partial, e))?;
    let bytes = std::fs::metadata(&partial)
        .map_err(|e| io(&partial, e))?
        .len();
    std::fs::rename(&partial, &target).map_err(|e| io(&target, e))?;
    partial_guard.disarm();
    plain_guard.disarm();
    // With both kinds for one day, the older kind goes: one copy a day.
    let other = if encrypted {
        dir.join(file_name(today))
    } else {
        dir.join(encrypted_file_name(today))
    };
    let _ = std::fs::remove_file(other);
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
    if let Err(e) = update_sums(dir, &name, &sha256) {
        warnings.push(format!("{}: {e}", dir.join(SUMS_NAME).display()));
    }
    match &head {
        Some(head) => {
            if let Err(e) = witness::append_manifest(dir, head, &name) {
                warnings.push(format!(
                    "{}: {e}",
                    dir.join(witness::MANIFEST_NAME).display()
                ));
            }
        }
        None => warnings.push("the copy's journal is empty: no head for the manifest".into()),
    }
    if let Some(db) = &db {
        if let Err(e) = witness::keep(src, &witness::head_path_for(db)) {
            warnings.push(format!("head file: {e}"));
        }
    }
    sync_dir(dir);
    Ok(BackupReport {
        path: target,
        bytes,
        verified,
        encrypted,
        sha256,
        journaled,
        removed,
        warnings,
    })
}

/// A write that ran out of room says so in words.
fn no_space(e: BackupError, path: &Path, dir: &Path, needed: u64, on_kiosk: bool) -> BackupError {
    let full = match &e {
        BackupError::Sqlite(s) => sqlite_no_space(s),
        BackupError::Io { reason, .. } => {
            reason.contains(&std::io::Error::from_raw_os_error(libc::ENOSPC).to_string())
        }
        _ => false,
    };
    if !full {
        return e;
    }
    if on_kiosk {
        BackupError::DiskFull {
            path: path.into(),
            free_mb: disk_space(path).map_or(0, |(f, _)| f / MB),
            needed_mb: mb_up(needed),
        }
    } else {
        BackupError::StickFull {
            free_mb: stick_free(dir).unwrap_or(0) / MB,
            needed_mb: mb_up(needed),
        }
    }
}

/// The online backup: pages are copied in steps, so a kiosk writing meanwhile only waits a
/// few milliseconds at a time; a write during the copy makes SQLite restart it. The copy is a
/// single self-contained file (`journal_mode=DELETE`), synced.
fn write_copy(src: &Connection, to: &Path) -> Result<(), BackupError> {
    let mut dst = Connection::open(to)?;
    {
        let backup = rusqlite::backup::Backup::new(src, &mut dst)?;
        backup.run_to_completion(256, Duration::from_millis(5), None)?;
    }
    // A source in WAL mode gives a copy in WAL mode: make it one file that a plain read-only
    // open can check and that can be moved alone.
    let mode: String = dst.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(io(to, format!("still in journal mode {mode}")));
    }
    drop(dst);
    let file = std::fs::File::open(to).map_err(|e| io(to, e))?;
    file.sync_all().map_err(|e| io(to, e))?;
    Ok(())
}

/// A writer that fails with "no space" after `left` bytes (the test hook of a full stick).
struct FailAfter<W> {
    inner: W,
    left: Option<u64>,
}

impl<W: Write> Write for FailAfter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(left) = &mut self.left {
            if *left < buf.len() as u64 {
                return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
            }
            *left -= buf.len() as u64;
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Encrypts `plain` to `to` for `recipients`, synced.
fn encrypt_file(
    plain: &Path,
    to: &Path,
    recipients: &[age::x25519::Recipient],
) -> Result<(), BackupError> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| BackupError::Encrypt {
                reason: e.to_string(),
            })?;
    let file = std::fs::File::create(to).map_err(|e| io(to, e))?;
    let fail_after = hook("COMPTOIR_TEST_FAIL_BACKUP_WRITE").map(|v| v.parse().unwrap_or(4096));
    let out = FailAfter {
        inner: BufWriter::new(file),
        left: fail_after,
    };
    let mut writer = encryptor.wrap_output(out).map_err(|e| io(to, e))?;
    let mut input = std::fs::File::open(plain).map_err(|e| io(plain, e))?;
    std::io::copy(&mut input, &mut writer).map_err(|e| io(to, e))?;
    let mut out = writer.finish().map_err(|e| io(to, e))?;
    out.flush().map_err(|e| io(to, e))?;
    let file = out.inner.into_inner().map_err(|e| io(to, e.error()))?;
    file.sync_all().map_err(|e| io(to, e))?;
    Ok(())
}

/// SHA-256 of a file, lowercase hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The checksums listed in a folder's `SHA256SUMS`: (file name, hash).
pub fn read_sums(dir: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.join(SUMS_NAME)).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (hash, name) = line.split_once("  ")?;
            Some((name.trim().to_string(), hash.trim().to_string()))
        })
        .collect()
}

/// Rewrites `SHA256SUMS` (atomically): the copies still in the folder, `name` with `hash`.
fn update_sums(dir: &Path, name: &str, hash: &str) -> std::io::Result<()> {
    let mut lines: Vec<(String, String)> = read_sums(dir)
        .into_iter()
        .filter(|(n, _)| n != name && dir.join(n).is_file())
        .collect();
    lines.push((name.to_string(), hash.to_string()));
    lines.sort();
    let text: String = lines.iter().map(|(n, h)| format!("{h}  {n}\n")).collect();
    witness::write_atomically(&dir.join(SUMS_NAME), text.as_bytes())
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

/// How to restore.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Take a copy that does not contain the current head (journaled).
    pub accept_rollback: bool,
    /// Take another kiosk's copy (journaled).
    pub new_kiosk: bool,
    /// An age identity file to decrypt a `.age` copy.
    pub identity: Option<PathBuf>,
}

/// A restore made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// The copy as it was taken (before the restore's own entry).
    pub verified: Verified,
    /// The restored database's head (its `technical` `restore` entry).
    pub head: witness::Head,
    /// Where the replaced database was kept (a hard link), if there was one.
    pub kept_aside: Option<PathBuf>,
    /// What went wrong after the switch (the head file).
    pub warnings: Vec<String>,
}

/// The steps of a restore, for the test hook `COMPTOIR_TEST_RESTORE_ABORT_AFTER=N` (debug
/// builds only): the process aborts right after step N, as a power cut would.
fn step_done(n: u32) {
    if let Some(v) = hook("COMPTOIR_TEST_RESTORE_ABORT_AFTER") {
        if v.parse::<u32>().ok() == Some(n) {
            std::process::abort();
        }
    }
}

/// The database in place as a restore sees it.
struct Current {
    /// Its head, or the head file's when it cannot be read; `None` when neither says.
    head: Option<witness::Witness>,
    kiosk_id: Option<String>,
    /// (user_version, fingerprint) of a readable database in place.
    schema: Option<(i64, String)>,
    /// The database is there and reads as a Comptoir database.
    readable: bool,
    /// Why neither the database nor its head file could be read, when both are there.
    unreadable: Option<String>,
}

/// A read-only look leaves the database's `-wal` and `-shm` beside it; under the lock nobody
/// else has it open, so one read-write connection (no migration: SQLite alone) closes it as
/// the kiosk would: the WAL checkpointed (it holds nothing new) and both files removed. A
/// refused restore leaves the folder as it found it.
fn close_as_found(db: &Path) {
    if let Ok(conn) = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        let _ = conn.busy_timeout(Duration::from_secs(5));
        let _ = conn.query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0));
        let _ = conn.close();
    }
}

fn look_at_current(db: &Path) -> Current {
    let head_path = witness::head_path_for(db);
    let exists = std::fs::metadata(db).map(|m| m.len() > 0).unwrap_or(false);
    let mut why = None;
    if exists {
        let read = (|| -> Result<Current, String> {
            let store = Store::open(db, Access::ReadOnly).map_err(|e| e.to_string())?;
            let conn = store.conn();
            let head = witness::current(conn).map_err(|e| e.to_string())?;
            let kiosk = meta::kiosk_id(conn).map_err(|e| e.to_string())?;
            let version = store.schema_version().map_err(|e| e.to_string())?;
            let fp = schema::fingerprint(conn).map_err(|e| e.to_string())?;
            Ok(Current {
                head: head.map(|head| witness::Witness {
                    source: format!("the database in place {}", db.display()),
                    head,
                }),
                kiosk_id: Some(kiosk),
                schema: Some((version, fp)),
                readable: true,
                unreadable: None,
            })
        })();
        close_as_found(db);
        match read {
            Ok(c) => return c,
            Err(e) => why = Some(e),
        }
    }
    match witness::read_head_file(&head_path) {
        Ok(Some(head)) => Current {
            kiosk_id: head.kiosk_id.clone(),
            head: Some(witness::Witness {
                source: format!("the head file {}", head_path.display()),
                head,
            }),
            schema: None,
            readable: false,
            unreadable: None,
        },
        Ok(None) => Current {
            head: None,
            kiosk_id: None,
            schema: None,
            readable: false,
            unreadable: why,
        },
        Err(e) => Current {
            head: None,
            kiosk_id: None,
            schema: None,
            readable: false,
            unreadable: Some(match why {
                Some(w) => format!("{w}; {e}"),
                None => e.to_string(),
            }),
        },
    }
}

/// Decrypts the age file `from` with the identities of `identity` into `to`.
fn decrypt_file(from: &Path, identity: &Path, to: &Path) -> Result<(), BackupError> {
    let bad = |reason: String| BackupError::Decrypt {
        path: from.into(),
        reason,
    };
    let identities = age::IdentityFile::from_file(identity.to_string_lossy().into_owned())
        .map_err(|e| bad(format!("{}: {e}", identity.display())))?
        .into_identities()
        .map_err(|e| bad(format!("{}: {e}", identity.display())))?;
    if identities.is_empty() {
        return Err(bad(format!(
            "{}: no age identity in it",
            identity.display()
        )));
    }
    let input = std::fs::File::open(from).map_err(|e| io(from, e))?;
    let decryptor =
        age::Decryptor::new_buffered(BufReader::new(input)).map_err(|e| bad(e.to_string()))?;
    let mut reader = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| bad(e.to_string()))?;
    let mut out = std::fs::File::create(to).map_err(|e| io(to, e))?;
    std::io::copy(&mut reader, &mut out).map_err(|e| bad(e.to_string()))?;
    out.sync_all().map_err(|e| io(to, e))?;
    Ok(())
}

fn is_age_file(path: &Path) -> bool {
    let mut head = [0u8; 19];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map(|()| &head == b"age-encryption.org/")
        .unwrap_or(false)
}

/// Replaces the database at `db` with the copy `from` (see the module documentation for what
/// is checked and in which order things move). The database's lock is held throughout.
pub fn restore(
    from: &Path,
    db: &Path,
    options: &RestoreOptions,
    now: DateTime<Utc>,
) -> Result<RestoreReport, BackupError> {
    let _lock = DbLock::acquire(db, "comptoir restore")?;
    let broken = |reason: String| BackupError::BackupBroken {
        path: from.into(),
        reason,
    };
    // The checksum the folder recorded, when there is one.
    if let (Some(dir), Some(name)) = (from.parent(), from.file_name().and_then(|n| n.to_str())) {
        if let Some((_, want)) = read_sums(dir).into_iter().find(|(n, _)| n == name) {
            let have = sha256_file(from).map_err(|e| io(from, e))?;
            if have != want {
                return Err(broken(format!(
                    "its SHA-256 is not the one {} recorded",
                    dir.join(SUMS_NAME).display()
                )));
            }
        }
    }
    let current = look_at_current(db);
    let dir = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let partial = with_suffix(db, ".restore-partial");
    let decrypted = with_suffix(db, ".restore-decrypted");
    let _ = std::fs::remove_file(&partial);
    let _ = std::fs::remove_file(with_suffix(&partial, "-journal"));
    let mut partial_guard = Cleanup(Some(partial.clone()));
    let _decrypted_guard = Cleanup(Some(decrypted.clone()));

    // 1. The copy, read through SQLite (its WAL included), as one file beside the database.
    let source = if is_age_file(from) {
        let Some(identity) = &options.identity else {
            return Err(BackupError::NeedsIdentity { path: from.into() });
        };
        decrypt_file(from, identity, &decrypted)?;
        decrypted.clone()
    } else {
        from.to_path_buf()
    };
    {
        let src = Store::open(&source, Access::ReadOnly).map_err(|e| broken(e.to_string()))?;
        write_copy(src.conn(), &partial)?;
    }
    step_done(1);

    // 2. The checks, on the very file that is to take the database's place.
    let (verified, copy_head, copy_kiosk) = {
        let store = Store::open(&partial, Access::ReadOnly).map_err(|e| broken(e.to_string()))?;
        let conn = store.conn();
        match schema::check(conn)? {
            Ok(()) => {}
            Err(reason) => {
                return Err(BackupError::Schema {
                    path: from.into(),
                    reason,
                })
            }
        }
        if let Some((version, fp)) = &current.schema {
            if store.schema_version()? == *version && schema::fingerprint(conn)? != *fp {
                return Err(BackupError::Schema {
                    path: from.into(),
                    reason: "not the same schema as the database in place".into(),
                });
            }
        }
        let verified = check_connection(conn).map_err(broken)?;
        let kiosk = meta::kiosk_id(conn)?;
        if let Some(mine) = &current.kiosk_id {
            if *mine != kiosk && !options.new_kiosk {
                return Err(BackupError::ForeignKiosk {
                    path: from.into(),
                    backup: kiosk,
                    current: mine.clone(),
                });
            }
        }
        if let Some(reason) = &current.unreadable {
            if !options.accept_rollback {
                return Err(BackupError::CurrentUnreadable {
                    db: db.into(),
                    reason: reason.clone(),
                });
            }
        }
        if let Some(w) = &current.head {
            match witness::check(conn, w).map_err(|e| broken(e.to_string()))? {
                Ok(_) => {}
                Err(missing) if !options.accept_rollback => {
                    return Err(BackupError::Rollback {
                        path: from.into(),
                        reason: missing.reason,
                    })
                }
                Err(_) => {}
            }
        }
        let head = witness::current(conn).map_err(|e| broken(e.to_string()))?;
        (verified, head, kiosk)
    };

    // 3. The restore journaled in the copy.
    let new_head = {
        let conn = Connection::open_with_flags(
            &partial,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let head_text = |h: &Option<witness::Head>| -> Value {
            h.as_ref()
                .map_or(Value::Null, |h| format!("{}:{}", h.seq, h.hash).into())
        };
        let mut body = Map::new();
        body.insert(
            "from_head".into(),
            head_text(&current.head.as_ref().map(|w| w.head.clone())),
        );
        body.insert("to_head".into(), head_text(&copy_head));
        body.insert(
            "file".into(),
            from.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
                .into(),
        );
        body.insert("accept_rollback".into(), options.accept_rollback.into());
        let new_kiosk = current
            .kiosk_id
            .as_ref()
            .is_some_and(|mine| *mine != copy_kiosk);
        body.insert("new_kiosk".into(), new_kiosk.into());
        conn.execute_batch("BEGIN IMMEDIATE")?;
        if let Err(e) = journal::append_technical(&conn, now, TechnicalEvent::Restore, body) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(BackupError::Journal(e.to_string()));
        }
        conn.execute_batch("COMMIT")?;
        let head = witness::current(&conn)
            .map_err(|e| BackupError::Journal(e.to_string()))?
            .ok_or_else(|| BackupError::Journal("no head after the entry".into()))?;
        drop(conn);
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(|e| io(&partial, e))?;
        head
    };
    step_done(2);

    // 4. The database in place becomes one file (its WAL checkpointed into it).
    let exists = db.exists();
    if exists && current.readable {
        let conn = Connection::open_with_flags(
            db,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let mode: String = conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
        drop(conn);
        if !mode.eq_ignore_ascii_case("delete") {
            return Err(io(
                db,
                format!("cannot switch it to a single file (journal mode {mode}): is something reading it?"),
            ));
        }
    }
    step_done(3);

    // 5. Kept aside: a hard link, so the path never lacks a database.
    let mut kept_aside = None;
    if exists {
        let stamp = now.format("%Y%m%dT%H%M%SZ");
        let mut aside = with_suffix(db, &format!(".before-restore-{stamp}"));
        let mut n = 1;
        while aside.exists() {
            n += 1;
            aside = with_suffix(db, &format!(".before-restore-{stamp}-{n}"));
        }
        std::fs::hard_link(db, &aside).map_err(|e| io(&aside, e))?;
        // Whatever SQLite left beside a database it could not read goes with it.
        for extra in ["-wal", "-shm", "-journal"] {
            let from_extra = with_suffix(db, extra);
            if from_extra.exists() {
                let to_extra = with_suffix(&aside, extra);
                std::fs::rename(&from_extra, &to_extra).map_err(|e| io(&from_extra, e))?;
            }
        }
        sync_dir(dir);
        kept_aside = Some(aside);
    }
    step_done(4);

    // 6. One rename: the path now opens as the new database.
    std::fs::rename(&partial, db).map_err(|e| io(db, e))?;
    partial_guard.disarm();
    sync_dir(dir);
    step_done(5);

    // 7. The head file follows.
    let mut warnings = Vec::new();
    if let Err(e) = witness::write_head_file(&witness::head_path_for(db), &new_head) {
        warnings.push(format!("{}: {e}", witness::head_path_for(db).display()));
    }
    step_done(6);
    Ok(RestoreReport {
        verified,
        head: new_head,
        kept_aside,
        warnings,
    })
}

// ---------------------------------------------------------------------------------------------
// Commands

/// `comptoir backup --db PATH --to DIR`: takes the database's lock (exit 3 naming the holder),
/// journals the backup, copies, verifies, encrypts to `recipients` when there are any; exit 0
/// with `backup: PATH`, `verified: N entries`, `sha256: HEX` (then `removed: PATH` per
/// rotated copy); 1 with `failed: REASON` when the folder is missing, full, or the copy fails
/// (nothing partial is left); 3 when the database cannot be opened.
pub fn command_backup(
    db: &Path,
    dir: &Path,
    today: NaiveDate,
    recipients: &[age::x25519::Recipient],
) -> u8 {
    let _lock = match DbLock::acquire(db, "comptoir backup") {
        Ok(l) => l,
        Err(e) => {
            eprintln!("comptoir: {e}");
            return 3;
        }
    };
    // Opened read-only first: a file that is not a current Comptoir database stays untouched.
    if let Err(e) = Store::open(db, Access::ReadOnly) {
        eprintln!("comptoir: {e}");
        return 3;
    }
    let conn = match Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("comptoir: {}: {e}", db.display());
            return 3;
        }
    };
    let _ = conn.busy_timeout(Duration::from_secs(5));
    let options = BackupOptions {
        recipients: recipients.to_vec(),
        journal: true,
    };
    match backup_with(&conn, dir, today, &options) {
        Ok(report) => {
            println!("backup: {}", report.path.display());
            println!("verified: {} entries", report.verified.entries);
            println!("sha256: {}", report.sha256);
            if !report.encrypted {
                eprintln!("comptoir: this copy is not encrypted (no backup_recipients in the config): whoever finds the stick can read it");
            }
            for path in &report.removed {
                println!("removed: {}", path.display());
            }
            for w in &report.warnings {
                eprintln!("comptoir: {w}");
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

/// `comptoir restore --from FILE --db PATH [--accept-rollback] [--new-kiosk] [--identity
/// FILE]`: exit 0 with `restored: N entries`, `head: SEQ HASH` (and `kept: PATH` for the
/// replaced database); 1 with `refused: REASON` (nothing is changed then); 3 when a kiosk or
/// another command holds the database.
pub fn command_restore(from: &Path, db: &Path, options: &RestoreOptions) -> u8 {
    match restore(from, db, options, Utc::now()) {
        Ok(report) => {
            println!("restored: {} entries", report.verified.entries);
            println!("head: {} {}", report.head.seq, report.head.hash);
            if let Some(aside) = &report.kept_aside {
                println!("kept: {}", aside.display());
            }
            for w in &report.warnings {
                eprintln!("comptoir: {w}");
            }
            0
        }
        Err(e) => {
            println!("refused: {}", e.code());
            eprintln!("comptoir: {e}");
            match e {
                BackupError::Locked(_) => 3,
                _ => 1,
            }
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
