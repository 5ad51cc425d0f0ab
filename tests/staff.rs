//! Staff, PINs and roles at the controller level: argon2, lockouts that survive a restart, and
//! every forbidden action refused with nothing changed.

use chrono::{Duration, TimeZone, Utc};
use comptoir::app::session::{Denied, Session, SignInError};
use comptoir::app::staff::{self, StaffError};
use comptoir::app::{Action, Clock, Kiosk, Navigation, RunMode, Screen};
use comptoir::config::Config;
use comptoir::store::people::{self, Role};
use comptoir::store::{Access, Store};

use crate::common::{seeded_db, signed_in, staff_id_in};

fn clock_start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 13, 8, 0, 0).unwrap()
}

fn clock() -> Clock {
    Clock::manual(clock_start())
}

#[test]
fn pins_are_argon2_hashes_that_verify_only_the_right_pin() {
    let hash = people::hash_pin("4821");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("4821"));
    assert!(people::verify_pin("4821", &hash));
    assert!(!people::verify_pin("4822", &hash));
    assert!(!people::verify_pin("4821", "not a hash"));
    assert_ne!(people::hash_pin("4821"), hash, "a fresh salt each time");
}

#[test]
fn five_wrong_pins_lock_for_five_minutes_even_across_a_restart() {
    let (_dir, path, _) = seeded_db(5);
    let clock = clock();
    {
        let store = Store::open(&path, Access::ReadWrite).unwrap();
        let id = staff_id_in(&store, "Mehmet");
        let mut s = Session::default();
        for attempt in 1..=5 {
            s.choose(&store, &clock, id).unwrap();
            "0000".chars().for_each(|c| s.digit(c));
            let result = s.submit(&store, &clock, None, "test");
            if attempt < 5 {
                assert_eq!(
                    result,
                    Err(SignInError::WrongPin {
                        attempts_left: 5 - attempt
                    })
                );
            } else {
                assert_eq!(result, Err(SignInError::Locked { minutes: 5 }));
            }
        }
    }
    // The kiosk restarts: a new connection, a new session.
    let store = Store::open(&path, Access::ReadWrite).unwrap();
    let id = staff_id_in(&store, "Mehmet");
    let mut s = Session::default();
    clock.advance(Duration::minutes(2));
    assert_eq!(
        s.choose(&store, &clock, id).err(),
        Some(SignInError::Locked { minutes: 3 })
    );
    clock.advance(Duration::minutes(3));
    s.choose(&store, &clock, id).unwrap();
    "3333".chars().for_each(|c| s.digit(c));
    assert_eq!(
        s.submit(&store, &clock, None, "test").unwrap().name,
        "Mehmet"
    );
    let kinds = people::event_kinds(store.conn(), id).unwrap();
    assert_eq!(
        kinds,
        [
            "pin_failed",
            "pin_failed",
            "pin_failed",
            "pin_failed",
            "pin_failed",
            "locked",
            "signed_in"
        ]
    );
}

#[test]
fn a_success_resets_the_count_of_wrong_pins() {
    let (_dir, path, _) = seeded_db(5);
    let store = Store::open(&path, Access::ReadWrite).unwrap();
    let clock = clock();
    let id = staff_id_in(&store, "Sophie");
    let mut s = Session::default();
    for _ in 0..4 {
        s.choose(&store, &clock, id).unwrap();
        "0000".chars().for_each(|c| s.digit(c));
        assert!(matches!(
            s.submit(&store, &clock, None, "t"),
            Err(SignInError::WrongPin { .. })
        ));
    }
    s.choose(&store, &clock, id).unwrap();
    "4444".chars().for_each(|c| s.digit(c));
    s.submit(&store, &clock, None, "t").unwrap();
    s.choose(&store, &clock, id).unwrap();
    "0000".chars().for_each(|c| s.digit(c));
    assert_eq!(
        s.submit(&store, &clock, None, "t"),
        Err(SignInError::WrongPin { attempts_left: 4 })
    );
}

#[test]
fn pins_of_the_wrong_length_are_refused_without_counting() {
    let store = comptoir::cli::builtin_demo_store().unwrap();
    let clock = clock();
    let id = staff_id_in(&store, "Amina");
    let mut s = Session::default();
    for pin in ["", "111", "1111111"] {
        s.choose(&store, &clock, id).unwrap();
        pin.chars().for_each(|c| s.digit(c));
        if pin.len() > 6 {
            // The keypad stops at six digits: the seventh is ignored and the PIN is right.
            assert!(s.submit(&store, &clock, None, "t").is_err());
            continue;
        }
        assert_eq!(
            s.submit(&store, &clock, None, "t"),
            Err(SignInError::BadLength)
        );
    }
    assert_eq!(
        people::failures_since_reset(store.conn(), id).unwrap(),
        1,
        "only the 6-digit guess counts"
    );
}

