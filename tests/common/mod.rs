//! Helpers shared by the UI tests that run the demo kiosk with its simulated devices: find and
//! tap elements by accessible id, read labels, let real time pass for the device workers.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use comptoir::app::session::Session;
use comptoir::app::{Clock, Kiosk, RunMode};
use comptoir::config::Config;
use comptoir::store::{Access, Store};
use comptoir::ui::{AppState, Screen, Ui};
use i_slint_backend_testing::{ElementHandle, ElementQuery};
use slint::ComponentHandle;

pub fn by_id(ui: &Ui, id: &str) -> Option<ElementHandle> {
    let id = id.to_string();
    ElementQuery::from_root(&ui.window)
        .match_descendants()
        .match_predicate(move |e| e.accessible_id().is_some_and(|a| a == id))
        .find_first()
}

pub fn screen(ui: &Ui) -> Screen {
    ui.window.global::<AppState>().get_screen()
}

pub fn tap(ui: &Ui, id: &str) {
    by_id(ui, id)
        .unwrap_or_else(|| panic!("no {id} on {:?}", screen(ui)))
        .invoke_accessible_default_action();
}

/// On the sign-in screen: taps `name` among the staff and types their PIN on the keypad.
pub fn sign_in(ui: &Ui, name: &str, pin: &str) {
    assert_eq!(screen(ui), Screen::Login, "signing in {name}");
    tap(ui, &format!("staff-{}", staff_id(ui, name)));
    type_pin(ui, pin);
}

/// Taps `digits` on the keypad shown.
pub fn type_digits(ui: &Ui, digits: &str) {
    for d in digits.chars() {
        tap(ui, &format!("key-{d}"));
    }
}

/// Taps `pin` on the keypad shown, then OK.
pub fn type_pin(ui: &Ui, pin: &str) {
    type_digits(ui, pin);
    tap(ui, "key-ok");
}

/// The id of the member of staff called `name` in the kiosk's database.
pub fn staff_id(ui: &Ui, name: &str) -> i64 {
    staff_id_in(&ui.kiosk.borrow().store, name)
}

/// The id of the member of staff called `name` in `store`.
pub fn staff_id_in(store: &Store, name: &str) -> i64 {
    comptoir::store::people::all_staff(store.conn())
        .unwrap()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no member of staff called {name}"))
        .id
}

/// A session (no kiosk, no UI) in which `name` signed in with `pin`.
pub fn signed_in(store: &Store, clock: &Clock, name: &str, pin: &str) -> Session {
    let mut s = Session::default();
    s.choose(store, clock, staff_id_in(store, name)).unwrap();
    pin.chars().for_each(|c| s.digit(c));
    s.submit(store, clock, None, "test").unwrap();
    s
}

/// The number that `sql` selects (one row, one column) from the kiosk's database.
pub fn count(ui: &Ui, sql: &str) -> i64 {
    ui.kiosk
        .borrow()
        .store
        .conn()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// When the demo kiosk of [`demo_ui`] stands: 13 June 2026 at 08:42 UTC, on the demo data's
/// last day.
pub fn demo_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 13, 8, 42, 0).unwrap()
}

/// Whether [`demo_ui`] opens the register before the kiosk starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    Closed,
    /// Opened at 06:00 UTC with a 50 € float, by the first member of staff (the opening itself
    /// is tested through the screens in tests/selling_ui.rs).
    Open,
}

/// The demo kiosk (built-in demo data, a manual clock at [`demo_time`]) in `lang`, on the home
/// screen, in the Slint testing backend.
pub fn demo_ui(lang: &str, register: Register) -> Ui {
    i_slint_backend_testing::init_no_event_loop();
    let store = comptoir::cli::builtin_demo_store().unwrap();
    if register == Register::Open {
        let admin = comptoir::store::people::all_staff(store.conn()).unwrap()[0].id;
        comptoir::store::cash::open_session(
            store.conn(),
            admin,
            5000,
            Utc.with_ymd_and_hms(2026, 6, 13, 6, 0, 0).unwrap(),
        )
        .unwrap();
    }
    let clock = Clock::manual(demo_time());
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, clock);
    kiosk.language = lang.into();
    Ui::new(kiosk).unwrap()
}

/// An element's label, with no-break spaces (before units and currency) made plain.
pub fn label(ui: &Ui, id: &str) -> String {
    by_id(ui, id)
        .and_then(|e| e.accessible_label())
        .map(|s| s.replace(['\u{a0}', '\u{202f}'], " "))
        .unwrap_or_default()
}

/// Lets real time pass for the worker threads while the UI timers run, until `done`; on
/// timeout, panics with `what` and the labels of `show`.
pub fn wait_for(ui: &Ui, what: &str, show: &[&str], mut done: impl FnMut(&Ui) -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(20));
        if done(ui) {
            return;
        }
    }
    let labels: Vec<(String, String)> = show
        .iter()
        .map(|id| (id.to_string(), label(ui, id)))
        .collect();
    panic!("timed out waiting for {what}: {labels:?}");
}

