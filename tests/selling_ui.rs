//! A whole sale through the UI, with the demo's simulated scale and printer on real
//! pseudo-terminals: product, weigh, add, cash with change, receipt printed by the simulator.

use std::time::Duration;

use crate::common::{by_id, label, screen, seeded_db, sign_in, tap, wait_for};
use chrono::{TimeZone, Utc};
use comptoir::app::{Clock, Kiosk, RunMode};
use comptoir::config::Config;
use comptoir::devices::Devices;
use comptoir::store::journal;
use comptoir::ui::{Screen, SellFlowAdapter, Ui};
use slint::ComponentHandle;

/// What a timeout shows.
const SHOW: &[&str] = &["weigh-weight", "weigh-refusal", "pay-error"];

fn product_id(ui: &Ui, name: &str) -> i64 {
    let k = ui.kiosk.borrow();
    comptoir::store::catalog::active_products(k.store.conn())
        .unwrap()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap()
        .id
}

fn staff_id(ui: &Ui, name: &str) -> i64 {
    let k = ui.kiosk.borrow();
    comptoir::store::people::all_staff(k.store.conn())
        .unwrap()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap()
        .id
}

fn setup() -> (tempfile::TempDir, Ui) {
    setup_with(Config::default())
}

fn simulate(ui: &Ui, command: &str) {
    assert!(ui.devices.borrow().demo_scale(command));
}

