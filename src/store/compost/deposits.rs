//! Deposits and the derived weekly, monthly and yearly figures.

use super::*;

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
    let now_utc = crate::store::utc_text(now);
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
    let kiosk_id = crate::store::meta::kiosk_id(conn)?;
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
    crate::store::ledger::chain_row(conn, &crate::store::ledger::DEPOSITS, id)?;
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

pub(super) fn add_to_stats(
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

pub(super) fn deposit_from_row(r: &rusqlite::Row) -> rusqlite::Result<Deposit> {
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
