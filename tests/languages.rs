//! Four languages and the resident lockdown, through the UI (Slint testing backend): the
//! language bar translates the screen and mirrors it in Arabic; a resident at the composter
//! cannot reach a staff screen, nor leave the compost flow, without a staff PIN; resident
//! screens come back to the kiosk's language after 60 s without a touch.

use std::time::Duration;

use comptoir::app::lockdown;
use comptoir::ui::{AppState, Screen, Ui};
use i_slint_backend_testing::ElementQuery;
use slint::platform::{Key, PointerEventButton, WindowEvent};
use slint::{ComponentHandle, LogicalPosition};

use crate::common::{by_id, demo_ui, label, resident_card, screen, sign_in, tap, Register};

/// The demo kiosk (built-in demo data, register open) in `lang`, on the home screen, at the
/// kiosk's 800x480.
fn start(lang: &str) -> Ui {
    let ui = demo_ui(lang, Register::Open);
    ui.window
        .window()
        .set_size(slint::PhysicalSize::new(800, 480));
    ui
}

fn language(ui: &Ui) -> String {
    ui.window.global::<AppState>().get_language().to_string()
}

/// Staff screens: those that need a role.
fn is_staff(s: Screen) -> bool {
    let app = comptoir::app::Screen::ALL
        .iter()
        .copied()
        .find(|a| format!("{a:?}") == format!("{s:?}"))
        .expect("the same screens on both sides");
    app.is_staff()
}

/// Every element with an accessible id on screen.
fn ids_on_screen(ui: &Ui) -> std::collections::BTreeSet<String> {
    ElementQuery::from_root(&ui.window)
        .match_descendants()
        .find_all()
        .into_iter()
        .filter_map(|e| e.accessible_id().map(|s| s.to_string()))
        .collect()
}

#[test]
fn the_language_bar_translates_the_labels_in_four_languages() {
    let ui = start("fr");
    // Each language by its own name, whatever the current one.
    for (code, name) in comptoir::ui::LANGUAGES {
        assert_eq!(label(&ui, &format!("lang-{code}")), *name);
    }
    let expect = [
        ("fr", "Vendre", "Jardin", "DÉMO"),
        ("en", "Sell", "Garden", "DEMO"),
        ("tr", "Satış", "Bahçe", "DEMO"),
        ("ar", "البيع", "الحديقة", "تجريبي"),
        ("fr", "Vendre", "Jardin", "DÉMO"),
    ];
    for (code, sell, garden, demo) in expect {
        tap(&ui, &format!("lang-{code}"));
        assert_eq!(language(&ui), code);
        assert_eq!(label(&ui, "area-sell"), sell, "{code}");
        assert_eq!(label(&ui, "area-garden"), garden, "{code}");
        assert_eq!(label(&ui, "demo-badge"), demo, "{code}");
        assert_eq!(label(&ui, "lang-tr"), "Türkçe", "{code}");
        assert_eq!(ui.window.global::<AppState>().get_rtl(), code == "ar");
    }

    // A staff screen follows the language too (the sign-in's header).
    tap(&ui, "lang-tr");
    tap(&ui, "area-sell");
    assert_eq!(screen(&ui), Screen::Login);
    assert_eq!(
        by_id(&ui, "nav-home").unwrap().accessible_label().unwrap(),
        "Ana sayfa"
    );
    sign_in(&ui, "Amina", "1111");
    assert_eq!(screen(&ui), Screen::SellCatalog);
    assert_eq!(label(&ui, "category-all"), "Tümü");
}

#[test]
fn arabic_mirrors_the_home_screen() {
    let ui = start("ar");
    assert!(ui.window.global::<AppState>().get_rtl());
    let x = |id: &str| by_id(&ui, id).unwrap().absolute_position().x;
    // Reading from the right: sell, compost, garden; the language bar starts at the right.
    assert!(x("area-sell") > x("area-compost"));
    assert!(x("area-compost") > x("area-garden"));
    assert!(x("lang-fr") > x("lang-ar"));
    assert!(x("area-admin") < x("lang-ar"));
    // Still the right places behind the mirrored tiles.
    tap(&ui, "area-garden");
    assert_eq!(screen(&ui), Screen::Login);
    assert_eq!(
        ui.kiosk.borrow().login_target,
        comptoir::app::Screen::GardenHome
    );

    // Back to French: left to right again.
    tap(&ui, "nav-home");
    tap(&ui, "lang-fr");
    assert!(!ui.window.global::<AppState>().get_rtl());
    assert!(x("area-sell") < x("area-compost"));
    assert!(x("area-compost") < x("area-garden"));
    assert!(x("lang-fr") < x("lang-ar"));
}

