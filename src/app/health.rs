//! Start-up checks and the kiosk's health: the first frame first, then in the background
//! `PRAGMA quick_check` and the journal verified from the last verified entry (a mark kept in
//! `meta`); selling and deposits wait with a banner until both pass, and a failed check blocks
//! them with a clear screen (the data is never touched). Once a day the same thread runs the
//! full `integrity_check` (with the whole journal); the automatic backup into the configured
//! folder runs once a day, and within one period (a minute) of the folder appearing (the stick
//! plugged in) when today's copy is missing. Warnings: the last good backup is older than two
//! days, the backup folder (USB stick) is missing, the disk is nearly full, backups are not
//! encrypted (no `backup_recipients`); a backup that failed for want of room on the stick says
//! so with the figures.
//!
//! The thread has its own connection and sends plain [`HealthEvent`]s on a channel; the UI
//! drains it from a timer, like the device workers.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension};

use super::Screen;
use crate::store::journal::TechnicalEvent;
use crate::store::{backup, journal, meta, schema, witness};

/// `meta` key of the last verified journal entry: `SEQ HASH`.
pub const MARK_KEY: &str = "journal_verified";
/// A backup older than this warns.
pub const BACKUP_MAX_AGE: Duration = Duration::from_secs(2 * 24 * 3600);
/// Less free space than this (bytes) warns...
pub const DISK_MIN_FREE: u64 = 200 * 1024 * 1024;
/// ...and so does less than this share of the disk (percent).
pub const DISK_MIN_FREE_PERCENT: u64 = 5;

/// Which check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// The database file could not be opened or read.
    Unreadable,
    /// `quick_check` or `integrity_check` found damage.
    Damaged,
    /// The journal does not verify.
    Journal,
    /// The journal lacks entries a witness (the head file) saw: it was cut short or an older
    /// copy was put in its place.
    Missing,
    /// The schema is not the migrations' (a trigger dropped, changed or added).
    Schema,
    /// No database, but its key or head file is there: it was deleted or moved.
    NoDatabase,
}

impl FaultKind {
    pub fn code(self) -> &'static str {
        match self {
            FaultKind::Unreadable => "unreadable",
            FaultKind::Damaged => "damaged",
            FaultKind::Journal => "journal",
            FaultKind::Missing => "missing",
            FaultKind::Schema => "schema",
            FaultKind::NoDatabase => "no_database",
        }
    }
}

/// A failed check: which, and the technical detail for whoever repairs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub detail: String,
    /// For [`FaultKind::Missing`]: the time of the last entry still there (entries after it
    /// are missing), when there is one.
    pub since: Option<String>,
}

impl Fault {
    pub fn new(kind: FaultKind, detail: impl Into<String>) -> Fault {
        Fault {
            kind,
            detail: detail.into(),
            since: None,
        }
    }
}

/// Where the start-up checks are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Checks {
    /// Not started (tools and tests that build a kiosk without the checks): nothing waits.
    #[default]
    NotStarted,
    Running,
    Passed,
    Failed(Fault),
}

/// What the screen warns about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Warnings {
    /// A backup folder is configured and none of its copies is younger than two days (or
    /// there is none): how many days since the last one (`None`: never).
    pub backup_stale: Option<Option<u64>>,
    /// The backup folder is configured but missing (the stick is not plugged in).
    pub folder_missing: bool,
    /// The database's disk is nearly full: free MiB.
    pub disk_nearly_full: Option<u64>,
    /// Backups are made but not encrypted (no `backup_recipients`): a lost stick shows the
    /// residents' data (the admin screen says so).
    pub backup_plain: bool,
}

impl Warnings {
    pub fn any(&self) -> bool {
        self.backup_stale.is_some()
            || self.folder_missing
            || self.disk_nearly_full.is_some()
            || self.backup_plain
    }
}

/// Why an automatic backup failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFailure {
    /// The message, for the log and whoever repairs it.
    pub detail: String,
    /// The stick was too full: (free MB, MB the copy needs).
    pub stick_full: Option<(u64, u64)>,
}

