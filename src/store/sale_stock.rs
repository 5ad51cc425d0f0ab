//! Step 7 of `journal verify` (`store::audit`), first half: the stock moves of each sale and
//! refund line against the sales tables.
//!
//! - Every move that names a sale line (`sale_kiosk_id`, `sale_seq`, `sale_line`) names a real,
//!   non-training line of that product, the right way (`sale_out` for a sale, `refund_in` for a
//!   refund).
//! - Every stocked line of a real sale took its quantity out (grams for a product sold by the
//!   kg and weighed, pieces for one sold by the piece); a refund line put back what it gives
//!   back, at most what the sale's line took.
//!
//! The app writes a sale's moves in the sale's own transaction, so in `id` order the moves'
//! sale keys never go down. [`check`] walks moves, sales and lines once each in that order
//! (a few seconds at a million tickets). Moves out of that order (written by hand, or by a
//! future import) send it to the same rules as SQL, which look each line up by index
//! (about four times slower, same verdict).

use std::collections::HashMap;
use std::iter::Peekable;

use rusqlite::{Connection, OptionalExtension, Row};

/// `Ok(None)` when every move agrees, `Ok(Some(reason))` for the first that does not.
pub fn check(conn: &Connection) -> rusqlite::Result<Option<String>> {
    match in_ticket_order(conn)? {
        Some(verdict) => Ok(verdict),
        None => by_index(conn),
    }
}

fn bad_move(id: i64, kind: &str, line: i64, seq: i64) -> String {
    format!("move {id} ({kind}) names line {line} of ticket {seq}, which sold no such product")
}

fn wrong_line(seq: i64, line: i64, want: i64, got: i64) -> String {
    format!("line {line} of ticket {seq} moved {got} out of or into stock, the ticket says {want}")
}

/// A sale line's key, in the order of the tables' primary keys.
type Key = (Option<String>, i64, i64);

struct SaleMove {
    id: i64,
    key: Key,
    product_id: i64,
    kind: String,
    qty: i64,
}

#[derive(Clone)]
struct Head {
    kiosk_id: String,
    seq: i64,
    is_sale: bool,
    refund_of: Option<i64>,
    training: bool,
}

struct Line {
    kiosk_id: String,
    seq: i64,
    line_no: i64,
    product_id: Option<i64>,
    kind: String,
    grams: Option<i64>,
    qty: Option<i64>,
}

