//! The garden: harvests, the stock ledger with its lots, low-stock thresholds, and the queries
//! of the garden lead's screens, reports and exports.
//!
//! # Tables (migration 8)
//!
//! - `harvests`: one row per harvest: product, plot, harvester, quantity in the product's stock
//!   unit (grams for products sold by weight, pieces for the others), the crate tare taken off,
//!   where it goes (for sale, donation, the team's own use, compost: the parts add up to the
//!   quantity) and its lot number `YYMMDD-CODE-NN` (unique).
//! - `stock_moves`: the ledger of every product's stock, in `id` order: `harvest_in` (the part
//!   for sale of a harvest, into its lot), `sale_out` and `refund_in` (made by
//!   [`record_sale_moves`] inside the sale's own transaction), `loss` (with its reason),
//!   `donation`, `count` (the counted quantity becomes on-hand, `delta` records the difference)
//!   and `correction` (signed). Each row keeps the change of on-hand (`delta`) and on-hand after
//!   it (`on_hand`), so on-hand at any moment is the last row's, which is the last count plus
//!   the moves since.
//! - `stock_lots`: every lot (harvest, return, adjustment), and `lot_flows`: what each move did
//!   to each lot (positive in, negative out; `lot_id` NULL is the quantity owed when goods went
//!   out of an empty stock). `stock_lots.remaining` is the sum of the lot's flows, kept on the
//!   row so the oldest open lots are found at once; [`check_stock`] replays every ledger
//!   through [`crate::domain::stock::Ledger`] and checks that flows, remainders and on-hand
//!   say what the domain says.
//! - `stock_thresholds`: the low-stock threshold of a product, a ledger (the last row wins).
//! - `stock_corrections` (migration 10): why a correction was made (entry error, weighing,
//!   goods found, other), one row beside each correction move made by [`record_correction`].
//!
//! Everything but `stock_lots.remaining` is append-only (triggers refuse UPDATE and DELETE).
//!
//! # What moves do to lots
//!
//! The rules are the domain's ([`crate::domain::stock`]): every outgoing move (sale, loss,
//! donation, count below on-hand, negative correction) takes from the oldest lots first; a
//! count above on-hand first pays back what is owed, then makes an anonymous adjustment lot; a
//! refund goes back into the very lots its sale line took from (what the sale took from no lot
//! comes back as an anonymous return lot); a refund of a sale that moved no stock (a training
//! sale, or one recorded before stock was kept) moves nothing. A harvest's donation, own-use
//! and compost parts never enter the stall's stock: they are recorded on the harvest.
//!
//! What the compost side counts as the garden's own deposits: the harvests' compost parts and
//! the losses of reason `to_compost` ([`garden_compost_g`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::catalog::{Pricing, Product};
use super::sale_rows::{SaleKind, StoredLineKind, StoredSale};
use crate::domain::stock::{
    CorrectionReason, HarvestSplit, Ledger, LossReason, LotNumber, LotOrigin, StockError,
    StockMove, StockUnit,
};

/// Why a garden write was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum GardenError {
    #[error("stock: {}", .0.code())]
    Stock(StockError),
    #[error("unknown or retired product")]
    UnknownProduct,
    #[error("unknown or retired plot")]
    UnknownPlot,
    #[error("unknown harvester")]
    UnknownHarvester,
    #[error("no lot {0} for this product")]
    UnknownLot(String),
    #[error("the stock tables disagree with the ledger: {0}")]
    Disagree(String),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

impl From<StockError> for GardenError {
    fn from(e: StockError) -> Self {
        GardenError::Stock(e)
    }
}

impl GardenError {
    /// A stable token for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            GardenError::Stock(e) => e.code(),
            GardenError::UnknownProduct => "unknown_product",
            GardenError::UnknownPlot => "unknown_plot",
            GardenError::UnknownHarvester => "unknown_harvester",
            GardenError::UnknownLot(_) => "unknown_lot",
            GardenError::Disagree(_) => "disagree",
            GardenError::Sqlite(_) => "store",
        }
    }
}

/// The stock unit of a product: grams for products sold by weight, pieces for the others.
pub fn unit_of(pricing: Pricing) -> StockUnit {
    match pricing {
        Pricing::PerKg => StockUnit::Grams,
        Pricing::PerPiece | Pricing::PerBunch => StockUnit::Pieces,
    }
}

/// The short code as it appears in lot numbers: capital ASCII letters and digits only, at
/// most 8 (a product without one is `P` and its id).
pub fn lot_code(product: &Product) -> String {
    let code: String = product
        .short_code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .take(LotNumber::MAX_CODE_LEN)
        .collect();
    if code.is_empty() {
        format!("P{}", product.id % 10_000_000)
    } else {
        code
    }
}

