//! A simulated market day (ignored by default: it lasts ten minutes). The demo kiosk with its
//! simulated devices on pseudo-terminals (the scale streams ten readings a second, the card
//! scanner and the receipt printer), 1,000 weighed sales paid in cash and 300 compost deposits
//! spread over the run, one receipt in ten printed. Sales go through `app::sell`; each deposit
//! is a resident's card shown to the simulated scanner, their bucket on the simulated scale
//! (weighed full then empty when no bucket is registered) and `app::compost`'s kind and
//! confirm. The test switches screens itself (the seller stays signed in: no PIN hash a time).
//! The kiosk's clock moves 25 s per operation, a market day from morning to evening. Resident
//! memory (`VmRSS`) and open file descriptors are measured after a warm-up (a tenth of the
//! sales) and at the end: memory may grow less than 5 MB, descriptors not at all.
//!
//! `cargo test --release --test integration endurance:: -- --ignored --nocapture`
//! (`COMPTOIR_ENDURANCE_SECS`, `COMPTOIR_ENDURANCE_SALES` and `COMPTOIR_ENDURANCE_DEPOSITS`
//! shorten it).

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use comptoir::app::{self, compost, sell, Clock, Kiosk, RunMode};
use comptoir::config::Config;
use comptoir::devices::Devices;
use comptoir::domain::cart::PaymentMethod;
use comptoir::store::compost::{self as compost_store, WasteKind};
use comptoir::ui::Ui;
use comptoir_hardware::cards::CardPayload;

use crate::common::seeded_db;

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Lets the workers run and the UI timers drain them until `done` (10 s at most).
fn pump(ui: &Ui, what: &str, mut done: impl FnMut(&Ui) -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(10));
        if done(ui) {
            return;
        }
    }
    panic!(
        "timed out waiting for {what}: {:?}",
        ui.kiosk.borrow().devices.scale
    );
}

fn on_scale(ui: &Ui, grams: i64) -> bool {
    matches!(
        ui.kiosk.borrow().devices.scale,
        app::devices::ScaleView::Weight { grams: g, stable: true, .. } if g == grams
    )
}

