//! The hardware commands as operators run them, through the real `comptoir` binary and real
//! pseudo-terminals: `scale simulate` and `scale read` for each protocol, `printer simulate`
//! fed a text-mode receipt, `scanner simulate`, and `devices`.
//!
//! Every wait has a deadline, so a broken build fails instead of hanging.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use comptoir_hardware::printer::{encode_text, Bitmap, CodePage, Paper, Receipt, Style};
use comptoir_hardware::transport::{open_serial, SerialSettings};

const BIN: &str = env!("CARGO_BIN_EXE_comptoir");

/// What a finished command gave.
struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Reads a pipe to the end on a thread.
fn drain<R: Read + Send + 'static>(mut r: R) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = r.read_to_string(&mut s);
        let _ = tx.send(s);
    });
    rx
}

/// Waits for a child until `deadline`; kills it and panics past it.
fn wait_until(child: &mut Child, within: Duration, what: &str) -> ExitStatus {
    let end = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {within:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `comptoir ARGS` to completion within `within`.
fn run(args: &[&str], within: Duration) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the comptoir binary starts");
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    let status = wait_until(&mut child, within, &format!("comptoir {}", args.join(" ")));
    Output {
        code: status.code(),
        stdout: out.recv_timeout(Duration::from_secs(2)).unwrap_or_default(),
        stderr: err.recv_timeout(Duration::from_secs(2)).unwrap_or_default(),
    }
}

/// A `comptoir ... simulate` child with its stdin and stdout lines.
struct Simulator {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Receiver<String>,
    link: PathBuf,
    name: String,
}

impl Simulator {
    /// Starts `comptoir ARGS` and waits for its `ready LINK` line.
    fn start(args: &[&str], link: &Path) -> Simulator {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the comptoir binary starts");
        let stdout = child.stdout.take().unwrap();
        let stderr = drain(child.stderr.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
        });
        let sim = Simulator {
            stdin: child.stdin.take(),
            child,
            lines,
            stderr,
            link: link.to_path_buf(),
            name: args.join(" "),
        };
        let ready = sim.next_line(Duration::from_secs(10));
        assert_eq!(ready, format!("ready {}", link.display()), "{}", sim.name);
        assert!(
            std::fs::symlink_metadata(link).is_ok(),
            "{}: the link exists once ready",
            sim.name
        );
        sim
    }

    fn next_line(&self, within: Duration) -> String {
        self.lines
            .recv_timeout(within)
            .unwrap_or_else(|e| panic!("{}: no line on stdout within {within:?} ({e})", self.name))
    }

    /// Writes one command line to the simulator's stdin.
    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// SIGTERM, then checks that it exits 0 within 3 s and removed its link; returns what
    /// it wrote on stderr.
    fn terminate(self) -> String {
        self.stop_with(libc::SIGTERM)
    }

    /// Sends `signal` (SIGTERM or SIGINT), then checks that it exits 0 within 3 s and
    /// removed its link; returns what it wrote on stderr.
    fn stop_with(mut self, signal: libc::c_int) -> String {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: signals our own child, which has not been reaped yet.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let status = wait_until(&mut self.child, Duration::from_secs(3), &self.name);
        assert_eq!(
            status.code(),
            Some(0),
            "{}: exit after signal {signal}",
            self.name
        );
        assert!(
            std::fs::symlink_metadata(&self.link).is_err(),
            "{}: the link {} is still there after signal {signal}",
            self.name,
            self.link.display()
        );
        self.stderr
            .recv_timeout(Duration::from_secs(2))
            .unwrap_or_default()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        // A failed test must not leave the child running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `comptoir scale read --protocol P --port LINK --count N [--json]`, within 10 s.
fn scale_read(protocol: &str, port: &Path, count: usize, json: bool) -> Vec<String> {
    let port = port.to_str().unwrap();
    let count_text = count.to_string();
    let mut args = vec![
        "scale",
        "read",
        "--protocol",
        protocol,
        "--port",
        port,
        "--count",
        &count_text,
    ];
    if json {
        args.push("--json");
    }
    let o = run(&args, Duration::from_secs(10));
    assert_eq!(o.code, Some(0), "{args:?}: stderr {}", o.stderr);
    let lines: Vec<String> = o.stdout.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), count, "{args:?}: {:?}", o.stdout);
    lines
}

fn weight(grams: i64, stable: bool, net: bool) -> String {
    format!(r#"{{"grams":{grams},"stable":{stable},"net":{net}}}"#)
}

fn error(code: &str) -> String {
    format!(r#"{{"error":"{code}"}}"#)
}

/// One step of a scale scenario: commands for the simulator, then what `scale read --json`
/// must print for each of `count` readings.
struct Step {
    commands: &'static [&'static str],
    count: usize,
    expect: String,
}

fn step(commands: &'static [&'static str], count: usize, expect: String) -> Step {
    Step {
        commands,
        count,
        expect,
    }
}

