//! Sales and refunds: their journal entries and the rows that make them easy to read.
//!
//! # Record and rows
//!
//! A sale is committed as one journal entry of kind `sale` (a refund: `refund`) and rows in
//! `sales`, `sale_lines` and `sale_payments` keyed by that entry, `(kiosk_id, seq)`, inside the
//! caller's transaction: the sale is entirely there or entirely absent. The ticket number is
//! the entry's `seq`. The journal payload is the record; the tables are there for reading,
//! receipts and exports, and [`check_tables_agree`] (run by `comptoir journal verify`) checks
//! that they say exactly what the payloads say. The tables are ledgers: triggers refuse UPDATE
//! and DELETE.
//!
//! # Payload
//!
//! Canonical JSON (see [`super::journal`]), integers only, every member always present
//! (`null` where it does not apply). Besides the journal's own `seq`, `kiosk_id`, `kind` and
//! `time_utc`:
//!
//! ```text
//! cashier_id, cashier_name      who sold (staff names are not personal data of residents)
//! cash_session                  the cash session id, or null
//! training                      true in training mode: never counted in real totals
//! refund_of                     a refund: the seq of the sale it refunds; a sale: null
//! approved_by                   only in a refund that needed approval (an earlier cash
//!                               session's sale, or above the amount a seller refunds alone):
//!                               the staff id of who approved it with their PIN; absent
//!                               otherwise (and in every entry written before approvals)
//! lines: [{
//!   line                        the line's number in the cart (a refund: the sale's line)
//!   product_id                  null for a "divers" line without a catalogue product
//!   label, kind                 kind: weighed | piece | divers
//!   grams                       weighed: net grams; piece: qty x average weight, or null;
//!                               divers: null
//!   qty                         piece: pieces or bunches; otherwise null
//!   unit_cents                  weighed: cents per kg; piece: cents per piece; divers: price
//!   manual_weight               true for a weight typed by hand ("pesée manuelle")
//!   amount_cents                before discounts
//!   discount                    the line's discount as given: {"kind":"percent"|"amount",
//!                               "value":BP_OR_CENTS,"by":STAFF_ID}, or null
//!   discount_cents              the line's own discount
//!   cart_discount_cents         the line's share of the cart discount
//!   net_cents                   amount - discount - cart discount share
//!   vat_bp
//! }]
//! cart_discount                 the cart's discount as given, like `discount`, or null
//! gross_cents                   sum of amount_cents
//! line_discounts_cents          sum of discount_cents
//! cart_discount_cents           sum of cart_discount_cents
//! total_cents                   sum of net_cents: the ticket's total including VAT
//! vat: [{vat_bp, ttc_cents, ht_cents, vat_cents}]   per rate, ascending (domain::vat)
//! payments: [{method, cents}]   method: cash | card | cheque | credits
//! paid_cents                    sum of the payments
//! change_cents                  cash given back: paid - total
//! ```
//!
//! A refund has the same members with negative amounts: each refunded line's final amount
//! (discount shares included) negated, its `grams` and `qty` negated too (so sums give what
//! was really sold), its unit price unchanged; the VAT breakdown of those negative amounts
//! (exactly the negation of the same lines' breakdown); payments negative, `change_cents` 0.
//! The money goes back the way it came: cash first (up to the cash kept on the sale), then
//! card, cheque and credits, each up to what the sale took with it, less earlier refunds of
//! the same sale. A line can be refunded once.
//!
//! An abandoned cart is an entry of kind `cart_abandoned`: `by` (staff id), `cart_total_cents`
//! and `lines: [{label, amount_cents}]`. A line removed from a cart before payment is an entry
//! of kind `line_removed`: `by`, `label`, `amount_cents` (before discounts).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::journal::{self, Entry, JournalError};
use crate::domain::cart::{
    CartError, Discount, DiscountKind, Line, LineId, LineKind, LineTotal, Payment, PaymentMethod,
    Sale, Settlement, StaffId, Totals,
};
use crate::domain::money::Cents;
use crate::domain::vat::VatLine;

