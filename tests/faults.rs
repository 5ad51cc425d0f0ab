//! Failing devices, end to end: the simulators run as separate `comptoir ... simulate`
//! processes on pseudo-terminals and are driven through their standard input (or stopped, as
//! when a cable is pulled); the kiosk's real workers talk to them; the screens are read through
//! the testing backend. Scale unplugged and replugged, garbage, silence; printer out of paper,
//! cover open, unplugged; card reader junk. No line is ever priced from a bad reading, and
//! queued receipts print once the printer is back.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use comptoir::app::{self, sell, Clock, Kiosk, RunMode};
use comptoir::config::Config;
use comptoir::devices::Devices;
use comptoir::store::print_queue;
use comptoir::ui::Ui;

use crate::common::{label, seeded_db, tap, wait_for};

const SHOW: &[&str] = &[
    "scale-state",
    "live-weight",
    "printer-state",
    "printer-waiting",
    "last-scan",
    "weigh-weight",
    "weigh-price",
    "weigh-refusal",
];

/// A simulator process on a pty linked at `link`.
struct Sim {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Sim {
    fn start(args: &[&str], link: &Path) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_comptoir"))
            .args(args)
            .arg("--link")
            .arg(link)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.starts_with("ready "), "{first:?}");
        let stdin = child.stdin.take();
        Sim { child, stdin }
    }

    fn send(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{command}").unwrap();
        stdin.flush().unwrap();
    }

    /// Pulls the cable: SIGTERM (the simulator closes its pty and removes the link).
    fn unplug(mut self) {
        // SAFETY: signalling our own child process.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        self.child.wait().unwrap();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kiosk_with(dir: &Path, db: &Path, store: comptoir::store::Store, toml: &str) -> Ui {
    let config = Config::parse(&dir.join("config.toml"), toml).unwrap();
    let devices = Devices::start(
        config.scale.as_ref(),
        config.printer.as_ref(),
        config.scanner.as_ref(),
        db,
    );
    // A week after the seeded days: the journal's last entry is behind the clock.
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 6, 20, 8, 42, 0).unwrap());
    // No date to confirm first (tests/clock.rs asks it).
    let mut config = config;
    config.closure_confirm_after_days = 7;
    let mut kiosk = Kiosk::new(store, config, RunMode::Live, clock);
    kiosk.language = "en".into();
    Ui::with_devices(kiosk, devices).unwrap()
}

fn sign_in_admin(ui: &Ui) {
    tap(ui, "area-admin");
    let admin = comptoir::store::people::active_staff(ui.kiosk.borrow().store.conn())
        .unwrap()
        .into_iter()
        .find(|s| s.name == "Admin")
        .unwrap();
    tap(ui, &format!("staff-{}", admin.id));
    for d in "1234".chars() {
        tap(ui, &format!("key-{d}"));
    }
    tap(ui, "key-ok");
}

fn show(ui: &Ui, screen: app::Screen) {
    ui.kiosk.borrow_mut().screen = screen;
    ui.refresh();
}

