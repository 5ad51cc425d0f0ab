//! Compost: cards read back from the `comptoir card` PNG, deposits through the UI with the
//! demo's scanner and scale on real pseudo-terminals, the duplicate guard, refused cards,
//! credits earned and spent at the stall, the chained credits ledger, anonymisation, bins and
//! the exports.

use std::process::Command;

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

use crate::common::{label, screen, seeded_db, tap, wait_for};

fn comptoir(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_comptoir"))
        .args(args)
        .env("XDG_DATA_HOME", "/nonexistent-comptoir-data")
        .env("XDG_CONFIG_HOME", "/nonexistent-comptoir-config")
        .output()
        .expect("the binary runs")
}

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
    assert_eq!(store::current_token(store.conn(), id).unwrap(), None);
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
    let token = store::current_token(store.conn(), resident.id)
        .unwrap()
        .unwrap();
    let payload = CardPayload::from_token(people::token_bytes(&token).unwrap()).encode();
    let before = store::grand_totals(store.conn()).unwrap();
    let devices = Devices::start_demo(&db, &dir.path().join("receipts")).unwrap();
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, clock());
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

    // A revoked card.
    {
        let k = ui.kiosk.borrow();
        store::revoke_card(k.store.conn(), resident.id, None, "2026-06-20T08:50:00Z").unwrap();
    }
    assert!(ui.devices.borrow().demo_scan(&payload));
    wait_for(&ui, "the revoked card", show, |ui| {
        label(ui, "compost-idle-notice").contains("no longer valid")
    });
    assert_eq!(screen(&ui), Screen::CompostIdle);
    let last = store::grand_totals(ui.kiosk.borrow().store.conn()).unwrap();
    assert_eq!(last.deposits, after.deposits);
}
