//! A stall's journal at 1,000,000 entries, written through the kiosk's own store functions:
//! nine years of market days of 300 tickets (weighed and piece lines, cash and card, a refund
//! a week), the morning's harvest of what the day sells (lots, stock moves), and the closures
//! of each day, month and year, signed.
//!
//! - **Committing a sale** as the stall does (`store::sales::record_sale` and the parked cart's
//!   removal in one immediate transaction, synchronous=FULL in WAL mode), then the head file
//!   the kiosk keeps beside the database (`HeadKeeper::tick`: the head read back, the file
//!   written whole and synced). Target (issue "Trust the records"): p99 under 15 ms with the
//!   head file. Criterion reports means; the percentiles of 2,000 timed sales are printed.
//! - **`journal verify`** with every recomputation (`store::audit::verify_all`: the chain and
//!   its signatures, every closure recomputed, the sales tables, cash movements, credits, the
//!   stock ledgers replayed, every other ledger's chain, the schema). Target: under 10 s.
//!   Before it, the tickets screen's query for one day is timed once (printed).
//!
//! Run with `cargo bench --bench journal`. The database is built once (batched transactions,
//! several minutes) and kept in Cargo's target tmp dir; each run sells into a copy of it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use comptoir::app::boot::HeadKeeper;
use comptoir::app::closures::{run_due_with, DateCheck};
use comptoir::domain::cart::{Cart, LineKind, PaymentMethod, PaymentPolicy, Sale};
use comptoir::domain::stock::HarvestSplit;
use comptoir::store::catalog::{self, NewProduct, Pricing};
use comptoir::store::garden::{self, NewHarvest};
use comptoir::store::people::{self, Role};
use comptoir::store::sales::{self, SaleContext};
use comptoir::store::{audit, journal, parked, utc_text, Access, Store};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};

const ENTRIES: i64 = 1_000_000;
const SALES_PER_DAY: i64 = 300;
const TZ: chrono_tz::Tz = chrono_tz::Europe::Paris;

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2017, 1, 2).unwrap()
}