#[test]
fn a_resident_at_the_composter_reaches_no_staff_screen_without_a_pin() {
    let ui = start("fr");
    tap(&ui, "area-compost");
    assert_eq!(screen(&ui), Screen::CompostIdle);
    assert!(ui.kiosk.borrow().lockdown.is_locked());

    // Every button on the composter's screen, one by one: the compost flow, the languages, or
    // the staff sign-in, nothing else.
    let buttons: Vec<String> = ids_on_screen(&ui)
        .into_iter()
        .filter(|id| id.starts_with("nav-") || id.starts_with("lang-"))
        .collect();
    assert!(buttons.contains(&"nav-home".to_string()), "{buttons:?}");
    for id in &buttons {
        ui.kiosk.borrow_mut().screen = comptoir::app::Screen::CompostIdle;
        ui.refresh();
        tap(&ui, id);
        let now = screen(&ui);
        assert!(
            matches!(now, Screen::CompostIdle | Screen::Login),
            "{id} led to {now:?}"
        );
        assert_eq!(ui.window.global::<AppState>().get_staff_name(), "");
        // Home on the sign-in screen goes back to the composter.
        if now == Screen::Login {
            tap(&ui, "nav-home");
            assert_eq!(screen(&ui), Screen::CompostIdle, "back from the sign-in");
        }
    }
    tap(&ui, "lang-fr");

    // Long presses and taps in the corners and the middle, and keys of a keyboard.
    let window = ui.window.window();
    for (x, y) in [
        (2.0, 2.0),
        (798.0, 2.0),
        (2.0, 478.0),
        (798.0, 478.0),
        (400.0, 240.0),
    ] {
        let position = LogicalPosition::new(x, y);
        for hold in [Duration::from_millis(50), Duration::from_secs(5)] {
            window.dispatch_event(WindowEvent::PointerPressed {
                position,
                button: PointerEventButton::Left,
            });
            i_slint_backend_testing::mock_elapsed_time(hold);
            window.dispatch_event(WindowEvent::PointerReleased {
                position,
                button: PointerEventButton::Left,
            });
            window.dispatch_event(WindowEvent::PointerExited);
            let now = screen(&ui);
            assert!(!is_staff(now), "a press at {x},{y} opened {now:?}");
            assert!(
                matches!(now, Screen::CompostIdle | Screen::Login),
                "{now:?}"
            );
            if now == Screen::Login {
                tap(&ui, "nav-home");
            }
        }
    }
    let keys: Vec<slint::SharedString> = vec![
        Key::Escape.into(),
        Key::Tab.into(),
        Key::F1.into(),
        Key::Return.into(),
        "a".into(),
        "1234".into(),
    ];
    for key in keys {
        window.dispatch_event(WindowEvent::KeyPressed { text: key.clone() });
        window.dispatch_event(WindowEvent::KeyReleased { text: key });
    }
    window.dispatch_event(WindowEvent::KeyPressed {
        text: Key::Return.into(),
    });
    assert_eq!(screen(&ui), Screen::CompostIdle);

    // Leaving the composter: a wrong PIN keeps the resident out; a member of staff's PIN opens
    // the home screen and lifts the lock.
    tap(&ui, "nav-home");
    assert_eq!(screen(&ui), Screen::Login);
    sign_in(&ui, "Amina", "9999");
    assert_eq!(screen(&ui), Screen::Login);
    assert_eq!(ui.window.global::<AppState>().get_staff_name(), "");
    tap(&ui, "login-cancel");
    tap(&ui, "nav-home");
    assert_eq!(screen(&ui), Screen::CompostIdle);
    tap(&ui, "nav-home");
    sign_in(&ui, "Amina", "1111");
    assert_eq!(screen(&ui), Screen::Home);
    assert!(!ui.kiosk.borrow().lockdown.is_locked());
}

