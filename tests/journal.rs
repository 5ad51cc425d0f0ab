//! The journal on real SQLite files: the chain, the triggers, tampering by someone who drops
//! the triggers with sqlite3, canonical JSON fixtures, the clock rule, keys and closures.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use comptoir::store::journal::{
    self, canonical_json, entry_hash, parse_canonical, CanonicalError, ClosureFigures,
    JournalError, KeyStatus, Period, VatTotal, ZERO_HASH,
};
use comptoir::store::{meta, Access, Store};
use ed25519_dalek::{Signer, SigningKey};
use rusqlite::{params, Connection};
use serde_json::{json, Map, Value};

fn t(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn body(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("not an object"),
    }
}

/// A sale of `total` cents at 5.5 % VAT, with the breakdown of ARCHITECTURE.md, "Rules of the
/// data".
fn sale(total: i64) -> Map<String, Value> {
    let ht = (total * 10000 * 2 + 10550) / (2 * 10550); // round half up, positive amounts
    body(json!({
        "total_cents": total,
        "lines": [{"product_id": 3, "grams": 1234, "cents_per_kg": 450, "amount_cents": total}],
        "payments": [{"method": "cash", "cents": total}],
        "vat": [{"vat_bp": 550, "ttc_cents": total, "ht_cents": ht, "vat_cents": total - ht}],
    }))
}

fn new_db(dir: &Path) -> (Store, PathBuf) {
    let path = dir.join("comptoir.db");
    (Store::open(&path, Access::ReadWrite).unwrap(), path)
}

/// A database with `n` sales, one a minute from 2026-06-13 08:00 UTC.
fn with_sales(dir: &Path, n: i64) -> (Store, PathBuf) {
    let (store, path) = new_db(dir);
    for i in 0..n {
        let time = t("2026-06-13T08:00:00Z") + Duration::minutes(i);
        journal::append(store.conn(), "sale", time, sale(100 + i)).unwrap();
    }
    (store, path)
}

/// What someone with sqlite3 and the file can do: drop the triggers, then write at will.
fn attacker(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete; DROP TRIGGER journal_chain;",
    )
    .unwrap();
    conn
}