impl From<&backup::BackupError> for BackupFailure {
    fn from(e: &backup::BackupError) -> Self {
        BackupFailure {
            detail: e.to_string(),
            stick_full: match e {
                backup::BackupError::StickFull { free_mb, needed_mb } => {
                    Some((*free_mb, *needed_mb))
                }
                _ => None,
            },
        }
    }
}

/// A report of the health thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthEvent {
    /// The start-up checks: passed (with the journal's length), or failed.
    Startup(Result<u64, Fault>),
    Warnings(Warnings),
    /// The daily full check failed.
    Integrity(Fault),
    /// An automatic backup: the copy's path, or why it failed.
    Backup(Result<PathBuf, BackupFailure>),
}

/// The kiosk's health as the screens show it.
#[derive(Debug, Default)]
pub struct Health {
    pub checks: Checks,
    pub warnings: Warnings,
    pub last_backup: Option<Result<PathBuf, BackupFailure>>,
    events: Option<Receiver<HealthEvent>>,
    stop: Option<Arc<AtomicBool>>,
}

impl Drop for Health {
    fn drop(&mut self) {
        if let Some(stop) = &self.stop {
            stop.store(true, Ordering::Relaxed);
        }
    }
}

impl Health {
    /// Selling and deposits may go on (checks passed, or not run at all).
    pub fn ready(&self) -> bool {
        matches!(self.checks, Checks::NotStarted | Checks::Passed)
    }

    /// Applies the thread's reports; true when something changed.
    pub fn drain(&mut self) -> bool {
        let Some(rx) = &self.events else {
            return false;
        };
        let events: Vec<HealthEvent> = rx.try_iter().collect();
        let changed = !events.is_empty();
        for e in events {
            self.apply(e);
        }
        changed
    }

    pub fn apply(&mut self, event: HealthEvent) {
        match event {
            HealthEvent::Startup(Ok(_)) => {
                if self.checks == Checks::Running {
                    self.checks = Checks::Passed;
                }
            }
            HealthEvent::Startup(Err(f)) | HealthEvent::Integrity(f) => {
                self.checks = Checks::Failed(f)
            }
            HealthEvent::Warnings(w) => self.warnings = w,
            HealthEvent::Backup(r) => self.last_backup = Some(r),
        }
    }

    /// Where a request for `to` leads given the checks: selling and deposits wait on `from`
    /// while the checks run, and lead to the failure screen when one failed.
    pub fn gate(&self, from: Screen, to: Screen) -> Screen {
        let guarded = matches!(
            to,
            Screen::SellCatalog
                | Screen::SellWeigh
                | Screen::SellCart
                | Screen::SellPay
                | Screen::SellSessionOpen
                | Screen::SellSessionClose
                | Screen::CompostIdle
                | Screen::CompostWeigh
        );
        match &self.checks {
            Checks::Failed(_) => Screen::HealthFailed,
            Checks::Running if guarded => from,
            _ => to,
        }
    }
}

/// Where the health thread works.
#[derive(Debug, Clone)]
pub struct HealthConfig {
    pub db: PathBuf,
    pub backup_dir: Option<PathBuf>,
    pub tz: chrono_tz::Tz,
    /// How often the thread looks at the day, the folder and the disk.
    pub period: Duration,
    /// The head file the journal must contain (`<db>.head`), if any.
    pub head_file: Option<PathBuf>,
    /// age recipients the backups are encrypted to (`backup_recipients`); empty: plain
    /// copies, and a warning.
    pub backup_recipients: Vec<age::x25519::Recipient>,
}

/// Starts the checks on their own thread (after the first frame: call it once the window is
/// up). `health.checks` is `Running` until the thread reports.
pub fn start(health: &mut Health, config: HealthConfig) {
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    health.checks = Checks::Running;
    health.events = Some(rx);
    health.stop = Some(stop.clone());
    let spawned = std::thread::Builder::new()
        .name("health".into())
        .spawn(move || run(config, tx, stop));
    if let Err(e) = spawned {
        health.checks = Checks::Failed(Fault::new(
            FaultKind::Unreadable,
            format!("cannot start the checks: {e}"),
        ));
    }
}

