//! The garden lead's tools: the stock ledger through the store (every order of moves), lots
//! on sales and refunds, harvests through the controller and through the UI with the simulated
//! scale, counts, bad inputs, and exports that agree with the screens.

use std::process::Command;

use chrono::{TimeZone, Utc};
use comptoir::app::devices::ScaleView;
use comptoir::app::garden::{self, GardenFlowError, HarvestStep, Part, StockOp, StockSort};
use comptoir::app::{Clock, Kiosk, RunMode};
use comptoir::config::Config;
use comptoir::domain::cart::{Cart, LineKind, PaymentMethod, PaymentPolicy};
use comptoir::domain::stock::{HarvestSplit, LossReason, LotNumber, StockMove};
use comptoir::store::garden::{self as gstore, MoveSource, NewHarvest};
use comptoir::store::sales::{self, SaleContext};
use comptoir::store::{catalog, people, Store};

use crate::common::{label, screen, seeded_db, tap, wait_for};

fn at(h: u32, m: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 20, h, m, 0).unwrap()
}

fn product(store: &Store, code: &str) -> catalog::Product {
    catalog::active_products(store.conn())
        .unwrap()
        .into_iter()
        .find(|p| p.short_code == code)
        .unwrap()
}

fn staff(store: &Store, name: &str) -> people::Staff {
    people::all_staff(store.conn())
        .unwrap()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap()
}

/// A one-day demo database (catalogue, plots, staff) without its market days' stock noise:
/// the 1-day seed ends on a Saturday, so only one market's moves are in it.
fn kiosk_as(name: &str) -> (tempfile::TempDir, Kiosk) {
    let (dir, _db, store) = seeded_db(1);
    let clock = Clock::manual(at(6, 30));
    let mut k = Kiosk::new(store, Config::default(), RunMode::Demo, clock);
    let who = staff(&k.store, name);
    k.session.assume(who);
    (dir, k)
}

fn sell(store: &mut Store, lines: &[(i64, LineKind)], now: chrono::DateTime<Utc>) -> i64 {
    let mut cart = Cart::new(1);
    for (id, kind) in lines {
        cart.add_line(*id, "x", 550, kind.clone()).unwrap();
    }
    let total = cart.totals().unwrap().total;
    cart.add_payment(PaymentMethod::Card, total, &PaymentPolicy::default())
        .unwrap();
    let sale = cart.close_paid().unwrap();
    let ctx = SaleContext {
        cashier_id: 1,
        cashier_name: "Amina".into(),
        cash_session: None,
        training: false,
    };
    let tx = store.write().unwrap();
    let e = sales::record_sale(&tx, &sale, &ctx, now).unwrap();
    tx.commit().unwrap();
    e.seq
}