/// The attacker recomputes prev_hash and hash of every entry from `from` on.
fn rechain(conn: &Connection, from: i64) {
    let mut prev: String = if from == 1 {
        ZERO_HASH.into()
    } else {
        conn.query_row("SELECT hash FROM journal WHERE seq = ?1", [from - 1], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT seq, payload FROM journal WHERE seq >= ?1 ORDER BY seq")
        .unwrap()
        .query_map([from], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (seq, payload) in rows {
        let hash = entry_hash(&prev, &payload).unwrap();
        conn.execute(
            "UPDATE journal SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            params![prev, hash, seq],
        )
        .unwrap();
        prev = hash;
    }
}

fn payload_of(conn: &Connection, seq: i64) -> String {
    conn.query_row("SELECT payload FROM journal WHERE seq = ?1", [seq], |r| {
        r.get(0)
    })
    .unwrap()
}

fn broken_at(conn: &Connection) -> (i64, String) {
    match journal::verify(conn) {
        Err(JournalError::Broken { seq, reason }) => (seq, reason),
        other => panic!("expected a broken journal, got {other:?}"),
    }
}

fn sqlite_message(result: rusqlite::Result<usize>) -> String {
    match result {
        Err(rusqlite::Error::SqliteFailure(_, Some(message))) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The chain

#[test]
fn a_chain_of_entries_verifies_and_links_by_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = with_sales(dir.path(), 5);
    let conn = store.conn();
    let kiosk = meta::kiosk_id(conn).unwrap();
    journal::append(
        conn,
        "cash_in",
        t("2026-06-13T09:00:00Z"),
        body(json!({"cents": 5000, "staff_id": 1})),
    )
    .unwrap();

    let report = journal::verify(conn).unwrap();
    assert_eq!(report.entries, 6);
    assert_eq!(report.last_seq, 6);
    let head = journal::head(conn).unwrap().unwrap();
    assert_eq!(head.seq, 6);
    assert_eq!(report.last_hash, head.hash);

    let mut prev = ZERO_HASH.to_string();
    for seq in 1..=6 {
        let e = journal::entry(conn, seq).unwrap().unwrap();
        assert_eq!(e.prev_hash, prev);
        assert_eq!(e.hash, entry_hash(&e.prev_hash, &e.payload).unwrap());
        assert_eq!(e.kiosk_id, kiosk);
        let p = e.payload_value().unwrap();
        assert_eq!(p["seq"], json!(seq));
        assert_eq!(p["kind"], json!(e.kind));
        assert_eq!(p["time_utc"], json!(e.time_utc));
        assert_eq!(p["kiosk_id"], json!(kiosk));
        assert_eq!(parse_canonical(&e.payload).unwrap(), Value::Object(p));
        prev = e.hash;
    }
    drop(store);
    let again = Store::open(&path, Access::ReadOnly).unwrap();
    assert_eq!(journal::verify(again.conn()).unwrap().entries, 6);
}

#[test]
fn the_first_payload_and_hash_are_exactly_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = new_db(dir.path());
    let conn = store.conn();
    let kiosk = meta::kiosk_id(conn).unwrap();
    let e = journal::append(
        conn,
        "cash_in",
        t("2026-06-13T08:00:00.750+02:00"),
        body(json!({"staff_id": 2, "cents": 5000, "note": "fond de caisse"})),
    )
    .unwrap();
    let expected = format!(
        r#"{{"cents":5000,"kind":"cash_in","kiosk_id":"{kiosk}","note":"fond de caisse","seq":1,"staff_id":2,"time_utc":"2026-06-13T06:00:00Z"}}"#
    );
    assert_eq!(e.payload, expected);
    assert_eq!(e.time_utc, "2026-06-13T06:00:00Z");
    assert_eq!(e.prev_hash, ZERO_HASH);
    use sha2::Digest;
    let mut bytes = vec![0u8; 32];
    bytes.extend_from_slice(expected.as_bytes());
    assert_eq!(e.hash, hex::encode(sha2::Sha256::digest(&bytes)));
}

#[test]
fn an_empty_journal_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = new_db(dir.path());
    let report = journal::verify(store.conn()).unwrap();
    assert_eq!(
        (report.entries, report.last_seq, report.last_hash.as_str()),
        (0, 0, ZERO_HASH)
    );
    assert_eq!(journal::head(store.conn()).unwrap(), None);
    assert_eq!(journal::last_time(store.conn()).unwrap(), None);
}

#[test]
fn the_entry_commits_or_rolls_back_with_the_callers_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = with_sales(dir.path(), 2);
    {
        let tx = store.conn_mut().transaction().unwrap();
        journal::append(&tx, "sale", t("2026-06-13T10:00:00Z"), sale(300)).unwrap();
        tx.rollback().unwrap();
    }
    assert_eq!(journal::head(store.conn()).unwrap().unwrap().seq, 2);
    {
        let tx = store.conn_mut().transaction().unwrap();
        let e = journal::append(&tx, "sale", t("2026-06-13T10:00:00Z"), sale(300)).unwrap();
        assert_eq!(e.seq, 3);
        tx.commit().unwrap();
    }
    assert_eq!(journal::verify(store.conn()).unwrap().entries, 3);
}

#[test]
fn bodies_with_reserved_members_floats_or_signed_kinds_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = new_db(dir.path());
    let conn = store.conn();
    let now = t("2026-06-13T08:00:00Z");
    for reserved in ["seq", "kiosk_id", "kind", "time_utc", "signature"] {
        let mut b = sale(100);
        b.insert(reserved.into(), json!(1));
        assert!(
            matches!(
                journal::append(conn, "sale", now, b),
                Err(JournalError::Invalid(_))
            ),
            "{reserved}"
        );
    }
    let err = journal::append(conn, "sale", now, body(json!({"total_cents": 1.5}))).unwrap_err();
    assert!(
        matches!(&err, JournalError::Canonical(CanonicalError::NotInteger { path, .. }) if path == "$.total_cents"),
        "{err:?}"
    );
    for kind in ["closure", "key_registered", "Sale", "", "a-b"] {
        assert!(journal::append(conn, kind, now, sale(1)).is_err(), "{kind}");
    }
    assert_eq!(journal::head(conn).unwrap(), None, "nothing was written");
}

// ---------------------------------------------------------------------------------------------
// The triggers

#[test]
fn update_and_delete_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = with_sales(dir.path(), 3);
    let conn = store.conn();
    let message =
        sqlite_message(conn.execute("UPDATE journal SET payload = '{}' WHERE seq = 2", []));
    assert!(message.contains("append-only"), "{message}");
    let message = sqlite_message(conn.execute("UPDATE journal SET kind = 'refund'", []));
    assert!(message.contains("append-only"), "{message}");
    let message = sqlite_message(conn.execute("DELETE FROM journal WHERE seq = 3", []));
    assert!(message.contains("append-only"), "{message}");
    let message = sqlite_message(conn.execute("DELETE FROM journal", []));
    assert!(message.contains("append-only"), "{message}");
    assert_eq!(journal::verify(conn).unwrap().entries, 3);
}

/// Inserts a row with the given seq and prev_hash, and a correct hash of `payload`.
fn raw_insert(
    conn: &Connection,
    or_replace: bool,
    seq: i64,
    prev_hash: &str,
    payload: &str,
) -> rusqlite::Result<usize> {
    let kiosk = meta::kiosk_id(conn).unwrap();
    let verb = if or_replace {
        "INSERT OR REPLACE"
    } else {
        "INSERT"
    };
    conn.execute(
        &format!(
            "{verb} INTO journal (seq, kiosk_id, kind, time_utc, payload, prev_hash, hash)
             VALUES (?1, ?2, 'sale', '2026-06-13T09:00:00Z', ?3, ?4, ?5)"
        ),
        params![
            seq,
            kiosk,
            payload,
            prev_hash,
            entry_hash(prev_hash, payload).unwrap()
        ],
    )
}

