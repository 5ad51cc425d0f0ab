//! Backups and restore: `comptoir backup` journals, copies and verifies, encrypts to the
//! config's recipients, records checksum and head, rotates 7 daily and 12 monthly copies,
//! deletes a copy that fails and says when the stick is full; `comptoir restore` refuses a
//! forged copy, another kiosk's, one with an extra trigger, an older one (without
//! --accept-rollback), and any while the kiosk runs; it takes WAL-only entries whole, and a
//! restore killed at any step leaves the old database or the new one, whole. The kiosk's
//! health thread backs up within a period of the stick appearing.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use comptoir::store::backup::{self, BackupError, RestoreOptions};
use comptoir::store::{journal, witness, Access, Store};
use rusqlite::Connection;

use crate::common::{append_notes, seeded_db};
use crate::common::{run_comptoir as comptoir, run_comptoir_env as comptoir_env};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The copies in a folder (plain and encrypted), by name.
fn copy_names(dir: &Path) -> Vec<String> {
    files(dir)
        .into_iter()
        .filter(|n| backup::date_of(n).is_some())
        .collect()
}

/// Forges the journal of `db` as an attacker with `sqlite3` would: a sale's total changed,
/// the triggers dropped and put back exactly as they were (the schema is intact, the chain
/// is not).
fn forge(db: &Path) {
    let conn = Connection::open(db).unwrap();
    let triggers: Vec<String> = conn
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'journal'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(conn);
    tamper(db);
    let conn = Connection::open(db).unwrap();
    for sql in triggers {
        conn.execute_batch(&sql).unwrap();
    }
}

/// Copies the database `db` to `to` as a crash would leave it: `n` new entries written only
/// to its `-wal` (the main file and the `-wal` copied while the writer still has them open).
fn wal_snapshot(db: &Path, to: &Path, n: i64) {
    let mut store = Store::open(db, Access::ReadWrite).unwrap();
    store
        .conn()
        .pragma_update(None, "wal_autocheckpoint", 0)
        .unwrap();
    store
        .conn()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let start = journal::last_time(store.conn()).unwrap().unwrap();
    for i in 0..n {
        let tx = store.write().unwrap();
        let mut body = serde_json::Map::new();
        body.insert("wal".into(), i.into());
        journal::append(&tx, "note", start + chrono::Duration::seconds(i + 1), body).unwrap();
        tx.commit().unwrap();
    }
    std::fs::copy(db, to).unwrap();
    std::fs::copy(with(db, "-wal"), with(to, "-wal")).unwrap();
    drop(store);
}

fn with(p: &Path, suffix: &str) -> PathBuf {
    comptoir::store::with_suffix(p, suffix)
}