/// `comptoir ARGS --db DB` in a separate process (as an operator runs an export): its
/// standard output, the command having succeeded.
fn export(db: &std::path::Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_comptoir"))
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn weighed(grams: i64, p: &catalog::Product) -> LineKind {
    LineKind::Weighed {
        grams,
        cents_per_kg: p.price_cents,
        manual: false,
    }
}

#[test]
fn ledger_moves_in_every_order_agree_with_the_domain() {
    // Six moves in all 720 orders, each order on a fresh product row of an in-memory store:
    // on-hand, deltas, lot flows and remainders always agree with the domain's replay.
    let moves = ["harvest", "sale", "refund", "loss", "count", "correction"];
    let mut orders = Vec::new();
    permute(&mut (0..moves.len()).collect(), 0, &mut orders);
    assert_eq!(orders.len(), 720);
    let mut store = Store::open_in_memory().unwrap();
    let mut products = Vec::new();
    {
        let tx = store.write().unwrap();
        for i in 0..orders.len() {
            let code = format!("P{i:03}");
            let id = catalog::add_product(
                &tx,
                &catalog::NewProduct {
                    name: "Test",
                    short_code: &code,
                    category: "vegetable",
                    icon: "tomato",
                    pricing: catalog::Pricing::PerKg,
                    price_cents: 300,
                    avg_weight_g: None,
                    vat_bp: 550,
                    origin: "",
                },
                "2026-06-20T06:00:00Z",
            )
            .unwrap();
            products.push(id);
        }
        tx.commit().unwrap();
    }
    let tx = store.write().unwrap();
    let src = MoveSource::default();
    for (order, &id) in orders.iter().zip(&products) {
        let lot = LotNumber::new(2026, 6, 20, "T", 1).unwrap();
        let mut expected = 0i64;
        for &m in order {
            let mv = match moves[m] {
                "harvest" => StockMove::HarvestIn {
                    qty: 1000,
                    lot: lot.clone(),
                },
                "sale" => StockMove::SaleOut { qty: 700 },
                "refund" => StockMove::RefundIn {
                    qty: 100,
                    lot: Some(lot.clone()),
                },
                "loss" => StockMove::Loss {
                    qty: 200,
                    reason: LossReason::Damaged,
                },
                "count" => StockMove::Count {
                    counted: 400,
                    lot: None,
                },
                _ => StockMove::Correction {
                    delta: -150,
                    lot: None,
                },
            };
            expected = mv.apply_to(expected).unwrap();
            let r = gstore::record_move(&tx, id, &mv, None, &src, at(7, 0)).unwrap();
            assert_eq!(r.on_hand, expected, "{order:?}");
        }
        assert_eq!(gstore::on_hand(&tx, id).unwrap(), expected);
    }
    gstore::check_stock(&tx).unwrap();
    tx.commit().unwrap();
}

fn permute(v: &mut Vec<usize>, k: usize, out: &mut Vec<Vec<usize>>) {
    if k == v.len() {
        out.push(v.clone());
        return;
    }
    for i in k..v.len() {
        v.swap(k, i);
        permute(v, k + 1, out);
        v.swap(k, i);
    }
}

#[test]
fn sales_take_the_oldest_lot_and_refunds_put_it_back() {
    let (_dir, mut k) = kiosk_as("Nadia");
    let p = product(&k.store, "NAV");
    // Whatever the seeded market left, a count makes the shelf empty first.
    garden::count(&mut k, p.id, 0).unwrap();
    let lead = staff(&k.store, "Nadia").id;
    let harvest = |k: &mut Kiosk, qty: i64, date: chrono::NaiveDate| {
        let tx = k.store.write().unwrap();
        let h = gstore::record_harvest(
            &tx,
            &NewHarvest {
                product_id: p.id,
                plot_id: None,
                harvester_id: None,
                recorded_by: lead,
                qty,
                tare_g: 0,
                split: HarvestSplit::all_for_sale(qty),
            },
            date,
            at(7, 0),
        )
        .unwrap();
        tx.commit().unwrap();
        h.lot.to_string()
    };
    let d1 = chrono::NaiveDate::from_ymd_opt(2026, 6, 19).unwrap();
    let d2 = chrono::NaiveDate::from_ymd_opt(2026, 6, 20).unwrap();
    let old = harvest(&mut k, 1_000, d1);
    let new = harvest(&mut k, 2_000, d2);
    assert_eq!(old, "260619-NAV-01");
    assert_eq!(new, "260620-NAV-01");
    assert_eq!(
        harvest(&mut k, 500, d2),
        "260620-NAV-02",
        "the day's counter"
    );
    let seq = sell(&mut k.store, &[(p.id, weighed(1_500, &p))], at(8, 0));
    assert_eq!(
        gstore::sale_line_lots(k.store.conn(), seq, 1).unwrap(),
        vec![(Some(old.clone()), 1_000), (Some(new.clone()), 500)],
        "oldest lot first"
    );
    assert_eq!(gstore::on_hand(k.store.conn(), p.id).unwrap(), 2_000);
    // The refund puts the goods back into the lots they came from.
    let tx = k.store.write().unwrap();
    sales::record_refund(
        &tx,
        seq,
        &[],
        &SaleContext {
            cashier_id: 1,
            cashier_name: "Amina".into(),
            cash_session: None,
            training: false,
        },
        at(8, 30),
    )
    .unwrap();
    tx.commit().unwrap();
    assert_eq!(gstore::on_hand(k.store.conn(), p.id).unwrap(), 3_500);
    let lots = gstore::open_lots(k.store.conn(), p.id).unwrap();
    assert_eq!(lots[0], (Some(old), "harvest".into(), 1_000));
    assert_eq!(lots[1], (Some(new), "harvest".into(), 2_000));
    gstore::check_stock(k.store.conn()).unwrap();
}

#[test]
fn a_sale_lowers_stock_and_a_count_resets_it() {
    let (_dir, mut k) = kiosk_as("Nadia");
    let tomatoes = product(&k.store, "TOM");
    let salad = product(&k.store, "SAL");
    garden::count(&mut k, tomatoes.id, 5_000).unwrap();
    garden::count(&mut k, salad.id, 10).unwrap();
    sell(
        &mut k.store,
        &[
            (tomatoes.id, weighed(1_234, &tomatoes)),
            (
                salad.id,
                LineKind::Piece {
                    qty: 3,
                    unit_cents: salad.price_cents,
                    avg_weight_g: salad.avg_weight_g,
                },
            ),
            (0, LineKind::Divers { cents: 300 }),
        ],
        at(8, 0),
    );
    let conn = k.store.conn();
    assert_eq!(gstore::on_hand(conn, tomatoes.id).unwrap(), 3_766);
    assert_eq!(
        gstore::on_hand(conn, salad.id).unwrap(),
        7,
        "pieces, not grams"
    );
    // The stock screen shows it, and what was sold this week.
    let view = garden::stock_view(&k, "", StockSort::Category).unwrap();
    let row = view
        .rows
        .iter()
        .find(|r| r.product_id == tomatoes.id)
        .unwrap();
    assert_eq!(row.on_hand_text, "3,766\u{a0}kg");
    // A count: the counted quantity becomes on-hand, the difference is recorded.
    assert_eq!(garden::count(&mut k, tomatoes.id, 3_500).unwrap(), -266);
    assert_eq!(gstore::on_hand(k.store.conn(), tomatoes.id).unwrap(), 3_500);
    let last = gstore::moves_of(k.store.conn(), tomatoes.id).unwrap();
    let last = last.last().unwrap();
    assert_eq!(
        (last.kind.as_str(), last.qty, last.delta),
        ("count", 3_500, -266)
    );
    // A loss through the stock panel.
    garden::stock_choose(&mut k, tomatoes.id).unwrap();
    garden::stock_op(&mut k, Some(StockOp::Loss(LossReason::ToCompost))).unwrap();
    "500"
        .chars()
        .for_each(|c| garden::stock_digit(&mut k, c).unwrap());
    assert_eq!(garden::stock_confirm(&mut k).unwrap(), -500);
    assert_eq!(gstore::on_hand(k.store.conn(), tomatoes.id).unwrap(), 3_000);
    let from = "2026-06-20T00:00:00Z";
    let to = "2026-06-21T00:00:00Z";
    assert_eq!(
        gstore::garden_compost_g(k.store.conn(), from, to).unwrap(),
        500
    );
    gstore::check_stock(k.store.conn()).unwrap();
}

#[test]
fn a_harvest_through_the_controller_with_its_split() {
    let (_dir, mut k) = kiosk_as("Nadia");
    let p = product(&k.store, "COU");
    let before = gstore::on_hand(k.store.conn(), p.id).unwrap();
    garden::harvest_choose(&mut k, p.id).unwrap();
    garden::harvest_tare(&mut k, 2).unwrap(); // 1 kg crate
    k.devices.scale = ScaleView::Weight {
        grams: 6_000,
        stable: true,
        net: false,
    };
    assert_eq!(garden::harvest_take_weight(&mut k).unwrap(), 5_000);
    let plot = catalog::active_plots(k.store.conn()).unwrap()[0].0;
    garden::harvest_plot(&mut k, Some(plot)).unwrap();
    garden::harvest_harvester(&mut k, None).unwrap();
    garden::harvest_part(&mut k, Part::Donation, true).unwrap();
    garden::harvest_part(&mut k, Part::Compost, true).unwrap();
    garden::harvest_part(&mut k, Part::Compost, true).unwrap();
    let split = k.garden.draft.as_ref().unwrap().split();
    assert_eq!(
        split,
        HarvestSplit {
            for_sale: 3_500,
            donation: 500,
            own_use: 0,
            compost: 1_000
        }
    );
    let logged = garden::harvest_confirm(&mut k).unwrap();
    assert!(logged.lot.ends_with("-COU-01"), "{}", logged.lot);
    // A second tap records nothing.
    assert!(matches!(
        garden::harvest_confirm(&mut k),
        Err(GardenFlowError::NothingChosen)
    ));
    let conn = k.store.conn();
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM harvests WHERE product_id = ?1 AND time_utc >= '2026-06-20'",
            [p.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        gstore::on_hand(conn, p.id).unwrap(),
        before + 3_500,
        "only the part for sale enters stock"
    );
}

#[test]
fn bad_harvests_and_counts_are_refused_and_nothing_changes() {
    let (_dir, mut k) = kiosk_as("Nadia");
    let p = product(&k.store, "CAR");
    let moves = |k: &Kiosk| -> i64 {
        k.store
            .conn()
            .query_row(
                "SELECT (SELECT count(*) FROM stock_moves) + (SELECT count(*) FROM harvests)",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    let n = moves(&k);
    garden::harvest_choose(&mut k, p.id).unwrap();
    let code = |r: Result<i64, GardenFlowError>| r.unwrap_err().code();
    // 0 g on the scale.
    k.devices.scale = ScaleView::Weight {
        grams: 0,
        stable: true,
        net: false,
    };
    assert_eq!(code(garden::harvest_take_weight(&mut k)), "below_minimum");
    // Above the scale's capacity (15 kg by default).
    k.devices.scale = ScaleView::Weight {
        grams: 15_001,
        stable: true,
        net: false,
    };
    assert_eq!(code(garden::harvest_take_weight(&mut k)), "over_capacity");
    k.devices.scale = ScaleView::Error("over_capacity");
    assert_eq!(code(garden::harvest_take_weight(&mut k)), "scale_error");
    // The crate alone, less its tare: nothing harvested.
    garden::harvest_tare(&mut k, 3).unwrap();
    k.devices.scale = ScaleView::Weight {
        grams: 1_800,
        stable: true,
        net: false,
    };
    assert_eq!(code(garden::harvest_take_weight(&mut k)), "below_minimum");
    assert_eq!(k.garden.draft.as_ref().unwrap().step, HarvestStep::Quantity);
    // No pieces counted.
    let salad = product(&k.store, "SAL");
    garden::harvest_choose(&mut k, salad.id).unwrap();
    assert_eq!(code(garden::harvest_take_count(&mut k)), "bad_quantity");
    garden::harvest_digit(&mut k, '0').unwrap();
    assert_eq!(code(garden::harvest_take_count(&mut k)), "bad_quantity");
    // A retired product.
    k.store
        .conn()
        .execute("UPDATE products SET active = 0 WHERE id = ?1", [p.id])
        .unwrap();
    assert_eq!(
        garden::harvest_choose(&mut k, p.id).unwrap_err().code(),
        "unknown_product"
    );
    // A negative count.
    assert_eq!(code(garden::count(&mut k, salad.id, -1)), "negative_count");
    // A count while a sale of that product is in progress (a seller's cart holds it).
    let seller = staff(&k.store, "Amina");
    let lead = k.session.current().unwrap().clone();
    k.session.assume(seller);
    comptoir::app::sell::choose(&mut k, salad.id).unwrap();
    comptoir::app::sell::qty_digit(&mut k, '2').unwrap();
    comptoir::app::sell::add_pieces(&mut k).unwrap();
    k.session.assume(lead);
    assert_eq!(
        code(garden::count(&mut k, salad.id, 10)),
        "sale_in_progress"
    );
    garden::stock_choose(&mut k, salad.id).unwrap();
    garden::stock_op(&mut k, Some(StockOp::Count)).unwrap();
    garden::stock_digit(&mut k, '9').unwrap();
    assert_eq!(code(garden::stock_confirm(&mut k)), "sale_in_progress");
    // A seller may not log harvests.
    let seller = staff(&k.store, "Yusuf");
    k.session.assume(seller);
    assert_eq!(
        garden::harvest_choose(&mut k, salad.id).unwrap_err().code(),
        "not_allowed"
    );
    assert_eq!(moves(&k), n, "nothing recorded");
}

#[test]
fn a_harvest_logged_through_the_ui_with_the_simulated_scale() {
    i_slint_backend_testing::init_no_event_loop();
    let (dir, db, store) = seeded_db(1);
    let receipts = dir.path().join("receipts");
    let devices = comptoir::devices::Devices::start_demo(&db, &receipts).unwrap();
    let clock = Clock::manual(at(6, 30));
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, clock);
    kiosk.language = "en".into();
    let nadia = staff(&kiosk.store, "Nadia");
    let p = product(&kiosk.store, "POI");
    let before = gstore::on_hand(kiosk.store.conn(), p.id).unwrap();
    let ui = comptoir::ui::Ui::with_devices(kiosk, devices).unwrap();
    tap(&ui, "area-garden");
    tap(&ui, &format!("staff-{}", nadia.id));
    "2468".chars().for_each(|d| tap(&ui, &format!("key-{d}")));
    tap(&ui, "key-ok");
    assert_eq!(screen(&ui), comptoir::ui::Screen::GardenHome);
    tap(&ui, "garden-tab-harvest");
    assert_eq!(screen(&ui), comptoir::ui::Screen::GardenHarvest);
    tap(&ui, &format!("harvest-product-{}", p.id));
    tap(&ui, "harvest-tare-1"); // a 450 g crate
    let show = &["harvest-weight", "harvest-refusal"];
    assert!(ui.devices.borrow().demo_scale("2450"));
    wait_for(&ui, "the crate of peppers", show, |ui| {
        label(ui, "harvest-weight") == "2.000 kg" && label(ui, "harvest-refusal").is_empty()
    });
    tap(&ui, "harvest-take");
    tap(&ui, "plot-none");
    tap(&ui, &format!("harvester-{}", nadia.id));
    tap(&ui, "harvest-more-donation");
    assert_eq!(label(&ui, "harvest-part-donation"), "0.200 kg");
    assert_eq!(label(&ui, "harvest-for-sale"), "1.800 kg");
    tap(&ui, "harvest-confirm");
    assert!(
        label(&ui, "harvest-logged-lot").contains("-POI-01"),
        "{}",
        label(&ui, "harvest-logged-lot")
    );
    // The same crate cannot be logged twice: the scale must go back to zero first.
    tap(&ui, &format!("harvest-product-{}", p.id));
    wait_for(&ui, "the zero guard", show, |ui| {
        label(ui, "harvest-refusal") == "Take the last crate off the scale first"
    });
    tap(&ui, "harvest-take");
    tap(&ui, "harvest-cancel");
    let k = ui.kiosk.borrow();
    assert_eq!(
        gstore::on_hand(k.store.conn(), p.id).unwrap(),
        before + 1_800
    );
    drop(k);
    // The stock screen shows the new stock: its value agrees with the controller's view.
    tap(&ui, "garden-tab-stock");
    assert_eq!(screen(&ui), comptoir::ui::Screen::GardenStock);
    let k = ui.kiosk.borrow();
    let view = garden::stock_view(&k, "", StockSort::Category).unwrap();
    let row = view.rows.iter().find(|r| r.product_id == p.id).unwrap();
    assert_eq!(row.on_hand, before + 1_800);
    assert_eq!(
        row.harvested_week, 2_000,
        "the whole harvest, donation included"
    );
    let value = comptoir::domain::money::format_money(view.value_cents, comptoir::domain::Lang::En);
    drop(k);
    assert_eq!(label(&ui, "stock-value"), value);
}

#[test]
fn exports_parse_back_and_agree_with_the_screens() {
    let (_dir, db, store) = seeded_db(30);
    let run = |args: &[&str]| export(&db, args);
    // Stock at the end of the seeded history.
    let csv = run(&["export", "stock", "--to", "2026-06-13"]);
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, comptoir::cli::garden_export::STOCK_COLUMNS);
    let rows: Vec<comptoir::cli::garden_export::StockExportRow> =
        reader.deserialize().collect::<Result<_, _>>().unwrap();
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 6, 13, 20, 0, 0).unwrap());
    let kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, clock);
    let view = garden::stock_view(&kiosk, "", StockSort::Category).unwrap();
    assert_eq!(rows.len(), view.rows.len());
    for (r, v) in rows.iter().zip(&view.rows) {
        assert_eq!(
            (r.product_id, r.on_hand, r.low),
            (v.product_id, v.on_hand, v.low)
        );
    }
    assert_eq!(
        rows.iter().map(|r| r.value_cents).sum::<i64>(),
        view.value_cents
    );
    // Harvests: JSON and CSV say the same, and the report's total harvested agrees.
    let json = run(&[
        "export",
        "harvests",
        "--from",
        "2026-06-01",
        "--to",
        "2026-06-13",
        "--format",
        "json",
    ]);
    let from_json: Vec<comptoir::cli::garden_export::HarvestExportRow> =
        serde_json::from_slice(&json).unwrap();
    let csv = run(&[
        "export",
        "harvests",
        "--from",
        "2026-06-01",
        "--to",
        "2026-06-13",
    ]);
    let from_csv: Vec<comptoir::cli::garden_export::HarvestExportRow> =
        csv::Reader::from_reader(csv.as_slice())
            .deserialize()
            .collect::<Result<_, _>>()
            .unwrap();
    assert_eq!(from_json, from_csv);
    assert!(!from_csv.is_empty());
    assert!(from_csv
        .iter()
        .all(|h| h.date.as_str() >= "2026-06-01" && h.date.as_str() <= "2026-06-13"));
    assert!(from_csv
        .iter()
        .all(|h| h.for_sale + h.donation + h.own_use + h.compost == h.quantity));
    let month = garden::report_for(
        &kiosk,
        garden::Period::Month,
        garden::Metric::HarvestedKg,
        None,
    )
    .unwrap();
    let june = month.bars.last().unwrap();
    assert_eq!(
        june.start,
        chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
    );
    let exported: i64 = from_csv.iter().map(|h| h.weight_g.unwrap_or(0)).sum();
    assert_eq!(
        june.value, exported,
        "the June bar is the exported harvests"
    );
}

