//! UI flows through the Slint testing backend: elements found by accessible id, clicked as a
//! finger would, and the screen read back.

use comptoir::app::{Clock, Kiosk, RunMode};
use comptoir::config::Config;
use comptoir::store::people;
use comptoir::ui::{AppState, Screen, Ui};
use i_slint_backend_testing::ElementQuery;
use slint::ComponentHandle;

use crate::common::{
    by_id, demo_time, demo_ui, label, screen, sign_in, staff_id, tap, type_digits, type_pin,
    Register,
};

/// The product tiles on screen, by accessible id (the testing backend may report a repeated
/// element more than once, hence a set).
fn products_shown(ui: &Ui) -> std::collections::BTreeSet<String> {
    ElementQuery::from_root(&ui.window)
        .match_descendants()
        .find_all()
        .into_iter()
        .filter_map(|e| e.accessible_id().map(|s| s.to_string()))
        .filter(|id| id.starts_with("product-"))
        .collect()
}

#[test]
fn home_leads_to_each_area_and_back() {
    let ui = demo_ui("fr", Register::Open);
    assert_eq!(screen(&ui), Screen::Home);
    assert_eq!(label(&ui, "demo-badge"), "DÉMO");

    // Selling needs a seller.
    tap(&ui, "area-sell");
    assert_eq!(screen(&ui), Screen::Login);
    sign_in(&ui, "Amina", "1111");
    assert_eq!(screen(&ui), Screen::SellCatalog);
    assert_eq!(label(&ui, "product-1"), "Tomates");
    assert!(
        products_shown(&ui).len() >= 12,
        "a screenful of products: {:?}",
        products_shown(&ui)
    );
    tap(&ui, "category-egg");
    assert_eq!(
        products_shown(&ui).len(),
        1,
        "only the eggs: {:?}",
        products_shown(&ui)
    );
    assert!(
        by_id(&ui, "product-1").is_none(),
        "the egg category hides the tomatoes"
    );
    tap(&ui, "nav-home");
    assert_eq!(screen(&ui), Screen::Home);

    // The garden needs a garden lead: the seller still signed in is not enough.
    tap(&ui, "area-garden");
    assert_eq!(screen(&ui), Screen::Login);
    sign_in(&ui, "Nadia", "2468");
    assert_eq!(screen(&ui), Screen::GardenHome);
    tap(&ui, "nav-home");

    tap(&ui, "area-admin");
    assert_eq!(screen(&ui), Screen::Login);
    sign_in(&ui, "Admin", "1234");
    assert_eq!(screen(&ui), Screen::AdminStaff);
    tap(&ui, "sign-out");
    assert_eq!(screen(&ui), Screen::Home);
    assert_eq!(ui.window.global::<AppState>().get_staff_name(), "");

    // Compost is the residents' screen: no sign-in. Leaving it takes a member of staff (the
    // resident lockdown, tests/languages.rs).
    tap(&ui, "area-compost");
    assert_eq!(screen(&ui), Screen::CompostIdle);
    assert_eq!(label(&ui, "compost-scan-title"), "Scannez votre carte");
    tap(&ui, "nav-home");
    assert_eq!(screen(&ui), Screen::Login);
    sign_in(&ui, "Amina", "1111");
    assert_eq!(screen(&ui), Screen::Home);
}

#[test]
fn the_language_switch_translates_the_screen() {
    let ui = demo_ui("fr", Register::Open);
    assert_eq!(label(&ui, "area-sell"), "Vendre");
    assert_eq!(label(&ui, "lang-fr"), "Français");
    tap(&ui, "lang-en");
    assert_eq!(label(&ui, "area-sell"), "Sell");
    assert_eq!(label(&ui, "demo-badge"), "DEMO");
    assert_eq!(ui.window.global::<AppState>().get_language(), "en");
    tap(&ui, "lang-fr");
    assert_eq!(label(&ui, "area-garden"), "Jardin");
}

#[test]
fn a_seller_cannot_open_the_admin_screens() {
    let ui = demo_ui("en", Register::Open);
    tap(&ui, "area-admin");
    sign_in(&ui, "Amina", "1111");
    assert_eq!(screen(&ui), Screen::Login);
    assert_eq!(
        label(&ui, "login-message"),
        "Your role does not open this area."
    );
    assert_eq!(
        ui.window.global::<AppState>().get_staff_name(),
        "",
        "nobody was signed in"
    );
}

#[test]
fn wrong_pins_count_down_then_lock() {
    let ui = demo_ui("en", Register::Open);
    tap(&ui, "area-sell");
    tap(&ui, &format!("staff-{}", staff_id(&ui, "Yusuf")));
    // Too short: OK does nothing, nothing is counted.
    type_pin(&ui, "12");
    assert!(by_id(&ui, "login-message").is_none());
    tap(&ui, "key-erase");
    tap(&ui, "key-erase");
    for left in (1..=4).rev() {
        type_pin(&ui, "9999");
        assert_eq!(
            label(&ui, "login-message"),
            format!("Wrong PIN. {left} tries left.")
        );
    }
    type_pin(&ui, "9999");
    assert_eq!(
        label(&ui, "login-message"),
        "Too many wrong PINs: locked for 5 min."
    );
    // Even the right PIN is refused while locked.
    tap(&ui, &format!("staff-{}", staff_id(&ui, "Yusuf")));
    assert_eq!(
        label(&ui, "login-message"),
        "Too many wrong PINs: locked for 5 min."
    );
    assert!(
        by_id(&ui, "key-ok").is_none(),
        "no keypad for a locked person"
    );
    // Five minutes later the right PIN works.
    ui.kiosk
        .borrow()
        .clock
        .advance(chrono::Duration::minutes(5));
    tap(&ui, &format!("staff-{}", staff_id(&ui, "Yusuf")));
    type_pin(&ui, "2222");
    assert_eq!(screen(&ui), Screen::SellCatalog);
}

