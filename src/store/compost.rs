//! Compost: deposits, the credits ledger, composters (bins) and their log, changes to
//! residents (revoke, reissue, anonymise, retention), and the impact figures.
//!
//! - `deposits` (migration 9) is a ledger: one row per deposit, a resident's (by internal id
//!   only) or the garden's own (a loss marked "to compost"), with gross, tare, net grams, the
//!   kind of waste, the CO₂e avoided and the credits it earned, and the bin that was filling.
//! - `credit_ledger` is chained like the journal: `payload` is canonical JSON (see
//!   [`journal::canonical_json`]) holding every column, `hash = SHA-256(prev_hash || payload)`
//!   ([`journal::entry_hash`]); triggers refuse updates, deletes, inserts out of sequence and a
//!   move that would take a balance below zero. [`verify_credits`] recomputes the chain.
//! - `compost_bin_log` holds every status change, turning, temperature reading (tenths of °C),
//!   brown-matter addition and emptying (grams of compost produced).
//! - `resident_events` records registrations, updates, cards issued and revoked and
//!   anonymisations, never personal data.
//! - `compost_stats`/`compost_active` are derived: per local week, month and year, the grams,
//!   deposits, households and CO₂e, in total, per building and per kind. They are kept as
//!   deposits are recorded, in the same transaction, so reports over years read a few hundred
//!   rows; [`rebuild_stats`] makes them again from the deposits.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use super::journal::{canonical_json, entry_hash, ZERO_HASH};
use crate::domain::credits::{co2e_avoided_g, CreditMove, CreditsConfig};

/// Everything that can go wrong here.
#[derive(Debug, thiserror::Error)]
pub enum CompostError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("unknown resident {0}")]
    UnknownResident(i64),
    #[error("resident {0} is anonymised")]
    Anonymised(i64),
    #[error("the net weight must be positive")]
    NotPositive,
    #[error("the balance is {balance}, below {wanted}")]
    AboveBalance { balance: i64, wanted: i64 },
    #[error("unknown bin {0}")]
    UnknownBin(i64),
    #[error("credit ledger seq {seq}: {reason}")]
    Broken { seq: i64, reason: String },
    #[error("canonical JSON: {0}")]
    Canonical(String),
}

pub type Result<T, E = CompostError> = std::result::Result<T, E>;

/// What a deposit holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WasteKind {
    /// Fruit and vegetable peelings, food scraps.
    Kitchen,
    /// Coffee grounds and tea.
    Coffee,
    /// Brown matter: dry leaves, cardboard, wood chips.
    Brown,
    /// Garden waste (the garden's own losses).
    Garden,
    Other,
}

impl WasteKind {
    pub const RESIDENT: [WasteKind; 4] = [
        WasteKind::Kitchen,
        WasteKind::Coffee,
        WasteKind::Brown,
        WasteKind::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            WasteKind::Kitchen => "kitchen",
            WasteKind::Coffee => "coffee",
            WasteKind::Brown => "brown",
            WasteKind::Garden => "garden",
            WasteKind::Other => "other",
        }
    }

    pub fn parse(code: &str) -> Option<WasteKind> {
        [
            WasteKind::Kitchen,
            WasteKind::Coffee,
            WasteKind::Brown,
            WasteKind::Garden,
            WasteKind::Other,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }
}

/// How the bucket's weight was taken off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TareSource {
    /// Nothing taken off (the garden's losses, or waste poured straight in).
    None,
    /// The resident's registered bucket.
    Bucket,
    /// The empty bucket weighed after emptying it.
    Weighed,
}

impl TareSource {
    pub fn code(self) -> &'static str {
        match self {
            TareSource::None => "none",
            TareSource::Bucket => "bucket",
            TareSource::Weighed => "weighed",
        }
    }
}

/// A composter's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinStatus {
    Filling,
    Maturing,
    Ready,
}

impl BinStatus {
    pub fn code(self) -> &'static str {
        match self {
            BinStatus::Filling => "filling",
            BinStatus::Maturing => "maturing",
            BinStatus::Ready => "ready",
        }
    }

    pub fn parse(code: &str) -> Option<BinStatus> {
        [BinStatus::Filling, BinStatus::Maturing, BinStatus::Ready]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

/// Something done to a bin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinEvent {
    Status(BinStatus),
    Turned,
    /// Tenths of a degree Celsius.
    Temperature(i64),
    BrownAdded(i64),
    /// Emptied, with the grams of compost produced.
    Emptied(i64),
}

