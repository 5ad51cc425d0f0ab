//! Start-up on a database with a year of everything (the demo seed over 365 days: sales and
//! refunds with their journal and closures, harvests and stock moves, compost deposits and
//! credits): the first rendered frame (software renderer, 800x480), then the checks the kiosk
//! runs in the background after it (`quick_check` and the journal from the last verified
//! entry; the first start of a database has no mark and verifies the whole journal; then the
//! head file against the journal), the daily full check (`journal verify`'s every check), and
//! the peak memory of a `comptoir screenshot` run.
//!
//! Run with `cargo bench --bench startup`. Targets: first frame under 150 ms; peak RSS of a
//! screenshot under 60 MB (issue "Foundation"); the start-up checks under 300 ms (issue
//! "Trust the records").

use std::time::Duration;

use comptoir::app::{Clock, Kiosk, RunMode, Screen};
use comptoir::config::Config;
use comptoir::store::{Access, Store};
use criterion::{criterion_group, criterion_main, Criterion};

fn seeded_db(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("bench.db");
    let mut store = Store::open(&path, Access::ReadWrite).unwrap();
    let options = comptoir::demo::SeedOptions {
        days: 365,
        seed: 1,
        until: chrono::NaiveDate::from_ymd_opt(2026, 6, 13).unwrap(),
        tz: chrono_tz::Europe::Paris,
    };
    comptoir::demo::seed(&mut store, &options).unwrap();
    path
}

/// What the year holds, printed beside the figures.
fn describe(db: &std::path::Path) {
    let store = Store::open(db, Access::ReadOnly).unwrap();
    let count = |table: &str| -> i64 {
        store
            .conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    println!(
        "a year of everything: {} journal entries, {} sales and refunds, {} harvests, \
         {} stock moves, {} deposits, {} credit entries; {:.1} MB",
        count("journal"),
        count("sales"),
        count("harvests"),
        count("stock_moves"),
        count("deposits"),
        count("credit_ledger"),
        std::fs::metadata(db).unwrap().len() as f64 / 1e6
    );
}

fn first_frame(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_db(dir.path());
    describe(&db);
    let renderer = comptoir::ui::screenshot::Renderer::install().unwrap();
    let mut group = c.benchmark_group("startup");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("open_db_build_ui_first_frame_800x480", |b| {
        b.iter(|| {
            let store = Store::open(&db, Access::ReadWrite).unwrap();
            let kiosk = Kiosk::new(store, Config::default(), RunMode::Live, Clock::System);
            let frame = renderer
                .render(kiosk, Screen::Home, None, 800, 480)
                .unwrap();
            assert_eq!(frame.rgb.len(), 800 * 480 * 3);
        })
    });
    group.finish();
}

/// The background checks after the first frame, on their own connection as the health thread
/// opens it.
fn background_checks(c: &mut Criterion) {
    use comptoir::app::health;
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_db(dir.path());
    // The head file the kiosk keeps beside the database, as the last run left it.
    let head = comptoir::store::witness::head_path_for(&db);
    {
        let store = Store::open(&db, Access::ReadWrite).unwrap();
        comptoir::store::witness::keep(store.conn(), &head).unwrap();
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut group = c.benchmark_group("startup_checks");
    group.sample_size(10);
    group.bench_function("first_start_whole_journal_head_file", |b| {
        b.iter_batched(
            || {
                conn.execute("DELETE FROM meta WHERE key = ?1", [health::MARK_KEY])
                    .unwrap();
            },
            |()| health::first_checks(&conn, Some(&head)).unwrap(),
            criterion::BatchSize::PerIteration,
        )
    });
    health::first_checks(&conn, Some(&head)).unwrap();
    group.bench_function("start_journal_from_mark_head_file", |b| {
        b.iter(|| health::first_checks(&conn, Some(&head)).unwrap())
    });
    group.bench_function("daily_full_check", |b| {
        b.iter(|| health::full_check(&conn).unwrap())
    });
    group.finish();
}

/// Peak resident memory (kB) of a `comptoir screenshot` run, as the process itself reports
/// it (`VmHWM`, which starts afresh at exec: a child forked from this grown bench process does
/// not count our pages, as `wait4`'s rusage would).
fn peak_rss_kb(mut cmd: std::process::Command) -> i64 {
    let out = cmd.env("COMPTOIR_REPORT_PEAK_RSS", "1").output().unwrap();
    assert!(
        out.status.success(),
        "screenshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("peak_rss_kb "))
        .expect("the peak is reported");
    line["peak_rss_kb ".len()..].trim().parse().unwrap()
}

fn screenshot_memory(_c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_db(dir.path());
    let bin = env!("CARGO_BIN_EXE_comptoir");
    let mut worst = 0;
    for screen in ["home", "sell.catalog", "login"] {
        let mut cmd = std::process::Command::new(bin);
        cmd.args(["screenshot", "--screen", screen, "--db"])
            .arg(&db)
            .arg("--out")
            .arg(dir.path().join("s.png"));
        let kb = peak_rss_kb(cmd);
        worst = worst.max(kb);
        println!("screenshot {screen}: peak RSS {:.1} MB", kb as f64 / 1024.0);
    }
    println!(
        "screenshot peak RSS, worst: {:.1} MB (target < 60 MB)",
        worst as f64 / 1024.0
    );
}

// Memory first: a child forked from a bench process that has grown would count its pages.
criterion_group!(benches, screenshot_memory, first_frame, background_checks);
criterion_main!(benches);