/// Starts `scale simulate` for the protocol, plays the steps through `scale read --json`,
/// checks one plain-text reading, then SIGTERMs the simulator; returns its stderr.
fn scale_scenario(
    protocol: &str,
    steps: &[Step],
    plain: (&'static [&'static str], &str),
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scale");
    let mut sim = Simulator::start(
        &[
            "scale",
            "simulate",
            "--protocol",
            protocol,
            "--link",
            link.to_str().unwrap(),
        ],
        &link,
    );
    for s in steps {
        for c in s.commands {
            sim.send(c);
        }
        // The simulator applies a stdin line within a few tens of milliseconds.
        std::thread::sleep(Duration::from_millis(150));
        let lines = scale_read(protocol, &link, s.count, true);
        for line in &lines {
            assert_eq!(
                line, &s.expect,
                "{protocol} after {:?}: all readings {lines:?}",
                s.commands
            );
        }
    }
    for c in plain.0 {
        sim.send(c);
    }
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(
        scale_read(protocol, &link, 1, false),
        [plain.1],
        "{protocol} after {:?}, without --json",
        plain.0
    );
    // Still serving once stdin has ended; stops on SIGTERM only.
    drop(sim.stdin.take());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        sim.child.try_wait().unwrap(),
        None,
        "{protocol}: still serving"
    );
    sim.terminate()
}

#[test]
fn toledo8217_simulate_and_read_agree() {
    // The 8217 frame has no sign: a load below zero only says under_zero.
    scale_scenario(
        "toledo8217",
        &[
            step(&[], 2, weight(0, true, false)),
            step(&["1234"], 3, weight(1234, true, false)),
            step(&["-12"], 2, error("under_zero")),
            step(&["motion"], 2, error("motion")),
            step(&["1234", "tare 200"], 2, weight(1034, true, true)),
            step(&["notare"], 2, weight(1234, true, false)),
            step(&["over"], 2, error("over_capacity")),
            step(&["under"], 2, error("under_zero")),
            step(&["zero"], 2, weight(0, true, false)),
            step(&["silence"], 1, error("no_answer")),
            step(&["garbage"], 1, error("garbage")),
        ],
        (&["1234", "tare 200"], "1034 g stable net"),
    );
}

#[test]
fn continuous_simulate_and_read_agree() {
    let stderr = scale_scenario(
        "continuous",
        &[
            step(&[], 2, weight(0, true, false)),
            // A line that is no command is reported on stderr and ignored.
            step(&["weigh", "1234"], 3, weight(1234, true, false)),
            step(&["-12"], 2, weight(-12, true, false)),
            step(&["motion"], 2, weight(-12, false, false)),
            step(&["1234", "tare 200"], 2, weight(1034, true, true)),
            step(&["motion"], 2, weight(1034, false, true)),
            step(&["1234", "notare"], 2, weight(1234, true, false)),
            step(&["over"], 2, error("over_capacity")),
            step(&["under"], 2, error("under_zero")),
            step(&["pounds"], 2, error("unsupported_unit")),
            step(&["silence"], 1, error("no_answer")),
            step(&["garbage"], 1, error("garbage")),
        ],
        (&["-12", "motion"], "-12 g unstable gross"),
    );
    assert!(
        stderr.contains("unknown scale simulator command \"weigh\""),
        "{stderr:?}"
    );
}

#[test]
fn adam_continuous_simulate_and_read_agree() {
    scale_scenario(
        "adam-continuous",
        &[
            step(&[], 2, weight(0, true, false)),
            step(&["1234"], 3, weight(1234, true, false)),
            step(&["-12"], 2, weight(-12, true, false)),
            step(&["motion"], 2, weight(-12, false, false)),
            step(&["1234", "tare 200"], 2, weight(1034, true, true)),
            step(&["notare"], 2, weight(1234, true, false)),
            step(&["over"], 2, error("over_capacity")),
            step(&["under"], 2, error("under_zero")),
            step(&["pounds"], 2, error("unsupported_unit")),
            step(&["silence"], 1, error("no_answer")),
            step(&["garbage"], 1, error("garbage")),
        ],
        (&["1234"], "1234 g stable gross"),
    );
}