impl BinEvent {
    pub fn code(self) -> &'static str {
        match self {
            BinEvent::Status(_) => "status",
            BinEvent::Turned => "turned",
            BinEvent::Temperature(_) => "temperature",
            BinEvent::BrownAdded(_) => "brown_added",
            BinEvent::Emptied(_) => "emptied",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Residents

/// A resident as stored (personal fields are `None` once anonymised).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resident {
    pub id: i64,
    pub nickname: Option<String>,
    pub building: Option<String>,
    pub household_size: Option<i64>,
    pub language: String,
    pub consent_date: Option<String>,
    pub created_utc: String,
    pub anonymised_utc: Option<String>,
    pub bucket_tare_g: Option<i64>,
}

const RESIDENT_COLUMNS: &str = "id, nickname, building, household_size, language, consent_date, \
     created_utc, anonymised_utc, bucket_tare_g";

fn resident_from_row(r: &rusqlite::Row) -> rusqlite::Result<Resident> {
    Ok(Resident {
        id: r.get(0)?,
        nickname: r.get(1)?,
        building: r.get(2)?,
        household_size: r.get(3)?,
        language: r.get(4)?,
        consent_date: r.get(5)?,
        created_utc: r.get(6)?,
        anonymised_utc: r.get(7)?,
        bucket_tare_g: r.get(8)?,
    })
}

pub fn resident(conn: &Connection, id: i64) -> rusqlite::Result<Option<Resident>> {
    conn.prepare_cached(&format!(
        "SELECT {RESIDENT_COLUMNS} FROM residents WHERE id = ?1"
    ))?
    .query_row([id], resident_from_row)
    .optional()
}

/// Every resident, newest first.
pub fn residents(conn: &Connection) -> rusqlite::Result<Vec<Resident>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {RESIDENT_COLUMNS} FROM residents ORDER BY id DESC"
    ))?;
    let rows = stmt.query_map([], resident_from_row)?;
    rows.collect()
}

/// What a scanned token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardLookup {
    Valid(i64),
    /// A card that was revoked (lost, reissued, or its holder anonymised).
    Revoked,
    Unknown,
}

pub fn lookup_card(conn: &Connection, token: &str) -> rusqlite::Result<CardLookup> {
    let found: Option<(i64, Option<String>)> = conn
        .prepare_cached("SELECT resident_id, revoked_utc FROM cards WHERE token_sha256 = ?1")?
        .query_row([super::people::token_hash(token)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    Ok(match found {
        Some((id, None)) => CardLookup::Valid(id),
        Some((_, Some(_))) => CardLookup::Revoked,
        None => CardLookup::Unknown,
    })
}

/// Does the resident hold a valid (not revoked) card? Its token cannot be read back: only its
/// hash is stored.
pub fn has_valid_card(conn: &Connection, resident_id: i64) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM cards WHERE resident_id = ?1 AND revoked_utc IS NULL",
        [resident_id],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// How many cards a resident has had (the card number printed on the card).
pub fn card_count(conn: &Connection, resident_id: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM cards WHERE resident_id = ?1",
        [resident_id],
        |r| r.get(0),
    )
}

/// A change to a resident, for `resident_events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResidentEvent {
    Registered,
    Updated,
    CardIssued,
    CardRevoked,
    Anonymised,
}

impl ResidentEvent {
    pub fn code(self) -> &'static str {
        match self {
            ResidentEvent::Registered => "registered",
            ResidentEvent::Updated => "updated",
            ResidentEvent::CardIssued => "card_issued",
            ResidentEvent::CardRevoked => "card_revoked",
            ResidentEvent::Anonymised => "anonymised",
        }
    }
}

pub fn record_resident_event(
    conn: &Connection,
    resident_id: i64,
    kind: ResidentEvent,
    actor: Option<i64>,
    now_utc: &str,
) -> rusqlite::Result<()> {
    super::atomically(conn, || {
        conn.prepare_cached(
            "INSERT INTO resident_events (time_utc, resident_id, actor_id, kind) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![now_utc, resident_id, actor, kind.code()])?;
        super::ledger::chain_row(
            conn,
            &super::ledger::RESIDENT_EVENTS,
            conn.last_insert_rowid(),
        )
    })
}

/// The kinds of a resident's events, oldest first.
pub fn resident_event_kinds(conn: &Connection, resident_id: i64) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        conn.prepare("SELECT kind FROM resident_events WHERE resident_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([resident_id], |r| r.get(0))?;
    rows.collect()
}

/// Revokes the resident's valid card, if any. Returns whether one was revoked.
pub fn revoke_card(
    conn: &Connection,
    resident_id: i64,
    actor: Option<i64>,
    now_utc: &str,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE cards SET revoked_utc = ?2 WHERE resident_id = ?1 AND revoked_utc IS NULL",
        params![resident_id, now_utc],
    )?;
    if n > 0 {
        record_resident_event(
            conn,
            resident_id,
            ResidentEvent::CardRevoked,
            actor,
            now_utc,
        )?;
    }
    Ok(n > 0)
}

/// Sets the resident's bucket tare (grams), `None` to weigh the empty bucket each time.
pub fn set_bucket_tare(
    conn: &Connection,
    resident_id: i64,
    tare_g: Option<i64>,
    actor: Option<i64>,
    now_utc: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE residents SET bucket_tare_g = ?2 WHERE id = ?1",
        params![resident_id, tare_g],
    )?;
    record_resident_event(conn, resident_id, ResidentEvent::Updated, actor, now_utc)
}

/// What staff may change about a resident after registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResidentDetails<'a> {
    pub nickname: Option<&'a str>,
    pub building: Option<&'a str>,
    pub household_size: Option<i64>,
    pub language: &'a str,
    pub bucket_tare_g: Option<i64>,
}