#[test]
fn out_of_sequence_inserts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = with_sales(dir.path(), 3);
    let conn = store.conn();
    let last = journal::head(conn).unwrap().unwrap();
    for seq in [0, 1, 3, 5, 100] {
        let message = sqlite_message(raw_insert(conn, false, seq, &last.hash, "{}"));
        assert!(
            message.contains("seq must be the last seq + 1"),
            "seq {seq}: {message}"
        );
    }
    // The right seq with the right prev_hash is accepted (the triggers do not check hashes).
    raw_insert(conn, false, 4, &last.hash, "{}").unwrap();
}

#[test]
fn insert_or_replace_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = with_sales(dir.path(), 3);
    let conn = store.conn();
    let before = journal::entry(conn, 2).unwrap().unwrap();
    let message = sqlite_message(raw_insert(
        conn,
        true,
        2,
        &before.prev_hash,
        "{\"forged\":1}",
    ));
    assert!(
        message.contains("seq must be the last seq + 1"),
        "{message}"
    );
    assert_eq!(journal::entry(conn, 2).unwrap().unwrap(), before);
    let message = sqlite_message(conn.execute(
        "INSERT INTO journal SELECT * FROM journal WHERE seq = 3
         ON CONFLICT (kiosk_id, seq) DO UPDATE SET payload = '{}'",
        [],
    ));
    assert!(message.contains("seq must be"), "{message}");
    assert_eq!(journal::verify(conn).unwrap().entries, 3);
}

#[test]
fn a_wrong_prev_hash_or_another_kiosk_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = with_sales(dir.path(), 3);
    let conn = store.conn();
    let second = journal::entry(conn, 2).unwrap().unwrap();
    let message = sqlite_message(raw_insert(conn, false, 4, &second.hash, "{}"));
    assert!(
        message.contains("prev_hash must be the last hash"),
        "{message}"
    );
    let message = sqlite_message(raw_insert(conn, false, 4, ZERO_HASH, "{}"));
    assert!(
        message.contains("prev_hash must be the last hash"),
        "{message}"
    );
    let message = sqlite_message(conn.execute(
        "INSERT INTO journal VALUES (1, 'another-kiosk', 'sale', '2026-06-13T09:00:00Z', '{}', ?1, ?1)",
        [ZERO_HASH],
    ));
    assert!(message.contains("another kiosk"), "{message}");
}

#[test]
fn the_first_entry_must_start_at_one_from_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = new_db(dir.path());
    let conn = store.conn();
    let other = "11".repeat(32);
    assert!(sqlite_message(raw_insert(conn, false, 1, &other, "{}")).contains("prev_hash"));
    assert!(sqlite_message(raw_insert(conn, false, 2, ZERO_HASH, "{}")).contains("seq"));
    raw_insert(conn, false, 1, ZERO_HASH, "{}").unwrap();
}

// ---------------------------------------------------------------------------------------------
// Tampering with the triggers dropped

#[test]
fn an_altered_payload_is_named_by_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = with_sales(dir.path(), 6);
    let evil = attacker(&path);
    let forged = payload_of(&evil, 4).replace("\"total_cents\":103", "\"total_cents\":3");
    assert_ne!(forged, payload_of(&evil, 4));
    evil.execute("UPDATE journal SET payload = ?1 WHERE seq = 4", [forged])
        .unwrap();
    let (seq, reason) = broken_at(store.conn());
    assert_eq!(seq, 4);
    assert!(reason.contains("hash"), "{reason}");
    // The same alteration with the chain recomputed after it needs a closure to be caught:
    // see a_rechained_alteration_before_a_closure_breaks_its_signature.
}

#[test]
fn an_altered_time_or_kind_column_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = with_sales(dir.path(), 4);
    let evil = attacker(&path);
    evil.execute(
        "UPDATE journal SET time_utc = '2026-06-12T08:00:00Z' WHERE seq = 2",
        [],
    )
    .unwrap();
    assert_eq!(broken_at(store.conn()).0, 2);
    evil.execute(
        "UPDATE journal SET time_utc = '2026-06-13T08:01:00Z' WHERE seq = 2",
        [],
    )
    .unwrap();
    journal::verify(store.conn()).unwrap();
    evil.execute("UPDATE journal SET kind = 'refund' WHERE seq = 3", [])
        .unwrap();
    assert_eq!(broken_at(store.conn()).0, 3);
}

