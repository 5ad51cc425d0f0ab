//! Cash sessions: opening with a float, what sales and movements add to the cash expected,
//! closing by denominations, refusals that change nothing, the 24-hour rule for sales, the
//! journal entries and the Z report.

use chrono::{DateTime, Duration, TimeZone, Utc};
use comptoir::app::cash::{self as cash_app, CashError};
use comptoir::app::session::Session;
use comptoir::app::{Clock, Kiosk, RunMode};
use comptoir::config::Config;
use comptoir::domain::cart::{Cart, LineKind, PaymentMethod, PaymentPolicy, Sale};
use comptoir::store::cash::{self, CashStoreError, Denominations, MovementReason};
use comptoir::store::journal::{self, parse_canonical};
use comptoir::store::sales::{self, SaleContext};

use crate::common::signed_in;

fn start() -> DateTime<Utc> {
    // After every sale of the demo seed.
    Utc.with_ymd_and_hms(2026, 6, 17, 6, 30, 0).unwrap()
}

/// The demo kiosk with Amina (a seller) signed in.
fn kiosk() -> Kiosk {
    let store = comptoir::cli::builtin_demo_store().unwrap();
    let clock = Clock::manual(start());
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, clock.clone());
    kiosk.session = signed_in(&kiosk.store, &clock, "Amina", "1111");
    kiosk
}

/// 3 lettuces at 1,20 € (3,60 €) paid as given.
fn sale(payments: &[(PaymentMethod, i64)]) -> Sale {
    let mut cart = Cart::new(1);
    cart.add_line(
        11,
        "Salade",
        550,
        LineKind::Piece {
            qty: 3,
            unit_cents: 120,
            avg_weight_g: None,
        },
    )
    .unwrap();
    let policy = PaymentPolicy::default();
    for &(method, cents) in payments {
        cart.add_payment(method, cents, &policy).unwrap();
    }
    cart.close_paid().unwrap()
}

fn record(kiosk: &mut Kiosk, sale: &Sale, session: Option<i64>, training: bool) -> i64 {
    let ctx = SaleContext {
        cashier_id: kiosk.session.current().unwrap().id,
        cashier_name: "Amina".into(),
        cash_session: session,
        training,
    };
    let now = kiosk.clock.now();
    let tx = kiosk.store.conn_mut().transaction().unwrap();
    let entry = sales::record_sale(&tx, sale, &ctx, now).unwrap();
    tx.commit().unwrap();
    entry.seq
}

fn journal_len(kiosk: &Kiosk) -> i64 {
    journal::head(kiosk.store.conn())
        .unwrap()
        .map(|e| e.seq)
        .unwrap_or(0)
}

fn session_count(kiosk: &Kiosk) -> i64 {
    kiosk
        .store
        .conn()
        .query_row("SELECT count(*) FROM cash_sessions", [], |r| r.get(0))
        .unwrap()
}

fn last_payload(kiosk: &Kiosk) -> serde_json::Value {
    let head = journal::head(kiosk.store.conn()).unwrap().unwrap();
    parse_canonical(&head.payload).unwrap()
}

