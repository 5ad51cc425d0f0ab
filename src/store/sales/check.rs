//! [`check_tables_agree`]: the sales tables against the journal's sale and refund entries.

use super::read::{
    assemble, head_from_row, line_from_row, payment_from_row, HEAD_COLUMNS, LINE_COLUMNS,
    PAYMENT_COLUMNS,
};
use super::*;

/// Takes the rows of `seq` from the front of an ordered walk. A row of a lower seq belongs to
/// no sale or refund entry: the first such is kept in `orphan` (with its table) and skipped.
pub(super) fn take_group<'t, T, I>(
    rows: &mut std::iter::Peekable<I>,
    seq: i64,
    table: &'t str,
    orphan: &mut Option<(i64, &'t str)>,
) -> rusqlite::Result<Vec<T>>
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
                    } else if orphan.is_none_or(|(o, _)| s < o) {
                        *orphan = Some((s, table));
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
pub(super) fn expected_payload(s: &StoredSale) -> Result<String, SalesError> {
    serde_json::to_string(&SalePayload::of(s, true))
        .map_err(|e| SalesError::Invalid(format!("payload of seq {}: {e}", s.seq)))
}

/// Where two JSON values first differ: a path like `lines[1].amount_cents`, with both values.
pub(super) fn first_difference(path: &str, tables: &Value, payload: &Value) -> Option<String> {
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

pub(super) fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
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
    // Rows of another kiosk: two range look-ups on each primary key.
    let mut other_kiosk: Option<(i64, &str)> = None;
    for table in tables {
        let seq: Option<i64> = conn
            .query_row(
                &format!(
                    "SELECT min(seq) FROM (
                         SELECT seq FROM (SELECT seq FROM {table} WHERE kiosk_id < ?1 LIMIT 1)
                         UNION ALL
                         SELECT seq FROM (SELECT seq FROM {table} WHERE kiosk_id > ?1 LIMIT 1))"
                ),
                [&kiosk],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        if let Some(seq) = seq {
            other_kiosk = Some((seq, table));
            break;
        }
    }
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
    // Rows the walk stepped over: no sale or refund entry of their seq (the first one only).
    let mut orphan: Option<(i64, &str)> = None;
    let orphan_fault = |(seq, table): (i64, &str)| SalesError::Disagree {
        seq,
        reason: format!("a {table} row without its journal entry"),
    };
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        if let Some(found) = other_kiosk.filter(|(o, _)| *o < seq) {
            return Err(orphan_fault(found));
        }
        let kind: String = row.get(1)?;
        let payload: String = row.get(2)?;
        let hash: String = row.get(3)?;
        let disagree = |reason: String| SalesError::Disagree { seq, reason };
        let head = take_group(&mut heads, seq, "sales", &mut orphan)?.pop();
        let sale_lines = take_group(&mut lines, seq, "sale_lines", &mut orphan)?;
        let sale_payments = take_group(&mut payments, seq, "sale_payments", &mut orphan)?;
        if let Some(found) = orphan {
            return Err(orphan_fault(found));
        }
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
    // Rows after the last entry, then rows of another kiosk (the lower seq first).
    let after_last = [
        (heads.next().transpose()?.map(|(s, _)| s), "sales"),
        (lines.next().transpose()?.map(|(s, _)| s), "sale_lines"),
        (
            payments.next().transpose()?.map(|(s, _)| s),
            "sale_payments",
        ),
    ]
    .into_iter()
    .filter_map(|(seq, table)| seq.map(|s| (s, table)))
    .chain(other_kiosk)
    .min_by_key(|(seq, _)| *seq);
    match after_last {
        Some(found) => Err(orphan_fault(found)),
        None => Ok(()),
    }
}