#[test]
fn a_deleted_row_is_named_by_the_missing_seq() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = with_sales(dir.path(), 6);
    let evil = attacker(&path);
    evil.execute("DELETE FROM journal WHERE seq = 3", [])
        .unwrap();
    let (seq, reason) = broken_at(store.conn());
    assert_eq!(seq, 3);
    assert!(reason.contains("missing"), "{reason}");

    // Renumbering the rest and recomputing the chain does not help once a closure sealed it.
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = with_sales(dir.path(), 4);
    let closure = close_day(&store, &path, t("2026-06-13T20:00:00Z"));
    let evil = attacker(&path);
    evil.execute("DELETE FROM journal WHERE seq = 2", [])
        .unwrap();
    // Renumber: each later row moves down by one, payload included.
    for seq in 3..=closure.seq {
        let payload = payload_of(&evil, seq)
            .replace(&format!("\"seq\":{seq}"), &format!("\"seq\":{}", seq - 1));
        evil.execute(
            "UPDATE journal SET seq = seq - 1, payload = ?1 WHERE seq = ?2",
            params![payload, seq],
        )
        .unwrap();
    }
    rechain(&evil, 2);
    let (seq, reason) = broken_at(store.conn());
    assert_eq!(seq, 4, "the key registration, now at 4, was signed as 5");
    assert!(reason.contains("signature"), "{reason}");
}

#[test]
fn reordered_rows_are_named_by_the_first_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = with_sales(dir.path(), 6);
    let evil = attacker(&path);
    // Swap the payloads of 3 and 4.
    let (p3, p4) = (payload_of(&evil, 3), payload_of(&evil, 4));
    evil.execute("UPDATE journal SET payload = ?1 WHERE seq = 3", [&p4])
        .unwrap();
    evil.execute("UPDATE journal SET payload = ?1 WHERE seq = 4", [&p3])
        .unwrap();
    assert_eq!(broken_at(store.conn()).0, 3);
    // Swap back, then swap the whole rows by their seq.
    evil.execute("UPDATE journal SET payload = ?1 WHERE seq = 3", [&p3])
        .unwrap();
    evil.execute("UPDATE journal SET payload = ?1 WHERE seq = 4", [&p4])
        .unwrap();
    journal::verify(store.conn()).unwrap();
    evil.execute_batch(
        "UPDATE journal SET seq = 1000 WHERE seq = 3;
         UPDATE journal SET seq = 3 WHERE seq = 4;
         UPDATE journal SET seq = 4 WHERE seq = 1000;",
    )
    .unwrap();
    assert_eq!(broken_at(store.conn()).0, 3);
    // Even with the chain recomputed, a payload's seq no longer matches its row.
    rechain(&evil, 3);
    let (seq, reason) = broken_at(store.conn());
    assert_eq!(seq, 3);
    assert!(reason.contains("differ"), "{reason}");
}

#[test]
fn a_replaced_row_breaks_the_link_of_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = with_sales(dir.path(), 6);
    let evil = attacker(&path);
    let old = journal::entry(store.conn(), 3).unwrap().unwrap();
    let forged = old
        .payload
        .replace("\"total_cents\":102", "\"total_cents\":2");
    evil.execute("DELETE FROM journal WHERE seq = 3", [])
        .unwrap();
    evil.execute(
        "INSERT INTO journal VALUES (3, ?1, 'sale', ?2, ?3, ?4, ?5)",
        params![
            old.kiosk_id,
            old.time_utc,
            forged,
            old.prev_hash,
            entry_hash(&old.prev_hash, &forged).unwrap()
        ],
    )
    .unwrap();
    let (seq, reason) = broken_at(store.conn());
    assert_eq!(seq, 4);
    assert!(reason.contains("prev_hash"), "{reason}");
}

// ---------------------------------------------------------------------------------------------
// Keys and closures