/// `seconds` after local midnight of `day`, in UTC.
fn at(day: NaiveDate, seconds: i64) -> DateTime<Utc> {
    let local = day.and_hms_opt(0, 0, 0).unwrap() + chrono::Duration::seconds(seconds);
    TZ.from_local_datetime(&local)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

struct Product {
    id: i64,
    name: String,
    pricing: Pricing,
    price_cents: i64,
    avg_weight_g: Option<i64>,
}

/// The products (four by weight, two by the piece), a plot, a seller and a garden lead.
fn set_up(store: &mut Store) -> (Vec<Product>, i64, i64, i64) {
    let created = utc_text(at(first_day(), 7 * 3600));
    let tx = store.write().unwrap();
    catalog::ensure_categories(&tx).unwrap();
    let rows = [
        ("Tomates", "TOM", Pricing::PerKg, 450, None),
        ("Courgettes", "COU", Pricing::PerKg, 280, None),
        ("Pommes de terre", "PDT", Pricing::PerKg, 190, None),
        ("Haricots verts", "HAR", Pricing::PerKg, 620, None),
        ("Salade batavia", "SAL", Pricing::PerPiece, 120, Some(400)),
        ("Radis", "RAD", Pricing::PerBunch, 150, Some(250)),
    ];
    let mut products = Vec::new();
    for (name, code, pricing, price_cents, avg_weight_g) in rows {
        let id = catalog::add_product(
            &tx,
            &NewProduct {
                name,
                short_code: code,
                category: "vegetable",
                icon: "tomato",
                pricing,
                price_cents,
                avg_weight_g,
                vat_bp: 550,
                origin: "Jardin des 1000 fleurs, Laxou",
            },
            &created,
        )
        .unwrap();
        products.push(Product {
            id,
            name: name.to_string(),
            pricing,
            price_cents,
            avg_weight_g,
        });
    }
    let plot = catalog::add_plot(&tx, "Parcelle A").unwrap();
    let salt = [7u8; 16];
    let seller = people::add_staff(
        &tx,
        "Amina",
        Role::Seller,
        &people::hash_pin_with_salt("1111", &salt),
        &created,
    )
    .unwrap();
    let lead = people::add_staff(
        &tx,
        "Nadia",
        Role::GardenLead,
        &people::hash_pin_with_salt("2468", &salt),
        &created,
    )
    .unwrap();
    tx.commit().unwrap();
    (products, plot, seller, lead)
}

/// Ticket `n`: one to three lines, paid cash (the next note up) or by card.
fn ticket(n: i64, seller: i64, products: &[Product]) -> Sale {
    let mut cart = Cart::new(seller);
    for k in 0..1 + n % 3 {
        let p = &products[((n * 7 + k * 3) % products.len() as i64) as usize];
        let kind = match p.pricing {
            Pricing::PerKg => LineKind::Weighed {
                grams: 150 + (n * 37 + k * 101) % 2350,
                cents_per_kg: p.price_cents,
                manual: false,
            },
            Pricing::PerPiece | Pricing::PerBunch => LineKind::Piece {
                qty: 1 + (n + k) % 4,
                unit_cents: p.price_cents,
                avg_weight_g: p.avg_weight_g,
            },
        };
        cart.add_line(p.id, p.name.clone(), 550, kind).unwrap();
    }
    let total = cart.totals().unwrap().total;
    let policy = PaymentPolicy::default();
    if n % 5 < 3 {
        let given = (total / 1000 + 1) * 1000;
        cart.add_payment(PaymentMethod::Cash, given, &policy)
            .unwrap();
    } else {
        cart.add_payment(PaymentMethod::Card, total, &policy)
            .unwrap();
    }
    cart.close_paid().unwrap()
}

/// What a sale takes from stock, per product, in its stock unit.
fn add_demand(sale: &Sale, demand: &mut HashMap<i64, i64>) {
    for line in &sale.lines {
        let qty = match line.kind {
            LineKind::Weighed { grams, .. } => grams,
            LineKind::Piece { qty, .. } => qty,
            LineKind::Divers { .. } => 0,
        };
        *demand.entry(line.product_id).or_default() += qty;
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

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", ".key", ".head"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// The cached database with at least [`ENTRIES`] entries, built when missing.
fn cached_db() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("journal-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("stall-{ENTRIES}-v2.db"));
    if path.exists() && entry_count(&path) >= ENTRIES {
        return path;
    }
    let building = dir.join("building.db");
    remove_db(&building);
    let key = journal::key_path_for(&building);
    let started = Instant::now();
    eprintln!("journal bench: building a stall of {ENTRIES} entries (once)");
    let mut store = Store::open(&building, Access::ReadWrite).unwrap();
    store
        .conn()
        .pragma_update(None, "synchronous", "OFF")
        .unwrap();
    let (products, plot, seller, lead) = set_up(&mut store);
    let ctx = SaleContext {
        cashier_id: seller,
        cashier_name: "Amina".into(),
        cash_session: None,
        training: false,
    };
    let mut n = 0;
    let mut day = first_day();
    let mut seq = 0;
    while seq < ENTRIES {
        let tickets: Vec<Sale> = (0..SALES_PER_DAY)
            .map(|i| ticket(n + i, seller, &products))
            .collect();
        let mut demand = HashMap::new();
        tickets.iter().for_each(|s| add_demand(s, &mut demand));
        let tx = store.write().unwrap();
        for (i, p) in products.iter().enumerate() {
            let qty = demand.get(&p.id).copied().unwrap_or(0);
            if qty == 0 {
                continue;
            }
            let h = NewHarvest {
                product_id: p.id,
                plot_id: Some(plot),
                harvester_id: None,
                recorded_by: lead,
                qty,
                tare_g: 0,
                split: HarvestSplit {
                    for_sale: qty,
                    donation: 0,
                    own_use: 0,
                    compost: 0,
                },
            };
            garden::record_harvest(&tx, &h, day, at(day, 7 * 3600 + 60 * i as i64)).unwrap();
        }
        let mut first = None;
        for (i, sale) in tickets.iter().enumerate() {
            let when = at(day, 8 * 3600 + 1800 + 50 * i as i64);
            let entry = sales::record_sale(&tx, sale, &ctx, when).unwrap();
            first.get_or_insert(entry.seq);
            seq = entry.seq;
        }
        if day.ordinal() % 7 == 0 {
            let refund =
                sales::record_refund(&tx, first.unwrap(), &[], &ctx, at(day, 13 * 3600)).unwrap();
            seq = refund.seq;
        }
        tx.commit().unwrap();
        n += SALES_PER_DAY;
        day = day.succ_opt().unwrap();
        // The closures of the day (and the month, the year) the next morning.
        let tx = store.write().unwrap();
        let closed = run_due_with(&tx, &key, TZ, at(day, 6 * 3600), DateCheck::Confirmed).unwrap();
        if let Some(last) = closed.last() {
            seq = last.seq;
        }
        tx.commit().unwrap();
        if day.ordinal() == 1 {
            eprintln!(
                "  {day}: {seq} entries, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    store
        .conn()
        .pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    drop(store);
    std::fs::rename(&building, &path).unwrap();
    std::fs::rename(&key, journal::key_path_for(&path)).unwrap();
    remove_db(&building);
    eprintln!(
        "journal bench: {seq} entries built in {:.0} s, {} MB",
        started.elapsed().as_secs_f64(),
        std::fs::metadata(&path).unwrap().len() / 1_000_000
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

fn describe(label: &str, times: &mut [Duration]) {
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "{label}, {} timed: mean {:.3} ms, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        times.len(),
        ms(mean),
        ms(percentile(times, 50.0)),
        ms(percentile(times, 99.0)),
        ms(*times.last().unwrap()),
    );
}

fn sale_commit(c: &mut Criterion) {
    let source = cached_db();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("stall.db");
    std::fs::copy(&source, &path).unwrap();
    let mut store = Store::open(&path, Access::ReadWrite).unwrap();
    let sync: i64 = store
        .conn()
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    let mode: String = store
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!((sync, mode.as_str()), (2, "wal"), "synchronous=FULL, WAL");
    let head = journal::head(store.conn()).unwrap().unwrap();
    println!("journal/sale_commit: {} entries before the first", head.seq);
    let products: Vec<Product> = catalog::active_products(store.conn())
        .unwrap()
        .into_iter()
        .map(|p| Product {
            id: p.id,
            name: p.name,
            pricing: p.pricing,
            price_cents: p.price_cents,
            avg_weight_g: p.avg_weight_g,
        })
        .collect();
    let seller = people::active_staff(store.conn())
        .unwrap()
        .into_iter()
        .find(|s| s.role == Role::Seller)
        .unwrap();
    let ctx = SaleContext {
        cashier_id: seller.id,
        cashier_name: seller.name.clone(),
        cash_session: None,
        training: false,
    };
    let mut keeper = HeadKeeper::for_store(&store).unwrap();
    keeper.tick(&store);
    let day = NaiveDate::parse_from_str(&head.time_utc[..10], "%Y-%m-%d")
        .unwrap()
        .succ_opt()
        .unwrap();
    let mut n = 0_i64;
    // One sale as the stall commits it; returns the commit's time and the head file's.
    let mut sell = |store: &mut Store, keeper: &mut HeadKeeper| -> (Duration, Duration) {
        let sale = ticket(n, seller.id, &products);
        let when = at(day, 8 * 3600) + chrono::Duration::milliseconds(100 * n);
        n += 1;
        let started = Instant::now();
        let tx = store.write().unwrap();
        sales::record_sale(&tx, &sale, &ctx, when).unwrap();
        parked::remove(&tx, seller.id).unwrap();
        tx.commit().unwrap();
        let committed = started.elapsed();
        assert!(keeper.tick(store), "the head file follows the sale");
        (committed, started.elapsed() - committed)
    };

    for _ in 0..50 {
        sell(&mut store, &mut keeper);
    }
    let (mut commits, mut heads): (Vec<Duration>, Vec<Duration>) =
        (0..2_000).map(|_| sell(&mut store, &mut keeper)).unzip();
    let mut both: Vec<Duration> = commits.iter().zip(&heads).map(|(a, b)| *a + *b).collect();
    describe("journal/sale_commit (transaction, fsync)", &mut commits);
    describe("journal/head_file (read back, written, synced)", &mut heads);
    describe("journal/sale_commit_with_head_file", &mut both);

    let mut group = c.benchmark_group("journal");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("sale_commit_with_head_file_1m_entries", |b| {
        b.iter(|| sell(&mut store, &mut keeper))
    });
    group.finish();
}

fn verify(c: &mut Criterion) {
    let path = cached_db();
    let store = Store::open(&path, Access::ReadOnly).unwrap();
    let count = |table: &str| -> i64 {
        store
            .conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    println!(
        "journal/verify_all: {} entries ({} sales and refunds, {} closures), {} sale lines, \
         {} stock moves, {} lots, {} harvests; {} MB",
        count("journal"),
        count("sales"),
        count("journal WHERE kind = 'closure'"),
        count("sale_lines"),
        count("stock_moves"),
        count("stock_lots"),
        count("harvests"),
        std::fs::metadata(&path).unwrap().len() / 1_000_000,
    );
    // The tickets screen on a day five years back (its query walks the day, not the journal).
    let day = first_day() + chrono::Duration::days(5 * 365);
    let started = Instant::now();
    let tickets = comptoir::store::tickets::tickets_between(
        store.conn(),
        at(day, 0),
        at(day.succ_opt().unwrap(), 0),
        500,
    )
    .unwrap();
    println!(
        "journal/tickets_of_a_day: {} tickets of {day} in {:.1} ms",
        tickets.len(),
        ms(started.elapsed())
    );
    assert_eq!(
        tickets.len() as i64,
        SALES_PER_DAY + i64::from(day.ordinal() % 7 == 0)
    );

    let started = Instant::now();
    let report = audit::verify_all(store.conn()).unwrap();
    println!(
        "journal/verify_all: {} entries intact in {:.2} s (first run, cold cache possible)",
        report.journal.entries,
        started.elapsed().as_secs_f64()
    );
    assert!(report.journal.entries as i64 >= ENTRIES);

    let mut group = c.benchmark_group("journal");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(60));
    group.bench_function("verify_all_1m_entries", |b| {
        b.iter(|| audit::verify_all(store.conn()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, sale_commit, verify);
criterion_main!(benches);
