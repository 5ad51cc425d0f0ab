//! The child of the power-cut harness (`tests/kill.rs`), behind the hidden command
//! `comptoir crash-writer --db PATH --seed N`: a scripted stream of sales, refunds, cash
//! movements, harvests and compost deposits, each committed in its own write transaction
//! (`Store::write`) exactly as the kiosk does, and one line on standard output per committed
//! operation, printed and flushed only after the commit returned:
//!
//! - `sale SEQ TOTAL_CENTS`
//! - `refund SEQ ORIGINAL_SEQ TOTAL_CENTS`
//! - `movement ID SEQ CENTS`
//! - `session ID` (a cash session opened)
//! - `harvest ID LOT QTY FOR_SALE`
//! - `deposit ID NET_G CREDITS_CENTS`
//!
//! Before its first operation it makes, in one transaction, what harvests and deposits need
//! (a member of staff, three products, a plot, three residents, a filling composter) unless a
//! previous run did; sales name those products, so they take stock out of the harvests' lots.
//!
//! The harness kills it with SIGKILL at random moments and checks that every reported
//! operation is in the database, whole.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::cart::{Cart, LineKind, PaymentMethod, PaymentPolicy, Sale};
use crate::domain::stock::HarvestSplit;
use crate::store::cash::{self, MovementReason};
use crate::store::catalog::{self, NewProduct, Pricing};
use crate::store::compost::{self, BinStatus, NewDeposit, TareSource, WasteKind};
use crate::store::garden::{self, NewHarvest};
use crate::store::people::{self, NewResident, Role};
use crate::store::sales::{self, SaleContext};
use crate::store::{Access, Store};

const CASHIER: i64 = 1;
/// The fixtures' marker: the member of staff who records the harvests.
const GARDENER: &str = "Crash gardener";

/// What harvests and deposits need, made once.
struct Fixtures {
    gardener: i64,
    /// `(product id, per kg)`.
    products: Vec<(i64, bool)>,
    plot: i64,
    residents: Vec<i64>,
}

fn fixtures(store: &mut Store, now: DateTime<Utc>) -> Result<Fixtures, String> {
    let err = |e: rusqlite::Error| e.to_string();
    let tx = store.write().map_err(|e| e.to_string())?;
    let found: Option<i64> = tx
        .query_row("SELECT id FROM staff WHERE name = ?1", [GARDENER], |r| {
            r.get(0)
        })
        .ok();
    if found.is_none() {
        let at = crate::store::utc_text(now);
        people::add_staff(&tx, GARDENER, Role::GardenLead, "-", &at).map_err(err)?;
        for (name, code, pricing) in [
            ("Tomate", "KTO", Pricing::PerKg),
            ("Salade", "KSA", Pricing::PerPiece),
            ("Courgette", "KCO", Pricing::PerKg),
        ] {
            catalog::add_product(
                &tx,
                &NewProduct {
                    name,
                    short_code: code,
                    category: "vegetable",
                    icon: "tomato",
                    pricing,
                    price_cents: 350,
                    avg_weight_g: None,
                    vat_bp: 550,
                    origin: "",
                },
                &at,
            )
            .map_err(err)?;
        }
        catalog::add_plot(&tx, "Carré 1").map_err(err)?;
        for (nickname, language) in [("Awa", "fr"), ("Leyla", "tr"), ("Karim", "ar")] {
            people::add_resident(
                &tx,
                &NewResident {
                    nickname: Some(nickname),
                    building: Some("Tour A"),
                    household_size: Some(3),
                    language,
                    consent_date: None,
                },
                &at,
            )
            .map_err(err)?;
        }
        compost::add_bin(&tx, "Bac 1", BinStatus::Filling, &at).map_err(|e| e.to_string())?;
    }
    let gardener: i64 = tx
        .query_row("SELECT id FROM staff WHERE name = ?1", [GARDENER], |r| {
            r.get(0)
        })
        .map_err(err)?;
    let products = catalog::active_products(&tx)
        .map_err(err)?
        .into_iter()
        .map(|p| (p.id, p.pricing == Pricing::PerKg))
        .collect();
    let plot: i64 = tx
        .query_row("SELECT min(id) FROM plots", [], |r| r.get(0))
        .map_err(err)?;
    let residents = compost::residents(&tx)
        .map_err(err)?
        .into_iter()
        .map(|r| r.id)
        .collect();
    tx.commit().map_err(err)?;
    Ok(Fixtures {
        gardener,
        products,
        plot,
        residents,
    })
}