/// A demo database file seeded over `days` days up to 13 June 2026, in a fresh folder.
pub fn seeded_db(days: u32) -> (tempfile::TempDir, PathBuf, Store) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let mut store = Store::open(&db, Access::ReadWrite).unwrap();
    let options = comptoir::demo::SeedOptions {
        days,
        seed: 1,
        until: chrono::NaiveDate::from_ymd_opt(2026, 6, 13).unwrap(),
        tz: chrono_tz::Europe::Paris,
    };
    comptoir::demo::seed(&mut store, &options).unwrap();
    (dir, db, store)
}

/// A text-mode printer section for tests that queue jobs without a device.
pub fn text_printer() -> comptoir_hardware::config::PrinterSection {
    comptoir_hardware::config::PrinterSection {
        port: "/dev/null".into(),
        mode: Some(comptoir_hardware::printer::Mode::Text),
        width_dots: 576,
        baud: None,
        drawer: false,
    }
}

/// The text of the ESC/POS jobs in `bytes`, as the printer simulator decodes them.
pub fn printed_text(bytes: &[u8]) -> String {
    use comptoir_hardware::printer::decode::{EscPosDecoder, Event};
    let mut decoder = EscPosDecoder::new();
    let mut text = String::new();
    for e in decoder.push(bytes) {
        if let Event::Job(job) = e {
            text.push_str(&job.text());
        }
    }
    if let Some(job) = decoder.flush() {
        text.push_str(&job.text());
    }
    text
}

/// A resident of the demo data who speaks `lang` (with a nickname, not anonymised): their
/// nickname and their card's payload as the reader gives it.
pub fn resident_card(ui: &Ui, lang: &str) -> (String, String) {
    use comptoir::store::compost as residents;
    let k = ui.kiosk.borrow();
    let r = residents::residents(k.store.conn())
        .unwrap()
        .into_iter()
        .find(|r| r.language == lang && r.nickname.is_some() && r.anonymised_utc.is_none())
        .unwrap_or_else(|| panic!("a resident speaking {lang} in the demo data"));
    // The database keeps only the card's hash; the demo seed makes its token again.
    let token = comptoir::demo::seeded_card_token(k.store.conn(), r.id)
        .unwrap()
        .unwrap();
    let bytes = comptoir::store::people::token_bytes(&token).unwrap();
    let payload = comptoir_hardware::cards::CardPayload::from_token(bytes).encode();
    (r.nickname.unwrap(), payload)
}

/// Runs the `comptoir` binary with `args` (no config file, no default data directory),
/// waiting for it.
pub fn run_comptoir(args: &[&str]) -> std::process::Output {
    run_comptoir_env(args, &[])
}

/// [`run_comptoir`] with `env` added to its environment (test hooks).
pub fn run_comptoir_env(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_comptoir"));
    cmd.args(args)
        .env("XDG_DATA_HOME", "/nonexistent-comptoir-data")
        .env("XDG_CONFIG_HOME", "/nonexistent-comptoir-config");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the comptoir binary runs")
}

/// What someone with sqlite3 and the file does: drops `triggers` (their SQL kept), does
/// `what`, then puts the triggers back as they were, so that nothing looks touched.
pub fn tamper(db: &std::path::Path, triggers: &[&str], what: impl FnOnce(&rusqlite::Connection)) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut kept = Vec::new();
    for name in triggers {
        let text: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute_batch(&format!("DROP TRIGGER {name}")).unwrap();
        kept.push(text);
    }
    what(&conn);
    for text in kept {
        conn.execute_batch(&text).unwrap();
    }
}

/// The Slint testing backend of this test's thread, set once however many windows the test
/// opens (a kiosk restarted within one test).
pub fn init_testing_backend() {
    thread_local! {
        static READY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    READY.with(|ready| {
        if !ready.get() {
            i_slint_backend_testing::init_no_event_loop();
            ready.set(true);
        }
    });
}

/// `n` more journal entries (kind `note`: no table mirrors them), dated after the last one,
/// then the head file kept as the kiosk keeps it.
pub fn append_notes(db: &std::path::Path, n: i64) {
    use comptoir::store::journal;
    let mut store = Store::open(db, Access::ReadWrite).unwrap();
    let start = journal::last_time(store.conn())
        .unwrap()
        .unwrap_or_else(Utc::now);
    for i in 0..n {
        let tx = store.write().unwrap();
        let mut body = serde_json::Map::new();
        body.insert("n".into(), i.into());
        journal::append(&tx, "note", start + chrono::Duration::seconds(i + 1), body).unwrap();
        tx.commit().unwrap();
    }
    comptoir::app::boot::HeadKeeper::for_store(&store)
        .unwrap()
        .tick(&store);
}
