//! Witnesses of the journal's head, the schema fingerprint, the one-process lock and the lost
//! database (issue #14): each attack an auditor tried with the file in hand, through the
//! binary where an operator would meet it.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use chrono::Utc;
use comptoir::store::{journal, witness};
use rusqlite::Connection;

use crate::common::run_comptoir as comptoir;
use crate::common::{append_notes, seeded_db};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `journal head`'s SEQ:HASH.
fn head(db: &Path) -> String {
    let out = comptoir(&["journal", "head", "--db", s(db)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let line = text.lines().next().unwrap();
    let (seq, hash) = line
        .strip_prefix("head: ")
        .unwrap()
        .split_once(' ')
        .unwrap();
    format!("{seq}:{hash}")
}

/// Runs `sql` on the file as an attacker with `sqlite3` would (no Comptoir in between).
fn tamper(db: &Path, sql: &str) {
    let conn = Connection::open(db).unwrap();
    conn.execute_batch(sql).unwrap();
}

/// The SQL text of trigger `name`, to put it back exactly as it was.
fn trigger_sql(db: &Path, name: &str) -> String {
    let conn = Connection::open(db).unwrap();
    conn.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
        [name],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn head_prints_the_last_entry_and_the_key_and_verifies_as_a_typed_witness() {
    let (_dir, db, mut store) = seeded_db(3);
    // The days closed, as the kiosk closes them: a key is registered.
    let now = chrono::DateTime::parse_from_rfc3339("2026-06-15T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let tx = store.write().unwrap();
    comptoir::app::closures::run_due(
        &tx,
        &journal::key_path_for(&db),
        chrono_tz::Europe::Paris,
        now,
    )
    .unwrap();
    tx.commit().unwrap();
    let last = journal::head(store.conn()).unwrap().unwrap();
    drop(store);
    let out = comptoir(&["journal", "head", "--db", s(&db)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!("head: {} {}\nkey: ed25519:", last.seq, last.hash)),
        "{text}"
    );
    let typed = head(&db);
    let out = comptoir(&["journal", "verify", "--db", s(&db), "--witness", &typed]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("intact: {} entries\nwitnessed: 1 heads\n", last.seq)
    );
    // A witness that is not one: a usage error, nothing checked.
    let out = comptoir(&[
        "journal",
        "verify",
        "--db",
        s(&db),
        "--witness",
        "12:nothex",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn truncation_with_the_triggers_put_back_is_caught_by_the_head_file() {
    let (dir, db, store) = seeded_db(2);
    drop(store);
    append_notes(&db, 20);
    let head_file = witness::head_path_for(&db);
    let kept = witness::read_head_file(&head_file)
        .unwrap()
        .expect("the writer kept a head");
    // The attacker cuts the last five entries off and puts the trigger back, exactly.
    let trigger = trigger_sql(&db, "journal_no_delete");
    tamper(
        &db,
        &format!(
            "DROP TRIGGER journal_no_delete;
             DELETE FROM journal WHERE seq > (SELECT max(seq) - 5 FROM journal);
             {trigger};"
        ),
    );
    // The chain alone cannot see its own end...
    let out = comptoir(&["journal", "verify", "--db", s(&db)]);
    assert!(stdout(&out).starts_with("intact: "), "{}", stdout(&out));
    // ...the head file does, and says which entries are missing and who saw them.
    let out = comptoir(&[
        "journal",
        "verify",
        "--db",
        s(&db),
        "--witness",
        s(&head_file),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!(
            "broken: seq {}: entries missing: the journal ends at seq {}, but head file",
            kept.seq - 4,
            kept.seq - 5
        )),
        "{text}"
    );
    // At start-up, the same head file blocks the kiosk with "missing after <the last entry
    // still there>".
    let conn = Connection::open(&db).unwrap();
    let fault = comptoir::app::health::witness_check(&conn, &head_file).unwrap_err();
    assert_eq!(fault.kind, comptoir::app::health::FaultKind::Missing);
    let last_left = journal::entry(&conn, kept.seq - 5).unwrap().unwrap();
    assert_eq!(fault.since.as_deref(), Some(last_left.time_utc.as_str()));
    drop(dir);
}

#[test]
fn an_older_copy_over_the_live_file_is_caught() {
    let (dir, db, store) = seeded_db(2);
    drop(store);
    append_notes(&db, 5);
    let older = dir.path().join("older.db");
    std::fs::copy(&db, &older).unwrap();
    append_notes(&db, 10);
    let witness_typed = head(&db);
    std::fs::copy(&older, &db).unwrap();
    let out = comptoir(&["journal", "verify", "--db", s(&db)]);
    assert!(stdout(&out).starts_with("intact: "));
    for w in [s(&witness::head_path_for(&db)).to_string(), witness_typed] {
        let out = comptoir(&["journal", "verify", "--db", s(&db), "--witness", &w]);
        assert_eq!(out.status.code(), Some(1), "{w}");
        assert!(
            stdout(&out).contains(": entries missing: the journal ends at seq"),
            "{}",
            stdout(&out)
        );
    }
}

#[test]
fn a_rewritten_journal_is_caught_by_a_head_written_down_earlier() {
    let (dir, db, store) = seeded_db(1);
    drop(store);
    append_notes(&db, 12);
    let written_down = head(&db);
    // Rewrite a sale and re-chain every later entry, as a script with the file would.
    let conn = Connection::open(&db).unwrap();
    let trigger_u = trigger_sql(&db, "journal_no_update");
    conn.execute_batch("DROP TRIGGER journal_no_update")
        .unwrap();
    let rows: Vec<(i64, String, String)> = {
        let mut stmt = conn
            .prepare("SELECT seq, payload, prev_hash FROM journal ORDER BY seq")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    };
    // The first note (no closure after it: closures sign the chain before them, and that
    // is the key's business, not this test's).
    let target: i64 = conn
        .query_row(
            "SELECT min(seq) FROM journal WHERE kind = 'note'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut prev = rows[0].2.clone();
    for (seq, payload, _) in rows {
        let payload = if seq == target {
            payload.replacen("\"n\":0", "\"n\":1000", 1)
        } else {
            payload
        };
        let hash = journal::entry_hash(&prev, &payload).unwrap();
        conn.execute(
            "UPDATE journal SET payload = ?2, prev_hash = ?3, hash = ?4 WHERE seq = ?1",
            rusqlite::params![seq, payload, prev, hash],
        )
        .unwrap();
        prev = hash;
    }
    conn.execute_batch(&trigger_u).unwrap();
    drop(conn);
    let (seq, _) = written_down.split_once(':').unwrap();
    let out = comptoir(&[
        "journal",
        "verify",
        "--db",
        s(&db),
        "--witness",
        &written_down,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with(&format!("broken: seq {seq}: differs from the entry typed ")),
        "{}",
        stdout(&out)
    );
    drop(dir);
}

#[test]
fn dropped_changed_or_extra_triggers_break_the_schema() {
    let (_dir, db, store) = seeded_db(1);
    drop(store);
    let verify = |db: &Path| {
        let out = comptoir(&["journal", "verify", "--db", s(db)]);
        (out.status.code(), stdout(&out))
    };
    assert_eq!(verify(&db).0, Some(0));
    // A trigger of their own, that forgets failed PINs.
    tamper(
        &db,
        "CREATE TRIGGER forget_failures AFTER INSERT ON staff_events WHEN NEW.kind = 'pin_failed'
         BEGIN SELECT 1; END;",
    );
    assert_eq!(
        verify(&db),
        (
            Some(1),
            "broken: schema: extra trigger forget_failures\n".into()
        )
    );
    tamper(
        &db,
        "DROP TRIGGER forget_failures; DROP TRIGGER credit_ledger_no_update;",
    );
    assert_eq!(
        verify(&db),
        (
            Some(1),
            "broken: schema: trigger credit_ledger_no_update is missing\n".into()
        )
    );
    tamper(
        &db,
        "CREATE TRIGGER credit_ledger_no_update BEFORE UPDATE ON credit_ledger
         WHEN 0 BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END;",
    );
    assert_eq!(
        verify(&db),
        (
            Some(1),
            "broken: schema: trigger credit_ledger_no_update was changed\n".into()
        )
    );
    // The start-up checks block the kiosk the same way.
    let conn = Connection::open(&db).unwrap();
    let fault = comptoir::app::health::startup_checks(&conn).unwrap_err();
    assert_eq!(fault.kind, comptoir::app::health::FaultKind::Schema);
    assert_eq!(
        fault.detail,
        "schema: trigger credit_ledger_no_update was changed"
    );
}

#[test]
fn one_process_per_database_and_readers_need_no_lock() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("comptoir.db");
    let mut writer = Command::new(env!("CARGO_BIN_EXE_comptoir"))
        .args(["crash-writer", "--db", s(&db), "--seed", "9"])
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for its first commit: it holds the lock from before it opens the database.
    {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(writer.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(!line.is_empty());
    }
    let out = comptoir(&["demo", "seed", "--db", s(&db)]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("in use by comptoir crash-writer (process "),
        "{}",
        stderr(&out)
    );
    let out = comptoir(&["init", "--db", s(&db)]);
    assert_eq!(out.status.code(), Some(3));
    // A resident's new card is a write too.
    let png = dir.path().join("card.png");
    let out = comptoir(&["card", "--db", s(&db), "--png", s(&png), "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!png.exists());
    // Reading needs no lock.
    let out = comptoir(&["journal", "head", "--db", s(&db)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    writer.kill().unwrap();
    writer.wait().unwrap();
    // The kernel dropped the lock with the process.
    let out = comptoir(&["init", "--db", s(&db)]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a database is there: {}",
        stderr(&out)
    );
}

#[test]
fn init_creates_once_and_a_lost_database_is_not_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("comptoir.db");
    let out = comptoir(&["init", "--db", s(&db)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with(&format!("created: {} kiosk ", db.display())));
    let out = comptoir(&["init", "--db", s(&db)]);
    assert_eq!(out.status.code(), Some(1));

    // The database is deleted; its key stays. The kiosk (with a config: not demo mode)
    // refuses to make an empty one where anybody could create the administrator.
    std::fs::remove_file(&db).unwrap();
    std::fs::write(journal::key_path_for(&db), [7u8; 32]).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("database = {:?}\n", s(&db))).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_comptoir"))
        .args(["--config", s(&config)])
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "no database, but {} is there",
            journal::key_path_for(&db).display()
        )),
        "{}",
        stderr(&out)
    );
    assert!(!db.exists(), "no empty database was made");
}
