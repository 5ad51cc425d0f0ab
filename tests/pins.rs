//! PIN guessing: wrong PINs at the staff sign-in escalate that person's lock (5 min, 15 min,
//! 1 h, 4 h), across restarts; an admin lifts a lock; wrong PINs typed from the composter's
//! screens lock nobody but pause that sign-in; admins see the wrong PINs at their next sign-in.

use chrono::{Duration, TimeZone, Utc};
use comptoir::app::session::{Session, SignInError};
use comptoir::app::staff::{self, StaffError};
use comptoir::app::{Clock, Kiosk, RunMode};
use comptoir::config::Config;
use comptoir::store::people;
use comptoir::store::{Access, Store};
use comptoir::ui::{Screen, Ui};

use crate::common::{by_id, label, screen, seeded_db, sign_in, signed_in, staff_id_in, tap};

fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 13, 8, 0, 0).unwrap()
}

/// Five wrong PINs for `id` at the staff sign-in: the refusal of the fifth.
fn five_wrong(store: &Store, clock: &Clock, id: i64) -> SignInError {
    let mut s = Session::default();
    let mut last = None;
    for _ in 0..5 {
        s.choose(store, clock, id).unwrap();
        "0000".chars().for_each(|c| s.digit(c));
        last = s.submit(store, clock, None, "login").err();
    }
    last.unwrap()
}

#[test]
fn wrong_pins_escalate_the_lock_across_restarts_until_a_sign_in() {
    let (_dir, path, _) = seeded_db(2);
    let clock = Clock::manual(start());
    // Each lock is longer than the one before, the kiosk restarting in between (a new
    // connection, a new session): the escalation comes from the ledger alone.
    for minutes in [5, 15, 60, 240, 240] {
        let store = Store::open(&path, Access::ReadWrite).unwrap();
        let id = staff_id_in(&store, "Mehmet");
        assert_eq!(
            five_wrong(&store, &clock, id),
            SignInError::Locked { minutes },
            "lock of {minutes} min"
        );
        drop(store);
        let store = Store::open(&path, Access::ReadWrite).unwrap();
        clock.advance(Duration::minutes(minutes - 1));
        assert_eq!(
            Session::default().choose(&store, &clock, id).err(),
            Some(SignInError::Locked { minutes: 1 }),
            "still locked a minute before the end of {minutes} min"
        );
        clock.advance(Duration::minutes(1));
    }
    // A good PIN once the lock is over starts the escalation again.
    let store = Store::open(&path, Access::ReadWrite).unwrap();
    let id = staff_id_in(&store, "Mehmet");
    signed_in(&store, &clock, "Mehmet", "3333");
    assert_eq!(
        five_wrong(&store, &clock, id),
        SignInError::Locked { minutes: 5 }
    );
}