/// Changes a resident's details and records an `updated` event (who and when; never the
/// details, which must stay erasable). Nothing is written when nothing changes; returns
/// whether something did. Anonymised residents stay anonymised.
pub fn update_resident(
    conn: &Connection,
    resident_id: i64,
    d: &ResidentDetails,
    actor: Option<i64>,
    now_utc: &str,
) -> Result<bool> {
    let r = resident(conn, resident_id)?.ok_or(CompostError::UnknownResident(resident_id))?;
    if r.anonymised_utc.is_some() {
        return Err(CompostError::Anonymised(resident_id));
    }
    let unchanged = r.nickname.as_deref() == d.nickname
        && r.building.as_deref() == d.building
        && r.household_size == d.household_size
        && r.language == d.language
        && r.bucket_tare_g == d.bucket_tare_g;
    if unchanged {
        return Ok(false);
    }
    conn.execute(
        "UPDATE residents SET nickname = ?2, building = ?3, household_size = ?4, language = ?5,
                bucket_tare_g = ?6
         WHERE id = ?1 AND anonymised_utc IS NULL",
        params![
            resident_id,
            d.nickname,
            d.building,
            d.household_size,
            d.language,
            d.bucket_tare_g
        ],
    )?;
    record_resident_event(conn, resident_id, ResidentEvent::Updated, actor, now_utc)?;
    Ok(true)
}

/// Erases the resident's nickname and details and revokes their card. Deposits and credits
/// stay under the internal id, so every total is unchanged. Per-building activity rows of the
/// derived figures are dropped (they would tie the id to a building); the figures stay.
pub fn anonymise(
    conn: &Connection,
    resident_id: i64,
    actor: Option<i64>,
    now_utc: &str,
) -> Result<()> {
    let r = resident(conn, resident_id)?.ok_or(CompostError::UnknownResident(resident_id))?;
    if r.anonymised_utc.is_some() {
        return Err(CompostError::Anonymised(resident_id));
    }
    revoke_card(conn, resident_id, actor, now_utc)?;
    conn.execute(
        "UPDATE residents SET nickname = NULL, building = NULL, household_size = NULL,
                consent_date = NULL, bucket_tare_g = NULL, anonymised_utc = ?2
         WHERE id = ?1",
        params![resident_id, now_utc],
    )?;
    conn.execute(
        "DELETE FROM compost_active WHERE resident_id = ?1 AND dim = 'building'",
        [resident_id],
    )?;
    record_resident_event(conn, resident_id, ResidentEvent::Anonymised, actor, now_utc)?;
    Ok(())
}

/// Residents not anonymised whose last activity (deposit, credits move, registration or card)
/// is before `cutoff_utc`.
pub fn inactive_since(conn: &Connection, cutoff_utc: &str) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare(
        "SELECT r.id FROM residents r
         WHERE r.anonymised_utc IS NULL
           AND max(r.created_utc,
                   coalesce((SELECT max(time_utc) FROM deposits d WHERE d.resident_id = r.id), ''),
                   coalesce((SELECT max(time_utc) FROM credit_ledger c WHERE c.resident_id = r.id), ''),
                   coalesce((SELECT max(issued_utc) FROM cards k WHERE k.resident_id = r.id), ''))
               < ?1
         ORDER BY r.id",
    )?;
    let rows = stmt.query_map([cutoff_utc], |r| r.get(0))?;
    rows.collect()
}

// ---------------------------------------------------------------------------------------------
// Bins

/// A composter with its latest state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bin {
    pub id: i64,
    pub name: String,
    pub status: BinStatus,
    pub last_turned_utc: Option<String>,
    pub last_temperature: Option<(String, i64)>,
    /// Grams deposited since it last started filling.
    pub filled_g: i64,
}

pub fn add_bin(conn: &Connection, name: &str, status: BinStatus, now_utc: &str) -> Result<i64> {
    conn.execute(
        "INSERT INTO compost_bins (name, position, created_utc)
         VALUES (?1, (SELECT coalesce(max(position), 0) + 1 FROM compost_bins), ?2)",
        params![name.trim(), now_utc],
    )?;
    let id = conn.last_insert_rowid();
    log_bin(conn, id, BinEvent::Status(status), None, now_utc)?;
    Ok(id)
}