// ---------------------------------------------------------------------------------------------
// Moves and lots

/// Which lot a move names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LotRef {
    /// A lot by its number (the oldest of this product holding it).
    Number(LotNumber),
    /// A lot by its row (refunds go back into the very lots their sale took from).
    Id(i64),
}

/// Where a move comes from, kept on its row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoveSource {
    pub by_staff: Option<i64>,
    pub harvest_id: Option<i64>,
    /// The sale or refund line: (kiosk id, seq, line).
    pub sale: Option<(String, i64, i64)>,
}

/// What recording a move did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveRecord {
    pub move_id: i64,
    pub delta: i64,
    pub on_hand: i64,
    /// What it took from which lot: (lot number, quantity); `None`: from no lot (stock ran out).
    pub draws: Vec<(Option<String>, i64)>,
}

#[derive(Debug, Clone)]
struct OpenLot {
    id: i64,
    number: Option<LotNumber>,
    remaining: i64,
}

/// A lot number no real lot has (year 2000, code `0`), standing for the `i`th lot of the
/// working ledger.
fn stand_in(i: usize) -> LotNumber {
    let i = i as u32;
    LotNumber::new(
        2000,
        1 + (i / 999 / 28) as u8 % 12,
        1 + (i / 999 % 28) as u8,
        "0",
        1 + i % 999,
    )
    .expect("a valid stand-in")
}

/// On-hand of a product now: its last move's `on_hand` (0 before any move).
pub fn on_hand(conn: &Connection, product_id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT on_hand FROM stock_moves WHERE product_id = ?1 ORDER BY id DESC LIMIT 1",
    )?
    .query_row([product_id], |r| r.get(0))
    .optional()
    .map(|v| v.unwrap_or(0))
}