/// The ordered walk: `None` when the moves are not in ticket order.
fn in_ticket_order(conn: &Connection) -> rusqlite::Result<Option<Option<String>>> {
    let per_kg: HashMap<i64, bool> = conn
        .prepare("SELECT id, pricing = 'per_kg' FROM products")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut moves_stmt = conn.prepare(
        "SELECT id, sale_kiosk_id, sale_seq, sale_line, product_id, kind, qty FROM stock_moves
         WHERE sale_seq IS NOT NULL ORDER BY id",
    )?;
    let mut moves = moves_stmt
        .query_map([], |r| {
            Ok(SaleMove {
                id: r.get(0)?,
                key: (
                    r.get(1)?,
                    r.get(2)?,
                    r.get::<_, Option<i64>>(3)?.unwrap_or(0),
                ),
                product_id: r.get(4)?,
                kind: r.get(5)?,
                qty: r.get(6)?,
            })
        })?
        .peekable();
    let mut heads_stmt = conn.prepare(
        "SELECT kiosk_id, seq, kind = 'sale', refund_of, training FROM sales
         ORDER BY kiosk_id, seq",
    )?;
    let mut heads = heads_stmt
        .query_map([], |r| {
            Ok(Head {
                kiosk_id: r.get(0)?,
                seq: r.get(1)?,
                is_sale: r.get(2)?,
                refund_of: r.get(3)?,
                training: r.get::<_, i64>(4)? != 0,
            })
        })?
        .peekable();
    let mut lines_stmt = conn.prepare(
        "SELECT kiosk_id, seq, line_no, product_id, kind, grams, qty FROM sale_lines
         ORDER BY kiosk_id, seq, line_no",
    )?;
    let lines = lines_stmt.query_map([], line_of)?;
    let mut took_stmt = conn.prepare(
        "SELECT coalesce(sum(qty), 0) FROM stock_moves
         WHERE sale_kiosk_id = ?1 AND sale_seq = ?2 AND sale_line = ?3 AND kind = 'sale_out'",
    )?;
    // The first move naming no line, and the first line with the wrong quantity: a bad move is
    // reported before a wrong line, as `by_index` does.
    let mut bad: Option<String> = None;
    let mut wrong: Option<String> = None;
    let mut last_key: Option<Key> = None;
    let mut in_order = |m: &SaleMove| {
        let ok = last_key.as_ref().is_none_or(|k| *k <= m.key);
        last_key = Some(m.key.clone());
        ok
    };
    for line in lines {
        let line = line?;
        let key: Key = (Some(line.kiosk_id.clone()), line.seq, line.line_no);
        // Moves before this line name none.
        while let Some(m) = next_before(&mut moves, &key)? {
            if !in_order(&m) {
                return Ok(None);
            }
            bad.get_or_insert_with(|| bad_move(m.id, &m.kind, m.key.2, m.key.1));
        }
        let head = head_of(&mut heads, &line)?;
        let mut got = 0;
        while let Some(m) = next_at(&mut moves, &key)? {
            if !in_order(&m) {
                return Ok(None);
            }
            let right_way = match (&head, m.kind.as_str()) {
                (Some(h), "sale_out") => h.is_sale,
                (Some(h), "refund_in") => !h.is_sale,
                _ => false,
            };
            // A line without its sales row is step 4's fault; its moves are bad here too.
            if head.as_ref().is_none_or(|h| h.training)
                || line.product_id != Some(m.product_id)
                || !right_way
            {
                bad.get_or_insert_with(|| bad_move(m.id, &m.kind, m.key.2, m.key.1));
            }
            got += m.qty;
        }
        let (Some(head), Some(product)) = (head, line.product_id) else {
            continue;
        };
        let Some(&by_kg) = per_kg.get(&product) else {
            continue;
        };
        if head.training || wrong.is_some() {
            continue;
        }
        let want = match (by_kg, line.kind.as_str()) {
            (true, "weighed") => line.grams,
            (false, "piece") => line.qty,
            _ => None,
        }
        .map_or(0, i64::abs);
        let expected = match head.refund_of {
            None => want,
            Some(sale) => {
                let took: i64 =
                    took_stmt.query_row((&line.kiosk_id, sale, line.line_no), |r| r.get(0))?;
                want.min(took)
            }
        };
        if got != expected {
            wrong = Some(wrong_line(line.seq, line.line_no, want, got));
        }
    }
    // Moves after the last line name none.
    for m in moves {
        let m = m?;
        if !in_order(&m) {
            return Ok(None);
        }
        bad.get_or_insert_with(|| bad_move(m.id, &m.kind, m.key.2, m.key.1));
    }
    Ok(Some(bad.or(wrong)))
}

fn line_of(r: &Row<'_>) -> rusqlite::Result<Line> {
    Ok(Line {
        kiosk_id: r.get(0)?,
        seq: r.get(1)?,
        line_no: r.get(2)?,
        product_id: r.get(3)?,
        kind: r.get(4)?,
        grams: r.get(5)?,
        qty: r.get(6)?,
    })
}

/// The next move if its key comes before `key`.
fn next_before<I>(moves: &mut Peekable<I>, key: &Key) -> rusqlite::Result<Option<SaleMove>>
where
    I: Iterator<Item = rusqlite::Result<SaleMove>>,
{
    match moves.peek() {
        Some(Ok(m)) if m.key < *key => moves.next().transpose(),
        Some(Err(_)) => moves.next().transpose(),
        _ => Ok(None),
    }
}

/// The next move if its key is `key`.
fn next_at<I>(moves: &mut Peekable<I>, key: &Key) -> rusqlite::Result<Option<SaleMove>>
where
    I: Iterator<Item = rusqlite::Result<SaleMove>>,
{
    match moves.peek() {
        Some(Ok(m)) if m.key == *key => moves.next().transpose(),
        Some(Err(_)) => moves.next().transpose(),
        _ => Ok(None),
    }
}

/// The sales row of `line`, the walk of heads moved up to it (`None`: the line has no row).
fn head_of<I>(heads: &mut Peekable<I>, line: &Line) -> rusqlite::Result<Option<Head>>
where
    I: Iterator<Item = rusqlite::Result<Head>>,
{
    loop {
        match heads.peek() {
            Some(Ok(h)) if (h.kiosk_id.as_str(), h.seq) < (line.kiosk_id.as_str(), line.seq) => {
                heads.next();
            }
            Some(Ok(h)) if h.kiosk_id == line.kiosk_id && h.seq == line.seq => {
                return Ok(Some(h.clone()));
            }
            Some(Err(_)) => return heads.next().transpose().map(|_| None),
            _ => return Ok(None),
        }
    }
}