/// Records something done to a bin. A bin set to `filling` makes every other filling bin
/// `maturing`: deposits go into one bin.
pub fn log_bin(
    conn: &Connection,
    bin_id: i64,
    event: BinEvent,
    staff: Option<i64>,
    now_utc: &str,
) -> Result<()> {
    let exists: bool = conn.query_row(
        "SELECT count(*) FROM compost_bins WHERE id = ?1",
        [bin_id],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !exists {
        return Err(CompostError::UnknownBin(bin_id));
    }
    if event == BinEvent::Status(BinStatus::Filling) {
        for other in bins(conn)? {
            if other.id != bin_id && other.status == BinStatus::Filling {
                insert_bin_log(
                    conn,
                    other.id,
                    BinEvent::Status(BinStatus::Maturing),
                    staff,
                    now_utc,
                )?;
            }
        }
    }
    insert_bin_log(conn, bin_id, event, staff, now_utc)?;
    Ok(())
}

fn insert_bin_log(
    conn: &Connection,
    bin_id: i64,
    event: BinEvent,
    staff: Option<i64>,
    now_utc: &str,
) -> rusqlite::Result<()> {
    let (status, temp, grams) = match event {
        BinEvent::Status(s) => (Some(s.code()), None, None),
        BinEvent::Turned => (None, None, None),
        BinEvent::Temperature(t) => (None, Some(t), None),
        BinEvent::BrownAdded(g) | BinEvent::Emptied(g) => (None, None, Some(g)),
    };
    conn.execute(
        "INSERT INTO compost_bin_log (bin_id, time_utc, kind, status, temperature_dc, grams, staff_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![bin_id, now_utc, event.code(), status, temp, grams, staff],
    )?;
    super::ledger::chain_row(
        conn,
        &super::ledger::COMPOST_BIN_LOG,
        conn.last_insert_rowid(),
    )
}

/// Every bin in order, with its status, last turning and last temperature.
pub fn bins(conn: &Connection) -> rusqlite::Result<Vec<Bin>> {
    let mut stmt = conn.prepare(
        "SELECT b.id, b.name,
            (SELECT status FROM compost_bin_log l WHERE l.bin_id = b.id AND l.kind = 'status'
               ORDER BY l.id DESC LIMIT 1),
            (SELECT time_utc FROM compost_bin_log l WHERE l.bin_id = b.id AND l.kind = 'turned'
               ORDER BY l.id DESC LIMIT 1),
            (SELECT time_utc FROM compost_bin_log l WHERE l.bin_id = b.id AND l.kind = 'temperature'
               ORDER BY l.id DESC LIMIT 1),
            (SELECT temperature_dc FROM compost_bin_log l WHERE l.bin_id = b.id AND l.kind = 'temperature'
               ORDER BY l.id DESC LIMIT 1),
            (SELECT coalesce(sum(d.net_g), 0) FROM deposits d WHERE d.bin_id = b.id
               AND d.time_utc >= coalesce((SELECT time_utc FROM compost_bin_log l WHERE l.bin_id = b.id
                   AND l.kind = 'status' AND l.status = 'filling' ORDER BY l.id DESC LIMIT 1), ''))
         FROM compost_bins b ORDER BY b.position, b.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let status: Option<String> = r.get(2)?;
        let temp_time: Option<String> = r.get(4)?;
        let temp: Option<i64> = r.get(5)?;
        Ok(Bin {
            id: r.get(0)?,
            name: r.get(1)?,
            status: status
                .as_deref()
                .and_then(BinStatus::parse)
                .unwrap_or(BinStatus::Maturing),
            last_turned_utc: r.get(3)?,
            last_temperature: temp_time.zip(temp),
            filled_g: r.get(6)?,
        })
    })?;
    rows.collect()
}

/// The bin that is filling now, if any.
pub fn filling_bin(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT b.id FROM compost_bins b
         WHERE (SELECT status FROM compost_bin_log l WHERE l.bin_id = b.id AND l.kind = 'status'
                ORDER BY l.id DESC LIMIT 1) = 'filling'
         ORDER BY b.position, b.id LIMIT 1",
    )?
    .query_row([], |r| r.get(0))
    .optional()
}

// ---------------------------------------------------------------------------------------------
// The credits ledger

/// One row of the credits ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditEntry {
    pub seq: i64,
    pub time_utc: String,
    pub resident_id: i64,
    pub kind: String,
    pub cents: i64,
    pub deposit_id: Option<i64>,
    pub sale_seq: Option<i64>,
    pub hash: String,
}

/// A resident's balance: the sum of their moves.
pub fn balance(conn: &Connection, resident_id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT coalesce(sum(cents), 0) FROM credit_ledger WHERE resident_id = ?1")?
        .query_row([resident_id], |r| r.get(0))
}

/// Appends a move to the credits ledger (inside the caller's transaction). A spend above the
/// balance is refused.
pub fn append_credit(
    conn: &Connection,
    resident_id: i64,
    mv: CreditMove,
    deposit_id: Option<i64>,
    sale_seq: Option<i64>,
    now_utc: &str,
) -> Result<CreditEntry> {
    let cents = mv.delta();
    if cents < 0 {
        let have = balance(conn, resident_id)?;
        if have + cents < 0 {
            return Err(CompostError::AboveBalance {
                balance: have,
                wanted: -cents,
            });
        }
    }
    let kiosk_id = super::meta::kiosk_id(conn)?;
    let last: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT seq, hash FROM credit_ledger WHERE kiosk_id = ?1 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([&kiosk_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, ZERO_HASH.to_string()),
    };
    let payload = credit_payload(
        seq,
        &kiosk_id,
        now_utc,
        resident_id,
        mv.code(),
        cents,
        deposit_id,
        sale_seq,
    )?;
    let hash = entry_hash(&prev_hash, &payload)
        .ok_or_else(|| CompostError::Canonical("bad previous hash".into()))?;
    conn.prepare_cached(
        "INSERT INTO credit_ledger (seq, kiosk_id, time_utc, resident_id, kind, cents, deposit_id,
             sale_seq, payload, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        seq,
        kiosk_id,
        now_utc,
        resident_id,
        mv.code(),
        cents,
        deposit_id,
        sale_seq,
        payload,
        prev_hash,
        hash
    ])?;
    Ok(CreditEntry {
        seq,
        time_utc: now_utc.into(),
        resident_id,
        kind: mv.code().into(),
        cents,
        deposit_id,
        sale_seq,
        hash,
    })
}

#[allow(clippy::too_many_arguments)]
fn credit_payload(
    seq: i64,
    kiosk_id: &str,
    time_utc: &str,
    resident_id: i64,
    kind: &str,
    cents: i64,
    deposit_id: Option<i64>,
    sale_seq: Option<i64>,
) -> Result<String> {
    let v = json!({
        "seq": seq,
        "kiosk_id": kiosk_id,
        "time_utc": time_utc,
        "resident_id": resident_id,
        "kind": kind,
        "cents": cents,
        "deposit_id": deposit_id,
        "sale_seq": sale_seq,
    });
    canonical_json(&v).map_err(|e| CompostError::Canonical(e.to_string()))
}

