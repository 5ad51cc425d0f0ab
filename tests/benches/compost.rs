//! Compost with 10,000 residents and 1,000,000 deposits over five years: a card scan to the
//! greeting (look-up, resident, duplicate guard, language, screen), and each impact report
//! over five years (the screen's weeks, months and years, and `export impact`).
//!
//! Run with `cargo bench --bench compost`. Targets (issue "Compost deposits"): scan to greeting
//! under 100 ms; each impact report under 100 ms.
//!
//! The database is built once through `store::compost::record_deposit` (credits ledger and
//! derived figures included, batched transactions) and kept in Cargo's target tmp dir.

use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use comptoir::app::{compost, Clock, Kiosk, RunMode, Screen};
use comptoir::config::Config;
use comptoir::devices::scanner::ScannerEvent;
use comptoir::domain::credits::CreditsConfig;
use comptoir::store::compost::{self as store, BinStatus, NewDeposit, TareSource, WasteKind};
use comptoir::store::people::{self, NewResident};
use comptoir::store::{utc_text, Access, Store};
use criterion::{criterion_group, criterion_main, Criterion};

const RESIDENTS: i64 = 10_000;
const DEPOSITS: i64 = 1_000_000;
const DAYS: i64 = 5 * 365;

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2021-06-14T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn today() -> NaiveDate {
    (start() + Duration::days(DAYS)).date_naive()
}

fn token(i: i64) -> String {
    format!("{:032x}", 0x00c0_0000_0000_u128 + i as u128)
}

fn deposit_count(path: &std::path::Path) -> i64 {
    match Store::open(path, Access::ReadOnly) {
        Ok(s) => s
            .conn()
            .query_row("SELECT count(*) FROM deposits", [], |r| r.get(0))
            .unwrap_or(0),
        Err(_) => 0,
    }
}

fn cached_db() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compost-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("compost-{RESIDENTS}-{DEPOSITS}-v1.db"));
    if path.exists() && deposit_count(&path) == DEPOSITS {
        return path;
    }
    let building = dir.join("building.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
    }
    let started = Instant::now();
    eprintln!("compost bench: building {RESIDENTS} residents, {DEPOSITS} deposits (once)");
    let mut s = Store::open(&building, Access::ReadWrite).unwrap();
    s.conn().pragma_update(None, "synchronous", "OFF").unwrap();
    let buildings = [
        "Bât. A",
        "Bât. B",
        "Bât. C",
        "Tour Anjou",
        "Tour Berry",
        "Résidence Lorraine",
    ];
    {
        let tx = s.write().unwrap();
        let t = utc_text(start());
        for i in 0..RESIDENTS {
            let id = people::add_resident(
                &tx,
                &NewResident {
                    nickname: Some("Résident"),
                    building: Some(buildings[(i % 6) as usize]),
                    household_size: Some(1 + i % 5),
                    language: ["fr", "en", "tr", "ar"][(i % 4) as usize],
                    consent_date: None,
                },
                &t,
            )
            .unwrap();
            people::issue_card(&tx, id, &token(i), &t).unwrap();
            store::set_bucket_tare(&tx, id, Some(450), None, &t).unwrap();
        }
        store::add_bin(&tx, "M.O.T.E 1", BinStatus::Filling, &t).unwrap();
        tx.commit().unwrap();
    }
    let credits = CreditsConfig::default();
    let tz = chrono_tz::Europe::Paris;
    let per_day = DEPOSITS / DAYS + 1;
    let mut n = 0;
    let mut day = 0;
    while n < DEPOSITS {
        let tx = s.write().unwrap();
        for _ in 0..10 {
            let date = start() + Duration::days(day);
            let local = date.with_timezone(&tz).date_naive();
            let day_start = utc_text(date - Duration::hours(8));
            for j in 0..per_day {
                if n >= DEPOSITS {
                    break;
                }
                let resident = 1 + (n * 7919) % RESIDENTS;
                let d = NewDeposit {
                    resident_id: Some(resident),
                    kind: [WasteKind::Kitchen, WasteKind::Coffee, WasteKind::Brown]
                        [(n % 3) as usize],
                    gross_g: 450 + 300 + (n * 37) % 3000,
                    tare_g: 450,
                    tare_source: TareSource::Bucket,
                    reference: None,
                };
                let now = date + Duration::seconds(j * 20);
                store::record_deposit(&tx, &d, &credits, now, local, &day_start).unwrap();
                n += 1;
            }
            day += 1;
        }
        tx.commit().unwrap();
        if day % 100 == 0 {
            eprintln!("  {n} deposits, {:.0?}", started.elapsed());
        }
    }
    drop(s);
    std::fs::rename(&building, &path).unwrap();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
    }
    eprintln!("compost bench: built in {:.1?}", started.elapsed());
    path
}

fn benches(c: &mut Criterion) {
    let path = cached_db();
    let store = Store::open(&path, Access::ReadWrite).unwrap();
    let clock = Clock::manual(start() + Duration::days(DAYS) + Duration::hours(2));
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Live, clock);
    kiosk.screen = Screen::CompostIdle;
    let mut i = 0;
    c.bench_function("scan to greeting (10k residents, 1M deposits)", |b| {
        b.iter(|| {
            i = (i + 1) % RESIDENTS;
            compost::on_scan(&mut kiosk, &ScannerEvent::Card { token: token(i) });
            assert_eq!(kiosk.screen, Screen::CompostWeigh);
            compost::end(&mut kiosk);
        })
    });
    let conn = kiosk.store.conn();
    for g in ["week", "month", "year"] {
        c.bench_function(&format!("impact report: {g}s, 1M deposits"), |b| {
            b.iter(|| {
                let r = compost::impact(conn, g, today()).unwrap();
                assert!(r.totals.grams > 0);
            })
        });
    }
    c.bench_function("export impact over 5 years, 1M deposits", |b| {
        b.iter(|| {
            let rows = comptoir::app::residents::impact_rows(
                conn,
                today() - Duration::days(DAYS),
                today(),
            )
            .unwrap();
            assert!(rows.len() > 300);
        })
    });
}

criterion_group! {
    name = compost_benches;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(compost_benches);