#[test]
fn adam_print_simulate_and_read_agree() {
    // Print-on-demand: the scale answers only a new, non-zero, stable weight; asked again
    // (or while the weight moves, or at zero) it stays silent, which reads as no_answer.
    scale_scenario(
        "adam-print",
        &[
            step(&[], 1, error("no_answer")),
            step(&["1234"], 1, weight(1234, true, false)),
            step(&[], 1, error("no_answer")),
            step(&["-12"], 1, weight(-12, true, false)),
            step(&["motion"], 1, error("no_answer")),
            step(&["1234", "tare 200"], 1, weight(1034, true, true)),
            step(&["notare"], 1, weight(1234, true, false)),
            step(&["over"], 1, error("over_capacity")),
            step(&["under"], 1, error("under_zero")),
            step(&["garbage"], 1, error("garbage")),
        ],
        (&["750"], "750 g stable gross"),
    );
}

#[test]
fn scale_read_usage_errors_exit_2() {
    for args in [
        &["scale", "read", "--protocol", "adam_print", "--port", "x"][..],
        &[
            "scale",
            "read",
            "--protocol",
            "continuous",
            "--port",
            "x",
            "--count",
            "0",
        ],
        &["scale", "read", "--protocol", "continuous"],
        &["scale", "simulate", "--protocol", "mettler", "--link", "x"],
    ] {
        let o = run(args, Duration::from_secs(10));
        assert_eq!(o.code, Some(2), "{args:?}: {}", o.stderr);
        assert_eq!(o.stdout, "", "{args:?}");
    }
}

#[test]
fn scale_read_exits_1_when_the_port_is_missing_or_lost() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-port");
    let o = run(
        &[
            "scale",
            "read",
            "--protocol",
            "continuous",
            "--port",
            missing.to_str().unwrap(),
        ],
        Duration::from_secs(10),
    );
    assert_eq!(o.code, Some(1), "stderr: {}", o.stderr);
    assert_eq!(o.stdout, "", "nothing on stdout");
    assert!(!o.stderr.is_empty(), "a message for people on stderr");

    // The simulator goes away while `scale read` is reading: exit 1.
    let link = dir.path().join("scale");
    let sim = Simulator::start(
        &[
            "scale",
            "simulate",
            "--protocol",
            "continuous",
            "--link",
            link.to_str().unwrap(),
        ],
        &link,
    );
    let mut reader = Command::new(BIN)
        .args([
            "scale",
            "read",
            "--protocol",
            "continuous",
            "--port",
            link.to_str().unwrap(),
            "--count",
            "1000",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = drain(reader.stdout.take().unwrap());
    let _err = drain(reader.stderr.take().unwrap());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(reader.try_wait().unwrap(), None, "still reading");
    sim.terminate();
    let status = wait_until(
        &mut reader,
        Duration::from_secs(5),
        "scale read on a lost port",
    );
    assert_eq!(status.code(), Some(1));
    let printed = out.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
    assert!(
        printed.lines().count() >= 2 && printed.lines().all(|l| l == "0 g stable gross"),
        "{printed:?}"
    );
}

fn qr_payloads(img: &Bitmap) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| if img.get(x as u32, y as u32) { 0 } else { 255 },
    );
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, s)| s))
        .collect()
}

#[test]
fn printer_simulate_turns_a_text_receipt_into_png_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("printer");
    let out = dir.path().join("out");
    let mut sim = Simulator::start(
        &[
            "printer",
            "simulate",
            "--link",
            link.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &link,
    );
    let payload = "CPTCBBCCDDFFGGHHJJKKLLNNPPRRSSTTVVXXNRTK";
    let receipt = Receipt::new()
        .text("Épicerie du Jardin", Style::center().bold().double())
        .text("Café crème à emporter", Style::center())
        .separator()
        .pair("Tomates cœur de bœuf 1,234 kg", "4,32 €")
        .pair("Œufs de la ferme x6", "3,10 €")
        .separator()
        .pair("TOTAL TTC", "7,42 €")
        .text("Merci et à bientôt !", Style::center())
        .qr(payload)
        .cut();
    let bytes = encode_text(&receipt, Paper::Mm80, CodePage::Wpc1252);
    let mut port = open_serial(
        &link,
        &SerialSettings::n81(9600),
        Duration::from_millis(100),
    )
    .unwrap();
    port.write_all(&bytes).unwrap();
    port.flush().unwrap();

    let png = out.join("job-0001.png");
    let txt = out.join("job-0001.txt");
    assert_eq!(
        sim.next_line(Duration::from_secs(10)),
        format!("job {}", png.display())
    );
    let text = std::fs::read_to_string(&txt).unwrap();
    for expected in [
        "Épicerie du Jardin",
        "Café crème à emporter",
        "Tomates cœur de bœuf 1,234 kg",
        "4,32 €",
        "Œufs de la ferme x6",
        "7,42 €",
        "Merci et à bientôt !",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    assert!(text.ends_with(&format!("qr: {payload}\n")), "{text}");
    let printed = Bitmap::from_png(&std::fs::read(&png).unwrap()).unwrap();
    assert_eq!(printed.width(), 576);
    assert!(printed.black_count() > 0);
    assert_eq!(qr_payloads(&printed), [payload]);

    // Status queries answer what stdin set.
    sim.send("paper-out");
    std::thread::sleep(Duration::from_millis(150));
    let s = comptoir_hardware::printer::query_status(&mut port, Duration::from_secs(1)).unwrap();
    assert!(s.paper_end && !s.can_print(), "{s:?}");
    sim.send("paper-ok");
    std::thread::sleep(Duration::from_millis(150));
    let s = comptoir_hardware::printer::query_status(&mut port, Duration::from_secs(1)).unwrap();
    assert!(!s.paper_end && s.can_print(), "{s:?}");

    // One receipt, one job: status queries between jobs make none.
    std::thread::sleep(Duration::from_millis(1200));
    assert!(!out.join("job-0002.png").exists(), "a second job appeared");
    drop(port);
    sim.terminate();
}

#[test]
fn scanner_simulate_sends_each_line_as_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner");
    let mut sim = Simulator::start(
        &["scanner", "simulate", "--link", link.to_str().unwrap()],
        &link,
    );
    let mut port =
        open_serial(&link, &SerialSettings::n81(9600), Duration::from_millis(50)).unwrap();
    let mut received = Vec::new();
    for scan in ["CPTCBBCCDDFFGGHHJJKKLLNNPPRRSSTTVVXXNRTK", "second scan"] {
        sim.send(scan);
        let want = format!("{scan}\r\n").into_bytes();
        let end = Instant::now() + Duration::from_secs(5);
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while !got.ends_with(b"\r\n") {
            assert!(
                Instant::now() < end,
                "no scan within 5 s: {:?}",
                String::from_utf8_lossy(&got)
            );
            match port.read(&mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => panic!("reading the scanner: {e}"),
            }
        }
        assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&got));
        received.push(got);
    }
    assert_eq!(received.len(), 2);
    drop(port);
    sim.stop_with(libc::SIGINT);
}