/// Recomputes the credits chain: the number of entries, or the first broken seq. Each stored
/// payload is hashed as stored and must say what the columns say.
pub fn verify_credits(conn: &Connection) -> Result<i64> {
    let mut stmt = conn.prepare(
        "SELECT seq, kiosk_id, time_utc, resident_id, kind, cents, deposit_id, sale_seq, payload,
                prev_hash, hash
         FROM credit_ledger ORDER BY kiosk_id, seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_prev: Option<(String, i64, String)> = None;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let kiosk: String = r.get(1)?;
        let payload: String = r.get(8)?;
        let prev: String = r.get(9)?;
        let hash: String = r.get(10)?;
        let broken = |reason: &str| CompostError::Broken {
            seq,
            reason: reason.into(),
        };
        let (want_seq, want_prev) = match &expected_prev {
            Some((k, s, h)) if *k == kiosk => (s + 1, h.clone()),
            _ => (1, ZERO_HASH.to_string()),
        };
        if seq != want_seq {
            return Err(CompostError::Broken {
                seq: want_seq,
                reason: "missing entry".into(),
            });
        }
        if prev != want_prev {
            return Err(broken("prev_hash is not the previous hash"));
        }
        if entry_hash(&prev, &payload).as_deref() != Some(hash.as_str()) {
            return Err(broken("hash does not match the payload"));
        }
        let columns = credit_payload(
            seq,
            &kiosk,
            &r.get::<_, String>(2)?,
            r.get(3)?,
            &r.get::<_, String>(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        )?;
        if columns != payload {
            return Err(broken("columns differ from the payload"));
        }
        expected_prev = Some((kiosk, seq, hash));
        n += 1;
    }
    Ok(n)
}

/// The resident whose credits paid for the sale `sale_seq`, and how much.
pub fn credits_spent_on_sale(
    conn: &Connection,
    sale_seq: i64,
) -> rusqlite::Result<Option<(i64, i64)>> {
    conn.query_row(
        "SELECT resident_id, -sum(cents) FROM credit_ledger WHERE sale_seq = ?1 AND kind = 'spent'
         GROUP BY resident_id",
        [sale_seq],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// A resident's credit moves, oldest first.
pub fn credit_moves(conn: &Connection, resident_id: i64) -> rusqlite::Result<Vec<CreditEntry>> {
    let mut stmt = conn.prepare(
        "SELECT seq, time_utc, resident_id, kind, cents, deposit_id, sale_seq, hash
         FROM credit_ledger WHERE resident_id = ?1 ORDER BY kiosk_id, seq",
    )?;
    let rows = stmt.query_map([resident_id], |r| {
        Ok(CreditEntry {
            seq: r.get(0)?,
            time_utc: r.get(1)?,
            resident_id: r.get(2)?,
            kind: r.get(3)?,
            cents: r.get(4)?,
            deposit_id: r.get(5)?,
            sale_seq: r.get(6)?,
            hash: r.get(7)?,
        })
    })?;
    rows.collect()
}

// ---------------------------------------------------------------------------------------------
// Deposits

/// The local periods a deposit counts in: `w2026-24` (ISO week), `m2026-06`, `y2026`.
pub fn period_keys(local_day: NaiveDate) -> [String; 3] {
    let w = local_day.iso_week();
    [
        format!("w{}-{:02}", w.year(), w.week()),
        format!("m{}-{:02}", local_day.year(), local_day.month()),
        format!("y{}", local_day.year()),
    ]
}

/// A deposit to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeposit {
    /// `None`: the garden's own (a loss marked "to compost").
    pub resident_id: Option<i64>,
    pub kind: WasteKind,
    pub gross_g: i64,
    pub tare_g: i64,
    pub tare_source: TareSource,
    /// The loss it comes from, for the garden's own deposits (recorded once).
    pub reference: Option<String>,
}

impl NewDeposit {
    pub fn net_g(&self) -> i64 {
        self.gross_g - self.tare_g
    }
}

/// A recorded deposit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Deposit {
    pub id: i64,
    pub time_utc: String,
    pub resident_id: Option<i64>,
    pub source: String,
    pub kind: String,
    pub gross_g: i64,
    pub tare_g: i64,
    pub tare_source: String,
    pub net_g: i64,
    pub co2e_g: i64,
    pub credits_cents: i64,
    pub bin_id: Option<i64>,
}

/// Records a deposit (inside the caller's transaction): the row, the credits it earns (rate
/// and daily cap of `credits`, the local day running from `day_start_utc`), the derived
/// figures. A resident must exist and not be anonymised; the net must be positive.
pub fn record_deposit(
    conn: &Connection,
    d: &NewDeposit,
    credits: &CreditsConfig,
    now: DateTime<Utc>,
    local_day: NaiveDate,
    day_start_utc: &str,
) -> Result<Deposit> {
    let net = d.net_g();
    if net <= 0 || d.tare_g < 0 {
        return Err(CompostError::NotPositive);
    }
    let now_utc = super::utc_text(now);
    let mut building = String::new();
    if let Some(id) = d.resident_id {
        let r = resident(conn, id)?.ok_or(CompostError::UnknownResident(id))?;
        if r.anonymised_utc.is_some() {
            return Err(CompostError::Anonymised(id));
        }
        building = r.building.unwrap_or_default();
    }
    let earned = match d.resident_id {
        Some(id) => {
            let today: i64 = conn
                .prepare_cached(
                    "SELECT coalesce(sum(credits_cents), 0) FROM deposits
                     WHERE resident_id = ?1 AND time_utc >= ?2",
                )?
                .query_row(params![id, day_start_utc], |r| r.get(0))?;
            credits.earned_for_deposit(net, today)
        }
        None => 0,
    };
    let co2e = co2e_avoided_g(net, credits.co2e_g_per_kg);
    let bin = filling_bin(conn)?;
    let kiosk_id = super::meta::kiosk_id(conn)?;
    let source = if d.resident_id.is_some() {
        "resident"
    } else {
        "garden"
    };
    conn.prepare_cached(
        "INSERT INTO deposits (kiosk_id, time_utc, resident_id, source, kind, gross_g, tare_g,
             tare_source, net_g, co2e_g, credits_cents, bin_id, reference)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        kiosk_id,
        now_utc,
        d.resident_id,
        source,
        d.kind.code(),
        d.gross_g,
        d.tare_g,
        d.tare_source.code(),
        net,
        co2e,
        earned,
        bin,
        d.reference
    ])?;
    let id = conn.last_insert_rowid();
    super::ledger::chain_row(conn, &super::ledger::DEPOSITS, id)?;
    if let (Some(resident_id), true) = (d.resident_id, earned > 0) {
        append_credit(
            conn,
            resident_id,
            CreditMove::Earned(earned),
            Some(id),
            None,
            &now_utc,
        )?;
    }
    add_to_stats(
        conn,
        local_day,
        d.resident_id,
        &building,
        d.kind.code(),
        net,
        co2e,
    )?;
    Ok(Deposit {
        id,
        time_utc: now_utc,
        resident_id: d.resident_id,
        source: source.into(),
        kind: d.kind.code().into(),
        gross_g: d.gross_g,
        tare_g: d.tare_g,
        tare_source: d.tare_source.code().into(),
        net_g: net,
        co2e_g: co2e,
        credits_cents: earned,
        bin_id: bin,
    })
}