/// A day closure over every sale so far, signed with the key beside the database.
fn close_day(store: &Store, db: &Path, time: DateTime<Utc>) -> journal::Entry {
    let conn = store.conn();
    let key = journal::ensure_signing_key(conn, &journal::key_path_for(db), time).unwrap();
    let previous = journal::last_closure(conn, Period::Day).unwrap();
    let first_seq = previous.as_ref().map_or(1, |c| c.seq + 1);
    let last_seq = journal::head(conn).unwrap().unwrap().seq;
    let totals = journal::sum_sales(conn, first_seq, last_seq).unwrap();
    let day = time.date_naive();
    let figures = ClosureFigures::from_totals(
        Period::Day,
        day,
        day,
        "Europe/Paris",
        first_seq,
        last_seq,
        &totals,
        previous.map_or(0, |c| c.grand_total_cents),
    );
    journal::append_closure(conn, time, &figures, &key).unwrap()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_first_closure_creates_a_0600_key_and_registers_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = with_sales(dir.path(), 3);
    let key_path = journal::key_path_for(&path);
    assert_eq!(key_path.file_name().unwrap(), "comptoir.db.key");
    assert_eq!(
        journal::key_status(store.conn(), &key_path).unwrap(),
        KeyStatus::Ok,
        "none needed yet"
    );
    assert!(!key_path.exists());

    let closure = close_day(&store, &path, t("2026-06-13T20:00:00Z"));
    assert_eq!(closure.seq, 5, "key_registered at 4, closure at 5");
    let bytes = std::fs::read(&key_path).unwrap();
    assert_eq!(bytes.len(), 32, "raw Ed25519 seed");
    #[cfg(unix)]
    assert_eq!(mode(&key_path), 0o600);
    let key = SigningKey::from_bytes(&bytes.try_into().unwrap());
    let registration = journal::entry(store.conn(), 4)
        .unwrap()
        .unwrap()
        .payload_value()
        .unwrap();
    assert_eq!(registration["kind"], json!("key_registered"));
    assert_eq!(registration["algorithm"], json!("ed25519"));
    assert_eq!(registration["reason"], json!("first"));
    assert_eq!(
        registration["public_key"],
        json!(hex::encode(key.verifying_key().to_bytes()))
    );

    let c = closure.payload_value().unwrap();
    assert_eq!(c["period"], json!("day"));
    assert_eq!(c["period_start"], json!("2026-06-13"));
    assert_eq!(
        (c["first_seq"].clone(), c["last_seq"].clone()),
        (json!(1), json!(4))
    );
    assert_eq!(c["ticket_count"], json!(3));
    assert_eq!(c["period_total_cents"], json!(303));
    assert_eq!(c["grand_total_cents"], json!(303));
    assert_eq!(c["key_seq"], json!(4));
    assert_eq!(c["prev_hash"], json!(closure.prev_hash));
    assert_eq!(c["totals_by_vat_rate"][0]["vat_bp"], json!(550));
    assert_eq!(c["totals_by_vat_rate"][0]["ttc_cents"], json!(303));
    assert_eq!(
        journal::key_status(store.conn(), &key_path).unwrap(),
        KeyStatus::Ok
    );

    let report = journal::verify(store.conn()).unwrap();
    assert_eq!((report.entries, report.closures, report.keys), (5, 1, 1));

    // A second day uses the same key, and carries the grand total on.
    journal::append(store.conn(), "sale", t("2026-06-14T08:00:00Z"), sale(1000)).unwrap();
    let second = close_day(&store, &path, t("2026-06-14T20:00:00Z"))
        .payload_value()
        .unwrap();
    assert_eq!(second["first_seq"], json!(6));
    assert_eq!(second["period_total_cents"], json!(1000));
    assert_eq!(second["grand_total_cents"], json!(1303));
    assert_eq!(second["key_seq"], json!(4));
    assert_eq!(journal::verify(store.conn()).unwrap().keys, 1);
}

#[test]
fn a_missing_key_blocks_until_a_rotation_is_journaled() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = with_sales(dir.path(), 2);
    let key_path = journal::key_path_for(&path);
    close_day(&store, &path, t("2026-06-13T20:00:00Z"));
    let old = journal::load_key(&key_path).unwrap().unwrap();

    std::fs::remove_file(&key_path).unwrap();
    let conn = store.conn();
    assert_eq!(
        journal::key_status(conn, &key_path).unwrap(),
        KeyStatus::Missing
    );
    assert!(matches!(
        journal::ensure_signing_key(conn, &key_path, t("2026-06-14T20:00:00Z")),
        Err(JournalError::KeyMissing { .. })
    ));
    assert!(!key_path.exists(), "a missing key is never silently remade");

    // Another key in the file is no better.
    std::fs::write(&key_path, [7u8; 32]).unwrap();
    assert_eq!(
        journal::key_status(conn, &key_path).unwrap(),
        KeyStatus::Mismatch
    );
    std::fs::write(&key_path, [7u8; 5]).unwrap();
    assert_eq!(
        journal::key_status(conn, &key_path).unwrap(),
        KeyStatus::Mismatch
    );
    std::fs::remove_file(&key_path).unwrap();

    let (new, entry) = journal::rotate_key(
        conn,
        &key_path,
        t("2026-06-14T07:00:00Z"),
        body(json!({"reason": "key_missing", "staff_id": 1})),
    )
    .unwrap();
    assert_ne!(new.verifying_key(), old.verifying_key());
    #[cfg(unix)]
    assert_eq!(mode(&key_path), 0o600);
    let p = entry.payload_value().unwrap();
    assert_eq!(p["kind"], json!("key_registered"));
    assert_eq!(p["reason"], json!("key_missing"));
    assert_eq!(p["staff_id"], json!(1));
    assert_eq!(
        p["public_key"],
        json!(hex::encode(new.verifying_key().to_bytes()))
    );
    assert_eq!(journal::key_status(conn, &key_path).unwrap(), KeyStatus::Ok);
    assert_eq!(
        journal::registered_key(conn).unwrap().unwrap().seq,
        entry.seq
    );

    // The old key can no longer close; the new one can, and the whole journal verifies.
    let figures = ClosureFigures::from_totals(
        Period::Day,
        NaiveDate::from_ymd_opt(2026, 6, 14).unwrap(),
        NaiveDate::from_ymd_opt(2026, 6, 14).unwrap(),
        "Europe/Paris",
        entry.seq,
        entry.seq,
        &Default::default(),
        202,
    );
    assert!(matches!(
        journal::append_closure(conn, t("2026-06-14T20:00:00Z"), &figures, &old),
        Err(JournalError::KeyMismatch { .. })
    ));
    let closure = close_day(&store, &path, t("2026-06-14T20:00:00Z"))
        .payload_value()
        .unwrap();
    assert_eq!(closure["key_seq"], json!(entry.seq));
    let report = journal::verify(conn).unwrap();
    assert_eq!((report.closures, report.keys), (2, 2));
}