/// The journal's last entry of kind `technical` as JSON.
fn last_technical(db: &Path) -> serde_json::Value {
    let store = Store::open(db, Access::ReadOnly).unwrap();
    let payload: String = store
        .conn()
        .query_row(
            "SELECT payload FROM journal WHERE kind = 'technical' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_str(&payload).unwrap()
}

/// Everything in the database's folder with its bytes (nothing changed = the same map).
/// The files of `dir` and their bytes, but the lock file, SQLite's shared-memory index and an
/// empty WAL (a read-only open leaves those, holding no data).
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files(dir)
        .into_iter()
        .filter(|n| !n.ends_with(".lock") && !n.ends_with("-shm"))
        .filter_map(|n| {
            let bytes = std::fs::read(dir.join(&n)).ok()?;
            (!(n.ends_with("-wal") && bytes.is_empty())).then_some((n, bytes))
        })
        .collect()
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
fn a_backup_is_journaled_verified_recorded_and_restores() {
    let (dir, db, store) = seeded_db(10);
    drop(store);
    let sticks = dir.path().join("stick");
    std::fs::create_dir(&sticks).unwrap();
    let n = entries(&db);
    assert!(n > 50, "{n}");
    let out = comptoir(&["backup", "--db", s(&db), "--to", s(&sticks)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Journaled before the copy: the copy holds its own backup entry.
    assert_eq!(entries(&db), n + 1);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("verified: {} entries", n + 1)),
        "{text}"
    );
    assert!(stderr(&out).contains("not encrypted"), "{}", stderr(&out));
    let names = copy_names(&sticks);
    assert_eq!(names.len(), 1, "{names:?}");
    let copy = sticks.join(&names[0]);
    assert_eq!(backup::verify_copy(&copy).unwrap().entries, n + 1);
    let entry = last_technical(&copy);
    assert_eq!(entry["event"], "backup");
    assert_eq!(entry["file"], names[0].as_str());
    assert_eq!(entry["head_seq"], n as i64);
    // Its checksum, its head in the manifest, and the head file beside the database.
    let sum = backup::sha256_file(&copy).unwrap();
    assert!(text.contains(&format!("sha256: {sum}")), "{text}");
    assert_eq!(backup::read_sums(&sticks), vec![(names[0].clone(), sum)]);
    let manifest = witness::load(s(&sticks.join(witness::MANIFEST_NAME))).unwrap();
    assert_eq!(manifest.len(), 1);
    assert_eq!(manifest[0].head.seq, (n + 1) as i64);
    let kept = witness::read_head_file(&witness::head_path_for(&db))
        .unwrap()
        .unwrap();
    assert_eq!(kept, manifest[0].head);

    // The database is lost (its head file stays): the copy comes back, journaled.
    std::fs::remove_file(&db).unwrap();
    let out = comptoir(&["restore", "--from", s(&copy), "--db", s(&db)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout(&out).contains(&format!("restored: {} entries", n + 1)));
    assert_eq!(entries(&db), n + 2);
    let entry = last_technical(&db);
    assert_eq!(entry["event"], "restore");
    assert_eq!(entry["accept_rollback"], false);
    assert_eq!(entry["new_kiosk"], false);
    assert_eq!(
        entry["from_head"],
        format!("{}:{}", kept.seq, kept.hash).as_str()
    );
    assert_eq!(entry["to_head"], entry["from_head"]);
    let out = comptoir(&["journal", "verify", "--db", s(&db)]);
    assert_eq!(stdout(&out).trim(), format!("intact: {} entries", n + 2));
    // The head file follows the restored database.
    let head = witness::read_head_file(&witness::head_path_for(&db))
        .unwrap()
        .unwrap();
    assert_eq!(head.seq, (n + 2) as i64);
}

#[test]
fn a_copy_that_fails_verification_is_deleted_and_the_command_fails() {
    let (dir, db, store) = seeded_db(3);
    drop(store);
    let sticks = dir.path().join("stick");
    std::fs::create_dir(&sticks).unwrap();
    // Yesterday's good copy stays.
    let store = Store::open(&db, Access::ReadOnly).unwrap();
    backup::backup_to(
        &store,
        &sticks,
        NaiveDate::from_ymd_opt(2026, 6, 12).unwrap(),
    )
    .unwrap();
    drop(store);
    tamper(&db);
    let out = comptoir(&["backup", "--db", s(&db), "--to", s(&sticks)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out).trim(), "failed: copy_failed");
    assert!(
        stderr(&out).contains("failed verification and was deleted: broken: seq"),
        "{out:?}"
    );
    assert_eq!(
        files(&sticks),
        vec![
            backup::SUMS_NAME.to_string(),
            backup::file_name(NaiveDate::from_ymd_opt(2026, 6, 12).unwrap()),
            witness::MANIFEST_NAME.to_string(),
        ]
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
fn a_full_stick_says_so_and_keeps_nothing() {
    let (dir, db, store) = seeded_db(3);
    drop(store);
    let sticks = dir.path().join("stick");
    std::fs::create_dir(&sticks).unwrap();
    let before = entries(&db);
    // The room is checked before anything is written: a stick with 64 kB free.
    let out = comptoir_env(
        &["backup", "--db", s(&db), "--to", s(&sticks)],
        &[("COMPTOIR_TEST_STICK_FREE_BYTES", "65536")],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out).trim(), "failed: stick_full");
    let message = stderr(&out);
    assert!(
        message.contains("the backup stick is full: 0 MB free, the copy needs"),
        "{message}"
    );
    assert!(files(&sticks).is_empty(), "{:?}", files(&sticks));
    assert_eq!(entries(&db), before, "nothing journaled");

    // The stick fills up while the copy is written: no partial file either.
    let out = comptoir_env(
        &["backup", "--db", s(&db), "--to", s(&sticks)],
        &[("COMPTOIR_TEST_FAIL_BACKUP_WRITE", "1")],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out).trim(), "failed: stick_full");
    assert!(
        stderr(&out).contains("the backup stick is full"),
        "{}",
        stderr(&out)
    );
    assert!(copy_names(&sticks).is_empty());
    assert!(
        files(&sticks).iter().all(|n| !n.contains("partial")),
        "{:?}",
        files(&sticks)
    );
}

#[test]
fn rotation_keeps_seven_days_and_twelve_months_of_both_kinds() {
    let (dir, db, store) = seeded_db(1);
    let sticks = dir.path().join("stick");
    std::fs::create_dir(&sticks).unwrap();
    // Copies of 400 days would be slow to write: place a real copy, then name old ones,
    // every third one encrypted.
    let first = backup::backup_to(
        &store,
        &sticks,
        NaiveDate::from_ymd_opt(2026, 6, 13).unwrap(),
    )
    .unwrap();
    drop(store);
    let start = NaiveDate::from_ymd_opt(2025, 5, 1).unwrap();
    let mut day = start;
    let mut i = 0;
    while day < NaiveDate::from_ymd_opt(2026, 6, 13).unwrap() {
        let name = if i % 3 == 0 {
            backup::encrypted_file_name(day)
        } else {
            backup::file_name(day)
        };
        std::fs::copy(&first.path, sticks.join(name)).unwrap();
        day = day.succ_opt().unwrap();
        i += 1;
    }
    let store = Store::open(&db, Access::ReadOnly).unwrap();
    let report = backup::backup_to(
        &store,
        &sticks,
        NaiveDate::from_ymd_opt(2026, 6, 14).unwrap(),
    )
    .unwrap();
    let names = copy_names(&sticks);
    let dates: Vec<NaiveDate> = names.iter().filter_map(|n| backup::date_of(n)).collect();
    // 8 to 14 June (7 days), then the last day of each month from July 2025 to May 2026.
    assert_eq!(dates.len(), 7 + 11, "{names:?}");
    assert!(names.iter().any(|n| n.ends_with(".db.age")), "{names:?}");
    assert!(dates.contains(&NaiveDate::from_ymd_opt(2025, 7, 31).unwrap()));
    assert!(dates.contains(&NaiveDate::from_ymd_opt(2026, 5, 31).unwrap()));
    assert!(dates.contains(&NaiveDate::from_ymd_opt(2026, 6, 8).unwrap()));
    assert!(!dates.contains(&NaiveDate::from_ymd_opt(2026, 6, 7).unwrap()));
    assert!(!dates.contains(&NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()));
    // 408 named copies (1 May 2025 to 12 June 2026), the 13 June one and the new one.
    assert_eq!(report.removed.len(), 410 - dates.len());
    // The manifest keeps both heads; the checksums list only the copies still there.
    let manifest = std::fs::read_to_string(sticks.join(witness::MANIFEST_NAME)).unwrap();
    assert_eq!(manifest.lines().count(), 3, "{manifest}");
    assert!(backup::read_sums(&sticks)
        .iter()
        .all(|(n, _)| sticks.join(n).exists()));
}

/// An identity and a config file whose `backup_recipients` is its public key.
fn age_config(dir: &Path) -> (age::x25519::Identity, PathBuf) {
    let identity = age::x25519::Identity::generate();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!("backup_recipients = [\"{}\"]\n", identity.to_public()),
    )
    .unwrap();
    (identity, config)
}

fn write_identity(identity: &age::x25519::Identity, path: &Path) {
    use age::secrecy::ExposeSecret;
    std::fs::write(
        path,
        format!(
            "# test identity\n{}\n",
            identity.to_string().expose_secret()
        ),
    )
    .unwrap();
}

#[test]
fn with_recipients_the_stick_only_ever_holds_encrypted_copies() {
    let (dir, db, store) = seeded_db(3);
    drop(store);
    let sticks = dir.path().join("stick");
    std::fs::create_dir(&sticks).unwrap();
    let (identity, config) = age_config(dir.path());
    let out = comptoir(&[
        "--config",
        s(&config),
        "backup",
        "--db",
        s(&db),
        "--to",
        s(&sticks),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!stderr(&out).contains("not encrypted"), "{}", stderr(&out));
    let names = copy_names(&sticks);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].ends_with(".db.age"), "{names:?}");
    let copy = sticks.join(&names[0]);
    let bytes = std::fs::read(&copy).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    assert!(
        !bytes.windows(15).any(|w| w == b"SQLite format 3"),
        "no plain page"
    );
    // Nothing plain on the stick, nothing left beside the database.
    assert_eq!(
        files(&sticks),
        vec![
            backup::SUMS_NAME.to_string(),
            names[0].clone(),
            witness::MANIFEST_NAME.to_string()
        ]
    );
    assert!(
        files(dir.path())
            .iter()
            .all(|n| !n.contains("backup-plain")),
        "{:?}",
        files(dir.path())
    );
    assert_eq!(
        backup::read_sums(&sticks),
        vec![(names[0].clone(), backup::sha256_file(&copy).unwrap())]
    );
    let n = entries(&db);

    // Restoring needs the identity, and the right one.
    let target = dir.path().join("restored").join("comptoir.db");
    let out = comptoir(&["restore", "--from", s(&copy), "--db", s(&target)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out).trim(), "refused: needs_identity");
    assert!(stderr(&out).contains("--identity"), "{}", stderr(&out));
    let wrong = dir.path().join("wrong.txt");
    write_identity(&age::x25519::Identity::generate(), &wrong);
    let out = comptoir(&[
        "restore",
        "--from",
        s(&copy),
        "--db",
        s(&target),
        "--identity",
        s(&wrong),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out).trim(), "refused: decrypt");
    assert!(!target.exists());
    let key = dir.path().join("identity.txt");
    write_identity(&identity, &key);
    let out = comptoir(&[
        "restore",
        "--from",
        s(&copy),
        "--db",
        s(&target),
        "--identity",
        s(&key),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(entries(&target), n + 1);
    assert!(
        files(target.parent().unwrap())
            .iter()
            .all(|f| !f.contains("restore-")),
        "{:?}",
        files(target.parent().unwrap())
    );

    // A stick that fills up while the encrypted copy is written keeps nothing, and the
    // plain copy beside the database is gone too.
    std::fs::remove_file(&copy).unwrap();
    let out = comptoir_env(
        &[
            "--config",
            s(&config),
            "backup",
            "--db",
            s(&db),
            "--to",
            s(&sticks),
        ],
        &[("COMPTOIR_TEST_FAIL_BACKUP_WRITE", "4096")],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out).trim(), "failed: stick_full");
    assert!(copy_names(&sticks).is_empty());
    assert!(files(&sticks).iter().all(|n| !n.contains("partial")));
    assert!(files(dir.path())
        .iter()
        .all(|n| !n.contains("backup-plain")));
}

/// `comptoir restore --from FROM --db DB EXTRA…` is refused with `code`, says nothing was
/// changed, and changes nothing in `dir` (which held `before`). Returns its message.
fn restore_refused(
    dir: &Path,
    db: &Path,
    before: &[(String, Vec<u8>)],
    from: &Path,
    extra: &[&str],
    code: &str,
) -> String {
    let mut args = vec!["restore", "--from", s(from), "--db", s(db)];
    args.extend_from_slice(extra);
    let out = comptoir(&args);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out).trim(), format!("refused: {code}"));
    assert!(
        stderr(&out).contains("nothing was changed"),
        "{}",
        stderr(&out)
    );
    let after = snapshot(dir);
    assert!(
        after == before,
        "nothing changed: {:?} became {:?}",
        before.iter().map(|(n, b)| (n, b.len())).collect::<Vec<_>>(),
        after.iter().map(|(n, b)| (n, b.len())).collect::<Vec<_>>()
    );
    stderr(&out)
}

