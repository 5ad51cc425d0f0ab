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

use super::journal::{self, canonical_json, Entry, JournalError};
use crate::domain::cart::{
    CartError, Discount, DiscountKind, Line, LineId, LineKind, LineTotal, Payment, PaymentMethod,
    Sale, Settlement, StaffId, Totals,
};
use crate::domain::money::Cents;
use crate::domain::vat::{breakdown, VatLine};

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

impl StoredSale {
    /// The sale as the domain knows it (for refunds). Only for a sale, not a refund.
    pub fn to_domain(&self) -> Result<Sale, SalesError> {
        if self.kind != SaleKind::Sale {
            return Err(SalesError::NotASale(self.seq));
        }
        let lines = self
            .lines
            .iter()
            .map(|l| {
                let kind = match l.kind {
                    StoredLineKind::Weighed => LineKind::Weighed {
                        grams: l.grams.unwrap_or(0),
                        cents_per_kg: l.unit_cents,
                        manual: l.manual_weight,
                    },
                    StoredLineKind::Piece => {
                        let qty = l.qty.unwrap_or(0);
                        LineKind::Piece {
                            qty,
                            unit_cents: l.unit_cents,
                            avg_weight_g: l.grams.filter(|_| qty != 0).map(|g| g / qty),
                        }
                    }
                    StoredLineKind::Divers => LineKind::Divers {
                        cents: l.unit_cents,
                    },
                };
                Line {
                    id: l.line_no,
                    product_id: l.product_id.unwrap_or(0),
                    label: l.label.clone(),
                    vat_bp: l.vat_bp,
                    kind,
                    amount: l.amount_cents,
                    discount: l.discount,
                }
            })
            .collect();
        let line_totals = self
            .lines
            .iter()
            .map(|l| LineTotal {
                line_id: l.line_no,
                vat_bp: l.vat_bp,
                amount: l.amount_cents,
                line_discount: l.discount_cents,
                cart_discount: l.cart_discount_cents,
                net: l.net_cents,
            })
            .collect();
        Ok(Sale {
            seller: self.cashier_id,
            lines,
            cart_discount: self.cart_discount,
            totals: Totals {
                lines: line_totals,
                gross: self.gross_cents,
                line_discounts: self.line_discounts_cents,
                subtotal: self.gross_cents - self.line_discounts_cents,
                cart_discount: self.cart_discount_cents,
                total: self.total_cents,
                vat: self.vat.clone(),
            },
            settlement: Settlement {
                total: self.total_cents,
                payments: self.payments.clone(),
                paid: self.paid_cents,
                change_due: self.change_cents,
            },
        })
    }