/// Whether the garden's loss `reference` was already counted as a deposit.
pub fn garden_deposit_recorded(conn: &Connection, reference: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM deposits WHERE reference = ?1",
        [reference],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )
}

fn add_to_stats(
    conn: &Connection,
    local_day: NaiveDate,
    resident: Option<i64>,
    building: &str,
    kind: &str,
    grams: i64,
    co2e: i64,
) -> rusqlite::Result<()> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO compost_stats (period, dim, key, grams, deposits, households, co2e_g)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)
         ON CONFLICT (period, dim, key) DO UPDATE SET grams = grams + excluded.grams,
             deposits = deposits + 1, households = households + excluded.households,
             co2e_g = co2e_g + excluded.co2e_g",
    )?;
    let mut active = conn.prepare_cached(
        "INSERT OR IGNORE INTO compost_active (period, dim, key, resident_id) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for period in period_keys(local_day) {
        for (dim, key) in [("all", ""), ("building", building), ("kind", kind)] {
            let new_household = match resident {
                Some(id) if dim != "kind" => active.execute(params![period, dim, key, id])? as i64,
                _ => 0,
            };
            upsert.execute(params![period, dim, key, grams, new_household, co2e])?;
        }
    }
    Ok(())
}

/// Makes the derived figures again from the deposits (local days in `tz`).
pub fn rebuild_stats(conn: &Connection, tz: chrono_tz::Tz) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM compost_stats", [])?;
    conn.execute("DELETE FROM compost_active", [])?;
    let mut stmt = conn.prepare(
        "SELECT d.time_utc, d.resident_id, coalesce(r.building, ''), d.kind, d.net_g, d.co2e_g
         FROM deposits d LEFT JOIN residents r ON r.id = d.resident_id ORDER BY d.id",
    )?;
    type Row = (String, Option<i64>, String, String, i64, i64);
    let rows: Vec<Row> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (time, resident, building, kind, grams, co2e) in rows {
        let day = DateTime::parse_from_rfc3339(&time)
            .map(|t| t.with_timezone(&tz).date_naive())
            .unwrap_or_default();
        add_to_stats(conn, day, resident, &building, &kind, grams, co2e)?;
    }
    Ok(())
}

/// What the thank-you screen shows about a resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResidentTotals {
    pub deposits: i64,
    pub total_g: i64,
    pub month_g: i64,
    pub co2e_g: i64,
    pub balance_cents: i64,
}

/// A resident's totals; `month_start_utc` starts the current local month.
pub fn resident_totals(
    conn: &Connection,
    resident_id: i64,
    month_start_utc: &str,
) -> rusqlite::Result<ResidentTotals> {
    let (deposits, total_g, month_g, co2e_g) = conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(net_g), 0),
                    coalesce(sum(CASE WHEN time_utc >= ?2 THEN net_g ELSE 0 END), 0),
                    coalesce(sum(co2e_g), 0)
             FROM deposits WHERE resident_id = ?1",
        )?
        .query_row(params![resident_id, month_start_utc], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    Ok(ResidentTotals {
        deposits,
        total_g,
        month_g,
        co2e_g,
        balance_cents: balance(conn, resident_id)?,
    })
}

