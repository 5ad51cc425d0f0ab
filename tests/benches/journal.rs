//! The journal with 1,000,000 entries present: appending one entry (an immediate transaction,
//! the canonical payload, its hash, the commit's fsync with synchronous=FULL in WAL mode), and
//! `journal::verify` over the whole chain.
//!
//! Run with `cargo bench --bench journal`. Targets (issue "Sell at the stall"): an append's p99
//! under 15 ms; verify under 10 s. Criterion reports means; the p99 of 2,000 timed appends is
//! printed as well.
//!
//! The 1,000,000-entry database is built once (batched transactions, about a minute) and kept
//! in Cargo's target tmp dir; each run appends to a copy of it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use comptoir::store::journal;
use comptoir::store::{Access, Store};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use rusqlite::TransactionBehavior;
use serde_json::{json, Map, Value};

const ENTRIES: i64 = 1_000_000;

fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-01-01T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A sale of a few lines, about the size of a real one.
fn sale_body(i: i64) -> Map<String, Value> {
    let a = 100 + (i * 37) % 1900;
    let b = 50 + (i * 53) % 900;
    let total = a + b;
    let ht = (total * 20000 + 10550) / 21100;
    let body = json!({
        "total_cents": total,
        "staff_id": 1 + i % 3,
        "session_id": 1 + i / 200,
        "lines": [
            {"product_id": 1 + i % 40, "label": "Tomates cœur de bœuf", "pricing": "per_kg",
             "grams": 200 + i % 1800, "cents_per_kg": 450, "amount_cents": a, "vat_bp": 550},
            {"product_id": 41 + i % 20, "label": "Salade batavia", "pricing": "per_piece",
             "quantity": 1 + i % 3, "unit_cents": b, "amount_cents": b, "vat_bp": 550},
        ],
        "payments": [{"method": "cash", "cents": total + 100, "change_cents": 100}],
        "vat": [{"vat_bp": 550, "ttc_cents": total, "ht_cents": ht, "vat_cents": total - ht}],
    });
    match body {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn entry_count(path: &Path) -> i64 {
    match Store::open(path, Access::ReadOnly) {
        Ok(store) => journal::head(store.conn())
            .ok()
            .flatten()
            .map_or(0, |e| e.seq),
        Err(_) => 0,
    }
}

/// The cached database with exactly [`ENTRIES`] sales, built when missing.
fn cached_db() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("journal-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("journal-{ENTRIES}-v1.db"));
    if path.exists() && entry_count(&path) == ENTRIES {
        return path;
    }
    let building = dir.join("building.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
    }
    let started = Instant::now();
    eprintln!(
        "journal bench: building {ENTRIES} entries (once) in {}",
        building.display()
    );
    {
        let mut store = Store::open(&building, Access::ReadWrite).unwrap();
        let conn = store.conn_mut();
        let mut i = 0;
        while i < ENTRIES {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .unwrap();
            for _ in 0..50_000.min(ENTRIES - i) {
                let time = start_time() + chrono::Duration::seconds(30 * i);
                journal::append(&tx, "sale", time, sale_body(i)).unwrap();
                i += 1;
            }
            tx.commit().unwrap();
        }
        conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
            .unwrap();
    }
    std::fs::rename(&building, &path).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    eprintln!(
        "journal bench: built in {:.1} s, {} MB",
        started.elapsed().as_secs_f64(),
        size / 1_000_000
    );
    path
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn append(c: &mut Criterion) {
    let source = cached_db();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("append.db");
    std::fs::copy(&source, &path).unwrap();
    let mut store = Store::open(&path, Access::ReadWrite).unwrap();
    let conn = store.conn_mut();
    let sync: i64 = conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!((sync, mode.as_str()), (2, "wal"), "synchronous=FULL, WAL");

    let mut n = ENTRIES;
    let mut one = |conn: &mut rusqlite::Connection| {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        let time = start_time() + chrono::Duration::seconds(30 * n);
        journal::append(&tx, "sale", time, sale_body(n)).unwrap();
        tx.commit().unwrap();
        n += 1;
    };

    // The p99 criterion does not give.
    for _ in 0..50 {
        one(conn);
    }
    let mut times: Vec<Duration> = (0..2_000)
        .map(|_| {
            let started = Instant::now();
            one(conn);
            started.elapsed()
        })
        .collect();
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "journal/append with {ENTRIES} entries, {} timed commits: mean {:.3} ms, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        times.len(),
        ms(mean),
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 99.0)),
        ms(*times.last().unwrap()),
    );

    let mut group = c.benchmark_group("journal");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("append_commit_fsync_with_1m_entries", |b| {
        b.iter(|| one(conn))
    });
    group.finish();
}

fn verify(c: &mut Criterion) {
    let path = cached_db();
    let store = Store::open(&path, Access::ReadOnly).unwrap();
    let started = Instant::now();
    let report = journal::verify(store.conn()).unwrap();
    println!(
        "journal/verify: {} entries intact in {:.2} s (first run, cold cache possible)",
        report.entries,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(report.entries as i64, ENTRIES);

    let mut group = c.benchmark_group("journal");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("verify_1m_entries", |b| {
        b.iter(|| {
            assert_eq!(
                journal::verify(store.conn()).unwrap().entries as i64,
                ENTRIES
            )
        })
    });
    group.finish();
}

criterion_group!(benches, append, verify);
criterion_main!(benches);