    /// Reads a sale or refund back from its journal entry (the record itself), e.g. to print
    /// a receipt from the journal alone.
    pub fn from_entry(entry: &Entry) -> Result<StoredSale, SalesError> {
        let seq = entry.seq;
        let kind = SaleKind::from_code(&entry.kind).ok_or(SalesError::NotASale(seq))?;
        let map = entry.payload_value()?;
        let p = Reader { seq, map: &map };
        let lines = p
            .array("lines")?
            .iter()
            .map(|v| {
                let obj = v
                    .as_object()
                    .ok_or_else(|| p.bad("a line is not an object"))?;
                line_from_json(&Reader { seq, map: obj })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let vat = p
            .array("vat")?
            .iter()
            .map(|v| {
                let obj = v
                    .as_object()
                    .ok_or_else(|| p.bad("a vat line is not an object"))?;
                let r = Reader { seq, map: obj };
                Ok(VatLine {
                    rate_bp: r.bp("vat_bp")?,
                    ttc: r.int("ttc_cents")?,
                    ht: r.int("ht_cents")?,
                    vat: r.int("vat_cents")?,
                })
            })
            .collect::<Result<Vec<_>, SalesError>>()?;
        let payments = p
            .array("payments")?
            .iter()
            .map(|v| {
                let obj = v
                    .as_object()
                    .ok_or_else(|| p.bad("a payment is not an object"))?;
                let r = Reader { seq, map: obj };
                let method = PaymentMethod::from_code(r.str("method")?)
                    .ok_or_else(|| r.bad("unknown payment method"))?;
                Ok(Payment {
                    method,
                    cents: r.int("cents")?,
                })
            })
            .collect::<Result<Vec<_>, SalesError>>()?;
        Ok(StoredSale {
            kiosk_id: entry.kiosk_id.clone(),
            seq,
            kind,
            time_utc: entry.time_utc.clone(),
            hash: entry.hash.clone(),
            cashier_id: p.int("cashier_id")?,
            cashier_name: p.str("cashier_name")?.to_string(),
            cash_session: p.opt_int("cash_session")?,
            training: p.bool("training")?,
            refund_of: p.opt_int("refund_of")?,
            approved_by: if p.map.contains_key("approved_by") {
                p.opt_int("approved_by")?
            } else {
                None
            },
            lines,
            cart_discount: p.discount("cart_discount")?,
            gross_cents: p.int("gross_cents")?,
            line_discounts_cents: p.int("line_discounts_cents")?,
            cart_discount_cents: p.int("cart_discount_cents")?,
            total_cents: p.int("total_cents")?,
            vat,
            payments,
            paid_cents: p.int("paid_cents")?,
            change_cents: p.int("change_cents")?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Payload

fn discount_json(d: &Option<Discount>) -> Value {
    match d {
        None => Value::Null,
        Some(d) => {
            let (kind, value) = match d.kind {
                DiscountKind::Percent(bp) => ("percent", i64::from(bp)),
                DiscountKind::Amount(c) => ("amount", c),
            };
            serde_json::json!({ "kind": kind, "value": value, "by": d.given_by })
        }
    }
}

fn discount_from(kind: Option<&str>, value: Option<i64>, by: Option<i64>) -> Option<Discount> {
    let (kind, value, by) = (kind?, value?, by?);
    let kind = match kind {
        "percent" => DiscountKind::Percent(u32::try_from(value).ok()?),
        "amount" => DiscountKind::Amount(value),
        _ => return None,
    };
    Some(Discount { kind, given_by: by })
}

fn discount_columns(d: &Option<Discount>) -> (Option<&'static str>, Option<i64>, Option<i64>) {
    match d {
        None => (None, None, None),
        Some(d) => match d.kind {
            DiscountKind::Percent(bp) => (Some("percent"), Some(i64::from(bp)), Some(d.given_by)),
            DiscountKind::Amount(c) => (Some("amount"), Some(c), Some(d.given_by)),
        },
    }
}

fn opt(v: Option<i64>) -> Value {
    v.map_or(Value::Null, Value::from)
}

fn line_json(l: &StoredLine) -> Value {
    let mut m = Map::new();
    m.insert("line".into(), i64::from(l.line_no).into());
    m.insert("product_id".into(), opt(l.product_id));
    m.insert("label".into(), l.label.clone().into());
    m.insert("kind".into(), l.kind.code().into());
    m.insert("grams".into(), opt(l.grams));
    m.insert("qty".into(), opt(l.qty));
    m.insert("unit_cents".into(), l.unit_cents.into());
    m.insert("manual_weight".into(), l.manual_weight.into());
    m.insert("amount_cents".into(), l.amount_cents.into());
    m.insert("discount".into(), discount_json(&l.discount));
    m.insert("vat_bp".into(), i64::from(l.vat_bp).into());
    m.insert("discount_cents".into(), l.discount_cents.into());
    m.insert("cart_discount_cents".into(), l.cart_discount_cents.into());
    m.insert("net_cents".into(), l.net_cents.into());
    Value::Object(m)
}

/// The payload body of a sale or refund (without the journal's own members).
pub fn payload_body(s: &StoredSale) -> Map<String, Value> {
    let mut b = Map::new();
    b.insert("cashier_id".into(), s.cashier_id.into());
    b.insert("cashier_name".into(), s.cashier_name.clone().into());
    b.insert("cash_session".into(), opt(s.cash_session));
    b.insert("training".into(), s.training.into());
    b.insert("refund_of".into(), opt(s.refund_of));
    // Only where there is one: entries written before approvals stay as they were.
    if let Some(by) = s.approved_by {
        b.insert("approved_by".into(), by.into());
    }
    b.insert(
        "lines".into(),
        Value::Array(s.lines.iter().map(line_json).collect()),
    );
    b.insert("cart_discount".into(), discount_json(&s.cart_discount));
    b.insert("gross_cents".into(), s.gross_cents.into());
    b.insert("line_discounts_cents".into(), s.line_discounts_cents.into());
    b.insert("cart_discount_cents".into(), s.cart_discount_cents.into());
    b.insert("total_cents".into(), s.total_cents.into());
    b.insert(
        "vat".into(),
        Value::Array(
            s.vat
                .iter()
                .map(|v| {
                    serde_json::json!({
                        "vat_bp": v.rate_bp,
                        "ttc_cents": v.ttc,
                        "ht_cents": v.ht,
                        "vat_cents": v.vat,
                    })
                })
                .collect(),
        ),
    );
    b.insert(
        "payments".into(),
        Value::Array(
            s.payments
                .iter()
                .map(|p| serde_json::json!({ "method": p.method.code(), "cents": p.cents }))
                .collect(),
        ),
    );
    b.insert("paid_cents".into(), s.paid_cents.into());
    b.insert("change_cents".into(), s.change_cents.into());
    b
}

/// Typed access to payload members, with errors naming the entry.
struct Reader<'a> {
    seq: i64,
    map: &'a Map<String, Value>,
}

impl Reader<'_> {
    fn bad(&self, reason: impl Into<String>) -> SalesError {
        SalesError::Payload {
            seq: self.seq,
            reason: reason.into(),
        }
    }

    fn get(&self, key: &str) -> Result<&Value, SalesError> {
        self.map
            .get(key)
            .ok_or_else(|| self.bad(format!("{key} is missing")))
    }

    fn int(&self, key: &str) -> Result<i64, SalesError> {
        self.get(key)?
            .as_i64()
            .ok_or_else(|| self.bad(format!("{key} is not an integer")))
    }

    fn opt_int(&self, key: &str) -> Result<Option<i64>, SalesError> {
        match self.get(key)? {
            Value::Null => Ok(None),
            v => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.bad(format!("{key} is not an integer"))),
        }
    }

    fn bp(&self, key: &str) -> Result<u32, SalesError> {
        u32::try_from(self.int(key)?).map_err(|_| self.bad(format!("{key} is out of range")))
    }

    fn str(&self, key: &str) -> Result<&str, SalesError> {
        self.get(key)?
            .as_str()
            .ok_or_else(|| self.bad(format!("{key} is not text")))
    }

    fn bool(&self, key: &str) -> Result<bool, SalesError> {
        self.get(key)?
            .as_bool()
            .ok_or_else(|| self.bad(format!("{key} is not a boolean")))
    }

    fn array(&self, key: &str) -> Result<&Vec<Value>, SalesError> {
        self.get(key)?
            .as_array()
            .ok_or_else(|| self.bad(format!("{key} is not an array")))
    }

    fn discount(&self, key: &str) -> Result<Option<Discount>, SalesError> {
        match self.get(key)? {
            Value::Null => Ok(None),
            Value::Object(obj) => {
                let r = Reader {
                    seq: self.seq,
                    map: obj,
                };
                discount_from(
                    Some(r.str("kind")?),
                    Some(r.int("value")?),
                    Some(r.int("by")?),
                )
                .map(Some)
                .ok_or_else(|| self.bad(format!("{key} is not a discount")))
            }
            _ => Err(self.bad(format!("{key} is not a discount"))),
        }
    }
}

fn line_from_json(r: &Reader<'_>) -> Result<StoredLine, SalesError> {
    Ok(StoredLine {
        line_no: u32::try_from(r.int("line")?).map_err(|_| r.bad("line is out of range"))?,
        product_id: r.opt_int("product_id")?,
        label: r.str("label")?.to_string(),
        kind: StoredLineKind::from_code(r.str("kind")?)
            .ok_or_else(|| r.bad("unknown line kind"))?,
        grams: r.opt_int("grams")?,
        qty: r.opt_int("qty")?,
        unit_cents: r.int("unit_cents")?,
        manual_weight: r.bool("manual_weight")?,
        amount_cents: r.int("amount_cents")?,
        discount: r.discount("discount")?,
        discount_cents: r.int("discount_cents")?,
        cart_discount_cents: r.int("cart_discount_cents")?,
        net_cents: r.int("net_cents")?,
        vat_bp: r.bp("vat_bp")?,
    })
}

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

// ---------------------------------------------------------------------------------------------
// Reading

/// The sale or refund `seq` of this kiosk, read back from the tables (and its hash from the
/// journal); `None` when there is none.
pub fn sale(conn: &Connection, seq: i64) -> Result<Option<StoredSale>, SalesError> {
    let kiosk = super::meta::kiosk_id(conn)?;
    read_sale(conn, &kiosk, seq)
}

const HEAD_COLUMNS: &str = "seq, kind, time_utc, cashier_id, cashier_name, cash_session_id,
    total_cents, paid_cents, change_cents, cart_discount_kind, cart_discount_value,
    cart_discount_by, training, refund_of, approved_by";

/// A `sales` row.
struct Head {
    kind: String,
    time_utc: String,
    cashier_id: i64,
    cashier_name: String,
    cash_session: Option<i64>,
    total: Cents,
    paid: Cents,
    change: Cents,
    discount: (Option<String>, Option<i64>, Option<i64>),
    training: bool,
    refund_of: Option<i64>,
    approved_by: Option<i64>,
}

fn head_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Head)> {
    Ok((
        r.get(0)?,
        Head {
            kind: r.get(1)?,
            time_utc: r.get(2)?,
            cashier_id: r.get(3)?,
            cashier_name: r.get(4)?,
            cash_session: r.get(5)?,
            total: r.get(6)?,
            paid: r.get(7)?,
            change: r.get(8)?,
            discount: (r.get(9)?, r.get(10)?, r.get(11)?),
            training: r.get(12)?,
            refund_of: r.get(13)?,
            approved_by: r.get(14)?,
        },
    ))
}

const LINE_COLUMNS: &str = "seq, line_no, product_id, label, kind, grams, qty, unit_cents,
    manual_weight, amount_cents, discount_kind, discount_value, discount_by, discount_cents,
    cart_discount_cents, net_cents, vat_bp";

/// A `sale_lines` row: its seq, its kind as stored, the line.
fn line_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, (String, StoredLine))> {
    let kind: String = r.get(4)?;
    let dk: Option<String> = r.get(10)?;
    let line = StoredLine {
        line_no: r.get(1)?,
        product_id: r.get(2)?,
        label: r.get(3)?,
        kind: StoredLineKind::from_code(&kind).unwrap_or(StoredLineKind::Divers),
        grams: r.get(5)?,
        qty: r.get(6)?,
        unit_cents: r.get(7)?,
        manual_weight: r.get(8)?,
        amount_cents: r.get(9)?,
        discount: discount_from(dk.as_deref(), r.get(11)?, r.get(12)?),
        discount_cents: r.get(13)?,
        cart_discount_cents: r.get(14)?,
        net_cents: r.get(15)?,
        vat_bp: r.get(16)?,
    };
    Ok((r.get(0)?, (kind, line)))
}

const PAYMENT_COLUMNS: &str = "seq, method, amount_cents";

fn payment_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, (String, Cents))> {
    Ok((r.get(0)?, (r.get(1)?, r.get(2)?)))
}

