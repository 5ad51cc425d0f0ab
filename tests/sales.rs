//! Sales and refunds in the store, their journal payloads, and the commands that read them:
//! `journal verify` (also against tampered tables and payloads), `receipt` and
//! `export sales`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::run_comptoir as comptoir;
use chrono::{DateTime, Utc};
use comptoir::domain::cart::{Cart, Discount, LineKind, PaymentMethod, PaymentPolicy, Sale};
use comptoir::domain::vat::ht_from_ttc;
use comptoir::store::journal::{self, parse_canonical};
use comptoir::store::sales::{self, ExportRow, SaleContext, SaleKind, SalesError};
use comptoir::store::{Access, Store};
use rusqlite::Connection;
use serde_json::Value;

const SELLER: i64 = 3;
const LEAD: i64 = 2;

fn t(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn ctx() -> SaleContext {
    SaleContext {
        cashier_id: SELLER,
        cashier_name: "Amina".into(),
        cash_session: Some(7),
        training: false,
    }
}

fn new_store(dir: &Path) -> Store {
    Store::open(&dir.join("comptoir.db"), Access::ReadWrite).unwrap()
}

/// Tomatoes 1,234 kg at 3,50 €/kg typed by hand with 10 % off (4,32 − 0,43), 3 lettuces of
/// 400 g at 1,20 € (3,60), a bag at 20 % VAT as a "divers" line (3,00); 1,00 € off the cart;
/// paid 5,00 € by card and 10,00 € in cash.
fn market_sale() -> Sale {
    let mut cart = Cart::new(SELLER);
    cart.add_line(
        10,
        "Tomates",
        550,
        LineKind::Weighed {
            grams: 1234,
            cents_per_kg: 350,
            manual: true,
        },
    )
    .unwrap();
    cart.add_line(
        11,
        "Salade batavia",
        550,
        LineKind::Piece {
            qty: 3,
            unit_cents: 120,
            avg_weight_g: Some(400),
        },
    )
    .unwrap();
    cart.add_line(0, "Sac en toile", 2000, LineKind::Divers { cents: 300 })
        .unwrap();
    cart.set_line_discount(1, Discount::percent(1000, LEAD))
        .unwrap();
    cart.set_cart_discount(Discount::amount(100, LEAD)).unwrap();
    let policy = PaymentPolicy::default();
    cart.add_payment(PaymentMethod::Card, 500, &policy).unwrap();
    cart.add_payment(PaymentMethod::Cash, 1000, &policy)
        .unwrap();
    cart.close_paid().unwrap()
}

fn record(store: &mut Store, sale: &Sale, ctx: &SaleContext, at: &str) -> journal::Entry {
    let tx = store.conn_mut().transaction().unwrap();
    let entry = sales::record_sale(&tx, sale, ctx, t(at)).unwrap();
    tx.commit().unwrap();
    entry
}

fn payload(entry: &journal::Entry) -> Value {
    parse_canonical(&entry.payload).expect("canonical payload")
}

#[test]
fn a_recorded_sale_reads_back_identically_and_its_payload_is_canonical() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let sale = market_sale();
    assert_eq!(sale.totals.total, 389 + 360 + 300 - 100);
    let entry = record(&mut store, &sale, &ctx(), "2026-06-13T08:42:05Z");
    assert_eq!((entry.seq, entry.kind.as_str()), (1, "sale"));

    let stored = sales::sale(store.conn(), entry.seq).unwrap().unwrap();
    assert_eq!(stored.kind, SaleKind::Sale);
    assert_eq!(stored.hash, entry.hash);
    assert_eq!(stored.time_utc, "2026-06-13T08:42:05Z");
    assert_eq!(stored.cash_session, Some(7));
    // The rows give back exactly the sale the domain made...
    assert_eq!(stored.to_domain().unwrap(), sale);
    // ...and so does the journal payload alone.
    assert_eq!(sales::StoredSale::from_entry(&entry).unwrap(), stored);
    assert_eq!(sales::sale(store.conn(), 2).unwrap(), None);

    let p = payload(&entry);
    assert_eq!(p["seq"], 1);
    assert_eq!(p["kind"], "sale");
    assert_eq!(p["cashier_id"], SELLER);
    assert_eq!(p["cashier_name"], "Amina");
    assert_eq!(p["training"], false);
    assert_eq!(p["refund_of"], Value::Null);
    assert_eq!(p["total_cents"], 949);
    assert_eq!(p["paid_cents"], 1500);
    assert_eq!(p["change_cents"], 551);
    let lines = p["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["grams"], 1234);
    assert_eq!(lines[0]["unit_cents"], 350);
    assert_eq!(lines[0]["manual_weight"], true);
    assert_eq!(lines[0]["amount_cents"], 432);
    assert_eq!(lines[0]["discount_cents"], 43);
    assert_eq!(
        lines[0]["discount"],
        serde_json::json!({"kind": "percent", "value": 1000, "by": LEAD})
    );
    assert_eq!(lines[1]["qty"], 3);
    assert_eq!(lines[1]["grams"], 1200);
    assert_eq!(lines[2]["product_id"], Value::Null);
    assert_eq!(lines[2]["kind"], "divers");
    let nets: i64 = lines.iter().map(|l| l["net_cents"].as_i64().unwrap()).sum();
    assert_eq!(nets, 949);
    assert_eq!(
        p["payments"],
        serde_json::json!([{"method": "card", "cents": 500}, {"method": "cash", "cents": 1000}])
    );
    // Integers only: every number of the payload is an i64.
    fn integers_only(v: &Value) -> bool {
        match v {
            Value::Number(n) => n.is_i64(),
            Value::Array(a) => a.iter().all(integers_only),
            Value::Object(o) => o.values().all(integers_only),
            _ => true,
        }
    }
    assert!(integers_only(&p));
    sales::check_tables_agree(store.conn()).unwrap();
    assert_eq!(journal::verify(store.conn()).unwrap().entries, 1);
}

#[test]
fn the_vat_breakdown_is_per_rate_and_adds_up_in_the_journal_totals() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let sale = market_sale();
    let entry = record(&mut store, &sale, &ctx(), "2026-06-13T08:42:05Z");
    let p = payload(&entry);
    let vat = p["vat"].as_array().unwrap();
    assert_eq!(vat.len(), 2);
    let mut ttc_sum = 0;
    for v in vat {
        let (bp, ttc, ht, tva) = (
            v["vat_bp"].as_i64().unwrap(),
            v["ttc_cents"].as_i64().unwrap(),
            v["ht_cents"].as_i64().unwrap(),
            v["vat_cents"].as_i64().unwrap(),
        );
        assert_eq!(ht, ht_from_ttc(ttc, bp as u32));
        assert_eq!(ht + tva, ttc);
        ttc_sum += ttc;
    }
    assert_eq!(ttc_sum, 949);
    // The bag's line: 300 less its share of the cart discount.
    let bag_net = p["lines"][2]["net_cents"].as_i64().unwrap();
    assert_eq!(vat[1]["vat_bp"], 2000);
    assert_eq!(vat[1]["ttc_cents"], bag_net);

    // A second sale, then the journal's own sums read the same figures.
    record(&mut store, &sale, &ctx(), "2026-06-13T08:50:00Z");
    let totals = journal::sum_sales(store.conn(), 1, 2).unwrap();
    assert_eq!(totals.total_cents, 2 * 949);
    assert_eq!(totals.sale_count, 2);
    assert_eq!(totals.by_vat_rate.len(), 2);
    assert_eq!(
        totals.by_vat_rate.iter().map(|r| r.ttc_cents).sum::<i64>(),
        2 * 949
    );
    // Training sales are journaled but never counted.
    let training = SaleContext {
        training: true,
        ..ctx()
    };
    record(&mut store, &sale, &training, "2026-06-13T09:00:00Z");
    let totals = journal::sum_sales(store.conn(), 1, 3).unwrap();
    assert_eq!((totals.total_cents, totals.training_count), (2 * 949, 1));
    sales::check_tables_agree(store.conn()).unwrap();
}

