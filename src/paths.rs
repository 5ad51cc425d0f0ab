//! Where Comptoir keeps its files (XDG base directories on Linux).

use std::path::{Path, PathBuf};

fn dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "comptoir")
}

/// `$XDG_DATA_HOME/comptoir` (usually `~/.local/share/comptoir`).
pub fn data_dir() -> PathBuf {
    dirs()
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `$XDG_CONFIG_HOME/comptoir` (usually `~/.config/comptoir`).
pub fn config_dir() -> PathBuf {
    dirs()
        .map(|d| d.config_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The default config file.
pub fn default_config() -> PathBuf {
    config_dir().join("config.toml")
}

/// The real database, unless the config or `--db` names another.
pub fn default_db() -> PathBuf {
    data_dir().join("comptoir.db")
}

/// The demo database: demo mode never touches the real one.
pub fn demo_db() -> PathBuf {
    data_dir().join("demo.db")
}

/// Refuses a database "path" that SQLite would not keep in a file: `:memory:` (and `""`, a
/// temporary database) would take sales and deposits that vanish when the process ends, and
/// a `file:` URI could name one. The database must be a file.
pub fn check_db_path(path: &Path) -> Result<(), String> {
    let text = path.to_string_lossy();
    if text.is_empty() {
        return Err(
            "the database path is empty; give a file, e.g. /var/lib/comptoir/comptoir.db".into(),
        );
    }
    if text.eq_ignore_ascii_case(":memory:") {
        return Err(
            "\":memory:\" is not a file: what is recorded there vanishes when the command ends; give a database file"
                .into(),
        );
    }
    if text.starts_with("file:") {
        return Err(format!(
            "{text:?} looks like an SQLite URI; give the database file as a plain path"
        ));
    }
    Ok(())
}

/// Writes `bytes` to `path` whole or not at all: into a new temporary file beside it, synced,
/// then renamed over `path`. On any failure (a full disk, a pulled stick) the temporary file
/// is removed and whatever was at `path` before is left as it was, so no empty or partial file
/// is ever left under the asked name.
///
/// A device or a pipe (`--escpos /dev/usb/lp0`, `/dev/full`) is written in place: it cannot be
/// replaced by a file. A symlink is followed, so the file it points to is replaced, not the
/// link.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let resolved;
    let path = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => match std::fs::canonicalize(path) {
            Ok(p) => {
                resolved = p;
                resolved.as_path()
            }
            // A dangling link: written where it points once made, like `fs::write`.
            Err(_) => path,
        },
        _ => path,
    };
    if let Ok(m) = std::fs::metadata(path) {
        if !m.is_file() && !m.is_dir() {
            let mut device = std::fs::OpenOptions::new().write(true).open(path)?;
            device.write_all(bytes)?;
            return device.flush();
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut attempt = 0u32;
    let (tmp, mut file) = loop {
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}-{attempt}.tmp", std::process::id()));
        let tmp = dir.join(tmp_name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1
            }
            Err(e) => return Err(e),
        }
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    drop(file);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_empty_and_uri_databases_are_refused() {
        for bad in [
            ":memory:",
            ":MEMORY:",
            "",
            "file::memory:",
            "file:x.db?mode=memory",
        ] {
            assert!(check_db_path(Path::new(bad)).is_err(), "{bad:?}");
        }
        for good in ["comptoir.db", "/var/lib/comptoir/comptoir.db", "./:memory:"] {
            assert!(check_db_path(Path::new(good)).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn an_atomic_write_replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.png");
        std::fs::write(&path, b"old").unwrap();
        write_atomically(&path, b"new receipt").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new receipt");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no-such-folder").join("r.png");
        assert!(write_atomically(&missing, b"x").is_err());
        assert!(!missing.exists());
    }
}