/// A stored sale from its rows; a row that cannot be read is a disagreement at `seq`.
fn assemble(
    kiosk: &str,
    seq: i64,
    head: Head,
    lines: Vec<(String, StoredLine)>,
    payments: Vec<(String, Cents)>,
    hash: String,
) -> Result<StoredSale, SalesError> {
    let bad_row = |reason: String| SalesError::Disagree { seq, reason };
    let kind = SaleKind::from_code(&head.kind)
        .ok_or_else(|| bad_row(format!("sales row of unknown kind {:?}", head.kind)))?;
    let lines: Vec<StoredLine> = lines
        .into_iter()
        .map(|(kind, line)| match StoredLineKind::from_code(&kind) {
            Some(_) => Ok(line),
            None => Err(bad_row(format!("sale_lines row of unknown kind {kind:?}"))),
        })
        .collect::<Result<_, _>>()?;
    let payments: Vec<Payment> = payments
        .into_iter()
        .map(|(method, cents)| {
            let method = PaymentMethod::from_code(&method)
                .ok_or_else(|| bad_row(format!("unknown payment method {method:?}")))?;
            Ok(Payment { method, cents })
        })
        .collect::<Result<_, SalesError>>()?;
    let vat = breakdown(lines.iter().map(|l| (l.vat_bp, l.net_cents)))
        .map_err(|e| bad_row(format!("VAT: {}", e.code())))?;
    let (dk, dv, db) = head.discount;
    Ok(StoredSale {
        kiosk_id: kiosk.to_string(),
        seq,
        kind,
        time_utc: head.time_utc,
        hash,
        cashier_id: head.cashier_id,
        cashier_name: head.cashier_name,
        cash_session: head.cash_session,
        training: head.training,
        refund_of: head.refund_of,
        approved_by: head.approved_by,
        gross_cents: lines.iter().map(|l| l.amount_cents).sum(),
        line_discounts_cents: lines.iter().map(|l| l.discount_cents).sum(),
        cart_discount_cents: lines.iter().map(|l| l.cart_discount_cents).sum(),
        lines,
        cart_discount: discount_from(dk.as_deref(), dv, db),
        total_cents: head.total,
        vat,
        payments,
        paid_cents: head.paid,
        change_cents: head.change,
    })
}