#[test]
fn opening_the_composter_signs_the_seller_out_and_parks_the_cart() {
    let ui = start("en");
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    assert_eq!(screen(&ui), Screen::SellCatalog);
    // Two salads in the cart.
    let salad = comptoir::store::catalog::active_products(ui.kiosk.borrow().store.conn())
        .unwrap()
        .into_iter()
        .find(|p| p.short_code == "SAL")
        .unwrap()
        .id;
    tap(&ui, &format!("product-{salad}"));
    tap(&ui, "key-2");
    tap(&ui, "weigh-add");
    assert_eq!(screen(&ui), Screen::SellCatalog);
    let amina = ui.kiosk.borrow().session.current().unwrap().id;
    tap(&ui, "nav-home");
    assert_eq!(screen(&ui), Screen::Home);
    tap(&ui, "area-compost");
    assert_eq!(screen(&ui), Screen::CompostIdle);
    assert!(ui.kiosk.borrow().session.current().is_none());
    assert_eq!(ui.window.global::<AppState>().get_staff_name(), "");
    assert!(ui.kiosk.borrow().sell.parked().contains(&amina));
    // The till is behind a PIN again.
    tap(&ui, "nav-home");
    assert_eq!(screen(&ui), Screen::Login);
}

#[test]
fn resident_screens_come_back_to_the_kiosk_language_after_a_minute() {
    let ui = start("fr");
    tap(&ui, "lang-ar");
    assert_eq!(label(&ui, "area-sell"), "البيع");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(30));
    tap(&ui, "lang-tr");
    // 30 s after the last touch: still Turkish.
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(40));
    assert_eq!(language(&ui), "tr");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(
        lockdown::RESIDENT_IDLE_SECONDS - 40 + 1,
    ));
    assert_eq!(language(&ui), "fr");
    assert_eq!(label(&ui, "area-sell"), "Vendre");
    assert!(!ui.window.global::<AppState>().get_rtl());

    // Somebody left signed in on the home screen is signed out after the minute too.
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    tap(&ui, "nav-home");
    assert_eq!(screen(&ui), Screen::Home);
    assert!(ui.kiosk.borrow().session.current().is_some());
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(
        lockdown::RESIDENT_IDLE_SECONDS + 1,
    ));
    assert!(ui.kiosk.borrow().session.current().is_none());
    tap(&ui, "area-sell");
    assert_eq!(screen(&ui), Screen::Login);
}

#[test]
fn the_on_screen_keyboard_types_turkish_and_french_names() {
    let ui = start("tr");
    tap(&ui, "area-admin");
    sign_in(&ui, "Admin", "1234");
    tap(&ui, "staff-add");
    // One name a line: İlkay, Şükrü, Çağı, Élodie ("accents" switches the letter rows).
    let keys = "accents İ accents l k a y space
        shift accents ş ü accents k r accents ü space
        shift ç accents a accents ğ ı space
        shift é accents l o d i e";
    for key in keys.split_whitespace() {
        tap(&ui, &format!("kb-{key}"));
    }
    assert_eq!(
        by_id(&ui, "field-name")
            .unwrap()
            .accessible_value()
            .unwrap(),
        "İlkay Şükrü Çağı Élodie"
    );
}

#[test]
fn a_residents_card_brings_their_language_until_idle() {
    let ui = start("fr");
    tap(&ui, "area-compost");
    assert_eq!(label(&ui, "compost-scan-title"), "Scannez votre carte");
    let (nickname, payload) = resident_card(&ui, "tr");
    // The card through the keyboard-wedge reader: the greeting, in Turkish.
    ui.window
        .global::<AppState>()
        .invoke_key_typed(format!("{payload}\n").into());
    assert_eq!(screen(&ui), Screen::CompostWeigh);
    assert_eq!(language(&ui), "tr");
    assert_eq!(
        label(&ui, "compost-greeting"),
        format!("Merhaba {nickname}!")
    );
    // The resident chooses what they brought, then walks away: a minute later the composter's
    // idle screen is back, in French.
    tap(&ui, "kind-kitchen");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(
        lockdown::RESIDENT_IDLE_SECONDS + 1,
    ));
    assert_eq!(screen(&ui), Screen::CompostIdle);
    assert_eq!(language(&ui), "fr");
    assert_eq!(label(&ui, "compost-scan-title"), "Scannez votre carte");
}

