//! The kiosk's life around its database: what it checks before opening it, what it journals
//! when it starts and stops, and the head file it keeps beside the key.
//!
//! - **One process per database** ([`crate::store::lock`]): the kiosk holds `<db>.lock` for
//!   as long as it runs; a second kiosk or a writing command is refused with the holder's name.
//! - **A lost database is never recreated in silence** ([`check_database`]): outside demo mode,
//!   a missing database whose key or head file is still there means the file was deleted or
//!   moved; the kiosk shows a blocking screen instead of making an empty one (where whoever
//!   stands there could create the administrator). With neither, it is a first start.
//! - **Technical events** (`technical` entries): `start` and, on a clean stop, `stop`.
//! - **The head file** ([`HeadKeeper`]): rewritten within a second of each new journal entry
//!   and at a clean stop, so that at the next start a journal shorter than it, or not
//!   containing it, is caught (see [`crate::app::health`]). Failing to write it is logged and
//!   shown nowhere else: it never stops selling.
//! - **The day's chores** ([`new_day`]): at start-up and when the local day changes, the
//!   periods that ended are closed and inactive residents anonymised (the retention rule);
//!   each failure is logged and retried at the next start or day.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::Map;

use crate::store::journal::{self, TechnicalEvent};
use crate::store::{witness, Store};

/// What [`new_day`] did.
#[derive(Debug)]
pub struct DayChores {
    /// Closures written for the periods that ended (or why they wait).
    pub closures: Result<usize, crate::app::closures::ClosureError>,
    /// Residents anonymised by the retention rule.
    pub retention: Result<usize, crate::store::compost::CompostError>,
}

/// The chores of a new day, at start-up and when the local day changes: the periods that
/// ended are closed ([`crate::app::closures::close_due_periods`]; they also close before each
/// sale), then inactive residents are anonymised
/// ([`crate::app::compost::apply_retention`]). Both are logged here.
pub fn new_day(kiosk: &mut crate::app::Kiosk) -> DayChores {
    let closures = crate::app::closures::close_due_periods(kiosk, None);
    match &closures {
        Ok(0) => {}
        Ok(n) => log::info!("{n} closures written for ended periods"),
        Err(e) => log::info!("closures wait: {e}"),
    }
    let retention = crate::app::compost::apply_retention(kiosk);
    match &retention {
        Ok(0) => {}
        Ok(n) => log::info!("retention: {n} inactive residents anonymised"),
        Err(e) => log::error!("retention: {e}"),
    }
    DayChores {
        closures,
        retention,
    }
}

/// What was found where the database should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseState {
    /// The database is there (or a new one may be made: nothing of an earlier one is left).
    Present,
    /// No database here, but its key or head file is: it was deleted or moved.
    Lost {
        /// The leftover that proves a database was here.
        evidence: PathBuf,
    },
}

/// Whether the database at `db` is there, may be created, or was lost (see the module
/// documentation). A file of zero bytes counts as missing.
pub fn check_database(db: &Path) -> DatabaseState {
    let present = std::fs::metadata(db).map(|m| m.len() > 0).unwrap_or(false);
    if present {
        return DatabaseState::Present;
    }
    for evidence in [journal::key_path_for(db), witness::head_path_for(db)] {
        if evidence.exists() {
            return DatabaseState::Lost { evidence };
        }
    }
    DatabaseState::Present
}

fn technical(
    store: &mut Store,
    now: DateTime<Utc>,
    event: TechnicalEvent,
    body: Map<String, serde_json::Value>,
) -> Result<i64, String> {
    let tx = store.write().map_err(|e| e.to_string())?;
    let entry = journal::append_technical(&tx, now, event, body).map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())?;
    Ok(entry.seq)
}

/// Journals the kiosk's start (`technical` `start`, with this build's version). A clock
/// behind the journal refuses it (the kiosk starts anyway: an admin sets the time).
pub fn journal_start(store: &mut Store, now: DateTime<Utc>) -> Result<i64, String> {
    let mut body = Map::new();
    body.insert("version".into(), env!("CARGO_PKG_VERSION").into());
    technical(store, now, TechnicalEvent::Start, body)
}

/// Journals a clean stop (`technical` `stop`).
pub fn journal_stop(store: &mut Store, now: DateTime<Utc>) -> Result<i64, String> {
    technical(store, now, TechnicalEvent::Stop, Map::new())
}

/// Keeps the head file of the kiosk's database up to date.
#[derive(Debug)]
pub struct HeadKeeper {
    path: PathBuf,
    /// The seq last written (or found already there).
    kept: Option<i64>,
    /// The last failure was logged (log once until it works again).
    failing: bool,
}

impl HeadKeeper {
    /// The keeper of `<db>.head`; `None` for an in-memory database.
    pub fn for_store(store: &Store) -> Option<HeadKeeper> {
        let db = store.path();
        if db.as_os_str().is_empty() || db == Path::new(":memory:") {
            return None;
        }
        Some(HeadKeeper {
            path: witness::head_path_for(db),
            kept: None,
            failing: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the head file when the journal moved on since the last call. Cheap when nothing
    /// changed (one indexed query). Returns whether the file was written.
    pub fn tick(&mut self, store: &Store) -> bool {
        let seq = match journal::head(store.conn()) {
            Ok(Some(entry)) => entry.seq,
            Ok(None) => return false,
            Err(e) => {
                self.fail(format!("reading the journal's head: {e}"));
                return false;
            }
        };
        if self.kept == Some(seq) {
            return false;
        }
        match witness::keep(store.conn(), &self.path) {
            Ok(_) => {
                self.kept = Some(seq);
                if self.failing {
                    log::info!("head file {} written again", self.path.display());
                    self.failing = false;
                }
                true
            }
            Err(e) => {
                self.fail(e.to_string());
                false
            }
        }
    }

    fn fail(&mut self, reason: String) {
        if !self.failing {
            log::warn!("head file {}: {reason}", self.path.display());
            self.failing = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Access;

    #[test]
    fn a_database_is_lost_only_when_its_key_or_head_file_remains() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("comptoir.db");
        assert_eq!(check_database(&db), DatabaseState::Present);
        std::fs::write(witness::head_path_for(&db), "comptoir head\n").unwrap();
        assert_eq!(
            check_database(&db),
            DatabaseState::Lost {
                evidence: witness::head_path_for(&db)
            }
        );
        std::fs::write(&db, b"").unwrap();
        assert!(matches!(check_database(&db), DatabaseState::Lost { .. }));
    }

    #[test]
    fn the_keeper_writes_the_head_when_the_journal_moves() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("comptoir.db");
        let mut store = Store::open(&db, Access::ReadWrite).unwrap();
        let mut keeper = HeadKeeper::for_store(&store).unwrap();
        assert!(!keeper.tick(&store), "an empty journal has no head");
        let now = Utc::now();
        let seq = journal_start(&mut store, now).unwrap();
        assert!(keeper.tick(&store));
        assert!(!keeper.tick(&store), "nothing new");
        let kept = witness::read_head_file(keeper.path()).unwrap().unwrap();
        assert_eq!(kept.seq, seq);
        journal_stop(&mut store, now).unwrap();
        assert!(keeper.tick(&store));
        assert_eq!(
            witness::read_head_file(keeper.path()).unwrap().unwrap().seq,
            seq + 1
        );
    }
}