#[test]
fn a_weighed_sale_paid_in_cash_with_change_and_a_receipt() {
    let (dir, ui) = setup();
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    // No cash session yet: the seller opens the register with the counted float.
    assert_eq!(screen(&ui), Screen::SellSessionOpen);
    for d in "5000".chars() {
        tap(&ui, &format!("key-{d}"));
    }
    assert_eq!(label(&ui, "float-typed"), "€50.00");
    tap(&ui, "register-open");
    assert_eq!(screen(&ui), Screen::SellCatalog);
    let before = journal::verify(ui.kiosk.borrow().store.conn())
        .unwrap()
        .entries;

    // Tomatoes are sold by weight.
    tap(&ui, &format!("product-{}", product_id(&ui, "Tomates")));
    assert_eq!(screen(&ui), Screen::SellWeigh);
    wait_for(&ui, "an empty scale", SHOW, |ui| {
        label(ui, "weigh-refusal") == "Put the goods on the scale"
    });
    // A moving load cannot be added.
    simulate(&ui, "motion");
    wait_for(&ui, "motion", SHOW, |ui| {
        label(ui, "weigh-refusal") == "Wait until the weight is still"
    });
    tap(&ui, "weigh-add");
    assert_eq!(
        screen(&ui),
        Screen::SellWeigh,
        "nothing added while the weight moves"
    );
    simulate(&ui, "1234");
    wait_for(&ui, "a stable load", SHOW, |ui| {
        label(ui, "weigh-weight") == "1.234 kg" && label(ui, "weigh-refusal").is_empty()
    });
    assert_eq!(
        label(&ui, "weigh-price"),
        "€4.32",
        "1.234 kg × €3.50 = €4.319 rounded half up"
    );
    tap(&ui, "weigh-add");
    assert_eq!(screen(&ui), Screen::SellCatalog);
    assert_eq!(label(&ui, "catalog-total"), "€4.32");

    // The same load cannot be sold twice: a second weighed line waits for the return to zero.
    tap(&ui, &format!("product-{}", product_id(&ui, "Courgettes")));
    wait_for(&ui, "the zero guard", SHOW, |ui| {
        label(ui, "weigh-refusal") == "Take the last goods off the scale first"
    });
    tap(&ui, "weigh-add");
    assert_eq!(screen(&ui), Screen::SellWeigh);
    simulate(&ui, "0");
    wait_for(&ui, "back to zero", SHOW, |ui| {
        label(ui, "weigh-refusal") == "Put the goods on the scale"
    });
    simulate(&ui, "850");
    wait_for(&ui, "the courgettes", SHOW, |ui| {
        label(ui, "weigh-refusal").is_empty() && label(ui, "weigh-weight") == "0.850 kg"
    });
    tap(&ui, "weigh-add");
    assert_eq!(
        label(&ui, "catalog-total"),
        "€6.53",
        "€4.32 + 0.850 kg × €2.60 = €2.21"
    );

    // Two salads, by the piece.
    tap(&ui, "category-vegetable");
    tap(
        &ui,
        &format!("product-{}", product_id(&ui, "Salade batavia")),
    );
    tap(&ui, "key-2");
    assert_eq!(label(&ui, "weigh-price"), "€2.40");
    tap(&ui, "weigh-add");
    assert_eq!(label(&ui, "catalog-total"), "€8.93");

    // Cash: a 10 € note, change 1.07 €.
    tap(&ui, "catalog-pay");
    assert_eq!(screen(&ui), Screen::SellPay);
    tap(&ui, "quick-1000");
    tap(&ui, "pay-cash");
    assert_eq!(screen(&ui), Screen::SellReceipt);
    assert_eq!(label(&ui, "done-change"), "€1.07");
    // A second tap on the payment finds nothing to pay: one sale only.
    ui.window
        .global::<SellFlowAdapter>()
        .invoke_pay_method(comptoir::ui::PayMethod::Cash);
    {
        let k = ui.kiosk.borrow();
        let report = journal::verify(k.store.conn()).unwrap();
        // Before the sale, the days that ended since the seeded market day were closed (signed,
        // with the key registered first); then exactly one sale.
        let kinds: Vec<String> = ((before + 1)..=report.entries)
            .map(|seq| {
                journal::entry(k.store.conn(), seq as i64)
                    .unwrap()
                    .unwrap()
                    .kind
            })
            .collect();
        assert_eq!(
            kinds.iter().filter(|k| *k == "sale").count(),
            1,
            "{kinds:?}"
        );
        assert_eq!(kinds.last().map(String::as_str), Some("sale"));
        assert!(kinds.iter().any(|k| k == "closure"), "{kinds:?}");
        assert!(
            kinds
                .iter()
                .all(|k| ["sale", "closure", "key_registered"].contains(&k.as_str())),
            "{kinds:?}"
        );
        let head = journal::head(k.store.conn()).unwrap().unwrap();
        assert_eq!(head.kind, "sale");
        let payload = head.payload_value().unwrap();
        assert_eq!(payload["total_cents"], 893);
        assert_eq!(payload["change_cents"], 107);
    }

    // The receipt, on request. The printer is out of paper: the screen says so, the receipt
    // waits in the queue and comes out of the simulated printer when the paper is back.
    assert!(ui.devices.borrow().demo_printer("paper-out"));
    wait_for(&ui, "the paper-out warning", SHOW, |ui| {
        label(ui, "done-printer") == "Out of paper: the receipt will print when paper is back"
    });
    tap(&ui, "done-print");
    let receipts = dir.path().join("receipts");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !receipts.join("job-0001.png").exists(),
        "nothing prints without paper"
    );
    assert!(ui.devices.borrow().demo_printer("paper-ok"));
    wait_for(&ui, "the receipt", SHOW, |_| {
        receipts.join("job-0001.png").exists()
    });
    wait_for(&ui, "the warning gone", SHOW, |ui| {
        label(ui, "done-printer").is_empty()
    });

    // The customer changes their mind: the sale is cancelled by a refund entry (two taps),
    // never edited; the cash goes back.
    tap(&ui, "done-cancel");
    assert!(
        by_id(&ui, "refund-done").is_none(),
        "the first tap only asks"
    );
    tap(&ui, "done-cancel");
    assert!(
        label(&ui, "refund-done").starts_with("Sale cancelled (refund no. "),
        "{}",
        label(&ui, "refund-done")
    );
    assert!(
        label(&ui, "refund-done").ends_with("To give back:"),
        "{}",
        label(&ui, "refund-done")
    );
    assert_eq!(label(&ui, "refund-done-amount"), "€8.93");
    {
        let k = ui.kiosk.borrow();
        let head = journal::head(k.store.conn()).unwrap().unwrap();
        assert_eq!(head.kind, "refund");
        let payload = head.payload_value().unwrap();
        assert_eq!(payload["total_cents"], -893);
        assert!(journal::verify(k.store.conn()).is_ok());
    }
    tap(&ui, "done-next");
    assert_eq!(screen(&ui), Screen::SellCatalog);
    assert_eq!(label(&ui, "catalog-total"), "€0.00");

    // Closing the register: a blind count by denomination, then expected and difference.
    tap(&ui, "catalog-register");
    assert_eq!(screen(&ui), Screen::SellSessionClose);
    tap(&ui, "denom-2000");
    tap(&ui, "key-2");
    tap(&ui, "denom-1000");
    tap(&ui, "key-1");
    tap(&ui, "denom-200");
    tap(&ui, "key-4");
    assert_eq!(label(&ui, "counted"), "€58.00");
    tap(&ui, "register-close");
    // Expected: the €50.00 float + €10.00 received − €1.07 change − €8.93 refunded = €50.00.
    assert_eq!(label(&ui, "expected"), "€50.00");
    assert_eq!(label(&ui, "difference"), "+€8.00");
    tap(&ui, "close-done");
    assert_eq!(screen(&ui), Screen::Home);
    // The next sale needs a new session.
    tap(&ui, "area-sell");
    assert_eq!(screen(&ui), Screen::SellSessionOpen);
    let k = ui.kiosk.borrow();
    assert!(journal::verify(k.store.conn()).is_ok());
}