fn cart_lines(ui: &Ui) -> usize {
    let mut k = ui.kiosk.borrow_mut();
    let me = k.session.current().unwrap().id;
    k.sell.cart_of(me).cart.lines().len()
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

#[test]
fn scale_unplugged_garbage_and_silence_are_shown_and_never_priced() {
    i_slint_backend_testing::init_no_event_loop();
    let (dir, db, store) = seeded_db(2);
    let link = dir.path().join("scale");
    let mut scale = Sim::start(&["scale", "simulate", "--protocol", "continuous"], &link);
    let toml = format!(
        "[scale]\nprotocol = \"continuous\"\nport = {:?}\n",
        s(&link)
    );
    let ui = kiosk_with(dir.path(), &db, store, &toml);
    sign_in_admin(&ui);
    tap(&ui, "tab-devices");
    wait_for(&ui, "the scale at zero", SHOW, |ui| {
        label(ui, "live-weight") == "0.000 kg"
    });

    // Garbage: words on the devices screen, no weight.
    scale.send("garbage");
    wait_for(&ui, "garbage reported", SHOW, |ui| {
        label(ui, "scale-state") == "The scale sends unreadable data"
    });
    assert_eq!(label(&ui, "live-weight"), "–");
    // Silence.
    scale.send("silence");
    wait_for(&ui, "silence reported", SHOW, |ui| {
        label(ui, "scale-state") == "The scale does not answer"
    });

    // On the weighing screen a bad reading gives no price and adds no line.
    {
        let mut k = ui.kiosk.borrow_mut();
        app::cash::open(&mut k, 5000).unwrap();
        let tomatoes = comptoir::store::catalog::active_products(k.store.conn())
            .unwrap()
            .into_iter()
            .find(|p| p.short_code == "TCB")
            .unwrap()
            .id;
        sell::choose(&mut k, tomatoes).unwrap();
    }
    show(&ui, app::Screen::SellWeigh);
    for (command, what) in [("silence", "no answer"), ("garbage", "garbage")] {
        scale.send(command);
        std::thread::sleep(Duration::from_millis(300));
        wait_for(&ui, what, SHOW, |ui| {
            !matches!(
                ui.kiosk.borrow().devices.scale,
                app::devices::ScaleView::Weight { .. }
            ) && !label(ui, "weigh-refusal").is_empty()
        });
        assert_eq!(label(&ui, "weigh-price"), "", "{what}: no price");
        assert!(sell::add_weighed(&mut ui.kiosk.borrow_mut()).is_err());
        assert_eq!(cart_lines(&ui), 0, "{what}: no line");
    }

    // Unplugged: the worker says so, nothing is priced; replugged: weights come back.
    scale.unplug();
    wait_for(&ui, "the scale unplugged", SHOW, |ui| {
        ui.kiosk.borrow().devices.scale == app::devices::ScaleView::Disconnected
    });
    assert!(!label(&ui, "weigh-refusal").is_empty());
    assert_eq!(label(&ui, "weigh-price"), "");
    assert!(sell::add_weighed(&mut ui.kiosk.borrow_mut()).is_err());
    show(&ui, app::Screen::AdminDevices);
    wait_for(&ui, "unplugged in words", SHOW, |ui| {
        label(ui, "scale-state") == "Unplugged: waiting for it"
    });
    let mut scale = Sim::start(&["scale", "simulate", "--protocol", "continuous"], &link);
    wait_for(&ui, "the scale back at zero", SHOW, |ui| {
        label(ui, "live-weight") == "0.000 kg"
    });
    // A good reading after all that prices and adds exactly one line.
    show(&ui, app::Screen::SellWeigh);
    scale.send("1500");
    wait_for(&ui, "a stable 1,5 kg", SHOW, |ui| {
        label(ui, "weigh-weight") == "1.500 kg" && !label(ui, "weigh-price").is_empty()
    });
    sell::add_weighed(&mut ui.kiosk.borrow_mut()).unwrap();
    assert_eq!(cart_lines(&ui), 1);
}

#[test]
fn printer_out_of_paper_cover_open_and_unplugged_keep_receipts_until_it_is_back() {
    i_slint_backend_testing::init_no_event_loop();
    let (dir, db, store) = seeded_db(2);
    let link = dir.path().join("printer");
    let out = dir.path().join("paper");
    let sim_args = ["printer", "simulate", "--out", out.to_str().unwrap()];
    let mut printer = Sim::start(&sim_args, &link);
    let toml = format!("[printer]\nport = {:?}\nmode = \"text\"\n", s(&link));
    let ui = kiosk_with(dir.path(), &db, store, &toml);
    sign_in_admin(&ui);
    tap(&ui, "tab-devices");
    wait_for(&ui, "the printer ready", SHOW, |ui| {
        label(ui, "printer-state") == "Ready"
    });
    let jobs = |n: usize| out.join(format!("job-{n:04}.txt"));
    let waiting = |ui: &Ui| print_queue::waiting(ui.kiosk.borrow().store.conn()).unwrap();

    // Out of paper: the receipt waits, in words on the screen, and prints once paper is back.
    printer.send("paper-out");
    wait_for(&ui, "paper out", SHOW, |ui| {
        label(ui, "printer-state") == "Out of paper"
    });
    tap(&ui, "printer-test");
    wait_for(&ui, "one receipt waiting", SHOW, |ui| {
        label(ui, "printer-waiting") == "Waiting to print: 1"
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!jobs(1).exists(), "nothing prints without paper");
    printer.send("paper-ok");
    wait_for(&ui, "the receipt printed", SHOW, |ui| {
        jobs(1).exists() && waiting(ui) == 0
    });

    // Cover open: the same.
    printer.send("cover-open");
    wait_for(&ui, "cover open", SHOW, |ui| {
        label(ui, "printer-state") == "Cover open"
    });
    tap(&ui, "printer-test");
    tap(&ui, "printer-test");
    wait_for(&ui, "two receipts waiting", SHOW, |ui| {
        label(ui, "printer-waiting") == "Waiting to print: 2"
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!jobs(2).exists());
    printer.send("cover-closed");
    wait_for(&ui, "both printed", SHOW, |ui| {
        jobs(3).exists() && waiting(ui) == 0
    });

    // Unplugged: receipts queue; a new printer on the same port prints them all.
    printer.unplug();
    wait_for(&ui, "the printer unplugged", SHOW, |ui| {
        label(ui, "printer-state") == "Unplugged: receipts wait in the queue"
    });
    tap(&ui, "printer-test");
    wait_for(&ui, "one receipt waiting", SHOW, |ui| {
        label(ui, "printer-waiting") == "Waiting to print: 1"
    });
    let out2 = dir.path().join("paper2");
    let _printer = Sim::start(
        &["printer", "simulate", "--out", out2.to_str().unwrap()],
        &link,
    );
    wait_for(&ui, "the queued receipt printed", SHOW, |ui| {
        out2.join("job-0001.txt").exists() && waiting(ui) == 0
    });
    wait_for(&ui, "ready again", SHOW, |ui| {
        label(ui, "printer-state") == "Ready"
    });
    let text = std::fs::read_to_string(out2.join("job-0001.txt")).unwrap();
    assert!(!text.trim().is_empty(), "a whole receipt");
}

#[test]
fn card_reader_junk_is_refused_in_words_and_a_card_still_reads() {
    i_slint_backend_testing::init_no_event_loop();
    let (dir, db, store) = seeded_db(2);
    let link = dir.path().join("scanner");
    let mut scanner = Sim::start(&["scanner", "simulate"], &link);
    let toml = format!("[scanner]\nport = {:?}\n", s(&link));
    let ui = kiosk_with(dir.path(), &db, store, &toml);
    sign_in_admin(&ui);
    tap(&ui, "tab-devices");
    let card = comptoir::app::printing::some_card_payload(&ui.kiosk.borrow()).unwrap();
    for (junk, expected) in [
        ("hello", "Not one of our cards"),
        (&"Z".repeat(400)[..], "Too long: not one of our cards"),
        (&card[..card.len() - 1], ""),
    ] {
        scanner.send(junk);
        wait_for(&ui, junk, SHOW, |ui| {
            let l = label(ui, "last-scan");
            if expected.is_empty() {
                // A card cut short: refused, with some reason.
                l != "No card shown yet" && !l.starts_with("Card of resident")
            } else {
                l == expected
            }
        });
        // Back to a neutral state between cases.
        scanner.send(&card);
        wait_for(&ui, "the card", SHOW, |ui| {
            label(ui, "last-scan").starts_with("Card of resident no.")
        });
    }
}

/// A cash sale on the kiosk with its drawer on the printer: a piece product, paid in cash
/// through the pay screen's own callback (the drawer rule runs there).
fn cash_sale(ui: &Ui) {
    {
        let mut k = ui.kiosk.borrow_mut();
        if app::cash::current(&k).unwrap().is_none() {
            app::cash::open(&mut k, 5000).unwrap();
        }
        let piece = comptoir::store::catalog::active_products(k.store.conn())
            .unwrap()
            .into_iter()
            .find(|p| p.pricing != comptoir::store::catalog::Pricing::PerKg)
            .unwrap()
            .id;
        sell::choose(&mut k, piece).unwrap();
        sell::add_pieces(&mut k).unwrap();
    }
    use slint::ComponentHandle;
    ui.window
        .global::<comptoir::ui::SellFlowAdapter>()
        .invoke_pay_method(comptoir::ui::PayMethod::Cash);
    assert_eq!(
        ui.kiosk.borrow().screen,
        app::Screen::SellReceipt,
        "the sale is made"
    );
}

/// Jobs the simulated printer wrote into `dir` (a drawer kick alone is a job too).
fn jobs_in(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".txt"))
            })
            .count()
        })
        .unwrap_or(0)
}

