//! Pseudo-terminal pairs with a stable symlink: how simulators appear as serial ports.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serialport::{SerialPort, TTYPort};

/// A pty pair whose slave is reachable at `link` (a symlink). The simulator talks through
/// the master; the device side opens the link like any serial port. Dropping it closes both
/// ends (the device side sees a hang-up, like an unplugged cable) and removes the link.
pub struct PtyLink {
    master: TTYPort,
    // Held open so the master never reads EIO while no device side is connected.
    _slave: TTYPort,
    slave_path: PathBuf,
    link: PathBuf,
}

impl PtyLink {
    /// Creates the pair and points `link` at the slave, atomically replacing a simulator's
    /// earlier link there (live or stale). Anything else at `link` is refused with
    /// [`io::ErrorKind::AlreadyExists`] and left as it is (see [`check_link`]). The master
    /// reads with a 10 ms timeout.
    pub fn create(link: &Path) -> io::Result<Self> {
        check_link(link).map_err(|e| io::Error::new(io::ErrorKind::AlreadyExists, e))?;
        let (mut master, slave) = TTYPort::pair().map_err(io::Error::from)?;
        master
            .set_timeout(Duration::from_millis(10))
            .map_err(io::Error::from)?;
        let slave_path = PathBuf::from(
            slave
                .name()
                .ok_or_else(|| io::Error::other("the pty slave has no name"))?,
        );
        replace_symlink(&slave_path, link)?;
        Ok(PtyLink {
            master,
            _slave: slave,
            slave_path,
            link: link.to_path_buf(),
        })
    }

    /// The simulator's end.
    pub fn master(&mut self) -> &mut TTYPort {
        &mut self.master
    }

    /// The device's end (e.g. `/dev/pts/3`).
    pub fn slave_path(&self) -> &Path {
        &self.slave_path
    }

    pub fn link(&self) -> &Path {
        &self.link
    }
}

impl Drop for PtyLink {
    fn drop(&mut self) {
        if std::fs::read_link(&self.link).ok().as_deref() == Some(self.slave_path.as_path()) {
            let _ = std::fs::remove_file(&self.link);
        }
    }
}

/// What is at a `--link` path that a simulator must not replace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefused {
    #[error("{}: it exists and is not a simulator's link ({what}); nothing was changed, choose another path", path.display())]
    NotOurs { path: PathBuf, what: &'static str },
    #[error("{}: {error}", path.display())]
    Unreadable { path: PathBuf, error: String },
}

/// Whether a simulator may put its link at `link`: nothing there, or a symlink to a
/// pseudo-terminal (`/dev/pts/N`), which is what the simulators make (a stale one, whose
/// pty is gone, included). A regular file, a folder, or a symlink elsewhere is refused: the
/// path may be a database or a key given by mistake.
pub fn check_link(link: &Path) -> Result<(), LinkRefused> {
    let meta = match std::fs::symlink_metadata(link) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(LinkRefused::Unreadable {
                path: link.to_path_buf(),
                error: e.to_string(),
            })
        }
    };
    let not_ours = |what| LinkRefused::NotOurs {
        path: link.to_path_buf(),
        what,
    };
    let kind = meta.file_type();
    if kind.is_symlink() {
        let target = std::fs::read_link(link).map_err(|e| LinkRefused::Unreadable {
            path: link.to_path_buf(),
            error: e.to_string(),
        })?;
        if is_pty_slave(&target) {
            Ok(())
        } else {
            Err(not_ours("a link to something else than a pseudo-terminal"))
        }
    } else if kind.is_dir() {
        Err(not_ours("a folder"))
    } else if kind.is_file() {
        Err(not_ours("a file"))
    } else {
        Err(not_ours("a device or special file"))
    }
}

/// `/dev/pts/N`: the slave side of a pseudo-terminal pair, as `TTYPort::pair` names it.
fn is_pty_slave(target: &Path) -> bool {
    target
        .to_str()
        .and_then(|t| t.strip_prefix("/dev/pts/"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Points `link` at `target` with a rename, so the link is never missing nor half made. The
/// temporary name is one nobody uses: an existing file is never removed.
fn replace_symlink(target: &Path, link: &Path) -> io::Result<()> {
    let mut attempt = 0u32;
    let tmp = loop {
        let mut tmp = link.as_os_str().to_owned();
        tmp.push(format!(".{}-{attempt}.tmp", std::process::id()));
        let tmp = PathBuf::from(tmp);
        match std::os::unix::fs::symlink(target, &tmp) {
            Ok(()) => break tmp,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    };
    std::fs::rename(&tmp, link).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_a_folder_or_a_foreign_link_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("comptoir.db");
        std::fs::write(&db, b"SQLite format 3\0precious").unwrap();
        let folder = dir.path().join("folder");
        std::fs::create_dir(&folder).unwrap();
        let foreign = dir.path().join("key-link");
        std::os::unix::fs::symlink(&db, &foreign).unwrap();
        for path in [&db, &folder, &foreign] {
            let e = PtyLink::create(path).err().expect("refused");
            assert_eq!(e.kind(), io::ErrorKind::AlreadyExists, "{}", path.display());
            assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        }
        assert_eq!(std::fs::read(&db).unwrap(), b"SQLite format 3\0precious");
        assert!(folder.is_dir());
        assert_eq!(std::fs::read_link(&foreign).unwrap(), db);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 3, "no temporary link left behind");
    }

    #[test]
    fn a_stale_link_to_a_gone_pty_is_replaced_and_a_free_path_taken() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("scale");
        std::os::unix::fs::symlink("/dev/pts/98765", &link).unwrap();
        let pty = PtyLink::create(&link).expect("a stale link of ours is replaced");
        assert_eq!(std::fs::read_link(&link).unwrap(), pty.slave_path());
        drop(pty);
        assert!(std::fs::symlink_metadata(&link).is_err(), "removed on drop");
        let pty = PtyLink::create(&link).expect("a free path");
        assert!(is_pty_slave(&std::fs::read_link(&link).unwrap()));
        drop(pty);
    }

    #[test]
    fn only_dev_pts_numbers_are_pty_slaves() {
        assert!(is_pty_slave(Path::new("/dev/pts/3")));
        assert!(!is_pty_slave(Path::new("/dev/pts/")));
        assert!(!is_pty_slave(Path::new("/dev/pts/3/../../sda")));
        assert!(!is_pty_slave(Path::new("/home/x/comptoir.db")));
        assert!(!is_pty_slave(Path::new("pts/3")));
    }
}