#[test]
fn a_cart_is_parked_while_its_seller_is_away_and_comes_back() {
    let (_dir, ui) = setup();
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    tap(&ui, "register-open");
    assert_eq!(screen(&ui), Screen::SellCatalog, "a float of 0 is a float");
    tap(&ui, "category-egg");
    tap(&ui, &format!("product-{}", product_id(&ui, "Œufs")));
    tap(&ui, "key-6");
    tap(&ui, "weigh-add");
    assert_eq!(label(&ui, "catalog-total"), "€2.10");
    // Something the catalogue lacks: "divers" at a typed price.
    tap(&ui, "catalog-divers");
    assert_eq!(screen(&ui), Screen::SellWeigh);
    tap(&ui, "weigh-add");
    assert_eq!(screen(&ui), Screen::SellWeigh, "no price, no line");
    for d in "350".chars() {
        tap(&ui, &format!("key-{d}"));
    }
    assert_eq!(label(&ui, "weigh-price"), "€3.50");
    tap(&ui, "weigh-add");
    assert_eq!(label(&ui, "catalog-total"), "€5.60");
    // Five minutes without a touch: the screen locks, the cart is parked.
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(5 * 60 + 1));
    assert_eq!(screen(&ui), Screen::Login);
    // Another seller signs in: their own, empty cart.
    sign_in(&ui, "Yusuf", "2222");
    assert_eq!(screen(&ui), Screen::SellCatalog);
    assert_eq!(label(&ui, "catalog-total"), "€0.00");
    tap(&ui, "sign-out");
    // Amina comes back: her cart is there.
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    assert_eq!(label(&ui, "catalog-total"), "€5.60");
    assert_eq!(ui.window.global::<SellFlowAdapter>().get_count(), 2);
}

#[test]
fn an_end_of_market_discount_is_recorded_with_who_gave_it() {
    let (_dir, ui) = setup();
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    tap(&ui, "register-open");
    tap(&ui, "category-egg");
    tap(&ui, &format!("product-{}", product_id(&ui, "Œufs")));
    tap(&ui, "key-6");
    tap(&ui, "weigh-add");
    tap(&ui, "catalog-pay");
    tap(&ui, "key-1");
    tap(&ui, "key-0");
    tap(&ui, "pay-discount-percent");
    assert_eq!(label(&ui, "pay-discount"), "−€0.21");
    assert_eq!(label(&ui, "pay-remaining"), "€1.89");
    // A discount larger than the cart is refused.
    for d in "500".chars() {
        tap(&ui, &format!("key-{d}"));
    }
    tap(&ui, "pay-discount-amount");
    assert_eq!(label(&ui, "pay-error"), "This discount is too large");
    tap(&ui, "key-erase");
    tap(&ui, "key-erase");
    tap(&ui, "key-erase");
    tap(&ui, "pay-card");
    assert_eq!(screen(&ui), Screen::SellReceipt);
    let k = ui.kiosk.borrow();
    let head = journal::head(k.store.conn()).unwrap().unwrap();
    let payload = head.payload_value().unwrap();
    assert_eq!(payload["total_cents"], 189);
    assert_eq!(payload["cart_discount_cents"], 21);
    assert_eq!(payload["cart_discount"]["by"], staff_id(&ui, "Amina"));
}

