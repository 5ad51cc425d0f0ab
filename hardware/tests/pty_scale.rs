//! Each scale protocol's driver and `scale read` against its simulator, through real
//! pseudo-terminals; unplugging and plugging back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use comptoir_hardware::scale::read::scale_read;
use comptoir_hardware::scale::{
    run_scale_driver, DriverConfig, ErrorCode, Protocol, Reading, ScaleCommand, ScaleEvent,
    SimCommand,
};
use comptoir_hardware::simulate::ScaleSimulatorHandle;

struct Running {
    commands: Sender<ScaleCommand>,
    events: Receiver<ScaleEvent>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn start(config: DriverConfig) -> Self {
        let (commands, cmd_rx) = mpsc::channel();
        let (ev_tx, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            run_scale_driver(&config, &cmd_rx, |e| drop(ev_tx.send(e)), &s)
        });
        Running {
            commands,
            events,
            stop,
            thread: Some(thread),
        }
    }

    /// Waits for an event matching `pred`, within `within`.
    fn wait_for(&self, within: Duration, pred: impl Fn(&ScaleEvent) -> bool) -> ScaleEvent {
        let end = Instant::now() + within;
        let mut seen = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.events.recv_timeout(left) {
                Ok(e) if pred(&e) => return e,
                Ok(e) => seen.push(e),
                Err(_) => break,
            }
        }
        panic!(
            "no matching event within {within:?}; seen (last 10): {:?}",
            &seen[seen.len().saturating_sub(10)..]
        );
    }

    fn wait_reading(&self, r: Reading) {
        self.wait_for(Duration::from_secs(3), |e| *e == ScaleEvent::Reading(r));
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

fn setup(protocol: Protocol) -> (tempfile::TempDir, ScaleSimulatorHandle, Running) {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scale");
    let sim = ScaleSimulatorHandle::spawn(protocol, &link).unwrap();
    let driver = Running::start(DriverConfig::new(protocol, &link));
    driver.wait_for(Duration::from_secs(2), |e| *e == ScaleEvent::Connected);
    (dir, sim, driver)
}

#[test]
fn toledo8217_driver_against_simulator() {
    let (_dir, sim, d) = setup(Protocol::Toledo8217);
    d.wait_reading(Reading::weight(0, true, false));
    sim.command(SimCommand::Weight(1234));
    d.wait_reading(Reading::weight(1234, true, false));
    sim.command(SimCommand::Motion);
    d.wait_reading(Reading::error(ErrorCode::Motion));
    sim.command(SimCommand::Weight(-12));
    d.wait_reading(Reading::error(ErrorCode::UnderZero));
    sim.command(SimCommand::Over);
    d.wait_reading(Reading::error(ErrorCode::OverCapacity));
    sim.command(SimCommand::NotZeroed);
    d.wait_reading(Reading::error(ErrorCode::NotZeroed));
    sim.command(SimCommand::Weight(800));
    d.commands.send(ScaleCommand::Tare).unwrap();
    d.wait_reading(Reading::weight(0, true, true));
    sim.command(SimCommand::Weight(1000));
    d.wait_reading(Reading::weight(200, true, true));
    d.commands.send(ScaleCommand::ClearTare).unwrap();
    d.wait_reading(Reading::weight(1000, true, false));
    d.commands.send(ScaleCommand::Zero).unwrap();
    d.wait_reading(Reading::weight(0, true, false));
}

#[test]
fn toledo8217_polls_at_least_five_times_a_second() {
    let (_dir, sim, d) = setup(Protocol::Toledo8217);
    sim.command(SimCommand::Weight(500));
    d.wait_reading(Reading::weight(500, true, false));
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(1) {
        if let Ok(ScaleEvent::Reading(r)) = d.events.recv_timeout(Duration::from_millis(50)) {
            assert_eq!(r, Reading::weight(500, true, false));
            n += 1;
        }
    }
    assert!(n >= 5, "{n} readings in one second");
}

#[test]
fn silence_and_garbage_give_no_answer_and_garbage() {
    let (_dir, sim, d) = setup(Protocol::Toledo8217);
    sim.command(SimCommand::Silence);
    d.wait_reading(Reading::error(ErrorCode::NoAnswer));
    sim.command(SimCommand::Garbage);
    d.wait_reading(Reading::error(ErrorCode::Garbage));
    sim.command(SimCommand::Weight(42));
    d.wait_reading(Reading::weight(42, true, false));
}

#[test]
fn continuous_driver_against_simulator() {
    let (_dir, sim, d) = setup(Protocol::Continuous);
    d.wait_reading(Reading::weight(0, true, false));
    sim.command(SimCommand::Weight(-12));
    sim.command(SimCommand::Motion);
    d.wait_reading(Reading::weight(-12, false, false));
    sim.command(SimCommand::Weight(1234));
    sim.command(SimCommand::Tare(234));
    d.wait_reading(Reading::weight(1000, true, true));
    sim.command(SimCommand::Pounds);
    d.wait_reading(Reading::error(ErrorCode::UnsupportedUnit));
    sim.command(SimCommand::Under);
    d.wait_reading(Reading::error(ErrorCode::UnderZero));
}

#[test]
fn adam_continuous_driver_against_simulator() {
    let (_dir, sim, d) = setup(Protocol::AdamContinuous);
    d.wait_reading(Reading::weight(0, true, false));
    sim.command(SimCommand::Weight(2500));
    d.wait_reading(Reading::weight(2500, true, false));
    d.commands.send(ScaleCommand::Tare).unwrap();
    d.wait_reading(Reading::weight(0, true, true));
    sim.command(SimCommand::Over);
    d.wait_reading(Reading::error(ErrorCode::OverCapacity));
}

#[test]
fn adam_print_polls_only_while_asked_and_silence_is_no_disconnection() {
    let (_dir, sim, d) = setup(Protocol::AdamPrint);
    sim.command(SimCommand::Weight(1234));
    d.wait_reading(Reading::weight(1234, true, false));
    // The same weight is not printed again: the driver says no_answer, stays connected.
    let e = d.wait_for(Duration::from_secs(4), |e| {
        matches!(e, ScaleEvent::Reading(_) | ScaleEvent::Disconnected { .. })
    });
    assert_eq!(e, ScaleEvent::Reading(Reading::error(ErrorCode::NoAnswer)));
    // Not polling: nothing at all, not even no_answer.
    d.commands.send(ScaleCommand::Poll(false)).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    while d.events.try_recv().is_ok() {}
    sim.command(SimCommand::Weight(700));
    assert!(
        d.events.recv_timeout(Duration::from_millis(2500)).is_err(),
        "no event while not polling"
    );
    d.commands.send(ScaleCommand::Poll(true)).unwrap();
    d.wait_reading(Reading::weight(700, true, false));
}

#[test]
fn unplug_and_reconnect() {
    let (_dir, sim, d) = setup(Protocol::Continuous);
    sim.command(SimCommand::Weight(300));
    d.wait_reading(Reading::weight(300, true, false));
    let unplugged = Instant::now();
    sim.unplug();
    d.wait_for(Duration::from_secs(1), |e| {
        matches!(e, ScaleEvent::Disconnected { .. })
    });
    let noticed = unplugged.elapsed();
    // Reported once per outage, however many reopen attempts fail.
    std::thread::sleep(Duration::from_millis(2200));
    let during: Vec<_> = d.events.try_iter().collect();
    assert!(during.is_empty(), "{during:?}");
    sim.command(SimCommand::Weight(450));
    sim.replug().unwrap();
    d.wait_for(Duration::from_secs(2), |e| *e == ScaleEvent::Connected);
    d.wait_reading(Reading::weight(450, true, false));
    eprintln!("unplug noticed after {noticed:?}");
}

#[test]
fn scale_read_agrees_with_every_simulator() {
    for protocol in Protocol::ALL {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("scale");
        let sim = ScaleSimulatorHandle::spawn(protocol, &link).unwrap();
        sim.command(SimCommand::Weight(1234));
        let mut out = Vec::new();
        scale_read(protocol, &link, 2, false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let first = text.lines().next().unwrap();
        assert_eq!(first, "1234 g stable gross", "{protocol}: {text}");
        if protocol == Protocol::AdamPrint {
            // Asked again for the same weight, the scale stays silent.
            assert_eq!(text.lines().nth(1), Some("error no_answer"));
        }
        sim.command(SimCommand::Weight(-12));
        if protocol != Protocol::Toledo8217 {
            let mut out = Vec::new();
            scale_read(protocol, &link, 1, true, &mut out).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "{\"grams\":-12,\"stable\":true,\"net\":false}\n",
                "{protocol}"
            );
        } else {
            let mut out = Vec::new();
            scale_read(protocol, &link, 1, true, &mut out).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "{\"error\":\"under_zero\"}\n"
            );
        }
        sim.command(SimCommand::Silence);
        let mut out = Vec::new();
        let start = Instant::now();
        scale_read(protocol, &link, 1, false, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "error no_answer\n");
        assert!(start.elapsed() >= Duration::from_millis(1900));
        sim.stop();
        assert!(!link.exists(), "link removed");
    }
}