/// Records one move of a product's stock, inside the caller's transaction: the move, its lot
/// flows, new lots. The domain decides what it does to the lots (module documentation).
pub fn record_move(
    conn: &Connection,
    product_id: i64,
    mv: &StockMove,
    target: Option<LotRef>,
    source: &MoveSource,
    now: DateTime<Utc>,
) -> Result<MoveRecord, GardenError> {
    mv.validate()?;
    // The lots the move may touch: the open ones, and the one it names.
    let mut lots: Vec<OpenLot> = conn
        .prepare_cached(
            "SELECT id, number, remaining FROM stock_lots
             WHERE product_id = ?1 AND remaining > 0 ORDER BY id",
        )?
        .query_map([product_id], |r| {
            let number: Option<String> = r.get(1)?;
            Ok(OpenLot {
                id: r.get(0)?,
                number: number.and_then(|n| LotNumber::parse(&n).ok()),
                remaining: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let named: Option<i64> = match &target {
        None => None,
        Some(LotRef::Id(id)) => Some(*id),
        Some(LotRef::Number(n)) => conn
            .prepare_cached(
                "SELECT id FROM stock_lots WHERE product_id = ?1 AND number = ?2 ORDER BY id LIMIT 1",
            )?
            .query_row(params![product_id, n.to_string()], |r| r.get(0))
            .optional()?,
    };
    if let Some(id) = named {
        if !lots.iter().any(|l| l.id == id) {
            let lot = conn
                .prepare_cached(
                    "SELECT id, number, remaining FROM stock_lots WHERE id = ?1 AND product_id = ?2",
                )?
                .query_row(params![id, product_id], |r| {
                    let number: Option<String> = r.get(1)?;
                    Ok(OpenLot {
                        id: r.get(0)?,
                        number: number.and_then(|n| LotNumber::parse(&n).ok()),
                        remaining: r.get(2)?,
                    })
                })
                .optional()?
                .ok_or_else(|| GardenError::UnknownLot(id.to_string()))?;
            let at = lots.partition_point(|l| l.id < id);
            lots.insert(at, lot);
        }
    }
    let before_on_hand = on_hand(conn, product_id)?;
    let lot_sum: i64 = lots.iter().map(|l| l.remaining).sum();
    let owed = lot_sum - before_on_hand;

    // The working ledger: the same lots under stand-in numbers, and what is owed.
    let mut ledger = Ledger::new();
    for (i, l) in lots.iter().enumerate() {
        ledger.apply(&StockMove::HarvestIn {
            qty: l.remaining.max(1),
            lot: stand_in(i),
        })?;
        if l.remaining == 0 {
            ledger.apply(&StockMove::Correction {
                delta: -1,
                lot: Some(stand_in(i)),
            })?;
        }
    }
    if owed > 0 {
        ledger.apply(&StockMove::SaleOut { qty: owed })?;
    } else if owed < 0 {
        return Err(GardenError::Disagree(format!(
            "product {product_id}: lots hold more than on-hand"
        )));
    }
    debug_assert_eq!(ledger.on_hand(), before_on_hand);
    let named_stand_in = named
        .and_then(|id| lots.iter().position(|l| l.id == id))
        .map(stand_in);
    let aim = |real: &Option<LotNumber>| -> Option<LotNumber> {
        named_stand_in.clone().or_else(|| match &target {
            Some(LotRef::Number(n)) => Some(n.clone()),
            _ => real.clone(),
        })
    };
    let working = match mv {
        StockMove::RefundIn { qty, lot } => StockMove::RefundIn {
            qty: *qty,
            lot: aim(lot),
        },
        StockMove::Correction { delta, lot } => StockMove::Correction {
            delta: *delta,
            lot: aim(lot),
        },
        other => other.clone(),
    };
    let owed_before = ledger.owed();
    let before: Vec<i64> = ledger.lots().iter().map(|l| l.remaining).collect();
    let applied = ledger.apply(&working)?;
    let after_on_hand = before_on_hand + applied.delta;

    let (qty, lot_text, reason) = match mv {
        StockMove::HarvestIn { qty, lot } => (*qty, Some(lot.to_string()), None),
        StockMove::SaleOut { qty } | StockMove::Donation { qty } => (*qty, None, None),
        StockMove::RefundIn { qty, lot } => (*qty, lot.as_ref().map(|l| l.to_string()), None),
        StockMove::Loss { qty, reason } => (*qty, None, Some(reason.code())),
        StockMove::Count { counted, lot } => (*counted, lot.as_ref().map(|l| l.to_string()), None),
        StockMove::Correction { delta, lot } => (*delta, lot.as_ref().map(|l| l.to_string()), None),
    };
    // The move names the lot it aimed at (a refund: the lot its sale took from).
    let lot_text = lot_text.or_else(|| match &target {
        Some(LotRef::Number(n)) => Some(n.to_string()),
        Some(LotRef::Id(id)) => lots
            .iter()
            .find(|l| l.id == *id)
            .and_then(|l| l.number.as_ref().map(|n| n.to_string())),
        None => None,
    });
    let (sale_kiosk, sale_seq, sale_line) = match &source.sale {
        Some((k, s, l)) => (Some(k.as_str()), Some(*s), Some(*l)),
        None => (None, None, None),
    };
    conn.prepare_cached(
        "INSERT INTO stock_moves (time_utc, product_id, kind, qty, delta, on_hand, lot, reason,
             by_staff, harvest_id, sale_kiosk_id, sale_seq, sale_line)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        super::utc_text(now),
        product_id,
        mv.code(),
        qty,
        applied.delta,
        after_on_hand,
        lot_text,
        reason,
        source.by_staff,
        source.harvest_id,
        sale_kiosk,
        sale_seq,
        sale_line,
    ])?;
    let move_id = conn.last_insert_rowid();

    let mut flow = conn.prepare_cached(
        "INSERT INTO lot_flows (move_id, product_id, lot_id, qty) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut draws = Vec::new();
    for (i, lot) in ledger.lots().iter().enumerate() {
        let change = lot.remaining - before.get(i).copied().unwrap_or(0);
        let id = if i < lots.len() {
            if change != 0 {
                conn.prepare_cached(
                    "UPDATE stock_lots SET remaining = remaining + ?1 WHERE id = ?2",
                )?
                .execute(params![change, lots[i].id])?;
            }
            lots[i].id
        } else {
            // A lot the move made: its real number (a harvest's, a refund's or a correction's).
            let number = match (mv, &lot.number) {
                (_, None) => None,
                (StockMove::HarvestIn { lot, .. }, Some(_)) => Some(lot.to_string()),
                (_, Some(n)) if n.code() == "0" => None,
                (_, Some(n)) => Some(n.to_string()),
            };
            conn.prepare_cached(
                "INSERT INTO stock_lots (product_id, number, origin, move_id, remaining)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                product_id,
                number,
                lot.origin.code(),
                move_id,
                lot.remaining
            ])?;
            conn.last_insert_rowid()
        };
        if change != 0 {
            flow.execute(params![move_id, product_id, id, change])?;
            if change < 0 {
                let number = if i < lots.len() {
                    lots[i].number.as_ref().map(|n| n.to_string())
                } else {
                    None
                };
                draws.push((number, -change));
            }
        }
    }
    let owed_change = ledger.owed() - owed_before;
    if owed_change != 0 {
        flow.execute(params![
            move_id,
            product_id,
            Option::<i64>::None,
            -owed_change
        ])?;
        if owed_change > 0 {
            draws.push((None, owed_change));
        }
    }
    super::ledger::chain_row(conn, &super::ledger::STOCK_MOVES, move_id)?;
    Ok(MoveRecord {
        move_id,
        delta: applied.delta,
        on_hand: after_on_hand,
        draws,
    })
}

/// Records a signed correction of a product's stock with its reason, inside the caller's
/// transaction: the move (no lot named: a positive one makes an adjustment lot after paying
/// back what is owed, a negative one takes from the oldest lots) and its reason beside it.
pub fn record_correction(
    conn: &Connection,
    product_id: i64,
    delta: i64,
    reason: CorrectionReason,
    source: &MoveSource,
    now: DateTime<Utc>,
) -> Result<MoveRecord, GardenError> {
    let r = record_move(
        conn,
        product_id,
        &StockMove::Correction { delta, lot: None },
        None,
        source,
        now,
    )?;
    conn.prepare_cached("INSERT INTO stock_corrections (move_id, reason) VALUES (?1, ?2)")?
        .execute(params![r.move_id, reason.code()])?;
    super::ledger::chain_row(conn, &super::ledger::STOCK_CORRECTIONS, r.move_id)?;
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// Sales

fn product_units(conn: &Connection) -> rusqlite::Result<HashMap<i64, StockUnit>> {
    let mut stmt = conn.prepare_cached("SELECT id, pricing FROM products")?;
    let rows = stmt.query_map([], |r| {
        let pricing: String = r.get(1)?;
        Ok((r.get::<_, i64>(0)?, pricing))
    })?;
    let mut map = HashMap::new();
    for row in rows {
        let (id, pricing) = row?;
        if let Some(p) = Pricing::parse(&pricing) {
            map.insert(id, unit_of(p));
        }
    }
    Ok(map)
}

/// The stock quantity of a sale line: grams of a weighed line, pieces of a piece line (of a
/// product counted in that unit); `None` for "divers" lines.
fn line_qty(
    kind: StoredLineKind,
    unit: StockUnit,
    grams: Option<i64>,
    qty: Option<i64>,
) -> Option<i64> {
    match (kind, unit) {
        (StoredLineKind::Weighed, StockUnit::Grams) => grams,
        (StoredLineKind::Piece, StockUnit::Pieces) => qty,
        _ => None,
    }
}

/// The stock moves of a recorded sale or refund, in the same transaction (called by
/// `store::sales` right after the sale's rows): a sale takes each line's goods out, oldest lot
/// first; a refund puts them back into the lots its sale line took them from. Training tickets
/// and "divers" lines move nothing.
pub fn record_sale_moves(conn: &Connection, s: &StoredSale) -> Result<(), GardenError> {
    if s.training {
        return Ok(());
    }
    let now = DateTime::parse_from_rfc3339(&s.time_utc)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    let units = product_units(conn)?;
    for line in &s.lines {
        let Some(product_id) = line.product_id else {
            continue;
        };
        let Some(&unit) = units.get(&product_id) else {
            continue;
        };
        let Some(qty) = line_qty(line.kind, unit, line.grams, line.qty).map(i64::abs) else {
            continue;
        };
        if qty == 0 {
            continue;
        }
        let source = MoveSource {
            by_staff: Some(s.cashier_id),
            harvest_id: None,
            sale: Some((s.kiosk_id.clone(), s.seq, i64::from(line.line_no))),
        };
        match s.kind {
            SaleKind::Sale => {
                record_move(
                    conn,
                    product_id,
                    &StockMove::SaleOut { qty },
                    None,
                    &source,
                    now,
                )?;
            }
            SaleKind::Refund => {
                let Some(original) = s.refund_of else {
                    continue;
                };
                // What the sale line took, lot by lot (NULL: from no lot).
                let taken: Vec<(Option<i64>, i64)> = conn
                    .prepare_cached(
                        "SELECT f.lot_id, -f.qty FROM stock_moves m
                         JOIN lot_flows f ON f.move_id = m.id
                         WHERE m.sale_kiosk_id = ?1 AND m.sale_seq = ?2 AND m.sale_line = ?3
                           AND m.kind = 'sale_out' AND f.qty < 0
                         ORDER BY f.rowid",
                    )?
                    .query_map(
                        params![s.kiosk_id, original, i64::from(line.line_no)],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )?
                    .collect::<Result<_, _>>()?;
                let mut left = qty.min(taken.iter().map(|t| t.1).sum());
                for (lot, took) in taken {
                    let back = left.min(took);
                    if back <= 0 {
                        break;
                    }
                    left -= back;
                    record_move(
                        conn,
                        product_id,
                        &StockMove::RefundIn {
                            qty: back,
                            lot: None,
                        },
                        lot.map(LotRef::Id),
                        &source,
                        now,
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// The lots a sale line's goods came from: (lot number or `None`, quantity).
pub fn sale_line_lots(
    conn: &Connection,
    seq: i64,
    line: i64,
) -> rusqlite::Result<Vec<(Option<String>, i64)>> {
    let kiosk = super::meta::kiosk_id(conn)?;
    conn.prepare_cached(
        "SELECT l.number, -f.qty FROM stock_moves m
         JOIN lot_flows f ON f.move_id = m.id
         LEFT JOIN stock_lots l ON l.id = f.lot_id
         WHERE m.sale_kiosk_id = ?1 AND m.sale_seq = ?2 AND m.sale_line = ?3 AND f.qty < 0
         ORDER BY f.rowid",
    )?
    .query_map(params![kiosk, seq, line], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

// ---------------------------------------------------------------------------------------------
// Harvests

/// A harvest to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHarvest {
    pub product_id: i64,
    pub plot_id: Option<i64>,
    pub harvester_id: Option<i64>,
    pub recorded_by: i64,
    /// In the product's stock unit, net of the tare.
    pub qty: i64,
    pub tare_g: i64,
    pub split: HarvestSplit,
}

/// A recorded harvest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestRecord {
    pub id: i64,
    pub lot: LotNumber,
}

/// Records a harvest, inside the caller's transaction: its row with a new lot number (local
/// date `date`), and the part for sale into stock as that lot.
pub fn record_harvest(
    conn: &Connection,
    h: &NewHarvest,
    date: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> Result<HarvestRecord, GardenError> {
    use chrono::Datelike;
    if h.qty <= 0 {
        return Err(StockError::NonPositiveQuantity.into());
    }
    h.split.validate(h.qty)?;
    if h.tare_g < 0 {
        return Err(StockError::NonPositiveQuantity.into());
    }
    let product = super::catalog::product(conn, h.product_id)?
        .filter(|p| p.active)
        .ok_or(GardenError::UnknownProduct)?;
    if let Some(plot) = h.plot_id {
        let ok: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM plots WHERE id = ?1 AND active = 1)",
            [plot],
            |r| r.get(0),
        )?;
        if !ok {
            return Err(GardenError::UnknownPlot);
        }
    }
    if let Some(who) = h.harvester_id {
        let ok: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM staff WHERE id = ?1 AND active = 1)",
            [who],
            |r| r.get(0),
        )?;
        if !ok {
            return Err(GardenError::UnknownHarvester);
        }
    }
    let code = lot_code(&product);
    let (y, m, d) = (date.year() as u16, date.month() as u8, date.day() as u8);
    let prefix = format!("{:02}{:02}{:02}-{}-", y % 100, m, d, code);
    let existing: Vec<LotNumber> = conn
        .prepare_cached("SELECT lot FROM harvests WHERE lot >= ?1 AND lot < ?2")?
        .query_map(params![prefix, format!("{prefix}~")], |r| {
            r.get::<_, String>(0)
        })?
        .filter_map(|t| t.ok().and_then(|t| LotNumber::parse(&t).ok()))
        .collect();
    let counter = LotNumber::next_counter(&existing, y, m, d, &code);
    let lot = LotNumber::new(y, m, d, &code, counter)?;
    conn.prepare_cached(
        "INSERT INTO harvests (time_utc, date, product_id, plot_id, harvester_id, recorded_by,
             unit, qty, tare_g, for_sale, donation, own_use, compost, lot)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        super::utc_text(now),
        date.to_string(),
        h.product_id,
        h.plot_id,
        h.harvester_id,
        h.recorded_by,
        unit_of(product.pricing).code(),
        h.qty,
        h.tare_g,
        h.split.for_sale,
        h.split.donation,
        h.split.own_use,
        h.split.compost,
        lot.to_string(),
    ])?;
    let id = conn.last_insert_rowid();
    super::ledger::chain_row(conn, &super::ledger::HARVESTS, id)?;
    if h.split.for_sale > 0 {
        record_move(
            conn,
            h.product_id,
            &StockMove::HarvestIn {
                qty: h.split.for_sale,
                lot: lot.clone(),
            },
            None,
            &MoveSource {
                by_staff: Some(h.recorded_by),
                harvest_id: Some(id),
                sale: None,
            },
            now,
        )?;
    }
    Ok(HarvestRecord { id, lot })
}

/// Sets (or clears, with `None`) a product's low-stock threshold, in its stock unit.
pub fn set_threshold(
    conn: &Connection,
    product_id: i64,
    threshold: Option<i64>,
    by: i64,
    now: DateTime<Utc>,
) -> Result<(), GardenError> {
    if threshold.is_some_and(|t| t < 0) {
        return Err(StockError::NegativeCount.into());
    }
    conn.execute(
        "INSERT INTO stock_thresholds (product_id, threshold, set_by, since_utc)
         VALUES (?1, ?2, ?3, ?4)",
        params![product_id, threshold, by, super::utc_text(now)],
    )?;
    Ok(())
}

/// Every product's current threshold.
pub fn thresholds(conn: &Connection) -> rusqlite::Result<HashMap<i64, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT product_id, threshold FROM stock_thresholds
         WHERE id IN (SELECT max(id) FROM stock_thresholds GROUP BY product_id)",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?))
    })?;
    let mut map = HashMap::new();
    for row in rows {
        if let (id, Some(t)) = row? {
            map.insert(id, t);
        }
    }
    Ok(map)
}

/// Every product's on-hand now (products without moves are absent).
pub fn all_on_hand(conn: &Connection) -> rusqlite::Result<HashMap<i64, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT product_id, on_hand FROM stock_moves
         WHERE id IN (SELECT max(id) FROM stock_moves GROUP BY product_id)",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Every product's on-hand at the end of the moves before `end_utc` (exclusive).
pub fn all_on_hand_before(conn: &Connection, end_utc: &str) -> rusqlite::Result<HashMap<i64, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT product_id, on_hand FROM stock_moves
         WHERE id IN (SELECT max(id) FROM stock_moves WHERE time_utc < ?1 GROUP BY product_id)",
    )?;
    let rows = stmt.query_map([end_utc], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// The open lots of a product, oldest first: (number or `None`, origin, remaining).
pub fn open_lots(
    conn: &Connection,
    product_id: i64,
) -> rusqlite::Result<Vec<(Option<String>, String, i64)>> {
    conn.prepare_cached(
        "SELECT number, origin, remaining FROM stock_lots
         WHERE product_id = ?1 AND remaining > 0 ORDER BY id",
    )?
    .query_map([product_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
    .collect()
}

/// Sums of moves per product between two instants (`from` inclusive, `to` exclusive), by kind
/// in stock units: (harvested in, sold out, refunded in, lost, donated).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MoveSums {
    pub harvest_in: i64,
    pub sale_out: i64,
    pub refund_in: i64,
    pub loss: i64,
    pub donation: i64,
}

impl MoveSums {
    /// Sold, net of refunds.
    pub fn sold(&self) -> i64 {
        self.sale_out - self.refund_in
    }
}

pub fn move_sums(
    conn: &Connection,
    from_utc: &str,
    to_utc: &str,
) -> rusqlite::Result<HashMap<i64, MoveSums>> {
    let mut stmt = conn.prepare_cached(
        "SELECT product_id, kind, sum(qty) FROM stock_moves
         WHERE time_utc >= ?1 AND time_utc < ?2
           AND kind IN ('harvest_in', 'sale_out', 'refund_in', 'loss', 'donation')
         GROUP BY product_id, kind",
    )?;
    let rows = stmt.query_map([from_utc, to_utc], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut map: HashMap<i64, MoveSums> = HashMap::new();
    for row in rows {
        let (id, kind, qty) = row?;
        let s = map.entry(id).or_default();
        match kind.as_str() {
            "harvest_in" => s.harvest_in += qty,
            "sale_out" => s.sale_out += qty,
            "refund_in" => s.refund_in += qty,
            "loss" => s.loss += qty,
            "donation" => s.donation += qty,
            _ => {}
        }
    }
    Ok(map)
}

/// Harvested per product (whole harvests, every destination) between two instants.
pub fn harvested(
    conn: &Connection,
    from_utc: &str,
    to_utc: &str,
) -> rusqlite::Result<HashMap<i64, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT product_id, sum(qty) FROM harvests WHERE time_utc >= ?1 AND time_utc < ?2
         GROUP BY product_id",
    )?;
    let rows = stmt.query_map([from_utc, to_utc], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// The garden's own compost deposits between two instants, in grams: the harvests' compost
/// parts and the losses "to compost" (pieces converted with their product's average weight;
/// products without one are left out).
pub fn garden_compost_g(conn: &Connection, from_utc: &str, to_utc: &str) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT coalesce(sum(CASE WHEN h.unit = 'g' THEN h.compost ELSE h.compost * p.avg_weight_g END), 0)
         FROM harvests h JOIN products p ON p.id = h.product_id
         WHERE h.time_utc >= ?1 AND h.time_utc < ?2",
        [from_utc, to_utc],
        |r| r.get::<_, Option<i64>>(0),
    )
    .map(|v| v.unwrap_or(0))
    .and_then(|harvest| {
        conn.query_row(
            "SELECT coalesce(sum(CASE WHEN p.pricing = 'per_kg' THEN m.qty ELSE m.qty * p.avg_weight_g END), 0)
             FROM stock_moves m JOIN products p ON p.id = m.product_id
             WHERE m.kind = 'loss' AND m.reason = 'to_compost'
               AND m.time_utc >= ?1 AND m.time_utc < ?2",
            [from_utc, to_utc],
            |r| r.get::<_, Option<i64>>(0),
        )
        .map(|l| harvest + l.unwrap_or(0))
    })
}

// ---------------------------------------------------------------------------------------------
// Reading rows back

/// A harvest row, for exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestRow {
    pub id: i64,
    pub time_utc: String,
    pub product_id: i64,
    pub product: String,
    pub plot: Option<String>,
    pub harvester_id: Option<i64>,
    pub harvester: Option<String>,
    pub unit: String,
    pub qty: i64,
    pub avg_weight_g: Option<i64>,
    pub tare_g: i64,
    pub split: HarvestSplit,
    pub lot: String,
}