#[test]
fn an_admin_lifts_a_lock_journaled_and_the_escalation_restarts() {
    let mut store = comptoir::cli::builtin_demo_store().unwrap();
    let clock = Clock::manual(start());
    let amina = staff_id_in(&store, "Amina");
    let admin_id = staff_id_in(&store, "Admin");
    assert_eq!(
        five_wrong(&store, &clock, amina),
        SignInError::Locked { minutes: 5 }
    );
    clock.advance(Duration::minutes(5));
    assert_eq!(
        five_wrong(&store, &clock, amina),
        SignInError::Locked { minutes: 15 }
    );
    // A seller cannot lift it; nothing is recorded.
    let yusuf = signed_in(&store, &clock, "Yusuf", "2222");
    let before = people::event_kinds(store.conn(), amina).unwrap();
    assert!(matches!(
        staff::lift_lock(&yusuf, &mut store, &clock, amina),
        Err(StaffError::Denied(_))
    ));
    assert_eq!(people::event_kinds(store.conn(), amina).unwrap(), before);
    // An admin lifts it: Amina signs in at once.
    let admin = signed_in(&store, &clock, "Admin", "1234");
    staff::lift_lock(&admin, &mut store, &clock, amina).unwrap();
    let (actor, screen_name): (i64, String) = store
        .conn()
        .query_row(
            "SELECT actor_id, screen FROM staff_events WHERE staff_id = ?1 AND kind = 'lock_lifted'",
            [amina],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((actor, screen_name.as_str()), (admin_id, "admin.staff"));
    // Nothing left to lift: said so, nothing recorded.
    assert_eq!(
        staff::lift_lock(&admin, &mut store, &clock, amina),
        Err(StaffError::NotLocked)
    );
    // The next lock is the first one again.
    assert_eq!(
        five_wrong(&store, &clock, amina),
        SignInError::Locked { minutes: 5 }
    );
    signed_in_after(&store, &clock, amina, 5);
}

/// Once `minutes` have passed, `id` signs in with the demo PIN of Amina.
fn signed_in_after(store: &Store, clock: &Clock, id: i64, minutes: i64) {
    clock.advance(Duration::minutes(minutes));
    let mut s = Session::default();
    s.choose(store, clock, id).unwrap();
    "1111".chars().for_each(|c| s.digit(c));
    s.submit(store, clock, None, "login").unwrap();
}

#[test]
fn the_admin_unlocks_from_the_staff_screen() {
    let ui = crate::common::demo_ui("fr", crate::common::Register::Closed);
    let amina = crate::common::staff_id(&ui, "Amina");
    {
        let k = ui.kiosk.borrow();
        five_wrong(&k.store, &k.clock, amina);
    }
    tap(&ui, "area-admin");
    sign_in(&ui, "Admin", "1234");
    assert_eq!(screen(&ui), Screen::AdminStaff);
    assert!(by_id(&ui, &format!("staff-edit-{amina}")).is_none());
    tap(&ui, &format!("staff-unlock-{amina}"));
    assert_eq!(
        label(&ui, "admin-message"),
        "Blocage levé : cette personne peut se connecter."
    );
    assert!(by_id(&ui, &format!("staff-unlock-{amina}")).is_none());
    assert!(by_id(&ui, &format!("staff-edit-{amina}")).is_some());
    let k = ui.kiosk.borrow();
    assert_eq!(
        people::event_kinds(k.store.conn(), amina)
            .unwrap()
            .last()
            .unwrap(),
        "lock_lifted"
    );
}

/// The demo kiosk in French held at the composter (the resident lockdown), on the sign-in its
/// screens ask for, with Mehmet chosen.
fn at_the_composter(path: &std::path::Path, clock: &Clock) -> Ui {
    crate::common::init_testing_backend();
    let store = Store::open(path, Access::ReadWrite).unwrap();
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, clock.clone());
    kiosk.language = "fr".into();
    let ui = Ui::new(kiosk).unwrap();
    tap(&ui, "area-compost");
    assert_eq!(screen(&ui), Screen::CompostIdle);
    tap(&ui, "nav-home");
    assert_eq!(screen(&ui), Screen::Login);
    ui
}

