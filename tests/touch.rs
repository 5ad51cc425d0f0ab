//! Issue #8, through the UI (Slint testing backend): on the 800x480 touchscreen every action
//! button has a word (an accessible label) and every touch target is at least 48x48 logical
//! pixels, inside the window. Every screen of `Screen::ALL` is visited in French and in Arabic
//! (its labels are longer and its layouts mirrored), staged as `comptoir screenshot` stages it:
//! the least senior person allowed signed in, a sale on the selling screens, a harvest on the
//! scale, a resident at the composter. All offenders are reported at once.

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use comptoir::app::{self, Clock, Kiosk, RunMode, Screen};
use comptoir::config::Config;
use comptoir::store::Store;
use comptoir::ui::{screenshot, Ui};
use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery};
use slint::ComponentHandle;

use crate::common::{screen, tap};

const WIDTH: f32 = 800.0;
const HEIGHT: f32 = 480.0;
/// Smallest touch target, both ways (`Sizes.touch-min`).
const MIN: f32 = 48.0;
/// Layouts place elements on fractional pixels: half a pixel is rounding, not an offender.
const SLACK: f32 = 0.5;

/// Roles of elements that a finger taps.
fn tappable(role: AccessibleRole) -> bool {
    matches!(
        role,
        AccessibleRole::Button
            | AccessibleRole::Checkbox
            | AccessibleRole::Tab
            | AccessibleRole::Switch
            | AccessibleRole::RadioButton
            | AccessibleRole::Combobox
            | AccessibleRole::Spinbox
            | AccessibleRole::Slider
            | AccessibleRole::ListItem
            // The keyboard's and keypad's fields: tapped to type into them.
            | AccessibleRole::TextInput
    )
}

/// The demo kiosk in `lang` at 800x480, on `screen` in the screenshot state `state`, staged
/// by the screenshot command's own code (`comptoir::ui::screenshot::stage`): the least senior
/// person allowed signed in, a sale on the selling screens, a harvest on the scale, a resident
/// at the composter.
fn kiosk_on(screen: Screen, lang: &str, state: Option<&str>) -> Ui {
    // The first start is what a new, empty database shows.
    let (store, mode) = if screen == Screen::FirstStart {
        (Store::open_in_memory().unwrap(), RunMode::Live)
    } else {
        (comptoir::cli::builtin_demo_store().unwrap(), RunMode::Demo)
    };
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 6, 13, 8, 42, 0).unwrap());
    let mut kiosk = Kiosk::new(store, Config::default(), mode, clock);
    kiosk.language = lang.into();
    if let Some(name) = state {
        screenshot::stage_state(&mut kiosk, name);
    }
    let ui = Ui::new(kiosk).unwrap();
    ui.window
        .window()
        .set_size(slint::PhysicalSize::new(WIDTH as u32, HEIGHT as u32));
    screenshot::stage(&ui, screen, state);
    ui.refresh();
    ui
}

/// A rectangle in window coordinates.
#[derive(Clone, Copy, Debug)]
struct Rect {
    x: f32,
    y: f32,
    w: f32,
    h: f32,
}

impl Rect {
    fn of(e: &ElementHandle) -> Rect {
        let p = e.absolute_position();
        let s = e.size();
        Rect {
            x: p.x,
            y: p.y,
            w: s.width,
            h: s.height,
        }
    }

    fn inside_window(&self) -> bool {
        self.x >= -SLACK
            && self.y >= -SLACK
            && self.x + self.w <= WIDTH + SLACK
            && self.y + self.h <= HEIGHT + SLACK
    }
}

/// One tappable element on a screen.
struct Target {
    role: AccessibleRole,
    id: String,
    label: String,
    rect: Rect,
    /// In a scrolling list: the part out of the window scrolls into view.
    scrolls: bool,
}

/// Identifies an element among those of a screen: several merged elements share an item.
type Key = (String, String, String, [u32; 4]);

fn key(e: &ElementHandle) -> Key {
    let r = Rect::of(e);
    (
        format!("{:?}", e.accessible_role()),
        e.accessible_id().map(|s| s.to_string()).unwrap_or_default(),
        e.accessible_label()
            .map(|s| s.to_string())
            .unwrap_or_default(),
        [r.x.to_bits(), r.y.to_bits(), r.w.to_bits(), r.h.to_bits()],
    )
}

/// The tappable elements drawn on the current screen (the testing backend skips elements
/// clipped away or hidden; fully transparent ones are left out here), each once.
fn targets(ui: &Ui) -> Vec<Target> {
    let all = ElementQuery::from_root(&ui.window)
        .match_descendants()
        .find_all();
    // What lies in a scrolling list: the part out of the window scrolls into view.
    let scrolling: BTreeSet<Key> = all
        .iter()
        .filter(|e| e.type_name().is_some_and(|t| t == "Flickable"))
        .flat_map(|f| f.query_descendants().find_all())
        .map(|e| key(&e))
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for e in all {
        let Some(role) = e.accessible_role() else {
            continue;
        };
        if !tappable(role) || e.computed_opacity() <= 0.0 {
            continue;
        }
        let rect = Rect::of(&e);
        if rect.w <= 0.0 && rect.h <= 0.0 {
            continue;
        }
        let k = key(&e);
        if !seen.insert(k.clone()) {
            continue;
        }
        out.push(Target {
            role,
            scrolls: scrolling.contains(&k),
            id: k.1,
            label: k.2,
            rect,
        });
    }
    out
}

