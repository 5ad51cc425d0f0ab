//! Power cuts: a child process (`comptoir crash-writer`) commits a scripted stream of sales,
//! refunds, cash movements, harvests and compost deposits and prints one line per commit; it is
//! killed with SIGKILL at a random moment, again and again on the same database. After each
//! kill: the database opens, `PRAGMA integrity_check` is ok, the journal verifies, every
//! operation the child reported is there and whole, and nothing is half there (the sales tables
//! and the cash movements agree with the journal; every harvest has its stock entry and lot,
//! every sale line its stock moves, and the stock ledgers replay; every deposit has its credits
//! and its share of the compost figures, and the credits chain verifies).
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

/// Reported harvests and deposits (outside the journal), by row id.
#[derive(Debug, Default)]
struct Garden {
    /// id -> (lot, qty, for sale)
    harvests: BTreeMap<i64, (String, i64, i64)>,
    /// id -> (net grams, credits cents)
    deposits: BTreeMap<i64, (i64, i64)>,
}

fn parse(
    line: &str,
    reported: &mut BTreeMap<i64, Reported>,
    sessions: &mut Vec<i64>,
    garden: &mut Garden,
) {
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
        Some("harvest") => {
            garden
                .harvests
                .insert(n(1), (words[2].to_string(), n(3), n(4)));
        }
        Some("deposit") => {
            garden.deposits.insert(n(1), (n(2), n(3)));
        }
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

fn check_after_kill(db: &Path, reported: &BTreeMap<i64, Reported>, garden: &Garden, round: u64) {
    let store = Store::open(db, Access::ReadWrite)
        .unwrap_or_else(|e| panic!("round {round}: the database does not open: {e}"));
    let conn = store.conn();
    // integrity_check, journal verify, sales tables against the journal.
    let verified = check_connection(conn).unwrap_or_else(|e| panic!("round {round}: {e}"));
    // The head file the writer kept is always one the journal contains: a kill never leaves
    // a witness ahead of the database (that would block the kiosk at its next start).
    let head_file = comptoir::store::witness::head_path_for(db);
    comptoir::app::health::witness_check(conn, &head_file)
        .unwrap_or_else(|f| panic!("round {round}: {f:?}"));
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
    check_garden(conn, garden, round);
}

/// Harvests and deposits: every reported one there and whole, none half there.
fn check_garden(conn: &rusqlite::Connection, garden: &Garden, round: u64) {
    let count = |sql: &str| -> i64 {
        conn.query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("round {round}: {sql}: {e}"))
    };
    for (&id, (lot, qty, for_sale)) in &garden.harvests {
        let row: (String, i64, i64) = conn
            .query_row(
                "SELECT lot, qty, for_sale FROM harvests WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap_or_else(|e| panic!("round {round}: harvest {id} missing: {e}"));
        assert_eq!(
            row,
            (lot.clone(), *qty, *for_sale),
            "round {round}: harvest {id}"
        );
    }
    // Each harvest with a part for sale has its one stock entry and its lot; each harvest
    // entry its harvest.
    assert_eq!(
        count(
            "SELECT count(*) FROM harvests h WHERE h.for_sale > 0 AND (
                 (SELECT count(*) FROM stock_moves m
                   WHERE m.harvest_id = h.id AND m.kind = 'harvest_in' AND m.qty = h.for_sale) <> 1
              OR NOT EXISTS (SELECT 1 FROM stock_lots l JOIN stock_moves m ON m.id = l.move_id
                              WHERE m.harvest_id = h.id AND l.number = h.lot))"
        ),
        0,
        "round {round}: a harvest without its stock entry or lot"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM stock_moves m WHERE m.kind = 'harvest_in'
               AND NOT EXISTS (SELECT 1 FROM harvests h WHERE h.id = m.harvest_id)"
        ),
        0,
        "round {round}: a harvest entry without its harvest"
    );
    // Each weighed or piece line of a known product has its stock moves (a sale's moves are
    // in the sale's transaction); each sale move its sale.
    assert_eq!(
        count(
            "SELECT count(*) FROM sale_lines l JOIN sales s ON s.kiosk_id = l.kiosk_id AND s.seq = l.seq
               JOIN products p ON p.id = l.product_id
              WHERE s.kind = 'sale'
                AND ((l.kind = 'weighed' AND p.pricing = 'per_kg') OR (l.kind = 'piece' AND p.pricing <> 'per_kg'))
                AND NOT EXISTS (SELECT 1 FROM stock_moves m WHERE m.sale_kiosk_id = l.kiosk_id
                                  AND m.sale_seq = l.seq AND m.sale_line = l.line_no)"
        ),
        0,
        "round {round}: a sale line without its stock move"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM stock_moves m WHERE m.sale_seq IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.kiosk_id = m.sale_kiosk_id
                                 AND s.seq = m.sale_seq)"
        ),
        0,
        "round {round}: a stock move without its sale"
    );
    comptoir::store::garden::check_stock(conn)
        .unwrap_or_else(|e| panic!("round {round}: the stock ledgers do not replay: {e:?}"));

    for (&id, (net, credits)) in &garden.deposits {
        let row: (i64, i64) = conn
            .query_row(
                "SELECT net_g, credits_cents FROM deposits WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap_or_else(|e| panic!("round {round}: deposit {id} missing: {e}"));
        assert_eq!(row, (*net, *credits), "round {round}: deposit {id}");
    }
    // Credits earned by each deposit, once; each earned entry its deposit.
    assert_eq!(
        count(
            "SELECT count(*) FROM deposits d WHERE d.credits_cents > 0
               AND (SELECT count(*) FROM credit_ledger c WHERE c.deposit_id = d.id
                      AND c.kind = 'earned' AND c.cents = d.credits_cents) <> 1"
        ),
        0,
        "round {round}: a deposit without its credits"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM credit_ledger c WHERE c.kind = 'earned'
               AND NOT EXISTS (SELECT 1 FROM deposits d WHERE d.id = c.deposit_id)"
        ),
        0,
        "round {round}: credits without their deposit"
    );
    comptoir::store::compost::verify_credits(conn)
        .unwrap_or_else(|e| panic!("round {round}: the credits chain: {e}"));
    // The derived figures count every deposit once (each year's "all" row).
    let (grams, deposits): (i64, i64) = conn
        .query_row(
            "SELECT coalesce(sum(net_g), 0), count(*) FROM deposits",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let (stat_grams, stat_deposits): (i64, i64) = conn
        .query_row(
            "SELECT coalesce(sum(grams), 0), coalesce(sum(deposits), 0) FROM compost_stats
              WHERE dim = 'all' AND period LIKE 'y%'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (stat_grams, stat_deposits),
        (grams, deposits),
        "round {round}: the compost figures do not count the deposits"
    );
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
    let mut garden = Garden::default();
    let mut lines_total = 0;
    let started = Instant::now();
    for round in 0..rounds {
        // From "killed while opening" to a few hundred commits.
        let run_for = Duration::from_millis(rng.gen_range(5..250));
        let lines = run_and_kill(&db, round + 1, run_for);
        lines_total += lines.len();
        for line in &lines {
            parse(line, &mut reported, &mut sessions, &mut garden);
        }
        check_after_kill(&db, &reported, &garden, round);
    }
    let kinds: Vec<&str> = {
        let store = Store::open(&db, Access::ReadOnly).unwrap();
        let n: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM journal", [], |r| r.get(0))
            .unwrap();
        eprintln!(
            "kill harness: {rounds} rounds, {lines_total} reported commits checked \
             ({} sales and refunds, {} cash movements, {} harvests, {} deposits), \
             {n} journal entries, {} sessions, {:.1} s",
            reported
                .values()
                .filter(|r| !matches!(r, Reported::Movement { .. }))
                .count(),
            reported
                .values()
                .filter(|r| matches!(r, Reported::Movement { .. }))
                .count(),
            garden.harvests.len(),
            garden.deposits.len(),
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
    assert!(
        !garden.harvests.is_empty(),
        "no harvest reported in {rounds} rounds"
    );
    assert!(
        !garden.deposits.is_empty(),
        "no deposit reported in {rounds} rounds"
    );
}
