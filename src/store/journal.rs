//! The journal: the inalterable record of sales and money (ARCHITECTURE.md, "The journal").
//!
//! # Entries
//!
//! Table `journal` (migration 4): `seq` (1, 2, 3... per kiosk, no gaps), `kiosk_id`, `kind`,
//! `time_utc` (RFC 3339, whole seconds, `Z`), `payload`, `prev_hash`, `hash`; primary key
//! `(kiosk_id, seq)`, so that a central database can ingest the rows of several kiosks
//! idempotently. Triggers refuse every UPDATE and DELETE, and accept an INSERT only when its
//! `seq` is the last one + 1 (the first is 1) and its `prev_hash` is the last `hash` (the first
//! is [`ZERO_HASH`]); that also defeats `INSERT OR REPLACE`. They cannot stop someone who drops
//! them with `sqlite3`: [`verify`] is what detects that.
//!
//! # Payload
//!
//! The payload is canonical JSON ([`canonical_json`]): object keys sorted by their UTF-8 bytes,
//! no whitespace, UTF-8 text (only `"`, `\` and control characters escaped: `\b \f \n \r \t`, the
//! others as `\u00XX` with lowercase hex), numbers only as integers in the signed 64-bit range
//! (a float is refused: money is integer cents, weights integer grams). It holds the entry's
//! `seq`, `kiosk_id`, `kind` and `time_utc` besides the body given to [`append`]; those four
//! names (and `signature`) are reserved in bodies.
//!
//! # Chain
//!
//! `hash = SHA-256(prev_hash as 32 raw bytes || payload bytes as stored)`, in lowercase hex.
//! [`verify`] hashes the stored payload text as it is, never a re-serialisation, in one ordered
//! streaming scan, and also checks that the payload's `seq`, `kind`, `kiosk_id` and `time_utc`
//! equal the columns. It names the first broken `seq`: the entry whose text was altered, the
//! missing seq where a row was deleted, the first of two swapped rows, a replaced row (the next
//! entry no longer links to it, or its signature fails when the attacker re-chained the rest).
//! What a chain alone cannot show: the loss of its newest entries, or a journal rewritten
//! whole with a new key. The anchors against that are outside the database: hashes printed on
//! receipts, and the public keys and closures an accountant has kept.
//!
//! # Signatures and keys
//!
//! Closures (day, month, year) and key registrations are signed with Ed25519. The private key
//! is a file of exactly 32 raw bytes (the Ed25519 secret seed), mode 0600, by default beside the
//! database: `<db>.key` ([`key_path_for`]). It is created at the first closure
//! ([`ensure_signing_key`]) and replaced by [`rotate_key`].
//!
//! Signed entries carry `signature`: the hex of the Ed25519 signature of the canonical JSON of
//! the whole payload *without* its `signature` member (so it covers `seq`, `kiosk_id`, `kind`,
//! `time_utc` and every figure). Verification re-derives that message from the stored payload,
//! after checking that the stored payload is itself canonical.
//!
//! - `key_registered`: `{"algorithm":"ed25519","public_key":HEX64,"signature":HEX128, ...}`,
//!   plus whatever the caller adds (`reason`, `staff_id`...). It is signed by the key it
//!   registers (proof of possession). Public keys live in the journal, so verification needs
//!   no key file.
//! - `closure`: the figures of [`closure_body`], plus `key_seq` (the seq of the
//!   `key_registered` entry of the signing key, which must be the most recent one before the
//!   closure), `prev_hash` (equal to the entry's `prev_hash` column: the signature thereby seals
//!   the whole chain before the closure, so re-chaining earlier entries breaks it) and
//!   `signature`.
//!
//! A missing key file while a key is registered blocks selling ([`key_status`] gives
//! [`KeyStatus::Missing`]) until an admin confirms a rotation, which is journaled.
//!
//! # Clock
//!
//! A Pi has no battery clock: [`append`] refuses an entry dated earlier than the last entry
//! ([`JournalError::ClockBehind`]); [`check_clock`] lets the app refuse before it starts a sale.
//! The one exception is [`KIND_CLOCK_SET`], the admin's journaled time correction, which may go
//! back in time (after a clock that ran ahead).
//!
//! # Sales and refunds
//!
//! Entries of kind `sale` and `refund` are expected to carry (see [`sum_sales`]):
//! - `total_cents`: integer, the ticket's total including VAT (negative for a refund);
//! - `vat` (optional): an array of `{"vat_bp":550,"ttc_cents":..,"ht_cents":..,"vat_cents":..}`,
//!   the ticket's breakdown per rate (ARCHITECTURE.md, "Rules of the data");
//! - `training` (optional): `true` for training mode, never counted in real totals.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry: 32 zero bytes, in hex.
pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub const KIND_SALE: &str = "sale";
pub const KIND_REFUND: &str = "refund";
pub const KIND_CLOSURE: &str = "closure";
pub const KIND_KEY_REGISTERED: &str = "key_registered";
/// The admin's time correction: the only entry that may be dated before the last one.
pub const KIND_CLOCK_SET: &str = "clock_set";
/// A technical event (NF525's "journal des événements techniques"): `event` names it
/// ([`TechnicalEvent`]), other members say more.
pub const KIND_TECHNICAL: &str = "technical";
/// The association's recovery key (its public half), signed by the kiosk's current key.
pub const KIND_RECOVERY_KEY: &str = "recovery_key";
/// Voids one closure written under a clock that ran ahead (`closure_seq`, `clock_set_seq`):
/// see `app::closures`.
pub const KIND_CLOSURE_VOIDED: &str = "closure_voided";
/// Kinds whose body carries the heads of the other ledgers (`ledgers`, see `store::ledger`).
pub const ANCHORING_KINDS: [&str; 2] = [KIND_CLOSURE, KIND_TECHNICAL];
/// A member of staff confirmed today's date before closures far beyond the last entry.
pub const KIND_DATE_CONFIRMED: &str = "date_confirmed";