#[test]
fn a_session_counts_cash_sales_net_of_change_and_movements_then_closes_by_denominations() {
    let mut k = kiosk();
    let amina = k.session.current().unwrap().id;
    let id = cash_app::open(&mut k, 5000).unwrap();
    let p = last_payload(&k);
    assert_eq!(p["kind"], "cash_session_opened");
    assert_eq!(p["session"], id);
    assert_eq!(p["float_cents"], 5000);
    assert_eq!(p["by"], amina);
    assert_eq!(cash_app::session_for_sale(&k).unwrap(), id);
    assert_eq!(cash::expected_cash(k.store.conn(), id).unwrap(), 5000);

    // 3,60 € paid with a 10 € note: 6,40 € given back, 3,60 € more in the drawer.
    k.clock.advance(Duration::minutes(5));
    let s = sale(&[(PaymentMethod::Cash, 1000)]);
    assert_eq!(s.settlement.change_due, 640);
    record(&mut k, &s, Some(id), false);
    assert_eq!(cash::expected_cash(k.store.conn(), id).unwrap(), 5360);

    // Card sales, training sales and sales of no session leave the drawer alone.
    record(
        &mut k,
        &sale(&[(PaymentMethod::Card, 360)]),
        Some(id),
        false,
    );
    record(&mut k, &sale(&[(PaymentMethod::Cash, 500)]), Some(id), true);
    record(&mut k, &sale(&[(PaymentMethod::Cash, 500)]), None, false);
    assert_eq!(cash::expected_cash(k.store.conn(), id).unwrap(), 5360);

    // Part card, part cash with change: only the cash kept counts (2,00 − 0,40).
    record(
        &mut k,
        &sale(&[(PaymentMethod::Card, 200), (PaymentMethod::Cash, 200)]),
        Some(id),
        false,
    );
    assert_eq!(cash::expected_cash(k.store.conn(), id).unwrap(), 5520);

    // A refund paid back in cash takes cash out.
    let first = record(
        &mut k,
        &sale(&[(PaymentMethod::Cash, 360)]),
        Some(id),
        false,
    );
    assert_eq!(cash::expected_cash(k.store.conn(), id).unwrap(), 5880);
    {
        let now = k.clock.now();
        let ctx = SaleContext {
            cashier_id: amina,
            cashier_name: "Amina".into(),
            cash_session: Some(id),
            training: false,
        };
        let tx = k.store.conn_mut().transaction().unwrap();
        sales::record_refund(&tx, first, &[], &ctx, now).unwrap();
        tx.commit().unwrap();
    }
    assert_eq!(cash::expected_cash(k.store.conn(), id).unwrap(), 5520);

    // Movements: a top-up and a bank deposit.
    cash_app::movement(&mut k, 2000, MovementReason::FloatTopUp).unwrap();
    let p = last_payload(&k);
    assert_eq!(p["kind"], "cash_movement");
    assert_eq!(
        (p["cents"].clone(), p["reason"].clone()),
        (2000.into(), "float_top_up".into())
    );
    cash_app::movement(&mut k, -3000, MovementReason::BankDeposit).unwrap();
    assert_eq!(cash::expected_cash(k.store.conn(), id).unwrap(), 4520);
    assert_eq!(cash_app::expected(&k).unwrap(), 4520);

    // Counted: 2 × 20 € + 4 × 1 € + 1 × 0,50 € + 1 × 0,20 € = 44,70 €, 0,50 € short.
    let counted = Denominations::new()
        .with(2000, 2)
        .unwrap()
        .with(100, 4)
        .unwrap()
        .with(50, 1)
        .unwrap()
        .with(20, 1)
        .unwrap();
    k.clock.advance(Duration::hours(4));
    let (closed, closing) = cash_app::close(&mut k, &counted).unwrap();
    assert_eq!(closed, id);
    assert_eq!(
        (closing.expected, closing.counted, closing.difference),
        (4520, 4470, -50)
    );
    let p = last_payload(&k);
    assert_eq!(p["kind"], "cash_session_closed");
    assert_eq!(p["session"], id);
    assert_eq!(p["expected_cents"], 4520);
    assert_eq!(p["counted_cents"], 4470);
    assert_eq!(p["difference_cents"], -50);
    assert_eq!(p["by"], amina);
    let detail = p["detail"].as_array().unwrap();
    assert_eq!(detail.len(), cash::DENOMINATIONS.len());
    assert!(detail.contains(&serde_json::json!({"cents": 2000, "count": 2})));

    let row = cash::session(k.store.conn(), id).unwrap().unwrap();
    assert!(!row.is_open());
    assert_eq!(row.closed_by, Some(amina));
    assert_eq!(
        (row.expected_cents, row.counted_cents, row.difference_cents),
        (Some(4520), Some(4470), Some(-50))
    );
    assert_eq!(row.counted(), Some(counted.clone()));
    assert_eq!(cash::current_session(k.store.conn()).unwrap(), None);

    // Closed: no more sales, movements or closing until the next session.
    assert_eq!(
        cash_app::session_for_sale(&k).unwrap_err().code(),
        "no_session"
    );
    assert_eq!(
        cash_app::movement(&mut k, 100, MovementReason::Other)
            .unwrap_err()
            .code(),
        "no_session"
    );
    assert_eq!(
        cash_app::close(&mut k, &counted).unwrap_err().code(),
        "no_session"
    );
    // A closed session's row cannot be rewritten.
    assert!(k
        .store
        .conn()
        .execute(
            "UPDATE cash_sessions SET counted_cents = 4520 WHERE id = ?1",
            [id]
        )
        .is_err());
    assert!(k
        .store
        .conn()
        .execute("DELETE FROM cash_movements", [])
        .is_err());

    // The next session starts afresh.
    let next = cash_app::open(&mut k, 4470).unwrap();
    assert_ne!(next, id);
    assert_eq!(cash::expected_cash(k.store.conn(), next).unwrap(), 4470);

    journal::verify(k.store.conn()).unwrap();
    sales::check_tables_agree(k.store.conn()).unwrap();

    // The Z report of the closed session, in French.
    let z = cash_app::z_report(&k, id).unwrap();
    let text = format!("{z:?}");
    for needle in [
        "RAPPORT Z",
        &format!("Session de caisse n° {id}"),
        "Ouverte le 17/06/2026 08:30 par Amina",
        "Fermée le 17/06/2026 12:35 par Amina",
        "Fonds de caisse",
        "Ventes en espèces",
        "Carte bancaire",
        "Chèques",
        "Apport de fonds",
        "Remise en banque",
        "Espèces attendues",
        "Espèces comptées",
        "Écart",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
}

#[test]
fn a_second_session_is_refused_while_one_is_open_and_nothing_changes() {
    let mut k = kiosk();
    cash_app::open(&mut k, 1000).unwrap();
    let before = (journal_len(&k), session_count(&k));
    let err = cash_app::open(&mut k, 1000).unwrap_err();
    assert_eq!(err.code(), "already_open");
    assert_eq!((journal_len(&k), session_count(&k)), before);
    // The store refuses it too, and the index holds even without the check.
    let now = k.clock.now();
    assert!(matches!(
        cash::open_session(k.store.conn(), 1, 0, now),
        Err(CashStoreError::AlreadyOpen(_))
    ));
    let kiosk_id = comptoir::store::meta::kiosk_id(k.store.conn()).unwrap();
    assert!(k
        .store
        .conn()
        .execute(
            "INSERT INTO cash_sessions (kiosk_id, opened_utc, opened_by, opened_seq, float_cents)
             VALUES (?1, '2026-06-17T06:30:00Z', 1, 1, 0)",
            [kiosk_id],
        )
        .is_err());
    assert_eq!((journal_len(&k), session_count(&k)), before);
}

#[test]
fn bad_amounts_and_people_without_the_right_are_refused_with_nothing_changed() {
    let mut k = kiosk();
    let before = (journal_len(&k), session_count(&k));
    assert_eq!(cash_app::open(&mut k, -1).unwrap_err().code(), "bad_amount");
    assert_eq!(
        cash_app::movement(&mut k, 100, MovementReason::Other)
            .unwrap_err()
            .code(),
        "no_session"
    );
    assert_eq!((journal_len(&k), session_count(&k)), before);

    // Nobody signed in.
    let amina = std::mem::take(&mut k.session);
    let err = cash_app::open(&mut k, 1000).unwrap_err();
    assert!(matches!(err, CashError::NotAllowed(_)));
    assert_eq!(err.code(), "not_allowed");
    assert_eq!((journal_len(&k), session_count(&k)), before);

    k.session = amina;
    let id = cash_app::open(&mut k, 1000).unwrap();
    let before = journal_len(&k);
    for (cents, reason) in [
        (0, MovementReason::Other),
        (-500, MovementReason::FloatTopUp),
        (500, MovementReason::BankDeposit),
    ] {
        assert_eq!(
            cash_app::movement(&mut k, cents, reason)
                .unwrap_err()
                .code(),
            "bad_amount"
        );
    }
    assert!(Denominations::new().with(300, 1).is_err());
    assert!(Denominations::new().with(100, -2).is_err());

    let signed_in = std::mem::take(&mut k.session);
    let counted = Denominations::new().with(500, 2).unwrap();
    assert_eq!(
        cash_app::movement(&mut k, 100, MovementReason::Other)
            .unwrap_err()
            .code(),
        "not_allowed"
    );
    assert_eq!(
        cash_app::close(&mut k, &counted).unwrap_err().code(),
        "not_allowed"
    );
    assert_eq!(
        cash_app::z_report(&k, id).unwrap_err().code(),
        "not_allowed"
    );
    assert_eq!(journal_len(&k), before);
    assert!(cash::current_session(k.store.conn()).unwrap().is_some());

    // A garden lead and an admin may do what a seller does.
    k.session = signed_in;
    let clock = k.clock.clone();
    k.session = signed_in_as(&k, &clock, "Nadia", "2468");
    cash_app::movement(&mut k, 500, MovementReason::FloatTopUp).unwrap();
    k.session = signed_in_as(&k, &clock, "Admin", "1234");
    let (_, closing) = cash_app::close(&mut k, &counted).unwrap();
    assert_eq!((closing.expected, closing.difference), (1500, -500));
    let row = cash::session(k.store.conn(), id).unwrap().unwrap();
    assert_ne!(row.opened_by, row.closed_by.unwrap());
    journal::verify(k.store.conn()).unwrap();
}

fn signed_in_as(k: &Kiosk, clock: &Clock, name: &str, pin: &str) -> Session {
    signed_in(&k.store, clock, name, pin)
}

#[test]
fn a_session_open_for_more_than_24_hours_must_be_closed_before_the_next_sale() {
    let mut k = kiosk();
    assert_eq!(
        cash_app::session_for_sale(&k).unwrap_err().code(),
        "no_session"
    );
    let id = cash_app::open(&mut k, 2000).unwrap();
    k.clock.advance(Duration::hours(24));
    assert_eq!(cash_app::session_for_sale(&k).unwrap(), id);
    k.clock.advance(Duration::seconds(1));
    let err = cash_app::session_for_sale(&k).unwrap_err();
    assert_eq!(err.code(), "session_too_old");
    let s = cash::current_session(k.store.conn()).unwrap().unwrap();
    assert!(cash::session_too_old(&s, k.clock.now()));
    assert!(!cash::session_too_old(&s, start() + Duration::hours(23)));

    // Closing it is still possible, and a fresh session sells again.
    let counted = Denominations::new().with(1000, 2).unwrap();
    let (_, closing) = cash_app::close(&mut k, &counted).unwrap();
    assert_eq!(closing.difference, 0);
    let closed = cash::session(k.store.conn(), id).unwrap().unwrap();
    assert!(!cash::session_too_old(&closed, k.clock.now()));
    let next = cash_app::open(&mut k, 2000).unwrap();
    assert_eq!(cash_app::session_for_sale(&k).unwrap(), next);
    journal::verify(k.store.conn()).unwrap();
}

#[test]
fn a_clock_behind_the_journal_refuses_cash_actions() {
    let mut k = kiosk();
    cash_app::open(&mut k, 1000).unwrap();
    let before = journal_len(&k);
    k.clock.advance(Duration::hours(-2));
    assert_eq!(
        cash_app::movement(&mut k, 100, MovementReason::FloatTopUp)
            .unwrap_err()
            .code(),
        "clock_behind"
    );
    let counted = Denominations::new();
    assert_eq!(
        cash_app::close(&mut k, &counted).unwrap_err().code(),
        "clock_behind"
    );
    assert_eq!(journal_len(&k), before);
}

#[test]
fn the_store_works_in_the_callers_transaction() {
    let mut k = kiosk();
    let now = k.clock.now();
    let before = (journal_len(&k), session_count(&k));
    {
        let tx = k.store.conn_mut().transaction().unwrap();
        let id = cash::open_session(&tx, 1, 1000, now).unwrap();
        cash::add_movement(&tx, id, 1, 500, MovementReason::FloatTopUp, now).unwrap();
        // Dropped without commit: everything goes.
    }
    assert_eq!((journal_len(&k), session_count(&k)), before);
    journal::verify(k.store.conn()).unwrap();
}
