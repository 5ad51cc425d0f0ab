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

mod canonical;
mod chain;
mod closures;
mod keys;

pub use canonical::*;
pub use chain::*;
pub use closures::*;
pub use keys::*;

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
