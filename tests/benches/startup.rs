//! Start-up to the first rendered frame (software renderer, 800x480, a seeded database), and
//! the peak memory of a `comptoir screenshot` run.
//!
//! Run with `cargo bench --bench startup`. Targets (issue "Foundation"): first frame under
//! 150 ms; peak RSS of a screenshot under 60 MB.

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

fn first_frame(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_db(dir.path());
    let renderer = comptoir::ui::screenshot::Renderer::install().unwrap();
    let mut group = c.benchmark_group("startup");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("open_db_build_ui_first_frame_800x480", |b| {
        b.iter(|| {
            let store = Store::open(&db, Access::ReadWrite).unwrap();
            let kiosk = Kiosk::new(store, Config::default(), RunMode::Live, Clock::System);
            let frame = renderer.render(kiosk, Screen::Home, 800, 480).unwrap();
            assert_eq!(frame.rgb.len(), 800 * 480 * 3);
        })
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
criterion_group!(benches, screenshot_memory, first_frame);
criterion_main!(benches);
