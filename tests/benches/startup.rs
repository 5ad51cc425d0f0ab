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

/// Peak resident memory (kB) of a child process, from wait4's rusage.
// The child is reaped by wait4 (which also gives its rusage), not by Child::wait.
#[allow(clippy::zombie_processes)]
fn peak_rss_kb(mut cmd: std::process::Command) -> i64 {
    let child = cmd.stdout(std::process::Stdio::null()).spawn().unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; `usage` is a valid out-parameter.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "screenshot failed"
    );
    usage.ru_maxrss
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