fn read_sale(conn: &Connection, kiosk: &str, seq: i64) -> Result<Option<StoredSale>, SalesError> {
    let head = conn
        .prepare_cached(&format!(
            "SELECT {HEAD_COLUMNS} FROM sales WHERE kiosk_id = ?1 AND seq = ?2"
        ))?
        .query_row(params![kiosk, seq], head_from_row)
        .optional()?;
    let Some((_, head)) = head else {
        return Ok(None);
    };
    let lines = conn
        .prepare_cached(&format!(
            "SELECT {LINE_COLUMNS} FROM sale_lines WHERE kiosk_id = ?1 AND seq = ?2
             ORDER BY line_no"
        ))?
        .query_map(params![kiosk, seq], |r| line_from_row(r).map(|(_, l)| l))?
        .collect::<Result<Vec<_>, _>>()?;
    let payments = conn
        .prepare_cached(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM sale_payments WHERE kiosk_id = ?1 AND seq = ?2
             ORDER BY position"
        ))?
        .query_map(params![kiosk, seq], |r| payment_from_row(r).map(|(_, p)| p))?
        .collect::<Result<Vec<_>, _>>()?;
    let hash: String = conn
        .prepare_cached("SELECT hash FROM journal WHERE kiosk_id = ?1 AND seq = ?2")?
        .query_row(params![kiosk, seq], |r| r.get(0))
        .optional()?
        .unwrap_or_default();
    assemble(kiosk, seq, head, lines, payments, hash).map(Some)
}