/// A paid cart; its weighed and piece lines name the fixtures' products of that pricing (so
/// the sale takes stock), or, now and then, a product the database does not know.
fn random_sale(rng: &mut ChaCha8Rng, products: &[(i64, bool)]) -> Result<Sale, String> {
    let mut cart = Cart::new(CASHIER);
    for _ in 0..rng.gen_range(1..=4) {
        let kind_roll = rng.gen_range(0..3);
        let per_kg = kind_roll == 0;
        let known: Vec<i64> = products
            .iter()
            .filter(|p| p.1 == per_kg)
            .map(|p| p.0)
            .collect();
        let product_id = if !known.is_empty() && rng.gen_bool(0.8) {
            known[rng.gen_range(0..known.len())]
        } else {
            rng.gen_range(1..25)
        };
        let kind = match kind_roll {
            0 => LineKind::Weighed {
                grams: rng.gen_range(50..5000),
                cents_per_kg: rng.gen_range(100..1200),
                manual: false,
            },
            1 => LineKind::Piece {
                qty: rng.gen_range(1..6),
                unit_cents: rng.gen_range(50..400),
                avg_weight_g: None,
            },
            _ => LineKind::Divers {
                cents: rng.gen_range(10..2000),
            },
        };
        cart.add_line(product_id, "Légume", 550, kind)
            .map_err(|e| e.code().to_string())?;
    }
    let total = cart.totals().map_err(|e| e.code().to_string())?.total;
    let policy = PaymentPolicy::default();
    let method = if rng.gen_bool(0.6) {
        PaymentMethod::Cash
    } else {
        PaymentMethod::Card
    };
    let paid = if method == PaymentMethod::Cash {
        total + rng.gen_range(0..500)
    } else {
        total
    };
    cart.add_payment(method, paid, &policy)
        .map_err(|e| e.code().to_string())?;
    cart.close_paid().map_err(|e| e.code().to_string())
}