#[test]
fn a_retired_person_cannot_sign_in_and_keeps_their_history() {
    let mut store = comptoir::cli::builtin_demo_store().unwrap();
    let clock = clock();
    let admin = signed_in(&store, &clock, "Admin", "1234");
    let yusuf = staff_id_in(&store, "Yusuf");
    let _ = signed_in(&store, &clock, "Yusuf", "2222");
    staff::retire(&admin, &mut store, &clock, yusuf).unwrap();
    let mut s = Session::default();
    assert_eq!(
        s.choose(&store, &clock, yusuf).err(),
        Some(SignInError::Retired)
    );
    assert_eq!(
        people::event_kinds(store.conn(), yusuf).unwrap(),
        ["signed_in", "retired"]
    );
    assert!(
        people::staff_by_id(store.conn(), yusuf).unwrap().is_some(),
        "never deleted"
    );
    staff::reactivate(&admin, &mut store, &clock, yusuf).unwrap();
    s.choose(&store, &clock, yusuf).unwrap();
}

#[test]
fn two_active_people_cannot_share_a_name() {
    let mut store = comptoir::cli::builtin_demo_store().unwrap();
    let clock = clock();
    let admin = signed_in(&store, &clock, "Admin", "1234");
    assert_eq!(
        staff::add(&admin, &mut store, &clock, "  amina ", Role::Seller, "5678"),
        Err(StaffError::NameTaken)
    );
    assert_eq!(
        staff::add(&admin, &mut store, &clock, "   ", Role::Seller, "5678"),
        Err(StaffError::NameEmpty)
    );
    assert_eq!(
        staff::add(&admin, &mut store, &clock, "Amina B.", Role::Seller, "56a8"),
        Err(StaffError::BadPin)
    );
    assert_eq!(
        staff::add(&admin, &mut store, &clock, "Amina B.", Role::Seller, "567"),
        Err(StaffError::BadPin)
    );
    let id = staff::add(
        &admin,
        &mut store,
        &clock,
        "Amina  B.",
        Role::Seller,
        "5678",
    )
    .unwrap();
    assert_eq!(
        people::staff_by_id(store.conn(), id)
            .unwrap()
            .unwrap()
            .0
            .name,
        "Amina B."
    );
}

#[test]
fn the_last_admin_stays() {
    let mut store = comptoir::cli::builtin_demo_store().unwrap();
    let clock = clock();
    let admin = signed_in(&store, &clock, "Admin", "1234");
    let id = staff_id_in(&store, "Admin");
    assert_eq!(
        staff::retire(&admin, &mut store, &clock, id),
        Err(StaffError::LastAdmin)
    );
    assert_eq!(
        staff::edit(&admin, &mut store, &clock, id, "Admin", Role::Seller),
        Err(StaffError::LastAdmin)
    );
    let nadia = staff_id_in(&store, "Nadia");
    staff::edit(&admin, &mut store, &clock, nadia, "Nadia", Role::Admin).unwrap();
    staff::retire(&admin, &mut store, &clock, id).unwrap();
    assert_eq!(
        people::event_kinds(store.conn(), nadia).unwrap(),
        ["role_changed"]
    );
}

#[test]
fn a_pin_reset_lifts_a_lock() {
    let mut store = comptoir::cli::builtin_demo_store().unwrap();
    let clock = clock();
    let id = staff_id_in(&store, "Amina");
    let mut s = Session::default();
    for _ in 0..5 {
        s.choose(&store, &clock, id).unwrap();
        "0000".chars().for_each(|c| s.digit(c));
        let _ = s.submit(&store, &clock, None, "t");
    }
    assert!(matches!(
        s.choose(&store, &clock, id),
        Err(SignInError::Locked { .. })
    ));
    let admin = signed_in(&store, &clock, "Admin", "1234");
    staff::reset_pin(&admin, &mut store, &clock, id, "9090").unwrap();
    let again = signed_in(&store, &clock, "Amina", "9090");
    assert_eq!(again.current().unwrap().name, "Amina");
}

