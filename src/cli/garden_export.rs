//! `comptoir export harvests|stock`: the garden's figures for the books and the funders, in
//! the format of `export sales` (ARCHITECTURE.md, "Command line"): CSV (RFC 4180, header row)
//! or a JSON array of objects with the same keys; dates `YYYY-MM-DD` local, both ends
//! inclusive; times RFC 3339 UTC; integer columns in grams end in `_g`, in cents in `_cents`.
//! Quantities in the product's stock unit (`unit`: `g` or `piece`) are in columns without a
//! suffix.

use std::collections::HashMap;
use std::process::ExitCode;

use chrono::{DateTime, NaiveDate};

use crate::cli::{Cli, ExportArgs, ExportFormat, EXIT_DATABASE, EXIT_FAILED, EXIT_USAGE};
use crate::domain::stock::{is_low, to_grams};
use crate::store::catalog::{self, Product};
use crate::store::garden as gstore;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GardenExport {
    Harvests,
    Stock,
}

/// One row of `export harvests`: one harvest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HarvestExportRow {
    pub date: String,
    pub time_utc: String,
    pub harvest_id: i64,
    pub lot: String,
    pub product_id: i64,
    pub product: String,
    pub plot: Option<String>,
    pub harvester_id: Option<i64>,
    pub harvester: Option<String>,
    /// `g` or `piece`: the unit of `quantity` and of the four destinations.
    pub unit: String,
    pub quantity: i64,
    /// The harvest in grams (pieces × average weight; empty without one).
    pub weight_g: Option<i64>,
    pub tare_g: i64,
    pub for_sale: i64,
    pub donation: i64,
    pub own_use: i64,
    pub compost: i64,
}

pub const HARVEST_COLUMNS: &[&str] = &[
    "date",
    "time_utc",
    "harvest_id",
    "lot",
    "product_id",
    "product",
    "plot",
    "harvester_id",
    "harvester",
    "unit",
    "quantity",
    "weight_g",
    "tare_g",
    "for_sale",
    "donation",
    "own_use",
    "compost",
];

/// One row of `export stock`: a product's position at the end of `--to` (today by default),
/// and its moves from `--from` to `--to`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StockExportRow {
    /// The last day the position covers.
    pub as_of: String,
    pub product_id: i64,
    pub product: String,
    pub category: String,
    pub unit: String,
    pub on_hand: i64,
    /// On-hand in grams (pieces × average weight; empty without one).
    pub on_hand_g: Option<i64>,
    pub threshold: Option<i64>,
    pub low: bool,
    pub negative: bool,
    /// Today's price per kg (unit `g`) or per piece.
    pub price_cents: i64,
    /// On-hand at today's price (0 when not positive).
    pub value_cents: i64,
    /// Moves within the dates, in the unit: what came in from harvests, what was sold (net of
    /// refunds), lost, given away; the differences found by counts; corrections.
    pub harvested: i64,
    pub sold: i64,
    pub lost: i64,
    pub donated: i64,
    pub count_difference: i64,
    pub corrected: i64,
}

pub const STOCK_COLUMNS: &[&str] = &[
    "as_of",
    "product_id",
    "product",
    "category",
    "unit",
    "on_hand",
    "on_hand_g",
    "threshold",
    "low",
    "negative",
    "price_cents",
    "value_cents",
    "harvested",
    "sold",
    "lost",
    "donated",
    "count_difference",
    "corrected",
];