fn setup_with(config: Config) -> (tempfile::TempDir, Ui) {
    i_slint_backend_testing::init_no_event_loop();
    let (dir, db, store) = seeded_db(1);
    let receipts = dir.path().join("receipts");
    let devices = Devices::start_demo(&db, &receipts).unwrap();
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 6, 20, 8, 42, 0).unwrap());
    // A week after the seeded market: no date to confirm first (tests/clock.rs asks it).
    let mut config = config;
    config.closure_confirm_after_days = 7;
    let mut kiosk = Kiosk::new(store, config, RunMode::Demo, clock);
    kiosk.language = "en".into();
    let ui = Ui::with_devices(kiosk, devices).unwrap();
    (dir, ui)
}

fn journal_kinds_since(ui: &Ui, before: u64) -> Vec<String> {
    let k = ui.kiosk.borrow();
    let report = journal::verify(k.store.conn()).unwrap();
    ((before + 1)..=report.entries)
        .map(|seq| {
            journal::entry(k.store.conn(), seq as i64)
                .unwrap()
                .unwrap()
                .kind
        })
        .collect()
}

/// Amina opens the register and puts six eggs and a 3,50 € "divers" item in the cart (5,60 €).
fn eggs_and_a_misc_item(ui: &Ui) {
    tap(ui, "area-sell");
    sign_in(ui, "Amina", "1111");
    tap(ui, "register-open");
    tap(ui, "category-egg");
    tap(ui, &format!("product-{}", product_id(ui, "Œufs")));
    tap(ui, "key-6");
    tap(ui, "weigh-add");
    tap(ui, "catalog-divers");
    for d in "350".chars() {
        tap(ui, &format!("key-{d}"));
    }
    tap(ui, "weigh-add");
}

#[test]
fn a_line_discount_and_a_removed_line_are_recorded_with_who_did_it() {
    let (_dir, ui) = setup();
    eggs_and_a_misc_item(&ui);
    assert_eq!(label(&ui, "catalog-total"), "€5.60");
    let before = journal::verify(ui.kiosk.borrow().store.conn())
        .unwrap()
        .entries;

    tap(&ui, "catalog-cart");
    assert_eq!(screen(&ui), Screen::SellCart);
    tap(&ui, "discount-line-1");
    assert_eq!(label(&ui, "discount-label"), "Œufs");
    // Nothing typed: no discount can be given.
    tap(&ui, "discount-percent");
    assert!(label(&ui, "line-discount-1").is_empty() || by_id(&ui, "line-discount-1").is_none());
    // More than the line is refused, and the panel stays open.
    for d in "999".chars() {
        tap(&ui, &format!("key-{d}"));
    }
    tap(&ui, "discount-amount");
    assert_eq!(label(&ui, "discount-label"), "Œufs", "still open");
    assert!(by_id(&ui, "line-discount-1").is_none(), "nothing given");
    for _ in 0..3 {
        tap(&ui, "key-erase");
    }
    // 20 % off the eggs: −€0.42.
    tap(&ui, "key-2");
    tap(&ui, "key-0");
    tap(&ui, "discount-percent");
    assert!(by_id(&ui, "discount-label").is_none(), "the panel closes");
    assert_eq!(label(&ui, "line-discount-1"), "−20% · −€0.42");
    assert_eq!(label(&ui, "cart-total"), "€5.18");

    // The "divers" line goes: the journal keeps a trace of it at once.
    tap(&ui, "remove-line-2");
    assert_eq!(label(&ui, "cart-total"), "€1.68");
    let kinds = journal_kinds_since(&ui, before);
    assert_eq!(kinds, vec!["line_removed".to_string()]);
    {
        let k = ui.kiosk.borrow();
        let head = journal::head(k.store.conn()).unwrap().unwrap();
        let p = head.payload_value().unwrap();
        assert_eq!(p["label"], "Divers");
        assert_eq!(p["amount_cents"], 350);
        assert_eq!(p["by"], staff_id(&ui, "Amina"));
    }

    tap(&ui, "cart-pay");
    tap(&ui, "pay-card");
    assert_eq!(screen(&ui), Screen::SellReceipt);
    let k = ui.kiosk.borrow();
    let head = journal::head(k.store.conn()).unwrap().unwrap();
    let p = head.payload_value().unwrap();
    assert_eq!(head.kind, "sale");
    assert_eq!(p["total_cents"], 168);
    assert_eq!(p["line_discounts_cents"], 42);
    assert_eq!(p["lines"][0]["discount"]["kind"], "percent");
    assert_eq!(p["lines"][0]["discount"]["value"], 2000);
    assert_eq!(p["lines"][0]["discount"]["by"], staff_id(&ui, "Amina"));
    assert_eq!(p["lines"].as_array().unwrap().len(), 1);
    assert!(journal::verify(k.store.conn()).is_ok());
}