#[cfg(unix)]
#[test]
fn a_key_file_readable_by_others_is_brought_back_to_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("other/place.key");
    std::fs::create_dir_all(key_path.parent().unwrap()).unwrap();
    std::fs::write(&key_path, [9u8; 32]).unwrap();
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let key = journal::load_key(&key_path).unwrap().unwrap();
    assert_eq!(key.to_bytes(), [9u8; 32]);
    assert_eq!(mode(&key_path), 0o600);
}

#[test]
fn a_replaced_closure_resigned_with_another_key_is_named_by_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = with_sales(dir.path(), 3);
    let closure = close_day(&store, &path, t("2026-06-13T20:00:00Z"));
    journal::append(store.conn(), "sale", t("2026-06-14T08:00:00Z"), sale(500)).unwrap();
    journal::append(store.conn(), "sale", t("2026-06-14T08:05:00Z"), sale(600)).unwrap();

    // The attacker lowers the day's figures and signs with a key of their own (they have no
    // access to the real one), then recomputes every hash after it.
    let evil = attacker(&path);
    let mut forged = parse_canonical(&closure.payload).unwrap();
    let map = forged.as_object_mut().unwrap();
    map.insert("period_total_cents".into(), json!(3));
    map.insert("grand_total_cents".into(), json!(3));
    map.remove("signature");
    let other = SigningKey::from_bytes(&[42u8; 32]);
    let signature = other.sign(canonical_json(&forged).unwrap().as_bytes());
    forged
        .as_object_mut()
        .unwrap()
        .insert("signature".into(), json!(hex::encode(signature.to_bytes())));
    let forged = canonical_json(&forged).unwrap();
    evil.execute(
        "UPDATE journal SET payload = ?1 WHERE seq = ?2",
        params![forged, closure.seq],
    )
    .unwrap();
    rechain(&evil, closure.seq);

    let (seq, reason) = broken_at(store.conn());
    assert_eq!(seq, closure.seq);
    assert!(reason.contains("signature"), "{reason}");
}

#[test]
fn a_rechained_alteration_before_a_closure_breaks_its_signature() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = with_sales(dir.path(), 4);
    let closure = close_day(&store, &path, t("2026-06-13T20:00:00Z"));
    let evil = attacker(&path);
    let forged = payload_of(&evil, 2).replace("\"total_cents\":101", "\"total_cents\":1");
    evil.execute("UPDATE journal SET payload = ?1 WHERE seq = 2", [forged])
        .unwrap();
    rechain(&evil, 2);
    let (seq, reason) = broken_at(store.conn());
    assert_eq!(seq, closure.seq, "the closure sealed the chain before it");
    assert!(reason.contains("prev_hash"), "{reason}");
}

#[test]
fn a_registration_of_a_key_not_held_is_refused_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = with_sales(dir.path(), 2);
    close_day(&store, &path, t("2026-06-13T20:00:00Z"));
    let registration = journal::entry(store.conn(), 3).unwrap().unwrap();
    assert_eq!(registration.kind, "key_registered");
    let evil = attacker(&path);
    let other = hex::encode(
        SigningKey::from_bytes(&[1u8; 32])
            .verifying_key()
            .to_bytes(),
    );
    let current = registration.payload_value().unwrap()["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let forged = registration.payload.replace(&current, &other);
    evil.execute("UPDATE journal SET payload = ?1 WHERE seq = 3", [forged])
        .unwrap();
    rechain(&evil, 3);
    let (seq, reason) = broken_at(store.conn());
    assert_eq!(seq, 3);
    assert!(reason.contains("signature"), "{reason}");
}