/// The rows of `seq` from a cursor ordered by seq; rows of earlier seqs are skipped (rows
/// without their sale are reported by the orphan query).
fn take_group<T, I>(rows: &mut std::iter::Peekable<I>, seq: i64) -> rusqlite::Result<Vec<T>>
where
    I: Iterator<Item = rusqlite::Result<(i64, T)>>,
{
    let mut group = Vec::new();
    loop {
        match rows.peek() {
            Some(Ok((s, _))) if *s <= seq => {
                if let Some(Ok((s, item))) = rows.next() {
                    if s == seq {
                        group.push(item);
                    }
                }
            }
            Some(Err(_)) => {
                return match rows.next() {
                    Some(Err(e)) => Err(e),
                    _ => Ok(group),
                }
            }
            _ => return Ok(group),
        }
    }
}

/// The payload a stored sale gives, with the journal's members: what the entry must hold.
fn expected_payload(s: &StoredSale) -> Result<String, SalesError> {
    let mut body = payload_body(s);
    body.insert("seq".into(), s.seq.into());
    body.insert("kiosk_id".into(), s.kiosk_id.clone().into());
    body.insert("kind".into(), s.kind.code().into());
    body.insert("time_utc".into(), s.time_utc.clone().into());
    Ok(canonical_json(&Value::Object(body)).map_err(JournalError::from)?)
}