/// The kind of the journal entry of an abandoned cart.
pub const KIND_CART_ABANDONED: &str = "cart_abandoned";
/// The kind of the journal entry of a line removed from a cart before payment.
pub const KIND_LINE_REMOVED: &str = "line_removed";

/// Who sells, where, and whether it counts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SaleContext {
    pub cashier_id: i64,
    pub cashier_name: String,
    pub cash_session: Option<i64>,
    /// Training mode: bannered on receipts, never counted in real totals.
    pub training: bool,
}

/// What went wrong recording or reading a sale.
#[derive(Debug, thiserror::Error)]
pub enum SalesError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("cart: {}", .0.code())]
    Cart(CartError),
    #[error("no sale or refund with seq {0}")]
    UnknownSale(i64),
    /// A refund of a refund, or an entry of another kind.
    #[error("entry {0} is not a sale")]
    NotASale(i64),
    #[error("sale {seq} has no line {line}")]
    UnknownLine { seq: i64, line: LineId },
    #[error("line {line} of sale {seq} was already refunded")]
    AlreadyRefunded { seq: i64, line: LineId },
    #[error("every line of sale {0} was already refunded")]
    NothingToRefund(i64),
    /// A training sale is refunded in training mode, a real one in real mode.
    #[error("a training sale and a real refund (or the reverse) cannot be mixed")]
    TrainingMismatch,
    /// A programming error in the caller: the sale does not hold together.
    #[error("invalid sale: {0}")]
    Invalid(String),
    /// A payload lacks a member or has one of the wrong type.
    #[error("journal entry {seq}: {reason}")]
    Payload { seq: i64, reason: String },
    /// The sales tables and the journal say different things ([`check_tables_agree`]).
    #[error("seq {seq}: {reason}")]
    Disagree { seq: i64, reason: String },
}

impl From<CartError> for SalesError {
    fn from(e: CartError) -> Self {
        SalesError::Cart(e)
    }
}

pub use super::sale_rows::{SaleKind, StoredLine, StoredLineKind, StoredSale};

mod check;
mod export;
mod payload;
mod read;

pub use check::check_tables_agree;
pub use export::{export_rows, ExportRow, EXPORT_COLUMNS};
pub use payload::payload_body;
pub use read::sale;

use payload::*;

// ---------------------------------------------------------------------------------------------
// Recording

/// The stored form of a cart line and its amounts.
fn stored_line(l: &Line, t: &LineTotal) -> StoredLine {
    let (kind, grams, qty, unit_cents, manual) = match l.kind {
        LineKind::Weighed {
            grams,
            cents_per_kg,
            manual,
        } => (
            StoredLineKind::Weighed,
            Some(grams),
            None,
            cents_per_kg,
            manual,
        ),
        LineKind::Piece {
            qty, unit_cents, ..
        } => (
            StoredLineKind::Piece,
            l.grams(),
            Some(qty),
            unit_cents,
            false,
        ),
        LineKind::Divers { cents } => (StoredLineKind::Divers, None, None, cents, false),
    };
    // A "divers" line needs no catalogue product: ids of 0 or less stand for none.
    let product_id = match (kind, l.product_id) {
        (StoredLineKind::Divers, id) if id <= 0 => None,
        (_, id) => Some(id),
    };
    StoredLine {
        line_no: l.id,
        product_id,
        label: l.label.clone(),
        kind,
        grams,
        qty,
        unit_cents,
        manual_weight: manual,
        amount_cents: l.amount,
        discount: l.discount,
        discount_cents: t.line_discount,
        cart_discount_cents: t.cart_discount,
        net_cents: t.net,
        vat_bp: l.vat_bp,
    }
}