/// Payload members set by the journal itself, refused in bodies.
pub const RESERVED_KEYS: [&str; 6] = [
    "seq",
    "kiosk_id",
    "kind",
    "time_utc",
    "signature",
    "ledgers",
];

/// Everything that can go wrong with the journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The clock reads earlier than the last entry: selling and deposits wait for the time.
    #[error("the clock reads earlier than the last journal entry ({last})")]
    ClockBehind { last: DateTime<Utc> },
    #[error("payload: {0}")]
    Canonical(#[from] CanonicalError),
    /// A programming error in the caller: a bad kind, a reserved member in a body...
    #[error("invalid journal entry: {0}")]
    Invalid(String),
    /// An entry lacks what a function needs from it (e.g. a sale without `total_cents`).
    #[error("journal entry {seq}: {reason}")]
    Payload { seq: i64, reason: String },
    /// [`verify`] found the chain broken at `seq` (the first fault).
    #[error("seq {seq}: {reason}")]
    Broken { seq: i64, reason: String },
    /// A key is registered in the journal but its private key file is not there.
    #[error("signing key {path} is missing; an admin must confirm a key rotation")]
    KeyMissing { path: PathBuf },
    /// The key file is not the key most recently registered in the journal.
    #[error("signing key {path} is not the key registered in the journal")]
    KeyMismatch { path: PathBuf },
    #[error("signing key {path}: {reason}")]
    KeyFile { path: PathBuf, reason: String },
    /// The recovery key given cannot attest a rotation.
    #[error("recovery key: {0}")]
    RecoveryKey(String),
}

pub type Result<T, E = JournalError> = std::result::Result<T, E>;

/// One journal row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    pub kiosk_id: String,
    pub kind: String,
    pub time_utc: String,
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The payload, parsed.
    pub fn payload_value(&self) -> Result<Map<String, Value>> {
        match serde_json::from_str(&self.payload) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(JournalError::Payload {
                seq: self.seq,
                reason: "payload is not a JSON object".into(),
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON

/// Why a value has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("{path}: {number} is not an integer (amounts are integer cents, weights grams)")]
    NotInteger { path: String, number: String },
    #[error("{path}: {number} is outside the signed 64-bit range")]
    OutOfRange { path: String, number: String },
    #[error("not JSON: {0}")]
    Syntax(String),
    #[error("not in canonical form")]
    NotCanonical,
}

impl CanonicalError {
    fn within(self, segment: &str) -> Self {
        match self {
            CanonicalError::NotInteger { path, number } => CanonicalError::NotInteger {
                path: format!("{segment}{path}"),
                number,
            },
            CanonicalError::OutOfRange { path, number } => CanonicalError::OutOfRange {
                path: format!("{segment}{path}"),
                number,
            },
            other => other,
        }
    }
}

/// The canonical JSON text of `value` (see the module documentation).
pub fn canonical_json(value: &Value) -> Result<String, CanonicalError> {
    let mut out = String::with_capacity(256);
    write_canonical(value, &mut out).map_err(|e| e.within("$"))?;
    Ok(out)
}

/// Parses `text` and checks that it is exactly its own canonical form.
pub fn parse_canonical(text: &str) -> Result<Value, CanonicalError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| CanonicalError::Syntax(e.to_string()))?;
    if canonical_json(&value)? != text {
        return Err(CanonicalError::NotCanonical);
    }
    Ok(value)
}

fn write_canonical(value: &Value, out: &mut String) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if n.is_u64() {
                return Err(CanonicalError::OutOfRange {
                    path: String::new(),
                    number: n.to_string(),
                });
            } else {
                return Err(CanonicalError::NotInteger {
                    path: String::new(),
                    number: n.to_string(),
                });
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out).map_err(|e| e.within(&format!("[{i}]")))?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sorted here, whatever order the map keeps (serde_json's `preserve_order`).
            let sorted: BTreeMap<&str, &Value> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
            out.push('{');
            for (i, (key, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_canonical(item, out).map_err(|e| e.within(&format!(".{key}")))?;
            }
            out.push('}');
        }
    }
    Ok(())
}

pub(super) fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // `i` is an ASCII byte, hence a char boundary.
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

// ---------------------------------------------------------------------------------------------
// Hashing

fn hash_raw(prev: &[u8; 32], payload: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(payload);
    hasher.finalize().into()
}

fn decode_hash(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut raw = [0u8; 32];
    hex::decode_to_slice(text, &mut raw).ok()?;
    Some(raw)
}

/// `SHA-256(prev_hash as 32 raw bytes || payload)` in lowercase hex; `None` when `prev_hash` is
/// not 64 lowercase hex digits.
pub fn entry_hash(prev_hash: &str, payload: &str) -> Option<String> {
    let prev = decode_hash(prev_hash)?;
    Some(hex::encode(hash_raw(&prev, payload.as_bytes())))
}

