//! Power cuts: a child process (`comptoir crash-writer`) commits a scripted stream of sales,
//! refunds and cash movements and prints one line per commit; it is killed with SIGKILL at a
//! random moment, again and again on the same database. After each kill: the database opens,
//! `PRAGMA integrity_check` is ok, the journal verifies, every operation the child reported is
//! there and whole, and nothing is half there (the sales tables and the cash movements agree
//! with the journal).
//!
//! `COMPTOIR_KILL_ROUNDS=200 cargo test --test integration kill::` runs 200 rounds; the
//! default is a quick run for CI.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use comptoir::store::backup::check_connection;
use comptoir::store::{Access, Store};
use rand::{Rng, SeedableRng};

const DEFAULT_ROUNDS: u64 = 25;

/// What the child said it committed, by journal seq.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reported {
    Sale { total: i64 },
    Refund { of: i64, total: i64 },
    Movement { id: i64, cents: i64 },
}

fn parse(line: &str, reported: &mut BTreeMap<i64, Reported>, sessions: &mut Vec<i64>) {
    let words: Vec<&str> = line.split_whitespace().collect();
    let n = |i: usize| -> i64 { words[i].parse().unwrap_or_else(|_| panic!("{line:?}")) };
    match words.first().copied() {
        Some("sale") => {
            reported.insert(n(1), Reported::Sale { total: n(2) });
        }
        Some("refund") => {
            reported.insert(
                n(1),
                Reported::Refund {
                    of: n(2),
                    total: n(3),
                },
            );
        }
        Some("movement") => {
            reported.insert(
                n(2),
                Reported::Movement {
                    id: n(1),
                    cents: n(3),
                },
            );
        }
        Some("session") => sessions.push(n(1)),
        Some("closed") => {}
        _ => panic!("unexpected line from the child: {line:?}"),
    }
}

/// Runs the child for up to `run_for`, then kills it; returns the lines it printed.
fn run_and_kill(db: &Path, seed: u64, run_for: Duration) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_comptoir"))
        .args(["crash-writer", "--db", db.to_str().unwrap(), "--seed"])
        .arg(seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let started = Instant::now();
    while started.elapsed() < run_for {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("the child stopped by itself: {status:?}: {err}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    // SIGKILL: no destructor, no flush, like a power cut for the process.
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap()
}

fn check_after_kill(db: &Path, reported: &BTreeMap<i64, Reported>, round: u64) {
    let store = Store::open(db, Access::ReadWrite)
        .unwrap_or_else(|e| panic!("round {round}: the database does not open: {e}"));
    let conn = store.conn();
    // integrity_check, journal verify, sales tables against the journal.
    let verified = check_connection(conn).unwrap_or_else(|e| panic!("round {round}: {e}"));
    for (&seq, what) in reported {
        assert!(
            seq <= verified.last_seq,
            "round {round}: reported seq {seq} is not in the journal (last {})",
            verified.last_seq
        );
        let kind: String = conn
            .query_row("SELECT kind FROM journal WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })
            .unwrap();
        match what {
            Reported::Sale { total } | Reported::Refund { total, .. } => {
                let (k, t, refund_of): (String, i64, Option<i64>) = conn
                    .query_row(
                        "SELECT kind, total_cents, refund_of FROM sales WHERE seq = ?1",
                        [seq],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .unwrap_or_else(|e| panic!("round {round}: sale {seq} missing: {e}"));
                assert_eq!(k, kind, "round {round}: seq {seq}");
                assert_eq!(t, *total, "round {round}: seq {seq}");
                let lines: i64 = conn
                    .query_row(
                        "SELECT count(*) FROM sale_lines WHERE seq = ?1",
                        [seq],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert!(lines > 0, "round {round}: sale {seq} has no lines");
                if let Reported::Refund { of, .. } = what {
                    assert_eq!(refund_of, Some(*of), "round {round}: refund {seq}");
                }
            }
            Reported::Movement { id, cents } => {
                let (s, c): (i64, i64) = conn
                    .query_row(
                        "SELECT seq, cents FROM cash_movements WHERE id = ?1",
                        [id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .unwrap_or_else(|e| panic!("round {round}: movement {id} missing: {e}"));
                assert_eq!((s, c), (seq, *cents), "round {round}: movement {id}");
            }
        }
    }
    // Nothing half there: each cash-movement entry has its row and each row its entry.
    let orphans: i64 = conn
        .query_row(
            "SELECT (SELECT count(*) FROM journal j WHERE j.kind = 'cash_movement'
                       AND NOT EXISTS (SELECT 1 FROM cash_movements m WHERE m.seq = j.seq))
                  + (SELECT count(*) FROM cash_movements m
                       WHERE NOT EXISTS (SELECT 1 FROM journal j WHERE j.seq = m.seq))",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0, "round {round}: cash movements half there");
}

#[test]
fn every_reported_commit_survives_a_kill_and_nothing_is_half_there() {
    let rounds: u64 = std::env::var("COMPTOIR_KILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kill.db");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let mut reported = BTreeMap::new();
    let mut sessions = Vec::new();
    let mut lines_total = 0;
    let started = Instant::now();
    for round in 0..rounds {
        // From "killed while opening" to a few hundred commits.
        let run_for = Duration::from_millis(rng.gen_range(5..250));
        let lines = run_and_kill(&db, round + 1, run_for);
        lines_total += lines.len();
        for line in &lines {
            parse(line, &mut reported, &mut sessions);
        }
        check_after_kill(&db, &reported, round);
    }
    let kinds: Vec<&str> = {
        let store = Store::open(&db, Access::ReadOnly).unwrap();
        let n: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM journal", [], |r| r.get(0))
            .unwrap();
        eprintln!(
            "kill harness: {rounds} rounds, {lines_total} reported commits, {n} journal entries, {} sessions, {:.1} s",
            sessions.len(),
            started.elapsed().as_secs_f64()
        );
        reported
            .values()
            .map(|r| match r {
                Reported::Sale { .. } => "sale",
                Reported::Refund { .. } => "refund",
                Reported::Movement { .. } => "movement",
            })
            .collect()
    };
    // The stream really mixed its operations.
    for kind in ["sale", "refund", "movement"] {
        assert!(
            kinds.contains(&kind),
            "no {kind} reported in {rounds} rounds"
        );
    }
}