/// The drawer opens with a cash sale while the printer is there; with the printer off the kick
/// is dropped, not queued: when the printer comes back, nothing fires.
#[test]
fn a_drawer_kick_while_the_printer_is_off_is_dropped_not_queued() {
    i_slint_backend_testing::init_no_event_loop();
    let (dir, db, store) = seeded_db(2);
    let link = dir.path().join("printer");
    let out = dir.path().join("paper");
    let printer = Sim::start(
        &["printer", "simulate", "--out", out.to_str().unwrap()],
        &link,
    );
    let toml = format!(
        "[printer]\nport = {:?}\nmode = \"text\"\ndrawer = true\n",
        s(&link)
    );
    let ui = kiosk_with(dir.path(), &db, store, &toml);
    sign_in_admin(&ui);
    tap(&ui, "tab-devices");
    wait_for(&ui, "the printer ready", SHOW, |ui| {
        label(ui, "printer-state") == "Ready"
    });
    // Printer there: the kick reaches it at once.
    cash_sale(&ui);
    wait_for(&ui, "the drawer kicked", SHOW, |_| jobs_in(&out) == 1);

    // Printer off: the sale is made, the kick goes nowhere, and nothing is queued.
    printer.unplug();
    show(&ui, app::Screen::AdminDevices);
    wait_for(&ui, "the printer unplugged", SHOW, |ui| {
        label(ui, "printer-state") == "Unplugged: receipts wait in the queue"
    });
    cash_sale(&ui);
    let_time_pass(Duration::from_millis(1500));
    assert_eq!(
        print_queue::waiting(ui.kiosk.borrow().store.conn()).unwrap(),
        0,
        "no drawer kick in the queue"
    );
    // Printer back: no kick arrives.
    let out2 = dir.path().join("paper2");
    let _printer = Sim::start(
        &["printer", "simulate", "--out", out2.to_str().unwrap()],
        &link,
    );
    show(&ui, app::Screen::AdminDevices);
    wait_for(&ui, "ready again", SHOW, |ui| {
        label(ui, "printer-state") == "Ready"
    });
    let_time_pass(Duration::from_millis(3000));
    assert_eq!(jobs_in(&out2), 0, "the dropped kick never fires");
}