#[test]
fn scale_read_fails_when_the_port_disappears() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scale");
    let sim = ScaleSimulatorHandle::spawn(Protocol::Toledo8217, &link).unwrap();
    sim.command(SimCommand::Silence);
    let l = link.clone();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        scale_read(Protocol::Toledo8217, &l, 100, false, &mut out)
    });
    std::thread::sleep(Duration::from_millis(300));
    sim.unplug();
    let res = reader.join().unwrap();
    assert!(
        matches!(
            res,
            Err(comptoir_hardware::scale::read::ScaleReadError::Lost { .. })
        ),
        "{res:?}"
    );
}

#[test]
fn run_scale_simulator_serves_stdin_commands_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scale");
    let stop = Arc::new(AtomicBool::new(false));
    let (l, s) = (link.clone(), stop.clone());
    let sim = std::thread::spawn(move || {
        let mut out = Vec::new();
        let commands = std::io::Cursor::new(b"bogus\n1234\ntare 234\n".to_vec());
        comptoir_hardware::run_scale_simulator(Protocol::Continuous, &l, commands, s, &mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    });
    let end = Instant::now() + Duration::from_secs(2);
    while !link.exists() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    // stdin has ended; the simulator still serves.
    std::thread::sleep(Duration::from_millis(200));
    let mut out = Vec::new();
    scale_read(Protocol::Continuous, &link, 1, true, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\"grams\":1000,\"stable\":true,\"net\":true}\n"
    );
    stop.store(true, Ordering::Relaxed);
    let printed = sim.join().unwrap();
    assert_eq!(printed, format!("ready {}\n", link.display()));
    assert!(!link.exists());
}

#[test]
fn latency_from_a_frame_on_the_pty_to_the_reading() {
    use comptoir_hardware::pty::PtyLink;
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scale");
    let mut pty = PtyLink::create(&link).unwrap();
    let d = Running::start(DriverConfig::new(Protocol::Continuous, &link));
    d.wait_for(Duration::from_secs(2), |e| *e == ScaleEvent::Connected);
    std::thread::sleep(Duration::from_millis(100));
    pty.master().write_all(b"\r\n").unwrap();
    let mut worst = Duration::ZERO;
    let mut total = Duration::ZERO;
    let n = 50u32;
    for i in 0..n {
        let grams = 1000 + i as i64;
        let frame = comptoir_hardware::scale::continuous::line(true, false, grams);
        let sent = Instant::now();
        pty.master().write_all(&frame).unwrap();
        d.wait_for(Duration::from_secs(1), |e| {
            *e == ScaleEvent::Reading(Reading::weight(grams, true, false))
        });
        let took = sent.elapsed();
        worst = worst.max(took);
        total += took;
    }
    eprintln!("frame -> reading: mean {:?}, worst {:?}", total / n, worst);
    assert!(
        total / n < Duration::from_millis(20),
        "mean {:?}",
        total / n
    );
}
