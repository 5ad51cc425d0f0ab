//! Automatic day, month and year closures on a seeded database: one closure per ended day
//! (empty days too) with the right seq ranges and figures, months and years, the perpetual
//! grand total, signatures, idempotence, catching up after days off, the key checks, the clock
//! rule, and the kiosk controller.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use comptoir::app::closures::{self, ClosureError};
use comptoir::app::session::Session;
use comptoir::app::{Clock, Kiosk, RunMode};
use comptoir::config::Config;
use comptoir::store::journal::{self, Entry, Period};
use comptoir::store::{people, Access, Store};
use serde_json::{json, Map, Value};

/// The last day of the seeded history.
fn until() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 10).unwrap()
}

/// Local Paris time.
fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Paris
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// 80 days of demo sales (Wednesdays and Saturdays) ending on 10 January 2026: October (with
/// the change to winter time), November, December 2025 and January 2026.
fn seeded(dir: &Path) -> (Store, PathBuf) {
    let db = dir.join("comptoir.db");
    let mut store = Store::open(&db, Access::ReadWrite).unwrap();
    let options = comptoir::demo::SeedOptions {
        days: 80,
        seed: 7,
        until: until(),
        tz: Paris,
    };
    comptoir::demo::seed(&mut store, &options).unwrap();
    let key = journal::key_path_for(&db);
    (store, key)
}

fn head_seq(conn: &rusqlite::Connection) -> i64 {
    journal::head(conn).unwrap().map_or(0, |e| e.seq)
}

fn payload(e: &Entry) -> Map<String, Value> {
    e.payload_value().unwrap()
}

fn int(map: &Map<String, Value>, key: &str) -> i64 {
    map[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} in {map:?}"))
}

fn date(map: &Map<String, Value>, key: &str) -> NaiveDate {
    NaiveDate::parse_from_str(map[key].as_str().unwrap(), "%Y-%m-%d").unwrap()
}

/// `(first, last)` seq of the entries up to `last_seq`, by local date.
fn seqs_by_day(conn: &rusqlite::Connection, last_seq: i64) -> BTreeMap<NaiveDate, (i64, i64)> {
    let mut out: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
    for seq in 1..=last_seq {
        let e = journal::entry(conn, seq).unwrap().unwrap();
        let day = DateTime::parse_from_rfc3339(&e.time_utc)
            .unwrap()
            .with_timezone(&Paris)
            .date_naive();
        out.entry(day)
            .and_modify(|r| r.1 = seq)
            .or_insert((seq, seq));
    }
    out
}

/// Checks a closure's figures against `sum_sales` over its own range.
fn check_figures(conn: &rusqlite::Connection, c: &Map<String, Value>) {
    let (first, last) = (int(c, "first_seq"), int(c, "last_seq"));
    let totals = journal::sum_sales(conn, first, last).unwrap();
    assert_eq!(int(c, "ticket_count"), totals.ticket_count, "{c:?}");
    assert_eq!(int(c, "period_total_cents"), totals.total_cents, "{c:?}");
    let rates: Vec<(i64, i64, i64, i64)> = c["totals_by_vat_rate"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let r = r.as_object().unwrap();
            (
                int(r, "vat_bp"),
                int(r, "ttc_cents"),
                int(r, "ht_cents"),
                int(r, "vat_cents"),
            )
        })
        .collect();
    let expected: Vec<(i64, i64, i64, i64)> = totals
        .by_vat_rate
        .iter()
        .map(|r| (r.vat_bp, r.ttc_cents, r.ht_cents, r.vat_cents))
        .collect();
    assert_eq!(rates, expected, "{c:?}");
    assert_eq!(c["timezone"], "Europe/Paris");
}

