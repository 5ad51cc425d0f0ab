//! The store on real SQLite files: opening checks, migrations, the demo seed.

use std::path::Path;

use chrono::NaiveDate;
use comptoir::demo::{self, SeedError, SeedOptions};
use comptoir::store::migrations::{self, MIGRATIONS};
use comptoir::store::{meta, Access, OpenError, Store, APPLICATION_ID};
use rusqlite::Connection;

fn seed_options(seed: u64) -> SeedOptions {
    SeedOptions {
        days: 30,
        seed,
        until: NaiveDate::from_ymd_opt(2026, 6, 13).unwrap(),
        tz: chrono_tz::Europe::Paris,
    }
}

fn schema(conn: &Connection) -> Vec<(String, String)> {
    let mut stmt = conn
        .prepare("SELECT name, coalesce(sql, '') FROM sqlite_master ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_new_database_gets_the_schema_the_pragmas_and_a_kiosk_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/folder/comptoir.db");
    let store = Store::open(&path, Access::ReadWrite).unwrap();
    assert!(path.exists(), "the parent folders are created");
    let conn = store.conn();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 2, "synchronous = FULL");
    let fk: i64 = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    let app: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(app, APPLICATION_ID);
    assert_eq!(
        store.schema_version().unwrap(),
        migrations::latest_version()
    );
    let id = meta::kiosk_id(conn).unwrap();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    drop(store);
    let again = Store::open(&path, Access::ReadWrite).unwrap();
    assert_eq!(
        meta::kiosk_id(again.conn()).unwrap(),
        id,
        "the kiosk id is made once, with the database"
    );
}

#[test]
fn migrating_twice_changes_nothing() {
    let mut conn = Connection::open_in_memory().unwrap();
    migrations::migrate(&mut conn).unwrap();
    let first = schema(&conn);
    migrations::migrate(&mut conn).unwrap();
    assert_eq!(schema(&conn), first);
}

#[test]
fn every_older_version_upgrades_to_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let reference = {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations::migrate(&mut conn).unwrap();
        schema(&conn)
    };
    for version in 1..MIGRATIONS.len() as i64 {
        let path = dir.path().join(format!("v{version}.db"));
        {
            let mut conn = Connection::open(&path).unwrap();
            migrations::migrate_to(&mut conn, version).unwrap();
            conn.execute("INSERT INTO meta (key, value) VALUES ('probe', 'kept')", [])
                .unwrap();
        }
        let store = Store::open(&path, Access::ReadWrite).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            migrations::latest_version(),
            "from v{version}"
        );
        assert_eq!(schema(store.conn()), reference, "from v{version}");
        assert_eq!(
            meta::get(store.conn(), "probe").unwrap().as_deref(),
            Some("kept"),
            "data survives v{version}"
        );
    }
}

fn assert_refused_unchanged(path: &Path, access: Access, expect: fn(&OpenError) -> bool) {
    let before = std::fs::read(path).unwrap();
    let listing_before: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let err = Store::open(path, access).err().expect("refused");
    assert!(expect(&err), "unexpected error: {err}");
    assert_eq!(
        std::fs::read(path).unwrap(),
        before,
        "the file is byte-for-byte as it was"
    );
    let listing_after: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        listing_after, listing_before,
        "no -wal or -shm file left beside it"
    );
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "Liste des légumes : tomates, poireaux\n".repeat(200)).unwrap();
    for access in [Access::ReadWrite, Access::ReadOnly] {
        assert_refused_unchanged(&path, access, |e| matches!(e, OpenError::NotSqlite { .. }));
    }
}

#[test]
fn a_corrupt_comptoir_file_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
        migrations::migrate(&mut conn).unwrap();
    }
    let mut bytes = std::fs::read(&path).unwrap();
    // Keep the SQLite header, scramble the rest of the first page (the schema).
    for b in bytes.iter_mut().skip(100).take(3000) {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    assert_refused_unchanged(&path, Access::ReadWrite, |e| {
        matches!(e, OpenError::Corrupt { .. })
    });
}

#[test]
fn another_applications_database_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('ratatouille');",
        )
        .unwrap();
    }
    for access in [Access::ReadWrite, Access::ReadOnly] {
        assert_refused_unchanged(&path, access, |e| {
            matches!(e, OpenError::Foreign { found: 0, .. })
        });
    }
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "application_id", 0x1234_5678)
            .unwrap();
    }
    assert_refused_unchanged(&path, Access::ReadWrite, |e| {
        matches!(
            e,
            OpenError::Foreign {
                found: 0x1234_5678,
                ..
            }
        )
    });
}

#[test]
fn a_database_from_a_newer_comptoir_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
        migrations::migrate(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", migrations::latest_version() + 1)
            .unwrap();
    }
    for access in [Access::ReadWrite, Access::ReadOnly] {
        assert_refused_unchanged(&path, access, |e| matches!(e, OpenError::TooNew { .. }));
    }
}

#[test]
fn a_read_only_location_is_refused() {
    // Root ignores permission bits, so use places no one can write: a path under a file, and
    // a read-only file system.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let err = Store::open(&file.join("comptoir.db"), Access::ReadWrite)
        .err()
        .unwrap();
    assert!(matches!(err, OpenError::ReadOnly { .. }), "{err}");
    if Path::new("/proc/version").exists() {
        let err = Store::open(Path::new("/proc/comptoir-test.db"), Access::ReadWrite)
            .err()
            .unwrap();
        assert!(matches!(err, OpenError::ReadOnly { .. }), "{err}");
    }
}

