//! Compost: cards read back from the `comptoir card` PNG, deposits through the UI with the
//! demo's scanner and scale on real pseudo-terminals, the duplicate guard, refused cards,
//! credits earned and spent at the stall, the chained credits ledger, anonymisation, bins and
//! the exports.

use chrono::{TimeZone, Utc};
use comptoir::app::compost::{self, Notice, Step};
use comptoir::app::devices::ScaleView;
use comptoir::app::{Clock, Kiosk, RunMode, Screen as AppScreen};
use comptoir::config::Config;
use comptoir::devices::scanner::ScannerEvent;
use comptoir::devices::{DeviceEvent, Devices};
use comptoir::domain::cart::PaymentMethod;
use comptoir::domain::metrology::{ScaleFault, WeighRefusal};
use comptoir::store::compost::{self as store, BinEvent, BinStatus, CardLookup, WasteKind};
use comptoir::store::people;
use comptoir::store::{Access, Store};
use comptoir::ui::{Screen, Ui};
use comptoir_hardware::cards::CardPayload;

use crate::common::run_comptoir as comptoir;
use crate::common::{label, screen, seeded_db, tap, wait_for};

/// 20 June 2026, 10:42 in Paris: after the seeded period.
fn clock() -> Clock {
    Clock::manual(Utc.with_ymd_and_hms(2026, 6, 20, 8, 42, 0).unwrap())
}

/// A kiosk on a fresh in-memory database with one resident (bucket 500 g) and one seller.
fn kiosk_with_resident() -> (Kiosk, i64, String) {
    let store = Store::open_in_memory().unwrap();
    let now = "2026-06-01T08:00:00Z";
    let (id, token) = {
        let c = store.conn();
        people::add_staff(
            c,
            "Amina",
            people::Role::Seller,
            &people::hash_pin("1111"),
            now,
        )
        .unwrap();
        let id = people::add_resident(
            c,
            &people::NewResident {
                nickname: Some("Mimi"),
                building: Some("Bât. A"),
                household_size: Some(2),
                language: "en",
                consent_date: Some("2026-06-01"),
            },
            now,
        )
        .unwrap();
        let token = people::new_token();
        people::issue_card(c, id, &token, now).unwrap();
        store::set_bucket_tare(c, id, Some(500), None, now).unwrap();
        store::add_bin(c, "M.O.T.E 1", BinStatus::Filling, now).unwrap();
        (id, token)
    };
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, clock());
    kiosk.screen = AppScreen::CompostIdle;
    (kiosk, id, token)
}

fn scale(k: &mut Kiosk, grams: i64, stable: bool) {
    k.devices.scale = ScaleView::Weight {
        grams,
        stable,
        net: false,
    };
}

fn scan(k: &mut Kiosk, token: &str) {
    k.apply_device_event(DeviceEvent::Scanner(ScannerEvent::Card {
        token: token.into(),
    }));
}

