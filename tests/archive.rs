//! `comptoir journal archive`: yearly archives checked with nothing but `csv`, `sha2` and
//! `ed25519-dalek` (not Comptoir's own verification), the database left byte-for-byte alone,
//! and refusals that write nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::run_comptoir as comptoir;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use comptoir::store::{journal, Access, Store};
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

const ZEROS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn archive(db: &Path, year: i32, out: &Path) -> Output {
    comptoir(&[
        "journal",
        "archive",
        "--db",
        db.to_str().unwrap(),
        "--year",
        &year.to_string(),
        "--out",
        out.to_str().unwrap(),
    ])
}

/// 40 days of demo sales ending 2026-01-20 (Paris), then a key registration on 2026-01-21.
fn seeded(dir: &Path) -> PathBuf {
    let path = dir.join("comptoir.db");
    let mut store = Store::open(&path, Access::ReadWrite).unwrap();
    let options = comptoir::demo::SeedOptions {
        days: 40,
        seed: 1,
        until: NaiveDate::from_ymd_opt(2026, 1, 20).unwrap(),
        tz: chrono_tz::Europe::Paris,
    };
    comptoir::demo::seed(&mut store, &options).unwrap();
    let when = DateTime::parse_from_rfc3339("2026-01-21T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let mut body = Map::new();
    body.insert("reason".into(), "test".into());
    journal::rotate_key(store.conn(), &dir.join("comptoir.db.key"), when, body).unwrap();
    drop(store);
    path
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
struct Row {
    seq: i64,
    kiosk_id: String,
    kind: String,
    time_utc: String,
    payload: String,
    prev_hash: String,
    hash: String,
}

fn read_csv(path: &Path) -> Vec<Row> {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.ends_with(b"\r\n"), "RFC 4180 line ends");
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header,
        [
            "seq",
            "kiosk_id",
            "kind",
            "time_utc",
            "payload",
            "prev_hash",
            "hash"
        ]
    );
    reader.deserialize().map(Result::unwrap).collect()
}

/// Recomputes the chain of one file; returns (first prev_hash, last hash).
fn check_chain(rows: &[Row]) -> (String, String) {
    assert!(!rows.is_empty());
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            assert_eq!(r.seq, rows[i - 1].seq + 1, "seqs continuous");
            assert_eq!(r.prev_hash, rows[i - 1].hash, "seq {} links", r.seq);
        }
        let mut hasher = Sha256::new();
        hasher.update(hex::decode(&r.prev_hash).unwrap());
        hasher.update(r.payload.as_bytes());
        assert_eq!(hex::encode(hasher.finalize()), r.hash, "seq {} hash", r.seq);
        let p: Value = serde_json::from_str(&r.payload).unwrap();
        assert_eq!(p["seq"], r.seq);
        assert_eq!(p["kind"], r.kind.as_str());
        assert_eq!(p["time_utc"], r.time_utc.as_str());
        assert_eq!(p["kiosk_id"], r.kiosk_id.as_str());
    }
    (rows[0].prev_hash.clone(), rows.last().unwrap().hash.clone())
}

fn paris_year(time_utc: &str) -> i32 {
    DateTime::parse_from_rfc3339(time_utc)
        .unwrap()
        .with_timezone(&chrono_tz::Europe::Paris)
        .year()
}

fn check_sums(dir: &Path, year: i32) {
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let listed: BTreeMap<String, String> = sums
        .lines()
        .map(|l| {
            let (sum, name) = l.split_once("  ").unwrap();
            (name.to_string(), sum.to_string())
        })
        .collect();
    let expected = [
        format!("journal-{year}.csv"),
        format!("journal-{year}.json"),
        "keys.json".to_string(),
        "README.txt".to_string(),
    ];
    assert_eq!(listed.len(), expected.len());
    for name in expected {
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        assert_eq!(
            listed[&name],
            hex::encode(Sha256::digest(&bytes)),
            "{name} sum"
        );
    }
}