/// Harvests between two instants (either end open), in order.
pub fn harvest_rows(
    conn: &Connection,
    from_utc: Option<&str>,
    to_utc: Option<&str>,
) -> rusqlite::Result<Vec<HarvestRow>> {
    let mut stmt = conn.prepare(
        "SELECT h.id, h.time_utc, h.product_id, p.name, pl.name, h.harvester_id, s.name, h.unit,
                h.qty, p.avg_weight_g, h.tare_g, h.for_sale, h.donation, h.own_use, h.compost, h.lot
         FROM harvests h JOIN products p ON p.id = h.product_id
         LEFT JOIN plots pl ON pl.id = h.plot_id
         LEFT JOIN staff s ON s.id = h.harvester_id
         WHERE (?1 IS NULL OR h.time_utc >= ?1) AND (?2 IS NULL OR h.time_utc < ?2)
         ORDER BY h.id",
    )?;
    let rows = stmt.query_map(params![from_utc, to_utc], |r| {
        Ok(HarvestRow {
            id: r.get(0)?,
            time_utc: r.get(1)?,
            product_id: r.get(2)?,
            product: r.get(3)?,
            plot: r.get(4)?,
            harvester_id: r.get(5)?,
            harvester: r.get(6)?,
            unit: r.get(7)?,
            qty: r.get(8)?,
            avg_weight_g: r.get(9)?,
            tare_g: r.get(10)?,
            split: HarvestSplit {
                for_sale: r.get(11)?,
                donation: r.get(12)?,
                own_use: r.get(13)?,
                compost: r.get(14)?,
            },
            lot: r.get(15)?,
        })
    })?;
    rows.collect()
}

