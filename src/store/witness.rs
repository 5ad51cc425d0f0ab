//! Witnesses of the journal's head, kept outside the database.
//!
//! Whoever holds the database file can cut its newest entries off, or copy an older backup
//! over it, and the chain still links: a chain cannot show its own end. What shows it is a
//! head (`seq` and `hash` of an entry) seen earlier and kept elsewhere. A journal that does
//! not contain a witnessed head lost entries or was rewritten.
//!
//! Witnesses Comptoir keeps:
//! - the **head file** `<db>.head` beside the key ([`head_path_for`]), rewritten atomically
//!   (temporary file, fsync, rename) by the kiosk within a second of each new entry, at each
//!   closure and backup and at a clean stop ([`keep`]). At start-up a journal shorter than
//!   it, or not containing it, blocks the kiosk. An unreadable head file is a warning, never
//!   a reason to stop selling;
//! - the **manifest** of a backup folder (`comptoir-heads.txt`, [`MANIFEST_NAME`]): one line
//!   per copy made, never removed by rotation;
//! - every **backup** itself (its journal's last entry);
//! - the head and the key's fingerprint printed on each **Z report** and signed into each
//!   **closure**, and whatever a person wrote down (`SEQ:HASH`).
//!
//! `comptoir journal verify --witness W` checks any of these ([`load`], [`check`]).
//!
//! # Formats
//!
//! Head file (text, one `name: value` a line, in this order):
//!
//! ```text
//! comptoir head
//! kiosk_id: 7f0c...-...
//! seq: 1936
//! hash: 64 lowercase hex digits
//! time_utc: 2026-06-13T08:42:00Z
//! key: ed25519:0123456789abcdef   (or "none" before the first closure)
//! ```
//!
//! Manifest: a comment line, then one line per head, fields separated by single spaces:
//! `KIOSK_ID SEQ HASH TIME_UTC KEY FILE`.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::journal::{self, JournalError};

/// The first line of a head file.
const HEAD_MAGIC: &str = "comptoir head";
/// The first line of a manifest.
const MANIFEST_HEADER: &str = "# comptoir heads: kiosk_id seq hash time_utc key file";
/// The manifest's name in a backup folder.
pub const MANIFEST_NAME: &str = "comptoir-heads.txt";

#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("{source_name}: {reason}")]
    Format { source_name: String, reason: String },
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// A head: what the journal held at some moment, as a witness saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// `None` when the witness does not say (a typed `SEQ:HASH`).
    pub kiosk_id: Option<String>,
    pub seq: i64,
    pub hash: String,
    /// The entry's time, when the witness says.
    pub time_utc: Option<String>,
    /// The fingerprint of the public key registered then (`ed25519:...`), or `none`.
    pub key: Option<String>,
}

/// A head and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    /// For messages: `head file /path`, `manifest /path line 3`, `backup /path`, `typed`.
    pub source: String,
    pub head: Head,
}

fn is_hash(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `<db>.head`.
pub fn head_path_for(db: &Path) -> PathBuf {
    super::with_suffix(db, ".head")
}

/// The journal's head as a witness records it; `None` for an empty journal.
pub fn current(conn: &Connection) -> Result<Option<Head>, JournalError> {
    let Some(entry) = journal::head(conn)? else {
        return Ok(None);
    };
    let key = journal::registered_key(conn)?
        .map(|k| journal::key_fingerprint(&k.public_key))
        .unwrap_or_else(|| "none".into());
    Ok(Some(Head {
        kiosk_id: Some(entry.kiosk_id),
        seq: entry.seq,
        hash: entry.hash,
        time_utc: Some(entry.time_utc),
        key: Some(key),
    }))
}

/// The text of a head file.
pub fn head_file_text(head: &Head) -> String {
    format!(
        "{HEAD_MAGIC}\nkiosk_id: {}\nseq: {}\nhash: {}\ntime_utc: {}\nkey: {}\n",
        head.kiosk_id.as_deref().unwrap_or("-"),
        head.seq,
        head.hash,
        head.time_utc.as_deref().unwrap_or("-"),
        head.key.as_deref().unwrap_or("none"),
    )
}

/// Parses a head file's text.
pub fn parse_head_file(text: &str, source_name: &str) -> Result<Head, WitnessError> {
    let bad = |reason: &str| WitnessError::Format {
        source_name: source_name.into(),
        reason: reason.into(),
    };
    let mut lines = text.lines();
    if lines.next() != Some(HEAD_MAGIC) {
        return Err(bad("not a Comptoir head file"));
    }
    let mut field = |name: &str| -> Result<String, WitnessError> {
        let line = lines.next().ok_or_else(|| bad("cut short"))?;
        let value = line
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(": "))
            .ok_or_else(|| bad(&format!("expected {name}")))?;
        Ok(value.to_string())
    };
    let kiosk_id = field("kiosk_id")?;
    let seq = field("seq")?
        .parse::<i64>()
        .ok()
        .filter(|s| *s >= 1)
        .ok_or_else(|| bad("seq is not a positive number"))?;
    let hash = field("hash")?;
    if !is_hash(&hash) {
        return Err(bad("hash is not 64 lowercase hex digits"));
    }
    let time_utc = field("time_utc")?;
    let key = field("key")?;
    Ok(Head {
        kiosk_id: Some(kiosk_id),
        seq,
        hash,
        time_utc: Some(time_utc),
        key: Some(key),
    })
}