// ---------------------------------------------------------------------------------------------
// Reading

fn kiosk_id(conn: &Connection) -> Result<String> {
    let id: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'kiosk_id'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    id.ok_or_else(|| JournalError::Invalid("the database has no kiosk_id".into()))
}

const ENTRY_COLUMNS: &str = "seq, kiosk_id, kind, time_utc, payload, prev_hash, hash";

fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        seq: r.get(0)?,
        kiosk_id: r.get(1)?,
        kind: r.get(2)?,
        time_utc: r.get(3)?,
        payload: r.get(4)?,
        prev_hash: r.get(5)?,
        hash: r.get(6)?,
    })
}

/// The newest entry of this kiosk, if any.
pub fn head(conn: &Connection) -> Result<Option<Entry>> {
    let kiosk = kiosk_id(conn)?;
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM journal WHERE kiosk_id = ?1 ORDER BY seq DESC LIMIT 1"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([&kiosk], entry_from_row)
        .optional()?)
}

/// The entry `seq` of this kiosk, if any.
pub fn entry(conn: &Connection, seq: i64) -> Result<Option<Entry>> {
    let kiosk = kiosk_id(conn)?;
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM journal WHERE kiosk_id = ?1 AND seq = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![kiosk, seq], entry_from_row)
        .optional()?)
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// The time of the newest entry, if any.
pub fn last_time(conn: &Connection) -> Result<Option<DateTime<Utc>>> {
    match head(conn)? {
        None => Ok(None),
        Some(e) => parse_time(&e.time_utc)
            .map(Some)
            .ok_or_else(|| JournalError::Payload {
                seq: e.seq,
                reason: format!("bad time_utc {}", e.time_utc),
            }),
    }
}

/// The clock rule: `Err(ClockBehind)` when `now` is earlier than the newest entry.
pub fn check_clock(conn: &Connection, now: DateTime<Utc>) -> Result<()> {
    match last_time(conn)? {
        Some(last) if whole_seconds(now) < last => Err(JournalError::ClockBehind { last }),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Appending

fn check_kind(kind: &str) -> Result<()> {
    let ok = (1..=40).contains(&kind.len())
        && kind.as_bytes()[0].is_ascii_lowercase()
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(JournalError::Invalid(format!(
            "kind {kind:?}: lowercase letters, digits and _ only"
        )))
    }
}

enum Signing<'a> {
    None,
    /// A closure signed by `key`, registered at `key_seq`.
    Closure {
        key: &'a SigningKey,
        key_seq: i64,
    },
    /// A key registration, signed by the key it registers, and attested (when given) by the
    /// previous key or the recovery key.
    Registration {
        key: &'a SigningKey,
        attestation: Option<Attestation<'a>>,
    },
    /// The recovery key's registration, signed by the kiosk's key registered at `key_seq`.
    Recovery {
        key: &'a SigningKey,
        key_seq: i64,
    },
}

/// Who vouches for a new key: the previous key, or the association's recovery key.
#[derive(Clone, Copy)]
pub struct Attestation<'a> {
    pub by: Attester,
    /// The key that signs the attestation.
    pub key: &'a SigningKey,
    /// The seq of the entry that registered that key (`key_registered` or `recovery_key`).
    pub key_seq: i64,
}

/// See [`Attestation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attester {
    Previous,
    Recovery,
}

impl Attester {
    pub fn code(self) -> &'static str {
        match self {
            Attester::Previous => "previous",
            Attester::Recovery => "recovery",
        }
    }
}

/// Appends an entry of `kind` dated `time_utc` (kept to the second) with `body`, inside the
/// caller's transaction when there is one (a sale and its entry commit together).
///
/// Refuses: a body holding a [`RESERVED_KEYS`] member, a float or out-of-range integer
/// anywhere, the kinds `closure` and `key_registered` (use [`append_closure`] and
/// [`rotate_key`]/[`ensure_signing_key`], which sign), and a time before the newest entry's
/// ([`JournalError::ClockBehind`]) except for [`KIND_CLOCK_SET`].
pub fn append(
    conn: &Connection,
    kind: &str,
    time_utc: DateTime<Utc>,
    body: Map<String, Value>,
) -> Result<Entry> {
    if kind == KIND_CLOSURE || kind == KIND_KEY_REGISTERED || kind == KIND_RECOVERY_KEY {
        return Err(JournalError::Invalid(format!(
            "{kind} entries are signed: use their own function"
        )));
    }
    append_inner(conn, kind, time_utc, body, Signing::None)
}

