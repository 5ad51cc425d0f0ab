//! The administrator's clock screen: a Pi without a battery clock starts behind the journal,
//! selling is refused until an admin sets the time (journaled `clock_set`, then applied); an
//! implausible year changes nothing; a missing signing key blocks selling until an admin
//! confirms a new key with a second tap; sellers never reach the screen.

use chrono::{TimeZone, Utc};
use comptoir::app::{self, Clock, Kiosk, RunMode};
use comptoir::config::Config;
use comptoir::store::journal;
use comptoir::ui::{Screen, Ui};

use crate::common::{label, screen, seeded_db, sign_in, tap};

/// A seeded database (last entries on 13 June 2026) and a kiosk whose clock reads `at`.
fn start(at: chrono::DateTime<Utc>) -> (tempfile::TempDir, std::path::PathBuf, Ui) {
    i_slint_backend_testing::init_no_event_loop();
    let (dir, db, store) = seeded_db(2);
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, Clock::manual(at));
    kiosk.language = "en".into();
    (dir, db, Ui::new(kiosk).unwrap())
}

fn head_kind(ui: &Ui) -> String {
    journal::head(ui.kiosk.borrow().store.conn())
        .unwrap()
        .unwrap()
        .kind
}

fn sell_one_egg(ui: &Ui) -> Result<(), app::sell::SellError> {
    {
        let mut k = ui.kiosk.borrow_mut();
        if app::cash::current(&k).ok().flatten().is_none() {
            app::cash::open(&mut k, 0)?;
        }
        let eggs = comptoir::store::catalog::active_products(k.store.conn())
            .unwrap()
            .into_iter()
            .find(|p| p.name == "Œufs")
            .unwrap()
            .id;
        app::sell::choose(&mut k, eggs)?;
        app::sell::add_pieces(&mut k)?;
    }
    pay_by_card(ui)
}

fn pay_by_card(ui: &Ui) -> Result<(), app::sell::SellError> {
    app::sell::pay(
        &mut ui.kiosk.borrow_mut(),
        comptoir::domain::cart::PaymentMethod::Card,
    )?;
    Ok(())
}

#[test]
fn a_kiosk_behind_the_journal_sells_again_once_an_admin_sets_the_time() {
    // The Pi came back at the time it last saved: a year before the journal's last entry.
    let (_dir, _db, ui) = start(Utc.with_ymd_and_hms(2025, 6, 13, 7, 0, 0).unwrap());
    tap(&ui, "area-admin");
    sign_in(&ui, "Admin", "1234");
    tap(&ui, "tab-clock");
    assert_eq!(screen(&ui), Screen::AdminClock);
    assert_eq!(label(&ui, "clock-now"), "13/06/2025 09:00");
    assert_eq!(label(&ui, "clock-date"), "13/06/2025");
    let last_entry = label(&ui, "clock-last-entry");
    assert!(last_entry.starts_with("13/06/2026"), "{last_entry}");
    // Selling is refused meanwhile, and nothing is recorded.
    let before = journal::verify(ui.kiosk.borrow().store.conn())
        .unwrap()
        .entries;
    let refused = sell_one_egg(&ui);
    assert!(
        matches!(&refused, Err(e) if e.code() == "clock_behind"),
        "{refused:?}"
    );
    assert_eq!(
        journal::verify(ui.kiosk.borrow().store.conn())
            .unwrap()
            .entries,
        before
    );

    // A year and a day forward (365 + 1 days: 2026 is not a leap year), 2 hours, 15 minutes.
    for _ in 0..366 {
        tap(&ui, "clock-date-plus");
    }
    tap(&ui, "clock-hour-plus");
    tap(&ui, "clock-hour-plus");
    tap(&ui, "clock-minute-big-plus");
    tap(&ui, "clock-minute-plus");
    tap(&ui, "clock-minute-plus");
    tap(&ui, "clock-minute-plus");
    tap(&ui, "clock-minute-plus");
    tap(&ui, "clock-minute-plus");
    assert_eq!(label(&ui, "clock-date"), "14/06/2026");
    assert_eq!(label(&ui, "clock-hour"), "11 h");
    assert_eq!(label(&ui, "clock-minute"), "15 min");
    // Not applied until confirmed.
    assert_eq!(label(&ui, "clock-now"), "13/06/2025 09:00");
    tap(&ui, "clock-set");
    assert_eq!(
        label(&ui, "clock-message"),
        "The time is set and recorded in the journal."
    );
    assert_eq!(label(&ui, "clock-now"), "14/06/2026 11:15");
    {
        let k = ui.kiosk.borrow();
        let head = journal::head(k.store.conn()).unwrap().unwrap();
        assert_eq!(head.kind, "clock_set");
        let p = head.payload_value().unwrap();
        assert_eq!(p["from_utc"], "2025-06-13T07:00:00Z");
        assert_eq!(p["to_utc"], "2026-06-14T09:15:00Z");
        assert_eq!(head.time_utc, "2026-06-14T09:15:00Z");
        assert!(journal::verify(k.store.conn()).is_ok());
    }
    // Selling works again.
    sell_one_egg(&ui).unwrap();
    assert_eq!(head_kind(&ui), "sale");
}