/// Reads the head file at `path`; `Ok(None)` when there is none.
pub fn read_head_file(path: &Path) -> Result<Option<Head>, WitnessError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_head_file(&text, &format!("head file {}", path.display())).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(WitnessError::Io {
            path: path.into(),
            reason: e.to_string(),
        }),
    }
}

/// Writes `text` to `path` atomically (see [`crate::paths::write_atomically`]): whoever reads
/// `path` sees the old text or the new one, whole.
pub use crate::paths::write_atomically;

/// Writes the head file of `head` at `path`.
pub fn write_head_file(path: &Path, head: &Head) -> std::io::Result<()> {
    write_atomically(path, head_file_text(head).as_bytes())
}

/// Writes the journal's current head to `path` unless it already holds it. Returns the head
/// written (or already there).
pub fn keep(conn: &Connection, path: &Path) -> Result<Option<Head>, WitnessError> {
    let Some(head) = current(conn)? else {
        return Ok(None);
    };
    if let Ok(Some(kept)) = read_head_file(path) {
        if kept == head {
            return Ok(Some(head));
        }
    }
    write_head_file(path, &head).map_err(|e| WitnessError::Io {
        path: path.into(),
        reason: e.to_string(),
    })?;
    Ok(Some(head))
}

/// One manifest line for `head` and the copy `file` (its name only).
pub fn manifest_line(head: &Head, file: &str) -> String {
    format!(
        "{} {} {} {} {} {}\n",
        head.kiosk_id.as_deref().unwrap_or("-"),
        head.seq,
        head.hash,
        head.time_utc.as_deref().unwrap_or("-"),
        head.key.as_deref().unwrap_or("none"),
        file
    )
}

/// Adds a line to the manifest of the backup folder `dir` (created with its header line when
/// missing), synced to disk.
pub fn append_manifest(dir: &Path, head: &Head, file: &str) -> std::io::Result<()> {
    let path = dir.join(MANIFEST_NAME);
    let new = !path.exists();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    let mut text = String::new();
    if new {
        text.push_str(MANIFEST_HEADER);
        text.push('\n');
    }
    text.push_str(&manifest_line(head, file));
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Parses a manifest's text: every head in it, with its line number.
pub fn parse_manifest(text: &str, source_name: &str) -> Result<Vec<Witness>, WitnessError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |reason: &str| WitnessError::Format {
            source_name: format!("{source_name} line {}", i + 1),
            reason: reason.into(),
        };
        let fields: Vec<&str> = line.split(' ').collect();
        if fields.len() != 6 {
            return Err(bad("expected 6 fields"));
        }
        let seq = fields[1]
            .parse::<i64>()
            .ok()
            .filter(|s| *s >= 1)
            .ok_or_else(|| bad("seq is not a positive number"))?;
        if !is_hash(fields[2]) {
            return Err(bad("hash is not 64 lowercase hex digits"));
        }
        out.push(Witness {
            source: format!("{source_name} line {} ({})", i + 1, fields[5]),
            head: Head {
                kiosk_id: Some(fields[0].to_string()),
                seq,
                hash: fields[2].to_string(),
                time_utc: Some(fields[3].to_string()),
                key: Some(fields[4].to_string()),
            },
        });
    }
    Ok(out)
}