fn append_inner(
    conn: &Connection,
    kind: &str,
    time_utc: DateTime<Utc>,
    mut body: Map<String, Value>,
    signing: Signing<'_>,
) -> Result<Entry> {
    check_kind(kind)?;
    if let Some(key) = RESERVED_KEYS.iter().find(|k| body.contains_key(**k)) {
        return Err(JournalError::Invalid(format!(
            "{key:?} is set by the journal, not by the body"
        )));
    }
    let kiosk = kiosk_id(conn)?;
    let last: Option<(i64, String, String)> = conn
        .prepare_cached(
            "SELECT seq, hash, time_utc FROM journal WHERE kiosk_id = ?1 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([&kiosk], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let (seq, prev_hash) = match &last {
        None => (1, ZERO_HASH.to_string()),
        Some((seq, hash, _)) => (seq + 1, hash.clone()),
    };
    let time = whole_seconds(time_utc);
    if let Some((last_seq, _, last_text)) = &last {
        let last_time = parse_time(last_text).ok_or_else(|| JournalError::Payload {
            seq: *last_seq,
            reason: format!("bad time_utc {last_text}"),
        })?;
        if time < last_time && kind != KIND_CLOCK_SET {
            return Err(JournalError::ClockBehind { last: last_time });
        }
    }
    let time_text = super::utc_text(time);
    if let Signing::Closure { key_seq, .. } | Signing::Recovery { key_seq, .. } = signing {
        body.insert("key_seq".into(), key_seq.into());
        body.insert("prev_hash".into(), prev_hash.clone().into());
    }
    if ANCHORING_KINDS.contains(&kind) {
        body.insert("ledgers".into(), super::ledger::heads(conn)?);
    }
    body.insert("seq".into(), seq.into());
    body.insert("kiosk_id".into(), kiosk.clone().into());
    body.insert("kind".into(), kind.into());
    body.insert("time_utc".into(), time_text.clone().into());
    let mut value = Value::Object(body);
    if let Signing::Registration {
        attestation: Some(a),
        ..
    } = &signing
    {
        if let Value::Object(map) = &mut value {
            map.insert("attested_by".into(), a.by.code().into());
            map.insert("attested_key_seq".into(), a.key_seq.into());
        }
        let message = canonical_json(&value)?;
        let signature = a.key.sign(message.as_bytes());
        if let Value::Object(map) = &mut value {
            map.insert(
                "attestation".into(),
                hex::encode(signature.to_bytes()).into(),
            );
        }
    }
    let signer = match signing {
        Signing::None => None,
        Signing::Closure { key, .. }
        | Signing::Registration { key, .. }
        | Signing::Recovery { key, .. } => Some(key),
    };
    if let Some(key) = signer {
        let message = canonical_json(&value)?;
        let signature = key.sign(message.as_bytes());
        if let Value::Object(map) = &mut value {
            map.insert("signature".into(), hex::encode(signature.to_bytes()).into());
        }
    }
    let payload = canonical_json(&value)?;
    let prev_raw = decode_hash(&prev_hash).ok_or_else(|| JournalError::Payload {
        seq: seq - 1,
        reason: "stored hash is not hex".into(),
    })?;
    let hash = hex::encode(hash_raw(&prev_raw, payload.as_bytes()));
    conn.prepare_cached(
        "INSERT INTO journal (seq, kiosk_id, kind, time_utc, payload, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        seq, kiosk, kind, time_text, payload, prev_hash, hash
    ])?;
    Ok(Entry {
        seq,
        kiosk_id: kiosk,
        kind: kind.into(),
        time_utc: time_text,
        payload,
        prev_hash,
        hash,
    })
}

// ---------------------------------------------------------------------------------------------
// Technical events

/// The technical events the kiosk journals (kind [`KIND_TECHNICAL`], member `event`). Key
/// changes and clock changes have their own kinds (`key_registered`, `clock_set`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TechnicalEvent {
    /// The kiosk started (member `version`).
    Start,
    /// The kiosk stopped cleanly.
    Stop,
    /// A backup is being made (`file`, and `head_seq`, `head_hash` of the head it copies):
    /// journaled just before the copy, so the copy holds it; a copy that then fails is logged
    /// and leaves nothing on the stick.
    Backup,
    /// A backup replaced the database (`from_head`, `to_head` as `SEQ:HASH` or null, `file`,
    /// `accept_rollback`, `new_kiosk`); journaled in the restored database.
    Restore,
    /// A yearly archive was written (`year`, `entries`).
    Archive,
    /// The schema check failed at start-up (`reason`).
    SchemaCheckFailed,
}

impl TechnicalEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            TechnicalEvent::Start => "start",
            TechnicalEvent::Stop => "stop",
            TechnicalEvent::Backup => "backup",
            TechnicalEvent::Restore => "restore",
            TechnicalEvent::Archive => "archive",
            TechnicalEvent::SchemaCheckFailed => "schema_check_failed",
        }
    }
}

/// Appends a technical event with `body`'s members besides `event`.
pub fn append_technical(
    conn: &Connection,
    time_utc: DateTime<Utc>,
    event: TechnicalEvent,
    mut body: Map<String, Value>,
) -> Result<Entry> {
    body.insert("event".into(), event.as_str().into());
    append(conn, KIND_TECHNICAL, time_utc, body)
}

// ---------------------------------------------------------------------------------------------
// Verification

/// What an intact journal holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: u64,
    /// 0 for an empty journal.
    pub last_seq: i64,
    /// [`ZERO_HASH`] for an empty journal.
    pub last_hash: String,
    pub closures: u64,
    pub keys: u64,
    /// The first `key_registered` entry after the first that neither the previous key nor a
    /// registered recovery key attests (the first key of a journal is attested by nothing).
    pub unattested: Option<i64>,
    /// The ledger heads written into entries (`ledgers`), in journal order.
    pub anchors: Vec<Anchor>,
}

/// A ledger's head as an entry of the journal recorded it (see `store::ledger`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The journal entry that carries it.
    pub entry_seq: i64,
    pub ledger: String,
    /// 0 and [`ZERO_HASH`] for a ledger that was empty then.
    pub seq: i64,
    pub hash: String,
}