#[test]
fn an_implausible_year_is_refused_and_nothing_recorded() {
    let (_dir, _db, ui) = start(Utc.with_ymd_and_hms(2026, 6, 14, 7, 0, 0).unwrap());
    tap(&ui, "area-admin");
    sign_in(&ui, "Admin", "1234");
    let before = journal::verify(ui.kiosk.borrow().store.conn())
        .unwrap()
        .entries;
    let at = Utc.with_ymd_and_hms(2002, 6, 14, 7, 0, 0).unwrap();
    let r = app::clock::set_time(&mut ui.kiosk.borrow_mut(), at);
    assert!(
        matches!(r, Err(app::clock::SetTimeError::Implausible(_))),
        "{r:?}"
    );
    assert_eq!(
        journal::verify(ui.kiosk.borrow().store.conn())
            .unwrap()
            .entries,
        before
    );
    assert_eq!(
        ui.kiosk.borrow().clock.now(),
        Utc.with_ymd_and_hms(2026, 6, 14, 7, 0, 0).unwrap()
    );
}

#[test]
fn sellers_cannot_set_the_time() {
    let (_dir, _db, ui) = start(Utc.with_ymd_and_hms(2026, 6, 14, 7, 0, 0).unwrap());
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    let at = Utc.with_ymd_and_hms(2026, 6, 14, 9, 0, 0).unwrap();
    let r = app::clock::set_time(&mut ui.kiosk.borrow_mut(), at);
    assert!(
        matches!(r, Err(app::clock::SetTimeError::Denied(_))),
        "{r:?}"
    );
    // Navigating there asks for someone allowed.
    ui.kiosk.borrow_mut().navigate(app::Screen::AdminClock);
    assert_ne!(ui.kiosk.borrow().screen, app::Screen::AdminClock);
}

#[test]
fn a_lost_signing_key_blocks_selling_until_an_admin_confirms_a_new_one() {
    let (_dir, db, ui) = start(Utc.with_ymd_and_hms(2026, 6, 14, 7, 0, 0).unwrap());
    // The first sale of the day closes the seeded days: the key is made and registered.
    tap(&ui, "area-admin");
    sign_in(&ui, "Admin", "1234");
    sell_one_egg(&ui).unwrap();
    let key = journal::key_path_for(&db);
    assert!(key.exists());
    // The key file is lost (a new SD card with a restored database).
    std::fs::remove_file(&key).unwrap();
    ui.kiosk.borrow().clock.advance(chrono::Duration::days(1));
    let refused = sell_one_egg(&ui);
    assert!(
        matches!(refused, Err(app::sell::SellError::Closure("key_missing"))),
        "{refused:?}"
    );
    tap(&ui, "tab-clock");
    assert_eq!(
        label(&ui, "clock-key-state"),
        "The signing key file is missing: selling waits until you confirm a new key."
    );
    let before = journal::verify(ui.kiosk.borrow().store.conn())
        .unwrap()
        .entries;
    // The first tap only asks.
    tap(&ui, "clock-rotate-key");
    assert_eq!(label(&ui, "clock-rotate-key"), "Confirm the new key");
    assert_eq!(
        journal::verify(ui.kiosk.borrow().store.conn())
            .unwrap()
            .entries,
        before
    );
    tap(&ui, "clock-rotate-key");
    assert_eq!(
        label(&ui, "clock-message"),
        "A new signing key is in use; the change is recorded in the journal."
    );
    assert_eq!(
        label(&ui, "clock-key-state"),
        "The signing key is in place."
    );
    assert!(key.exists());
    {
        let k = ui.kiosk.borrow();
        let head = journal::head(k.store.conn()).unwrap().unwrap();
        let p = head.payload_value().unwrap();
        assert_eq!(p["reason"], "key file missing");
        assert!(journal::verify(k.store.conn()).is_ok());
    }
    // The refused sale is still in the cart, unpaid: paying again now records it, and the
    // day's closure is signed with the new key.
    pay_by_card(&ui).unwrap();
    assert_eq!(head_kind(&ui), "sale");
    assert!(journal::verify(ui.kiosk.borrow().store.conn()).is_ok());
}