/// A stock move row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveRow {
    pub id: i64,
    pub time_utc: String,
    pub product_id: i64,
    pub kind: String,
    pub qty: i64,
    pub delta: i64,
    pub on_hand: i64,
    pub lot: Option<String>,
    /// A loss's reason, or a correction's (`entry_error`, `weighing`, `found`, `other`; none
    /// for corrections made without the stock screen).
    pub reason: Option<String>,
}

fn move_of(row: &MoveRow) -> Result<StockMove, GardenError> {
    let lot = match &row.lot {
        Some(t) => Some(LotNumber::parse(t)?),
        None => None,
    };
    let bad = || GardenError::Disagree(format!("move {}: kind {}", row.id, row.kind));
    Ok(match row.kind.as_str() {
        "harvest_in" => StockMove::HarvestIn {
            qty: row.qty,
            lot: lot.ok_or_else(bad)?,
        },
        "sale_out" => StockMove::SaleOut { qty: row.qty },
        "refund_in" => StockMove::RefundIn { qty: row.qty, lot },
        "loss" => StockMove::Loss {
            qty: row.qty,
            reason: row
                .reason
                .as_deref()
                .and_then(LossReason::from_code)
                .ok_or_else(bad)?,
        },
        "donation" => StockMove::Donation { qty: row.qty },
        "count" => StockMove::Count {
            counted: row.qty,
            lot,
        },
        "correction" => StockMove::Correction {
            delta: row.qty,
            lot,
        },
        _ => return Err(bad()),
    })
}