/// Every staff-management action, for the role matrix.
fn staff_actions(
    session: &Session,
    store: &mut Store,
    clock: &Clock,
    target: i64,
) -> Vec<Result<(), StaffError>> {
    vec![
        staff::add(session, store, clock, "Intruder", Role::Admin, "1212").map(|_| ()),
        staff::edit(session, store, clock, target, "Renamed", Role::Admin),
        staff::retire(session, store, clock, target),
        staff::reactivate(session, store, clock, target),
        staff::reset_pin(session, store, clock, target, "1212"),
    ]
}

#[test]
fn sellers_and_garden_leads_cannot_manage_staff_and_nothing_changes() {
    let mut store = comptoir::cli::builtin_demo_store().unwrap();
    let clock = clock();
    let target = staff_id_in(&store, "Yusuf");
    let before = people::all_staff(store.conn()).unwrap();
    for (name, pin, role) in [
        ("Amina", "1111", Role::Seller),
        ("Nadia", "2468", Role::GardenLead),
    ] {
        let s = signed_in(&store, &clock, name, pin);
        for result in staff_actions(&s, &mut store, &clock, target) {
            assert_eq!(
                result,
                Err(StaffError::Denied(Denied::Role {
                    role,
                    action: Action::ManageStaff
                }))
            );
        }
    }
    let nobody = Session::default();
    for result in staff_actions(&nobody, &mut store, &clock, target) {
        assert_eq!(result, Err(StaffError::Denied(Denied::NotSignedIn)));
    }
    assert_eq!(people::all_staff(store.conn()).unwrap(), before);
    assert!(people::event_kinds(store.conn(), target)
        .unwrap()
        .is_empty());
}

#[test]
fn each_role_reaches_exactly_its_screens() {
    let store = comptoir::cli::builtin_demo_store().unwrap();
    // The register is open, so the selling screens show as such.
    let admin = people::all_staff(store.conn()).unwrap()[0].id;
    comptoir::store::cash::open_session(store.conn(), admin, 0, clock_start()).unwrap();
    let clock = clock();
    use Screen::*;
    let selling = vec![
        SellCatalog,
        SellWeigh,
        SellCart,
        SellPay,
        SellReceipt,
        SellTickets,
        SellSessionOpen,
        SellSessionClose,
        AdminResidents,
    ];
    let garden = [
        selling.clone(),
        vec![
            GardenHome,
            GardenHarvest,
            GardenStock,
            GardenReports,
            GardenSales,
            CompostBins,
            CompostImpact,
        ],
    ]
    .concat();
    let admin = [
        garden.clone(),
        vec![AdminStaff, AdminProducts, AdminDevices, AdminClock],
    ]
    .concat();
    let cases = [
        ("Amina", "1111", selling),
        ("Nadia", "2468", garden),
        ("Admin", "1234", admin),
    ];
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, clock.clone());
    for (name, pin, allowed) in cases {
        kiosk.session = signed_in(&kiosk.store, &clock, name, pin);
        for &screen in Screen::ALL.iter().filter(|s| s.is_staff()) {
            let nav = kiosk.navigate(screen);
            if allowed.contains(&screen) {
                assert_eq!(nav, Navigation::Shown(screen), "{name} opens {screen:?}");
            } else {
                assert_eq!(
                    nav,
                    Navigation::SignInFirst(screen),
                    "{name} is sent to sign in for {screen:?}"
                );
            }
        }
        // The composter's screens come last: opening them locks the kiosk in the resident
        // flow until a staff PIN (tests/languages.rs tries to escape it).
        let (resident, others): (Vec<Screen>, Vec<Screen>) = Screen::ALL
            .iter()
            .copied()
            .filter(|s| !s.is_staff())
            .partition(|s| s.name().starts_with("compost."));
        for screen in others.into_iter().chain(resident) {
            assert_eq!(kiosk.navigate(screen), Navigation::Shown(screen));
        }
    }
}

#[test]
fn signing_in_for_a_screen_beyond_ones_role_is_refused_and_recorded() {
    let store = comptoir::cli::builtin_demo_store().unwrap();
    let clock = clock();
    let id = staff_id_in(&store, "Amina");
    let mut s = Session::default();
    s.choose(&store, &clock, id).unwrap();
    "1111".chars().for_each(|c| s.digit(c));
    assert_eq!(
        s.submit(&store, &clock, Some(Action::ManageStaff), "admin.staff"),
        Err(SignInError::NotAllowed)
    );
    assert!(s.current().is_none());
    assert_eq!(people::event_kinds(store.conn(), id).unwrap(), ["denied"]);
}
