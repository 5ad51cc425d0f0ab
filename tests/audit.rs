//! `comptoir journal verify` recomputes everything it can and covers every ledger (issue #14,
//! items 2 and 3): each attack below verified `intact` before; now it is named, exit 1.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use comptoir::app::closures;
use comptoir::store::{cash, journal, people, Access, Store};
use ed25519_dalek::{Signer, SigningKey};
use rusqlite::{params, Connection};
use serde_json::{Map, Value};

use crate::common::{run_comptoir, seeded_db, staff_id_in, tamper};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `journal verify`'s standard output and exit code.
fn verify(db: &Path) -> (String, i32) {
    let out = run_comptoir(&["journal", "verify", "--db", s(db)]);
    (
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        out.status.code().unwrap(),
    )
}

fn assert_intact(db: &Path) {
    let (line, code) = verify(db);
    assert!(line.starts_with("intact: "), "{line}");
    assert_eq!(code, 0);
}

fn assert_fault(db: &Path, prefix: &str) -> String {
    let (line, code) = verify(db);
    assert!(
        line.starts_with(prefix),
        "expected {prefix:?}, got {line:?}"
    );
    assert_eq!(code, 1, "{line}");
    line
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-14T06:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A seeded demo database with its day, month and year closures written (signed with
/// `<db>.key`), a cash session with a movement, and some staff events.
fn records() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, db, mut store) = seeded_db(6);
    let key = journal::key_path_for(&db);
    let admin = staff_id_in(&store, "Admin");
    let tx = store.write().unwrap();
    closures::run_due(&tx, &key, chrono_tz::Europe::Paris, now()).unwrap();
    let session = cash::open_session(&tx, admin, 5000, now()).unwrap();
    cash::add_movement(
        &tx,
        session,
        admin,
        -2000,
        cash::MovementReason::BankDeposit,
        now(),
    )
    .unwrap();
    for _ in 0..3 {
        people::record_event(
            &tx,
            "2026-06-14T06:00:00Z",
            people::StaffEvent::SignedIn,
            Some(admin),
            Some(admin),
            "home",
            "",
        )
        .unwrap();
    }
    tx.commit().unwrap();
    drop(store);
    (dir, db, key)
}