/// Runs the checks of an in-memory or already open database on the calling thread (tools and
/// tests); the same as the thread's first step.
pub fn check_now(health: &mut Health, conn: &Connection) {
    health.checks = Checks::Running;
    health.apply(HealthEvent::Startup(startup_checks(conn)));
}

fn open(db: &Path) -> Result<Connection, Fault> {
    let conn = Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Fault::new(FaultKind::Unreadable, e.to_string()))?;
    let _ = conn.busy_timeout(Duration::from_secs(10));
    Ok(conn)
}

fn run(config: HealthConfig, tx: Sender<HealthEvent>, stop: Arc<AtomicBool>) {
    let conn = match open(&config.db) {
        Ok(c) => c,
        Err(f) => {
            let _ = tx.send(HealthEvent::Startup(Err(f)));
            return;
        }
    };
    let first = first_checks(&conn, config.head_file.as_deref());
    if let Err(f) = &first {
        if f.kind == FaultKind::Schema {
            journal_schema_failure(&conn, &f.detail);
        }
    }
    let failed = first.is_err();
    if tx.send(HealthEvent::Startup(first)).is_err() || failed {
        return;
    }
    let mut checked_day: Option<NaiveDate> = None;
    let mut stick = StickWatch::default();
    while !stop.load(Ordering::Relaxed) {
        let today = Utc::now().with_timezone(&config.tz).date_naive();
        if checked_day != Some(today) {
            checked_day = Some(today);
            // At start-up and daily, before the backup: printed jobs older than 7 days go
            // (`comptoir receipt` remakes any receipt from the journal).
            match crate::store::print_queue::purge_printed(&conn, Utc::now()) {
                Ok(0) => {}
                Ok(n) => log::info!("print queue: {n} printed job(s) purged"),
                Err(e) => log::error!("print queue purge: {e}"),
            }
            if let Err(f) = full_check(&conn) {
                let _ = tx.send(HealthEvent::Integrity(f));
                return;
            }
        }
        if let Some(dir) = &config.backup_dir {
            let present = dir.is_dir();
            if stick.due(today, present, present && backup::has_copy(dir, today)) {
                let options = backup::BackupOptions {
                    recipients: config.backup_recipients.clone(),
                    journal: true,
                };
                let r = match backup::backup_with(&conn, dir, today, &options) {
                    Ok(report) => {
                        for w in &report.warnings {
                            log::warn!("backup {}: {w}", report.path.display());
                        }
                        Ok(report.path)
                    }
                    Err(e) => {
                        log::error!("automatic backup: {e}");
                        Err(BackupFailure::from(&e))
                    }
                };
                let _ = tx.send(HealthEvent::Backup(r));
            }
        }
        let mut w = warnings(&config.db, config.backup_dir.as_deref(), SystemTime::now());
        w.backup_plain = config.backup_dir.is_some() && config.backup_recipients.is_empty();
        if tx.send(HealthEvent::Warnings(w)).is_err() {
            return;
        }
        // Sleep in small steps so that a closing kiosk does not wait.
        let mut slept = Duration::ZERO;
        while slept < config.period && !stop.load(Ordering::Relaxed) {
            let step = Duration::from_millis(100).min(config.period - slept);
            std::thread::sleep(step);
            slept += step;
        }
    }
}

/// When the automatic backup runs: once a day, and again when the folder (the stick)
/// appears after being missing, as long as the day's copy is not there. A failed attempt is
/// not retried every period (each attempt is journaled): only on the next day, or when the
/// stick is plugged in again.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StickWatch {
    /// The day of the last attempt.
    tried: Option<NaiveDate>,
    /// The folder was there at the previous look.
    was_present: bool,
}

impl StickWatch {
    /// Whether to back up now, given the day, whether the folder is there and whether it
    /// already holds the day's copy; records the attempt.
    pub fn due(&mut self, today: NaiveDate, present: bool, has_today: bool) -> bool {
        let appeared = present && !self.was_present;
        self.was_present = present;
        let due = present && !has_today && (self.tried != Some(today) || appeared);
        if due {
            self.tried = Some(today);
        }
        due
    }
}