#[test]
fn container_tares_and_manual_weights_where_the_scale_is_not_legal_for_trade() {
    let mut config = Config::default();
    config.selling.legal_for_trade = false;
    config.selling.container_tares_g = vec![350, 1200];
    config.selling.manual_weight_roles = vec!["seller".into()];
    let (_dir, ui) = setup_with(config);
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    tap(&ui, "register-open");
    tap(&ui, &format!("product-{}", product_id(&ui, "Tomates")));
    assert_eq!(label(&ui, "weigh-uncertified"), "Uncertified weighing data");
    simulate(&ui, "1234");
    wait_for(&ui, "a stable load", SHOW, |ui| {
        label(ui, "weigh-weight") == "1.234 kg" && label(ui, "weigh-refusal").is_empty()
    });
    // The bowl weighs 350 g: the weight shown stays the scale's (gross), the tare is shown
    // apart, the price is the net's: 0.884 kg × €3.50 = €3.094.
    tap(&ui, "weigh-container-350");
    assert_eq!(label(&ui, "weigh-weight"), "1.234 kg");
    assert_eq!(label(&ui, "weigh-tare-applied"), "\u{200E}−0.350 kg");
    assert_eq!(label(&ui, "weigh-price"), "€3.09");
    tap(&ui, "weigh-add");
    assert_eq!(label(&ui, "catalog-total"), "€3.09");
    // The empty bowl back on the scale is the return to zero; the tare stays chosen.
    simulate(&ui, "350");
    tap(&ui, &format!("product-{}", product_id(&ui, "Courgettes")));
    wait_for(&ui, "the bowl alone", SHOW, |ui| {
        label(ui, "weigh-refusal") == "Put the goods on the scale"
    });
    // The scale breaks: the seller types the weight (their role is allowed here).
    simulate(&ui, "silence");
    tap(&ui, "weigh-manual");
    for d in "1500".chars() {
        tap(&ui, &format!("key-{d}"));
    }
    assert_eq!(label(&ui, "weigh-weight"), "1.500 kg");
    assert_eq!(label(&ui, "weigh-manual-mark"), "Weight typed by hand");
    assert_eq!(label(&ui, "weigh-price"), "€3.90");
    tap(&ui, "weigh-add");
    assert_eq!(label(&ui, "catalog-total"), "€6.99");
    // Another role list: the manual entry is refused in words, nothing added.
    ui.kiosk
        .borrow_mut()
        .config
        .selling
        .manual_weight_roles
        .clear();
    tap(&ui, &format!("product-{}", product_id(&ui, "Courgettes")));
    assert!(
        by_id(&ui, "weigh-manual").is_none(),
        "no button for this role"
    );
    ui.window.global::<SellFlowAdapter>().invoke_manual_toggle();
    assert_eq!(
        ui.window.global::<SellFlowAdapter>().get_error(),
        "manual_not_allowed"
    );
    tap(&ui, "weigh-cancel");

    tap(&ui, "catalog-pay");
    tap(&ui, "pay-card");
    assert_eq!(screen(&ui), Screen::SellReceipt);
    let k = ui.kiosk.borrow();
    let head = journal::head(k.store.conn()).unwrap().unwrap();
    let p = head.payload_value().unwrap();
    assert_eq!(p["lines"][0]["grams"], 884);
    assert_eq!(p["lines"][0]["manual_weight"], false);
    assert_eq!(p["lines"][1]["grams"], 1500);
    assert_eq!(p["lines"][1]["manual_weight"], true);
    // The receipt says both.
    let sale = comptoir::store::sales::sale(k.store.conn(), head.seq)
        .unwrap()
        .unwrap();
    let receipt = comptoir::app::receipt::receipt_for(&sale, &k.config, false);
    let text = crate::common::printed_text(&comptoir_hardware::printer::encode_text(
        &receipt,
        comptoir_hardware::printer::Paper::Mm80,
        comptoir_hardware::printer::CodePage::Wpc1252,
    ));
    assert!(text.contains("pesée manuelle"), "{text}");
    assert!(
        text.contains("Données métrologiques non certifiées"),
        "{text}"
    );
}