#[test]
fn restore_refuses_a_forged_copy_a_foreign_one_and_an_extra_trigger() {
    let (dir, db, store) = seeded_db(5);
    let sticks = dir.path().join("stick");
    std::fs::create_dir(&sticks).unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 6, 13).unwrap();
    let copy = backup::backup_to(&store, &sticks, today).unwrap().path;
    drop(store);
    let before = snapshot(dir.path());
    let refused = |from: &Path, extra: &[&str], code: &str| {
        restore_refused(dir.path(), &db, &before, from, extra, code)
    };

    // A forged copy: a sale's total changed, even with the rollback flag.
    let bad = sticks.join("forged.db");
    std::fs::copy(&copy, &bad).unwrap();
    forge(&bad);
    let message = refused(&bad, &["--accept-rollback"], "backup_broken");
    assert!(message.contains("does not verify"), "{message}");
    // Its checksum no longer matches the one the folder recorded.
    let renamed = sticks.join("renamed.db");
    std::fs::copy(&bad, &renamed).unwrap();
    std::fs::copy(&bad, &copy).unwrap();
    let message = refused(&copy, &[], "backup_broken");
    assert!(message.contains("SHA256SUMS"), "{message}");
    std::fs::remove_file(&copy).unwrap();
    let store = Store::open(&db, Access::ReadOnly).unwrap();
    let copy = backup::backup_to(&store, &sticks, today).unwrap().path;
    drop(store);
    let before = snapshot(dir.path());
    let refused = |from: &Path, extra: &[&str], code: &str| {
        restore_refused(dir.path(), &db, &before, from, extra, code)
    };

    // A backup carrying a trigger that deletes failed-PIN events.
    let trap = sticks.join("trap.db");
    std::fs::copy(&copy, &trap).unwrap();
    Connection::open(&trap)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER forget_failures AFTER INSERT ON staff_events
             WHEN NEW.kind = 'pin_failed' BEGIN DELETE FROM staff_events WHERE rowid = NEW.rowid; END;",
        )
        .unwrap();
    let message = refused(&trap, &["--accept-rollback", "--new-kiosk"], "schema");
    assert!(
        message.contains("extra trigger forget_failures"),
        "{message}"
    );

    // Another kiosk's backup (its own valid journal).
    let (other_dir, other_db, other) = seeded_db(1);
    let foreign = backup::backup_to(&other, other_dir.path(), today)
        .unwrap()
        .path;
    drop(other);
    let message = refused(&foreign, &[], "foreign_kiosk");
    assert!(message.contains("another kiosk"), "{message}");
    assert!(message.contains("--new-kiosk"), "{message}");
    // Not a database at all.
    let junk = sticks.join("junk.db");
    std::fs::write(&junk, b"not sqlite").unwrap();
    refused(&junk, &[], "backup_broken");

    // With --new-kiosk the card takes the other kiosk's data, journaled.
    let out = comptoir(&[
        "restore",
        "--from",
        s(&foreign),
        "--db",
        s(&db),
        "--new-kiosk",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(entries(&db), entries(&other_db) + 1);
    let entry = last_technical(&db);
    assert_eq!(entry["event"], "restore");
    assert_eq!(entry["new_kiosk"], true);
}

#[test]
fn an_older_backup_needs_accept_rollback_which_is_journaled() {
    let (dir, db, store) = seeded_db(5);
    let sticks = dir.path().join("stick");
    std::fs::create_dir(&sticks).unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 6, 13).unwrap();
    let copy = backup::backup_to(&store, &sticks, today).unwrap().path;
    drop(store);
    let at_backup = entries(&db);
    // Sales after the backup: the journal in place is ahead of the copy.
    append_notes(&db, 3);
    let now = entries(&db);
    let current = witness::current(Store::open(&db, Access::ReadOnly).unwrap().conn())
        .unwrap()
        .unwrap();
    let before = snapshot(dir.path());

    let out = comptoir(&["restore", "--from", s(&copy), "--db", s(&db)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out).trim(), "refused: rollback");
    let message = stderr(&out);
    assert!(
        message.contains("older than the journal in place"),
        "{message}"
    );
    assert!(message.contains("--accept-rollback"), "{message}");
    assert!(snapshot(dir.path()) == before, "nothing changed");
    // The old flag is refused, naming the new one.
    let out = comptoir(&[
        "restore",
        "--from",
        s(&copy),
        "--db",
        s(&db),
        "--overwrite-longer-journal",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stderr(&out).contains("--accept-rollback"),
        "{}",
        stderr(&out)
    );
    assert!(snapshot(dir.path()) == before, "nothing changed");
    // The database lost, its head file remains: the head file is the witness.
    let aside = dir.path().join("moved.db");
    std::fs::rename(&db, &aside).unwrap();
    let out = comptoir(&["restore", "--from", s(&copy), "--db", s(&db)]);
    assert_eq!(stdout(&out).trim(), "refused: rollback", "{out:?}");
    assert!(stderr(&out).contains("head file"), "{}", stderr(&out));
    assert!(!db.exists());
    std::fs::rename(&aside, &db).unwrap();
    match backup::restore(&copy, &db, &RestoreOptions::default(), Utc::now()) {
        Err(BackupError::Rollback { .. }) => {}
        other => panic!("{other:?}"),
    }

    let out = comptoir(&[
        "restore",
        "--from",
        s(&copy),
        "--db",
        s(&db),
        "--accept-rollback",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(entries(&db), at_backup + 1);
    let entry = last_technical(&db);
    assert_eq!(entry["event"], "restore");
    assert_eq!(entry["accept_rollback"], true);
    assert_eq!(
        entry["from_head"],
        format!("{}:{}", current.seq, current.hash).as_str()
    );
    assert_eq!(
        entry["to_head"].as_str().unwrap().split(':').next(),
        Some(at_backup.to_string().as_str())
    );
    // The replaced database is kept aside, whole, with its later entries.
    let kept: Vec<String> = files(dir.path())
        .into_iter()
        .filter(|n| n.starts_with("demo.db.before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "{:?}", files(dir.path()));
    assert_eq!(entries(&dir.path().join(&kept[0])), now);
}

#[test]
fn restore_refuses_while_the_kiosk_holds_the_database() {
    let (dir, db, store) = seeded_db(1);
    let copy = backup::backup_to(
        &store,
        dir.path(),
        NaiveDate::from_ymd_opt(2026, 6, 13).unwrap(),
    )
    .unwrap()
    .path;
    drop(store);
    let lock = comptoir::store::lock::DbLock::acquire(&db, "the kiosk").unwrap();
    let before = snapshot(dir.path());
    let out = comptoir(&["restore", "--from", s(&copy), "--db", s(&db)]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(stdout(&out).trim(), "refused: locked");
    assert!(
        stderr(&out).contains("in use by the kiosk"),
        "{}",
        stderr(&out)
    );
    assert!(snapshot(dir.path()) == before, "nothing changed");
    let out = comptoir(&["backup", "--db", s(&db), "--to", s(dir.path())]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    drop(lock);
}

#[test]
fn restore_takes_wal_only_entries_whole() {
    let (dir, db, store) = seeded_db(2);
    drop(store);
    let n = entries(&db);
    // A copy of a live database: 25 entries only in its -wal.
    let source = dir.path().join("live-copy.db");
    wal_snapshot(&db, &source, 25);
    assert!(std::fs::metadata(with(&source, "-wal")).unwrap().len() > 0);
    let target = dir.path().join("new").join("comptoir.db");
    let out = comptoir(&["restore", "--from", s(&source), "--db", s(&target)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        stdout(&out).lines().next().unwrap(),
        format!("restored: {} entries", n + 25)
    );
    assert!(!with(&target, "-wal").exists());
    let out = comptoir(&["journal", "verify", "--db", s(&target)]);
    assert_eq!(stdout(&out).trim(), format!("intact: {} entries", n + 26));
}

#[test]
fn a_restore_killed_at_any_step_leaves_the_old_database_or_the_new_one_whole() {
    let (dir, db, store) = seeded_db(2);
    drop(store);
    let template = dir.path().join("template");
    std::fs::create_dir(&template).unwrap();
    // The old database: a kiosk's file with entries still in its -wal.
    let old = template.join("comptoir.db");
    wal_snapshot(&db, &old, 4);
    let old_entries = {
        let copy = dir.path().join("probe.db");
        std::fs::copy(&old, &copy).unwrap();
        std::fs::copy(with(&old, "-wal"), with(&copy, "-wal")).unwrap();
        entries(&copy)
    };
    // The backup: later than the old database (it contains its head).
    append_notes(&db, 6);
    let store = Store::open(&db, Access::ReadOnly).unwrap();
    let copy = backup::backup_to(
        &store,
        dir.path(),
        NaiveDate::from_ymd_opt(2026, 6, 13).unwrap(),
    )
    .unwrap();
    drop(store);
    let new_entries = copy.verified.entries + 1;
    assert!(new_entries > old_entries + 1);

    for step in 1..=6u32 {
        let place = dir.path().join(format!("kill-{step}"));
        std::fs::create_dir(&place).unwrap();
        let target = place.join("comptoir.db");
        std::fs::copy(&old, &target).unwrap();
        std::fs::copy(with(&old, "-wal"), with(&target, "-wal")).unwrap();
        let step_text = step.to_string();
        let out = comptoir_env(
            &["restore", "--from", s(&copy.path), "--db", s(&target)],
            &[("COMPTOIR_TEST_RESTORE_ABORT_AFTER", step_text.as_str())],
        );
        assert_eq!(out.status.code(), None, "step {step}: killed: {out:?}");
        // Before the rename the old database whole (its -wal possibly folded in), after it
        // the new one whole with no -wal or -shm of the old one beside it.
        let found = entries(&target);
        if step <= 4 {
            assert_eq!(found, old_entries, "step {step}");
        } else {
            assert_eq!(found, new_entries, "step {step}");
            assert!(!with(&target, "-wal").exists(), "step {step}");
            assert!(!with(&target, "-shm").exists(), "step {step}");
        }
        let out = comptoir(&["journal", "verify", "--db", s(&target)]);
        assert_eq!(
            stdout(&out).trim(),
            format!("intact: {found} entries"),
            "step {step}"
        );
        // Cut before its end, the restore can be run again to its end.
        if step <= 4 {
            let out = comptoir(&["restore", "--from", s(&copy.path), "--db", s(&target)]);
            assert_eq!(out.status.code(), Some(0), "step {step}: {out:?}");
            assert_eq!(entries(&target), new_entries, "step {step}");
            assert!(files(&place).iter().all(|n| !n.contains("partial")));
        }
    }
}

#[test]
fn the_kiosk_backs_up_within_a_period_of_the_stick_appearing() {
    use comptoir::app::health::{self, Health, HealthConfig};
    let (dir, db, store) = seeded_db(2);
    drop(store);
    let sticks = dir.path().join("stick");
    let mut h = Health::default();
    let tz = chrono_tz::Europe::Paris;
    health::start(
        &mut h,
        HealthConfig {
            db: db.clone(),
            backup_dir: Some(sticks.clone()),
            tz,
            period: Duration::from_millis(200),
            head_file: None,
            backup_recipients: Vec::new(),
        },
    );
    let wait = |h: &mut Health, what: &str, done: &dyn Fn(&Health) -> bool| {
        for _ in 0..300 {
            h.drain();
            if done(h) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "timed out waiting for {what}: {:?} {:?}",
            h.checks, h.last_backup
        );
    };
    wait(&mut h, "the folder warning", &|h| h.warnings.folder_missing);
    assert!(h.last_backup.is_none());
    // Mid-day, the stick is plugged in.
    std::fs::create_dir(&sticks).unwrap();
    wait(&mut h, "the backup", &|h| h.last_backup.is_some());
    let path = h.last_backup.clone().unwrap().unwrap();
    let today = Utc::now().with_timezone(&tz).date_naive();
    assert_eq!(path, sticks.join(backup::file_name(today)));
    assert_eq!(last_technical(&db)["event"], "backup");
    wait(&mut h, "the plain-backup warning", &|h| {
        h.warnings.backup_plain && !h.warnings.folder_missing
    });
    drop(h);
}