/// The mark: the last entry verified, `(seq, hash)`.
pub fn mark(conn: &Connection) -> rusqlite::Result<Option<(i64, String)>> {
    Ok(meta::get(conn, MARK_KEY)?.and_then(|text| {
        let (seq, hash) = text.split_once(' ')?;
        Some((seq.parse().ok()?, hash.to_string()))
    }))
}

/// The journal must contain the head the head file at `path` witnessed. A missing head file
/// is no fault (a first start, or a kiosk from before head files); an unreadable one is a
/// warning in the log, never a reason to stop selling.
pub fn witness_check(conn: &Connection, path: &Path) -> Result<(), Fault> {
    let head = match witness::read_head_file(path) {
        Ok(Some(head)) => head,
        Ok(None) => return Ok(()),
        Err(e) => {
            log::warn!("head file not checked: {e}");
            return Ok(());
        }
    };
    let w = witness::Witness {
        source: format!("the head file {}", path.display()),
        head,
    };
    match witness::check(conn, &w) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(missing)) => Err(Fault {
            kind: FaultKind::Missing,
            detail: format!("seq {}: {}", missing.seq, missing.reason),
            since: missing.since_utc,
        }),
        Err(e) => Err(Fault::new(FaultKind::Damaged, e.to_string())),
    }
}

/// Journals a failed schema check (a technical event), when the database still takes it.
fn journal_schema_failure(conn: &Connection, reason: &str) {
    let mut body = serde_json::Map::new();
    body.insert("reason".into(), reason.into());
    let written = conn.execute_batch("BEGIN IMMEDIATE").and_then(|()| {
        match journal::append_technical(conn, Utc::now(), TechnicalEvent::SchemaCheckFailed, body) {
            Ok(_) => conn.execute_batch("COMMIT"),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                log::warn!("schema failure not journaled: {e}");
                Ok(())
            }
        }
    });
    if let Err(e) = written {
        log::warn!("schema failure not journaled: {e}");
    }
}

/// What the checks thread runs before anything else: [`startup_checks`], then the head file
/// at `head_file` (when the kiosk keeps one) against the journal ([`witness_check`]).
pub fn first_checks(conn: &Connection, head_file: Option<&Path>) -> Result<u64, Fault> {
    let n = startup_checks(conn)?;
    if let Some(path) = head_file {
        witness_check(conn, path)?;
    }
    Ok(n)
}

/// `PRAGMA quick_check` of the file's structure (pages, b-trees, indexes, NOT NULL), without
/// the tables' CHECK constraints: on a year of records those are most of its time (a hex and a
/// JSON test of every journal and chain row; 3.3 s against 0.5 s on a 160 MB garden). A row
/// they would refuse can only be written behind the app's back, and the journal check that
/// follows, the daily full check (`integrity_check`, constraints included) and
/// `journal verify` see it. The setting is put back before returning, whatever happened.
fn structure_check(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.execute_batch("PRAGMA ignore_check_constraints = ON")?;
    let problems = conn.prepare("PRAGMA quick_check").and_then(|mut s| {
        s.query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()
    });
    conn.execute_batch("PRAGMA ignore_check_constraints = OFF")?;
    problems
}

/// `quick_check` (structure only), the schema against the migrations', then the journal from
/// the mark on;
/// stores the new mark. Returns the journal's length.
pub fn startup_checks(conn: &Connection) -> Result<u64, Fault> {
    let damaged = |detail: String| Fault::new(FaultKind::Damaged, detail);
    let problems = structure_check(conn).map_err(|e| damaged(e.to_string()))?;
    if problems != ["ok"] {
        return Err(damaged(problems.join("; ")));
    }
    match schema::check(conn) {
        Ok(Ok(())) => {}
        Ok(Err(reason)) => return Err(Fault::new(FaultKind::Schema, format!("schema: {reason}"))),
        Err(e) => return Err(damaged(e.to_string())),
    }
    let (seq, hash) = verify_from_mark(conn)?;
    if seq > 0 {
        let store_mark = || -> rusqlite::Result<()> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let r = meta::set(conn, MARK_KEY, &format!("{seq} {hash}"));
            match r {
                Ok(()) => conn.execute_batch("COMMIT"),
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    Err(e)
                }
            }
        };
        // A read-only place only loses the shortcut, not the check.
        if let Err(e) = store_mark() {
            log::warn!("journal mark not stored: {e}");
        }
    }
    Ok(seq as u64)
}