#[test]
fn a_legal_for_trade_scale_refuses_container_tares() {
    let (_dir, ui) = setup();
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    tap(&ui, "register-open");
    tap(&ui, &format!("product-{}", product_id(&ui, "Tomates")));
    assert!(by_id(&ui, "weigh-container-none").is_none());
    assert!(by_id(&ui, "weigh-uncertified").is_none());
    assert!(
        by_id(&ui, "weigh-manual").is_none(),
        "nobody types weights by default"
    );
    // Even called directly, the controller refuses Comptoir's own tare.
    ui.window.global::<SellFlowAdapter>().invoke_set_tare(350);
    assert_eq!(
        ui.window.global::<SellFlowAdapter>().get_error(),
        "software_tare_not_allowed"
    );
    assert_eq!(ui.kiosk.borrow().sell.tare_g, 0);
}

#[test]
fn every_receipt_prints_where_the_setting_says_so() {
    let mut config = Config::default();
    config.selling.print_every_receipt = true;
    let (dir, ui) = setup_with(config);
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    tap(&ui, "register-open");
    tap(&ui, "category-egg");
    tap(&ui, &format!("product-{}", product_id(&ui, "Œufs")));
    tap(&ui, "weigh-add");
    tap(&ui, "catalog-pay");
    tap(&ui, "pay-card");
    assert_eq!(screen(&ui), Screen::SellReceipt);
    let receipts = dir.path().join("receipts");
    wait_for(&ui, "the receipt without asking", SHOW, |_| {
        receipts.join("job-0001.png").exists()
    });
}

#[test]
fn a_cart_in_progress_survives_a_power_cut_and_a_sold_one_never_comes_back() {
    let (dir, ui) = setup();
    let db = dir.path().join("demo.db");
    eggs_and_a_misc_item(&ui);
    // Part paid by card (the terminal took €2.00) when the power goes.
    tap(&ui, "catalog-pay");
    for d in "200".chars() {
        tap(&ui, &format!("key-{d}"));
    }
    tap(&ui, "pay-card");
    assert_eq!(label(&ui, "pay-remaining"), "€3.60");
    drop(ui);

    // The kiosk starts again on the same database.
    let restart = || {
        let store = comptoir::store::Store::open(&db, comptoir::store::Access::ReadWrite).unwrap();
        let devices = Devices::start_demo(&db, &dir.path().join("receipts2")).unwrap();
        let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 6, 20, 8, 50, 0).unwrap());
        let config = Config {
            closure_confirm_after_days: 7,
            ..Config::default()
        };
        let mut kiosk = Kiosk::new(store, config, RunMode::Demo, clock);
        kiosk.language = "en".into();
        Ui::with_devices(kiosk, devices).unwrap()
    };
    let ui = restart();
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    assert_eq!(label(&ui, "catalog-total"), "€5.60");
    assert_eq!(ui.window.global::<SellFlowAdapter>().get_count(), 2);
    tap(&ui, "catalog-pay");
    assert_eq!(
        label(&ui, "pay-remaining"),
        "€3.60",
        "the card payment is kept"
    );
    tap(&ui, "pay-cash");
    assert_eq!(screen(&ui), Screen::SellReceipt);
    {
        let k = ui.kiosk.borrow();
        let head = journal::head(k.store.conn()).unwrap().unwrap();
        let p = head.payload_value().unwrap();
        assert_eq!(p["total_cents"], 560);
        assert_eq!(p["payments"][0]["method"], "card");
        assert_eq!(p["payments"][0]["cents"], 200);
    }
    drop(ui);
    // Sold: after another restart the seller's cart is empty.
    let ui = restart();
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    assert_eq!(label(&ui, "catalog-total"), "€0.00");
}

