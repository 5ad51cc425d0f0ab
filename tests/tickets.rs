//! The tickets screen: browsing the register's days, a copy printed as DUPLICATA and journaled
//! before it prints, the refund of an earlier sale with a confirming second tap, and the
//! refusals (no printer, refunded twice, clock behind) that record nothing.

use chrono::{TimeZone, Utc};
use comptoir::app::{tickets, Clock};
use comptoir::store::{journal, people};
use comptoir::ui::{Screen, Ui};

use crate::common::{by_id, count, demo_ui, label, screen, sign_in, tap, type_digits, Register};

/// The demo kiosk in French, register open, with Amina (a seller) signed in on the catalogue.
fn start() -> Ui {
    let ui = demo_ui("fr", Register::Open);
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    assert_eq!(screen(&ui), Screen::SellCatalog);
    ui
}

/// Goes back day by day to the latest day with tickets; returns its newest sale's number.
fn latest_sale_shown(ui: &Ui) -> i64 {
    for _ in 0..10 {
        let k = ui.kiosk.borrow();
        let last_sale: Option<i64> = k
            .store
            .conn()
            .query_row("SELECT max(seq) FROM sales WHERE kind = 'sale'", [], |r| {
                r.get(0)
            })
            .unwrap();
        drop(k);
        let seq = last_sale.unwrap();
        if by_id(ui, &format!("ticket-number-{seq}")).is_some() {
            return seq;
        }
        tap(ui, "tickets-previous");
    }
    panic!("no day with tickets within 10 days");
}