/// What is wrong with a target, if anything.
fn problems(t: &Target) -> Vec<String> {
    let mut p = Vec::new();
    if t.rect.w + SLACK < MIN || t.rect.h + SLACK < MIN {
        p.push(format!("smaller than {MIN}x{MIN}"));
    }
    if !t.scrolls && !t.rect.inside_window() {
        p.push(format!("not inside the {WIDTH}x{HEIGHT} window"));
    }
    if t.label.trim().is_empty() {
        p.push("no word (empty accessible label)".into());
    }
    p
}

/// A panel or step shown over a screen: the screen, its name, how to open it once staged.
type Panel = (Screen, &'static str, fn(&Ui));

/// Panels and steps shown over a screen, reached after the screen is staged.
const PANELS: &[Panel] = &[
    (Screen::Login, "PIN", |ui| tap_first(ui, "staff-")),
    (Screen::SellWeigh, "pieces", |ui| {
        // Salads are sold by the piece: the quantity keypad instead of the scale.
        let mut k = ui.kiosk.borrow_mut();
        app::sell::unchoose(&mut k).unwrap();
        let salad = product(&k, "SAL");
        app::sell::choose(&mut k, salad).unwrap();
    }),
    (Screen::SellCart, "line discount", |ui| {
        tap(ui, "discount-line-1")
    }),
    (Screen::SellTickets, "refund", |ui| {
        tap_first(ui, "ticket-refund-")
    }),
    (Screen::SellTickets, "cash movement", |ui| {
        tap(ui, "tickets-movement")
    }),
    (Screen::GardenHarvest, "split", |ui| {
        for id in ["harvest-take", "plot-none", "harvester-none"] {
            tap(ui, id);
        }
    }),
    (Screen::GardenStock, "entry", |ui| {
        tap_first(ui, "stock-row-")
    }),
    (Screen::AdminResidents, "registration", |ui| {
        tap(ui, "resident-new")
    }),
    (Screen::AdminStaff, "editor", |ui| tap(ui, "staff-add")),
    (Screen::AdminProducts, "editor", |ui| {
        tap(ui, "products-add")
    }),
];

fn product(k: &Kiosk, code: &str) -> i64 {
    comptoir::store::catalog::active_products(k.store.conn())
        .unwrap()
        .into_iter()
        .find(|p| p.short_code == code)
        .unwrap_or_else(|| panic!("no product {code}"))
        .id
}

/// Taps the first element whose accessible id starts with `start`.
fn tap_first(ui: &Ui, start: &str) {
    let s = start.to_string();
    ElementQuery::from_root(&ui.window)
        .match_descendants()
        .match_predicate(move |e| e.accessible_id().is_some_and(|a| a.starts_with(&s)))
        .find_first()
        .unwrap_or_else(|| panic!("no {start}… on {:?}", screen(ui)))
        .invoke_accessible_default_action();
}

#[test]
fn every_touch_target_has_a_word_and_is_big_enough_on_every_screen() {
    i_slint_backend_testing::init_no_event_loop();
    // Every screen, every screenshot state (a panel or step reached through the screen's
    // callbacks), and the panels opened by taps.
    let views = Screen::ALL
        .iter()
        .map(|&s| (s, None, "", (|_| {}) as fn(&Ui)))
        .chain(
            screenshot::STATES
                .iter()
                .map(|&(name, s)| (s, Some(name), name, (|_| {}) as fn(&Ui))),
        )
        .chain(
            PANELS
                .iter()
                .map(|&(s, panel, open)| (s, None, panel, open)),
        );
    let mut visited = 0;
    let mut checked = 0;
    let mut offenders = Vec::new();
    let mut empty = Vec::new();
    for lang in ["fr", "ar"] {
        for (screen, state, panel, open) in views.clone() {
            let ui = kiosk_on(screen, lang, state);
            open(&ui);
            ui.refresh();
            let shown = ui.window.global::<comptoir::ui::AppState>().get_screen();
            let name = format!("{} {panel}", screen.name());
            assert_eq!(
                format!("{shown:?}"),
                format!("{screen:?}"),
                "[{lang}] the kiosk did not stay on {name}"
            );
            visited += 1;
            let targets = targets(&ui);
            // Nothing to tap on purpose: the kiosk stops and says who must fix the
            // configuration file or the data (no TouchArea in their views either).
            let stop = matches!(screen, Screen::ConfigError | Screen::HealthFailed);
            if targets.is_empty() && !stop {
                empty.push(format!("[{lang}] {name}"));
            }
            for t in &targets {
                checked += 1;
                let p = problems(t);
                if !p.is_empty() {
                    offenders.push(format!(
                        "[{lang}] {name:<28} {:?} id={:?} label={:?} {:.1}x{:.1} at ({:.1}, {:.1}): {}",
                        t.role,
                        t.id,
                        t.label,
                        t.rect.w,
                        t.rect.h,
                        t.rect.x,
                        t.rect.y,
                        p.join("; ")
                    ));
                }
            }
        }
    }
    eprintln!(
        "touch: {visited} views (screens and panels, fr and ar), {checked} touch targets checked"
    );
    assert!(
        offenders.is_empty(),
        "{} touch targets break issue #8 (a word, at least {MIN}x{MIN} px, inside the window):\n{}",
        offenders.len(),
        offenders.join("\n")
    );
    // Every other screen has at least a way out: none found means the query broke.
    assert!(
        empty.is_empty(),
        "no touch target found on: {}",
        empty.join(", ")
    );
}