fn check_sale(sale: &Sale) -> Result<(), SalesError> {
    let invalid = |m: &str| Err(SalesError::Invalid(m.into()));
    if sale.lines.is_empty() {
        return invalid("no lines");
    }
    if sale.lines.len() != sale.totals.lines.len()
        || sale
            .lines
            .iter()
            .zip(&sale.totals.lines)
            .any(|(l, t)| l.id != t.line_id || l.vat_bp != t.vat_bp || l.amount != t.amount)
    {
        return invalid("the totals do not match the lines");
    }
    if sale.settlement.total != sale.totals.total
        || sale.settlement.paid
            != sale
                .settlement
                .payments
                .iter()
                .map(|p| p.cents)
                .sum::<Cents>()
        || sale.settlement.change_due != sale.settlement.paid - sale.totals.total
        || sale.settlement.change_due < 0
    {
        return invalid("the settlement does not match the total");
    }
    Ok(())
}

fn insert_rows(conn: &Connection, s: &StoredSale) -> Result<(), SalesError> {
    let (dk, dv, db) = discount_columns(&s.cart_discount);
    conn.prepare_cached(
        "INSERT INTO sales (kiosk_id, seq, kind, time_utc, cashier_id, cashier_name,
             cash_session_id, total_cents, paid_cents, change_cents, cart_discount_kind,
             cart_discount_value, cart_discount_by, training, refund_of, approved_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        s.kiosk_id,
        s.seq,
        s.kind.code(),
        s.time_utc,
        s.cashier_id,
        s.cashier_name,
        s.cash_session,
        s.total_cents,
        s.paid_cents,
        s.change_cents,
        dk,
        dv,
        db,
        s.training,
        s.refund_of,
        s.approved_by,
    ])?;
    let mut line_stmt = conn.prepare_cached(
        "INSERT INTO sale_lines (kiosk_id, seq, line_no, product_id, label, kind, grams, qty,
             unit_cents, manual_weight, amount_cents, discount_kind, discount_value, discount_by,
             discount_cents, cart_discount_cents, net_cents, vat_bp)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?;
    for l in &s.lines {
        let (dk, dv, db) = discount_columns(&l.discount);
        line_stmt.execute(params![
            s.kiosk_id,
            s.seq,
            l.line_no,
            l.product_id,
            l.label,
            l.kind.code(),
            l.grams,
            l.qty,
            l.unit_cents,
            l.manual_weight,
            l.amount_cents,
            dk,
            dv,
            db,
            l.discount_cents,
            l.cart_discount_cents,
            l.net_cents,
            l.vat_bp,
        ])?;
    }
    let mut pay_stmt = conn.prepare_cached(
        "INSERT INTO sale_payments (kiosk_id, seq, position, method, amount_cents)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (i, p) in s.payments.iter().enumerate() {
        pay_stmt.execute(params![
            s.kiosk_id,
            s.seq,
            i as i64 + 1,
            p.method.code(),
            p.cents
        ])?;
    }
    Ok(())
}

/// Journals `s` (its seq, kiosk id and time are set from the new entry) and writes its rows.
fn commit(
    conn: &Connection,
    mut s: StoredSale,
    now: DateTime<Utc>,
) -> Result<(Entry, StoredSale), SalesError> {
    let entry = journal::append(conn, s.kind.code(), now, payload_body(&s))?;
    s.seq = entry.seq;
    s.kiosk_id = entry.kiosk_id.clone();
    s.time_utc = entry.time_utc.clone();
    s.hash = entry.hash.clone();
    insert_rows(conn, &s)?;
    Ok((entry, s))
}