#[test]
fn refunds_are_negative_reference_the_sale_and_never_refund_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let sale = market_sale();
    let sold = record(&mut store, &sale, &ctx(), "2026-06-13T08:42:05Z");
    let net2 = sale.totals.lines[1].net;

    let tx = store.conn_mut().transaction().unwrap();
    let refund =
        sales::record_refund(&tx, sold.seq, &[2], &ctx(), t("2026-06-13T09:00:00Z")).unwrap();
    tx.commit().unwrap();
    assert_eq!(refund.kind, "refund");
    let p = payload(&refund);
    assert_eq!(p["refund_of"], sold.seq);
    assert_eq!(p["total_cents"], -net2);
    assert_eq!(p["lines"][0]["line"], 2);
    assert_eq!(p["lines"][0]["qty"], -3);
    assert_eq!(p["lines"][0]["grams"], -1200);
    assert_eq!(p["lines"][0]["unit_cents"], 120);
    assert_eq!(p["lines"][0]["net_cents"], -net2);
    assert_eq!(p["vat"][0]["ttc_cents"], -net2);
    assert_eq!(p["change_cents"], 0);
    // Back in cash first: the sale kept 10,00 − 5,51 = 4,49 € in cash.
    assert_eq!(
        p["payments"],
        serde_json::json!([{"method": "cash", "cents": -net2}])
    );
    let stored = sales::sale(store.conn(), refund.seq).unwrap().unwrap();
    assert_eq!(stored.kind, SaleKind::Refund);
    assert_eq!(stored.refund_of, Some(sold.seq));
    assert_eq!(sales::StoredSale::from_entry(&refund).unwrap(), stored);

    let conn = store.conn();
    let later = t("2026-06-13T09:10:00Z");
    assert!(matches!(
        sales::record_refund(conn, sold.seq, &[2], &ctx(), later),
        Err(SalesError::AlreadyRefunded { line: 2, .. })
    ));
    assert!(matches!(
        sales::record_refund(conn, sold.seq, &[9], &ctx(), later),
        Err(SalesError::UnknownLine { line: 9, .. })
    ));
    assert!(matches!(
        sales::record_refund(conn, refund.seq, &[], &ctx(), later),
        Err(SalesError::NotASale(_))
    ));
    assert!(matches!(
        sales::record_refund(conn, 99, &[], &ctx(), later),
        Err(SalesError::UnknownSale(99))
    ));
    let training = SaleContext {
        training: true,
        ..ctx()
    };
    assert!(matches!(
        sales::record_refund(conn, sold.seq, &[], &training, later),
        Err(SalesError::TrainingMismatch)
    ));

    // "All" refunds what is left; the sale then nets to zero, money back the way it came.
    let rest = sales::record_refund(conn, sold.seq, &[], &ctx(), later).unwrap();
    let p = payload(&rest);
    let lines: Vec<i64> = p["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, vec![1, 3]);
    let back: i64 = p["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["cents"].as_i64().unwrap())
        .sum();
    assert_eq!(back, p["total_cents"].as_i64().unwrap());
    assert_eq!(p["payments"][0]["method"], "cash");
    assert_eq!(p["payments"][0]["cents"], -(449 - net2));
    assert_eq!(p["payments"][1]["method"], "card");
    let totals = journal::sum_sales(conn, 1, rest.seq).unwrap();
    assert_eq!((totals.total_cents, totals.refund_count), (0, 2));
    for v in &totals.by_vat_rate {
        assert_eq!((v.ttc_cents, v.ht_cents, v.vat_cents), (0, 0, 0));
    }
    assert!(matches!(
        sales::record_refund(conn, sold.seq, &[], &ctx(), later),
        Err(SalesError::NothingToRefund(_))
    ));
    sales::check_tables_agree(conn).unwrap();
}

#[test]
fn an_abandoned_cart_is_journaled_and_the_tables_refuse_edits() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let sold = record(&mut store, &market_sale(), &ctx(), "2026-06-13T08:42:05Z");
    let conn = store.conn();
    let lines = vec![("Tomates".to_string(), 432), ("Salade".to_string(), 240)];
    let entry =
        sales::record_abandoned_cart(conn, &lines, SELLER, t("2026-06-13T08:45:00Z")).unwrap();
    assert_eq!(entry.kind, "cart_abandoned");
    let p = payload(&entry);
    assert_eq!(p["cart_total_cents"], 672);
    assert_eq!(p["by"], SELLER);
    assert_eq!(p["lines"][1]["label"], "Salade");
    for sql in [
        "UPDATE sale_lines SET amount_cents = 1",
        "DELETE FROM sale_payments",
        "UPDATE sales SET total_cents = 0",
        "DELETE FROM sales",
    ] {
        assert!(conn.execute(sql, []).is_err(), "{sql} was accepted");
    }
    assert!(sales::sale(conn, sold.seq).unwrap().is_some());
    sales::check_tables_agree(conn).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Through the binary

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A demo database with 30 days of sales up to a fixed Saturday.
fn seeded(dir: &Path) -> PathBuf {
    let db = dir.join("demo.db");
    let o = comptoir(&[
        "demo",
        "seed",
        "--db",
        db.to_str().unwrap(),
        "--days",
        "30",
        "--until",
        "2026-06-13",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    db
}

fn verify(db: &Path) -> Output {
    comptoir(&["journal", "verify", "--db", db.to_str().unwrap()])
}

/// What someone with sqlite3 and the file can do: drop the triggers, then write at will.
fn attacker(db: &Path) -> Connection {
    let conn = Connection::open(db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete;
         DROP TRIGGER journal_chain;
         DROP TRIGGER sales_no_update; DROP TRIGGER sales_no_delete;
         DROP TRIGGER sale_lines_no_update; DROP TRIGGER sale_lines_no_delete;
         DROP TRIGGER sale_payments_no_update; DROP TRIGGER sale_payments_no_delete;",
    )
    .unwrap();
    conn
}

fn copy_db(from: &Path, to: &Path) {
    // Fold the WAL into the file first so that a plain copy is whole.
    let conn = Connection::open(from).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    drop(conn);
    std::fs::copy(from, to).unwrap();
}

fn entries(db: &Path) -> i64 {
    let conn = Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM journal", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn journal_verify_finds_a_seeded_journal_intact_then_names_what_was_altered() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let n = entries(&db);
    assert!(n > 100, "only {n} entries for 30 days");
    let o = verify(&db);
    assert_eq!(stdout(&o), format!("intact: {n} entries\n"));
    assert_eq!(o.status.code(), Some(0));

    // A sale line's amount changed in the table: the chain is intact, the tables are not.
    let altered_line = dir.path().join("line.db");
    copy_db(&db, &altered_line);
    let seq: i64 = {
        let conn = attacker(&altered_line);
        let seq: i64 = conn
            .query_row(
                "SELECT seq FROM sales WHERE kind = 'sale' AND training = 0 ORDER BY seq LIMIT 1 OFFSET 10",
                [],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute(
            "UPDATE sale_lines SET amount_cents = amount_cents - 100 WHERE seq = ?1 AND line_no = 1",
            [seq],
        )
        .unwrap();
        seq
    };
    let o = verify(&altered_line);
    let out = stdout(&o);
    assert!(out.starts_with(&format!("broken: seq {seq}: ")), "{out}");
    assert!(out.contains("lines[0].amount_cents"), "{out}");
    assert_eq!(o.status.code(), Some(1));

    // A payload altered in the journal (total lowered, canonical form kept).
    let altered_payload = dir.path().join("payload.db");
    copy_db(&db, &altered_payload);
    let seq = {
        let conn = attacker(&altered_payload);
        let (seq, text): (i64, String) = conn
            .query_row(
                "SELECT seq, payload FROM journal WHERE kind = 'sale' ORDER BY seq LIMIT 1 OFFSET 20",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let mut value: Value = serde_json::from_str(&text).unwrap();
        let total = value["total_cents"].as_i64().unwrap();
        value["total_cents"] = (total - 100).into();
        let text = journal::canonical_json(&value).unwrap();
        conn.execute(
            "UPDATE journal SET payload = ?2 WHERE seq = ?1",
            rusqlite::params![seq, text],
        )
        .unwrap();
        seq
    };
    let o = verify(&altered_payload);
    assert!(
        stdout(&o).starts_with(&format!("broken: seq {seq}: ")),
        "{}",
        stdout(&o)
    );
    assert_eq!(o.status.code(), Some(1));

    // A sale's rows deleted: the entry has no row any more.
    let deleted = dir.path().join("deleted.db");
    copy_db(&db, &deleted);
    let seq = {
        let conn = attacker(&deleted);
        let seq: i64 = conn
            .query_row(
                "SELECT seq FROM sales ORDER BY seq LIMIT 1 OFFSET 30",
                [],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute_batch(&format!(
            "DELETE FROM sale_payments WHERE seq = {seq}; DELETE FROM sale_lines WHERE seq = {seq};
             DELETE FROM sales WHERE seq = {seq};"
        ))
        .unwrap();
        seq
    };
    let o = verify(&deleted);
    assert!(
        stdout(&o).starts_with(&format!("broken: seq {seq}: ")),
        "{}",
        stdout(&o)
    );
    assert_eq!(o.status.code(), Some(1));

    // Not a database: exit 3, nothing on standard output.
    let o = comptoir(&[
        "journal",
        "verify",
        "--db",
        dir.path().join("missing.db").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(!dir.path().join("missing.db").exists());
}

fn first_seq_of(db: &Path, kind: &str) -> i64 {
    let conn = Connection::open(db).unwrap();
    conn.query_row(
        "SELECT seq FROM journal WHERE kind = ?1 ORDER BY seq LIMIT 1",
        [kind],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn receipt_writes_a_duplicate_as_png_or_escpos_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    copy_db(&db, &dir.path().join("before.db"));
    let before = std::fs::read(&db).unwrap();
    let seq = first_seq_of(&db, "sale");
    let d = db.to_str().unwrap();

    let png_path = dir.path().join("r.png");
    let o = comptoir(&[
        "receipt",
        &seq.to_string(),
        "--db",
        d,
        "--png",
        png_path.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let decoder = png::Decoder::new(std::fs::File::open(&png_path).unwrap());
    let reader = decoder.read_info().unwrap();
    assert_eq!(reader.info().width, 576);
    assert!(reader.info().height > 500);

    let escpos = dir.path().join("r.bin");
    let o = comptoir(&[
        "receipt",
        &seq.to_string(),
        "--db",
        d,
        "--escpos",
        escpos.to_str().unwrap(),
        "--mode",
        "text",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let bytes = std::fs::read(&escpos).unwrap();
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"DUPLICATA"));
    let ticket = [b"Ticket n\xb0 ".as_slice(), seq.to_string().as_bytes()].concat();
    assert!(has(&ticket));
    assert!(has(b"TOTAL TTC"));

    // A refund's receipt says so.
    let refund = first_seq_of(&db, "refund");
    let o = comptoir(&[
        "receipt",
        &refund.to_string(),
        "--db",
        d,
        "--escpos",
        escpos.to_str().unwrap(),
        "--mode",
        "text",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let bytes = std::fs::read(&escpos).unwrap();
    assert!(bytes.windows(13).any(|w| w == b"REMBOURSEMENT"));

    // Unknown seqs and entries that are not sales: exit 1, no file.
    let none = dir.path().join("none.png");
    for seq in ["999999", "0"] {
        let o = comptoir(&["receipt", seq, "--db", d, "--png", none.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "seq {seq}");
        assert!(!none.exists());
    }
    // Neither --png nor --escpos: usage.
    assert_eq!(
        comptoir(&["receipt", "1", "--db", d]).status.code(),
        Some(2)
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn receipt_refuses_an_entry_that_is_not_a_sale() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    record(&mut store, &market_sale(), &ctx(), "2026-06-13T08:42:05Z");
    sales::record_abandoned_cart(
        store.conn(),
        &[("Tomates".into(), 432)],
        SELLER,
        t("2026-06-13T08:45:00Z"),
    )
    .unwrap();
    drop(store);
    let db = dir.path().join("comptoir.db");
    let out = dir.path().join("r.png");
    let o = comptoir(&[
        "receipt",
        "2",
        "--db",
        db.to_str().unwrap(),
        "--png",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists());
    let o = comptoir(&[
        "receipt",
        "1",
        "--db",
        db.to_str().unwrap(),
        "--png",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), format!("wrote receipt 1 {}\n", out.display()));
}

#[test]
fn export_sales_csv_parses_back_and_adds_up_to_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let d = db.to_str().unwrap();
    let o = comptoir(&["export", "sales", "--db", d]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = stdout(&o);
    assert!(text.starts_with("date,time_utc,kiosk_id,seq,kind,"));
    assert!(text.contains("\r\n"));
    let rows: Vec<ExportRow> = csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(rows.len() > 300);

    let store = Store::open(&db, Access::ReadOnly).unwrap();
    let last = journal::head(store.conn()).unwrap().unwrap().seq;
    let totals = journal::sum_sales(store.conn(), 1, last).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.net_cents).sum::<i64>(),
        totals.total_cents
    );
    let mut tickets: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    tickets.dedup();
    assert_eq!(tickets.len() as i64, totals.ticket_count);
    assert!(rows.iter().any(|r| r.kind == "refund" && r.net_cents < 0));
    assert!(rows
        .iter()
        .all(|r| r.amount_cents - r.line_discount_cents - r.cart_discount_cents == r.net_cents));
    for rate in &totals.by_vat_rate {
        let sum: i64 = rows
            .iter()
            .filter(|r| r.vat_bp == rate.vat_bp)
            .map(|r| r.net_cents)
            .sum();
        assert_eq!(sum, rate.ttc_cents, "rate {}", rate.vat_bp);
    }

    // One week, both ends inclusive, in JSON with the same keys.
    let o = comptoir(&[
        "export",
        "sales",
        "--db",
        d,
        "--from",
        "2026-06-06",
        "--to",
        "2026-06-13",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let week: Vec<ExportRow> = serde_json::from_slice(&o.stdout).unwrap();
    assert!(!week.is_empty());
    assert!(week
        .iter()
        .all(|r| ("2026-06-06".."2026-06-14").contains(&r.date.as_str())));
    assert!(week.iter().any(|r| r.date == "2026-06-06"));
    assert!(week.iter().any(|r| r.date == "2026-06-13"));
    let expected: Vec<&ExportRow> = rows
        .iter()
        .filter(|r| r.date.as_str() >= "2026-06-06" && r.date.as_str() <= "2026-06-13")
        .collect();
    assert_eq!(week.iter().collect::<Vec<_>>(), expected);

    // An empty period still has its header.
    let o = comptoir(&["export", "sales", "--db", d, "--from", "2030-01-01"]);
    assert_eq!(stdout(&o).lines().count(), 1);
    // --from after --to: usage.
    let o = comptoir(&[
        "export",
        "sales",
        "--db",
        d,
        "--from",
        "2026-06-13",
        "--to",
        "2026-06-01",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_seed_is_deterministic_and_sells_on_market_days() {
    let dir = tempfile::tempdir().unwrap();
    let a = seeded(dir.path());
    let other = tempfile::tempdir().unwrap();
    let b = seeded(other.path());
    let rows = |db: &Path| -> Vec<(String, String, i64)> {
        let conn = Connection::open(db).unwrap();
        let mut stmt = conn
            .prepare("SELECT time_utc, kind, total_cents FROM sales ORDER BY seq")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let (ra, rb) = (rows(&a), rows(&b));
    assert_eq!(ra, rb);
    use chrono::{Datelike, Weekday};
    let tz = chrono_tz::Europe::Paris;
    for (time, _, _) in &ra {
        let day = t(time).with_timezone(&tz).weekday();
        assert!(matches!(day, Weekday::Wed | Weekday::Sat), "{time}");
    }
}

/// A "divers" line typed `=HYPERLINK(...)` or `-5 kg` is text in the CSV (a leading
/// apostrophe, so a spreadsheet does not run it), while the refund's negative amounts stay
/// numbers and the JSON export keeps the labels as typed.
#[test]
fn export_sales_csv_defuses_formulas_and_keeps_negative_amounts() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let formula = "=HYPERLINK(\"http://evil.example\",\"clic\")";
    let mut cart = Cart::new(SELLER);
    cart.add_line(0, formula, 2000, LineKind::Divers { cents: 300 })
        .unwrap();
    cart.add_line(0, "-5 kg", 550, LineKind::Divers { cents: 450 })
        .unwrap();
    cart.add_line(0, "@SUM(A1)", 550, LineKind::Divers { cents: 100 })
        .unwrap();
    let policy = PaymentPolicy::default();
    cart.add_payment(PaymentMethod::Cash, 850, &policy).unwrap();
    let sale = cart.close_paid().unwrap();
    let sold = record(&mut store, &sale, &ctx(), "2026-06-13T08:00:00Z");
    let tx = store.conn_mut().transaction().unwrap();
    sales::record_refund(&tx, sold.seq, &[2], &ctx(), t("2026-06-13T09:00:00Z")).unwrap();
    tx.commit().unwrap();
    drop(store);
    let db = dir.path().join("comptoir.db");
    let d = db.to_str().unwrap();

    let o = comptoir(&["export", "sales", "--db", d]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = stdout(&o);
    let rows: Vec<ExportRow> = csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap();
    let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            format!("'{formula}").as_str(),
            "'-5 kg",
            "'@SUM(A1)",
            "'-5 kg"
        ],
        "{text}"
    );
    let refund = rows.iter().find(|r| r.kind == "refund").unwrap();
    assert_eq!((refund.amount_cents, refund.net_cents), (-450, -450));
    // The raw cells: no apostrophe before a number, not even a negative one.
    assert!(text.contains(",-450,"), "{text}");
    assert!(!text.contains("'-450"), "{text}");

    let o = comptoir(&["export", "sales", "--db", d, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let json: Vec<ExportRow> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json[0].label, formula);
    assert_eq!(json[1].label, "-5 kg");
    assert_eq!(json[3].net_cents, -450);
}

/// A receipt written to a full disk leaves nothing under the asked name (not an empty file,
/// not half a PNG), and an older file there stays whole. The disk is "full" after 1 kB: the
/// child runs under `ulimit -f 1` with SIGXFSZ ignored, so its writes fail as on a full stick.
#[test]
fn a_receipt_written_to_a_full_disk_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    record(&mut store, &market_sale(), &ctx(), "2026-06-13T08:42:05Z");
    drop(store);
    let db = dir.path().join("comptoir.db");
    // The kiosk has the database open, as at the stall: its -wal and -shm already exist, so the
    // one-block file size limit below falls on the receipt alone, not on SQLite's shared memory.
    let _kiosk = Connection::open(&db).unwrap();
    _kiosk
        .query_row("SELECT count(*) FROM journal", [], |r| r.get::<_, i64>(0))
        .unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let full = |flag: &str, file: &Path| {
        Command::new("sh")
            .arg("-c")
            .arg("trap '' XFSZ; ulimit -f 1; exec \"$@\"")
            .arg("sh")
            .arg(env!("CARGO_BIN_EXE_comptoir"))
            .args(["receipt", "1", "--db", db.to_str().unwrap(), flag])
            .arg(file)
            .env("XDG_DATA_HOME", "/nonexistent-comptoir-data")
            .env("XDG_CONFIG_HOME", "/nonexistent-comptoir-config")
            .output()
            .unwrap()
    };
    let png = out.join("r.png");
    let o = full("--png", &png);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!png.exists(), "no partial PNG");
    assert!(String::from_utf8_lossy(&o.stderr).contains("r.png"));
    // An older receipt under that name stays as it was.
    std::fs::write(&png, b"older receipt").unwrap();
    let o = full("--png", &png);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(&png).unwrap(), b"older receipt");
    let escpos = out.join("r.bin");
    let o = full("--escpos", &escpos);
    assert_eq!(o.status.code(), Some(1));
    assert!(!escpos.exists(), "no partial ESC/POS file");
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["r.png"], "no temporary file left beside");
    // /dev/full: the write fails at once; nothing is reported written.
    let o = comptoir(&[
        "receipt",
        "1",
        "--db",
        db.to_str().unwrap(),
        "--png",
        "/dev/full",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    // With room, the same command writes the whole file.
    let o = comptoir(&[
        "receipt",
        "1",
        "--db",
        db.to_str().unwrap(),
        "--png",
        png.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
}