fn local_date(time_utc: &str, tz: chrono_tz::Tz) -> String {
    DateTime::parse_from_rfc3339(time_utc)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The harvests whose local date is within `from..=to` (either end open), in order.
pub fn harvest_rows(
    conn: &rusqlite::Connection,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    tz: chrono_tz::Tz,
) -> rusqlite::Result<Vec<HarvestExportRow>> {
    let start = from.map(|d| crate::store::local_midnight_utc(d, tz));
    let end = to
        .and_then(|d| d.succ_opt())
        .map(|d| crate::store::local_midnight_utc(d, tz));
    Ok(
        gstore::harvest_rows(conn, start.as_deref(), end.as_deref())?
            .into_iter()
            .map(|h| HarvestExportRow {
                date: local_date(&h.time_utc, tz),
                weight_g: if h.unit == "g" {
                    Some(h.qty)
                } else {
                    h.avg_weight_g.map(|a| a * h.qty)
                },
                time_utc: h.time_utc,
                harvest_id: h.id,
                lot: h.lot,
                product_id: h.product_id,
                product: h.product,
                plot: h.plot,
                harvester_id: h.harvester_id,
                harvester: h.harvester,
                unit: h.unit,
                quantity: h.qty,
                tare_g: h.tare_g,
                for_sale: h.split.for_sale,
                donation: h.split.donation,
                own_use: h.split.own_use,
                compost: h.split.compost,
            })
            .collect(),
    )
}

/// Every product's stock position at the end of local day `to`, with its moves from `from`
/// (the beginning when `None`) to `to`.
pub fn stock_rows(
    conn: &rusqlite::Connection,
    from: Option<NaiveDate>,
    to: NaiveDate,
    tz: chrono_tz::Tz,
) -> rusqlite::Result<Vec<StockExportRow>> {
    let end = crate::store::local_midnight_utc(to.succ_opt().unwrap_or(to), tz);
    let start = from.map_or_else(String::new, |d| crate::store::local_midnight_utc(d, tz));
    let on_hand = gstore::all_on_hand_before(conn, &end)?;
    let thresholds = gstore::thresholds(conn)?;
    let sums = gstore::move_sums(conn, &start, &end)?;
    let mut adjust: HashMap<(i64, String), i64> = HashMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT product_id, kind, sum(delta) FROM stock_moves
             WHERE kind IN ('count', 'correction') AND time_utc >= ?1 AND time_utc < ?2
             GROUP BY product_id, kind",
        )?;
        let rows = stmt.query_map([&start, &end], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
        for row in rows {
            let (k, v) = row?;
            adjust.insert(k, v);
        }
    }
    let products: Vec<Product> = catalog::active_products(conn)?;
    Ok(products
        .into_iter()
        .map(|p| {
            let unit = gstore::unit_of(p.pricing);
            let oh = on_hand.get(&p.id).copied().unwrap_or(0);
            let threshold = thresholds.get(&p.id).copied();
            let s = sums.get(&p.id).copied().unwrap_or_default();
            StockExportRow {
                as_of: to.to_string(),
                product_id: p.id,
                product: p.name.clone(),
                category: p.category.clone(),
                unit: unit.code().into(),
                on_hand: oh,
                on_hand_g: to_grams(oh, unit, p.avg_weight_g),
                threshold,
                low: is_low(oh, threshold),
                negative: oh < 0,
                price_cents: p.price_cents,
                value_cents: crate::app::garden::value_of(&p, oh),
                harvested: s.harvest_in,
                sold: s.sold(),
                lost: s.loss,
                donated: s.donation,
                count_difference: adjust.get(&(p.id, "count".into())).copied().unwrap_or(0),
                corrected: adjust
                    .get(&(p.id, "correction".into()))
                    .copied()
                    .unwrap_or(0),
            }
        })
        .collect())
}

/// `comptoir export harvests|stock`: read-only, like `export sales`.
pub fn run(cli: &Cli, a: &ExportArgs, what: GardenExport) -> ExitCode {
    if let (Some(from), Some(to)) = (a.from, a.to) {
        if from > to {
            eprintln!("comptoir: --from {from} is after --to {to}");
            return ExitCode::from(EXIT_USAGE);
        }
    }
    let (db, store) = match crate::cli::open_read_only(cli, "export") {
        Ok(x) => x,
        Err(code) => return code,
    };
    let config = match crate::cli::config_or_default(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let tz = config.tz();
    let written = match what {
        GardenExport::Harvests => match harvest_rows(store.conn(), a.from, a.to, tz) {
            Ok(rows) => write(a.format, HARVEST_COLUMNS, &rows),
            Err(e) => {
                eprintln!("comptoir: {}: {e}", db.display());
                return ExitCode::from(EXIT_DATABASE);
            }
        },
        GardenExport::Stock => {
            let to =
                a.to.unwrap_or_else(|| chrono::Utc::now().with_timezone(&tz).date_naive());
            match stock_rows(store.conn(), a.from, to, tz) {
                Ok(rows) => write(a.format, STOCK_COLUMNS, &rows),
                Err(e) => {
                    eprintln!("comptoir: {}: {e}", db.display());
                    return ExitCode::from(EXIT_DATABASE);
                }
            }
        }
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("comptoir: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn write<T: serde::Serialize>(
    format: ExportFormat,
    header: &[&str],
    rows: &[T],
) -> Result<(), String> {
    match format {
        ExportFormat::Json => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            serde_json::to_writer(&mut out, rows)
                .map_err(|e| e.to_string())
                .and_then(|()| writeln!(out).map_err(|e| e.to_string()))
        }
        ExportFormat::Csv => crate::export::write_csv(header, rows),
    }
}
