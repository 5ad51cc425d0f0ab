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

/// Local Paris time.
fn paris(d: (i32, u32, u32), h: u32, min: u32) -> chrono::DateTime<Utc> {
    chrono_tz::Europe::Paris
        .with_ymd_and_hms(d.0, d.1, d.2, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn entries(ui: &Ui) -> i64 {
    journal::head(ui.kiosk.borrow().store.conn())
        .unwrap()
        .map_or(0, |e| e.seq)
}

fn kind_count(ui: &Ui, kind: &str) -> i64 {
    crate::common::count(
        ui,
        &format!("SELECT count(*) FROM journal WHERE kind = '{kind}'"),
    )
}

/// The closures of `period` that no `closure_voided` entry names, by seq.
fn live_closures(
    ui: &Ui,
    period: journal::Period,
) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let k = ui.kiosk.borrow();
    let conn = k.store.conn();
    let voided: Vec<i64> = conn
        .prepare("SELECT json_extract(payload, '$.closure_seq') FROM journal WHERE kind = 'closure_voided'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    app::closures::closures_of(conn, period)
        .unwrap()
        .into_iter()
        .filter(|(seq, _)| !voided.contains(seq))
        .map(|(_, c)| c)
        .collect()
}

fn int(c: &serde_json::Map<String, serde_json::Value>, key: &str) -> i64 {
    c[key].as_i64().unwrap()
}

/// Each kind's closures that are not voided: contiguous ranges from seq 1, figures equal to
/// the sales of their range, grand totals that continue one from the other.
fn check_live_closures(ui: &Ui) {
    for period in [journal::Period::Day, journal::Period::Month] {
        let mut next_first = 1;
        let mut grand = 0;
        for c in live_closures(ui, period) {
            assert_eq!(int(&c, "first_seq"), next_first, "{period:?} {c:?}");
            let totals = journal::sum_sales(
                ui.kiosk.borrow().store.conn(),
                int(&c, "first_seq"),
                int(&c, "last_seq"),
            )
            .unwrap();
            assert_eq!(int(&c, "ticket_count"), totals.ticket_count, "{c:?}");
            assert_eq!(int(&c, "period_total_cents"), totals.total_cents, "{c:?}");
            grand += totals.total_cents;
            assert_eq!(int(&c, "grand_total_cents"), grand, "{c:?}");
            next_first = int(&c, "last_seq") + 1;
        }
    }
}

#[test]
fn a_clock_40_days_ahead_waits_for_the_date_and_its_correction_voids_the_future_closures() {
    i_slint_backend_testing::init_no_event_loop();
    // Sales on 13 June (12 June is no market day); the Pi starts on Sunday 14 June at 9:00, its clock 40 days
    // ahead: Friday 24 July.
    let (_dir, db, store) = seeded_db(2);
    let clock = Clock::manual(paris((2026, 7, 24), 9, 0));
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Live, clock.clone());
    kiosk.language = "en".into();
    // What the kiosk does at start-up: nothing is written, the date must be confirmed.
    let before = journal::head(kiosk.store.conn()).unwrap().unwrap().seq;
    let refused = app::closures::close_due_periods(&mut kiosk, None).unwrap_err();
    assert_eq!(refused.code(), "date_unconfirmed");
    assert_eq!(
        journal::head(kiosk.store.conn()).unwrap().unwrap().seq,
        before
    );
    assert!(!journal::key_path_for(&db).exists());
    let ui = Ui::new(kiosk).unwrap();
    assert_eq!(kind_count(&ui, "closure"), 0);

    // A seller signs in: the question covers the screen; selling waits, nothing recorded.
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    assert_eq!(
        label(&ui, "date-confirm-question"),
        "Is today Friday 24 July 2026?"
    );
    assert!(label(&ui, "date-confirm-why").contains("13/06/2026"));
    app::cash::open(&mut ui.kiosk.borrow_mut(), 0).unwrap();
    let before = entries(&ui);
    let refused = sell_one_egg(&ui);
    assert!(
        matches!(
            refused,
            Err(app::sell::SellError::Closure("date_unconfirmed"))
        ),
        "{refused:?}"
    );
    assert_eq!(entries(&ui), before);
    assert_eq!(kind_count(&ui, "closure"), 0);
    // A restart asks again: nothing records an answer.
    assert!(app::closures::date_question(&ui.kiosk.borrow())
        .unwrap()
        .is_some());

    // She answers Yes: the confirmation is journaled, then the closures of 13 June (the first
    // day with entries) to 23 July (41 days) and of June.
    tap(&ui, "date-confirm-yes");
    assert!(crate::common::by_id(&ui, "date-confirm-question").is_none());
    assert_eq!(kind_count(&ui, "date_confirmed"), 1);
    {
        let k = ui.kiosk.borrow();
        let confirmed = journal::entry(k.store.conn(), before + 1).unwrap().unwrap();
        assert_eq!(confirmed.kind, "date_confirmed");
        let p = confirmed.payload_value().unwrap();
        assert_eq!(p["date"], "2026-07-24");
        assert_eq!(p["last_entry_date"], "2026-06-13");
        assert_eq!(p["staff_id"], k.session.current().unwrap().id);
    }
    assert_eq!(live_closures(&ui, journal::Period::Day).len(), 41);
    assert_eq!(live_closures(&ui, journal::Period::Month).len(), 1);
    // The refused sale is still in the cart: paying now records it; one more.
    let seeded_sales = kind_count(&ui, "sale");
    pay_by_card(&ui).unwrap();
    sell_one_egg(&ui).unwrap();

    // At 9:30 (real time) an administrator sets the clock back to Sunday 14 June, 9:30.
    let admin = crate::common::signed_in(&ui.kiosk.borrow().store, &clock, "Admin", "1234");
    ui.kiosk.borrow_mut().session = admin;
    let set =
        app::clock::set_time(&mut ui.kiosk.borrow_mut(), paris((2026, 6, 14), 9, 30)).unwrap();
    // 14 June to 23 July, and June: written "in the future", voided; 13 June stays.
    assert_eq!(set.voided.len(), 41);
    assert_eq!(kind_count(&ui, "closure_voided"), 41);
    {
        let k = ui.kiosk.borrow();
        let conn = k.store.conn();
        for (i, voided_seq) in set.voided.iter().enumerate() {
            let e = journal::entry(conn, set.seq + 1 + i as i64)
                .unwrap()
                .unwrap();
            assert_eq!(e.kind, "closure_voided");
            let p = e.payload_value().unwrap();
            assert_eq!(p["closure_seq"], *voided_seq);
            assert_eq!(p["clock_set_seq"], set.seq);
            let closure = journal::entry(conn, *voided_seq).unwrap().unwrap();
            assert_eq!(closure.kind, "closure");
            assert!(
                closure.payload_value().unwrap()["period_end"]
                    .as_str()
                    .unwrap()
                    >= "2026-06-14"
            );
        }
        journal::verify(conn).unwrap();
    }
    let days = live_closures(&ui, journal::Period::Day);
    assert_eq!(days.len(), 1);
    assert_eq!(days[0]["period_end"], "2026-06-13");
    assert!(live_closures(&ui, journal::Period::Month).is_empty());
    // Nothing is due on the corrected Sunday; selling goes on.
    sell_one_egg(&ui).unwrap();
    assert_eq!(kind_count(&ui, "closure"), 42);
    let sunday_sales = kind_count(&ui, "sale") - seeded_sales;

    // Monday morning: the first sale closes Sunday, wrong-clock sales included, no question.
    clock.advance(chrono::Duration::hours(23));
    sell_one_egg(&ui).unwrap();
    let days = live_closures(&ui, journal::Period::Day);
    assert_eq!(days.len(), 2);
    let sunday = &days[1];
    assert_eq!(sunday["period_start"], "2026-06-14");
    assert_eq!(sunday["period_end"], "2026-06-14");
    assert_eq!(int(sunday, "first_seq"), int(&days[0], "last_seq") + 1);
    assert_eq!(int(sunday, "ticket_count"), sunday_sales);
    check_live_closures(&ui);

    // The first market after a fortnight's break (Wednesday 1 July): the date is asked again,
    // and once confirmed June is closed again, its days' seqs and figures, grand total going on.
    clock.advance(chrono::Duration::days(16));
    let refused = sell_one_egg(&ui);
    assert!(
        matches!(
            refused,
            Err(app::sell::SellError::Closure("date_unconfirmed"))
        ),
        "{refused:?}"
    );
    app::closures::confirm_date(&mut ui.kiosk.borrow_mut(), None).unwrap();
    pay_by_card(&ui).unwrap();
    let months = live_closures(&ui, journal::Period::Month);
    assert_eq!(months.len(), 1);
    let days = live_closures(&ui, journal::Period::Day);
    assert_eq!(days.last().unwrap()["period_end"], "2026-06-30");
    assert_eq!(int(&months[0], "first_seq"), 1);
    assert_eq!(
        int(&months[0], "last_seq"),
        int(days.last().unwrap(), "last_seq")
    );
    assert_eq!(
        int(&months[0], "grand_total_cents"),
        int(days.last().unwrap(), "grand_total_cents")
    );
    check_live_closures(&ui);

    // The file verifies from the command line.
    drop(ui);
    let out = crate::cli::comptoir(&["journal", "verify", "--db", db.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("intact"), "{stdout}");
}

#[test]
fn no_on_the_date_question_sends_an_admin_to_the_clock_and_tells_a_seller_to_call_one() {
    let (_dir, _db, ui) = start(paris((2026, 7, 24), 9, 0));
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    let before = entries(&ui);
    tap(&ui, "date-confirm-no");
    assert_eq!(
        label(&ui, "date-confirm-message"),
        "The date is wrong: call an administrator to set the clock. Selling and deposits wait."
    );
    assert_eq!(entries(&ui), before);
    // An administrator's No opens the clock screen, without the question over it.
    let admin = crate::common::signed_in(
        &ui.kiosk.borrow().store,
        &ui.kiosk.borrow().clock,
        "Admin",
        "1234",
    );
    ui.kiosk.borrow_mut().session = admin;
    ui.refresh();
    tap(&ui, "date-confirm-no");
    assert_eq!(screen(&ui), Screen::AdminClock);
    assert!(crate::common::by_id(&ui, "date-confirm-question").is_none());
    assert_eq!(entries(&ui), before);
}