#[test]
fn ended_days_months_and_years_are_closed_once_and_signed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, key) = seeded(dir.path());
    assert!(!key.exists());
    let before = head_seq(store.conn());
    assert!(before > 500, "the seed sells: {before} entries");
    let by_day = seqs_by_day(store.conn(), before);
    let first_day = *by_day.keys().next().unwrap();
    assert!(first_day < NaiveDate::from_ymd_opt(2025, 10, 26).unwrap());

    // Five days after the seeded period, in the morning.
    let now = paris(2026, 1, 15, 9, 0);
    let tx = store.conn_mut().transaction().unwrap();
    let appended = closures::run_due(&tx, &key, Paris, now).unwrap();
    tx.commit().unwrap();
    let conn = store.conn();
    assert!(key.exists(), "the first closure makes the key file");

    // Days: every calendar day from the first entry to yesterday, empty ones too.
    let days: Vec<Map<String, Value>> = appended
        .iter()
        .map(payload)
        .filter(|p| p["period"] == "day")
        .collect();
    let yesterday = NaiveDate::from_ymd_opt(2026, 1, 14).unwrap();
    assert_eq!(days.len() as i64, (yesterday - first_day).num_days() + 1);
    let mut expected_first = 1;
    let mut grand = 0;
    let mut market_days = 0;
    for (i, c) in days.iter().enumerate() {
        let day = first_day + Duration::days(i as i64);
        assert_eq!(date(c, "period_start"), day);
        assert_eq!(date(c, "period_end"), day);
        assert_eq!(int(c, "first_seq"), expected_first, "{day}");
        match by_day.get(&day) {
            Some(&(first, last)) => {
                assert_eq!((int(c, "first_seq"), int(c, "last_seq")), (first, last));
                assert!(int(c, "ticket_count") >= 20, "{day}: a market day");
                market_days += 1;
            }
            None => {
                assert_eq!(int(c, "last_seq"), expected_first - 1, "{day}: empty");
                assert_eq!(int(c, "ticket_count"), 0);
                assert_eq!(int(c, "period_total_cents"), 0);
                assert_eq!(c["totals_by_vat_rate"], json!([]));
            }
        }
        assert_eq!(
            by_day.contains_key(&day),
            matches!(day.weekday(), chrono::Weekday::Wed | chrono::Weekday::Sat) && day <= until(),
            "{day}"
        );
        check_figures(conn, c);
        grand += int(c, "period_total_cents");
        assert_eq!(int(c, "grand_total_cents"), grand, "{day}: perpetual");
        expected_first = int(c, "last_seq") + 1;
    }
    assert_eq!(expected_first, before + 1, "every entry is in a day");
    assert!(market_days >= 20);
    let whole = journal::sum_sales(conn, 1, before).unwrap();
    assert_eq!(grand, whole.total_cents);
    assert!(whole.training_count == 2 && grand > 0);

    // Months: October, November, December 2025, each the sum of its days; then the year.
    let months: Vec<Map<String, Value>> = appended
        .iter()
        .map(payload)
        .filter(|p| p["period"] == "month")
        .collect();
    let starts: Vec<NaiveDate> = months.iter().map(|m| date(m, "period_start")).collect();
    assert_eq!(
        starts,
        [(2025, 10), (2025, 11), (2025, 12)]
            .map(|(y, m)| NaiveDate::from_ymd_opt(y, m, 1).unwrap())
    );
    for m in &months {
        let (start, end) = (date(m, "period_start"), date(m, "period_end"));
        assert_eq!(
            end,
            (start + Duration::days(32)).with_day(1).unwrap() - Duration::days(1)
        );
        let inside: Vec<&Map<String, Value>> = days
            .iter()
            .filter(|d| date(d, "period_start") >= start && date(d, "period_end") <= end)
            .collect();
        let first_inside = inside.first().unwrap();
        let last_inside = inside.last().unwrap();
        let first_seq = if start.month() == 10 {
            1
        } else {
            int(first_inside, "first_seq")
        };
        assert_eq!(int(m, "first_seq"), first_seq);
        assert_eq!(int(m, "last_seq"), int(last_inside, "last_seq"));
        let tickets: i64 = inside.iter().map(|d| int(d, "ticket_count")).sum();
        let total: i64 = inside.iter().map(|d| int(d, "period_total_cents")).sum();
        assert_eq!(int(m, "ticket_count"), tickets);
        assert_eq!(int(m, "period_total_cents"), total);
        assert_eq!(
            int(m, "grand_total_cents"),
            int(last_inside, "grand_total_cents")
        );
        check_figures(conn, m);
    }
    let years: Vec<Map<String, Value>> = appended
        .iter()
        .map(payload)
        .filter(|p| p["period"] == "year")
        .collect();
    assert_eq!(years.len(), 1);
    let y = &years[0];
    assert_eq!(
        date(y, "period_start"),
        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
    );
    assert_eq!(
        date(y, "period_end"),
        NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
    );
    assert_eq!(int(y, "first_seq"), 1);
    assert_eq!(int(y, "last_seq"), int(&months[2], "last_seq"));
    assert_eq!(
        int(y, "grand_total_cents"),
        int(&months[2], "grand_total_cents")
    );
    check_figures(conn, y);
    assert_eq!(appended.len(), days.len() + months.len() + 1);

    // In order (days, months, year), all dated now, signed, the chain intact.
    let kinds: Vec<String> = appended
        .iter()
        .map(|e| payload(e)["period"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort_by_key(|k| Period::parse(k).map(|p| p as u8));
    assert_eq!(kinds, sorted);
    assert!(appended
        .iter()
        .all(|e| e.time_utc == "2026-01-15T08:00:00Z"));
    let report = journal::verify(conn).unwrap();
    assert_eq!(report.closures as usize, appended.len());
    assert_eq!(report.keys, 1);
    assert_eq!(appended[0].seq, before + 2, "after the key registration");
    closures::key_check(conn, &key).unwrap();

    // Again, the same morning and the same evening: nothing new.
    let head = head_seq(conn);
    assert!(closures::run_due(conn, &key, Paris, now)
        .unwrap()
        .is_empty());
    let evening = paris(2026, 1, 15, 23, 59);
    assert!(closures::run_due(conn, &key, Paris, evening)
        .unwrap()
        .is_empty());
    assert_eq!(head_seq(conn), head);
    let listed = closures::closures_of(conn, Period::Day).unwrap();
    assert_eq!(listed.len(), days.len());
}

/// A sale of `total` cents at 5.5 %, as `sum_sales` reads it.
fn sale(total: i64) -> Map<String, Value> {
    let ht = (total * 10000 * 2 + 10550) / (2 * 10550);
    match json!({
        "total_cents": total,
        "vat": [{"vat_bp": 550, "ttc_cents": total, "ht_cents": ht, "vat_cents": total - ht}],
    }) {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

#[test]
fn later_runs_close_only_the_new_days_and_catch_up() {
    let dir = tempfile::tempdir().unwrap();
    let (store, key) = seeded(dir.path());
    let conn = store.conn();
    closures::run_due(conn, &key, Paris, paris(2026, 1, 15, 9, 0)).unwrap();
    let last_day = journal::last_closure(conn, Period::Day).unwrap().unwrap();
    let last_month = journal::last_closure(conn, Period::Month).unwrap().unwrap();

    // A sale the same day after the closures, one two days later.
    let s1 = journal::append(conn, "sale", paris(2026, 1, 15, 10, 0), sale(1234)).unwrap();
    let s2 = journal::append(conn, "sale", paris(2026, 1, 17, 11, 0), sale(-200)).unwrap();
    let appended = closures::run_due(conn, &key, Paris, paris(2026, 1, 18, 7, 0)).unwrap();
    let got: Vec<(String, i64, i64, i64, i64)> = appended
        .iter()
        .map(|e| {
            let p = payload(e);
            (
                p["period_start"].as_str().unwrap().to_string(),
                int(&p, "first_seq"),
                int(&p, "last_seq"),
                int(&p, "ticket_count"),
                int(&p, "grand_total_cents"),
            )
        })
        .collect();
    let g = last_day.grand_total_cents;
    assert_eq!(
        got,
        vec![
            // The 15th holds the closures of that morning and the sale.
            (
                "2026-01-15".into(),
                last_day.last_seq + 1,
                s1.seq,
                1,
                g + 1234
            ),
            ("2026-01-16".into(), s1.seq + 1, s1.seq, 0, g + 1234),
            ("2026-01-17".into(), s1.seq + 1, s2.seq, 1, g + 1034),
        ]
    );
    assert!(appended.iter().all(|e| payload(e)["period"] == "day"));
    assert_eq!(
        journal::last_closure(conn, Period::Month).unwrap().unwrap(),
        last_month
    );

    // Off for three weeks: every missed day, then January.
    let appended = closures::run_due(conn, &key, Paris, paris(2026, 2, 8, 8, 0)).unwrap();
    let periods: Vec<(String, String)> = appended
        .iter()
        .map(|e| {
            let p = payload(e);
            (
                p["period"].as_str().unwrap().to_string(),
                p["period_start"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(periods.len(), 21 + 1, "18 Jan to 7 Feb, then January");
    assert_eq!(periods[0], ("day".into(), "2026-01-18".into()));
    assert_eq!(periods[20], ("day".into(), "2026-02-07".into()));
    assert_eq!(periods[21], ("month".into(), "2026-01-01".into()));
    let january = payload(&appended[21]);
    assert_eq!(int(&january, "first_seq"), last_month.last_seq + 1);
    assert_eq!(
        int(&january, "last_seq"),
        int(&payload(&appended[13]), "last_seq"),
        "the last_seq of 31 January"
    );
    assert_eq!(
        int(&january, "grand_total_cents"),
        int(&payload(&appended[20]), "grand_total_cents")
    );
    check_figures(conn, &january);
    journal::verify(conn).unwrap();
}

#[test]
fn a_missing_or_foreign_key_blocks_closures_and_nothing_is_appended() {
    let dir = tempfile::tempdir().unwrap();
    let (store, key) = seeded(dir.path());
    let conn = store.conn();
    // No key registered yet: nothing to block.
    closures::key_check(conn, &key).unwrap();
    closures::run_due(conn, &key, Paris, paris(2026, 1, 15, 9, 0)).unwrap();

    std::fs::remove_file(&key).unwrap();
    let e = closures::key_check(conn, &key).unwrap_err();
    assert_eq!(e.code(), "key_missing");
    assert!(e.blocks_selling());
    let head = head_seq(conn);
    let e = closures::run_due(conn, &key, Paris, paris(2026, 1, 20, 9, 0)).unwrap_err();
    assert_eq!(e.code(), "key_missing", "{e}");
    assert_eq!(head_seq(conn), head, "nothing appended");
    assert!(!key.exists(), "no new key made behind the admin's back");

    std::fs::write(&key, [7u8; 32]).unwrap();
    assert_eq!(
        closures::key_check(conn, &key).unwrap_err().code(),
        "key_mismatch"
    );
    let e = closures::run_due(conn, &key, Paris, paris(2026, 1, 20, 9, 0)).unwrap_err();
    assert_eq!(e.code(), "key_mismatch");
    assert_eq!(head_seq(conn), head);
    journal::verify(conn).unwrap();
}

#[test]
fn a_clock_behind_the_last_entry_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, key) = seeded(dir.path());
    let conn = store.conn();
    let head = head_seq(conn);
    // The Pi booted without network: 1 January 1970.
    let e = closures::run_due(conn, &key, Paris, DateTime::<Utc>::UNIX_EPOCH).unwrap_err();
    assert!(matches!(e, ClosureError::ClockBehind { .. }));
    assert_eq!(e.code(), "clock_behind");
    // Just before the last sale too.
    let last = journal::last_time(conn).unwrap().unwrap();
    let e = closures::run_due(conn, &key, Paris, last - Duration::seconds(1)).unwrap_err();
    assert_eq!(e.code(), "clock_behind");
    assert_eq!(head_seq(conn), head);
    assert!(!key.exists());
}

#[test]
fn a_run_inside_the_callers_transaction_rolls_back_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, key) = seeded(dir.path());
    let head = head_seq(store.conn());
    let tx = store.conn_mut().transaction().unwrap();
    let appended = closures::run_due(&tx, &key, Paris, paris(2026, 1, 15, 9, 0)).unwrap();
    assert!(!appended.is_empty());
    tx.rollback().unwrap();
    assert_eq!(head_seq(store.conn()), head);
    // The key file was written but never registered: the next run registers it.
    assert_eq!(
        journal::key_status(store.conn(), &key).unwrap(),
        journal::KeyStatus::Ok
    );
    let again = closures::run_due(store.conn(), &key, Paris, paris(2026, 1, 15, 9, 0)).unwrap();
    assert_eq!(again.len(), appended.len());
    journal::verify(store.conn()).unwrap();
}

#[test]
fn an_empty_journal_has_nothing_to_close() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    let store = Store::open(&db, Access::ReadWrite).unwrap();
    let key = journal::key_path_for(&db);
    let appended = closures::run_due(store.conn(), &key, Paris, paris(2026, 1, 15, 9, 0)).unwrap();
    assert!(appended.is_empty());
    assert!(!key.exists());
}

fn signed_in(store: &Store, clock: &Clock, name: &str, pin: &str) -> Session {
    let id = people::all_staff(store.conn())
        .unwrap()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap()
        .id;
    let mut s = Session::default();
    s.choose(store, clock, id).unwrap();
    pin.chars().for_each(|c| s.digit(c));
    s.submit(store, clock, None, "test").unwrap();
    s
}

#[test]
fn the_kiosk_closes_with_the_key_beside_its_database_and_an_admin_rotates_a_lost_key() {
    let dir = tempfile::tempdir().unwrap();
    let (store, key) = seeded(dir.path());
    // The Monday after the last market day (Saturday 10 January): no date to confirm.
    let clock = Clock::manual(paris(2026, 1, 12, 9, 0));
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Live, clock.clone());
    let n = closures::close_due_periods(&mut kiosk, None).unwrap();
    assert!(n > 80);
    assert!(key.exists(), "<db>.key");
    assert_eq!(closures::close_due_periods(&mut kiosk, None).unwrap(), 0);

    std::fs::remove_file(&key).unwrap();
    assert_eq!(
        closures::check_key(&kiosk, None).unwrap_err().code(),
        "key_missing"
    );
    clock.advance(Duration::days(1));
    assert_eq!(
        closures::close_due_periods(&mut kiosk, None)
            .unwrap_err()
            .code(),
        "key_missing"
    );

    // A seller may not rotate the key; the admin may, and it is journaled with their id.
    kiosk.session = signed_in(&kiosk.store, &clock, "Amina", "1111");
    let e = closures::confirm_key_rotation(&mut kiosk, None, "lost").unwrap_err();
    assert_eq!(e.code(), "not_allowed");
    assert!(!key.exists());
    kiosk.session = signed_in(&kiosk.store, &clock, "Admin", "1234");
    let entry = closures::confirm_key_rotation(&mut kiosk, None, "lost").unwrap();
    assert_eq!(entry.kind, journal::KIND_KEY_REGISTERED);
    let p = payload(&entry);
    assert_eq!(p["reason"], "lost");
    assert_eq!(int(&p, "staff_id"), kiosk.session.current().unwrap().id);
    closures::check_key(&kiosk, None).unwrap();
    assert_eq!(closures::close_due_periods(&mut kiosk, None).unwrap(), 1);
    let report = journal::verify(kiosk.store.conn()).unwrap();
    assert_eq!(report.keys, 2);
}

#[test]
fn an_in_memory_kiosk_needs_a_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let store = comptoir::cli::builtin_demo_store().unwrap();
    // The demo history's last market day is 10 June 2026: two days later, no date to confirm.
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 6, 12, 8, 0, 0).unwrap());
    let mut kiosk = Kiosk::new(store, Config::default(), RunMode::Demo, clock);
    let e = closures::close_due_periods(&mut kiosk, None).unwrap_err();
    assert_eq!(e.code(), "no_key_path");
    assert_eq!(
        closures::check_key(&kiosk, None).unwrap_err().code(),
        "no_key_path"
    );
    let key = dir.path().join("demo.key");
    let written = closures::close_due_periods(&mut kiosk, Some(&key)).unwrap();
    assert!(written > 25, "{written} closures");
    closures::check_key(&kiosk, Some(&key)).unwrap();
    journal::verify(kiosk.store.conn()).unwrap();
}
