//! A database that cannot be read shows as such (issue 15): the sign-in list, the day's
//! tickets, the residents and the stock say that their records could not be read, never show
//! an empty list that looks like "nobody", "no ticket today" or "nothing in stock". The failure
//! is injected through the store's test fault point (`Store::fail_reads_of`), as a damaged
//! database would fail: tests run as root, so file permissions cannot make a file unreadable.

use comptoir::app::Screen as AppScreen;
use comptoir::ui::{GardenFlowAdapter, LoginAdapter, ResidentsAdapter, TicketsAdapter, Ui};
use slint::{ComponentHandle, Model};

use crate::common::{by_id, demo_ui, signed_in, Register};

fn read_failed(ui: &Ui) -> bool {
    by_id(ui, "read-failed").is_some()
}

/// Opens `to` (signed in as `who`, or nobody), checks that it reads and lists something,
/// then fails the reads of `table`: the screen says so and lists nothing; lifted, the list
/// comes back.
fn check(who: Option<(&str, &str)>, to: AppScreen, table: &'static str, listed: fn(&Ui) -> usize) {
    let ui = demo_ui("fr", Register::Open);
    {
        let mut guard = ui.kiosk.borrow_mut();
        let k = &mut *guard;
        match who {
            Some((name, pin)) => {
                k.session = signed_in(&k.store, &k.clock, name, pin);
                k.navigate(to);
            }
            None => k.screen = to,
        }
    }
    ui.refresh();
    assert_eq!(ui.kiosk.borrow().screen, to);
    assert!(!read_failed(&ui), "{to:?} reads");
    assert!(listed(&ui) > 0, "{to:?} lists something");

    ui.kiosk.borrow().store.fail_reads_of(Some(table));
    ui.refresh();
    assert!(
        read_failed(&ui),
        "{to:?} says its records could not be read"
    );
    assert_eq!(listed(&ui), 0, "{to:?} lists nothing it could not read");
    assert!(
        !crate::common::label(&ui, "read-failed").is_empty(),
        "{to:?} says what could not be read"
    );

    ui.kiosk.borrow().store.fail_reads_of(None);
    ui.refresh();
    assert!(!read_failed(&ui), "{to:?} reads again");
    assert!(listed(&ui) > 0);
}

#[test]
fn the_sign_in_list_says_the_staff_could_not_be_read() {
    check(None, AppScreen::Login, "staff", |ui| {
        ui.window.global::<LoginAdapter>().get_staff().row_count()
    });
}

#[test]
fn the_tickets_say_they_could_not_be_read() {
    check(
        Some(("Amina", "1111")),
        AppScreen::SellTickets,
        "sales",
        |ui| {
            let a = ui.window.global::<TicketsAdapter>();
            // "No ticket this day" would be a plausible lie: it is not shown either.
            if by_id(ui, "tickets-empty").is_some() {
                usize::MAX
            } else {
                a.get_tickets().row_count()
            }
        },
    );
}

#[test]
fn the_residents_say_they_could_not_be_read() {
    check(
        Some(("Admin", "1234")),
        AppScreen::AdminResidents,
        "residents",
        |ui| {
            ui.window
                .global::<ResidentsAdapter>()
                .get_rows()
                .row_count()
        },
    );
}

#[test]
fn the_stock_says_it_could_not_be_read() {
    // The rows, and the footer's stock value: no figure under a failure.
    check(
        Some(("Nadia", "2468")),
        AppScreen::GardenStock,
        "stock_moves",
        |ui| {
            let rows = ui
                .window
                .global::<GardenFlowAdapter>()
                .get_stock()
                .row_count();
            rows + usize::from(by_id(ui, "stock-value").is_some())
        },
    );
}