/// Recomputes `prev_hash` and `hash` of every journal entry from `from` on (triggers gone).
fn rechain(conn: &Connection, from: i64) {
    let mut prev: String = conn
        .query_row("SELECT hash FROM journal WHERE seq = ?1", [from - 1], |r| {
            r.get(0)
        })
        .unwrap();
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT seq, payload FROM journal WHERE seq >= ?1 ORDER BY seq")
        .unwrap()
        .query_map([from], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (seq, payload) in rows {
        let hash = journal::entry_hash(&prev, &payload).unwrap();
        conn.execute(
            "UPDATE journal SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            params![prev, hash, seq],
        )
        .unwrap();
        prev = hash;
    }
}

#[test]
fn untouched_records_verify_intact() {
    let (_dir, db, _key) = records();
    assert_intact(&db);
}

// ---------------------------------------------------------------------------------------------
// Keys

#[test]
fn a_key_change_signed_only_by_itself_is_unattested() {
    let (_dir, db, key) = records();
    // The key is "lost"; anyone then registers a key of their own, signed by itself.
    std::fs::remove_file(&key).unwrap();
    let mut store = Store::open(&db, Access::ReadWrite).unwrap();
    let tx = store.write().unwrap();
    let (_, entry) = journal::rotate_key(&tx, &key, now(), Map::new()).unwrap();
    tx.commit().unwrap();
    drop(store);
    let line = assert_fault(&db, "unattested: ");
    assert_eq!(line, format!("unattested: seq {}", entry.seq));
}

#[test]
fn a_rotation_with_the_old_key_or_the_recovery_key_is_attested() {
    let (dir, db, key) = records();
    // A routine rotation: the old key attests the new one.
    let mut store = Store::open(&db, Access::ReadWrite).unwrap();
    let tx = store.write().unwrap();
    journal::rotate_key(&tx, &key, now(), Map::new()).unwrap();
    tx.commit().unwrap();
    drop(store);
    assert_intact(&db);

    // The association's recovery key, made off the kiosk, registered by its public half.
    let file = dir.path().join("recovery.key");
    let out = run_comptoir(&["key", "recovery-new", "--out", s(&file)]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let public = text
        .lines()
        .find_map(|l| l.strip_prefix("public: "))
        .unwrap()
        .to_string();
    assert!(text.contains("fingerprint: ed25519:"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never overwritten.
    let again = run_comptoir(&["key", "recovery-new", "--out", s(&file)]);
    assert_eq!(again.status.code(), Some(1));
    let out = run_comptoir(&[
        "key",
        "recovery-register",
        "--db",
        s(&db),
        "--public",
        &public,
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("registered: seq "));
    // Its private half is nowhere in the database.
    let secret = std::fs::read_to_string(&file).unwrap();
    let secret = secret
        .lines()
        .find_map(|l| l.strip_prefix("secret "))
        .unwrap()
        .to_string();
    let bytes = std::fs::read(&db).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains(&secret));

    // The kiosk's key is lost: the recovery key attests the new one.
    std::fs::remove_file(&key).unwrap();
    let other = dir.path().join("other.key");
    run_comptoir(&["key", "recovery-new", "--out", s(&other)]);
    let refused = run_comptoir(&["key", "rotate", "--db", s(&db), "--recovery", s(&other)]);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "another recovery key is refused"
    );
    assert!(!key.exists());
    let out = run_comptoir(&["key", "rotate", "--db", s(&db), "--recovery", s(&file)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("rotated: seq "));
    assert!(key.exists());
    assert_intact(&db);
    // The new key signs the next closures.
    let store = Store::open(&db, Access::ReadOnly).unwrap();
    assert_eq!(
        journal::key_status(store.conn(), &key).unwrap(),
        journal::KeyStatus::Ok
    );
}

// ---------------------------------------------------------------------------------------------
// Closures

/// The newest day closure with tickets.
fn closure_with_tickets(conn: &Connection) -> (i64, Map<String, Value>) {
    let (seq, payload): (i64, String) = conn
        .query_row(
            "SELECT seq, payload FROM journal WHERE kind = 'closure'
               AND json_extract(payload, '$.period') = 'day'
               AND json_extract(payload, '$.ticket_count') > 0
             ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    match serde_json::from_str(&payload).unwrap() {
        Value::Object(map) => (seq, map),
        _ => unreachable!(),
    }
}

#[test]
fn a_closure_with_wrong_figures_signed_again_with_the_key_is_broken() {
    let (_dir, db, key) = records();
    let signing = SigningKey::from_bytes(&std::fs::read(&key).unwrap().try_into().unwrap());
    let conn = Connection::open(&db).unwrap();
    let (seq, mut map) = closure_with_tickets(&conn);
    drop(conn);
    // 8,28 EUR more than its tickets, in the period and the grand total, signed again.
    for member in ["period_total_cents", "grand_total_cents"] {
        let v = map[member].as_i64().unwrap() + 828;
        map.insert(member.into(), v.into());
    }
    map.remove("signature");
    let message = journal::canonical_json(&Value::Object(map.clone())).unwrap();
    map.insert(
        "signature".into(),
        hex::encode(signing.sign(message.as_bytes()).to_bytes()).into(),
    );
    let payload = journal::canonical_json(&Value::Object(map)).unwrap();
    tamper(
        &db,
        &["journal_no_update", "journal_no_delete", "journal_chain"],
        |c| {
            c.execute(
                "UPDATE journal SET payload = ?1 WHERE seq = ?2",
                params![payload, seq],
            )
            .unwrap();
            rechain(c, seq);
        },
    );
    let line = assert_fault(&db, &format!("broken: seq {seq}: "));
    assert!(line.contains("day closure says a total of"), "{line}");
}

// ---------------------------------------------------------------------------------------------
// Ledgers

#[test]
fn credits_edited_behind_the_app_are_broken() {
    let (_dir, db, _key) = records();
    let conn = Connection::open(&db).unwrap();
    let seq: i64 = conn
        .query_row("SELECT max(seq) FROM credit_ledger", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    tamper(&db, &["credit_ledger_no_update"], |c| {
        c.execute_batch(&format!(
            "UPDATE credit_ledger SET cents = 50000 WHERE seq = {seq}"
        ))
        .unwrap()
    });
    let line = assert_fault(&db, &format!("broken: credits seq {seq}: "));
    assert!(line.contains("differ"), "{line}");
}

#[test]
fn sales_rows_without_their_entry_are_broken() {
    // Rows that no sale or refund entry accounts for, each named by its own seq: a sale copied
    // under a closure's seq, a payment after the last entry, a sale of another kiosk.
    let (dir, db, _key) = records();
    let conn = Connection::open(&db).unwrap();
    let first = |kind: &str| -> i64 {
        conn.query_row(
            "SELECT min(seq) FROM journal WHERE kind = ?1",
            [kind],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (closure, sale) = (first("closure"), first("sale"));
    let last: i64 = conn
        .query_row("SELECT max(seq) FROM journal", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    let copy_sale_to = |seq: i64, kiosk: &str| {
        format!(
            "INSERT INTO sales SELECT {kiosk}, {seq}, kind, time_utc, cashier_id, cashier_name,
                 cash_session_id, total_cents, paid_cents, change_cents, cart_discount_kind,
                 cart_discount_value, cart_discount_by, training, refund_of, approved_by
             FROM sales WHERE seq = {sale};
             INSERT INTO sale_lines SELECT {kiosk}, {seq}, line_no, product_id, label, kind,
                 grams, qty, unit_cents, manual_weight, amount_cents, discount_kind,
                 discount_value, discount_by, discount_cents, cart_discount_cents, net_cents,
                 vat_bp
             FROM sale_lines WHERE seq = {sale};"
        )
    };
    for (name, sql, seq, table) in [
        (
            "under-closure",
            copy_sale_to(closure, "kiosk_id"),
            closure,
            "sales",
        ),
        (
            "after-last",
            format!(
                "INSERT INTO sale_payments SELECT kiosk_id, {}, position, method, amount_cents
                 FROM sale_payments WHERE seq = {sale}",
                last + 5
            ),
            last + 5,
            "sale_payments",
        ),
        (
            "other-kiosk",
            copy_sale_to(sale, "'another-kiosk'"),
            sale,
            "sales",
        ),
    ] {
        let file = dir.path().join(format!("{name}.db"));
        std::fs::copy(&db, &file).unwrap();
        tamper(&file, &[], |c| {
            c.execute_batch(&format!("PRAGMA foreign_keys = OFF; {sql}"))
                .unwrap()
        });
        let (line, code) = verify(&file);
        assert_eq!(
            line,
            format!("broken: seq {seq}: a {table} row without its journal entry"),
            "{name}"
        );
        assert_eq!(code, 1, "{name}");
    }
}

#[test]
fn stock_tables_that_disagree_with_their_replay_are_broken() {
    // A move's on-hand edited (the chain of moves is step 8; the replay, step 7, sees it first).
    let (_dir, db, _key) = records();
    let id: i64 = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT id FROM stock_moves ORDER BY id LIMIT 1 OFFSET 40",
            [],
            |r| r.get(0),
        )
        .unwrap();
    tamper(&db, &["stock_moves_no_update"], |c| {
        c.execute(
            "UPDATE stock_moves SET on_hand = on_hand + 7 WHERE id = ?1",
            [id],
        )
        .unwrap();
    });
    let line = assert_fault(&db, "broken: stock_moves: ");
    assert!(line.contains(&format!("move {id}: ")), "{line}");
    assert!(line.contains("the ledger says"), "{line}");

    // A lot's remainder that its flows do not give.
    let (_dir, db, _key) = records();
    tamper(&db, &[], |c| {
        c.execute_batch(
            "UPDATE stock_lots SET remaining = remaining + 500
             WHERE id = (SELECT max(id) FROM stock_lots WHERE remaining > 0)",
        )
        .unwrap();
    });
    let line = assert_fault(&db, "broken: stock_moves: ");
    assert!(line.contains("the ledger says lots"), "{line}");
}

#[test]
fn a_bank_deposit_edited_behind_the_app_is_broken() {
    let (_dir, db, _key) = records();
    tamper(&db, &["cash_movements_no_update"], |c| {
        c.execute_batch("UPDATE cash_movements SET cents = -200 WHERE reason = 'bank_deposit'")
            .unwrap()
    });
    let line = assert_fault(&db, "broken: cash_movements seq ");
    assert!(line.contains("differs from its journal entry"), "{line}");
}

#[test]
fn a_deposit_edited_behind_the_app_is_broken() {
    let (_dir, db, _key) = records();
    tamper(&db, &["deposits_no_update"], |c| {
        c.execute_batch(
            "UPDATE deposits SET gross_g = gross_g + 5000, net_g = net_g + 5000
         WHERE id = (SELECT min(id) + 3 FROM deposits)",
        )
        .unwrap()
    });
    let line = assert_fault(&db, "broken: deposits seq 4: ");
    assert!(line.contains("edited behind the app's back"), "{line}");
}

#[test]
fn a_harvest_edited_behind_the_app_is_broken() {
    let (_dir, db, _key) = records();
    tamper(&db, &["harvests_no_update"], |c| {
        c.execute_batch(
            "UPDATE harvests SET qty = qty + 1000, own_use = own_use + 1000
         WHERE id = (SELECT min(id) FROM harvests)",
        )
        .unwrap()
    });
    let line = assert_fault(&db, "broken: harvests seq 1: ");
    assert!(line.contains("differs from what was recorded"), "{line}");
}

#[test]
fn a_staff_event_deleted_behind_the_app_is_broken() {
    let (_dir, db, _key) = records();
    let conn = Connection::open(&db).unwrap();
    let (id, n): (i64, i64) = conn
        .query_row("SELECT max(id) - 1, count(*) FROM staff_events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    drop(conn);
    tamper(&db, &["staff_events_no_delete"], |c| {
        c.execute_batch(&format!("DELETE FROM staff_events WHERE id = {id}"))
            .unwrap()
    });
    let line = assert_fault(&db, &format!("broken: staff_events seq {}: ", n - 1));
    assert!(line.contains(&format!("row {id} is missing")), "{line}");
}

/// Recomputes the deposits' chain from their rows as they are now (triggers gone).
fn rechain_deposits(conn: &Connection) {
    let kiosk: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'kiosk_id'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let def = comptoir::store::ledger::DEPOSITS;
    let ids: Vec<(i64, i64)> = conn
        .prepare("SELECT seq, row_id FROM ledger_chain WHERE ledger = 'deposits' ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev = journal::ZERO_HASH.to_string();
    for (seq, id) in ids {
        let row: Map<String, Value> = conn
            .query_row(
                &format!(
                    "SELECT {} FROM deposits WHERE id = ?1",
                    def.columns.join(", ")
                ),
                [id],
                |r| {
                    let mut m = Map::new();
                    for (i, c) in def.columns.iter().enumerate() {
                        let v: Value = match r.get_ref(i).unwrap() {
                            rusqlite::types::ValueRef::Integer(n) => n.into(),
                            rusqlite::types::ValueRef::Text(t) => {
                                String::from_utf8_lossy(t).into_owned().into()
                            }
                            _ => Value::Null,
                        };
                        m.insert((*c).into(), v);
                    }
                    Ok(m)
                },
            )
            .unwrap();
        let text = comptoir::store::ledger::payload(&kiosk, &def, seq, row);
        let hash = journal::entry_hash(&prev, &text).unwrap();
        conn.execute(
            "UPDATE ledger_chain SET prev_hash = ?1, hash = ?2 WHERE ledger = 'deposits' AND seq = ?3",
            params![prev, hash, seq],
        )
        .unwrap();
        prev = hash;
    }
}

#[test]
fn a_ledger_rewritten_and_chained_again_misses_its_anchor() {
    let (_dir, db, _key) = records();
    // Edit the first deposit and chain the whole ledger again, as a careful attacker would.
    tamper(
        &db,
        &["deposits_no_update", "ledger_chain_no_update"],
        |conn| {
            conn.execute_batch(
                "UPDATE deposits SET gross_g = gross_g + 5000, net_g = net_g + 5000
             WHERE id = (SELECT min(id) FROM deposits)",
            )
            .unwrap();
            rechain_deposits(conn);
        },
    );
    let line = assert_fault(&db, "broken: deposits seq ");
    assert!(line.contains("anchored"), "{line}");
}

#[test]
fn the_backup_check_runs_the_same_audit() {
    let (_dir, db, _key) = records();
    tamper(&db, &["cash_movements_no_update"], |c| {
        c.execute_batch("UPDATE cash_movements SET cents = -200")
            .unwrap()
    });
    let store = Store::open(&db, Access::ReadOnly).unwrap();
    let err = comptoir::store::backup::check_connection(store.conn()).unwrap_err();
    assert!(err.starts_with("broken: cash_movements"), "{err}");
}

#[test]
fn rows_made_before_the_chains_are_chained_by_the_migration() {
    // A database at the schema before the ledger chains, with rows in every ledger.
    let dir = tempfile::tempdir().unwrap();
    let (_seeded_dir, seeded, store) = seeded_db(3);
    drop(store);
    let old = dir.path().join("old.db");
    std::fs::copy(&seeded, &old).unwrap();
    let conn = Connection::open(&old).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    conn.execute_batch("DROP TABLE ledger_chain").unwrap();
    // Back to the version before the chains: the migration runs again on opening.
    let chains = comptoir::store::migrations::MIGRATIONS
        .iter()
        .position(|m| m.contains("CREATE TABLE ledger_chain"))
        .unwrap() as i64;
    assert!(chains < version);
    conn.pragma_update(None, "user_version", chains).unwrap();
    drop(conn);
    let line = assert_fault(&old, "broken: ledger_chain: ");
    assert!(line.contains("missing"), "{line}");
    drop(Store::open(&old, Access::ReadWrite).unwrap());
    assert_intact(&old);
}