/// Every code the sale screens can be given has its own words; only a failure nothing on
/// screen can cause (a stale screen, a database error) says "nothing was recorded". A
/// receipt that cannot print under a recorded sale says the sale is recorded.
#[test]
fn every_code_the_sale_screens_show_has_its_own_words() {
    use comptoir::app::cash::CashError;
    use comptoir::app::sell::SellError;
    use comptoir::domain::cart::{CartError, PaymentMethod};
    use comptoir::domain::metrology::{ScaleFault, WeighRefusal};
    use comptoir::ui::SellLabels;

    let ui = crate::common::demo_ui("fr", crate::common::Register::Open);
    let labels = ui.window.global::<SellLabels>();
    let words = |code: &str, fault: &str| labels.invoke_refusal(code.into(), fault.into());
    let fallback = words("store", "");
    assert_eq!(
        fallback,
        "Un problème est survenu : rien n'a été enregistré"
    );

    let mut codes: Vec<(&str, &str)> = vec![
        (
            SellError::Denied(comptoir::app::session::Denied::NotSignedIn).code(),
            "",
        ),
        (SellError::NothingChosen.code(), ""),
        (SellError::UnknownProduct.code(), ""),
        (SellError::NeedsScale.code(), ""),
        (SellError::BadQuantity.code(), ""),
        (SellError::BadAmount(String::new()).code(), ""),
        (SellError::ClockBehind.code(), ""),
        (SellError::AlreadyRefunded.code(), ""),
        (SellError::Closure("date_unconfirmed").code(), ""),
        (SellError::Closure("key_missing").code(), ""),
        (SellError::Closure("key_mismatch").code(), ""),
        ("no_printer", ""),
    ];
    for e in [
        CashError::NoSession,
        CashError::AlreadyOpen(1),
        CashError::ClockBehind,
        CashError::BadAmount(String::new()),
    ] {
        codes.push((e.code(), ""));
    }
    for e in [
        CartError::EmptyCart,
        CartError::BadDiscount,
        CartError::DiscountTooLarge,
        CartError::PaymentsInProgress,
        CartError::PaymentNotPositive,
        CartError::NothingDue,
        CartError::NonCashAboveRemaining(PaymentMethod::Card),
        CartError::CreditsAboveShare,
        CartError::CreditsAboveBalance,
        CartError::Short { missing: 1 },
    ] {
        codes.push((e.code(), ""));
    }
    let faults = [
        ScaleFault::Motion,
        ScaleFault::OverCapacity,
        ScaleFault::UnderZero,
        ScaleFault::NotZeroed,
        ScaleFault::UnsupportedUnit,
        ScaleFault::NoAnswer,
        ScaleFault::Garbage,
        ScaleFault::Disconnected,
    ];
    let refusals = [
        WeighRefusal::Unstable,
        WeighRefusal::BelowMinimum,
        WeighRefusal::AboveMaximum,
        WeighRefusal::OverCapacity,
        WeighRefusal::Negative,
        WeighRefusal::NoReturnToZero,
        WeighRefusal::BadTare,
        WeighRefusal::SoftwareTareNotAllowed,
        WeighRefusal::DoubleTare,
        WeighRefusal::ManualNotAllowed,
    ];
    for r in refusals
        .into_iter()
        .chain(faults.into_iter().map(WeighRefusal::ScaleError))
    {
        codes.push((r.code(), r.fault_code().unwrap_or("")));
    }
    let unlabelled: Vec<_> = codes
        .iter()
        .filter(|(code, fault)| words(code, fault) == fallback)
        .collect();
    assert!(unlabelled.is_empty(), "no words for {unlabelled:?}");
    assert_eq!(
        words("no_printer", ""),
        "Pas d’imprimante : la vente est enregistrée, le ticket n’est pas imprimé"
    );
}
