//! The signing key, its registration and rotation, and the association's recovery key.

use super::*;

/// The default key file of the database at `db`: `<db>.key`.
pub fn key_path_for(db: &Path) -> PathBuf {
    crate::store::with_suffix(db, ".key")
}

/// A public key's fingerprint as printed on Z reports and kept by witnesses:
/// `ed25519:` and the first 16 hex digits of the SHA-256 of its 32 bytes.
pub fn key_fingerprint(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.to_bytes());
    format!("ed25519:{}", &hex::encode(digest)[..16])
}

pub(super) fn key_error(path: &Path, reason: impl ToString) -> JournalError {
    JournalError::KeyFile {
        path: path.into(),
        reason: reason.to_string(),
    }
}

/// Reads a key file (32 raw bytes); `Ok(None)` when there is none. A file readable by others
/// is brought back to mode 0600.
pub fn load_key(path: &Path) -> Result<Option<SigningKey>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(key_error(path, e)),
    };
    let seed: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| key_error(path, format!("{} bytes, expected 32", bytes.len())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| key_error(path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            log::warn!("{}: mode {:o}, set to 600", path.display(), mode & 0o777);
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| key_error(path, e))?;
        }
    }
    Ok(Some(SigningKey::from_bytes(&seed)))
}

/// Writes `key` to `path` (mode 0600) through a temporary file and a rename.
pub(super) fn write_key(path: &Path, key: &SigningKey) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| key_error(path, e))?;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = (|| -> std::io::Result<()> {
        let mut file = options.open(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(&key.to_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(key_error(path, e));
    }
    Ok(())
}

pub(super) fn new_key() -> SigningKey {
    use rand::RngCore;
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    seed.fill(0);
    key
}

/// The most recent `key_registered` entry of this kiosk.
pub fn registered_key(conn: &Connection) -> Result<Option<RegisteredKey>> {
    latest_key_of(conn, "key_registered")
}

/// The public key of the most recent entry of `kind` (`key_registered`, `recovery_key`) of
/// this kiosk.
pub(super) fn latest_key_of(conn: &Connection, kind: &str) -> Result<Option<RegisteredKey>> {
    let kiosk = kiosk_id(conn)?;
    let last: Option<(i64, String)> = conn
        .prepare_cached(
            // INDEXED BY: without it SQLite walks the whole journal backwards for the
            // ORDER BY (a key registered once, long ago, took seconds at 1,000,000 entries).
            "SELECT seq, payload FROM journal INDEXED BY journal_by_kind
             WHERE kiosk_id = ?1 AND kind = ?2 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(params![kiosk, kind], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((seq, payload)) = last else {
        return Ok(None);
    };
    let map: Map<String, Value> =
        serde_json::from_str(&payload).map_err(|e| JournalError::Payload {
            seq,
            reason: e.to_string(),
        })?;
    let public_key = public_key_of(&map).map_err(|reason| JournalError::Payload { seq, reason })?;
    Ok(Some(RegisteredKey { seq, public_key }))
}

/// Whether the kiosk can sign its next closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// The key file holds the registered key, or no key has been registered yet (one will be
    /// made at the first closure).
    Ok,
    /// A key is registered but its file is gone: block selling until an admin confirms a
    /// rotation ([`rotate_key`]).
    Missing,
    /// The file holds another key than the registered one (or is unreadable as a key): the
    /// same remedy.
    Mismatch,
}

/// See [`KeyStatus`].
pub fn key_status(conn: &Connection, key_path: &Path) -> Result<KeyStatus> {
    let Some(registered) = registered_key(conn)? else {
        return Ok(KeyStatus::Ok);
    };
    match load_key(key_path) {
        Ok(None) => Ok(KeyStatus::Missing),
        Ok(Some(key)) if key.verifying_key() == registered.public_key => Ok(KeyStatus::Ok),
        Ok(Some(_)) => Ok(KeyStatus::Mismatch),
        Err(JournalError::KeyFile { reason, .. }) if reason.contains("expected 32") => {
            Ok(KeyStatus::Mismatch)
        }
        Err(e) => Err(e),
    }
}

/// Members of a key registration set by the journal, refused in bodies.
pub(super) const KEY_MEMBERS: [&str; 6] = [
    "algorithm",
    "public_key",
    "attestation",
    "attested_by",
    "attested_key_seq",
    "key_seq",
];

pub(super) fn register_key(
    conn: &Connection,
    key: &SigningKey,
    time_utc: DateTime<Utc>,
    mut body: Map<String, Value>,
    attestation: Option<Attestation<'_>>,
) -> Result<Entry> {
    for reserved in KEY_MEMBERS {
        if body.contains_key(reserved) {
            return Err(JournalError::Invalid(format!(
                "{reserved:?} is set by the journal"
            )));
        }
    }
    body.insert("algorithm".into(), "ed25519".into());
    body.insert(
        "public_key".into(),
        hex::encode(key.verifying_key().to_bytes()).into(),
    );
    append_inner(
        conn,
        KIND_KEY_REGISTERED,
        time_utc,
        body,
        Signing::Registration { key, attestation },
    )
}

/// The key to sign closures with: the file at `key_path` when it holds the registered key; on
/// the first closure, the file's key (created if missing) registered now with
/// `{"reason":"first"}`. `KeyMissing` / `KeyMismatch` otherwise. Call it inside the closure's
/// transaction.
pub fn ensure_signing_key(
    conn: &Connection,
    key_path: &Path,
    time_utc: DateTime<Utc>,
) -> Result<SigningKey> {
    let registered = registered_key(conn)?;
    let file = load_key(key_path)?;
    match (registered, file) {
        (Some(r), Some(key)) if key.verifying_key() == r.public_key => Ok(key),
        (Some(_), Some(_)) => Err(JournalError::KeyMismatch {
            path: key_path.into(),
        }),
        (Some(_), None) => Err(JournalError::KeyMissing {
            path: key_path.into(),
        }),
        (None, file) => {
            let key = match file {
                Some(key) => key,
                None => {
                    let key = new_key();
                    write_key(key_path, &key)?;
                    key
                }
            };
            let mut body = Map::new();
            body.insert("reason".into(), "first".into());
            register_key(conn, &key, time_utc, body, None)?;
            Ok(key)
        }
    }
}

/// Makes a new key, writes it to `key_path` (replacing what is there) and journals its
/// registration with `body` (e.g. `reason`, `staff_id`). The admin's answer to
/// [`KeyStatus::Missing`] or [`KeyStatus::Mismatch`], and a routine rotation.
///
/// When the file still holds the registered key, that key attests the new one. Otherwise
/// (the key is lost) nothing attests it and `journal verify` reports the change as
/// `unattested`: use [`rotate_key_with_recovery`] with the association's recovery key.
///
/// The file is written before the entry: if the caller's transaction then rolls back, the key
/// status reads `Mismatch` and the rotation is simply done again.
pub fn rotate_key(
    conn: &Connection,
    key_path: &Path,
    time_utc: DateTime<Utc>,
    body: Map<String, Value>,
) -> Result<(SigningKey, Entry)> {
    check_rotation(conn, time_utc, &body)?;
    let registered = registered_key(conn)?;
    let previous = match load_key(key_path) {
        Ok(Some(old)) => registered
            .filter(|r| r.public_key == old.verifying_key())
            .map(|r| (old, r.seq)),
        _ => None,
    };
    let attestation = previous.as_ref().map(|(old, seq)| Attestation {
        by: Attester::Previous,
        key: old,
        key_seq: *seq,
    });
    let key = new_key();
    write_key(key_path, &key)?;
    let entry = register_key(conn, &key, time_utc, body, attestation)?;
    Ok((key, entry))
}

/// Refuses a bad body or a clock behind before any key file is touched.
pub(super) fn check_rotation(
    conn: &Connection,
    time_utc: DateTime<Utc>,
    body: &Map<String, Value>,
) -> Result<()> {
    check_clock(conn, time_utc)?;
    if let Some(key) = RESERVED_KEYS
        .iter()
        .chain(&KEY_MEMBERS)
        .find(|k| body.contains_key(**k))
    {
        return Err(JournalError::Invalid(format!(
            "{key:?} is set by the journal"
        )));
    }
    Ok(())
}

/// [`rotate_key`] when the kiosk's key is lost: the new key's registration is attested by the
/// association's recovery key, which must be the one registered in the journal
/// ([`JournalError::RecoveryKey`] otherwise, nothing written).
pub fn rotate_key_with_recovery(
    conn: &Connection,
    key_path: &Path,
    time_utc: DateTime<Utc>,
    body: Map<String, Value>,
    recovery: &SigningKey,
) -> Result<(SigningKey, Entry)> {
    check_rotation(conn, time_utc, &body)?;
    let registered = registered_recovery_key(conn)?.ok_or_else(|| {
        JournalError::RecoveryKey("no recovery key is registered in the journal".into())
    })?;
    if registered.public_key != recovery.verifying_key() {
        return Err(JournalError::RecoveryKey(format!(
            "this is not the recovery key registered in the journal ({})",
            key_fingerprint(&registered.public_key)
        )));
    }
    let attestation = Attestation {
        by: Attester::Recovery,
        key: recovery,
        key_seq: registered.seq,
    };
    let key = new_key();
    write_key(key_path, &key)?;
    let entry = register_key(conn, &key, time_utc, body, Some(attestation))?;
    Ok((key, entry))
}

/// The most recent `recovery_key` entry of this kiosk.
pub fn registered_recovery_key(conn: &Connection) -> Result<Option<RegisteredKey>> {
    latest_key_of(conn, "recovery_key")
}

/// Journals `public` as the association's recovery key, signed by the kiosk's key (the file
/// at `key_path`; on a journal without any key yet, the first key is made and registered
/// first, as [`ensure_signing_key`] does). Registering the key already registered does
/// nothing and returns `None`. The private half never comes near the kiosk.
pub fn register_recovery_key(
    conn: &Connection,
    key_path: &Path,
    time_utc: DateTime<Utc>,
    public: &VerifyingKey,
) -> Result<Option<Entry>> {
    check_clock(conn, time_utc)?;
    if registered_recovery_key(conn)?.map(|r| r.public_key) == Some(*public) {
        return Ok(None);
    }
    let key = ensure_signing_key(conn, key_path, time_utc)?;
    let registered = registered_key(conn)?.ok_or_else(|| {
        JournalError::Invalid("no key registered after ensure_signing_key".into())
    })?;
    let mut body = Map::new();
    body.insert("algorithm".into(), "ed25519".into());
    body.insert("public_key".into(), hex::encode(public.to_bytes()).into());
    body.insert("fingerprint".into(), key_fingerprint(public).into());
    append_inner(
        conn,
        KIND_RECOVERY_KEY,
        time_utc,
        body,
        Signing::Recovery {
            key: &key,
            key_seq: registered.seq,
        },
    )
    .map(Some)
}

/// A public key from its 64 hex digits.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let mut raw = [0u8; 32];
    if text.len() != 64 || hex::decode_to_slice(text, &mut raw).is_err() {
        return Err("a public key is 64 hex digits".into());
    }
    VerifyingKey::from_bytes(&raw).map_err(|_| "not an Ed25519 public key".to_string())
}

// ---------------------------------------------------------------------------------------------
// The recovery key file

pub(super) fn recovery_error(path: &Path, reason: impl std::fmt::Display) -> JournalError {
    JournalError::RecoveryKey(format!("{}: {reason}", path.display()))
}

/// The first line of a recovery key file.
pub(super) const RECOVERY_HEADER: &str = "comptoir recovery key v1";

/// The text of a recovery key file: a header line, `public HEX`, `secret HEX` (the Ed25519
/// seed), and a reminder. Short enough to copy onto paper.
pub fn recovery_file_text(key: &SigningKey) -> String {
    format!(
        "{RECOVERY_HEADER}\npublic {}\nsecret {}\n# Keep this file offline (paper, a stick in a safe). Never put it on the kiosk.\n",
        hex::encode(key.verifying_key().to_bytes()),
        hex::encode(key.to_bytes()),
    )
}

/// Makes a recovery key pair and writes it to `path` (mode 0600), which must not exist.
pub fn write_recovery_file(path: &Path) -> Result<SigningKey> {
    let key = new_key();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = (|| -> std::io::Result<()> {
        let mut file = options.open(path)?;
        file.write_all(recovery_file_text(&key).as_bytes())?;
        file.sync_all()
    })();
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            let _ = std::fs::remove_file(path);
        }
        return Err(recovery_error(path, e));
    }
    Ok(key)
}

/// Reads a recovery key file written by [`write_recovery_file`] (the public line must match
/// the secret).
pub fn read_recovery_file(path: &Path) -> Result<SigningKey> {
    let text = std::fs::read_to_string(path).map_err(|e| recovery_error(path, e))?;
    let mut lines = text.lines();
    if lines.next() != Some(RECOVERY_HEADER) {
        return Err(recovery_error(path, "not a Comptoir recovery key file"));
    }
    let mut public = None;
    let mut secret = None;
    for line in lines {
        if let Some(v) = line.strip_prefix("public ") {
            public = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("secret ") {
            secret = Some(v.trim().to_string());
        }
    }
    let mut seed = [0u8; 32];
    match &secret {
        Some(s) if s.len() == 64 && hex::decode_to_slice(s, &mut seed).is_ok() => {}
        _ => return Err(recovery_error(path, "no secret line of 64 hex digits")),
    }
    let key = SigningKey::from_bytes(&seed);
    seed.fill(0);
    if public.as_deref() != Some(hex::encode(key.verifying_key().to_bytes()).as_str()) {
        return Err(recovery_error(
            path,
            "its public line does not match its secret",
        ));
    }
    Ok(key)
}