/// A product's moves, in order.
pub fn moves_of(conn: &Connection, product_id: i64) -> rusqlite::Result<Vec<MoveRow>> {
    conn.prepare_cached(&format!(
        "{MOVE_ROWS} WHERE m.product_id = ?1 ORDER BY m.id"
    ))?
    .query_map([product_id], move_row)?
    .collect()
}

const MOVE_ROWS: &str =
    "SELECT m.id, m.time_utc, m.product_id, m.kind, m.qty, m.delta, m.on_hand, m.lot,
        coalesce(m.reason, c.reason)
     FROM stock_moves m LEFT JOIN stock_corrections c ON c.move_id = m.id";

fn move_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MoveRow> {
    Ok(MoveRow {
        id: r.get(0)?,
        time_utc: r.get(1)?,
        product_id: r.get(2)?,
        kind: r.get(3)?,
        qty: r.get(4)?,
        delta: r.get(5)?,
        on_hand: r.get(6)?,
        lot: r.get(7)?,
        reason: r.get(8)?,
    })
}

/// Applies one stored move to its product's ledger and checks its `delta` and `on_hand`.
fn replay(ledger: &mut Ledger, row: &MoveRow) -> Result<(), GardenError> {
    let mv = move_of(row)?;
    let applied = ledger.apply(&mv)?;
    if applied.delta != row.delta || ledger.on_hand() != row.on_hand {
        return Err(GardenError::Disagree(format!(
            "move {}: delta {} on-hand {}, the ledger says {} and {}",
            row.id,
            row.delta,
            row.on_hand,
            applied.delta,
            ledger.on_hand()
        )));
    }
    Ok(())
}