/// Where two JSON values first differ: a path like `lines[1].amount_cents`, with both values.
fn first_difference(path: &str, tables: &Value, payload: &Value) -> Option<String> {
    match (tables, payload) {
        (Value::Object(a), Value::Object(b)) => {
            // The lines first: the totals are their sums, the line says what was altered.
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            let (lines, others): (Vec<&String>, Vec<&String>) =
                keys.into_iter().partition(|k| k.as_str() == "lines");
            lines.into_iter().chain(others).find_map(|k| {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => first_difference(&sub, x, y),
                    (Some(_), None) => Some(format!("{sub} is missing from the payload")),
                    (None, Some(_)) => Some(format!("{sub} is in the payload only")),
                    (None, None) => None,
                }
            })
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                if let Some(d) = first_difference(&format!("{path}[{i}]"), x, y) {
                    return Some(d);
                }
            }
            (a.len() != b.len()).then(|| {
                format!(
                    "{path} has {} items in the tables, {} in the payload",
                    a.len(),
                    b.len()
                )
            })
        }
        (a, b) if a == b => None,
        (a, b) => Some(format!("{path} is {a} in the tables, {b} in the payload")),
    }
}

fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// Checks that the sales tables say exactly what the journal's `sale` and `refund` payloads
/// say: every entry has its rows, every row its entry, and the payload rebuilt from the rows
/// is the stored payload, byte for byte. `Err(SalesError::Disagree { seq, reason })` names the
/// first seq that differs. Read-only.
pub fn check_tables_agree(conn: &Connection) -> Result<(), SalesError> {
    let kiosk: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'kiosk_id'", [], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(kiosk) = kiosk else {
        return Ok(());
    };
    let first_entry: Option<i64> = conn
        .query_row(
            "SELECT min(seq) FROM journal WHERE kind IN ('sale', 'refund')",
            [],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let tables = ["sales", "sale_lines", "sale_payments"];
    for table in tables {
        if !table_exists(conn, table)? {
            return match first_entry {
                None => Ok(()),
                Some(seq) => Err(SalesError::Disagree {
                    seq,
                    reason: format!("no {table} table"),
                }),
            };
        }
    }
    // Rows without their journal entry (or of another kiosk).
    let orphan: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, t FROM (
                 SELECT s.seq, 'sales' AS t FROM sales s WHERE s.kiosk_id <> ?1
                     OR NOT EXISTS (SELECT 1 FROM journal j WHERE j.kiosk_id = s.kiosk_id
                                    AND j.seq = s.seq AND j.kind = s.kind)
                 UNION ALL
                 SELECT l.seq, 'sale_lines' FROM sale_lines l WHERE NOT EXISTS
                     (SELECT 1 FROM sales s WHERE s.kiosk_id = l.kiosk_id AND s.seq = l.seq)
                 UNION ALL
                 SELECT p.seq, 'sale_payments' FROM sale_payments p WHERE NOT EXISTS
                     (SELECT 1 FROM sales s WHERE s.kiosk_id = p.kiosk_id AND s.seq = p.seq))
             ORDER BY seq LIMIT 1",
            [&kiosk],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    // One ordered pass over the journal and each table, in step.
    let mut stmt = conn.prepare(
        "SELECT seq, kind, payload, hash FROM journal
         WHERE kiosk_id = ?1 AND kind IN ('sale', 'refund') ORDER BY seq",
    )?;
    let mut heads_stmt = conn.prepare(&format!(
        "SELECT {HEAD_COLUMNS} FROM sales WHERE kiosk_id = ?1 ORDER BY seq"
    ))?;
    let mut heads = heads_stmt.query_map([&kiosk], head_from_row)?.peekable();
    let mut lines_stmt = conn.prepare(&format!(
        "SELECT {LINE_COLUMNS} FROM sale_lines WHERE kiosk_id = ?1 ORDER BY seq, line_no"
    ))?;
    let mut lines = lines_stmt.query_map([&kiosk], line_from_row)?.peekable();
    let mut payments_stmt = conn.prepare(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM sale_payments WHERE kiosk_id = ?1 ORDER BY seq, position"
    ))?;
    let mut payments = payments_stmt
        .query_map([&kiosk], payment_from_row)?
        .peekable();
    let mut rows = stmt.query([&kiosk])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        if let Some((orphan_seq, _)) = &orphan {
            if *orphan_seq < seq {
                break;
            }
        }
        let kind: String = row.get(1)?;
        let payload: String = row.get(2)?;
        let hash: String = row.get(3)?;
        let disagree = |reason: String| SalesError::Disagree { seq, reason };
        let head = take_group(&mut heads, seq)?.pop();
        let sale_lines = take_group(&mut lines, seq)?;
        let sale_payments = take_group(&mut payments, seq)?;
        let Some(head) = head else {
            return Err(disagree(format!("the {kind} has no row in sales")));
        };
        let stored = assemble(&kiosk, seq, head, sale_lines, sale_payments, hash)?;
        if stored.kind.code() != kind {
            return Err(disagree(format!(
                "sales row of kind {} for a {kind} entry",
                stored.kind.code()
            )));
        }
        let expected = expected_payload(&stored)?;
        if expected != payload {
            let reason = match (
                serde_json::from_str::<Value>(&expected),
                serde_json::from_str::<Value>(&payload),
            ) {
                (Ok(a), Ok(b)) => first_difference("", &a, &b)
                    .map(|d| format!("sales tables differ from the payload: {d}")),
                _ => None,
            }
            .unwrap_or_else(|| "sales tables differ from the payload".into());
            return Err(disagree(reason));
        }
    }
    match orphan {
        Some((seq, table)) => Err(SalesError::Disagree {
            seq,
            reason: format!("a {table} row without its journal entry"),
        }),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Export

/// One row of `comptoir export sales`: one line of a sale or refund (training tickets are
/// left out). Integer money columns end in `_cents`, weights in `_g`; `date` is the local
/// date, `time_utc` RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExportRow {
    pub date: String,
    pub time_utc: String,
    pub kiosk_id: String,
    /// The ticket number.
    pub seq: i64,
    /// `sale` or `refund`.
    pub kind: String,
    pub refund_of: Option<i64>,
    pub cashier_id: i64,
    pub cashier_name: String,
    pub line: u32,
    pub product_id: Option<i64>,
    pub label: String,
    /// `weighed`, `piece` or `divers`.
    pub line_kind: String,
    /// Pieces or bunches (negative in a refund).
    pub quantity: Option<i64>,
    /// Net weight, measured or estimated from an average weight (negative in a refund).
    pub weight_g: Option<i64>,
    pub manual_weight: bool,
    /// Per kg (`price_unit` = `kg`), per piece (`piece`) or the typed price (`line`).
    pub unit_price_cents: i64,
    pub price_unit: String,
    pub amount_cents: i64,
    pub line_discount_cents: i64,
    pub cart_discount_cents: i64,
    /// What the customer paid for the line: the figure that adds up to the tickets' totals.
    pub net_cents: i64,
    pub vat_bp: i64,
}