fn check_json(dir: &Path, year: i32, rows: &[Row]) {
    let text = std::fs::read_to_string(dir.join(format!("journal-{year}.json"))).unwrap();
    let items: Vec<Map<String, Value>> = serde_json::from_str(&text).unwrap();
    assert_eq!(items.len(), rows.len());
    for (item, row) in items.iter().zip(rows) {
        assert_eq!(item["seq"], row.seq);
        assert_eq!(item["kiosk_id"], row.kiosk_id.as_str());
        assert_eq!(item["kind"], row.kind.as_str());
        assert_eq!(item["time_utc"], row.time_utc.as_str());
        assert_eq!(item["payload"], row.payload.as_str());
        assert_eq!(item["prev_hash"], row.prev_hash.as_str());
        assert_eq!(item["hash"], row.hash.as_str());
        let parsed: Value = serde_json::from_str(&row.payload).unwrap();
        assert_eq!(item["payload_parsed"], parsed);
    }
}

fn keys(dir: &Path) -> Vec<Map<String, Value>> {
    serde_json::from_str(&std::fs::read_to_string(dir.join("keys.json")).unwrap()).unwrap()
}

#[test]
fn two_years_chain_into_each_other_and_only_the_archives_are_journaled() {
    let tmp = tempfile::tempdir().unwrap();
    let db = seeded(tmp.path());
    let journal_before = journal_rows(&db);
    let out = tmp.path().join("archives");
    let (dir25, dir26) = (out.join("2025"), out.join("2026"));

    let o = archive(&db, 2025, &dir25);
    assert_eq!(code(&o), 0, "{o:?}");
    let rows25 = read_csv(&dir25.join("journal-2025.csv"));
    assert_eq!(
        stdout(&o),
        format!("archived {} entries to {}\n", rows25.len(), dir25.display())
    );
    let o = archive(&db, 2026, &dir26);
    assert_eq!(code(&o), 0, "{o:?}");
    let rows26 = read_csv(&dir26.join("journal-2026.csv"));
    assert_eq!(
        stdout(&o),
        format!("archived {} entries to {}\n", rows26.len(), dir26.display())
    );

    let (first25, last25) = check_chain(&rows25);
    let (first26, last26) = check_chain(&rows26);
    assert_eq!(rows25[0].seq, 1);
    assert_eq!(first25, ZEROS);
    assert_eq!(first26, last25, "2026 starts where 2025 ends");
    assert_eq!(rows26[0].seq, rows25.last().unwrap().seq + 1);
    assert!(rows25.iter().all(|r| paris_year(&r.time_utc) == 2025));
    assert!(rows26.iter().all(|r| paris_year(&r.time_utc) == 2026));

    // Everything in the database is in the two archives, as stored, but the 2026 archive's
    // own technical event, journaled once its files were written.
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let (count, head): (i64, String) = conn
        .query_row(
            "SELECT count(*), (SELECT hash FROM journal ORDER BY seq DESC LIMIT 1 OFFSET 1)
             FROM journal",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(conn);
    assert_eq!(count as usize, rows25.len() + rows26.len() + 1);
    assert_eq!(last26, head);

    for (dir, year, rows) in [(&dir25, 2025, &rows25), (&dir26, 2026, &rows26)] {
        check_json(dir, year, rows);
        check_sums(dir, year);
        let readme = std::fs::read_to_string(dir.join("README.txt")).unwrap();
        assert!(readme.contains("SHA-256"), "{readme}");
        assert!(readme.contains("FRANÇAIS") && readme.contains("ENGLISH"));
        assert!(readme.contains(&rows.last().unwrap().hash));
    }

    // The key registered on 2026-01-21 is in the 2026 archive, and its signature checks out
    // against the canonical payload without its signature member.
    assert!(keys(&dir25).is_empty());
    let keys26 = keys(&dir26);
    assert_eq!(keys26.len(), 1);
    let key = &keys26[0];
    let row = rows26.iter().find(|r| key["seq"] == r.seq).unwrap();
    assert_eq!(row.kind, "key_registered");
    assert_eq!(key["algorithm"], "ed25519");
    let mut raw = [0u8; 32];
    hex::decode_to_slice(key["public_key"].as_str().unwrap(), &mut raw).unwrap();
    let public = VerifyingKey::from_bytes(&raw).unwrap();
    let mut payload: BTreeMap<String, Value> = serde_json::from_str(&row.payload).unwrap();
    let signature = payload.remove("signature").unwrap();
    assert_eq!(key["signature"], signature);
    let mut sig = [0u8; 64];
    hex::decode_to_slice(signature.as_str().unwrap(), &mut sig).unwrap();
    let message = serde_json::to_string(&payload).unwrap();
    public
        .verify_strict(message.as_bytes(), &Signature::from_bytes(&sig))
        .unwrap();

    // The journal only gained the two archives' technical events (issue #14: archives are
    // journaled); nothing before them changed.
    let after = journal_rows(&db);
    assert_eq!(after[..journal_before.len()], journal_before[..]);
    let added: Vec<Value> = after[journal_before.len()..]
        .iter()
        .map(|(_, payload)| serde_json::from_str(payload).unwrap())
        .collect();
    assert_eq!(added.len(), 2);
    for (item, year) in added.iter().zip([2025, 2026]) {
        assert_eq!(item["kind"], "technical");
        assert_eq!(item["event"], "archive");
        assert_eq!(item["year"], year);
    }
}

/// Every journal row: (seq, payload).
fn journal_rows(db: &Path) -> Vec<(i64, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT seq, payload FROM journal ORDER BY seq")
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn an_existing_archive_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let db = seeded(tmp.path());
    let dir = tmp.path().join("out");
    assert_eq!(code(&archive(&db, 2025, &dir)), 0);
    let snapshot = |dir: &Path| -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect()
    };
    let first = snapshot(&dir);
    assert_eq!(first.len(), 5);
    let o = archive(&db, 2025, &dir);
    assert_eq!(code(&o), 2, "{o:?}");
    assert_eq!(stdout(&o), "");
    assert_eq!(snapshot(&dir), first);

    // One file of the archive is enough to refuse, and nothing is added beside it.
    let partial = tmp.path().join("partial");
    std::fs::create_dir(&partial).unwrap();
    std::fs::write(partial.join("SHA256SUMS"), b"mine\n").unwrap();
    assert_eq!(code(&archive(&db, 2026, &partial)), 2);
    assert_eq!(snapshot(&partial).len(), 1);
    assert_eq!(
        std::fs::read(partial.join("SHA256SUMS")).unwrap(),
        b"mine\n"
    );

    // An existing empty folder is fine.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(code(&archive(&db, 2026, &empty)), 0);
    assert_eq!(snapshot(&empty).len(), 5);
}

