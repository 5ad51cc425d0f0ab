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

mod bins;
mod credits;
mod deposits;
mod impact;
mod residents;

pub use bins::*;
pub use credits::*;
pub use deposits::*;
pub use impact::*;
pub use residents::*;

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
