//! `comptoir export sales`: one row per line of each sale and refund.

use super::*;

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
    let start = from.map(|d| crate::store::local_midnight_utc(d, tz));
    let end = to
        .and_then(|d| d.succ_opt())
        .map(|d| crate::store::local_midnight_utc(d, tz));
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