/// Replays every product's ledger through the domain and checks the tables against it: each
/// move's `delta` and `on_hand`, each lot's flows and remainder, what is owed. Refunds aimed at
/// a lot by row are replayed by number, which the domain resolves to the oldest lot holding it:
/// the check compares lot remainders per number.
pub fn check_stock(conn: &Connection) -> Result<(), GardenError> {
    // One walk of the moves in id order, every product's ledger replayed side by side (a
    // product's walk by its index looked each move up in the table: seconds at millions). A
    // product's first fault stops its replay; faults are reported by product, as before.
    let mut ledgers: std::collections::BTreeMap<i64, Result<Ledger, GardenError>> =
        std::collections::BTreeMap::new();
    let mut stmt = conn.prepare(&format!("{MOVE_ROWS} ORDER BY m.id"))?;
    for row in stmt.query_map([], move_row)? {
        let row = row?;
        let entry = ledgers
            .entry(row.product_id)
            .or_insert_with(|| Ok(Ledger::new()));
        if let Ok(ledger) = entry {
            if let Err(e) = replay(ledger, &row) {
                *entry = Err(e);
            }
        }
    }
    // What the lot flows hold, per product, in one pass.
    let flow_sums: HashMap<i64, (i64, i64)> = conn
        .prepare(
            "SELECT product_id, coalesce(sum(qty) FILTER (WHERE lot_id IS NOT NULL), 0),
                    -coalesce(sum(qty) FILTER (WHERE lot_id IS NULL), 0)
             FROM lot_flows GROUP BY product_id",
        )?
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
        .collect::<Result<_, _>>()?;
    for (product, ledger) in ledgers {
        let ledger = ledger?;
        let lots: i64 = conn.query_row(
            "SELECT coalesce(sum(remaining), 0) FROM stock_lots WHERE product_id = ?1",
            [product],
            |r| r.get(0),
        )?;
        let (flows, owed) = flow_sums.get(&product).copied().unwrap_or((0, 0));
        let domain_lots: i64 = ledger.lots().iter().map(|l| l.remaining).sum();
        if lots != flows || lots != domain_lots || owed != ledger.owed() {
            return Err(GardenError::Disagree(format!(
                "product {product}: lots {lots}, flows {flows}, owed {owed}; the ledger says lots {domain_lots}, owed {}",
                ledger.owed()
            )));
        }
        let bad: Option<i64> = conn
            .query_row(
                "SELECT l.id FROM stock_lots l
                 WHERE l.product_id = ?1
                   AND l.remaining <> (SELECT coalesce(sum(qty), 0) FROM lot_flows f WHERE f.lot_id = l.id)
                 LIMIT 1",
                [product],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = bad {
            return Err(GardenError::Disagree(format!(
                "lot {id}: its remainder is not the sum of its flows"
            )));
        }
        let origin_harvest = ledger
            .lots()
            .iter()
            .filter(|l| l.origin == LotOrigin::Harvest)
            .count() as i64;
        let stored_harvest: i64 = conn.query_row(
            "SELECT count(*) FROM stock_lots WHERE product_id = ?1 AND origin = 'harvest'",
            [product],
            |r| r.get(0),
        )?;
        if origin_harvest != stored_harvest {
            return Err(GardenError::Disagree(format!(
                "product {product}: {stored_harvest} harvest lots, the ledger says {origin_harvest}"
            )));
        }
    }
    Ok(())
}