fn deposit_count(k: &Kiosk) -> i64 {
    k.store
        .conn()
        .query_row("SELECT count(*) FROM deposits", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_card_png_decodes_to_a_token_the_database_knows() {
    let (_dir, db, store) = seeded_db(3);
    let id = store::residents(store.conn())
        .unwrap()
        .into_iter()
        .find(|r| r.nickname.is_some())
        .unwrap()
        .id;
    // The card the resident holds (the demo seed's): it works before `comptoir card`.
    let old_card = comptoir::demo::seeded_card_token(store.conn(), id)
        .unwrap()
        .unwrap();
    assert_eq!(
        store::lookup_card(store.conn(), &old_card).unwrap(),
        CardLookup::Valid(id)
    );
    let cards_before = store::card_count(store.conn(), id).unwrap();
    drop(store);
    let out = db.parent().unwrap().join("card.png");
    let o = comptoir(&[
        "card",
        &id.to_string(),
        "--db",
        db.to_str().unwrap(),
        "--png",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("wrote card {id} {}", out.display())
    );
    let img = GreyImage::from_png(&std::fs::read(&out).unwrap());
    assert_eq!((img.w, img.h), (1011, 638));
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(img.w, img.h, |x, y| img.px[y * img.w + x]);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, text) = grids[0].decode().unwrap();
    assert!(text.starts_with("CPT"), "{text}");
    let payload = CardPayload::decode_exact(&text).unwrap();
    let store = Store::open(&db, Access::ReadOnly).unwrap();
    assert_eq!(
        store::lookup_card(store.conn(), &payload.token_hex()).unwrap(),
        CardLookup::Valid(id)
    );
    // Only the token's hash is kept, so the PNG is a new card: the old one stops working, and
    // both are in the resident's history.
    assert_eq!(
        store::lookup_card(store.conn(), &old_card).unwrap(),
        CardLookup::Revoked
    );
    assert_eq!(
        store::card_count(store.conn(), id).unwrap(),
        cards_before + 1
    );
    let events = store::resident_event_kinds(store.conn(), id).unwrap();
    assert_eq!(
        events[events.len() - 2..],
        ["card_revoked".to_string(), "card_issued".to_string()]
    );
    // No personal data in the code.
    let r = store::resident(store.conn(), id).unwrap().unwrap();
    assert!(!text.contains(r.nickname.as_deref().unwrap()));

    // Unknown residents are refused, and nothing is written.
    let missing = db.parent().unwrap().join("none.png");
    let o = comptoir(&[
        "card",
        "99999",
        "--db",
        db.to_str().unwrap(),
        "--png",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!missing.exists());
}

/// A PNG (grey or RGB, 8-bit or 1-bit) as dark/light pixels for rqrr.
struct GreyImage {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl GreyImage {
    fn from_png(bytes: &[u8]) -> GreyImage {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        let (w, h) = (info.width as usize, info.height as usize);
        let channels = info.color_type.samples();
        let px = (0..w * h)
            .map(|i| buf[i * channels * (info.bit_depth as usize / 8).max(1)])
            .collect();
        GreyImage { w, h, px }
    }
}

#[test]
fn a_deposit_earns_credits_and_the_ledger_is_chained() {
    let (mut k, id, token) = kiosk_with_resident();
    scan(&mut k, &token);
    assert_eq!(k.screen, AppScreen::CompostWeigh);
    assert_eq!(k.language, "en", "the resident's language");
    // Kitchen scraps, 3,000 kg in a 500 g bucket.
    scale(&mut k, 3500, true);
    assert_eq!(
        compost::confirm(&mut k).unwrap_err(),
        Notice::ChooseKind,
        "what was brought is asked first"
    );
    compost::choose_kind(&mut k, WasteKind::Kitchen);
    let thanks = compost::confirm(&mut k).unwrap();
    assert_eq!(thanks.net_g, 3000);
    assert_eq!(thanks.credits_earned, 30, "10 cents per kg");
    assert_eq!(thanks.co2e_total_g, 600, "200 g CO₂e per kg");
    assert_eq!(thanks.balance, 30);
    assert_eq!(k.screen, AppScreen::CompostThanks);
    compost::end(&mut k);
    assert_eq!(k.screen, AppScreen::CompostIdle);
    assert_eq!(k.language, "fr", "the kiosk's language comes back at idle");

    // The daily cap (1,00 €) limits what a big day earns.
    k.clock.advance(chrono::Duration::minutes(10));
    scan(&mut k, &token);
    scale(&mut k, 10_500, true);
    compost::choose_kind(&mut k, WasteKind::Coffee);
    assert_eq!(compost::confirm(&mut k).unwrap().credits_earned, 70);
    compost::end(&mut k);
    let conn = k.store.conn();
    assert_eq!(store::balance(conn, id).unwrap(), 100);
    assert_eq!(store::verify_credits(conn).unwrap(), 2);
    // The filling bin got both deposits.
    let bins = store::bins(conn).unwrap();
    assert_eq!(bins[0].filled_g, 13_000);

    // A spend above the balance is refused by the ledger itself.
    assert!(matches!(
        store::append_credit(
            conn,
            id,
            comptoir::domain::credits::CreditMove::Spent(101),
            None,
            None,
            "2026-06-20T09:00:00Z"
        ),
        Err(store::CompostError::AboveBalance { .. })
    ));
    let raw = conn.execute(
        "INSERT INTO credit_ledger (seq, kiosk_id, time_utc, resident_id, kind, cents, payload, prev_hash, hash)
         SELECT 3, kiosk_id, time_utc, resident_id, 'spent', -500, payload, hash, hash FROM credit_ledger WHERE seq = 2",
        [],
    );
    assert!(raw.is_err(), "the trigger refuses a negative balance");
    assert!(conn
        .execute("UPDATE credit_ledger SET cents = 1000 WHERE seq = 1", [])
        .is_err());

    // Tampering that gets past the triggers is found by the verification.
    conn.execute_batch("DROP TRIGGER credit_ledger_no_update")
        .unwrap();
    conn.execute("UPDATE credit_ledger SET cents = 1000 WHERE seq = 1", [])
        .unwrap();
    match store::verify_credits(conn) {
        Err(store::CompostError::Broken { seq, .. }) => assert_eq!(seq, 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_cards_and_bad_weighings_record_nothing() {
    let (mut k, id, token) = kiosk_with_resident();
    // Malformed, unknown.
    k.apply_device_event(DeviceEvent::Scanner(
        comptoir::devices::scanner::scan_event("CPTXXXX"),
    ));
    assert_eq!(k.compost.notice, Some(Notice::MalformedCard));
    scan(&mut k, &people::new_token());
    assert_eq!(k.compost.notice, Some(Notice::UnknownCard));
    assert_eq!(k.screen, AppScreen::CompostIdle);

    // Another resident's card while a deposit is in progress.
    scan(&mut k, &token);
    let other = people::new_token();
    {
        let c = k.store.conn();
        let id2 = people::add_resident(
            c,
            &people::NewResident {
                nickname: Some("Zoé"),
                building: None,
                household_size: None,
                language: "fr",
                consent_date: None,
            },
            "2026-06-01T08:00:00Z",
        )
        .unwrap();
        people::issue_card(c, id2, &other, "2026-06-01T08:00:00Z").unwrap();
    }
    scan(&mut k, &other);
    assert_eq!(k.compost.notice, Some(Notice::Busy));
    assert_eq!(k.compost.visit.as_ref().unwrap().resident_id, id);

    compost::choose_kind(&mut k, WasteKind::Kitchen);
    // The bucket lifted before confirming.
    scale(&mut k, 0, true);
    assert_eq!(
        compost::confirm(&mut k).unwrap_err(),
        Notice::Weigh(WeighRefusal::BelowMinimum)
    );
    // Not stable yet.
    scale(&mut k, 2000, false);
    assert_eq!(
        compost::confirm(&mut k).unwrap_err(),
        Notice::Weigh(WeighRefusal::Unstable)
    );
    // The scale unplugged mid-deposit: refused, the visit kept.
    k.devices.scale = ScaleView::Disconnected;
    assert_eq!(
        compost::confirm(&mut k).unwrap_err(),
        Notice::Weigh(WeighRefusal::ScaleError(ScaleFault::Disconnected))
    );
    assert!(k.compost.visit.is_some());
    // Above the maximum.
    scale(&mut k, 16_000, true);
    assert!(compost::confirm(&mut k).is_err());
    assert_eq!(deposit_count(&k), 0);

    // Without a registered bucket: full, then empty; an empty bucket heavier than the full one
    // is refused.
    compost::end(&mut k);
    k.store
        .conn()
        .execute(
            "UPDATE residents SET bucket_tare_g = NULL WHERE id = ?1",
            [id],
        )
        .unwrap();
    scan(&mut k, &token);
    assert_eq!(k.compost.visit.as_ref().unwrap().step, Step::WeighFull);
    compost::choose_kind(&mut k, WasteKind::Kitchen);
    scale(&mut k, 2400, true);
    assert!(compost::confirm(&mut k).is_err(), "the empty bucket first");
    compost::full_weighed(&mut k).unwrap();
    assert_eq!(
        k.compost.visit.as_ref().unwrap().step,
        Step::WeighEmpty { gross_g: 2400 }
    );
    scale(&mut k, 2600, true);
    assert_eq!(
        compost::confirm(&mut k).unwrap_err(),
        Notice::Weigh(WeighRefusal::Negative)
    );
    assert_eq!(deposit_count(&k), 0);
    scale(&mut k, 400, true);
    assert_eq!(compost::confirm(&mut k).unwrap().net_g, 2000);
    let d = store::resident_deposits(k.store.conn(), id).unwrap();
    assert_eq!(
        (d[0].gross_g, d[0].tare_g, d[0].tare_source.as_str()),
        (2400, 400, "weighed")
    );
    compost::end(&mut k);

    // The duplicate guard: a scan within two minutes asks first.
    k.clock.advance(chrono::Duration::seconds(90));
    scan(&mut k, &token);
    assert_eq!(k.compost.visit.as_ref().unwrap().step, Step::AskAnother);
    scale(&mut k, 2400, true);
    compost::choose_kind(&mut k, WasteKind::Kitchen);
    assert!(compost::confirm(&mut k).is_err(), "nothing counts twice");
    compost::another(&mut k);
    assert_eq!(k.compost.visit.as_ref().unwrap().step, Step::WeighFull);
    compost::end(&mut k);
    k.clock.advance(chrono::Duration::seconds(60));
    scan(&mut k, &token);
    assert_eq!(k.compost.visit.as_ref().unwrap().step, Step::WeighFull);
    compost::end(&mut k);

    // A revoked card.
    {
        let c = k.store.conn();
        store::revoke_card(c, id, None, "2026-06-20T09:00:00Z").unwrap();
    }
    scan(&mut k, &token);
    assert_eq!(k.compost.notice, Some(Notice::RevokedCard));
    assert_eq!(k.screen, AppScreen::CompostIdle);
    assert_eq!(deposit_count(&k), 1);
}

#[test]
fn an_anonymised_resident_leaves_every_total_unchanged() {
    let (_dir, db, mut store) = seeded_db(20);
    let before = store::grand_totals(store.conn()).unwrap();
    assert!(before.deposits > 20, "{before:?}");
    let stats_before = store::stats(store.conn(), "m0000", "m9999", Some("all")).unwrap();
    let id: i64 = store
        .conn()
        .query_row(
            "SELECT resident_id FROM deposits WHERE resident_id IS NOT NULL GROUP BY resident_id ORDER BY count(*) DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let balance = store::balance(store.conn(), id).unwrap();
    {
        let tx = store.write().unwrap();
        store::anonymise(&tx, id, None, "2026-06-14T09:00:00Z").unwrap();
        tx.commit().unwrap();
    }
    let r = store::resident(store.conn(), id).unwrap().unwrap();
    assert_eq!(
        (r.nickname, r.building, r.household_size),
        (None, None, None)
    );
    assert!(r.anonymised_utc.is_some());
    assert!(!store::has_valid_card(store.conn(), id).unwrap());
    assert_eq!(store::grand_totals(store.conn()).unwrap(), before);
    assert_eq!(store::balance(store.conn(), id).unwrap(), balance);
    assert_eq!(
        store::stats(store.conn(), "m0000", "m9999", Some("all")).unwrap(),
        stats_before
    );
    // A second time is refused; the resident's export still answers by internal id.
    assert!(matches!(
        store::anonymise(store.conn(), id, None, "2026-06-14T09:00:00Z"),
        Err(store::CompostError::Anonymised(_))
    ));
    drop(store);
    let o = comptoir(&[
        "resident",
        "export",
        &id.to_string(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["resident"]["nickname"], serde_json::Value::Null);
    assert_eq!(v["credits_balance_cents"], balance);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("token"));
    let o = comptoir(&[
        "card",
        &id.to_string(),
        "--db",
        db.to_str().unwrap(),
        "--png",
        "/dev/null",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "no card for an anonymised resident"
    );
    let o = comptoir(&["resident", "export", "99999", "--db", db.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
}

/// The SQL of schema 11's `cards` row for a resident registered with a plain token.
fn old_schema_db_with_a_card(path: &std::path::Path, token: &str) -> i64 {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    comptoir::store::migrations::migrate_to(&mut conn, 11).unwrap();
    comptoir::store::meta::ensure_kiosk_id(&conn).unwrap();
    conn.execute(
        "INSERT INTO residents (nickname, language, created_utc) VALUES ('Mimi', 'fr', '2026-01-05T09:00:00Z')",
        [],
    )
    .unwrap();
    let id = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO cards (resident_id, token, issued_utc) VALUES (?1, ?2, '2026-01-05T09:00:00Z')",
        rusqlite::params![id, token],
    )
    .unwrap();
    id
}

#[test]
fn cards_issued_before_tokens_were_hashed_keep_working_and_the_file_holds_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    let token = people::new_token();
    let id = old_schema_db_with_a_card(&db, &token);
    let bytes = std::fs::read(&db).unwrap();
    assert!(
        bytes.windows(token.len()).any(|w| w == token.as_bytes()),
        "the old schema keeps the token itself"
    );
    // Opening migrates: the same card is still the resident's, found by its hash.
    let store = Store::open(&db, Access::ReadWrite).unwrap();
    assert_eq!(
        store::lookup_card(store.conn(), &token).unwrap(),
        CardLookup::Valid(id)
    );
    assert_eq!(
        people::resident_by_token(store.conn(), &token).unwrap(),
        Some(id)
    );
    let stored: String = store
        .conn()
        .query_row("SELECT token_sha256 FROM cards", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, people::token_hash(&token));
    assert_ne!(stored, token);
    // The scanner reads the card as before.
    let mut k = Kiosk::new(store, Config::default(), RunMode::Demo, clock());
    k.screen = AppScreen::CompostIdle;
    scan(&mut k, &token);
    assert_eq!(k.screen, AppScreen::CompostWeigh);
    drop(k);
    // Nothing of the token is left in the files: the migration overwrites what it replaces.
    for file in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()));
    }
}

#[test]
fn printing_a_card_again_makes_a_new_one_the_card_just_made_prints_as_it_is() {
    use comptoir::app::residents::{self, Registration};
    let (mut k, _id, _token) = kiosk_with_resident();
    let seller = people::active_staff(k.store.conn()).unwrap().remove(0);
    k.session.assume(seller);
    let printer = crate::common::text_printer();
    let form = Registration {
        nickname: "Lou".into(),
        language: "fr".into(),
        household_size: Some(2),
        ..Registration::default()
    };
    let card = residents::register(&mut k, &form).unwrap();
    let id = card.resident_id;
    assert_eq!(
        store::lookup_card(k.store.conn(), &card.token).unwrap(),
        CardLookup::Valid(id)
    );
    // Printed right after the registration: the same card, nothing new issued.
    residents::print_card(&mut k, &printer, id, Some(card.clone())).unwrap();
    assert_eq!(store::card_count(k.store.conn(), id).unwrap(), 1);
    let jobs = |k: &Kiosk| -> Vec<Vec<u8>> {
        let mut st = k
            .store
            .conn()
            .prepare("SELECT data FROM print_queue ORDER BY id")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(jobs(&k).len(), 1);
    // Printed again later (the token cannot be read back): a new card, the old one refused.
    residents::print_card(&mut k, &printer, id, None).unwrap();
    assert_eq!(store::card_count(k.store.conn(), id).unwrap(), 2);
    assert_eq!(
        store::lookup_card(k.store.conn(), &card.token).unwrap(),
        CardLookup::Revoked
    );
    assert_eq!(jobs(&k).len(), 2);
    let events = store::resident_event_kinds(k.store.conn(), id).unwrap();
    assert_eq!(
        events,
        ["registered", "card_issued", "card_revoked", "card_issued"]
    );
    // A stale "card just made" (another resident's, or revoked since) is not printed.
    residents::print_card(&mut k, &printer, id, Some(card)).unwrap();
    assert_eq!(store::card_count(k.store.conn(), id).unwrap(), 3);
    // Nowhere in the database is a token of these cards, only hashes.
    let tokens: i64 = k
        .store
        .conn()
        .query_row(
            "SELECT count(*) FROM cards WHERE length(token_sha256) <> 64",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tokens, 0);
}

#[test]
fn retention_anonymises_inactive_residents_without_deleting() {
    let (mut k, id, _token) = kiosk_with_resident();
    assert_eq!(compost::apply_retention(&mut k).unwrap(), 0);
    k.clock.advance(chrono::Duration::days(800));
    assert_eq!(compost::apply_retention(&mut k).unwrap(), 1);
    let r = store::resident(k.store.conn(), id).unwrap().unwrap();
    assert!(r.anonymised_utc.is_some());
    assert_eq!(store::residents(k.store.conn()).unwrap().len(), 1);
}

#[test]
fn credits_pay_part_of_a_ticket_at_the_stall() {
    use comptoir::app::sell;
    let (mut k, id, token) = kiosk_with_resident();
    // Earn 1,00 € (the daily cap).
    scan(&mut k, &token);
    scale(&mut k, 10_500, true);
    compost::choose_kind(&mut k, WasteKind::Kitchen);
    compost::confirm(&mut k).unwrap();
    compost::end(&mut k);
    // Sell: a seller, the register open, 3,00 € of "divers".
    let amina = people::active_staff(k.store.conn()).unwrap().remove(0);
    k.session.assume(amina);
    comptoir::app::cash::open(&mut k, 5000).unwrap();
    sell::choose_divers(&mut k).unwrap();
    for d in "300".chars() {
        sell::qty_digit(&mut k, d).unwrap();
    }
    sell::add_divers(&mut k).unwrap();
    k.navigate(AppScreen::SellPay);
    assert_eq!(k.screen, AppScreen::SellPay);
    // Credits without a card: refused.
    assert!(sell::pay(&mut k, PaymentMethod::Credits).is_err());
    // The card is scanned on the payment screen.
    scan(&mut k, &token);
    assert_eq!(sell::credits_status(&k), Some((id, 100, 100)));
    // More than half the ticket is refused (1,60 € > 1,50 €); more than the balance too.
    for d in "160".chars() {
        sell::pay_digit(&mut k, d).unwrap();
    }
    assert_eq!(
        sell::pay(&mut k, PaymentMethod::Credits)
            .unwrap_err()
            .code(),
        "credits_above_balance"
    );
    sell::clear_payments(&mut k).unwrap();
    // Nothing typed: the most allowed (1,00 €, the balance), then cash for the rest.
    assert_eq!(sell::pay(&mut k, PaymentMethod::Credits).unwrap(), None);
    let done = sell::pay(&mut k, PaymentMethod::Cash).unwrap().unwrap();
    assert_eq!(done.total, 300);
    assert_eq!(store::balance(k.store.conn(), id).unwrap(), 0);
    let stored = comptoir::store::sales::sale(k.store.conn(), done.seq)
        .unwrap()
        .unwrap();
    assert_eq!(stored.paid_with(PaymentMethod::Credits), 100);
    assert_eq!(stored.total_cents, 300, "VAT totals on the whole ticket");
    assert_eq!(
        store::credits_spent_on_sale(k.store.conn(), done.seq).unwrap(),
        Some((id, 100))
    );
    // The journal entry of the sale says so.
    let entry = comptoir::store::journal::entry(k.store.conn(), done.seq)
        .unwrap()
        .unwrap();
    assert!(entry.payload.contains("\"credits\""), "{}", entry.payload);
    // Cancelling the sale gives the credits back.
    sell::refund_sale(&mut k, done.seq).unwrap();
    assert_eq!(store::balance(k.store.conn(), id).unwrap(), 100);
    assert_eq!(store::verify_credits(k.store.conn()).unwrap(), 3);
}

#[test]
fn bins_keep_a_log_and_one_fills_at_a_time() {
    let store = Store::open_in_memory().unwrap();
    let c = store.conn();
    let t = "2026-06-01T08:00:00Z";
    let a = store::add_bin(c, "M.O.T.E 1", BinStatus::Filling, t).unwrap();
    let b = store::add_bin(c, "M.O.T.E 2", BinStatus::Maturing, t).unwrap();
    store::log_bin(c, a, BinEvent::Turned, None, "2026-06-02T08:00:00Z").unwrap();
    store::log_bin(
        c,
        a,
        BinEvent::Temperature(455),
        None,
        "2026-06-03T08:00:00Z",
    )
    .unwrap();
    store::log_bin(
        c,
        b,
        BinEvent::Status(BinStatus::Filling),
        None,
        "2026-06-04T08:00:00Z",
    )
    .unwrap();
    let bins = store::bins(c).unwrap();
    assert_eq!(bins[0].status, BinStatus::Maturing, "only one bin fills");
    assert_eq!(bins[1].status, BinStatus::Filling);
    assert_eq!(
        bins[0].last_turned_utc.as_deref(),
        Some("2026-06-02T08:00:00Z")
    );
    assert_eq!(
        bins[0].last_temperature,
        Some(("2026-06-03T08:00:00Z".into(), 455))
    );
    assert_eq!(store::filling_bin(c).unwrap(), Some(b));
    assert!(store::log_bin(c, 99, BinEvent::Turned, None, t).is_err());
    assert!(c.execute("DELETE FROM compost_bin_log", []).is_err());
}

#[test]
fn exports_give_deposits_by_internal_id_and_impact_by_period() {
    let (_dir, db, store) = seeded_db(20);
    let n = store::grand_totals(store.conn()).unwrap().deposits;
    drop(store);
    let db = db.to_str().unwrap();
    let o = comptoir(&["export", "deposits", "--db", db, "--to", "2026-06-13"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = String::from_utf8(o.stdout).unwrap();
    let mut lines = text.split("\r\n");
    assert_eq!(
        lines.next().unwrap(),
        "deposit_id,time_utc,local_date,resident_id,source,kind,gross_g,tare_g,net_g,co2e_g,credits_cents,bin_id"
    );
    assert_eq!(lines.filter(|l| !l.is_empty()).count() as i64, n);
    assert!(!text.contains("Mimi") && !text.contains("Bât"));

    let o = comptoir(&[
        "export",
        "impact",
        "--db",
        db,
        "--from",
        "2026-01-01",
        "--to",
        "2026-06-13",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let year: Vec<_> = rows
        .iter()
        .filter(|r| r["granularity"] == "year" && r["dimension"] == "all")
        .collect();
    assert_eq!(year.len(), 1);
    let months: i64 = rows
        .iter()
        .filter(|r| r["granularity"] == "month" && r["dimension"] == "all")
        .map(|r| r["net_g"].as_i64().unwrap())
        .sum();
    assert_eq!(year[0]["net_g"].as_i64().unwrap(), months);
    // No building group of fewer than 3 households.
    assert!(rows
        .iter()
        .filter(|r| r["dimension"] == "building" && r["key"] != "other")
        .all(|r| r["households"].as_i64().unwrap() >= 3));
    let o = comptoir(&[
        "export",
        "impact",
        "--db",
        db,
        "--from",
        "2026-06-13",
        "--to",
        "2026-01-01",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// The whole deposit through the UI: the demo's scanner simulator on a pty reads the card,
/// the resident is greeted, the simulated scale weighs the bucket, kitchen scraps, confirm,
/// thanks; then a revoked card and a misread are refused on the idle screen.
#[test]
fn a_deposit_through_the_ui_with_the_scanner_and_the_scale() {
    i_slint_backend_testing::init_no_event_loop();
    let (dir, db, store) = seeded_db(1);
    let resident = store::residents(store.conn())
        .unwrap()
        .into_iter()
        .find(|r| r.nickname.is_some() && r.bucket_tare_g.is_some())
        .unwrap();
    let token = comptoir::demo::seeded_card_token(store.conn(), resident.id)
        .unwrap()
        .unwrap();
    let payload = CardPayload::from_token(people::token_bytes(&token).unwrap()).encode();
    let before = store::grand_totals(store.conn()).unwrap();
    let devices = Devices::start_demo(&db, &dir.path().join("receipts")).unwrap();
    // The day after the seeded history: no date to confirm before deposits.
    let day_after = Clock::manual(Utc.with_ymd_and_hms(2026, 6, 14, 8, 42, 0).unwrap());
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, day_after);
    kiosk.language = "en".into();
    kiosk.screen = AppScreen::CompostIdle;
    let ui = Ui::with_devices(kiosk, devices).unwrap();
    ui.refresh();
    assert_eq!(screen(&ui), Screen::CompostIdle);
    let show = &["compost-notice", "compost-weight", "compost-idle-notice"];

    // A misread card is refused with a notice, nothing starts.
    assert!(ui.devices.borrow().demo_scan("CPTBBBBBBBB"));
    wait_for(&ui, "a refused card", show, |ui| {
        !label(ui, "compost-idle-notice").is_empty()
    });
    assert_eq!(screen(&ui), Screen::CompostIdle);

    // The card: greeted by nickname, in the resident's language.
    assert!(ui.devices.borrow().demo_scan(&payload));
    wait_for(&ui, "the greeting", show, |ui| {
        screen(ui) == Screen::CompostWeigh
    });
    let nick = resident.nickname.clone().unwrap();
    assert!(label(&ui, "compost-greeting").contains(&nick));
    assert_eq!(ui.kiosk.borrow().language, resident.language);

    // The bucket on the scale: the live net is the reading less the bucket.
    let tare = resident.bucket_tare_g.unwrap();
    assert!(ui.devices.borrow().demo_scale(&(2345 + tare).to_string()));
    wait_for(&ui, "the live net weight", show, |ui| {
        label(ui, "compost-weight").replace('.', ",") == "2,345 kg"
    });
    tap(&ui, "kind-kitchen");
    tap(&ui, "compost-confirm");
    wait_for(&ui, "the thanks", show, |ui| {
        screen(ui) == Screen::CompostThanks
    });
    assert_eq!(label(&ui, "thanks-net").replace('.', ","), "2,345 kg");
    let after = store::grand_totals(ui.kiosk.borrow().store.conn()).unwrap();
    assert_eq!(after.deposits, before.deposits + 1);
    assert_eq!(after.grams, before.grams + 2345);

    // Back to idle after a few seconds, in the kiosk's language.
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(
        compost::THANKS_SECONDS + 1,
    ));
    assert_eq!(screen(&ui), Screen::CompostIdle);
    assert_eq!(ui.kiosk.borrow().language, "en");

    // The same card again within two minutes: "another deposit?".
    assert!(ui.devices.borrow().demo_scan(&payload));
    wait_for(&ui, "the duplicate question", show, |ui| {
        screen(ui) == Screen::CompostWeigh && !label(ui, "compost-ask-another").is_empty()
    });
    tap(&ui, "compost-not-another");
    assert_eq!(screen(&ui), Screen::CompostIdle);

    // The card once more, then nobody touches anything: the idle screen is back after a minute.
    assert!(ui.devices.borrow().demo_scan(&payload));
    wait_for(&ui, "the duplicate question again", show, |ui| {
        screen(ui) == Screen::CompostWeigh
    });
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(
        compost::RESIDENT_IDLE_SECONDS + 1,
    ));
    assert_eq!(screen(&ui), Screen::CompostIdle);
    assert_eq!(ui.kiosk.borrow().language, "en");

    // A revoked card.
    {
        let k = ui.kiosk.borrow();
        store::revoke_card(k.store.conn(), resident.id, None, "2026-06-14T08:50:00Z").unwrap();
    }
    assert!(ui.devices.borrow().demo_scan(&payload));
    wait_for(&ui, "the revoked card", show, |ui| {
        label(ui, "compost-idle-notice").contains("no longer valid")
    });
    assert_eq!(screen(&ui), Screen::CompostIdle);
    let last = store::grand_totals(ui.kiosk.borrow().store.conn()).unwrap();
    assert_eq!(last.deposits, after.deposits);
}

/// A resident whose card is read by a keyboard-wedge reader, and who then touches nothing (no
/// bucket, no choice): a minute later the composter's idle screen is back, in the kiosk's
/// language, and nothing was recorded.
#[test]
fn a_wedge_scan_without_a_touch_goes_back_to_idle_after_a_minute() {
    use comptoir::ui::AppState;
    use slint::ComponentHandle;
    i_slint_backend_testing::init_no_event_loop();
    let store = comptoir::cli::builtin_demo_store().unwrap();
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, clock());
    kiosk.language = "fr".into();
    let ui = Ui::new(kiosk).unwrap();
    tap(&ui, "area-compost");
    assert_eq!(screen(&ui), Screen::CompostIdle);
    let (payload, language) = {
        let k = ui.kiosk.borrow();
        let r = store::residents(k.store.conn())
            .unwrap()
            .into_iter()
            .find(|r| r.language != "fr" && r.nickname.is_some() && r.anonymised_utc.is_none())
            .expect("a resident who does not speak French in the demo data");
        let token = comptoir::demo::seeded_card_token(k.store.conn(), r.id)
            .unwrap()
            .unwrap();
        (
            CardPayload::from_token(people::token_bytes(&token).unwrap()).encode(),
            r.language,
        )
    };
    let before = deposit_count(&ui.kiosk.borrow());
    ui.window
        .global::<AppState>()
        .invoke_key_typed(format!("{payload}\n").into());
    assert_eq!(screen(&ui), Screen::CompostWeigh);
    assert_eq!(ui.window.global::<AppState>().get_language(), language);
    // Half a minute: still their deposit.
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(30));
    assert_eq!(screen(&ui), Screen::CompostWeigh);
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(
        compost::RESIDENT_IDLE_SECONDS - 30 + 1,
    ));
    assert_eq!(screen(&ui), Screen::CompostIdle);
    assert_eq!(ui.window.global::<AppState>().get_language(), "fr");
    assert_eq!(label(&ui, "compost-scan-title"), "Scannez votre carte");
    assert!(ui.kiosk.borrow().compost.visit.is_none());
    assert_eq!(deposit_count(&ui.kiosk.borrow()), before);
}

/// A resident's details change after registration (sellers and above): the next scan greets
/// them in their new language with their new bucket; bad input is refused and changes nothing;
/// every change is an `updated` event, and nothing unchanged is recorded.
#[test]
fn a_sellers_changes_to_a_resident_are_checked_and_recorded() {
    use comptoir::app::residents::{self, Registration, ResidentError};
    let (mut k, id, token) = kiosk_with_resident();
    let events = |k: &Kiosk| store::resident_event_kinds(k.store.conn(), id).unwrap();
    let before = store::resident(k.store.conn(), id).unwrap().unwrap();
    let mut form = Registration::of(&before);
    assert_eq!(form.nickname, "Mimi");
    assert_eq!(form.bucket_tare_g, Some(500));
    form.nickname = "  Mimi B. ".into();
    form.building = "Tour Anjou".into();
    form.household_size = Some(3);
    form.language = "tr".into();
    form.bucket_tare_g = Some(800);
    // Nobody signed in: refused.
    assert!(matches!(
        residents::update(&mut k, id, &form),
        Err(ResidentError::Denied(_))
    ));
    let amina = people::active_staff(k.store.conn()).unwrap().remove(0);
    k.session.assume(amina);
    let n_events = events(&k).len();
    assert!(residents::update(&mut k, id, &form).unwrap());
    let after = store::resident(k.store.conn(), id).unwrap().unwrap();
    assert_eq!(after.nickname.as_deref(), Some("Mimi B."));
    assert_eq!(after.building.as_deref(), Some("Tour Anjou"));
    assert_eq!(after.household_size, Some(3));
    assert_eq!(after.language, "tr");
    assert_eq!(after.bucket_tare_g, Some(800));
    assert_eq!(after.created_utc, before.created_utc);
    assert_eq!(after.consent_date, before.consent_date);
    assert_eq!(events(&k).len(), n_events + 1);
    assert_eq!(events(&k).last().unwrap(), "updated");
    // The same again: nothing to record.
    assert!(!residents::update(&mut k, id, &form).unwrap());
    assert_eq!(events(&k).len(), n_events + 1);

    // Bad input: refused, nothing changed, nothing recorded.
    let too_long = "x".repeat(41);
    for (bad, expected) in [
        (
            Registration {
                nickname: too_long.clone(),
                ..form.clone()
            },
            "bad_nickname",
        ),
        (
            Registration {
                building: too_long.clone(),
                ..form.clone()
            },
            "bad_building",
        ),
        (
            Registration {
                household_size: Some(0),
                ..form.clone()
            },
            "bad_household",
        ),
        (
            Registration {
                household_size: Some(21),
                ..form.clone()
            },
            "bad_household",
        ),
        (
            Registration {
                language: "de".into(),
                ..form.clone()
            },
            "bad_language",
        ),
        (
            Registration {
                bucket_tare_g: Some(0),
                ..form.clone()
            },
            "bad_bucket",
        ),
        (
            Registration {
                bucket_tare_g: Some(5001),
                ..form.clone()
            },
            "bad_bucket",
        ),
    ] {
        let e = residents::update(&mut k, id, &bad).unwrap_err();
        assert_eq!(e.code(), expected, "{bad:?}");
        assert!(
            residents::register(&mut k, &bad).is_err(),
            "registration checks the same: {bad:?}"
        );
    }
    assert_eq!(store::resident(k.store.conn(), id).unwrap().unwrap(), after);
    assert_eq!(events(&k).len(), n_events + 1);
    // 40 characters is fine; an empty nickname and building too (residents are pseudonymous).
    let forty = Registration {
        nickname: "é".repeat(40),
        ..form.clone()
    };
    assert!(residents::update(&mut k, id, &forty).unwrap());
    let anonymous = Registration {
        nickname: " ".into(),
        building: String::new(),
        bucket_tare_g: None,
        ..form.clone()
    };
    assert!(residents::update(&mut k, id, &anonymous).unwrap());
    let r = store::resident(k.store.conn(), id).unwrap().unwrap();
    assert_eq!(
        (r.nickname, r.building, r.bucket_tare_g),
        (None, None, None)
    );
    assert!(matches!(
        residents::update(&mut k, 9999, &form),
        Err(ResidentError::Unknown)
    ));
    residents::update(&mut k, id, &form).unwrap();

    // The next scan: in Turkish, with the 800 g bucket.
    k.session = Default::default();
    k.screen = AppScreen::CompostIdle;
    scan(&mut k, &token);
    assert_eq!(k.screen, AppScreen::CompostWeigh);
    assert_eq!(k.language, "tr");
    let v = k.compost.visit.clone().unwrap();
    assert_eq!(v.bucket_tare_g, Some(800));
    assert_eq!(v.nickname.as_deref(), Some("Mimi B."));
    compost::end(&mut k);

    // An anonymised resident stays anonymised.
    let admin_store = &k.store;
    store::anonymise(admin_store.conn(), id, None, "2026-06-20T09:00:00Z").unwrap();
    let amina = people::active_staff(k.store.conn()).unwrap().remove(0);
    k.session.assume(amina);
    assert!(matches!(
        residents::update(&mut k, id, &form),
        Err(ResidentError::Anonymised)
    ));
    assert_eq!(
        store::resident(k.store.conn(), id)
            .unwrap()
            .unwrap()
            .nickname,
        None
    );
}

/// The residents' screen from the administration's tabs, and a resident's details changed
/// there by touch: the form opens on their details, the keyboard types into the focused
/// field, the household and language change, the change is saved and shown.
#[test]
fn an_admin_changes_a_residents_details_from_the_residents_tab() {
    use comptoir::ui::ResidentsAdapter;
    use slint::ComponentHandle;
    i_slint_backend_testing::init_no_event_loop();
    let store = comptoir::cli::builtin_demo_store().unwrap();
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, clock());
    kiosk.language = "en".into();
    let ui = Ui::new(kiosk).unwrap();
    tap(&ui, "area-admin");
    let admin = people::active_staff(ui.kiosk.borrow().store.conn())
        .unwrap()
        .into_iter()
        .find(|s| s.name == "Admin")
        .unwrap()
        .id;
    tap(&ui, &format!("staff-{admin}"));
    for d in "1234".chars() {
        tap(&ui, &format!("key-{d}"));
    }
    tap(&ui, "key-ok");
    assert_eq!(screen(&ui), Screen::AdminStaff);
    assert_eq!(label(&ui, "tab-residents"), "Residents");
    tap(&ui, "tab-residents");
    assert_eq!(screen(&ui), Screen::AdminResidents);
    // The tabs are there for an admin, the residents' tab chosen.
    assert!(crate::common::by_id(&ui, "tab-staff").is_some());
    let r = store::residents(ui.kiosk.borrow().store.conn())
        .unwrap()
        .into_iter()
        .find(|r| r.anonymised_utc.is_none() && r.nickname.is_some() && r.language != "ar")
        .unwrap();
    // The list scrolls: choose through the adapter (rows out of view are not found).
    ui.window
        .global::<ResidentsAdapter>()
        .invoke_select(r.id as i32);
    assert!(label(&ui, "resident-details").starts_with(&format!("N° {}", r.id)));
    tap(&ui, "resident-edit");
    assert!(
        crate::common::by_id(&ui, "tab-staff").is_none(),
        "the form takes the room"
    );
    assert_eq!(
        crate::common::by_id(&ui, "resident-nickname")
            .unwrap()
            .accessible_value()
            .unwrap(),
        r.nickname.clone().unwrap()
    );
    // Two letters more to the nickname, a new building typed in its own field.
    tap(&ui, "kb-z");
    tap(&ui, "kb-z");
    tap(&ui, "resident-building");
    for _ in 0..40 {
        tap(&ui, "kb-erase");
    }
    for key in ["shift", "b", "space", "shift", "z"] {
        tap(&ui, &format!("kb-{key}"));
    }
    let household = r.household_size.unwrap_or(1);
    tap(&ui, "household-plus");
    tap(&ui, "lang-ar");
    tap(&ui, "resident-save");
    assert_eq!(
        label(&ui, "resident-message"),
        "Changes saved.",
        "{}",
        label(&ui, "resident-form-message")
    );
    let after = store::resident(ui.kiosk.borrow().store.conn(), r.id)
        .unwrap()
        .unwrap();
    assert_eq!(
        after.nickname.unwrap(),
        format!("{}zz", r.nickname.unwrap())
    );
    assert_eq!(after.building.as_deref(), Some("B Z"));
    assert_eq!(after.household_size, Some((household + 1).min(20)));
    assert_eq!(after.language, "ar");
    assert_eq!(
        store::resident_event_kinds(ui.kiosk.borrow().store.conn(), r.id)
            .unwrap()
            .last()
            .unwrap(),
        "updated"
    );
    // Household size 0 cannot be reached: the minus button stops at 1.
    tap(&ui, "resident-edit");
    for _ in 0..25 {
        tap(&ui, "household-minus");
    }
    assert_eq!(label(&ui, "household"), "1");
    tap(&ui, "resident-cancel");
    assert_eq!(
        store::resident(ui.kiosk.borrow().store.conn(), r.id)
            .unwrap()
            .unwrap()
            .household_size,
        Some((household + 1).min(20)),
        "cancelled: nothing saved"
    );
}

/// The impact screen's households are those active in the periods shown, each counted once:
/// two residents depositing in different months are two households over the 12 months, where
/// the busiest month had one.
#[test]
fn impact_households_are_those_active_in_the_periods_shown() {
    use chrono::NaiveDate;
    let (mut k, a, _) = kiosk_with_resident();
    let b = people::add_resident(
        k.store.conn(),
        &people::NewResident {
            nickname: Some("Lou"),
            building: Some("Bât. A"),
            household_size: Some(4),
            language: "fr",
            consent_date: Some("2026-06-01"),
        },
        "2026-04-01T08:00:00Z",
    )
    .unwrap();
    let credits = compost::credits_config(&k.config.compost);
    let deposit = |k: &mut Kiosk, resident: i64, day: NaiveDate| {
        let now = day.and_hms_opt(9, 0, 0).unwrap().and_utc();
        let tx = k.store.write().unwrap();
        store::record_deposit(
            &tx,
            &store::NewDeposit {
                resident_id: Some(resident),
                kind: WasteKind::Kitchen,
                gross_g: 1500,
                tare_g: 500,
                tare_source: store::TareSource::Bucket,
                reference: None,
            },
            &credits,
            now,
            day,
            &comptoir::store::utc_text(day.and_hms_opt(0, 0, 0).unwrap().and_utc()),
        )
        .unwrap();
        tx.commit().unwrap();
    };
    let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    deposit(&mut k, a, d(4, 10));
    deposit(&mut k, a, d(4, 17));
    deposit(&mut k, b, d(5, 12));
    deposit(&mut k, a, d(6, 2));
    let today = d(6, 20);
    let months = compost::impact(k.store.conn(), "month", today).unwrap();
    assert_eq!(months.totals.deposits, 4);
    assert_eq!(months.totals.households, 2, "a and b, each once");
    let weeks = compost::impact(k.store.conn(), "week", today).unwrap();
    assert_eq!(weeks.totals.households, 2, "12 weeks reach back to April");
    // Per building: both live in Bât. A (fewer than 3: merged into "other").
    let other = months.buildings.iter().find(|r| r.key == "other").unwrap();
    assert_eq!(other.households, 2);
    assert_eq!(other.deposits, 4);
    // Only June: one household.
    let june =
        comptoir::store::compost::active_households(k.store.conn(), "m2026-06", "m2026-06", "all")
            .unwrap();
    assert_eq!(june, vec![(String::new(), 1)]);
}

/// A config with the compost-only hours, in `timezone`, on a kiosk whose clock reads `utc`.
fn scheduled_kiosk(timezone: &str, hours: &str, utc: chrono::DateTime<Utc>) -> Kiosk {
    let text = format!("timezone = \"{timezone}\"\n[compost]\nonly_hours = [{hours}]\n");
    let config = Config::parse(std::path::Path::new("config.toml"), &text).unwrap();
    let store = comptoir::cli::builtin_demo_store().unwrap();
    Kiosk::new(store, config, RunMode::Demo, Clock::manual(utc))
}

/// The compost-only hours: evaluated on the kiosk's clock in the configured time zone; the
/// mode changes at the next idle moment, never under a member of staff at work.
#[test]
fn the_compost_only_hours_switch_the_kiosk_when_idle() {
    // Monday 15 June 2026, 07:59 in Paris (05:59 UTC).
    let at = Utc.with_ymd_and_hms(2026, 6, 15, 5, 59, 0).unwrap();
    let hours = r#""Mon-Fri 08:00-12:00", "Sat 14:00-18:00""#;
    let mut k = scheduled_kiosk("Europe/Paris", hours, at);
    assert!(!k.compost.compost_only);
    assert_eq!(k.screen, AppScreen::Home);
    assert!(!compost::follow_schedule(&mut k));
    // The same instant is 01:59 in Martinique, 14:59 in Tokyo: the configured zone decides.
    assert!(!compost::scheduled_compost_only(
        &scheduled_kiosk("America/Martinique", hours, at).config,
        at + chrono::Duration::minutes(2)
    ));
    assert!(compost::scheduled_compost_only(
        &k.config,
        at + chrono::Duration::minutes(2)
    ));
    assert!(!compost::scheduled_compost_only(
        &k.config,
        at + chrono::Duration::hours(4) + chrono::Duration::minutes(1)
    ));

    // An admin at work when the hours begin is not cut off.
    let admin = people::active_staff(k.store.conn())
        .unwrap()
        .into_iter()
        .find(|s| s.role == people::Role::Admin)
        .unwrap();
    k.session.assume(admin.clone());
    k.navigate(AppScreen::AdminStaff);
    k.clock.advance(chrono::Duration::minutes(2));
    assert!(!compost::follow_schedule(&mut k));
    assert_eq!(k.screen, AppScreen::AdminStaff);
    assert!(!k.compost.compost_only);
    assert_eq!(
        k.navigate(AppScreen::AdminProducts),
        comptoir::app::Navigation::Shown(AppScreen::AdminProducts)
    );
    // Signed out (to the home screen): now the composter's screen, in compost-only mode.
    {
        let Kiosk {
            session,
            store,
            clock,
            ..
        } = &mut k;
        session.sign_out(store, clock, false, "admin.products");
    }
    k.screen = AppScreen::Home;
    assert!(compost::follow_schedule(&mut k));
    assert!(k.compost.compost_only);
    assert_eq!(k.screen, AppScreen::CompostIdle);
    assert!(!compost::follow_schedule(&mut k), "nothing more to do");
    // Compost-only: the home screen is not reachable without a PIN; with one, everything is.
    assert_eq!(
        k.navigate(AppScreen::Home),
        comptoir::app::Navigation::SignInFirst(AppScreen::Home)
    );
    k.session.assume(admin.clone());
    assert_eq!(
        k.navigate(AppScreen::Home),
        comptoir::app::Navigation::Shown(AppScreen::Home)
    );
    // Left signed out on the home screen during the hours: back to the composter.
    {
        let Kiosk {
            session,
            store,
            clock,
            ..
        } = &mut k;
        session.sign_out(store, clock, false, "home");
    }
    assert!(compost::follow_schedule(&mut k));
    assert_eq!(k.screen, AppScreen::CompostIdle);
    // A resident's deposit at noon: the mode waits for its end.
    let (resident, token) = {
        let c = k.store.conn();
        let r = store::residents(c)
            .unwrap()
            .into_iter()
            .find(|r| r.anonymised_utc.is_none())
            .unwrap();
        (
            r.id,
            comptoir::demo::seeded_card_token(c, r.id).unwrap().unwrap(),
        )
    };
    let _ = resident;
    scan(&mut k, &token);
    assert_eq!(k.screen, AppScreen::CompostWeigh);
    k.clock.advance(chrono::Duration::hours(4));
    assert!(!compost::follow_schedule(&mut k));
    assert!(k.compost.compost_only);
    compost::end(&mut k);
    // Idle again after noon: full mode; the composter's screen stays, its "Home" asks a PIN.
    assert!(compost::follow_schedule(&mut k));
    assert!(!k.compost.compost_only);
    assert_eq!(k.screen, AppScreen::CompostIdle);
    // Saturday 14:00 in Paris: compost-only again, from the home screen.
    k.screen = AppScreen::Home;
    k.clock
        .advance(chrono::Duration::days(5) + chrono::Duration::hours(2));
    assert!(compost::follow_schedule(&mut k));
    assert_eq!(k.screen, AppScreen::CompostIdle);
    assert!(k.compost.compost_only);
}

/// The schedule through the UI: the kiosk follows it on its own (every second), and a member
/// of staff at work keeps their screen until it locks after five minutes without a touch;
/// then the composter's idle screen shows, with "Staff" instead of "Home".
#[test]
fn the_compost_only_hours_wait_for_the_staff_screen_to_lock() {
    i_slint_backend_testing::init_no_event_loop();
    // Saturday 20 June 2026, 13:58 in Paris.
    let at = Utc.with_ymd_and_hms(2026, 6, 20, 11, 58, 0).unwrap();
    let kiosk = scheduled_kiosk("Europe/Paris", r#""Sat 14:00-18:00""#, at);
    let clock = kiosk.clock.clone();
    let ui = Ui::new(kiosk).unwrap();
    assert_eq!(screen(&ui), Screen::Home);
    tap(&ui, "area-admin");
    let admin = people::active_staff(ui.kiosk.borrow().store.conn())
        .unwrap()
        .into_iter()
        .find(|s| s.name == "Admin")
        .unwrap()
        .id;
    tap(&ui, &format!("staff-{admin}"));
    for d in "1234".chars() {
        tap(&ui, &format!("key-{d}"));
    }
    tap(&ui, "key-ok");
    assert_eq!(screen(&ui), Screen::AdminStaff);
    clock.advance(chrono::Duration::minutes(3));
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(2));
    assert_eq!(screen(&ui), Screen::AdminStaff, "not cut off");
    tap(&ui, "tab-products");
    assert_eq!(screen(&ui), Screen::AdminProducts);
    // Five minutes without a touch: the screen locks, and the composter takes over.
    clock.advance(chrono::Duration::minutes(6));
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(
        comptoir::app::session::STAFF_TIMEOUT_SECONDS + 2,
    ));
    assert_eq!(screen(&ui), Screen::Login, "locked");
    assert!(ui.kiosk.borrow().session.current().is_none());
    // At the next second, nobody at the sign-in: the composter.
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(2));
    assert_eq!(screen(&ui), Screen::CompostIdle);
    assert!(crate::common::by_id(&ui, "nav-staff").is_some());
    assert!(crate::common::by_id(&ui, "nav-home").is_none());
    // 18:00: full mode again at the next second ("Home" back on the composter's screen).
    clock.advance(chrono::Duration::hours(4));
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(2));
    assert!(!ui.kiosk.borrow().compost.compost_only);
    assert_eq!(screen(&ui), Screen::CompostIdle);
    assert!(crate::common::by_id(&ui, "nav-home").is_some());
}

#[test]
fn a_resident_at_the_scale_switches_language_from_the_header() {
    use comptoir::app::lockdown;
    use comptoir::ui::AppState;
    use slint::ComponentHandle;
    let ui = crate::common::demo_ui("fr", crate::common::Register::Open);
    tap(&ui, "area-compost");
    let deposits = deposit_count(&ui.kiosk.borrow());
    let (_, payload) = crate::common::resident_card(&ui, "tr");
    ui.window
        .global::<AppState>()
        .invoke_key_typed(format!("{payload}\n").into());
    assert_eq!(screen(&ui), Screen::CompostWeigh);
    let language = |ui: &Ui| ui.window.global::<AppState>().get_language().to_string();
    assert_eq!(language(&ui), "tr");
    // The button names the current language in that language; the list, each by its own name.
    assert_eq!(label(&ui, "language-menu"), "Türkçe");
    assert!(crate::common::by_id(&ui, "choose-lang-ar").is_none());
    tap(&ui, "language-menu");
    for (code, name) in [
        ("fr", "Français"),
        ("en", "English"),
        ("tr", "Türkçe"),
        ("ar", "العربية"),
    ] {
        assert_eq!(label(&ui, &format!("choose-lang-{code}")), name);
    }
    assert_eq!(label(&ui, "language-close"), "Kapat");
    // Close keeps the language; a name changes it and closes the list.
    tap(&ui, "language-close");
    assert!(crate::common::by_id(&ui, "choose-lang-ar").is_none());
    assert_eq!(language(&ui), "tr");
    tap(&ui, "language-menu");
    tap(&ui, "choose-lang-ar");
    assert!(crate::common::by_id(&ui, "choose-lang-ar").is_none());
    assert_eq!(language(&ui), "ar");
    assert_eq!(screen(&ui), Screen::CompostWeigh, "still weighing");
    assert_eq!(label(&ui, "language-menu"), "العربية");
    assert!(label(&ui, "compost-greeting").starts_with("مرحبًا"));
    // Left open and walked away from: idle in the kiosk's language, the list closed.
    tap(&ui, "language-menu");
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(
        lockdown::RESIDENT_IDLE_SECONDS + 1,
    ));
    assert_eq!(screen(&ui), Screen::CompostIdle);
    assert_eq!(language(&ui), "fr");
    assert!(crate::common::by_id(&ui, "choose-lang-ar").is_none());
    assert_eq!(
        deposit_count(&ui.kiosk.borrow()),
        deposits,
        "nothing recorded"
    );
}