#[test]
fn donations_and_corrections_through_the_stock_panel_and_their_refusals() {
    use comptoir::domain::stock::CorrectionReason;
    let (_dir, mut k) = kiosk_as("Nadia");
    let p = product(&k.store, "TOM");
    let salad = product(&k.store, "SAL");
    garden::count(&mut k, p.id, 5_000).unwrap();
    let rows = |k: &Kiosk| -> i64 {
        k.store
            .conn()
            .query_row(
                "SELECT (SELECT count(*) FROM stock_moves) + (SELECT count(*) FROM stock_corrections)",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    let code = |r: Result<i64, GardenFlowError>| r.unwrap_err().code();
    let type_in = |k: &mut Kiosk, digits: &str| {
        digits
            .chars()
            .for_each(|c| garden::stock_digit(k, c).unwrap())
    };
    // A donation of 1,200 kg, typed on the keypad.
    garden::stock_choose(&mut k, p.id).unwrap();
    garden::stock_op(&mut k, Some(StockOp::Donation)).unwrap();
    type_in(&mut k, "1200");
    assert_eq!(garden::stock_confirm(&mut k).unwrap(), -1_200);
    assert_eq!(gstore::on_hand(k.store.conn(), p.id).unwrap(), 3_800);
    // A donation weighed on the scale.
    garden::stock_op(&mut k, Some(StockOp::Donation)).unwrap();
    k.devices.scale = ScaleView::Weight {
        grams: 800,
        stable: true,
        net: false,
    };
    garden::stock_from_scale(&mut k).unwrap();
    assert_eq!(garden::stock_confirm(&mut k).unwrap(), -800);
    // A correction: its reason first, then the sign and the quantity.
    garden::stock_op(&mut k, Some(StockOp::Correction(None))).unwrap();
    type_in(&mut k, "300");
    assert_eq!(code(garden::stock_confirm(&mut k)), "no_reason");
    assert_eq!(code(garden::stock_sign(&mut k).map(|_| 0)), "no_reason");
    garden::stock_op(
        &mut k,
        Some(StockOp::Correction(Some(CorrectionReason::Found))),
    )
    .unwrap();
    type_in(&mut k, "500");
    assert_eq!(
        garden::stock_confirm(&mut k).unwrap(),
        500,
        "adds by default"
    );
    garden::stock_op(
        &mut k,
        Some(StockOp::Correction(Some(CorrectionReason::EntryError))),
    )
    .unwrap();
    garden::stock_sign(&mut k).unwrap();
    type_in(&mut k, "250");
    assert_eq!(garden::stock_confirm(&mut k).unwrap(), -250, "takes off");
    assert!(!k.garden.stock_negative, "the sign starts afresh");
    assert_eq!(gstore::on_hand(k.store.conn(), p.id).unwrap(), 3_250);
    let moves = gstore::moves_of(k.store.conn(), p.id).unwrap();
    let last: Vec<(&str, i64, Option<&str>)> = moves[moves.len() - 4..]
        .iter()
        .map(|m| (m.kind.as_str(), m.delta, m.reason.as_deref()))
        .collect();
    assert_eq!(
        last,
        vec![
            ("donation", -1_200, None),
            ("donation", -800, None),
            ("correction", 500, Some("found")),
            ("correction", -250, Some("entry_error")),
        ]
    );

    // Refusals: nothing recorded.
    let n = rows(&k);
    garden::stock_op(&mut k, Some(StockOp::Donation)).unwrap();
    assert_eq!(
        code(garden::stock_confirm(&mut k)),
        "bad_quantity",
        "nothing typed"
    );
    garden::stock_digit(&mut k, '0').unwrap();
    garden::stock_digit(&mut k, '0').unwrap();
    assert_eq!(k.garden.stock_digits, "0", "no leading zeros");
    assert_eq!(code(garden::stock_confirm(&mut k)), "non_positive_quantity");
    assert_eq!(
        code(garden::donate(&mut k, p.id, -5)),
        "non_positive_quantity"
    );
    assert_eq!(
        code(garden::donate(&mut k, p.id, 0)),
        "non_positive_quantity"
    );
    garden::stock_op(
        &mut k,
        Some(StockOp::Correction(Some(CorrectionReason::Weighing))),
    )
    .unwrap();
    garden::stock_digit(&mut k, '0').unwrap();
    assert_eq!(code(garden::stock_confirm(&mut k)), "zero_correction");
    assert_eq!(
        code(garden::correct(&mut k, p.id, 0, CorrectionReason::Other)),
        "zero_correction"
    );
    // The scale: not still, or a product counted in pieces.
    garden::stock_op(&mut k, Some(StockOp::Donation)).unwrap();
    k.devices.scale = ScaleView::Weight {
        grams: 800,
        stable: false,
        net: false,
    };
    assert_eq!(
        garden::stock_from_scale(&mut k).unwrap_err().code(),
        "unstable"
    );
    garden::stock_choose(&mut k, salad.id).unwrap();
    garden::stock_op(&mut k, Some(StockOp::Donation)).unwrap();
    assert_eq!(
        garden::stock_from_scale(&mut k).unwrap_err().code(),
        "not_weighed"
    );
    // A seller may not give stock away.
    let lead = k.session.current().unwrap().clone();
    k.session.assume(staff(&k.store, "Yusuf"));
    assert_eq!(code(garden::donate(&mut k, salad.id, 2)), "not_allowed");
    assert_eq!(
        code(garden::correct(
            &mut k,
            salad.id,
            2,
            CorrectionReason::Found
        )),
        "not_allowed"
    );
    k.session.assume(lead);
    // A product retired while its panel is open.
    garden::stock_op(&mut k, Some(StockOp::Donation)).unwrap();
    garden::stock_digit(&mut k, '2').unwrap();
    k.store
        .conn()
        .execute("UPDATE products SET active = 0 WHERE id = ?1", [salad.id])
        .unwrap();
    assert_eq!(code(garden::stock_confirm(&mut k)), "unknown_product");
    assert_eq!(
        code(garden::correct(
            &mut k,
            salad.id,
            -1,
            CorrectionReason::Other
        )),
        "unknown_product"
    );
    assert_eq!(
        garden::stock_choose(&mut k, salad.id).unwrap_err().code(),
        "unknown_product"
    );
    assert_eq!(rows(&k), n, "nothing recorded");
    // A correction's reason is kept beside a correction only.
    let move_id: i64 = k
        .store
        .conn()
        .query_row(
            "SELECT max(id) FROM stock_moves WHERE kind = 'donation'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(k
        .store
        .conn()
        .execute(
            "INSERT INTO stock_corrections (move_id, reason) VALUES (?1, 'other')",
            [move_id],
        )
        .is_err());
    gstore::check_stock(k.store.conn()).unwrap();
}

#[test]
fn a_donation_and_a_correction_through_the_ui() {
    i_slint_backend_testing::init_no_event_loop();
    let (_dir, _db, store) = seeded_db(1);
    let clock = Clock::manual(at(6, 30));
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, clock);
    kiosk.language = "en".into();
    kiosk.session.assume(staff(&kiosk.store, "Nadia"));
    // The first row of the list (rows scrolled out of the list are not found by the tests).
    let p = catalog::active_products(kiosk.store.conn()).unwrap()[0].clone();
    garden::count(&mut kiosk, p.id, 4_000).unwrap();
    let ui = comptoir::ui::Ui::new(kiosk).unwrap();
    tap(&ui, "area-garden");
    assert_eq!(screen(&ui), comptoir::ui::Screen::GardenHome);
    tap(&ui, "garden-tab-stock");
    tap(&ui, &format!("stock-row-{}", p.id));
    assert_eq!(label(&ui, "stock-chosen-on-hand"), "4.000 kg");
    // A donation of 1,200 kg on the keypad.
    tap(&ui, "stock-op-donation");
    "1200".chars().for_each(|d| tap(&ui, &format!("key-{d}")));
    assert_eq!(label(&ui, "stock-entry"), "1.200 kg");
    tap(&ui, "key-ok");
    assert_eq!(label(&ui, "stock-done"), "-1.200 kg");
    assert_eq!(label(&ui, "stock-chosen-on-hand"), "2.800 kg");
    // A correction: why, then take 300 g off.
    tap(&ui, "stock-op-correction");
    tap(&ui, "stock-op-correction-weighing");
    tap(&ui, "stock-sign");
    "300".chars().for_each(|d| tap(&ui, &format!("key-{d}")));
    assert_eq!(label(&ui, "stock-entry"), "\u{2212}0.300 kg");
    tap(&ui, "key-ok");
    assert_eq!(label(&ui, "stock-done"), "-0.300 kg");
    // A donation of nothing is refused with words, and nothing is recorded.
    tap(&ui, "stock-op-donation");
    tap(&ui, "key-0");
    tap(&ui, "key-ok");
    assert_eq!(label(&ui, "stock-error"), "Type a quantity above zero");
    // Back to the panel's choices from the corner.
    tap(&ui, "stock-op-back");
    assert!(crate::common::by_id(&ui, "stock-op-donation").is_some());
    let k = ui.kiosk.borrow();
    assert_eq!(gstore::on_hand(k.store.conn(), p.id).unwrap(), 2_500);
    let moves = gstore::moves_of(k.store.conn(), p.id).unwrap();
    let last = moves.last().unwrap();
    assert_eq!(
        (last.kind.as_str(), last.delta, last.reason.as_deref()),
        ("correction", -300, Some("weighing"))
    );
}

/// The "done when": a harvest logged, sold from, a loss and a count recorded; the stock
/// screen, the reports (the chart's bars and figures on screen) and the exports agree.
#[test]
fn harvest_sale_loss_and_count_agree_on_screens_charts_and_exports() {
    use comptoir::domain::weight::format_kg;
    use comptoir::domain::Lang;
    i_slint_backend_testing::init_no_event_loop();
    let (_dir, db, store) = seeded_db(30);
    // Saturday 13 June 2026, 16:00 in Paris: after the seeded market.
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 6, 13, 14, 0, 0).unwrap());
    let mut k = Kiosk::new(store, Config::default(), RunMode::Demo, clock);
    k.language = "en".into();
    k.session.assume(staff(&k.store, "Nadia"));
    let p = product(&k.store, "COU");
    let before = gstore::on_hand(k.store.conn(), p.id).unwrap();
    assert!(before >= 0, "the demo never goes below zero");
    // 1. A harvest: 5,450 kg in a 450 g crate.
    garden::harvest_choose(&mut k, p.id).unwrap();
    garden::harvest_tare(&mut k, 1).unwrap();
    k.devices.scale = ScaleView::Weight {
        grams: 5_450,
        stable: true,
        net: false,
    };
    assert_eq!(garden::harvest_take_weight(&mut k).unwrap(), 5_000);
    garden::harvest_plot(&mut k, None).unwrap();
    garden::harvest_harvester(&mut k, None).unwrap();
    let lot = garden::harvest_confirm(&mut k).unwrap().lot;
    // 2. A sale that empties the older lots and takes 1,5 kg of the new one.
    let sold = before + 1_500;
    let seq = sell(
        &mut k.store,
        &[(p.id, weighed(sold, &p))],
        Utc.with_ymd_and_hms(2026, 6, 13, 14, 0, 0).unwrap(),
    );
    let lots = gstore::sale_line_lots(k.store.conn(), seq, 1).unwrap();
    assert_eq!(
        lots.last().unwrap(),
        &(Some(lot.clone()), 1_500),
        "sold from it"
    );
    // 3. A loss of 400 g and 4. a count of 3 kg, through the stock panel.
    garden::stock_choose(&mut k, p.id).unwrap();
    garden::stock_op(&mut k, Some(StockOp::Loss(LossReason::Spoiled))).unwrap();
    "400"
        .chars()
        .for_each(|c| garden::stock_digit(&mut k, c).unwrap());
    assert_eq!(garden::stock_confirm(&mut k).unwrap(), -400);
    garden::stock_op(&mut k, Some(StockOp::Count)).unwrap();
    "3000"
        .chars()
        .for_each(|c| garden::stock_digit(&mut k, c).unwrap());
    assert_eq!(garden::stock_confirm(&mut k).unwrap(), -100);
    gstore::check_stock(k.store.conn()).unwrap();
    k.store
        .conn()
        .execute_batch("PRAGMA wal_checkpoint(FULL)")
        .unwrap();

    // The exports (a separate process reading the database file).
    let run = |args: &[&str]| export(&db, args);
    let week = ["--from", "2026-06-08", "--to", "2026-06-13"];
    let stock: Vec<comptoir::cli::garden_export::StockExportRow> =
        csv::Reader::from_reader(run(&[&["export", "stock"][..], &week].concat()).as_slice())
            .deserialize()
            .collect::<Result<_, _>>()
            .unwrap();
    let row = stock.iter().find(|r| r.product_id == p.id).unwrap();
    let harvests: Vec<comptoir::cli::garden_export::HarvestExportRow> =
        csv::Reader::from_reader(run(&[&["export", "harvests"][..], &week].concat()).as_slice())
            .deserialize()
            .collect::<Result<_, _>>()
            .unwrap();
    let harvested_week: i64 = harvests
        .iter()
        .filter(|h| h.product_id == p.id)
        .map(|h| h.quantity)
        .sum();
    assert!(harvests.iter().any(|h| h.lot == lot && h.quantity == 5_000));
    assert_eq!(row.on_hand, 3_000);
    assert!(row.harvested >= 5_000 && row.lost >= 400 && row.count_difference <= -100);

    // The stock screen's figures.
    let view = garden::stock_view(&k, "", StockSort::Category).unwrap();
    let v = view.rows.iter().find(|r| r.product_id == p.id).unwrap();
    assert_eq!(v.on_hand, row.on_hand);
    assert_eq!(v.sold_week, row.sold);
    assert_eq!(v.harvested_week, harvested_week);
    assert_eq!(v.value_cents, row.value_cents);

    // The reports: this week's bars are the exported week.
    let bar = |metric| {
        garden::report_for(&k, garden::Period::Week, metric, Some(p.id))
            .unwrap()
            .bars
            .last()
            .unwrap()
            .value
    };
    assert_eq!(bar(garden::Metric::HarvestedKg), harvested_week);
    assert_eq!(bar(garden::Metric::SoldKg), row.sold);
    assert_eq!(bar(garden::Metric::LossKg), row.lost);

    // The same on screen: the stock row, the losses chart's last bar and its figure.
    k.garden.report_product = Some(p.id);
    let ui = comptoir::ui::Ui::new(k).unwrap();
    tap(&ui, "area-garden");
    tap(&ui, "garden-tab-stock");
    // (Its row is scrolled out of the list; the panel, still open on it, shows the same.)
    assert_eq!(
        label(&ui, "stock-chosen-on-hand"),
        format_kg(row.on_hand, Lang::En).replace('\u{a0}', " ")
    );
    tap(&ui, "garden-tab-reports");
    tap(&ui, "report-metric-losses");
    let lost_text =
        garden::bar_text(row.lost, garden::Metric::LossKg, Lang::En).replace('\u{a0}', " ");
    assert_eq!(label(&ui, "report-bar-11"), format!("W24: {lost_text}"));
    let report = garden::report(&ui.kiosk.borrow()).unwrap();
    assert_eq!(
        label(&ui, "report-losses"),
        format_kg(report.totals.loss_g, Lang::En).replace('\u{a0}', " ")
    );
}

