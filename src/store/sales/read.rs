//! A sale or refund read back from the `sales`, `sale_lines` and `sale_payments` rows.

use super::*;
use crate::domain::vat::breakdown;

/// The sale or refund `seq` of this kiosk, read back from the tables (and its hash from the
/// journal); `None` when there is none.
pub fn sale(conn: &Connection, seq: i64) -> Result<Option<StoredSale>, SalesError> {
    let kiosk = crate::store::meta::kiosk_id(conn)?;
    read_sale(conn, &kiosk, seq)
}

pub(super) const HEAD_COLUMNS: &str =
    "seq, kind, time_utc, cashier_id, cashier_name, cash_session_id,
    total_cents, paid_cents, change_cents, cart_discount_kind, cart_discount_value,
    cart_discount_by, training, refund_of, approved_by";

/// A `sales` row.
pub(super) struct Head {
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

pub(super) fn head_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Head)> {
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

pub(super) const LINE_COLUMNS: &str =
    "seq, line_no, product_id, label, kind, grams, qty, unit_cents,
    manual_weight, amount_cents, discount_kind, discount_value, discount_by, discount_cents,
    cart_discount_cents, net_cents, vat_bp";

/// A `sale_lines` row: its seq, its kind as stored, the line.
pub(super) fn line_from_row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(i64, (String, StoredLine))> {
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

pub(super) const PAYMENT_COLUMNS: &str = "seq, method, amount_cents";

pub(super) fn payment_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, (String, Cents))> {
    Ok((r.get(0)?, (r.get(1)?, r.get(2)?)))
}

/// A stored sale from its rows; a row that cannot be read is a disagreement at `seq`.
pub(super) fn assemble(
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

pub(super) fn read_sale(
    conn: &Connection,
    kiosk: &str,
    seq: i64,
) -> Result<Option<StoredSale>, SalesError> {
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