/// Records a paid sale: its journal entry (kind `sale`) and its rows, inside the caller's
/// transaction (commit it before printing anything). The ticket number is the entry's seq.
pub fn record_sale(
    conn: &Connection,
    sale: &Sale,
    ctx: &SaleContext,
    now: DateTime<Utc>,
) -> Result<Entry, SalesError> {
    check_sale(sale)?;
    let lines: Vec<StoredLine> = sale
        .lines
        .iter()
        .zip(&sale.totals.lines)
        .map(|(l, t)| stored_line(l, t))
        .collect();
    let stored = StoredSale {
        kiosk_id: String::new(),
        seq: 0,
        kind: SaleKind::Sale,
        time_utc: String::new(),
        hash: String::new(),
        cashier_id: ctx.cashier_id,
        cashier_name: ctx.cashier_name.clone(),
        cash_session: ctx.cash_session,
        training: ctx.training,
        refund_of: None,
        approved_by: None,
        lines,
        cart_discount: sale.cart_discount,
        gross_cents: sale.totals.gross,
        line_discounts_cents: sale.totals.line_discounts,
        cart_discount_cents: sale.totals.cart_discount,
        total_cents: sale.totals.total,
        vat: sale.totals.vat.clone(),
        payments: sale.settlement.payments.clone(),
        paid_cents: sale.settlement.paid,
        change_cents: sale.settlement.change_due,
    };
    let (entry, stored) = commit(conn, stored, now)?;
    super::garden::record_sale_moves(conn, &stored).map_err(stock_error)?;
    Ok(entry)
}