#[test]
fn devices_lists_without_failing() {
    let o = run(&["devices"], Duration::from_secs(10));
    assert_eq!(o.code, Some(0), "stderr: {}", o.stderr);
    // One device a line, `PATH  VID:PID  PRODUCT  ROLE`; none at all is fine here.
    for line in o.stdout.lines() {
        assert!(line.starts_with('/'), "{line:?}");
    }
}

#[test]
fn simulate_refuses_a_link_on_a_database_a_folder_or_a_foreign_link() {
    let dir = tempfile::tempdir().unwrap();
    let (_db_dir, db, store) = crate::common::seeded_db(2);
    drop(store);
    let db_bytes = std::fs::read(&db).unwrap();
    let key = dir.path().join("comptoir.db.key");
    std::fs::write(&key, b"secret key bytes").unwrap();
    let folder = dir.path().join("receipts");
    std::fs::create_dir(&folder).unwrap();
    let foreign = dir.path().join("port");
    std::os::unix::fs::symlink(&db, &foreign).unwrap();
    let out = dir.path().join("jobs");
    for path in [&db, &key, &folder, &foreign] {
        let p = path.to_str().unwrap();
        let o = out.to_str().unwrap();
        for args in [
            vec!["scale", "simulate", "--protocol", "toledo8217", "--link", p],
            vec!["printer", "simulate", "--link", p, "--out", o],
            vec!["scanner", "simulate", "--link", p],
        ] {
            let r = run(&args, Duration::from_secs(10));
            assert_eq!(r.code, Some(2), "{args:?}: {}", r.stderr);
            assert!(
                r.stderr.contains(p),
                "{args:?}: names the path: {}",
                r.stderr
            );
            assert!(r.stdout.is_empty(), "{args:?}: no ready line: {}", r.stdout);
        }
    }
    assert_eq!(
        std::fs::read(&db).unwrap(),
        db_bytes,
        "the database is untouched"
    );
    assert_eq!(std::fs::read(&key).unwrap(), b"secret key bytes");
    assert!(folder.is_dir());
    assert_eq!(std::fs::read_link(&foreign).unwrap(), db);
    assert!(
        !out.exists(),
        "the printer's --out folder was not even made"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 3, "no temporary link left: {left:?}");
}

#[test]
fn simulate_replaces_its_own_stale_link() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner");
    // What a simulator killed with SIGKILL leaves: a link to a pty that is gone.
    std::os::unix::fs::symlink("/dev/pts/99999", &link).unwrap();
    let sim = Simulator::start(
        &["scanner", "simulate", "--link", link.to_str().unwrap()],
        &link,
    );
    let target = std::fs::read_link(&link).unwrap();
    assert_ne!(target, Path::new("/dev/pts/99999"));
    assert!(target.starts_with("/dev/pts"), "{}", target.display());
    sim.terminate();
}