/// Product names that a spreadsheet would run (`=HYPERLINK(...)`) or read as a number
/// (`-5 kg`) come out of the CSV exports as text with a leading apostrophe; the figures beside
/// them stay numbers, and the JSON export keeps the names as stored.
#[test]
fn exports_defuse_formula_names_and_keep_numbers() {
    let (_dir, db, store) = seeded_db(20);
    let formula = "=HYPERLINK(\"http://evil.example\",\"clic\")";
    let harvested: Vec<i64> = {
        let mut stmt = store
            .conn()
            .prepare("SELECT DISTINCT product_id FROM harvests ORDER BY product_id LIMIT 2")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(harvested.len(), 2);
    for (id, name) in harvested.iter().zip([formula, "-5 kg"]) {
        store
            .conn()
            .execute(
                "UPDATE products SET name = ?2 WHERE id = ?1",
                rusqlite::params![id, name],
            )
            .unwrap();
    }
    drop(store);
    for what in ["stock", "harvests"] {
        let csv_out =
            String::from_utf8(export(&db, &["export", what, "--to", "2026-06-13"])).unwrap();
        let mut reader = csv::Reader::from_reader(csv_out.as_bytes());
        let column = reader
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "product")
            .unwrap();
        let names: Vec<String> = reader
            .records()
            .map(|r| r.unwrap()[column].to_string())
            .collect();
        assert!(names.contains(&format!("'{formula}")), "{what}: {names:?}");
        assert!(names.contains(&"'-5 kg".to_string()), "{what}: {names:?}");
        assert!(!names.iter().any(|n| n.starts_with(['=', '-'])), "{what}");
        // Every other cell that is a number in JSON is the same number in the CSV.
        let json: Vec<serde_json::Value> = serde_json::from_slice(&export(
            &db,
            &["export", what, "--to", "2026-06-13", "--format", "json"],
        ))
        .unwrap();
        assert!(json.iter().any(|r| r["product"] == formula), "{what}");
        assert!(json.iter().any(|r| r["product"] == "-5 kg"), "{what}");
        let headers = csv::Reader::from_reader(csv_out.as_bytes())
            .headers()
            .unwrap()
            .clone();
        for (row, record) in json.iter().zip(
            csv::Reader::from_reader(csv_out.as_bytes())
                .records()
                .map(Result::unwrap),
        ) {
            for (h, cell) in headers.iter().zip(record.iter()) {
                if let Some(n) = row[h].as_i64() {
                    assert_eq!(cell, n.to_string(), "{what}: column {h}");
                }
            }
        }
    }
}
