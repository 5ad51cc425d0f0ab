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
    /// Creates the pair and points `link` at the slave (replacing an existing symlink or
    /// file there, atomically). The master reads with a 10 ms timeout.
    pub fn create(link: &Path) -> io::Result<Self> {
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

fn replace_symlink(target: &Path, link: &Path) -> io::Result<()> {
    let mut tmp = link.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    std::fs::rename(&tmp, link).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