/// The time of the resident's last deposit.
pub fn last_deposit_utc(conn: &Connection, resident_id: i64) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT max(time_utc) FROM deposits WHERE resident_id = ?1")?
        .query_row([resident_id], |r| r.get(0))
}

/// Deposits between two UTC times (`[from, to)`), oldest first.
pub fn deposits_between(
    conn: &Connection,
    from_utc: &str,
    to_utc: &str,
) -> rusqlite::Result<Vec<Deposit>> {
    let mut stmt = conn.prepare(
        "SELECT id, time_utc, resident_id, source, kind, gross_g, tare_g, tare_source, net_g,
                co2e_g, credits_cents, bin_id
         FROM deposits WHERE time_utc >= ?1 AND time_utc < ?2 ORDER BY time_utc, id",
    )?;
    let rows = stmt.query_map([from_utc, to_utc], deposit_from_row)?;
    rows.collect()
}

/// A resident's deposits, oldest first.
pub fn resident_deposits(conn: &Connection, resident_id: i64) -> rusqlite::Result<Vec<Deposit>> {
    let mut stmt = conn.prepare(
        "SELECT id, time_utc, resident_id, source, kind, gross_g, tare_g, tare_source, net_g,
                co2e_g, credits_cents, bin_id
         FROM deposits WHERE resident_id = ?1 ORDER BY time_utc, id",
    )?;
    let rows = stmt.query_map([resident_id], deposit_from_row)?;
    rows.collect()
}

fn deposit_from_row(r: &rusqlite::Row) -> rusqlite::Result<Deposit> {
    Ok(Deposit {
        id: r.get(0)?,
        time_utc: r.get(1)?,
        resident_id: r.get(2)?,
        source: r.get(3)?,
        kind: r.get(4)?,
        gross_g: r.get(5)?,
        tare_g: r.get(6)?,
        tare_source: r.get(7)?,
        net_g: r.get(8)?,
        co2e_g: r.get(9)?,
        credits_cents: r.get(10)?,
        bin_id: r.get(11)?,
    })
}

// ---------------------------------------------------------------------------------------------
// Impact

/// One derived figure: a period, a dimension and its key.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct StatRow {
    pub period: String,
    pub dim: String,
    pub key: String,
    pub grams: i64,
    pub deposits: i64,
    pub households: i64,
    pub co2e_g: i64,
}

/// The figures of periods of one kind (`w`, `m` or `y`) from `first` to `last` inclusive
/// (period keys, e.g. `m2021-06`..`m2026-05`), ordered by period, dimension, key.
pub fn stats(
    conn: &Connection,
    first: &str,
    last: &str,
    dim: Option<&str>,
) -> rusqlite::Result<Vec<StatRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT period, dim, key, grams, deposits, households, co2e_g FROM compost_stats
         WHERE period >= ?1 AND period <= ?2 AND (?3 IS NULL OR dim = ?3)
         ORDER BY period, dim, key",
    )?;
    let rows = stmt.query_map(params![first, last, dim], |r| {
        Ok(StatRow {
            period: r.get(0)?,
            dim: r.get(1)?,
            key: r.get(2)?,
            grams: r.get(3)?,
            deposits: r.get(4)?,
            households: r.get(5)?,
            co2e_g: r.get(6)?,
        })
    })?;
    rows.collect()
}

