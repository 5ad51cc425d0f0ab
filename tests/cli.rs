//! The command line as operators and scripts use it: exit codes, standard output, and files
//! left alone when a command fails.

use std::path::Path;
use std::process::{Command, Output};

pub(crate) fn comptoir(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_comptoir"))
        .args(args)
        .env("XDG_DATA_HOME", "/nonexistent-comptoir-data")
        .env("XDG_CONFIG_HOME", "/nonexistent-comptoir-config")
        .output()
        .expect("the binary runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_explains_each_subcommand() {
    let o = comptoir(&["--help"]);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    for word in [
        "demo",
        "screenshot",
        "--db",
        "--lang",
        "--demo",
        "Exit codes",
    ] {
        assert!(text.contains(word), "--help mentions {word}:\n{text}");
    }
    let o = comptoir(&["demo", "seed", "--help"]);
    assert!(stdout(&o).contains("--until"));
}

#[test]
fn screenshot_list_prints_the_screen_names() {
    let o = comptoir(&["screenshot", "--screen", "list"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let names: Vec<String> = stdout(&o).lines().map(String::from).collect();
    for name in ["home", "login", "sell.catalog", "compost.idle"] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
}

#[test]
fn an_unknown_screen_is_a_usage_error_that_lists_the_valid_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.png");
    let o = comptoir(&[
        "screenshot",
        "--screen",
        "kitchen",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("sell.catalog"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn bad_sizes_languages_and_outputs_are_usage_errors_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.png");
    let out_s = out.to_str().unwrap();
    for size in ["0x0", "100x100", "99999x480", "800", "wide"] {
        let o = comptoir(&[
            "screenshot",
            "--screen",
            "home",
            "--out",
            out_s,
            "--size",
            size,
        ]);
        assert_eq!(code(&o), 2, "--size {size}: {}", stderr(&o));
    }
    let o = comptoir(&[
        "screenshot",
        "--screen",
        "home",
        "--out",
        out_s,
        "--lang",
        "de",
    ]);
    assert_eq!(code(&o), 2);
    let unwritable = dir.path().join("no/such/folder/x.png");
    let o = comptoir(&[
        "screenshot",
        "--screen",
        "home",
        "--out",
        unwritable.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = comptoir(&[
        "screenshot",
        "--screen",
        "home",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "a folder is not a file");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Distinct colours in an image: a blank or single-colour frame has very few.
fn colours(rgb: &[u8]) -> usize {
    let mut set = std::collections::HashSet::new();
    for px in rgb.chunks(3) {
        set.insert((px[0], px[1], px[2]));
    }
    set.len()
}

#[test]
fn a_screenshot_has_the_asked_size_and_is_not_blank() {
    let dir = tempfile::tempdir().unwrap();
    for (size, w, h) in [("800x480", 800, 480), ("1024x600", 1024, 600)] {
        let out = dir.path().join(format!("home-{size}.png"));
        let o = comptoir(&[
            "screenshot",
            "--screen",
            "home",
            "--out",
            out.to_str().unwrap(),
            "--size",
            size,
            "--lang",
            "fr",
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(stdout(&o).starts_with("wrote home"), "{}", stdout(&o));
        let (pw, ph, rgb) = decode_png(&out);
        assert_eq!((pw, ph), (w, h));
        assert!(colours(&rgb) > 200, "pictograms and text give many colours");
    }
}

#[test]
fn screenshot_states_reached_through_buttons_differ_from_their_screen() {
    // Each state is reached by invoking the screen's own callbacks: if one of them stopped
    // working (a seller not found, a refund refused), the image would be the plain screen.
    let dir = tempfile::tempdir().unwrap();
    let shot = |name: &str| {
        let out = dir.path().join(format!("{name}.png"));
        let o = comptoir(&[
            "screenshot",
            "--screen",
            name,
            "--out",
            out.to_str().unwrap(),
            "--lang",
            "fr",
        ]);
        assert_eq!(code(&o), 0, "{name}: {}", stderr(&o));
        decode_png(&out).2
    };
    for (state, screen) in [
        ("login.pin", "login"),
        ("admin.residents-new", "admin.residents"),
        ("sell.tickets-refunded", "sell.tickets"),
        ("sell.receipt-cancelled", "sell.receipt"),
        ("compost.weigh-languages", "compost.weigh"),
        ("garden.stock-panel", "garden.stock"),
        ("garden.stock-loss", "garden.stock-panel"),
    ] {
        assert!(shot(state) != shot(screen), "{state} looks like {screen}");
    }
}

#[test]
fn screenshots_of_a_seeded_database_leave_it_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.db");
    let db_s = db.to_str().unwrap();
    let o = comptoir(&[
        "demo",
        "seed",
        "--db",
        db_s,
        "--days",
        "10",
        "--until",
        "2026-06-13",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), format!("seeded {db_s}"));
    let before = std::fs::read(&db).unwrap();
    let out = dir.path().join("catalog.png");
    let o = comptoir(&[
        "screenshot",
        "--screen",
        "sell.catalog",
        "--db",
        db_s,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn demo_seed_refuses_a_database_with_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.db");
    let db_s = db.to_str().unwrap();
    assert_eq!(
        code(&comptoir(&["demo", "seed", "--db", db_s, "--days", "5"])),
        0
    );
    let o = comptoir(&["demo", "seed", "--db", db_s, "--days", "5"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("already holds data"), "{}", stderr(&o));
}

#[test]
fn database_problems_exit_3_and_leave_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("foreign.db");
    {
        let conn = rusqlite::Connection::open(&foreign).unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    let before = std::fs::read(&foreign).unwrap();
    let out = dir.path().join("x.png");
    let o = comptoir(&[
        "screenshot",
        "--screen",
        "home",
        "--db",
        foreign.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).contains("not Comptoir's"), "{}", stderr(&o));
    let o = comptoir(&["demo", "seed", "--db", foreign.to_str().unwrap()]);
    assert_eq!(code(&o), 3);
    assert_eq!(std::fs::read(&foreign).unwrap(), before);
    assert!(!out.exists());

    let missing = dir.path().join("missing.db");
    let o = comptoir(&[
        "screenshot",
        "--screen",
        "home",
        "--db",
        missing.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 3, "a read-only command never creates a database");
    assert!(!missing.exists());
}

/// `--db :memory:` (or an empty path, or an SQLite URI) would record sales that vanish when
/// the command ends: every command refuses it with exit 2 before doing anything.
#[test]
fn a_memory_database_is_refused_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.png");
    let o_ = out.to_str().unwrap();
    let d_ = dir.path().to_str().unwrap();
    let commands: &[&[&str]] = &[
        &[],
        &["demo", "seed"],
        &["journal", "verify"],
        &["journal", "archive", "--year", "2026", "--out", d_],
        &["receipt", "1", "--png", o_],
        &["export", "sales"],
        &["export", "deposits"],
        &["card", "1", "--png", o_],
        &["resident", "export", "1"],
        &["backup", "--to", d_],
        &["restore", "--from", o_],
        &["screenshot", "--screen", "home", "--out", o_],
    ];
    for db in [":memory:", "", "file::memory:"] {
        for args in commands {
            let mut all = vec!["--db", db];
            all.extend_from_slice(args);
            let o = comptoir(&all);
            assert_eq!(code(&o), 2, "{all:?}: {}", stderr(&o));
            assert!(stderr(&o).contains("--db"), "{all:?}: {}", stderr(&o));
            assert!(stdout(&o).is_empty(), "{all:?}");
        }
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let o = comptoir(&["export", "sales", "--db", ":memory:"]);
    assert!(stderr(&o).contains("not a file"), "{}", stderr(&o));
}

/// The power-cut harness's writer is in debug builds (the tests) only; a kiosk's release
/// build does not know the command.
#[test]
#[cfg(not(debug_assertions))]
fn a_release_build_has_no_crash_writer() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let o = comptoir(&["crash-writer", "--db", db.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unrecognized subcommand"),
        "{}",
        stderr(&o)
    );
    assert!(!db.exists());
}
