//! The devices end to end in the demo kiosk: the hardware crate's simulators on real
//! pseudo-terminals, the app's workers, and the admin devices screen under the testing backend.

use std::time::Duration;

use crate::common::{label, seeded_db, tap, wait_for};
use chrono::{TimeZone, Utc};
use comptoir::app::{Clock, Kiosk, RunMode};
use comptoir::config::Config;
use comptoir::devices::Devices;
use comptoir::store::print_queue;
use comptoir::ui::{AppState, Screen, Ui};
use slint::ComponentHandle;

/// What a timeout shows.
const SHOW: &[&str] = &["live-weight", "scale-state", "printer-state", "last-scan"];

#[test]
fn the_demo_kiosk_shows_a_live_weight_prints_and_reads_cards() {
    i_slint_backend_testing::init_no_event_loop();
    let (dir, db, store) = seeded_db(5);
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
    wait_for(&ui, "the scale at zero", SHOW, |ui| {
        label(ui, "live-weight") == "0.000 kg"
    });
    tap(&ui, "sim-load");
    wait_for(&ui, "the load on the scale", SHOW, |ui| {
        label(ui, "live-weight") == "1.234 kg"
    });
    assert_eq!(label(&ui, "scale-state"), "Stable");
    tap(&ui, "sim-motion");
    wait_for(&ui, "the scale moving", SHOW, |ui| {
        label(ui, "scale-state") == "Moving"
    });

    // Cards: a valid one is looked up, junk is refused with a reason.
    tap(&ui, "sim-scan-card");
    wait_for(&ui, "the card", SHOW, |ui| {
        label(ui, "last-scan").starts_with("Card of resident no.")
    });
    tap(&ui, "sim-scan-junk");
    wait_for(&ui, "the junk refused", SHOW, |ui| {
        label(ui, "last-scan") == "Not one of our cards"
    });

    // A test print goes through the queue to the simulated printer, which makes a PNG.
    wait_for(&ui, "the printer", SHOW, |ui| {
        label(ui, "printer-state") == "Ready"
    });
    tap(&ui, "printer-test");
    wait_for(&ui, "the printed job", SHOW, |_| {
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
    wait_for(&ui, "the queue emptied", SHOW, |ui| {
        print_queue::waiting(ui.kiosk.borrow().store.conn()).unwrap() == 0
    });

    // Out of paper: the job waits in the queue, and prints when the paper is back.
    tap(&ui, "sim-paper-out");
    wait_for(&ui, "paper out", SHOW, |ui| {
        label(ui, "printer-state") == "Out of paper"
    });
    tap(&ui, "printer-test");
    wait_for(&ui, "one job waiting", SHOW, |ui| {
        label(ui, "printer-waiting") == "Waiting to print: 1"
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !receipts.join("job-0002.png").exists(),
        "nothing prints without paper"
    );
    tap(&ui, "sim-paper-ok");
    wait_for(&ui, "the second job", SHOW, |_| {
        receipts.join("job-0002.png").exists()
    });
    wait_for(&ui, "an empty queue", SHOW, |ui| {
        label(ui, "printer-waiting") == "Waiting to print: 0"
    });
}