/// Verifies the chain from the mark: the marked entry still has the marked hash, and each
/// later entry links to the one before and hashes right. Signatures and the sales tables are
/// checked by the daily full check (and `comptoir journal verify`). Returns the new mark.
pub fn verify_from_mark(conn: &Connection) -> Result<(i64, String), Fault> {
    let broken =
        |seq: i64, reason: String| Fault::new(FaultKind::Journal, format!("seq {seq}: {reason}"));
    let sql_fault = |e: rusqlite::Error| Fault::new(FaultKind::Damaged, e.to_string());
    let kiosk = meta::kiosk_id(conn).map_err(sql_fault)?;
    let (mut seq, mut hash) = match mark(conn).map_err(sql_fault)? {
        Some((seq, hash)) => {
            let stored: Option<String> = conn
                .query_row(
                    "SELECT hash FROM journal WHERE kiosk_id = ?1 AND seq = ?2",
                    rusqlite::params![kiosk, seq],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_fault)?;
            if stored.as_deref() != Some(hash.as_str()) {
                return Err(broken(
                    seq,
                    "the last verified entry changed or vanished".into(),
                ));
            }
            (seq, hash)
        }
        None => (0, journal::ZERO_HASH.to_string()),
    };
    let mut stmt = conn
        .prepare(
            "SELECT seq, payload, prev_hash, hash FROM journal
             WHERE kiosk_id = ?1 AND seq > ?2 ORDER BY seq",
        )
        .map_err(sql_fault)?;
    let mut rows = stmt
        .query(rusqlite::params![kiosk, seq])
        .map_err(sql_fault)?;
    while let Some(row) = rows.next().map_err(sql_fault)? {
        let s: i64 = row.get(0).map_err(sql_fault)?;
        let payload: String = row.get(1).map_err(sql_fault)?;
        let prev: String = row.get(2).map_err(sql_fault)?;
        let h: String = row.get(3).map_err(sql_fault)?;
        if s != seq + 1 {
            return Err(broken(
                seq + 1,
                format!("entry missing (the next one is {s})"),
            ));
        }
        if prev != hash {
            return Err(broken(
                s,
                "prev_hash does not link to the previous entry".into(),
            ));
        }
        if journal::entry_hash(&prev, &payload).as_deref() != Some(h.as_str()) {
            return Err(broken(s, "hash does not match the payload".into()));
        }
        seq = s;
        hash = h;
    }
    Ok((seq, hash))
}

/// The daily full check: `integrity_check`, the whole journal with its signatures, the sales
/// tables against it.
pub fn full_check(conn: &Connection) -> Result<(), Fault> {
    backup::check_connection(conn)
        .map(|_| ())
        .map_err(|detail| {
            Fault::new(
                if detail.starts_with("integrity_check") {
                    FaultKind::Damaged
                } else {
                    FaultKind::Journal
                },
                detail,
            )
        })
}

/// Free bytes and total bytes of the file system holding `path`.
pub use crate::store::backup::disk_space;