#[test]
fn wrong_pins_from_the_composter_lock_nobody_and_pause_that_sign_in() {
    let (_dir, path, store) = seeded_db(2);
    drop(store);
    let clock = Clock::manual(start());
    let ui = at_the_composter(&path, &clock);
    let mehmet = crate::common::staff_id(&ui, "Mehmet");
    tap(&ui, &format!("staff-{mehmet}"));
    // Ten wrong PINs in a row: each said, none locks Mehmet.
    for _ in 0..10 {
        crate::common::type_pin(&ui, "0000");
        assert_eq!(label(&ui, "login-message"), "Code faux.");
        clock.advance(Duration::seconds(20));
    }
    // The eleventh within ten minutes pauses sign-in from the composter for ten minutes, and
    // the PIN pad says until when (10:13 in Paris).
    crate::common::type_pin(&ui, "0000");
    let paused = "Trop de codes faux : la connexion depuis le composteur reprend à 10:13.";
    assert_eq!(label(&ui, "login-message"), paused);
    // Even the right PIN waits, and nothing is recorded while paused.
    let events = crate::common::count(&ui, "SELECT count(*) FROM staff_events");
    crate::common::type_pin(&ui, "3333");
    assert_eq!(label(&ui, "login-message"), paused);
    assert_eq!(screen(&ui), Screen::Login);
    assert_eq!(
        crate::common::count(&ui, "SELECT count(*) FROM staff_events"),
        events
    );
    {
        let k = ui.kiosk.borrow();
        let kinds = people::event_kinds(k.store.conn(), mehmet).unwrap();
        assert_eq!(
            kinds.iter().filter(|k| *k == "pin_failed_resident").count(),
            11
        );
        assert!(!kinds.iter().any(|k| k == "pin_failed" || k == "locked"));
        // The staff-side sign-in is unaffected: Mehmet is not locked there.
        let mut s = Session::default();
        s.choose(&k.store, &k.clock, mehmet).unwrap();
        "3333".chars().for_each(|c| s.digit(c));
        s.submit(&k.store, &k.clock, None, "login").unwrap();
    }
    drop(ui);
    // A restart does not lift the pause: the sign-in screen says it at once.
    let ui = at_the_composter(&path, &clock);
    assert_eq!(label(&ui, "login-message"), paused);
    // Ten minutes after the eleventh, sign-in from the composter is back.
    clock.advance(Duration::minutes(10));
    drop(ui);
    let ui = at_the_composter(&path, &clock);
    assert!(by_id(&ui, "login-message").is_none());
    sign_in(&ui, "Mehmet", "3333");
    assert_eq!(screen(&ui), Screen::Home);
}

#[test]
fn an_admin_sees_the_wrong_pins_at_the_next_sign_in_and_dismisses_them() {
    let (_dir, path, store) = seeded_db(2);
    drop(store);
    let clock = Clock::manual(start());
    // The admin signs in once (their previous sign-in), then PINs go wrong: three from the
    // composter for Sophie, two at the staff sign-in for Yusuf.
    {
        let store = Store::open(&path, Access::ReadWrite).unwrap();
        signed_in(&store, &clock, "Admin", "1234");
        clock.advance(Duration::minutes(5));
    }
    let ui = at_the_composter(&path, &clock);
    let sophie = crate::common::staff_id(&ui, "Sophie");
    tap(&ui, &format!("staff-{sophie}"));
    for _ in 0..3 {
        crate::common::type_pin(&ui, "0000");
    }
    {
        let k = ui.kiosk.borrow();
        let yusuf = staff_id_in(&k.store, "Yusuf");
        let mut s = Session::default();
        for _ in 0..2 {
            s.choose(&k.store, &k.clock, yusuf).unwrap();
            "0000".chars().for_each(|c| s.digit(c));
            let _ = s.submit(&k.store, &k.clock, None, "login");
        }
    }
    clock.advance(Duration::minutes(1));
    tap(&ui, "login-cancel");
    assert!(by_id(&ui, "pin-alert-title").is_none());
    sign_in(&ui, "Admin", "1234");
    assert_eq!(screen(&ui), Screen::Home);
    assert_eq!(
        label(&ui, "pin-alert-title"),
        "Codes faux depuis votre dernière connexion"
    );
    let lines = [label(&ui, "pin-alert-0"), label(&ui, "pin-alert-1")];
    assert!(
        lines.contains(&"Yusuf · 2 codes faux · connexion du personnel · 13/06 10:05".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(
            &"Sophie · 3 codes faux · connexion depuis le composteur · 13/06 10:05".to_string()
        ),
        "{lines:?}"
    );
    assert!(by_id(&ui, "pin-alert-2").is_none());
    tap(&ui, "pin-alert-dismiss");
    assert!(by_id(&ui, "pin-alert-title").is_none());
    // A seller signing in sees nothing of it.
    let mut k = ui.kiosk.borrow_mut();
    let Kiosk {
        session,
        store,
        clock,
        ..
    } = &mut *k;
    session.sign_out(store, clock, false, "test");
    drop(k);
    ui.refresh();
    assert!(by_id(&ui, "pin-alert-title").is_none());
}
