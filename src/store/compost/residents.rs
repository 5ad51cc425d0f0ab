//! Residents: reading, cards, events, updates, anonymisation and retention.

use super::*;

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

pub(super) const RESIDENT_COLUMNS: &str =
    "id, nickname, building, household_size, language, consent_date, \
     created_utc, anonymised_utc, bucket_tare_g";

pub(super) fn resident_from_row(r: &rusqlite::Row) -> rusqlite::Result<Resident> {
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
        .query_row([crate::store::people::token_hash(token)], |r| {
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
    crate::store::atomically(conn, || {
        conn.prepare_cached(
            "INSERT INTO resident_events (time_utc, resident_id, actor_id, kind) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![now_utc, resident_id, actor, kind.code()])?;
        crate::store::ledger::chain_row(
            conn,
            &crate::store::ledger::RESIDENT_EVENTS,
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