/// The columns of [`ExportRow`], in order: the CSV header.
pub const EXPORT_COLUMNS: &[&str] = &[
    "date",
    "time_utc",
    "kiosk_id",
    "seq",
    "kind",
    "refund_of",
    "cashier_id",
    "cashier_name",
    "line",
    "product_id",
    "label",
    "line_kind",
    "quantity",
    "weight_g",
    "manual_weight",
    "unit_price_cents",
    "price_unit",
    "amount_cents",
    "line_discount_cents",
    "cart_discount_cents",
    "net_cents",
    "vat_bp",
];

/// The lines of the sales and refunds (not training) whose local date is within
/// `from..=to` (either end open), in ticket order.
pub fn export_rows(
    conn: &Connection,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    tz: chrono_tz::Tz,
) -> Result<Vec<ExportRow>, SalesError> {
    let start = from.map(|d| super::local_midnight_utc(d, tz));
    let end = to
        .and_then(|d| d.succ_opt())
        .map(|d| super::local_midnight_utc(d, tz));
    let mut stmt = conn.prepare(
        "SELECT s.time_utc, s.kiosk_id, s.seq, s.kind, s.refund_of, s.cashier_id, s.cashier_name,
                l.line_no, l.product_id, l.label, l.kind, l.qty, l.grams, l.manual_weight,
                l.unit_cents, l.amount_cents, l.discount_cents, l.cart_discount_cents,
                l.net_cents, l.vat_bp
         FROM sales s JOIN sale_lines l ON l.kiosk_id = s.kiosk_id AND l.seq = s.seq
         WHERE s.training = 0
           AND (?1 IS NULL OR s.time_utc >= ?1) AND (?2 IS NULL OR s.time_utc < ?2)
         ORDER BY s.kiosk_id, s.seq, l.line_no",
    )?;
    let rows = stmt.query_map(params![start, end], |r| {
        let time_utc: String = r.get(0)?;
        let line_kind: String = r.get(10)?;
        let date = DateTime::parse_from_rfc3339(&time_utc)
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let price_unit = match line_kind.as_str() {
            "weighed" => "kg",
            "piece" => "piece",
            _ => "line",
        };
        Ok(ExportRow {
            date,
            time_utc,
            kiosk_id: r.get(1)?,
            seq: r.get(2)?,
            kind: r.get(3)?,
            refund_of: r.get(4)?,
            cashier_id: r.get(5)?,
            cashier_name: r.get(6)?,
            line: r.get(7)?,
            product_id: r.get(8)?,
            label: r.get(9)?,
            price_unit: price_unit.into(),
            line_kind,
            quantity: r.get(11)?,
            weight_g: r.get(12)?,
            manual_weight: r.get(13)?,
            unit_price_cents: r.get(14)?,
            amount_cents: r.get(15)?,
            line_discount_cents: r.get(16)?,
            cart_discount_cents: r.get(17)?,
            net_cents: r.get(18)?,
            vat_bp: r.get(19)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