/// The warnings of the moment.
pub fn warnings(db: &Path, backup_dir: Option<&Path>, now: SystemTime) -> Warnings {
    let mut w = Warnings::default();
    if let Some(dir) = backup_dir {
        match backup::last_backup_time(dir) {
            Err(_) => w.folder_missing = true,
            Ok(None) => w.backup_stale = Some(None),
            Ok(Some(t)) => {
                let age = now.duration_since(t).unwrap_or_default();
                if age > BACKUP_MAX_AGE {
                    w.backup_stale = Some(Some(age.as_secs() / 86_400));
                }
            }
        }
    }
    if let Some((free, total)) = disk_space(db) {
        if free < DISK_MIN_FREE || (total > 0 && free * 100 / total < DISK_MIN_FREE_PERCENT) {
            w.disk_nearly_full = Some(free / (1024 * 1024));
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn the_mark_moves_on_and_a_changed_entry_is_found() {
        let mut store = Store::open_in_memory().unwrap();
        for i in 0..3 {
            let tx = store.write().unwrap();
            let mut body = serde_json::Map::new();
            body.insert("n".into(), i.into());
            journal::append(&tx, "test", Utc::now(), body).unwrap();
            tx.commit().unwrap();
        }
        let conn = store.conn();
        assert_eq!(startup_checks(conn), Ok(3));
        assert_eq!(mark(conn).unwrap().unwrap().0, 3);
        // From the mark on: nothing new, still intact.
        assert_eq!(startup_checks(conn), Ok(3));
        // The trigger is put back exactly as it was: the schema check cannot see it, the
        // chain does.
        let trigger: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'journal_no_update'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute_batch(&format!(
            "DROP TRIGGER journal_no_update;
             UPDATE journal SET hash = (CASE substr(hash, 1, 1) WHEN '0' THEN '1' ELSE '0' END)
                 || substr(hash, 2) WHERE seq = 3;
             {trigger};"
        ))
        .unwrap();
        let f = startup_checks(conn).unwrap_err();
        assert_eq!(f.kind, FaultKind::Journal);
        assert!(f.detail.starts_with("seq 3:"), "{}", f.detail);
    }

    #[test]
    fn the_gate_holds_selling_while_checking_and_blocks_after_a_failure() {
        let mut h = Health::default();
        assert_eq!(
            h.gate(Screen::Home, Screen::SellCatalog),
            Screen::SellCatalog
        );
        h.checks = Checks::Running;
        assert_eq!(h.gate(Screen::Home, Screen::SellCatalog), Screen::Home);
        assert_eq!(h.gate(Screen::Home, Screen::GardenHome), Screen::GardenHome);
        h.apply(HealthEvent::Startup(Ok(0)));
        assert!(h.ready());
        assert_eq!(
            h.gate(Screen::Home, Screen::SellCatalog),
            Screen::SellCatalog
        );
        h.apply(HealthEvent::Integrity(Fault::new(
            FaultKind::Damaged,
            "page 4",
        )));
        assert!(!h.ready());
        assert_eq!(
            h.gate(Screen::Home, Screen::AdminDevices),
            Screen::HealthFailed
        );
    }

    #[test]
    fn the_stick_is_backed_up_when_it_appears_and_a_failure_waits_for_the_next_plug() {
        let day = NaiveDate::from_ymd_opt(2026, 6, 13).unwrap();
        let next = day.succ_opt().unwrap();
        let mut w = StickWatch::default();
        assert!(!w.due(day, false, false), "no stick");
        assert!(!w.due(day, false, false));
        assert!(w.due(day, true, false), "plugged in mid-day");
        // The attempt failed (no copy): not again every minute...
        assert!(!w.due(day, true, false));
        // ...but when the stick is plugged in again.
        assert!(!w.due(day, false, false));
        assert!(w.due(day, true, false));
        // A stick that already holds the day's copy is left alone.
        let mut w = StickWatch::default();
        assert!(!w.due(day, true, true));
        assert!(!w.due(day, true, true));
        // The next day, once.
        assert!(w.due(next, true, false));
        assert!(!w.due(next, true, false));
    }

    #[test]
    fn warnings_name_a_missing_folder_and_an_old_backup() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        let w = warnings(&db, Some(&dir.path().join("stick")), SystemTime::now());
        assert!(w.folder_missing);
        let w = warnings(&db, Some(dir.path()), SystemTime::now());
        assert_eq!(w.backup_stale, Some(None));
        std::fs::write(dir.path().join("comptoir-2026-06-10.db"), b"x").unwrap();
        let w = warnings(&db, Some(dir.path()), SystemTime::now());
        assert_eq!(w.backup_stale, None);
        let later = SystemTime::now() + Duration::from_secs(3 * 86_400 + 60);
        assert_eq!(
            warnings(&db, Some(dir.path()), later).backup_stale,
            Some(Some(3))
        );
        assert!(warnings(&db, None, SystemTime::now())
            .backup_stale
            .is_none());
    }
}