/// The same rules as SQL, each line and move looked up by index.
fn by_index(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let bad: Option<(i64, i64, i64, String)> = conn
        .query_row(
            "SELECT m.id, m.sale_seq, m.sale_line, m.kind FROM stock_moves m
             LEFT JOIN sales s ON s.kiosk_id = m.sale_kiosk_id AND s.seq = m.sale_seq
             LEFT JOIN sale_lines l ON l.kiosk_id = m.sale_kiosk_id AND l.seq = m.sale_seq
                                   AND l.line_no = m.sale_line
             WHERE m.sale_seq IS NOT NULL
               AND (l.seq IS NULL OR s.training <> 0 OR l.product_id IS NOT m.product_id
                    OR (m.kind = 'sale_out') <> (s.kind = 'sale')
                    OR m.kind NOT IN ('sale_out', 'refund_in'))
             ORDER BY m.id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    if let Some((id, seq, line, kind)) = bad {
        return Ok(Some(bad_move(id, &kind, line, seq)));
    }
    let wrong: Option<(i64, i64, i64, i64)> = conn
        .query_row(
            "WITH lines AS (
                 SELECT s.kiosk_id, s.seq, s.kind, s.refund_of, l.line_no,
                        abs(CASE WHEN p.pricing = 'per_kg' AND l.kind = 'weighed' THEN l.grams
                                 WHEN p.pricing <> 'per_kg' AND l.kind = 'piece' THEN l.qty END) AS want
                 FROM sales s
                 JOIN sale_lines l ON l.kiosk_id = s.kiosk_id AND l.seq = s.seq
                 JOIN products p ON p.id = l.product_id
                 WHERE s.training = 0),
             moved AS (
                 SELECT lines.*,
                        (SELECT coalesce(sum(m.qty), 0) FROM stock_moves m
                         WHERE m.sale_kiosk_id = lines.kiosk_id AND m.sale_seq = lines.seq
                           AND m.sale_line = lines.line_no) AS got,
                        (SELECT coalesce(sum(m.qty), 0) FROM stock_moves m
                         WHERE m.sale_kiosk_id = lines.kiosk_id AND m.sale_seq = lines.refund_of
                           AND m.sale_line = lines.line_no AND m.kind = 'sale_out') AS took
                 FROM lines)
             SELECT seq, line_no, coalesce(want, 0), got FROM moved
             WHERE (kind = 'sale' AND got <> coalesce(want, 0))
                OR (kind = 'refund' AND got <> min(coalesce(want, 0), took))
             ORDER BY seq, line_no LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    Ok(wrong.map(|(seq, line, want, got)| wrong_line(seq, line, want, got)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stall's tables with two sales, a refund and a training sale, moves as the app writes.
    fn stall() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE products (id INTEGER PRIMARY KEY, pricing TEXT NOT NULL);
             CREATE TABLE sales (kiosk_id TEXT, seq INTEGER, kind TEXT, refund_of INTEGER,
                 training INTEGER, PRIMARY KEY (kiosk_id, seq)) WITHOUT ROWID;
             CREATE TABLE sale_lines (kiosk_id TEXT, seq INTEGER, line_no INTEGER,
                 product_id INTEGER, kind TEXT, grams INTEGER, qty INTEGER,
                 PRIMARY KEY (kiosk_id, seq, line_no)) WITHOUT ROWID;
             CREATE TABLE stock_moves (id INTEGER PRIMARY KEY, product_id INTEGER, kind TEXT,
                 qty INTEGER, sale_kiosk_id TEXT, sale_seq INTEGER, sale_line INTEGER);
             CREATE INDEX stock_moves_by_sale ON stock_moves(sale_kiosk_id, sale_seq, sale_line);
             INSERT INTO products VALUES (1, 'per_kg'), (2, 'per_piece');
             INSERT INTO sales VALUES ('k', 2, 'sale', NULL, 0), ('k', 3, 'sale', NULL, 0),
                 ('k', 5, 'refund', 2, 0), ('k', 6, 'sale', NULL, 1);
             INSERT INTO sale_lines VALUES
                 ('k', 2, 1, 1, 'weighed', 1250, NULL), ('k', 2, 2, 2, 'piece', NULL, 3),
                 ('k', 2, 3, NULL, 'divers', NULL, NULL),
                 ('k', 3, 1, 2, 'piece', NULL, 1),
                 ('k', 5, 1, 1, 'weighed', -1250, NULL),
                 ('k', 6, 1, 1, 'weighed', 400, NULL);
             INSERT INTO stock_moves (product_id, kind, qty, sale_kiosk_id, sale_seq, sale_line)
             VALUES (1, 'harvest_in', 9000, NULL, NULL, NULL),
                 (1, 'sale_out', 1250, 'k', 2, 1), (2, 'sale_out', 3, 'k', 2, 2),
                 (2, 'sale_out', 1, 'k', 3, 1), (1, 'refund_in', 1250, 'k', 5, 1);",
        )
        .unwrap();
        conn
    }

    /// Both ways must give the same verdict.
    fn verdict(conn: &Connection) -> Option<String> {
        let walked = in_ticket_order(conn).unwrap();
        let looked_up = by_index(conn).unwrap();
        if let Some(w) = &walked {
            assert_eq!(w, &looked_up);
        }
        check(conn).unwrap()
    }

    #[test]
    fn moves_as_the_app_writes_them_agree() {
        let conn = stall();
        assert_eq!(in_ticket_order(&conn).unwrap(), Some(None));
        assert_eq!(verdict(&conn), None);
    }

    #[test]
    fn a_line_that_took_too_little_is_named() {
        let conn = stall();
        conn.execute(
            "UPDATE stock_moves SET qty = 2 WHERE sale_seq = 2 AND sale_line = 2",
            [],
        )
        .unwrap();
        assert_eq!(
            verdict(&conn).as_deref(),
            Some("line 2 of ticket 2 moved 2 out of or into stock, the ticket says 3")
        );
    }

    #[test]
    fn a_refund_that_put_back_more_than_the_sale_took_is_named() {
        let conn = stall();
        conn.execute(
            "UPDATE stock_moves SET qty = 1000 WHERE sale_seq = 2 AND sale_line = 1",
            [],
        )
        .unwrap();
        // The sale line is wrong first; the refund then put back more than was taken.
        assert_eq!(
            verdict(&conn).as_deref(),
            Some("line 1 of ticket 2 moved 1000 out of or into stock, the ticket says 1250")
        );
    }

    #[test]
    fn moves_naming_no_line_the_wrong_product_way_or_a_training_sale_are_named() {
        for (sql, reason) in [
            (
                "INSERT INTO stock_moves (product_id, kind, qty, sale_kiosk_id, sale_seq, sale_line)
                 VALUES (1, 'sale_out', 10, 'k', 9, 1)",
                "move 6 (sale_out) names line 1 of ticket 9, which sold no such product",
            ),
            (
                "INSERT INTO stock_moves (product_id, kind, qty, sale_kiosk_id, sale_seq, sale_line)
                 VALUES (1, 'sale_out', 400, 'k', 6, 1)",
                "move 6 (sale_out) names line 1 of ticket 6, which sold no such product",
            ),
            (
                "UPDATE stock_moves SET product_id = 2 WHERE id = 2",
                "move 2 (sale_out) names line 1 of ticket 2, which sold no such product",
            ),
            (
                "UPDATE stock_moves SET kind = 'refund_in' WHERE id = 4",
                "move 4 (refund_in) names line 1 of ticket 3, which sold no such product",
            ),
            (
                "INSERT INTO stock_moves (product_id, kind, qty, sale_kiosk_id, sale_seq, sale_line)
                 VALUES (1, 'sale_out', 10, 'other', 2, 1)",
                "move 6 (sale_out) names line 1 of ticket 2, which sold no such product",
            ),
        ] {
            let conn = stall();
            conn.execute(sql, []).unwrap();
            assert_eq!(verdict(&conn).as_deref(), Some(reason), "{sql}");
        }
    }

    #[test]
    fn moves_out_of_ticket_order_get_the_same_rules_by_index() {
        let conn = stall();
        // A move of ticket 2 written after ticket 5's: not the app's order.
        conn.execute(
            "INSERT INTO stock_moves (product_id, kind, qty, sale_kiosk_id, sale_seq, sale_line)
             VALUES (2, 'sale_out', 3, 'k', 2, 2)",
            [],
        )
        .unwrap();
        assert_eq!(in_ticket_order(&conn).unwrap(), None);
        assert_eq!(
            check(&conn).unwrap().as_deref(),
            Some("line 2 of ticket 2 moved 6 out of or into stock, the ticket says 3")
        );
        conn.execute("DELETE FROM stock_moves WHERE id = 3", [])
            .unwrap();
        assert_eq!(in_ticket_order(&conn).unwrap(), None);
        assert_eq!(check(&conn).unwrap(), None);
    }
}
