//! The impact figures read from the derived tables.

use super::*;

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