/// Puts `grams` on the simulated scale and waits for the stable reading.
fn load(ui: &Ui, grams: i64) {
    ui.devices.borrow().demo_scale(&grams.to_string());
    pump(ui, "the load", |ui| on_scale(ui, grams));
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One resident's deposit at the composter, from the card to the thanks; returns the net.
fn deposit(ui: &Ui, payload: &str, n: u64) -> i64 {
    {
        let mut k = ui.kiosk.borrow_mut();
        k.screen = app::Screen::CompostIdle;
    }
    ui.refresh();
    ui.devices.borrow().demo_scan(payload);
    pump(ui, "the greeting", |ui| {
        ui.kiosk.borrow().compost.visit.is_some()
    });
    let net = 400 + (n as i64 * 53) % 4000;
    let step = ui.kiosk.borrow().compost.visit.as_ref().unwrap().step;
    if step == compost::Step::AskAnother {
        compost::another(&mut ui.kiosk.borrow_mut());
    }
    let visit = ui.kiosk.borrow().compost.visit.clone().unwrap();
    match visit.bucket_tare_g {
        Some(tare) => load(ui, net + tare),
        None => {
            let empty = 300 + (n as i64 * 7) % 500;
            load(ui, net + empty);
            compost::full_weighed(&mut ui.kiosk.borrow_mut()).unwrap();
            load(ui, empty);
        }
    }
    let thanks = {
        let mut k = ui.kiosk.borrow_mut();
        compost::choose_kind(&mut k, WasteKind::Kitchen);
        compost::confirm(&mut k).unwrap()
    };
    assert_eq!(thanks.net_g, net);
    ui.refresh();
    compost::end(&mut ui.kiosk.borrow_mut());
    load(ui, 0);
    ui.kiosk.borrow_mut().screen = app::Screen::SellWeigh;
    ui.refresh();
    net
}

#[test]
#[ignore = "ten minutes: run by hand (see the module documentation)"]
fn a_market_day_keeps_memory_and_file_descriptors_flat() {
    let secs = env_or("COMPTOIR_ENDURANCE_SECS", 600);
    let sales = env_or("COMPTOIR_ENDURANCE_SALES", 1000);
    let deposits = env_or("COMPTOIR_ENDURANCE_DEPOSITS", 300);
    i_slint_backend_testing::init_no_event_loop();
    let (dir, db, store) = seeded_db(2);
    // The residents' cards, round the clock of the day.
    let cards: Vec<String> = compost_store::residents(store.conn())
        .unwrap()
        .into_iter()
        .filter(|r| r.anonymised_utc.is_none())
        .filter_map(|r| comptoir::demo::seeded_card_token(store.conn(), r.id).unwrap())
        .map(|t| {
            CardPayload::from_token(comptoir::store::people::token_bytes(&t).unwrap()).encode()
        })
        .collect();
    assert!(!cards.is_empty());
    let deposits_before = compost_store::grand_totals(store.conn()).unwrap().deposits;
    // The day starts after whatever the seed recorded last.
    let start = comptoir::store::journal::last_time(store.conn())
        .unwrap()
        .map_or(Utc.with_ymd_and_hms(2026, 6, 13, 7, 0, 0).unwrap(), |t| {
            t + chrono::Duration::minutes(1)
        })
        .max(Utc.with_ymd_and_hms(2026, 6, 13, 7, 0, 0).unwrap());
    let devices = Devices::start_demo(&db, &dir.path().join("receipts")).unwrap();
    let clock = Clock::manual(start);
    let kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, clock);
    let ui = Ui::with_devices(kiosk, devices).unwrap();
    let tomatoes = {
        let mut k = ui.kiosk.borrow_mut();
        let seller = comptoir::store::people::active_staff(k.store.conn())
            .unwrap()
            .into_iter()
            .find(|s| s.name == "Amina")
            .unwrap();
        k.session.assume(seller);
        app::cash::open(&mut k, 5000).unwrap();
        k.screen = app::Screen::SellWeigh;
        comptoir::store::catalog::active_products(k.store.conn())
            .unwrap()
            .into_iter()
            .find(|p| p.short_code == "TCB")
            .unwrap()
            .id
    };
    ui.refresh();
    pump(&ui, "the scale at zero", |ui| on_scale(ui, 0));

    let started = Instant::now();
    let operations = sales + deposits;
    let pace = Duration::from_secs(secs) / operations as u32;
    let warm_up = (sales / 10).max(50).min(sales - 1);
    let mut baseline = None;
    let mut printed = 0;
    let mut deposited = 0u64;
    let mut deposited_g = 0i64;
    let step = chrono::Duration::seconds(25);
    for n in 0..sales {
        let grams = 300 + (n as i64 * 37) % 2500;
        ui.kiosk.borrow().clock.advance(step);
        sell::choose(&mut ui.kiosk.borrow_mut(), tomatoes).unwrap();
        load(&ui, grams);
        {
            let mut k = ui.kiosk.borrow_mut();
            sell::add_weighed(&mut k).unwrap();
            sell::pay_quick(&mut k, 5000).unwrap();
            let done = sell::pay(&mut k, PaymentMethod::Cash).unwrap().unwrap();
            if n % 10 == 0 {
                let section = ui.devices.borrow().printer_section().cloned().unwrap();
                app::printing::queue_receipt(&k, &section, done.seq).unwrap();
                printed += 1;
            }
        }
        if n % 10 == 0 {
            ui.devices.borrow().wake_printer();
        }
        load(&ui, 0);
        // The residents come between the sales, as many as due by now.
        while deposited < (n + 1) * deposits / sales {
            ui.kiosk.borrow().clock.advance(step);
            let card = &cards[(deposited as usize * 7) % cards.len()];
            deposited_g += deposit(&ui, card, deposited);
            deposited += 1;
        }
        if n == warm_up {
            baseline = Some((rss_kb(), fds(), started.elapsed()));
        }
        if (n + 1) % 100 == 0 {
            eprintln!(
                "endurance: {:>4} sales, {deposited:>3} deposits, {:>4.0} s: RSS {} kB, {} fds",
                n + 1,
                started.elapsed().as_secs_f64(),
                rss_kb(),
                fds()
            );
        }
        // Spread the day over the run, the scale streaming meanwhile.
        let due = pace * (n + 1 + deposited) as u32;
        while started.elapsed() < due {
            std::thread::sleep(Duration::from_millis(10));
            i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(10));
        }
    }
    pump(&ui, "the receipts printed", |ui| {
        comptoir::store::print_queue::waiting(ui.kiosk.borrow().store.conn()).unwrap() == 0
    });
    let (rss0, fd0, t0) = baseline.unwrap();
    let (rss1, fd1) = (rss_kb(), fds());
    let recorded: i64 = ui
        .kiosk
        .borrow()
        .store
        .conn()
        .query_row(
            "SELECT count(*) FROM sales WHERE time_utc > ?1",
            [comptoir::store::utc_text(start)],
            |r| r.get(0),
        )
        .unwrap();
    let totals = compost_store::grand_totals(ui.kiosk.borrow().store.conn()).unwrap();
    eprintln!(
        "endurance: {sales} sales ({recorded} recorded), {deposited} deposits ({} recorded, \
         {:.1} kg), {printed} receipts, {:.0} s; RSS {rss0} kB after {warm_up} sales ({:.0} s) \
         -> {rss1} kB at the end ({:+} kB); fds {fd0} -> {fd1}",
        totals.deposits - deposits_before,
        deposited_g as f64 / 1000.0,
        started.elapsed().as_secs_f64(),
        t0.as_secs_f64(),
        rss1 as i64 - rss0 as i64
    );
    assert_eq!(recorded as u64, sales);
    assert_eq!((totals.deposits - deposits_before) as u64, deposits);
    assert!(
        rss1 < rss0 + 5 * 1024,
        "resident memory grew by {} kB",
        rss1 - rss0
    );
    assert!(fd1 <= fd0, "file descriptors grew: {fd0} -> {fd1}");
}