/// The x of an element's left edge and of its right edge.
fn span(ui: &Ui, id: &str) -> (f32, f32) {
    let e = by_id(ui, id).unwrap_or_else(|| panic!("{id} on screen"));
    let x = e.absolute_position().x;
    (x, x + e.size().width)
}

/// `a` lies wholly before `b` in the reading direction: to its left in French, to its right in
/// Arabic.
fn reads_before(ui: &Ui, a: &str, b: &str) -> bool {
    let (a, b) = (span(ui, a), span(ui, b));
    if ui.window.global::<AppState>().get_rtl() {
        a.0 >= b.1
    } else {
        a.1 <= b.0
    }
}

#[test]
fn arabic_mirrors_the_garden_and_compost_screens() {
    let ui = start("fr");
    tap(&ui, "area-garden");
    sign_in(&ui, "Nadia", "2468");
    tap(&ui, "garden-tab-stock");
    assert_eq!(screen(&ui), Screen::GardenStock);
    let product = ui.kiosk.borrow().store.conn().query_row(
        "SELECT id FROM products WHERE name = 'Tomates'",
        [],
        |r| r.get::<_, i64>(0),
    );
    let product = product.unwrap();
    let name = format!("stock-name-{product}");
    let on_hand = format!("stock-on-hand-{product}");
    let days = format!("stock-days-{product}");
    // The same questions in French and in Arabic; the answers swap sides.
    let stock = |ui: &Ui| {
        assert!(reads_before(ui, "nav-home", "clock"));
        assert!(reads_before(ui, "garden-tab-harvest", "garden-tab-stock"));
        assert!(reads_before(ui, "garden-tab-reports", "garden-tab-sales"));
        assert!(reads_before(ui, "stock-category-all", "stock-sort-days"));
        assert!(reads_before(ui, &name, &on_hand));
        assert!(reads_before(ui, &on_hand, &days));
        assert!(reads_before(ui, "stock-low-count", "stock-value"));
    };
    stock(&ui);
    let (fr_name, _) = span(&ui, &name);
    ui.window
        .global::<AppState>()
        .invoke_set_language("ar".into());
    assert!(ui.window.global::<AppState>().get_rtl());
    stock(&ui);
    // Mirrored, not just reordered: the product's name now ends at the right edge.
    let (_, ar_name_end) = span(&ui, &name);
    assert!(
        fr_name < 100.0 && ar_name_end > 700.0,
        "{fr_name} {ar_name_end}"
    );

    // The product's panel: its choices and a correction's reasons in two columns from the
    // reading start, then the entry before the keypad, whose keys keep their order.
    for lang in ["fr", "ar"] {
        ui.window
            .global::<AppState>()
            .invoke_set_language(lang.into());
        tap(&ui, &format!("stock-row-{product}"));
        let mut checks = vec![(name.as_str(), "stock-chosen-on-hand")];
        checks.extend([
            ("stock-op-loss-spoiled", "stock-op-loss-damaged"),
            ("stock-op-loss-to_compost", "stock-op-loss-other"),
            ("stock-op-count", "stock-op-threshold"),
            ("stock-op-donation", "stock-op-correction"),
        ]);
        for (a, b) in checks {
            assert!(reads_before(&ui, a, b), "{lang}: {a} before {b}");
        }
        tap(&ui, "stock-op-correction");
        for (a, b) in [
            (
                "stock-op-correction-entry_error",
                "stock-op-correction-weighing",
            ),
            ("stock-op-correction-found", "stock-op-correction-other"),
        ] {
            assert!(reads_before(&ui, a, b), "{lang}: {a} before {b}");
        }
        tap(&ui, "stock-op-correction-found");
        tap(&ui, "stock-sign");
        for (a, b) in [("stock-entry", "key-1"), ("stock-sign", "key-1")] {
            assert!(reads_before(&ui, a, b), "{lang}: {a} before {b}");
        }
        assert!(left_of(&ui, "key-1", "key-3"), "{lang}: the keys' order");
        tap(&ui, "stock-op-back");
        tap(&ui, "stock-close");
    }

    // The harvest: the summary at the reading start, the tares in reading order.
    tap(&ui, "garden-tab-harvest");
    tap(&ui, &format!("harvest-product-{product}"));
    assert!(reads_before(&ui, "harvest-back", "harvest-take"));
    assert!(reads_before(&ui, "harvest-tare-0", "harvest-tare-1"));

    // The composter's screens, with the scale's reading and the resident's kinds.
    for lang in ["fr", "ar"] {
        ui.window
            .global::<AppState>()
            .invoke_set_language(lang.into());
        assert_eq!(ui.window.global::<AppState>().get_rtl(), lang == "ar");
        for (s, checks) in [
            (
                comptoir::app::Screen::CompostWeigh,
                &[
                    ("compost-weight", "kind-kitchen"),
                    ("kind-kitchen", "kind-coffee"),
                    ("kind-brown", "kind-other"),
                    ("compost-cancel", "compost-confirm"),
                ][..],
            ),
            (
                comptoir::app::Screen::CompostThanks,
                &[
                    ("thanks-month", "thanks-total"),
                    ("thanks-credits", "thanks-balance"),
                ][..],
            ),
        ] {
            ui.kiosk.borrow_mut().screen = s;
            ui.refresh();
            for (a, b) in checks {
                assert!(reads_before(&ui, a, b), "{lang} {s:?}: {a} before {b}");
            }
        }

        // The composters: a bin's name before its status, the bins before the entry column,
        // the entry's buttons and choices in reading order, the keypad's keys in theirs.
        ui.kiosk.borrow_mut().screen = comptoir::app::Screen::CompostBins;
        ui.refresh();
        let bin = ids_on_screen(&ui)
            .into_iter()
            .find_map(|id| id.strip_prefix("bin-status-").map(str::to_string))
            .expect("a composter in the demo data");
        let (bin_name, bin_status, bin_row) = (
            format!("bin-name-{bin}"),
            format!("bin-status-{bin}"),
            format!("bin-{bin}"),
        );
        for (a, b) in [
            (bin_name.as_str(), bin_status.as_str()),
            (&bin_row, "bin-turned"),
            ("bin-turned", "bin-next-status"),
            ("bin-entry-temperature", "bin-entry-brown"),
            ("bin-entry-brown", "bin-entry-emptied"),
        ] {
            assert!(reads_before(&ui, a, b), "{lang} bins: {a} before {b}");
        }
        assert!(left_of(&ui, "key-1", "key-3"), "{lang}: the keys' order");

        // The impact: the tiles and the periods in reading order, the chart before the lists.
        ui.kiosk.borrow_mut().screen = comptoir::app::Screen::CompostImpact;
        ui.refresh();
        for (a, b) in [
            ("impact-total", "impact-co2e"),
            ("impact-co2e", "impact-households"),
            ("impact-households", "impact-per-household"),
            ("impact-per-household", "impact-garden"),
            ("impact-week", "impact-month"),
            ("impact-month", "impact-year"),
            ("impact-year", "impact-buildings"),
        ] {
            assert!(reads_before(&ui, a, b), "{lang} impact: {a} before {b}");
        }
    }
}