/// What [`verify_with`] shows its visitor of each entry, once its hash and signature are
/// checked.
pub struct Visited<'a> {
    pub seq: i64,
    pub kind: &'a str,
    pub time_utc: &'a str,
    pub payload: &'a str,
}

#[derive(serde::Deserialize)]
struct PayloadHead<'a> {
    seq: i64,
    #[serde(borrow)]
    kiosk_id: Cow<'a, str>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    time_utc: Cow<'a, str>,
    #[serde(default)]
    ledgers: Option<Value>,
}

/// The public key a closure must be signed with: the most recent registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisteredKey {
    pub seq: i64,
    pub public_key: VerifyingKey,
}

/// Checks a signed payload; returns its members.
fn check_signed(payload: &str, key: &VerifyingKey) -> Result<Map<String, Value>, String> {
    let value = parse_canonical(payload).map_err(|e| format!("signed payload: {e}"))?;
    let Value::Object(mut map) = value else {
        return Err("payload is not a JSON object".into());
    };
    let signature = map.remove("signature").ok_or("no signature")?;
    let mut raw = [0u8; 64];
    match signature.as_str() {
        Some(text) if text.len() == 128 && hex::decode_to_slice(text, &mut raw).is_ok() => {}
        _ => return Err("signature is not 128 hex digits".into()),
    }
    let map_value = Value::Object(map);
    let message = canonical_json(&map_value).map_err(|e| e.to_string())?;
    key.verify_strict(message.as_bytes(), &Signature::from_bytes(&raw))
        .map_err(|_| "signature does not match the registered key".to_string())?;
    match map_value {
        Value::Object(map) => Ok(map),
        _ => unreachable!(),
    }
}

fn public_key_of(map: &Map<String, Value>) -> Result<VerifyingKey, String> {
    if map.get("algorithm").and_then(Value::as_str) != Some("ed25519") {
        return Err("algorithm is not ed25519".into());
    }
    let mut raw = [0u8; 32];
    match map.get("public_key").and_then(Value::as_str) {
        Some(text) if text.len() == 64 && hex::decode_to_slice(text, &mut raw).is_ok() => {}
        _ => return Err("public_key is not 64 hex digits".into()),
    }
    VerifyingKey::from_bytes(&raw).map_err(|_| "public_key is not an Ed25519 point".to_string())
}

/// Recomputes the whole chain of this kiosk in one ordered scan and checks every signature.
/// `Err(JournalError::Broken { seq, reason })` names the first fault. A key change nobody
/// attests is not an error here: [`VerifyReport::unattested`] says where it is.
pub fn verify(conn: &Connection) -> Result<VerifyReport> {
    verify_with(conn, &mut |_| Ok(()))
}

fn anchors_of(entry_seq: i64, value: &Value) -> Result<Vec<Anchor>, String> {
    let Value::Object(map) = value else {
        return Err("ledgers is not an object".into());
    };
    let mut out = Vec::with_capacity(map.len());
    for (ledger, head) in map {
        let seq = head.get("seq").and_then(Value::as_i64);
        let hash = head.get("hash").and_then(Value::as_str);
        match (seq, hash) {
            (Some(seq), Some(hash)) if seq >= 0 && decode_hash(hash).is_some() => {
                out.push(Anchor {
                    entry_seq,
                    ledger: ledger.clone(),
                    seq,
                    hash: hash.into(),
                })
            }
            _ => return Err(format!("ledgers.{ledger} is not {{\"seq\",\"hash\"}}")),
        }
    }
    Ok(out)
}

/// Checks a `key_registered` entry's attestation against the keys known before it: the
/// current key (`attested_by` `previous`) or the recovery key (`recovery`). `Ok(false)` when
/// there is none or it does not hold.
fn attested(
    map: &Map<String, Value>,
    current: Option<RegisteredKey>,
    recovery: Option<RegisteredKey>,
) -> bool {
    let by = map.get("attested_by").and_then(Value::as_str);
    let key_seq = map.get("attested_key_seq").and_then(Value::as_i64);
    let attester = match by {
        Some("previous") => current,
        Some("recovery") => recovery,
        _ => None,
    };
    let (Some(attester), Some(key_seq)) = (attester, key_seq) else {
        return false;
    };
    if attester.seq != key_seq {
        return false;
    }
    let mut raw = [0u8; 64];
    match map.get("attestation").and_then(Value::as_str) {
        Some(text) if text.len() == 128 && hex::decode_to_slice(text, &mut raw).is_ok() => {}
        _ => return false,
    }
    let mut message = map.clone();
    message.remove("attestation");
    message.remove("signature");
    let Ok(text) = canonical_json(&Value::Object(message)) else {
        return false;
    };
    attester
        .public_key
        .verify_strict(text.as_bytes(), &Signature::from_bytes(&raw))
        .is_ok()
}