/// Households (residents) with at least one deposit in the periods `first..=last` (keys of one
/// kind, as for [`stats`]), each counted once however many periods they were active in: by
/// key of `dim` (`all`: one row keyed ""; `building`: per building, anonymised residents no
/// longer counted there).
pub fn active_households(
    conn: &Connection,
    first: &str,
    last: &str,
    dim: &str,
) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, count(DISTINCT resident_id) FROM compost_active
         WHERE period >= ?1 AND period <= ?2 AND dim = ?3
         GROUP BY key ORDER BY key",
    )?;
    let rows = stmt.query_map(params![first, last, dim], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Totals over every deposit: grams, deposits, distinct households, CO₂e, credits earned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct GrandTotals {
    pub grams: i64,
    pub deposits: i64,
    pub households: i64,
    pub co2e_g: i64,
    pub credits_earned_cents: i64,
    pub credits_balance_cents: i64,
}

pub fn grand_totals(conn: &Connection) -> rusqlite::Result<GrandTotals> {
    let (grams, deposits, co2e_g, credits_earned_cents) = conn.query_row(
        "SELECT coalesce(sum(net_g), 0), count(*), coalesce(sum(co2e_g), 0),
                coalesce(sum(credits_cents), 0) FROM deposits",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let households = conn.query_row(
        "SELECT count(*) FROM (SELECT DISTINCT resident_id FROM deposits WHERE resident_id IS NOT NULL)",
        [],
        |r| r.get(0),
    )?;
    let credits_balance_cents = conn.query_row(
        "SELECT coalesce(sum(cents), 0) FROM credit_ledger",
        [],
        |r| r.get(0),
    )?;
    Ok(GrandTotals {
        grams,
        deposits,
        households,
        co2e_g,
        credits_earned_cents,
        credits_balance_cents,
    })
}

/// Merges the building rows of each period with fewer than 3 households into one row keyed
/// `other` (so no small group can be singled out). Other rows pass unchanged.
pub fn merge_small_buildings(rows: Vec<StatRow>) -> Vec<StatRow> {
    let mut out: Vec<StatRow> = Vec::with_capacity(rows.len());
    let mut other: Option<StatRow> = None;
    let flush = |out: &mut Vec<StatRow>, other: &mut Option<StatRow>| {
        if let Some(o) = other.take() {
            out.push(o);
        }
    };
    for r in rows {
        if other.as_ref().is_some_and(|o| o.period != r.period) {
            flush(&mut out, &mut other);
        }
        if r.dim == "building" && (r.households < 3 || r.key.is_empty()) {
            let o = other.get_or_insert_with(|| StatRow {
                period: r.period.clone(),
                dim: "building".into(),
                key: "other".into(),
                grams: 0,
                deposits: 0,
                households: 0,
                co2e_g: 0,
            });
            o.grams += r.grams;
            o.deposits += r.deposits;
            o.households += r.households;
            o.co2e_g += r.co2e_g;
        } else {
            if r.dim == "kind" {
                flush(&mut out, &mut other);
            }
            out.push(r);
        }
    }
    flush(&mut out, &mut other);
    out
}

/// A value for JSON exports.
pub fn json_value<T: serde::Serialize>(rows: &T) -> Value {
    serde_json::to_value(rows).unwrap_or(Value::Null)
}

// ---------------------------------------------------------------------------------------------
// Demo

/// The demo composter (`comptoir demo seed`): three bins with their log (turned weekly,
/// temperatures every few days), and the residents' deposits over the period, one or two a
/// week each, through [`record_deposit`] (credits and figures included). Its own random
/// generator leaves the other seeded rows unchanged.
pub fn seed_demo(
    conn: &mut Connection,
    until: NaiveDate,
    days: u32,
    seed: u64,
    tz: chrono_tz::Tz,
) -> Result<()> {
    use chrono::TimeZone;
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x00c0_4d05));
    let start = until - chrono::Duration::days(i64::from(days));
    let at = |day: NaiveDate, minutes: i64| -> DateTime<Utc> {
        let naive =
            day.and_hms_opt(0, 0, 0).unwrap_or_default() + chrono::Duration::minutes(minutes);
        tz.from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| naive.and_utc())
    };
    let credits = CreditsConfig::default();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let first = super::utc_text(at(start, 8 * 60));
    let lead: Option<i64> = tx
        .query_row(
            "SELECT id FROM staff WHERE role = 'garden_lead' ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    add_bin(&tx, "M.O.T.E 1", BinStatus::Maturing, &first)?;
    let filling = add_bin(&tx, "M.O.T.E 2", BinStatus::Filling, &first)?;
    let ready = add_bin(&tx, "Bac de maturation", BinStatus::Ready, &first)?;
    let residents: Vec<(i64, String)> = {
        let mut stmt = tx.prepare("SELECT id, created_utc FROM residents ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    // Two residents out of three have a registered bucket.
    for (id, created) in &residents {
        if id % 3 != 0 {
            set_bucket_tare(
                &tx,
                *id,
                Some([300, 450, 500][(*id as usize) % 3]),
                None,
                created,
            )?;
        }
    }
    for offset in 0..=i64::from(days) {
        let day = start + chrono::Duration::days(offset);
        let day_start = super::utc_text(at(day, 0));
        let mut visits: Vec<(i64, i64)> = Vec::new();
        for (id, created) in &residents {
            if created.as_str() < day_start.as_str() && rng.gen_ratio(2, 9) {
                visits.push((rng.gen_range(8 * 60..19 * 60), *id));
            }
        }
        visits.sort_unstable();
        for (minute, id) in visits {
            let now = at(day, minute);
            let kind = match rng.gen_range(0..10) {
                0..=5 => WasteKind::Kitchen,
                6 | 7 => WasteKind::Coffee,
                8 => WasteKind::Brown,
                _ => WasteKind::Other,
            };
            let bucket = resident(&tx, id)?.and_then(|r| r.bucket_tare_g);
            let tare = bucket.unwrap_or_else(|| rng.gen_range(250..700));
            let net = rng.gen_range(300..3500);
            let d = NewDeposit {
                resident_id: Some(id),
                kind,
                gross_g: net + tare,
                tare_g: tare,
                tare_source: if bucket.is_some() {
                    TareSource::Bucket
                } else {
                    TareSource::Weighed
                },
                reference: None,
            };
            record_deposit(&tx, &d, &credits, now, day, &day_start)?;
        }
        let evening = super::utc_text(at(day, 19 * 60 + 30));
        if offset % 3 == 0 {
            let t = rng.gen_range(350..620);
            log_bin(&tx, filling, BinEvent::Temperature(t), lead, &evening)?;
        }
        if offset % 7 == 6 {
            log_bin(&tx, filling, BinEvent::Turned, lead, &evening)?;
            log_bin(
                &tx,
                filling,
                BinEvent::BrownAdded(rng.gen_range(2000..6000)),
                lead,
                &evening,
            )?;
        }
    }
    let last = super::utc_text(at(until, 19 * 60 + 45));
    log_bin(&tx, ready, BinEvent::Temperature(220), lead, &last)?;
    tx.commit()?;
    Ok(())
}