#[test]
fn sales_refunds_and_training_are_summed_from_their_payloads() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = new_db(dir.path());
    let conn = store.conn();
    let at = |m: i64| t("2026-06-13T08:00:00Z") + Duration::minutes(m);
    let mixed = body(json!({
        "total_cents": 1300,
        "vat": [
            {"vat_bp": 550, "ttc_cents": 1000, "ht_cents": 948, "vat_cents": 52},
            {"vat_bp": 2000, "ttc_cents": 300, "ht_cents": 250, "vat_cents": 50},
        ],
    }));
    journal::append(conn, "sale", at(0), mixed).unwrap();
    journal::append(conn, "cash_in", at(1), body(json!({"cents": 2000}))).unwrap();
    journal::append(conn, "sale", at(2), sale(211)).unwrap();
    let refund = body(json!({
        "total_cents": -211, "refund_of": 3,
        "vat": [{"vat_bp": 550, "ttc_cents": -211, "ht_cents": -200, "vat_cents": -11}],
    }));
    journal::append(conn, "refund", at(3), refund).unwrap();
    let mut training = sale(9999);
    training.insert("training".into(), json!(true));
    journal::append(conn, "sale", at(4), training).unwrap();
    journal::append(conn, "sale", at(5), body(json!({"total_cents": 50}))).unwrap();

    let totals = journal::sum_sales(conn, 1, 6).unwrap();
    assert_eq!(totals.ticket_count, 4);
    assert_eq!(
        (
            totals.sale_count,
            totals.refund_count,
            totals.training_count
        ),
        (3, 1, 1)
    );
    assert_eq!(totals.total_cents, 1300 + 211 - 211 + 50);
    assert_eq!(
        totals.by_vat_rate,
        vec![
            VatTotal {
                vat_bp: 550,
                ttc_cents: 1000,
                ht_cents: 948,
                vat_cents: 52
            },
            VatTotal {
                vat_bp: 2000,
                ttc_cents: 300,
                ht_cents: 250,
                vat_cents: 50
            },
        ]
    );
    let part = journal::sum_sales(conn, 2, 3).unwrap();
    assert_eq!((part.ticket_count, part.total_cents), (1, 211));

    journal::append(conn, "sale", at(6), body(json!({"lines": []}))).unwrap();
    assert!(matches!(
        journal::sum_sales(conn, 1, 7),
        Err(JournalError::Payload { seq: 7, .. })
    ));
}

#[test]
fn closure_bodies_hold_the_documented_figures() {
    let figures = ClosureFigures {
        period: Period::Month,
        period_start: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        period_end: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        timezone: "Europe/Paris".into(),
        first_seq: 10,
        last_seq: 99,
        ticket_count: 42,
        totals_by_vat_rate: vec![
            VatTotal {
                vat_bp: 2000,
                ttc_cents: 120,
                ht_cents: 100,
                vat_cents: 20,
            },
            VatTotal {
                vat_bp: 550,
                ttc_cents: 1055,
                ht_cents: 1000,
                vat_cents: 55,
            },
        ],
        period_total_cents: 1175,
        grand_total_cents: 123456,
    };
    let text = canonical_json(&Value::Object(journal::closure_body(&figures))).unwrap();
    assert_eq!(
        text,
        r#"{"first_seq":10,"grand_total_cents":123456,"last_seq":99,"period":"month","period_end":"2026-06-30","period_start":"2026-06-01","period_total_cents":1175,"ticket_count":42,"timezone":"Europe/Paris","totals_by_vat_rate":[{"ht_cents":1000,"ttc_cents":1055,"vat_bp":550,"vat_cents":55},{"ht_cents":100,"ttc_cents":120,"vat_bp":2000,"vat_cents":20}]}"#
    );
    assert_eq!(Period::parse("year"), Some(Period::Year));
    assert_eq!(Period::Year.as_str(), "year");
}

// ---------------------------------------------------------------------------------------------
// The clock rule

#[test]
fn an_entry_dated_before_the_last_is_refused_except_a_clock_correction() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = new_db(dir.path());
    let conn = store.conn();
    let last = t("2026-06-13T08:00:00Z");
    journal::append(conn, "sale", last, sale(100)).unwrap();
    assert_eq!(journal::last_time(conn).unwrap(), Some(last));

    let behind = last - Duration::seconds(1);
    assert!(
        matches!(journal::check_clock(conn, behind), Err(JournalError::ClockBehind { last: l }) if l == last)
    );
    assert!(matches!(
        journal::append(conn, "sale", behind, sale(100)),
        Err(JournalError::ClockBehind { last: l }) if l == last
    ));
    journal::check_clock(conn, last).unwrap();
    journal::check_clock(conn, last + chrono::Duration::milliseconds(999)).unwrap();
    journal::append(conn, "sale", last, sale(100)).unwrap(); // the same second is fine

    // A clock that ran ahead: the admin sets it back, which is journaled, then selling resumes.
    let ahead = t("2027-01-01T00:00:00Z");
    journal::append(conn, "sale", ahead, sale(100)).unwrap();
    let right = t("2026-06-13T09:00:00Z");
    assert!(matches!(
        journal::check_clock(conn, right),
        Err(JournalError::ClockBehind { .. })
    ));
    journal::append(
        conn,
        "clock_set",
        right,
        body(json!({"from": "2027-01-01T00:00:00Z", "staff_id": 1})),
    )
    .unwrap();
    journal::check_clock(conn, right).unwrap();
    journal::append(conn, "sale", right, sale(100)).unwrap();
    assert_eq!(journal::verify(conn).unwrap().entries, 5);
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON fixtures

