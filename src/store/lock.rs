//! One process per database: the kiosk and every command that writes take an exclusive
//! `flock` on `<db>.lock` for as long as they run. A second one is refused at once with the
//! holder's name (its command, process id and start time, which the holder writes into the
//! lock file); read-only commands open the database read-only and take no lock.
//!
//! The lock is the kernel's: it goes away with the process, even after `kill -9` or a power
//! cut, so a stale lock file never blocks anyone (its text only names the last holder).

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the database.
    #[error("{db}: in use by {holder}; stop it first")]
    Held { db: PathBuf, holder: String },
    #[error("{lock}: cannot take the lock ({reason})")]
    Io { lock: PathBuf, reason: String },
}

/// `<db>.lock`.
pub fn lock_path_for(db: &Path) -> PathBuf {
    super::with_suffix(db, ".lock")
}

/// The held lock; dropping it releases it.
#[derive(Debug)]
pub struct DbLock {
    file: File,
    path: PathBuf,
}

impl DbLock {
    /// Takes the lock of the database at `db` for `what` (e.g. `"the kiosk"`, `"restore"`),
    /// without waiting. The database's folder is created when missing.
    pub fn acquire(db: &Path, what: &str) -> Result<DbLock, LockError> {
        let path = lock_path_for(db);
        let io = |e: std::io::Error| LockError::Io {
            lock: path.clone(),
            reason: e.to_string(),
        };
        if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // SAFETY: flock on a descriptor this function owns.
        let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if !taken {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(io(e));
            }
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let holder = text.lines().next().unwrap_or("").trim().to_string();
            let holder = if holder.is_empty() {
                "another Comptoir process".to_string()
            } else {
                holder
            };
            return Err(LockError::Held {
                db: db.into(),
                holder,
            });
        }
        let line = format!(
            "{what} (process {}, since {})\n",
            std::process::id(),
            super::utc_text(chrono::Utc::now())
        );
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        file.write_all(line.as_bytes()).map_err(io)?;
        Ok(DbLock { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DbLock {
    fn drop(&mut self) {
        // Still held here: clearing the holder's name cannot race with the next holder.
        let _ = self.file.set_len(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_name() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sub").join("comptoir.db");
        let first = DbLock::acquire(&db, "the kiosk").unwrap();
        match DbLock::acquire(&db, "restore") {
            Err(LockError::Held { holder, .. }) => {
                assert!(holder.starts_with("the kiosk (process "), "{holder}")
            }
            other => panic!("{other:?}"),
        }
        drop(first);
        let again = DbLock::acquire(&db, "restore").unwrap();
        assert_eq!(again.path(), lock_path_for(&db));
    }
}