#[test]
fn staff_screens_lock_after_five_minutes_without_a_touch() {
    let ui = demo_ui("en", Register::Open);
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    assert_eq!(screen(&ui), Screen::SellCatalog);
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(4 * 60));
    tap(&ui, "category-vegetable");
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(4 * 60));
    assert_eq!(
        screen(&ui),
        Screen::SellCatalog,
        "a touch restarts the five minutes"
    );
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_millis(61_010));
    assert_eq!(screen(&ui), Screen::Login);
    assert_eq!(ui.window.global::<AppState>().get_staff_name(), "");
    let id = staff_id(&ui, "Amina");
    let kinds = people::event_kinds(ui.kiosk.borrow().store.conn(), id).unwrap();
    assert_eq!(kinds, ["signed_in", "timed_out"]);
    // Signing in again returns to the screen that locked.
    sign_in(&ui, "Amina", "1111");
    assert_eq!(screen(&ui), Screen::SellCatalog);
}

#[test]
fn an_admin_adds_a_person_with_the_on_screen_keyboard_and_keypad() {
    let ui = demo_ui("en", Register::Open);
    tap(&ui, "area-admin");
    sign_in(&ui, "Admin", "1234");
    tap(&ui, "staff-add");
    for key in ["kb-shift", "kb-z", "kb-e", "kb-y", "kb-n", "kb-e", "kb-p"] {
        tap(&ui, key);
    }
    assert_eq!(
        by_id(&ui, "field-name")
            .unwrap()
            .accessible_value()
            .unwrap(),
        "Zeynep"
    );
    tap(&ui, "role-seller");
    tap(&ui, "kb-done");
    // Two different PINs are refused.
    type_digits(&ui, "2580");
    tap(&ui, "field-pin-again");
    type_digits(&ui, "2581");
    tap(&ui, "editor-save");
    assert_eq!(
        label(&ui, "editor-message"),
        "The two PINs differ: type it again."
    );
    type_digits(&ui, "2580");
    tap(&ui, "field-pin-again");
    type_digits(&ui, "2580");
    tap(&ui, "editor-save");
    assert_eq!(label(&ui, "admin-message"), "Saved.");
    let id = staff_id(&ui, "Zeynep");
    let rows = ui
        .window
        .global::<comptoir::ui::AdminStaffAdapter>()
        .get_rows();
    use slint::Model;
    assert!(
        rows.iter()
            .any(|r| r.id as i64 == id && r.name == "Zeynep" && r.active),
        "the list shows the new person"
    );
    // The new person signs in with their PIN.
    tap(&ui, "sign-out");
    tap(&ui, "area-sell");
    sign_in(&ui, "Zeynep", "2580");
    assert_eq!(screen(&ui), Screen::SellCatalog);
}

#[test]
fn a_new_database_starts_by_creating_the_administrator() {
    i_slint_backend_testing::init_no_event_loop();
    let store = comptoir::store::Store::open_in_memory().unwrap();
    let clock = Clock::manual(demo_time());
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Live, clock);
    kiosk.language = "en".into();
    let ui = Ui::new(kiosk).unwrap();
    assert_eq!(screen(&ui), Screen::FirstStart);
    assert!(
        by_id(&ui, "demo-badge").is_none(),
        "no DEMO badge on a real kiosk"
    );
    // No name: refused.
    tap(&ui, "first-save");
    assert_eq!(label(&ui, "first-message"), "Type a name.");
    for key in ["kb-shift", "kb-c", "kb-l", "kb-a", "kb-i", "kb-r", "kb-e"] {
        tap(&ui, key);
    }
    tap(&ui, "kb-done");
    type_pin(&ui, "97531");
    type_pin(&ui, "97531");
    assert_eq!(screen(&ui), Screen::AdminStaff);
    assert_eq!(ui.window.global::<AppState>().get_staff_name(), "Claire");
    let k = ui.kiosk.borrow();
    let staff = people::all_staff(k.store.conn()).unwrap();
    assert_eq!(staff.len(), 1);
    assert_eq!(staff[0].role, people::Role::Admin);
}

#[test]
fn a_keyboard_wedge_scanner_types_cards_that_are_checked() {
    let ui = demo_ui("en", Register::Open);
    tap(&ui, "area-admin");
    sign_in(&ui, "Admin", "1234");
    tap(&ui, "tab-devices");
    let card = comptoir::app::printing::some_card_payload(&ui.kiosk.borrow()).unwrap();
    let type_line = |text: &str| {
        for c in text.chars().chain(std::iter::once('\n')) {
            let s: slint::SharedString = c.to_string().into();
            ui.window
                .window()
                .dispatch_event(slint::platform::WindowEvent::KeyPressed { text: s.clone() });
            ui.window
                .window()
                .dispatch_event(slint::platform::WindowEvent::KeyReleased { text: s });
        }
    };
    type_line(&card);
    assert!(
        label(&ui, "last-scan").starts_with("Card of resident no. "),
        "{}",
        label(&ui, "last-scan")
    );
    // One letter wrong: the check code refuses it before any look-up.
    let mut garbled: Vec<char> = card.chars().collect();
    let i = garbled.len() - 6;
    garbled[i] = if garbled[i] == 'B' { 'C' } else { 'B' };
    type_line(&garbled.into_iter().collect::<String>());
    assert_eq!(label(&ui, "last-scan"), "Misread: show the card again");
    type_line(&"X".repeat(500));
    assert_eq!(label(&ui, "last-scan"), "Too long: not one of our cards");
}