/// [`verify`], calling `visit` with each entry once its chain link, hash and signature hold;
/// an `Err(reason)` from it is reported as the entry's fault.
pub fn verify_with(
    conn: &Connection,
    visit: &mut dyn FnMut(&Visited<'_>) -> Result<(), String>,
) -> Result<VerifyReport> {
    let expected_kiosk: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'kiosk_id'", [], |r| {
            r.get(0)
        })
        .optional()?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM journal ORDER BY kiosk_id, seq"
    ))?;
    let mut rows = stmt.query([])?;
    let mut report = VerifyReport {
        entries: 0,
        last_seq: 0,
        last_hash: ZERO_HASH.into(),
        closures: 0,
        keys: 0,
        unattested: None,
        anchors: Vec::new(),
    };
    let mut kiosk: Option<String> = expected_kiosk;
    let mut recovery: Option<RegisteredKey> = None;
    let mut prev_raw = [0u8; 32];
    let mut prev_hex = [b'0'; 64];
    let mut computed_hex = [0u8; 64];
    let mut key: Option<RegisteredKey> = None;
    while let Some(row) = rows.next()? {
        let expected_seq = report.last_seq + 1;
        let broken = |reason: String| JournalError::Broken {
            seq: expected_seq,
            reason,
        };
        let text = |i: usize| -> Result<&str> {
            row.get_ref(i)?
                .as_str()
                .map_err(|_| broken(format!("column {i} is not text")))
        };
        let seq: i64 = row
            .get(0)
            .map_err(|_| broken("seq is not an integer".into()))?;
        let row_kiosk = text(1)?;
        let kind = text(2)?;
        let time_utc = text(3)?;
        let payload = text(4)?;
        let prev_hash = text(5)?;
        let hash = text(6)?;
        match &kiosk {
            None => kiosk = Some(row_kiosk.to_string()),
            Some(k) if k != row_kiosk => {
                return Err(JournalError::Broken {
                    seq,
                    reason: format!("entry of another kiosk ({row_kiosk})"),
                });
            }
            Some(_) => {}
        }
        if seq != expected_seq {
            let reason = if seq > expected_seq {
                format!("entry missing (the next one is {seq})")
            } else {
                format!("entry out of sequence (found {seq})")
            };
            return Err(broken(reason));
        }
        if prev_hash.as_bytes() != prev_hex {
            return Err(broken(
                "prev_hash does not link to the previous entry".into(),
            ));
        }
        let raw = hash_raw(&prev_raw, payload.as_bytes());
        hex::encode_to_slice(raw, &mut computed_hex).expect("64 hex digits");
        if hash.as_bytes() != computed_hex {
            return Err(broken("hash does not match the payload".into()));
        }
        let head: PayloadHead<'_> =
            serde_json::from_str(payload).map_err(|e| broken(format!("payload: {e}")))?;
        if head.seq != seq
            || head.kind != kind
            || head.kiosk_id != row_kiosk
            || head.time_utc != time_utc
        {
            return Err(broken(
                "payload's seq, kind, kiosk_id or time_utc differ from the row".into(),
            ));
        }
        if kind == KIND_KEY_REGISTERED {
            let map = serde_json::from_str::<Map<String, Value>>(payload)
                .map_err(|e| broken(format!("payload: {e}")))?;
            let public_key = public_key_of(&map).map_err(broken)?;
            check_signed(payload, &public_key).map_err(broken)?;
            if key.is_some() && report.unattested.is_none() && !attested(&map, key, recovery) {
                report.unattested = Some(seq);
            }
            key = Some(RegisteredKey { seq, public_key });
            report.keys += 1;
        } else if kind == KIND_RECOVERY_KEY {
            let current = key.ok_or_else(|| {
                broken("recovery key registered before any key_registered entry".into())
            })?;
            let map = check_signed(payload, &current.public_key).map_err(broken)?;
            if map.get("key_seq").and_then(Value::as_i64) != Some(current.seq) {
                return Err(broken(format!(
                    "key_seq is not {}, the latest key_registered entry",
                    current.seq
                )));
            }
            if map.get("prev_hash").and_then(Value::as_str) != Some(prev_hash) {
                return Err(broken("the signed prev_hash differs from the row's".into()));
            }
            let public_key = public_key_of(&map).map_err(broken)?;
            recovery = Some(RegisteredKey { seq, public_key });
        } else if kind == KIND_CLOSURE {
            let current =
                key.ok_or_else(|| broken("closure before any key_registered entry".into()))?;
            let map = check_signed(payload, &current.public_key).map_err(broken)?;
            if map.get("key_seq").and_then(Value::as_i64) != Some(current.seq) {
                return Err(broken(format!(
                    "key_seq is not {}, the latest key_registered entry",
                    current.seq
                )));
            }
            if map.get("prev_hash").and_then(Value::as_str) != Some(prev_hash) {
                return Err(broken("the signed prev_hash differs from the row's".into()));
            }
            report.closures += 1;
        }
        if let Some(ledgers) = &head.ledgers {
            report
                .anchors
                .extend(anchors_of(seq, ledgers).map_err(broken)?);
        }
        visit(&Visited {
            seq,
            kind,
            time_utc,
            payload,
        })
        .map_err(broken)?;
        prev_raw = raw;
        prev_hex = computed_hex;
        report.entries += 1;
        report.last_seq = seq;
    }
    report.last_hash = String::from_utf8(prev_hex.to_vec()).expect("hex is ASCII");
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Keys

/// The default key file of the database at `db`: `<db>.key`.
pub fn key_path_for(db: &Path) -> PathBuf {
    super::with_suffix(db, ".key")
}

/// A public key's fingerprint as printed on Z reports and kept by witnesses:
/// `ed25519:` and the first 16 hex digits of the SHA-256 of its 32 bytes.
pub fn key_fingerprint(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.to_bytes());
    format!("ed25519:{}", &hex::encode(digest)[..16])
}