/// The refunds already recorded for sale `seq`.
pub fn refunds_of(conn: &Connection, seq: i64) -> Result<Vec<StoredSale>, SalesError> {
    let kiosk = super::meta::kiosk_id(conn)?;
    let seqs: Vec<i64> = conn
        .prepare_cached(
            "SELECT seq FROM sales WHERE kiosk_id = ?1 AND refund_of = ?2 ORDER BY seq",
        )?
        .query_map(params![kiosk, seq], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    seqs.into_iter()
        .map(|s| sale(conn, s)?.ok_or(SalesError::UnknownSale(s)))
        .collect()
}

/// Refunds lines of sale `original_seq` (every line not refunded yet when `line_ids` is
/// empty): a new entry of kind `refund` with negative amounts referencing the sale
/// (`refund_of`), and its rows, inside the caller's transaction (see [`record_refund_approved`]
/// for a refund that needed approval). How the money goes back:
/// module documentation.
pub fn record_refund(
    conn: &Connection,
    original_seq: i64,
    line_ids: &[LineId],
    ctx: &SaleContext,
    now: DateTime<Utc>,
) -> Result<Entry, SalesError> {
    record_refund_approved(conn, original_seq, line_ids, ctx, None, now)
}

/// [`record_refund`], approved by staff member `approved_by` (kept in the entry and the row).
pub fn record_refund_approved(
    conn: &Connection,
    original_seq: i64,
    line_ids: &[LineId],
    ctx: &SaleContext,
    approved_by: Option<StaffId>,
    now: DateTime<Utc>,
) -> Result<Entry, SalesError> {
    let original = sale(conn, original_seq)?.ok_or(SalesError::UnknownSale(original_seq))?;
    if original.kind != SaleKind::Sale {
        return Err(SalesError::NotASale(original_seq));
    }
    if original.training != ctx.training {
        return Err(SalesError::TrainingMismatch);
    }
    let earlier = refunds_of(conn, original_seq)?;
    let refunded: BTreeSet<LineId> = earlier
        .iter()
        .flat_map(|r| r.lines.iter().map(|l| l.line_no))
        .collect();
    let chosen: Vec<LineId> = if line_ids.is_empty() {
        let left: Vec<LineId> = original
            .lines
            .iter()
            .map(|l| l.line_no)
            .filter(|id| !refunded.contains(id))
            .collect();
        if left.is_empty() {
            return Err(SalesError::NothingToRefund(original_seq));
        }
        left
    } else {
        let mut seen = BTreeSet::new();
        for &id in line_ids {
            if original.line(id).is_none() {
                return Err(SalesError::UnknownLine {
                    seq: original_seq,
                    line: id,
                });
            }
            if refunded.contains(&id) || !seen.insert(id) {
                return Err(SalesError::AlreadyRefunded {
                    seq: original_seq,
                    line: id,
                });
            }
        }
        line_ids.to_vec()
    };
    let totals = original.to_domain()?.refund(&chosen)?;
    let lines: Vec<StoredLine> = totals
        .lines
        .iter()
        .map(|t| {
            let o = original.line(t.line_id).expect("checked above");
            StoredLine {
                grams: o.grams.map(|g| -g),
                qty: o.qty.map(|q| -q),
                amount_cents: t.amount,
                discount_cents: t.line_discount,
                cart_discount_cents: t.cart_discount,
                net_cents: t.net,
                ..o.clone()
            }
        })
        .collect();
    // The money goes back the way it came, cash first.
    let mut due = -totals.total;
    let mut payments = Vec::new();
    for method in [
        PaymentMethod::Cash,
        PaymentMethod::Card,
        PaymentMethod::Cheque,
        PaymentMethod::Credits,
    ] {
        let mut kept = original.paid_with(method);
        if method == PaymentMethod::Cash {
            kept -= original.change_cents;
        }
        kept += earlier.iter().map(|r| r.paid_with(method)).sum::<Cents>();
        let back = due.min(kept.max(0));
        if back > 0 {
            payments.push(Payment {
                method,
                cents: -back,
            });
            due -= back;
        }
    }
    if due > 0 {
        // Only when the sale's figures were odd; the rest goes back in cash.
        match payments
            .iter_mut()
            .find(|p| p.method == PaymentMethod::Cash)
        {
            Some(p) => p.cents -= due,
            None => payments.insert(
                0,
                Payment {
                    method: PaymentMethod::Cash,
                    cents: -due,
                },
            ),
        }
    }
    let paid = payments.iter().map(|p| p.cents).sum();
    let stored = StoredSale {
        kiosk_id: String::new(),
        seq: 0,
        kind: SaleKind::Refund,
        time_utc: String::new(),
        hash: String::new(),
        cashier_id: ctx.cashier_id,
        cashier_name: ctx.cashier_name.clone(),
        cash_session: ctx.cash_session,
        training: ctx.training,
        refund_of: Some(original_seq),
        approved_by,
        lines,
        cart_discount: original.cart_discount,
        gross_cents: totals.gross,
        line_discounts_cents: totals.line_discounts,
        cart_discount_cents: totals.cart_discount,
        total_cents: totals.total,
        vat: totals.vat,
        payments,
        paid_cents: paid,
        change_cents: 0,
    };
    let (entry, stored) = commit(conn, stored, now)?;
    super::garden::record_sale_moves(conn, &stored).map_err(stock_error)?;
    Ok(entry)
}

/// The stock moves of a sale failed: the whole sale is rolled back with them.
fn stock_error(e: super::garden::GardenError) -> SalesError {
    match e {
        super::garden::GardenError::Sqlite(e) => SalesError::Sqlite(e),
        other => SalesError::Invalid(format!("stock: {other}")),
    }
}

/// Journals an abandoned cart (kind `cart_abandoned`): who abandoned it and a summary of its
/// lines, `(label, amount in cents)`; `cart_total_cents` is their sum.
pub fn record_abandoned_cart(
    conn: &Connection,
    lines: &[(String, Cents)],
    by: StaffId,
    now: DateTime<Utc>,
) -> Result<Entry, SalesError> {
    let mut body = Map::new();
    body.insert("by".into(), by.into());
    body.insert(
        "cart_total_cents".into(),
        lines.iter().map(|(_, c)| *c).sum::<Cents>().into(),
    );
    body.insert(
        "lines".into(),
        Value::Array(
            lines
                .iter()
                .map(|(label, cents)| serde_json::json!({ "label": label, "amount_cents": cents }))
                .collect(),
        ),
    );
    Ok(journal::append(conn, KIND_CART_ABANDONED, now, body)?)
}

/// Journals a line removed from a cart before payment (kind `line_removed`): nothing a seller
/// weighed or counted disappears without a trace.
pub fn record_line_removed(
    conn: &Connection,
    label: &str,
    amount_cents: Cents,
    by: StaffId,
    now: DateTime<Utc>,
) -> Result<Entry, SalesError> {
    let mut body = Map::new();
    body.insert("by".into(), by.into());
    body.insert("label".into(), label.into());
    body.insert("amount_cents".into(), amount_cents.into());
    Ok(journal::append(conn, KIND_LINE_REMOVED, now, body)?)
}