#[test]
fn a_missing_database_exits_3_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("nothing.db");
    let out = tmp.path().join("out");
    let o = archive(&db, 2025, &out);
    assert_eq!(code(&o), 3, "{o:?}");
    assert!(!db.exists(), "no database created");
    assert!(!out.exists());
}

#[test]
fn an_altered_journal_exits_1_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = seeded(tmp.path());
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete; \
             DROP TRIGGER journal_chain;",
        )
        .unwrap();
        let changed = conn
            .execute(
                "UPDATE journal SET payload = replace(payload, '\"total_cents\":', \
                 '\"total_cents\":1') WHERE seq = (SELECT min(seq) FROM journal \
                 WHERE kind = 'sale')",
                [],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }
    let out = tmp.path().join("out");
    let o = archive(&db, 2025, &out);
    assert_eq!(code(&o), 1, "{o:?}");
    assert!(stdout(&o).starts_with("broken: seq "), "{o:?}");
    assert!(!out.exists(), "nothing written");

    // An existing folder stays empty.
    std::fs::create_dir(&out).unwrap();
    assert_eq!(code(&archive(&db, 2026, &out)), 1);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn a_year_without_entries_gives_an_empty_archive_linked_to_the_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let db = seeded(tmp.path());
    let out = tmp.path().join("2024");
    let o = archive(&db, 2024, &out);
    assert_eq!(code(&o), 0, "{o:?}");
    assert_eq!(
        stdout(&o),
        format!("archived 0 entries to {}\n", out.display())
    );
    let csv = std::fs::read_to_string(out.join("journal-2024.csv")).unwrap();
    assert_eq!(csv, "seq,kiosk_id,kind,time_utc,payload,prev_hash,hash\r\n");
    check_sums(&out, 2024);
    assert!(keys(&out).is_empty());
}