fn key_error(path: &Path, reason: impl ToString) -> JournalError {
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
fn write_key(path: &Path, key: &SigningKey) -> Result<()> {
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

fn new_key() -> SigningKey {
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
fn latest_key_of(conn: &Connection, kind: &str) -> Result<Option<RegisteredKey>> {
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
const KEY_MEMBERS: [&str; 6] = [
    "algorithm",
    "public_key",
    "attestation",
    "attested_by",
    "attested_key_seq",
    "key_seq",
];

fn register_key(
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
fn check_rotation(
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

fn recovery_error(path: &Path, reason: impl std::fmt::Display) -> JournalError {
    JournalError::RecoveryKey(format!("{}: {reason}", path.display()))
}

/// The first line of a recovery key file.
const RECOVERY_HEADER: &str = "comptoir recovery key v1";

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

// ---------------------------------------------------------------------------------------------
// Closures

/// The period a closure covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Day,
    Month,
    Year,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Month => "month",
            Period::Year => "year",
        }
    }

    pub fn parse(text: &str) -> Option<Period> {
        match text {
            "day" => Some(Period::Day),
            "month" => Some(Period::Month),
            "year" => Some(Period::Year),
            _ => None,
        }
    }
}

/// Totals for one VAT rate (basis points), all in cents, VAT included in `ttc_cents`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VatTotal {
    pub vat_bp: i64,
    pub ttc_cents: i64,
    pub ht_cents: i64,
    pub vat_cents: i64,
}

/// The sums of the `sale` and `refund` entries in a range of seqs ([`sum_sales`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SalesTotals {
    /// Sales plus refunds (training entries excluded).
    pub ticket_count: i64,
    pub sale_count: i64,
    pub refund_count: i64,
    /// Entries marked `"training":true`, left out of every other figure.
    pub training_count: i64,
    /// Sum of `total_cents` (refunds are negative).
    pub total_cents: i64,
    /// Sums of the `vat` lines, by ascending rate.
    pub by_vat_rate: Vec<VatTotal>,
}

fn payload_i64(seq: i64, map: &Map<String, Value>, key: &str) -> Result<i64> {
    map.get(key)
        .and_then(Value::as_i64)
        .ok_or_else(|| JournalError::Payload {
            seq,
            reason: format!("{key} is missing or not an integer"),
        })
}

/// Sums the `sale` and `refund` entries with `first_seq <= seq <= last_seq`, from their payload
/// fields `total_cents` (required) and `vat` (optional lines `vat_bp`, `ttc_cents`, `ht_cents`,
/// `vat_cents`); entries with `"training":true` are only counted in `training_count`.
pub fn sum_sales(conn: &Connection, first_seq: i64, last_seq: i64) -> Result<SalesTotals> {
    let kiosk = kiosk_id(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, kind, payload FROM journal
         WHERE kiosk_id = ?1 AND seq BETWEEN ?2 AND ?3 AND kind IN ('sale', 'refund')
         ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![kiosk, first_seq, last_seq])?;
    let mut totals = SalesTotals::default();
    let mut by_rate: BTreeMap<i64, VatTotal> = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let kind: String = row.get(1)?;
        let payload: String = row.get(2)?;
        let map: Map<String, Value> =
            serde_json::from_str(&payload).map_err(|e| JournalError::Payload {
                seq,
                reason: e.to_string(),
            })?;
        if map.get("training").and_then(Value::as_bool) == Some(true) {
            totals.training_count += 1;
            continue;
        }
        totals.total_cents += payload_i64(seq, &map, "total_cents")?;
        totals.ticket_count += 1;
        if kind == KIND_SALE {
            totals.sale_count += 1;
        } else {
            totals.refund_count += 1;
        }
        match map.get("vat") {
            None | Some(Value::Null) => {}
            Some(Value::Array(lines)) => {
                for line in lines {
                    let Value::Object(line) = line else {
                        return Err(JournalError::Payload {
                            seq,
                            reason: "a vat line is not an object".into(),
                        });
                    };
                    let rate = payload_i64(seq, line, "vat_bp")?;
                    let sum = by_rate.entry(rate).or_insert(VatTotal {
                        vat_bp: rate,
                        ..VatTotal::default()
                    });
                    sum.ttc_cents += payload_i64(seq, line, "ttc_cents")?;
                    sum.ht_cents += payload_i64(seq, line, "ht_cents")?;
                    sum.vat_cents += payload_i64(seq, line, "vat_cents")?;
                }
            }
            Some(_) => {
                return Err(JournalError::Payload {
                    seq,
                    reason: "vat is not an array".into(),
                })
            }
        }
    }
    totals.by_vat_rate = by_rate.into_values().collect();
    Ok(totals)
}

/// The figures of one closure. Computing them (which seqs a local day covers...) is the
/// selling code's job; [`sum_sales`] and [`last_closure`] help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosureFigures {
    pub period: Period,
    /// First and last local dates of the period, both inclusive.
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The time zone of those dates (e.g. `Europe/Paris`).
    pub timezone: String,
    /// The journal entries the period covers, both inclusive (`last_seq = first_seq - 1` for
    /// an empty period).
    pub first_seq: i64,
    pub last_seq: i64,
    pub ticket_count: i64,
    pub totals_by_vat_rate: Vec<VatTotal>,
    pub period_total_cents: i64,
    /// The perpetual grand total: every sale since the first, refunds deducted.
    pub grand_total_cents: i64,
}