/// `a` lies wholly to the left of `b`, whatever the language (a keypad's keys).
fn left_of(ui: &Ui, a: &str, b: &str) -> bool {
    span(ui, a).1 <= span(ui, b).0
}

#[test]
fn arabic_mirrors_the_devices_screen() {
    use comptoir::ui::DevicesAdapter;
    use std::cell::RefCell;
    use std::rc::Rc;

    let ui = start("fr");
    // The simulator's buttons, as in the demo kiosk with its simulated devices.
    let devices = ui.window.global::<DevicesAdapter>();
    devices.set_simulated(true);
    tap(&ui, "area-admin");
    sign_in(&ui, "Admin", "1234");
    tap(&ui, "tab-devices");
    assert_eq!(screen(&ui), Screen::AdminDevices);
    for lang in ["fr", "ar", "fr"] {
        ui.window
            .global::<AppState>()
            .invoke_set_language(lang.into());
        assert_eq!(ui.window.global::<AppState>().get_rtl(), lang == "ar");
        for (a, b) in [
            ("scale-state", "printer-state"),
            ("printer-state", "scanner-state"),
            ("scale-zero", "scale-tare"),
            ("scale-tare", "scale-clear-tare"),
            ("sim-load", "sim-empty"),
            ("sim-empty", "sim-motion"),
        ] {
            assert!(reads_before(&ui, a, b), "{lang}: {a} before {b}");
        }
        // The printer's and the card reader's simulator buttons one a line, as wide as their
        // panel: their words are not cut and do not run over a neighbour.
        for (a, b, panel) in [
            ("sim-paper-out", "sim-paper-ok", "printer-test"),
            ("sim-scan-card", "sim-scan-junk", "last-scan"),
        ] {
            let y = |id: &str| by_id(&ui, id).unwrap().absolute_position().y;
            assert!(y(a) < y(b), "{lang}: {a} above {b}");
            for id in [a, b] {
                let ((l, r), (pl, pr)) = (span(&ui, id), span(&ui, panel));
                assert!(
                    l <= pl + 1.0 && r >= pr - 1.0,
                    "{lang}: {id} as wide as {panel}"
                );
            }
        }
    }

    // Mirrored, the buttons still do what they say.
    ui.window
        .global::<AppState>()
        .invoke_set_language("ar".into());
    let called = Rc::new(RefCell::new(Vec::new()));
    let c = called.clone();
    devices.on_zero(move || c.borrow_mut().push("zero"));
    let c = called.clone();
    devices.on_tare(move || c.borrow_mut().push("tare"));
    let c = called.clone();
    devices.on_clear_tare(move || c.borrow_mut().push("clear-tare"));
    let c = called.clone();
    devices.on_simulate_scale(move |s| {
        c.borrow_mut()
            .push(if s == "0" { "empty" } else { "other" })
    });
    for id in ["scale-zero", "scale-tare", "scale-clear-tare", "sim-empty"] {
        tap(&ui, id);
    }
    assert_eq!(*called.borrow(), ["zero", "tare", "clear-tare", "empty"]);
}

