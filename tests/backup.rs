//! Backups and restore: `comptoir backup` copies and verifies, rotates 7 daily and 12 monthly
//! copies, deletes a copy that fails; `comptoir restore` refuses a copy that does not verify
//! and a database whose journal is longer, and keeps the replaced file aside.

use std::path::Path;
use std::process::{Command, Output};

use chrono::NaiveDate;
use comptoir::store::backup::{self, BackupError};
use comptoir::store::{journal, Access, Store};
use rusqlite::Connection;

use crate::common::seeded_db;

fn comptoir(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_comptoir"))
        .args(args)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn entries(db: &Path) -> u64 {
    let store = Store::open(db, Access::ReadOnly).unwrap();
    journal::verify(store.conn()).unwrap().entries
}

/// Breaks the journal of `db`: a sale's total changed in its payload.
fn tamper(db: &Path) {
    let conn = Connection::open(db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete; DROP TRIGGER journal_chain;
         UPDATE journal SET payload = replace(payload, '\"total_cents\":', '\"total_cents\":1')
         WHERE seq = (SELECT min(seq) FROM journal WHERE kind = 'sale');",
    )
    .unwrap();
}

#[test]
fn a_backup_is_a_verified_copy_that_restores() {
    let (dir, db, store) = seeded_db(10);
    drop(store);
    let sticks = dir.path().join("stick");
    std::fs::create_dir(&sticks).unwrap();
    let before = std::fs::read(&db).unwrap();
    let out = comptoir(&["backup", "--db", s(&db), "--to", s(&sticks)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let n = entries(&db);
    assert!(n > 50, "{n}");
    let text = stdout(&out);
    assert!(text.contains(&format!("verified: {n} entries")), "{text}");
    // One file, the copy of today, and the database unchanged.
    let names = files(&sticks);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(backup::date_of(&names[0]).is_some(), "{names:?}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let copy = sticks.join(&names[0]);
    assert_eq!(backup::verify_copy(&copy).unwrap().entries, n);

    // The database is lost; the copy comes back in its place.
    std::fs::remove_file(&db).unwrap();
    let out = comptoir(&["restore", "--from", s(&copy), "--db", s(&db)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout(&out).contains(&format!("restored: {n} entries")));
    assert_eq!(entries(&db), n);
    let out = comptoir(&["journal", "verify", "--db", s(&db)]);
    assert_eq!(stdout(&out).trim(), format!("intact: {n} entries"));
}

#[test]
fn a_copy_that_fails_verification_is_deleted_and_the_command_fails() {
    let (dir, db, store) = seeded_db(3);
    drop(store);
    let sticks = dir.path().join("stick");
    std::fs::create_dir(&sticks).unwrap();
    // Yesterday's good copy stays.
    let yesterday = sticks.join(backup::file_name(
        NaiveDate::from_ymd_opt(2026, 6, 12).unwrap(),
    ));
    let store = Store::open(&db, Access::ReadOnly).unwrap();
    backup::backup_to(
        &store,
        &sticks,
        NaiveDate::from_ymd_opt(2026, 6, 12).unwrap(),
    )
    .unwrap();
    drop(store);
    assert!(yesterday.exists());
    tamper(&db);
    let out = comptoir(&["backup", "--db", s(&db), "--to", s(&sticks)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out).trim(), "failed: copy_failed");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("failed verification and was deleted: broken: seq"),
        "{out:?}"
    );
    assert_eq!(
        files(&sticks),
        vec![backup::file_name(
            NaiveDate::from_ymd_opt(2026, 6, 12).unwrap()
        )]
    );
}

#[test]
fn a_missing_folder_or_database_fails_without_writing() {
    let (dir, db, store) = seeded_db(1);
    drop(store);
    let absent = dir.path().join("not-mounted");
    let out = comptoir(&["backup", "--db", s(&db), "--to", s(&absent)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out).trim(), "failed: no_folder");
    assert!(!absent.exists(), "the folder is never created");
    let out = comptoir(&[
        "backup",
        "--db",
        s(&dir.path().join("none.db")),
        "--to",
        s(dir.path()),
    ]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(!dir.path().join("none.db").exists());
    let out = comptoir(&["backup", "--to", s(dir.path())]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn rotation_keeps_seven_days_and_twelve_months() {
    let (dir, db, store) = seeded_db(1);
    let sticks = dir.path().join("stick");
    std::fs::create_dir(&sticks).unwrap();
    // Copies of 400 days would be slow to write: place a real copy, then name old ones.
    let first = backup::backup_to(
        &store,
        &sticks,
        NaiveDate::from_ymd_opt(2026, 6, 13).unwrap(),
    )
    .unwrap();
    drop(store);
    let start = NaiveDate::from_ymd_opt(2025, 5, 1).unwrap();
    let mut day = start;
    while day < NaiveDate::from_ymd_opt(2026, 6, 13).unwrap() {
        std::fs::copy(&first.path, sticks.join(backup::file_name(day))).unwrap();
        day = day.succ_opt().unwrap();
    }
    let store = Store::open(&db, Access::ReadOnly).unwrap();
    let report = backup::backup_to(
        &store,
        &sticks,
        NaiveDate::from_ymd_opt(2026, 6, 14).unwrap(),
    )
    .unwrap();
    let names = files(&sticks);
    let dates: Vec<NaiveDate> = names.iter().filter_map(|n| backup::date_of(n)).collect();
    assert_eq!(names.len(), dates.len(), "only copies: {names:?}");
    // 8 to 14 June (7 days), then the last day of each month from July 2025 to May 2026.
    assert_eq!(dates.len(), 7 + 11, "{names:?}");
    assert_eq!(dates[0], NaiveDate::from_ymd_opt(2025, 7, 31).unwrap());
    assert!(dates.contains(&NaiveDate::from_ymd_opt(2026, 5, 31).unwrap()));
    assert!(dates.contains(&NaiveDate::from_ymd_opt(2026, 6, 8).unwrap()));
    assert!(!dates.contains(&NaiveDate::from_ymd_opt(2026, 6, 7).unwrap()));
    // 408 named copies (1 May 2025 to 12 June 2026), the 13 June one and the new one.
    assert_eq!(report.removed.len(), 410 - dates.len());
}

#[test]
fn restore_refuses_a_broken_backup_and_a_longer_journal() {
    let (dir, db, mut store) = seeded_db(5);
    let sticks = dir.path().join("stick");
    std::fs::create_dir(&sticks).unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 6, 13).unwrap();
    let copy = backup::backup_to(&store, &sticks, today).unwrap().path;
    let at_backup = entries(&db);
    // A sale after the backup: the journal in place is now longer.
    let tx = store.write().unwrap();
    journal::append(
        &tx,
        "cart_abandoned",
        chrono::Utc::now(),
        serde_json::json!({"by": 3, "cart_total_cents": 0, "lines": []})
            .as_object()
            .unwrap()
            .clone(),
    )
    .unwrap();
    tx.commit().unwrap();
    drop(store);
    let now = entries(&db);
    assert_eq!(now, at_backup + 1);
    let before = std::fs::read(&db).unwrap();

    let out = comptoir(&["restore", "--from", s(&copy), "--db", s(&db)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out).trim(), "refused: journal_longer");
    assert_eq!(std::fs::read(&db).unwrap(), before, "nothing changed");
    match backup::restore(&copy, &db, false, chrono::Utc::now()) {
        Err(BackupError::JournalLonger {
            current, backup, ..
        }) => {
            assert_eq!((current, backup), (now, at_backup));
        }
        other => panic!("{other:?}"),
    }

    // A tampered copy is refused, even with the flag.
    let bad = sticks.join("bad.db");
    std::fs::copy(&copy, &bad).unwrap();
    tamper(&bad);
    let out = comptoir(&[
        "restore",
        "--from",
        s(&bad),
        "--db",
        s(&db),
        "--overwrite-longer-journal",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out).trim(), "refused: backup_broken");
    assert_eq!(std::fs::read(&db).unwrap(), before);
    // Not a database at all.
    let junk = sticks.join("junk.db");
    std::fs::write(&junk, b"not sqlite").unwrap();
    let out = comptoir(&["restore", "--from", s(&junk), "--db", s(&db)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(std::fs::read(&db).unwrap(), before);

    // With the flag, the copy replaces it and the longer database is kept aside.
    let out = comptoir(&[
        "restore",
        "--from",
        s(&copy),
        "--db",
        s(&db),
        "--overwrite-longer-journal",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(entries(&db), at_backup);
    let kept: Vec<String> = files(dir.path())
        .into_iter()
        .filter(|n| {
            n.starts_with("demo.db.before-restore-") && !n.ends_with("-wal") && !n.ends_with("-shm")
        })
        .collect();
    assert_eq!(kept.len(), 1, "{:?}", files(dir.path()));
    assert_eq!(entries(&dir.path().join(&kept[0])), now);
}

#[test]
fn restore_refuses_an_unreadable_database_without_the_flag() {
    let (dir, db, store) = seeded_db(1);
    let sticks = dir.path().join("stick");
    std::fs::create_dir(&sticks).unwrap();
    let copy = backup::backup_to(
        &store,
        &sticks,
        NaiveDate::from_ymd_opt(2026, 6, 13).unwrap(),
    )
    .unwrap()
    .path;
    drop(store);
    // The SD card returned garbage for the database.
    let target = dir.path().join("damaged.db");
    std::fs::write(&target, vec![0x5au8; 8192]).unwrap();
    let out = comptoir(&["restore", "--from", s(&copy), "--db", s(&target)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out).trim(), "refused: current_unreadable");
    assert_eq!(std::fs::read(&target).unwrap(), vec![0x5au8; 8192]);
    let out = comptoir(&[
        "restore",
        "--from",
        s(&copy),
        "--db",
        s(&target),
        "--overwrite-longer-journal",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(entries(&target), entries(&db));
}