#[test]
fn a_seller_browses_days_and_refunds_an_earlier_sale_with_a_second_tap() {
    let ui = start();
    tap(&ui, "catalog-tickets");
    assert_eq!(screen(&ui), Screen::SellTickets);
    assert_eq!(label(&ui, "tickets-day"), "Aujourd'hui");
    assert!(
        by_id(&ui, "tickets-empty").is_some(),
        "nothing sold yet today"
    );

    let seq = latest_sale_shown(&ui);
    assert_ne!(label(&ui, "tickets-day"), "Aujourd'hui");
    let journal_before = count(&ui, "SELECT count(*) FROM journal");

    // The first tap only asks for confirmation.
    tap(&ui, &format!("ticket-refund-{seq}"));
    assert_eq!(label(&ui, &format!("ticket-refund-{seq}")), "Confirmer");
    assert_eq!(count(&ui, "SELECT count(*) FROM journal"), journal_before);

    // A sale of an earlier register session: the panel says the refund needs approval, and
    // the second tap asks a garden lead's or an administrator's PIN (Amina is a seller).
    let note = label(&ui, "refund-approval-note");
    assert!(note.contains("session"), "{note:?}");
    tap(&ui, &format!("ticket-refund-{seq}"));
    assert!(by_id(&ui, "approval-title").is_some());
    assert_eq!(count(&ui, "SELECT count(*) FROM journal"), journal_before);
    let amina = crate::common::staff_id(&ui, "Amina");
    let admin = crate::common::staff_id(&ui, "Admin");
    assert!(
        by_id(&ui, &format!("approver-{amina}")).is_none(),
        "a seller does not approve"
    );
    // A wrong PIN: said in words, nothing refunded, a wrong PIN of the approver's.
    tap(&ui, &format!("approver-{admin}"));
    type_digits(&ui, "9999");
    tap(&ui, "key-ok");
    assert_eq!(
        label(&ui, "approval-message"),
        "Code faux : rien n'a été remboursé. Encore 4 essais."
    );
    assert_eq!(count(&ui, "SELECT count(*) FROM journal"), journal_before);
    assert_eq!(
        count(
            &ui,
            &format!("SELECT count(*) FROM sales WHERE refund_of = {seq}")
        ),
        0
    );
    assert_eq!(
        count(
            &ui,
            &format!(
                "SELECT count(*) FROM staff_events WHERE staff_id = {admin} \
                 AND kind = 'pin_failed' AND screen = 'sell.tickets'"
            )
        ),
        1
    );
    // The right PIN: a new ticket referencing the sale, with its approver.
    type_digits(&ui, "1234");
    tap(&ui, "key-ok");
    assert!(by_id(&ui, "approval-title").is_none());
    let refund: (i64, i64) = ui
        .kiosk
        .borrow()
        .store
        .conn()
        .query_row(
            "SELECT seq, total_cents FROM sales WHERE refund_of = ?1",
            [seq],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(refund.1 < 0);
    assert_eq!(
        count(
            &ui,
            &format!("SELECT approved_by FROM sales WHERE seq = {}", refund.0)
        ),
        admin
    );
    let payload: String = ui
        .kiosk
        .borrow()
        .store
        .conn()
        .query_row(
            "SELECT payload FROM journal WHERE seq = ?1",
            [refund.0],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        payload.contains(&format!("\"approved_by\":{admin}")),
        "{payload}"
    );
    assert!(journal::verify(ui.kiosk.borrow().store.conn()).is_ok());
    assert_eq!(
        label(&ui, "tickets-message").replace('\u{a0}', " "),
        format!("Remboursement enregistré, ticket {}. À rendre :", refund.0)
    );
    // The amount in its own text, beside the sentence.
    assert_eq!(
        label(&ui, "tickets-message-amount").replace('\u{a0}', " "),
        format!("{},{:02} €", -refund.1 / 100, -refund.1 % 100)
    );
    // The refund is today's: the list of that earlier day shows the sale refunded.
    assert_eq!(label(&ui, &format!("ticket-status-{seq}")), "remboursé");
    assert!(by_id(&ui, &format!("ticket-refund-{seq}")).is_none());

    // Back to today: the refund is there, and refunding again is refused.
    for _ in 0..10 {
        if label(&ui, "tickets-day") == "Aujourd'hui" {
            break;
        }
        tap(&ui, "tickets-next");
    }
    assert_eq!(
        label(&ui, &format!("ticket-status-{}", refund.0)),
        format!("remboursement du n° {seq}")
    );
    let again = tickets::refund(&mut ui.kiosk.borrow_mut(), seq);
    assert!(
        matches!(
            again,
            Err(tickets::TicketError::Sell(
                comptoir::app::sell::SellError::AlreadyRefunded
            ))
        ),
        "{again:?}"
    );
    assert_eq!(
        count(
            &ui,
            &format!("SELECT count(*) FROM sales WHERE refund_of = {seq}")
        ),
        1,
        "one refund only"
    );
}

#[test]
fn a_copy_is_journaled_then_printed_as_duplicata() {
    let ui = start();
    tap(&ui, "catalog-tickets");
    let seq = latest_sale_shown(&ui);

    // Without a printer: a clear message and no journal entry.
    let journal_before = count(&ui, "SELECT count(*) FROM journal");
    tap(&ui, &format!("ticket-reprint-{seq}"));
    assert_eq!(
        label(&ui, "tickets-message"),
        "Aucune imprimante n'est configurée."
    );
    assert_eq!(count(&ui, "SELECT count(*) FROM journal"), journal_before);

    // With one: the reprint entry, then the copy in the print queue.
    let section = crate::common::text_printer();
    let entry = tickets::reprint(&mut ui.kiosk.borrow_mut(), Some(&section), seq).unwrap();
    assert_eq!(entry, journal_before + 1);
    {
        let k = ui.kiosk.borrow();
        let e = journal::entry(k.store.conn(), entry).unwrap().unwrap();
        assert_eq!(e.kind, "reprint");
        assert!(
            e.payload.contains(&format!("\"of_seq\":{seq}")),
            "{}",
            e.payload
        );
        assert_eq!(tickets::reprints(&k, seq).unwrap(), 1);
        let (_, what, bytes) = comptoir::store::print_queue::next(k.store.conn())
            .unwrap()
            .unwrap();
        assert_eq!(what, format!("duplicata {seq}"));
        let text = crate::common::printed_text(&bytes);
        assert!(text.contains("DUPLICATA"), "{text}");
        assert!(text.contains(&format!("Ticket n° {seq}")), "{text}");
        let report = journal::verify(k.store.conn()).expect("the chain still verifies");
        assert_eq!(report.last_seq, entry);
    }
    // The list says how many copies were printed.
    tap(&ui, "tickets-next");
    tap(&ui, "tickets-previous");
    assert_eq!(
        label(&ui, &format!("ticket-status-{seq}")),
        "copies imprimées : 1"
    );

    // A clock behind the journal refuses the copy and records nothing.
    ui.kiosk.borrow_mut().clock = Clock::manual(Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap());
    let journal_now = count(&ui, "SELECT count(*) FROM journal");
    let behind = tickets::reprint(&mut ui.kiosk.borrow_mut(), Some(&section), seq);
    assert!(
        matches!(behind, Err(tickets::TicketError::ClockBehind)),
        "{behind:?}"
    );
    assert_eq!(count(&ui, "SELECT count(*) FROM journal"), journal_now);
    assert_eq!(count(&ui, "SELECT count(*) FROM print_queue"), 1);
}

#[test]
fn cash_in_and_out_of_the_drawer_are_recorded_and_zero_is_refused() {
    let ui = start();
    tap(&ui, "catalog-tickets");
    let before = count(&ui, "SELECT count(*) FROM cash_movements");
    let journal_before = count(&ui, "SELECT count(*) FROM journal");

    // Nothing typed: refused, nothing recorded, the panel stays.
    tap(&ui, "tickets-movement");
    tap(&ui, "movement-bank");
    tap(&ui, "movement-confirm");
    assert_eq!(
        label(&ui, "movement-message"),
        "Tapez un montant supérieur à zéro."
    );
    assert_eq!(count(&ui, "SELECT count(*) FROM cash_movements"), before);

    // 20 € of change brought in.
    tap(&ui, "movement-top-up");
    type_digits(&ui, "2000");
    assert_eq!(
        label(&ui, "movement-amount").replace('\u{a0}', " "),
        "+ 20,00 €"
    );
    tap(&ui, "movement-confirm");
    assert_eq!(
        label(&ui, "tickets-message").replace('\u{a0}', " "),
        "Enregistré dans la caisse :"
    );
    assert_eq!(
        label(&ui, "tickets-message-amount").replace('\u{a0}', " "),
        "20,00 €"
    );
    assert_eq!(
        count(&ui, "SELECT count(*) FROM cash_movements"),
        before + 1
    );
    assert_eq!(
        count(&ui, "SELECT count(*) FROM journal"),
        journal_before + 1,
        "a movement is a journal entry"
    );

    // 15 € taken to the bank: negative.
    tap(&ui, "tickets-movement");
    tap(&ui, "movement-bank");
    type_digits(&ui, "1500");
    tap(&ui, "movement-confirm");
    let last: i64 = count(
        &ui,
        "SELECT cents FROM cash_movements ORDER BY id DESC LIMIT 1",
    );
    assert_eq!(last, -1500);
}

#[test]
fn training_mode_is_an_admin_switch_journaled_and_bannered() {
    let ui = start();
    tap(&ui, "catalog-tickets");
    // A seller cannot switch it.
    tap(&ui, "tickets-training");
    assert_eq!(
        label(&ui, "tickets-message"),
        "Votre rôle ne le permet pas."
    );
    assert!(!ui.kiosk.borrow().sell.training);
    assert!(by_id(&ui, "training-banner").is_none());

    // An admin can: a journal entry, the banner on every screen.
    {
        let mut k = ui.kiosk.borrow_mut();
        let admin = people::all_staff(k.store.conn()).unwrap()[0].clone();
        k.session.assume(admin);
    }
    let journal_before = count(&ui, "SELECT count(*) FROM journal");
    tap(&ui, "tickets-training");
    assert!(ui.kiosk.borrow().sell.training);
    assert_eq!(
        count(
            &ui,
            "SELECT count(*) FROM journal WHERE kind = 'training_started'"
        ),
        1
    );
    assert_eq!(
        count(&ui, "SELECT count(*) FROM journal"),
        journal_before + 1
    );
    assert_eq!(
        label(&ui, "training-banner"),
        "FORMATION : rien de ce qui est vendu ne compte"
    );
    tap(&ui, "tickets-back");
    assert_eq!(screen(&ui), Screen::SellCatalog);
    assert!(by_id(&ui, "training-banner").is_some());

    // A real sale cannot be refunded in training mode: nothing recorded.
    let real: i64 = count(&ui, "SELECT max(seq) FROM sales WHERE kind = 'sale'");
    let sales_before = count(&ui, "SELECT count(*) FROM sales");
    assert!(tickets::refund(&mut ui.kiosk.borrow_mut(), real).is_err());
    assert_eq!(count(&ui, "SELECT count(*) FROM sales"), sales_before);

    // Off again: journaled, the banner gone.
    tap(&ui, "catalog-tickets");
    tap(&ui, "tickets-training");
    assert!(!ui.kiosk.borrow().sell.training);
    assert_eq!(
        count(
            &ui,
            "SELECT count(*) FROM journal WHERE kind = 'training_ended'"
        ),
        1
    );
    assert!(by_id(&ui, "training-banner").is_none());
}

#[test]
fn a_customer_brings_back_part_of_a_basket_the_seller_refunds_those_lines() {
    use comptoir::app::sell;
    let ui = start();
    // Today's sale: six eggs and two salads, paid by card.
    let seq = {
        let mut k = ui.kiosk.borrow_mut();
        let products = comptoir::store::catalog::active_products(k.store.conn()).unwrap();
        let id = |name: &str| products.iter().find(|p| p.name == name).unwrap().id;
        sell::choose(&mut k, id("Œufs")).unwrap();
        sell::qty_digit(&mut k, '6').unwrap();
        sell::add_pieces(&mut k).unwrap();
        sell::choose(&mut k, id("Salade batavia")).unwrap();
        sell::qty_digit(&mut k, '2').unwrap();
        sell::add_pieces(&mut k).unwrap();
        sell::pay(&mut k, comptoir::domain::cart::PaymentMethod::Card)
            .unwrap()
            .unwrap()
            .seq
    };
    tap(&ui, "catalog-tickets");
    assert!(by_id(&ui, &format!("ticket-number-{seq}")).is_some());
    let journal_before = count(&ui, "SELECT count(*) FROM journal");

    // The first tap shows the lines, all chosen.
    tap(&ui, &format!("ticket-refund-{seq}"));
    assert_eq!(label(&ui, "refund-total").replace('\u{a0}', " "), "4,50 €");
    // The eggs stay with the customer: only the salads go back.
    tap(&ui, "refund-line-1");
    assert_eq!(label(&ui, "refund-total").replace('\u{a0}', " "), "2,40 €");
    assert_eq!(count(&ui, "SELECT count(*) FROM journal"), journal_before);
    tap(&ui, &format!("ticket-refund-{seq}"));
    let refunded: Vec<(i64, i64)> = {
        let k = ui.kiosk.borrow();
        let mut st = k
            .store
            .conn()
            .prepare(
                "SELECT l.line_no, l.net_cents FROM sale_lines l JOIN sales s
                 ON s.kiosk_id = l.kiosk_id AND s.seq = l.seq WHERE s.refund_of = ?1",
            )
            .unwrap();
        st.query_map([seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(refunded, vec![(2, -240)]);
    assert_eq!(
        label(&ui, &format!("ticket-status-{seq}")),
        "remboursé en partie"
    );

    // Later the eggs come back too. The salads are shown refunded and cannot be chosen;
    // leaving the eggs out as well chooses nothing: refused in words, nothing recorded.
    tap(&ui, &format!("ticket-refund-{seq}"));
    assert_eq!(label(&ui, "refund-total").replace('\u{a0}', " "), "2,10 €");
    tap(&ui, "refund-line-2");
    assert_eq!(
        label(&ui, "refund-total").replace('\u{a0}', " "),
        "2,10 €",
        "refunded already"
    );
    tap(&ui, "refund-line-1");
    let before = count(&ui, "SELECT count(*) FROM journal");
    tap(&ui, &format!("ticket-refund-{seq}"));
    assert_eq!(
        label(&ui, "tickets-message"),
        "Choisissez au moins une ligne à rembourser."
    );
    assert_eq!(count(&ui, "SELECT count(*) FROM journal"), before);
    tap(&ui, "refund-line-1");
    tap(&ui, &format!("ticket-refund-{seq}"));
    assert_eq!(label(&ui, &format!("ticket-status-{seq}")), "remboursé");
    assert_eq!(
        count(
            &ui,
            &format!("SELECT count(*) FROM sales WHERE refund_of = {seq}")
        ),
        2
    );
    assert!(journal::verify(ui.kiosk.borrow().store.conn()).is_ok());
}
