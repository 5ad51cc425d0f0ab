//! The devices end to end in the demo kiosk: the hardware crate's simulators on real
//! pseudo-terminals, the app's workers, and the admin devices screen under the testing backend.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use comptoir::app::{Clock, Kiosk, RunMode};
use comptoir::config::Config;
use comptoir::devices::Devices;
use comptoir::store::{print_queue, Access, Store};
use comptoir::ui::{AppState, Screen, Ui};
use i_slint_backend_testing::{ElementHandle, ElementQuery};
use slint::ComponentHandle;

fn by_id(ui: &Ui, id: &str) -> Option<ElementHandle> {
    let id = id.to_string();
    ElementQuery::from_root(&ui.window)
        .match_descendants()
        .match_predicate(move |e| e.accessible_id().is_some_and(|a| a == id))
        .find_first()
}

fn tap(ui: &Ui, id: &str) {
    by_id(ui, id)
        .unwrap_or_else(|| panic!("no {id}"))
        .invoke_accessible_default_action();
}

fn label(ui: &Ui, id: &str) -> String {
    // Weights come with a no-break space before the unit.
    by_id(ui, id)
        .and_then(|e| e.accessible_label())
        .map(|s| s.replace('\u{a0}', " "))
        .unwrap_or_default()
}

/// Lets real time pass for the worker threads while the UI timers run, until `done`.
fn wait_for(ui: &Ui, what: &str, mut done: impl FnMut(&Ui) -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(20));
        if done(ui) {
            return;
        }
    }
    panic!(
        "timed out waiting for {what}: weight {:?}, scale {:?}, printer {:?}, scan {:?}",
        label(ui, "live-weight"),
        label(ui, "scale-state"),
        label(ui, "printer-state"),
        label(ui, "last-scan")
    );
}

#[test]
fn the_demo_kiosk_shows_a_live_weight_prints_and_reads_cards() {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let mut store = Store::open(&db, Access::ReadWrite).unwrap();
    let options = comptoir::demo::SeedOptions {
        days: 5,
        seed: 1,
        until: chrono::NaiveDate::from_ymd_opt(2026, 6, 13).unwrap(),
        tz: chrono_tz::Europe::Paris,
    };
    comptoir::demo::seed(&mut store, &options).unwrap();
    let receipts = dir.path().join("receipts");
    let devices = Devices::start_demo(&db, &receipts).unwrap();
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 6, 13, 8, 42, 0).unwrap());
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, clock);
    kiosk.language = "en".into();
    let ui = Ui::with_devices(kiosk, devices).unwrap();

    tap(&ui, "area-admin");
    let admin = comptoir::store::people::active_staff(ui.kiosk.borrow().store.conn())
        .unwrap()
        .into_iter()
        .find(|s| s.name == "Admin")
        .unwrap();
    tap(&ui, &format!("staff-{}", admin.id));
    for d in "1234".chars() {
        tap(&ui, &format!("key-{d}"));
    }
    tap(&ui, "key-ok");
    tap(&ui, "tab-devices");
    assert_eq!(
        ui.window.global::<AppState>().get_screen(),
        Screen::AdminDevices
    );

    // The simulated scale streams through the continuous protocol's driver.
    wait_for(&ui, "the scale at zero", |ui| {
        label(ui, "live-weight") == "0.000 kg"
    });
    tap(&ui, "sim-load");
    wait_for(&ui, "the load on the scale", |ui| {
        label(ui, "live-weight") == "1.234 kg"
    });
    assert_eq!(label(&ui, "scale-state"), "Stable");
    tap(&ui, "sim-motion");
    wait_for(&ui, "the scale moving", |ui| {
        label(ui, "scale-state") == "Moving"
    });

    // Cards: a valid one is looked up, junk is refused with a reason.
    tap(&ui, "sim-scan-card");
    wait_for(&ui, "the card", |ui| {
        label(ui, "last-scan").starts_with("Card of resident no.")
    });
    tap(&ui, "sim-scan-junk");
    wait_for(&ui, "the junk refused", |ui| {
        label(ui, "last-scan") == "Not one of our cards"
    });

    // A test print goes through the queue to the simulated printer, which makes a PNG.
    wait_for(&ui, "the printer", |ui| {
        label(ui, "printer-state") == "Ready"
    });
    tap(&ui, "printer-test");
    wait_for(&ui, "the printed job", |_| {
        receipts.join("job-0001.png").exists() && receipts.join("job-0001.txt").exists()
    });
    // A raster job: the picture is the receipt, 576 dots wide (80 mm), with ink on it.
    let decoder = png::Decoder::new(std::fs::File::open(receipts.join("job-0001.png")).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.width, 576);
    assert!(
        info.height > 200,
        "a whole receipt, {} dots high",
        info.height
    );
    assert!(buf[..info.buffer_size()].contains(&0), "black dots");
    wait_for(&ui, "the queue emptied", |ui| {
        print_queue::waiting(ui.kiosk.borrow().store.conn()).unwrap() == 0
    });

    // Out of paper: the job waits in the queue, and prints when the paper is back.
    tap(&ui, "sim-paper-out");
    wait_for(&ui, "paper out", |ui| {
        label(ui, "printer-state") == "Out of paper"
    });
    tap(&ui, "printer-test");
    wait_for(&ui, "one job waiting", |ui| {
        label(ui, "printer-waiting") == "Waiting to print: 1"
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !receipts.join("job-0002.png").exists(),
        "nothing prints without paper"
    );
    tap(&ui, "sim-paper-ok");
    wait_for(&ui, "the second job", |_| {
        receipts.join("job-0002.png").exists()
    });
    wait_for(&ui, "an empty queue", |ui| {
        label(ui, "printer-waiting") == "Waiting to print: 0"
    });
}