/// Jobs queued more than a day ago (the printer was off all week) do not print by themselves:
/// the admin devices screen lists them; "print" sends one, "drop all" deletes the rest. A
/// fresh job prints as usual meanwhile.
#[test]
fn jobs_older_than_a_day_wait_for_a_tap_on_the_devices_screen() {
    i_slint_backend_testing::init_no_event_loop();
    let (dir, db, store) = seeded_db(2);
    // The kiosk's clock in kiosk_with: 20 June 2026, 08:42 UTC.
    let now = Utc.with_ymd_and_hms(2026, 6, 20, 8, 42, 0).unwrap();
    let text = |t: &str| {
        comptoir_hardware::printer::encode_text(
            &comptoir_hardware::printer::Receipt::new().line(t).cut(),
            comptoir_hardware::printer::Paper::Mm80,
            comptoir_hardware::printer::CodePage::Wpc1252,
        )
    };
    let at = |days: i64| comptoir::store::utc_text(now - chrono::Duration::days(days));
    let c = store.conn();
    let week_old = print_queue::enqueue(c, "ticket 7", &text("WEEK OLD"), &at(7)).unwrap();
    print_queue::enqueue(c, "Z 3", &text("TWO DAYS OLD"), &at(2)).unwrap();
    print_queue::enqueue(
        c,
        "ticket 9",
        &text("FRESH"),
        &comptoir::store::utc_text(now),
    )
    .unwrap();
    let link = dir.path().join("printer");
    let out = dir.path().join("paper");
    let _printer = Sim::start(
        &["printer", "simulate", "--out", out.to_str().unwrap()],
        &link,
    );
    let toml = format!("[printer]\nport = {:?}\nmode = \"text\"\n", s(&link));
    let ui = kiosk_with(dir.path(), &db, store, &toml);
    sign_in_admin(&ui);
    tap(&ui, "tab-devices");
    let job = |n: usize| std::fs::read_to_string(out.join(format!("job-{n:04}.txt")));
    wait_for(&ui, "the fresh job printed", SHOW, |_| job(1).is_ok());
    assert!(job(1).unwrap().contains("FRESH"));
    wait_for(&ui, "two held jobs shown", &["printer-held-open"], |ui| {
        label(ui, "printer-held-open") == "Waiting to print: 0, older than a day: 2"
    });
    let_time_pass(Duration::from_millis(2000));
    assert!(job(2).is_err(), "held jobs do not print by themselves");

    tap(&ui, "printer-held-open");
    assert_eq!(label(&ui, "held-print-all"), "Print all");
    tap(&ui, &format!("held-print-{week_old}"));
    wait_for(&ui, "the confirmed job printed", SHOW, |_| job(2).is_ok());
    assert!(job(2).unwrap().contains("WEEK OLD"));
    tap(&ui, "held-drop-all");
    wait_for(&ui, "an empty queue", SHOW, |ui| {
        print_queue::waiting(ui.kiosk.borrow().store.conn()).unwrap() == 0
    });
    assert!(
        crate::common::by_id(&ui, "held-print-all").is_none(),
        "the list closes once empty"
    );
    let_time_pass(Duration::from_millis(2000));
    assert!(job(3).is_err(), "the dropped job never prints");
}

/// Real time for the workers, with the UI's timers running (the kiosk tells the printer
/// worker its clock from one).
fn let_time_pass(how_long: Duration) {
    let start = std::time::Instant::now();
    while start.elapsed() < how_long {
        std::thread::sleep(Duration::from_millis(20));
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(20));
    }
}
