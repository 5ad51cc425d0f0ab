//! The garden lead's screens on five years of demo data (`demo seed --days 1825`): the stock
//! view, each report query (weeks and months, all products and one), the week's sales, and
//! building each garden screen's models (stock, reports, sales, harvest).
//!
//! Run with `cargo bench --bench garden`. Targets (issue "The garden lead's tools"): the stock
//! view and each report query under 50 ms; building each screen's models under 100 ms.
//!
//! The database is seeded once through `demo::seed` (the same code path as `comptoir demo
//! seed`: sales, harvests, losses and counts) and kept in Cargo's target tmp dir.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{NaiveDate, TimeZone, Utc};
use comptoir::app::garden::{self, Metric, Period, StockSort};
use comptoir::app::{Clock, Kiosk, RunMode, Screen};
use comptoir::config::Config;
use comptoir::store::{Access, Store};
use criterion::{criterion_group, criterion_main, Criterion};

const DAYS: u32 = 1825;

fn until() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 12).unwrap()
}

fn cached_db() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("garden-bench");
    std::fs::create_dir_all(&dir).unwrap();
    // v2: the seed harvests what each market sells (no product below zero).
    let path = dir.join(format!("garden-{DAYS}-v2.db"));
    if path.exists() && Store::open(&path, Access::ReadOnly).is_ok() {
        return path;
    }
    let building = dir.join("building.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
    }
    let started = Instant::now();
    let mut store = Store::open(&building, Access::ReadWrite).unwrap();
    comptoir::demo::seed(
        &mut store,
        &comptoir::demo::SeedOptions {
            days: DAYS,
            seed: 1,
            until: until(),
            tz: chrono_tz::Europe::Paris,
        },
    )
    .unwrap();
    drop(store);
    eprintln!(
        "seeded {DAYS} days in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    std::fs::rename(&building, &path).unwrap();
    path
}

fn kiosk(path: &Path) -> Kiosk {
    let store = Store::open(path, Access::ReadOnly).unwrap();
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 6, 13, 8, 42, 0).unwrap());
    let mut k = Kiosk::new(store, Config::default(), RunMode::Demo, clock);
    let lead = comptoir::store::people::active_staff(k.store.conn())
        .unwrap()
        .into_iter()
        .find(|s| s.role == comptoir::store::people::Role::GardenLead)
        .unwrap();
    k.session.assume(lead);
    k
}

fn bench(c: &mut Criterion) {
    let path = cached_db();
    let mut k = kiosk(&path);
    {
        let n: i64 = k
            .store
            .conn()
            .query_row("SELECT count(*) FROM stock_moves", [], |r| r.get(0))
            .unwrap();
        eprintln!("{n} stock moves");
    }
    let tomatoes = comptoir::store::catalog::active_products(k.store.conn()).unwrap()[0].id;
    let mut g = c.benchmark_group("garden");
    g.sample_size(20);
    g.bench_function("stock view", |b| {
        b.iter(|| garden::stock_view(&k, "", StockSort::Category).unwrap())
    });
    for (period, pname) in [(Period::Week, "weeks"), (Period::Month, "months")] {
        for (metric, mname) in [
            (Metric::HarvestedKg, "harvested"),
            (Metric::SoldKg, "sold kg"),
            (Metric::SoldCents, "sold cents"),
            (Metric::LossKg, "losses"),
        ] {
            g.bench_function(format!("report {pname} {mname}"), |b| {
                b.iter(|| garden::report_for(&k, period, metric, None).unwrap())
            });
        }
        g.bench_function(format!("report {pname} one product"), |b| {
            b.iter(|| garden::report_for(&k, period, Metric::SoldCents, Some(tomatoes)).unwrap())
        });
    }
    g.bench_function("sales summary", |b| {
        b.iter(|| garden::sales_summary(&k).unwrap())
    });
    g.finish();

    // Each screen's models built through the UI adapter (testing backend, no window shown).
    i_slint_backend_testing::init_no_event_loop();
    k.screen = Screen::Home;
    let ui = comptoir::ui::Ui::new(k).unwrap();
    let mut g = c.benchmark_group("garden models");
    g.sample_size(20);
    for screen in [
        Screen::GardenHome,
        Screen::GardenStock,
        Screen::GardenReports,
        Screen::GardenSales,
        Screen::GardenHarvest,
    ] {
        g.bench_function(screen.name(), |b| {
            b.iter(|| {
                ui.kiosk.borrow_mut().screen = screen;
                ui.refresh();
            })
        });
    }
    // The reports' other charts: months, and one product's sales.
    {
        let mut k = ui.kiosk.borrow_mut();
        k.screen = Screen::GardenReports;
        k.garden.period = Period::Month;
        k.garden.metric = Metric::SoldCents;
        k.garden.report_product = Some(tomatoes);
    }
    g.bench_function("garden.reports months one product", |b| {
        b.iter(|| ui.refresh())
    });
    // The stock screen with a product's panel open (its lots).
    {
        let mut k = ui.kiosk.borrow_mut();
        k.screen = Screen::GardenStock;
        k.garden.stock_product = Some(tomatoes);
    }
    g.bench_function("garden.stock with a product's panel", |b| {
        b.iter(|| ui.refresh())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