#[test]
fn canonical_json_sorts_keys_and_drops_whitespace() {
    let value: Value = serde_json::from_str(
        r#" { "b" : 1, "a" : [ true, false, null, 0, 42 ], "c": { "z": "é", "y": -5 }, "B": {} } "#,
    )
    .unwrap();
    assert_eq!(
        canonical_json(&value).unwrap(),
        r#"{"B":{},"a":[true,false,null,0,42],"b":1,"c":{"y":-5,"z":"é"}}"#
    );
    let keys = json!({"é": 1, "b": 2, "aa": 3, "a": 4, "Z": 5, "_": 6, "a_b": 7, "a1": 8});
    assert_eq!(
        canonical_json(&keys).unwrap(),
        r#"{"Z":5,"_":6,"a":4,"a1":8,"a_b":7,"aa":3,"b":2,"é":1}"#
    );
    assert_eq!(canonical_json(&json!([])).unwrap(), "[]");
    assert_eq!(canonical_json(&json!({})).unwrap(), "{}");
    assert_eq!(
        canonical_json(&json!([[1, [2]], {"x": []}])).unwrap(),
        r#"[[1,[2]],{"x":[]}]"#
    );
}

#[test]
fn canonical_json_escapes_only_quotes_backslashes_and_controls() {
    let value = json!({"s": "quote\" backslash\\ slash/ nl\n cr\r tab\t bs\u{8} ff\u{c} nul\u{0} us\u{1f} del\u{7f} \u{2028} € 😀 ça"});
    let text = canonical_json(&value).unwrap();
    let expected = "{\"s\":\"quote\\\" backslash\\\\ slash/ nl\\n cr\\r tab\\t bs\\b ff\\f nul\\u0000 us\\u001f del\u{7f} \u{2028} € 😀 ça\"}";
    assert_eq!(text, expected);
    assert_eq!(
        text.as_bytes(),
        b"{\"s\":\"quote\\\" backslash\\\\ slash/ nl\\n cr\\r tab\\t bs\\b ff\\f nul\\u0000 us\\u001f del\x7f \xe2\x80\xa8 \xe2\x82\xac \xf0\x9f\x98\x80 \xc3\xa7a\"}"
    );
    // It reads back as the same value.
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
    assert_eq!(parse_canonical(&text).unwrap(), value);
}

#[test]
fn canonical_json_has_integers_only() {
    assert_eq!(
        canonical_json(&json!([i64::MIN, i64::MAX])).unwrap(),
        "[-9223372036854775808,9223372036854775807]"
    );
    for (text, path) in [
        (r#"{"a":1.5}"#, "$.a"),
        (r#"{"a":[1,1.0]}"#, "$.a[1]"),
        (r#"{"x":{"y":1e3}}"#, "$.x.y"),
        ("[0.1]", "$[0]"),
    ] {
        let value: Value = serde_json::from_str(text).unwrap();
        match canonical_json(&value) {
            Err(CanonicalError::NotInteger { path: p, .. }) => assert_eq!(p, path, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    let big: Value = serde_json::from_str("[9223372036854775808]").unwrap();
    assert!(matches!(
        canonical_json(&big),
        Err(CanonicalError::OutOfRange { .. })
    ));
}

#[test]
fn parse_canonical_refuses_other_spellings() {
    assert!(parse_canonical(r#"{"a":1,"b":[2,3]}"#).is_ok());
    for text in [
        r#"{"b":1,"a":2}"#,
        r#"{"a": 1}"#,
        "{\"a\":1}\n",
        r#"{"a":1,"a":1}"#,
        r#"{"a":"\u00e9"}"#,
        r#"{"a":"\/"}"#,
        r#"{"a":1.0}"#,
        r#"{"a":1E2}"#,
    ] {
        assert!(parse_canonical(text).is_err(), "{text}");
    }
    assert!(matches!(
        parse_canonical("{"),
        Err(CanonicalError::Syntax(_))
    ));
}

#[test]
fn entry_hash_is_sha256_of_the_raw_previous_hash_and_the_payload() {
    // sha256(32 zero bytes || "{}"), computed independently.
    assert_eq!(
        entry_hash(ZERO_HASH, "{}").unwrap(),
        "fb1634c4e6cd4b1f1afe3ce2d6ef080f7ac5d1f357d723ad4dfca782733b62db"
    );
    assert_eq!(entry_hash("00", "{}"), None);
    assert_eq!(
        entry_hash(&"A".repeat(64), "{}"),
        None,
        "lowercase hex only"
    );
}