#[test]
fn read_only_access_never_creates_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.db");
    assert!(matches!(
        Store::open(&path, Access::ReadOnly),
        Err(OpenError::Missing { .. })
    ));
    assert!(!path.exists());
}

#[test]
fn read_only_access_leaves_an_older_database_at_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        migrations::migrate_to(&mut conn, 1).unwrap();
    }
    let store = Store::open(&path, Access::ReadOnly).unwrap();
    assert_eq!(store.schema_version().unwrap(), 1);
    assert!(store
        .conn()
        .execute("INSERT INTO meta (key, value) VALUES ('x', 'y')", [])
        .is_err());
}

fn dump(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    for table in [
        "products",
        "product_prices",
        "plots",
        "staff",
        "residents",
        "cards",
    ] {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
            .unwrap();
        let columns = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                Ok((0..columns)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap();
        out.extend(rows.map(|r| format!("{table}: {}", r.unwrap())));
    }
    out
}

#[test]
fn the_demo_seed_is_reproducible_and_realistic() {
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    demo::seed(&mut a, &seed_options(7)).unwrap();
    demo::seed(&mut b, &seed_options(7)).unwrap();
    assert_eq!(dump(a.conn()), dump(b.conn()));
    let mut c = Store::open_in_memory().unwrap();
    demo::seed(&mut c, &seed_options(8)).unwrap();
    assert_ne!(
        dump(a.conn()),
        dump(c.conn()),
        "another seed gives other residents"
    );

    let products = comptoir::store::catalog::active_products(a.conn()).unwrap();
    assert!(products.len() >= 20);
    assert!(products
        .iter()
        .any(|p| p.name.contains('œ') || p.name.contains('Œ')));
    assert!(products
        .iter()
        .any(|p| p.name.chars().any(|c| "éèêàçÉ".contains(c)) || p.name.contains('œ')));
    assert!(products.iter().all(|p| p.vat_bp == 550));
    use comptoir::store::catalog::Pricing;
    assert!(products.iter().any(|p| p.pricing == Pricing::PerKg));
    assert!(products.iter().any(|p| p.pricing == Pricing::PerPiece));
    assert!(
        comptoir::store::catalog::active_plots(a.conn())
            .unwrap()
            .len()
            >= 3
    );
    assert!(comptoir::store::people::resident_count(a.conn()).unwrap() >= 12);
    let staff = comptoir::store::people::active_staff(a.conn()).unwrap();
    assert!(staff
        .iter()
        .any(|s| s.role == comptoir::store::people::Role::Admin));
}

#[test]
fn the_demo_seed_refuses_a_database_that_holds_data() {
    let mut store = Store::open_in_memory().unwrap();
    demo::seed(&mut store, &seed_options(1)).unwrap();
    let before = dump(store.conn());
    assert!(matches!(
        demo::seed(&mut store, &seed_options(2)),
        Err(SeedError::NotEmpty)
    ));
    assert_eq!(dump(store.conn()), before);
}

/// Two printer workers on one database (two kiosk processes by mistake) share a 40-job queue:
/// each job is claimed, so sent, exactly once.
#[test]
fn two_workers_on_one_queue_never_take_the_same_job() {
    use comptoir::store::print_queue;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("comptoir.db");
    let now = chrono::Utc::now();
    {
        let store = Store::open(&db, Access::ReadWrite).unwrap();
        for n in 0..40 {
            print_queue::enqueue(
                store.conn(),
                &format!("ticket {n}"),
                b"x",
                &comptoir::store::utc_text(now),
            )
            .unwrap();
        }
    }
    let worker = |name: &'static str| {
        let db = db.clone();
        std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(&db).unwrap();
            conn.busy_timeout(std::time::Duration::from_secs(10))
                .unwrap();
            let mut sent = Vec::new();
            while let Some(job) = print_queue::claim_next(&conn, name, now).unwrap() {
                // "Sending" takes a moment, as on a real printer.
                std::thread::sleep(std::time::Duration::from_millis(2));
                sent.push(job.id);
                print_queue::mark_printed(&conn, job.id, &comptoir::store::utc_text(now)).unwrap();
            }
            sent
        })
    };
    let (a, b) = (worker("kiosk-a"), worker("kiosk-b"));
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    let mut all: Vec<i64> = a.iter().chain(&b).copied().collect();
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(
        before,
        40,
        "a: {} jobs, b: {} jobs, some twice",
        a.len(),
        b.len()
    );
    assert_eq!(all.len(), 40);
}

/// The 30 drawer kicks an older build queued while the printer was off never fire: the
/// migration that stops queueing them drops those waiting; other jobs stay.
#[test]
fn the_migration_drops_queued_drawer_kicks_and_keeps_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("comptoir.db");
    let mut conn = Connection::open(&db).unwrap();
    let before = MIGRATIONS
        .iter()
        .position(|m| m.contains("DELETE FROM print_queue WHERE label = 'drawer'"))
        .unwrap() as i64;
    migrations::migrate_to(&mut conn, before).unwrap();
    for label in ["drawer", "ticket 4", "drawer"] {
        conn.execute(
            "INSERT INTO print_queue (created_utc, label, data) VALUES ('2026-06-01T10:00:00Z', ?1, x'1b70')",
            [label],
        )
        .unwrap();
    }
    drop(conn);
    let store = Store::open(&db, Access::ReadWrite).unwrap();
    let labels: Vec<String> = store
        .conn()
        .prepare("SELECT label FROM print_queue")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(labels, ["ticket 4"]);
}