/// The heads a `--witness` argument gives: a typed `SEQ:HASH`, a head file, a manifest, or
/// a backup copy (a Comptoir database: its journal's last entry).
pub fn load(arg: &str) -> Result<Vec<Witness>, WitnessError> {
    if let Some((seq, hash)) = arg.split_once(':') {
        if let Ok(seq) = seq.parse::<i64>() {
            if seq < 1 || !is_hash(hash) {
                return Err(WitnessError::Format {
                    source_name: format!("typed {arg}"),
                    reason: "expected SEQ:HASH (a positive seq, 64 lowercase hex digits)".into(),
                });
            }
            return Ok(vec![Witness {
                source: format!("typed {seq}:{hash}"),
                head: Head {
                    kiosk_id: None,
                    seq,
                    hash: hash.to_string(),
                    time_utc: None,
                    key: None,
                },
            }]);
        }
    }
    let path = Path::new(arg);
    let io = |e: std::io::Error| WitnessError::Io {
        path: path.into(),
        reason: e.to_string(),
    };
    let bytes = std::fs::read(path).map_err(io)?;
    if bytes.starts_with(b"SQLite format 3\0") {
        let store = super::Store::open(path, super::Access::ReadOnly).map_err(|e| {
            WitnessError::Format {
                source_name: format!("backup {}", path.display()),
                reason: e.to_string(),
            }
        })?;
        let head = current(store.conn())?.ok_or_else(|| WitnessError::Format {
            source_name: format!("backup {}", path.display()),
            reason: "its journal is empty".into(),
        })?;
        return Ok(vec![Witness {
            source: format!("backup {}", path.display()),
            head,
        }]);
    }
    if bytes.starts_with(b"age-encryption.org/") {
        return Err(WitnessError::Format {
            source_name: format!("backup {}", path.display()),
            reason: "an encrypted backup: decrypt it first (age --decrypt -i IDENTITY)".into(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| WitnessError::Format {
        source_name: path.display().to_string(),
        reason: "not a head file, a manifest, a backup or SEQ:HASH".into(),
    })?;
    if text.starts_with(HEAD_MAGIC) {
        let head = parse_head_file(&text, &format!("head file {}", path.display()))?;
        return Ok(vec![Witness {
            source: format!("head file {}", path.display()),
            head,
        }]);
    }
    if text.starts_with("# comptoir heads") {
        return parse_manifest(&text, &format!("manifest {}", path.display()));
    }
    Err(WitnessError::Format {
        source_name: path.display().to_string(),
        reason: "not a head file, a manifest, a backup or SEQ:HASH".into(),
    })
}

/// Why a journal does not contain a witnessed head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The first seq that is missing or differs.
    pub seq: i64,
    pub reason: String,
    /// The time of the journal's last entry that is still consistent with the witness (for
    /// "entries since ... are missing"), when there is one.
    pub since_utc: Option<String>,
}

/// Whether the journal of `conn` contains `witness`'s head. Heads of other kiosks are not
/// this journal's business: `Ok(false)` for them, `Ok(true)` when checked and found.
pub fn check(conn: &Connection, witness: &Witness) -> Result<Result<bool, Missing>, JournalError> {
    let head = &witness.head;
    if let (Some(kiosk), Some(mine)) = (&head.kiosk_id, journal::head(conn)?.map(|e| e.kiosk_id)) {
        if *kiosk != mine {
            return Ok(Ok(false));
        }
    }
    let seen = match &head.time_utc {
        Some(t) => format!(" (seq {}, {t})", head.seq),
        None => format!(" (seq {})", head.seq),
    };
    match journal::entry(conn, head.seq)? {
        Some(entry) if entry.hash == head.hash => Ok(Ok(true)),
        Some(_) => {
            let before = journal::entry(conn, head.seq - 1)?;
            Ok(Err(Missing {
                seq: head.seq,
                reason: format!(
                    "differs from the entry {} saw{seen}: the journal was rewritten",
                    witness.source
                ),
                since_utc: before.map(|e| e.time_utc),
            }))
        }
        None => {
            let last = journal::head(conn)?;
            let last_seq = last.as_ref().map_or(0, |e| e.seq);
            Ok(Err(Missing {
                seq: last_seq + 1,
                reason: format!(
                    "entries missing: the journal ends at seq {last_seq}, but {} saw seq {}{}",
                    witness.source,
                    head.seq,
                    head.time_utc
                        .as_deref()
                        .map(|t| format!(" of {t}"))
                        .unwrap_or_default()
                ),
                since_utc: last.map(|e| e.time_utc),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> Head {
        Head {
            kiosk_id: Some("k-1".into()),
            seq: 42,
            hash: "ab".repeat(32),
            time_utc: Some("2026-06-13T08:42:00Z".into()),
            key: Some("ed25519:0123456789abcdef".into()),
        }
    }

    #[test]
    fn a_head_file_reads_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("comptoir.db.head");
        assert_eq!(read_head_file(&path).unwrap(), None);
        write_head_file(&path, &head()).unwrap();
        assert_eq!(read_head_file(&path).unwrap(), Some(head()));
        std::fs::write(&path, "comptoir head\nkiosk_id: k\nseq: x\n").unwrap();
        assert!(read_head_file(&path).is_err());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file stays");
    }

    #[test]
    fn a_manifest_lists_every_head_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        append_manifest(dir.path(), &head(), "comptoir-2026-06-13.db").unwrap();
        let mut second = head();
        second.seq = 50;
        append_manifest(dir.path(), &second, "comptoir-2026-06-14.db").unwrap();
        let path = dir.path().join(MANIFEST_NAME);
        let found = load(path.to_str().unwrap()).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].head, second);
        assert!(found[1].source.ends_with("line 3 (comptoir-2026-06-14.db)"));
    }

    #[test]
    fn typed_heads_are_checked_for_shape() {
        let typed = load(&format!("7:{}", "0f".repeat(32))).unwrap();
        assert_eq!(typed[0].head.seq, 7);
        assert!(load(&format!("0:{}", "0f".repeat(32))).is_err());
        assert!(load("7:ABC").is_err());
    }
}
