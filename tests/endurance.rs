//! A simulated market day (ignored by default: it lasts ten minutes). The demo kiosk with its
//! simulated devices (the scale streams ten readings a second), 1,000 weighed sales paid in
//! cash spread over the run, one receipt in ten printed; resident memory and open file
//! descriptors measured after a warm-up and at the end.
//!
//! `cargo test --release --test integration endurance:: -- --ignored --nocapture`
//! (`COMPTOIR_ENDURANCE_SECS` and `COMPTOIR_ENDURANCE_SALES` shorten it).

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use comptoir::app::{self, sell, Clock, Kiosk, RunMode};
use comptoir::config::Config;
use comptoir::devices::Devices;
use comptoir::domain::cart::PaymentMethod;
use comptoir::ui::Ui;

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

#[test]
#[ignore = "ten minutes: run by hand (see the module documentation)"]
fn a_market_day_keeps_memory_and_file_descriptors_flat() {
    let secs: u64 = std::env::var("COMPTOIR_ENDURANCE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let sales: u64 = std::env::var("COMPTOIR_ENDURANCE_SALES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    i_slint_backend_testing::init_no_event_loop();
    let (dir, db, store) = seeded_db(2);
    let devices = Devices::start_demo(&db, &dir.path().join("receipts")).unwrap();
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 6, 13, 8, 0, 0).unwrap());
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
    let pace = Duration::from_secs(secs) / sales as u32;
    let mut baseline = None;
    let mut printed = 0;
    for n in 0..sales {
        let grams = 300 + (n as i64 * 37) % 2500;
        sell::choose(&mut ui.kiosk.borrow_mut(), tomatoes).unwrap();
        ui.devices.borrow().demo_scale(&grams.to_string());
        pump(&ui, "the load", |ui| on_scale(ui, grams));
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
        ui.devices.borrow().demo_scale("0");
        pump(&ui, "back to zero", |ui| on_scale(ui, 0));
        if n == 50 {
            baseline = Some((rss_kb(), fds(), started.elapsed()));
        }
        // Spread the sales over the day, the scale streaming meanwhile.
        let due = pace * (n as u32 + 1);
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
            "SELECT count(*) FROM sales WHERE time_utc = '2026-06-13T08:00:00Z'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    eprintln!(
        "endurance: {sales} sales ({recorded} recorded), {printed} receipts, {:.0} s; \
         RSS {rss0} kB after 50 sales ({:.0} s) -> {rss1} kB at the end ({:+} kB); fds {fd0} -> {fd1}",
        started.elapsed().as_secs_f64(),
        t0.as_secs_f64(),
        rss1 as i64 - rss0 as i64
    );
    assert_eq!(recorded as u64, sales);
    assert!(
        rss1 < rss0 + 5 * 1024,
        "resident memory grew by {} kB",
        rss1 - rss0
    );
    assert!(fd1 <= fd0, "file descriptors grew: {fd0} -> {fd1}");
}