#[test]
fn arabic_mirrors_the_selling_screens() {
    let ui = start("fr");
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    assert_eq!(screen(&ui), Screen::SellCatalog);
    for lang in ["fr", "ar", "fr"] {
        ui.window
            .global::<AppState>()
            .invoke_set_language(lang.into());
        assert_eq!(ui.window.global::<AppState>().get_rtl(), lang == "ar");
        // The catalogue: categories in reading order, the products before the cart.
        assert!(reads_before(&ui, "category-all", "category-egg"));
        assert!(reads_before(&ui, "category-all", "catalog-total"));
        assert!(reads_before(&ui, "catalog-divers", "catalog-tickets"));
        assert!(reads_before(&ui, "catalog-register", "catalog-pay"));
    }
    // Payment in Arabic: the amounts at the reading start, then the keypad, then the methods.
    tap(&ui, "category-egg");
    let eggs = ui
        .kiosk
        .borrow()
        .store
        .conn()
        .query_row("SELECT id FROM products WHERE name = 'Œufs'", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap();
    tap(&ui, &format!("product-{eggs}"));
    assert!(reads_before(&ui, "weigh-product", "weigh-add"));
    tap(&ui, "key-6");
    tap(&ui, "weigh-add");
    tap(&ui, "catalog-pay");
    assert_eq!(screen(&ui), Screen::SellPay);
    ui.window
        .global::<AppState>()
        .invoke_set_language("ar".into());
    assert!(reads_before(&ui, "pay-total", "key-1"));
    assert!(reads_before(&ui, "key-1", "pay-cash"));
    assert!(reads_before(&ui, "pay-paid", "pay-remaining"));
    assert!(reads_before(&ui, "quick-500", "quick-5000"));
}