impl ClosureFigures {
    /// Figures from [`sum_sales`] over `first_seq..=last_seq`; the grand total is
    /// `previous_grand_total_cents` (of the last closure of the same period kind, 0 for the
    /// first) plus this period's total.
    #[allow(clippy::too_many_arguments)]
    pub fn from_totals(
        period: Period,
        period_start: NaiveDate,
        period_end: NaiveDate,
        timezone: &str,
        first_seq: i64,
        last_seq: i64,
        totals: &SalesTotals,
        previous_grand_total_cents: i64,
    ) -> ClosureFigures {
        ClosureFigures {
            period,
            period_start,
            period_end,
            timezone: timezone.into(),
            first_seq,
            last_seq,
            ticket_count: totals.ticket_count,
            totals_by_vat_rate: totals.by_vat_rate.clone(),
            period_total_cents: totals.total_cents,
            grand_total_cents: previous_grand_total_cents + totals.total_cents,
        }
    }
}

/// The body of a closure entry (its figures); [`append_closure`] adds `key_seq`, `prev_hash`
/// and `signature`. Members: `period` (`day`, `month`, `year`), `period_start`, `period_end`
/// (`YYYY-MM-DD`), `timezone`, `first_seq`, `last_seq`, `ticket_count`, `totals_by_vat_rate`
/// (`[{"ht_cents","ttc_cents","vat_bp","vat_cents"}]` by ascending rate), `period_total_cents`,
/// `grand_total_cents`.
pub fn closure_body(figures: &ClosureFigures) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("period".into(), figures.period.as_str().into());
    body.insert(
        "period_start".into(),
        figures.period_start.format("%Y-%m-%d").to_string().into(),
    );
    body.insert(
        "period_end".into(),
        figures.period_end.format("%Y-%m-%d").to_string().into(),
    );
    body.insert("timezone".into(), figures.timezone.clone().into());
    body.insert("first_seq".into(), figures.first_seq.into());
    body.insert("last_seq".into(), figures.last_seq.into());
    body.insert("ticket_count".into(), figures.ticket_count.into());
    let mut rates = figures.totals_by_vat_rate.clone();
    rates.sort_by_key(|r| r.vat_bp);
    let rates: Vec<Value> = rates
        .iter()
        .map(|r| {
            serde_json::json!({
                "vat_bp": r.vat_bp,
                "ttc_cents": r.ttc_cents,
                "ht_cents": r.ht_cents,
                "vat_cents": r.vat_cents,
            })
        })
        .collect();
    body.insert("totals_by_vat_rate".into(), Value::Array(rates));
    body.insert(
        "period_total_cents".into(),
        figures.period_total_cents.into(),
    );
    body.insert("grand_total_cents".into(), figures.grand_total_cents.into());
    body
}

/// Appends a signed closure entry. `key` must be the most recently registered key (get it
/// with [`ensure_signing_key`]); otherwise `KeyMismatch`.
pub fn append_closure(
    conn: &Connection,
    time_utc: DateTime<Utc>,
    figures: &ClosureFigures,
    key: &SigningKey,
) -> Result<Entry> {
    let registered = registered_key(conn)?.ok_or_else(|| {
        JournalError::Invalid("no key registered: call ensure_signing_key first".into())
    })?;
    if registered.public_key != key.verifying_key() {
        return Err(JournalError::KeyMismatch {
            path: PathBuf::from("(given key)"),
        });
    }
    append_inner(
        conn,
        KIND_CLOSURE,
        time_utc,
        closure_body(figures),
        Signing::Closure {
            key,
            key_seq: registered.seq,
        },
    )
}

/// What [`last_closure`] tells of a closure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosureSummary {
    pub seq: i64,
    pub period: Period,
    pub period_end: NaiveDate,
    pub last_seq: i64,
    pub grand_total_cents: i64,
}

/// The newest closure of `period` that no later [`KIND_CLOSURE_VOIDED`] entry names.
pub fn last_closure(conn: &Connection, period: Period) -> Result<Option<ClosureSummary>> {
    let kiosk = kiosk_id(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, payload FROM journal INDEXED BY journal_by_kind
         WHERE kiosk_id = ?1 AND kind = 'closure'
         AND json_extract(payload, '$.period') = ?2
         AND seq NOT IN (SELECT json_extract(payload, '$.closure_seq')
                         FROM journal INDEXED BY journal_by_kind
                         WHERE kiosk_id = ?1 AND kind = 'closure_voided')
         ORDER BY seq DESC LIMIT 1",
    )?;
    let found: Option<(i64, String)> = stmt
        .query_row(params![kiosk, period.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((seq, payload)) = found else {
        return Ok(None);
    };
    let map: Map<String, Value> =
        serde_json::from_str(&payload).map_err(|e| JournalError::Payload {
            seq,
            reason: e.to_string(),
        })?;
    let period_end = map
        .get("period_end")
        .and_then(Value::as_str)
        .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
        .ok_or_else(|| JournalError::Payload {
            seq,
            reason: "bad period_end".into(),
        })?;
    Ok(Some(ClosureSummary {
        seq,
        period,
        period_end,
        last_seq: payload_i64(seq, &map, "last_seq")?,
        grand_total_cents: payload_i64(seq, &map, "grand_total_cents")?,
    }))
}