/// Runs the stream until killed, or for `count` operations. Returns an error text on a
/// failure (the harness treats any such exit as a fault).
pub fn run(db: &Path, seed: u64, count: Option<u64>) -> Result<(), String> {
    let mut store = Store::open(db, Access::ReadWrite).map_err(|e| e.to_string())?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let fx = fixtures(&mut store, Utc::now())?;
    let credits = crate::app::compost::credits_config(&crate::config::CompostSection::default());
    let tz = chrono_tz::Europe::Paris;
    let out = std::io::stdout();
    let mut out = out.lock();
    let mut report = |line: String| -> Result<(), String> {
        writeln!(out, "{line}")
            .and_then(|_| out.flush())
            .map_err(|e| e.to_string())
    };
    let mut session = cash::current_session(store.conn())
        .map_err(|e| e.to_string())?
        .map(|s| s.id);
    let mut done = 0u64;
    // The head file is kept as the kiosk keeps it, so that the harness also checks that a
    // power cut never leaves a head file the journal does not contain.
    let mut keeper = crate::app::boot::HeadKeeper::for_store(&store);
    while count.is_none_or(|c| done < c) {
        if let Some(k) = &mut keeper {
            k.tick(&store);
        }
        let now = Utc::now();
        let Some(session_id) = session else {
            let tx = store.write().map_err(|e| e.to_string())?;
            let id = cash::open_session(&tx, CASHIER, rng.gen_range(0..20_000), now)
                .map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            report(format!("session {id}"))?;
            session = Some(id);
            continue;
        };
        let ctx = SaleContext {
            cashier_id: CASHIER,
            cashier_name: "Crash".into(),
            cash_session: Some(session_id),
            training: false,
        };
        let roll = rng.gen_range(0..100);
        if roll < 55 {
            let sale = random_sale(&mut rng, &fx.products)?;
            let tx = store.write().map_err(|e| e.to_string())?;
            let entry = sales::record_sale(&tx, &sale, &ctx, now).map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            report(format!("sale {} {}", entry.seq, sale.totals.total))?;
        } else if roll < 65 {
            // A sale not refunded yet, if any.
            let original: Option<i64> = store
                .conn()
                .query_row(
                    "SELECT s.seq FROM sales s WHERE s.kind = 'sale'
                       AND NOT EXISTS (SELECT 1 FROM sales r WHERE r.refund_of = s.seq)
                     ORDER BY random() LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .ok();
            let Some(original) = original else { continue };
            let tx = store.write().map_err(|e| e.to_string())?;
            let entry =
                sales::record_refund(&tx, original, &[], &ctx, now).map_err(|e| e.to_string())?;
            let total: i64 = tx
                .query_row(
                    "SELECT total_cents FROM sales WHERE seq = ?1",
                    [entry.seq],
                    |r| r.get(0),
                )
                .map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            report(format!("refund {} {original} {total}", entry.seq))?;
        } else if roll < 77 {
            let (reason, cents) = if rng.gen_bool(0.5) {
                (MovementReason::FloatTopUp, rng.gen_range(1..5000))
            } else {
                (MovementReason::BankDeposit, -rng.gen_range(1..5000))
            };
            let tx = store.write().map_err(|e| e.to_string())?;
            let id = cash::add_movement(&tx, session_id, CASHIER, cents, reason, now)
                .map_err(|e| e.to_string())?;
            let seq: i64 = tx
                .query_row("SELECT seq FROM cash_movements WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            report(format!("movement {id} {seq} {cents}"))?;
        } else if roll < 87 {
            // A harvest: a crate of one product, split between sale, donation and compost.
            let (product_id, per_kg) = fx.products[rng.gen_range(0..fx.products.len())];
            let qty = if per_kg {
                rng.gen_range(500..20_000)
            } else {
                rng.gen_range(1..40)
            };
            let donation = rng.gen_range(0..=qty / 4);
            let compost = rng.gen_range(0..=qty / 10);
            let harvest = NewHarvest {
                product_id,
                plot_id: Some(fx.plot),
                harvester_id: rng.gen_bool(0.5).then_some(fx.gardener),
                recorded_by: fx.gardener,
                qty,
                tare_g: if per_kg { 450 } else { 0 },
                split: HarvestSplit {
                    for_sale: qty - donation - compost,
                    donation,
                    own_use: 0,
                    compost,
                },
            };
            let day = now.with_timezone(&tz).date_naive();
            let tx = store.write().map_err(|e| e.to_string())?;
            let recorded =
                garden::record_harvest(&tx, &harvest, day, now).map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            report(format!(
                "harvest {} {} {qty} {}",
                recorded.id, recorded.lot, harvest.split.for_sale
            ))?;
        } else if roll < 97 {
            // A resident's deposit, with its credits and the derived figures.
            let resident = fx.residents[rng.gen_range(0..fx.residents.len())];
            let tare = rng.gen_range(0..900);
            let deposit = NewDeposit {
                resident_id: Some(resident),
                kind: [WasteKind::Kitchen, WasteKind::Coffee, WasteKind::Brown]
                    [rng.gen_range(0..3)],
                gross_g: tare + rng.gen_range(100..15_000),
                tare_g: tare,
                tare_source: if tare == 0 {
                    TareSource::None
                } else {
                    TareSource::Bucket
                },
                reference: None,
            };
            let day = now.with_timezone(&tz).date_naive();
            let day_start = tz
                .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
                .earliest()
                .map(|t| crate::store::utc_text(t.with_timezone(&Utc)))
                .unwrap_or_default();
            let tx = store.write().map_err(|e| e.to_string())?;
            let recorded = compost::record_deposit(&tx, &deposit, &credits, now, day, &day_start)
                .map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            report(format!(
                "deposit {} {} {}",
                recorded.id, recorded.net_g, recorded.credits_cents
            ))?;
        } else {
            // Close the session (an empty drawer counted: the difference is recorded) and
            // open another on the next turn.
            let counted = cash::Denominations::new();
            let tx = store.write().map_err(|e| e.to_string())?;
            cash::close_session(&tx, session_id, CASHIER, &counted, now)
                .map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            report(format!("closed {session_id}"))?;
            session = None;
        }
        done += 1;
    }
    if let Some(k) = &mut keeper {
        k.tick(&store);
    }
    Ok(())
}
