//! The blocking scale driver: opens the port, polls at the protocol's rate, decodes,
//! zeroes and tares on request, notices an unplugged port and reopens it every second,
//! and reports what happens through a callback. Plain `std`: run it on a worker thread.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use super::{Decoder, ErrorCode, Polling, Protocol, Reading};
use crate::transport::{is_timeout, open_serial, SerialSettings, Transport};

/// No valid frame within this time gives `no_answer` (no bytes) or `garbage` (bytes).
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a lost port is tried again.
pub const REOPEN_INTERVAL: Duration = Duration::from_secs(1);
/// Read timeout of one loop turn: bounds the latency of commands and of `stop`.
pub const READ_TIMEOUT: Duration = Duration::from_millis(20);

/// What the driver needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverConfig {
    pub protocol: Protocol,
    pub port: PathBuf,
    pub settings: SerialSettings,
    pub answer_timeout: Duration,
    pub reopen_interval: Duration,
}

impl DriverConfig {
    /// The protocol's own serial settings and the standard timings.
    pub fn new(protocol: Protocol, port: impl Into<PathBuf>) -> Self {
        DriverConfig {
            protocol,
            port: port.into(),
            settings: protocol.settings(),
            answer_timeout: ANSWER_TIMEOUT,
            reopen_interval: REOPEN_INTERVAL,
        }
    }
}

/// Asks the driver for something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaleCommand {
    /// Zero the scale (where the protocol can; ignored otherwise).
    Zero,
    /// Tare the current load (where the protocol can).
    Tare,
    /// Clear the tare (where the protocol can).
    ClearTare,
    /// For on-demand protocols (`adam-print`): poll only while true (a weighing screen is
    /// open). Other protocols ignore it. Starts true.
    Poll(bool),
}

/// What the driver reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScaleEvent {
    /// The port is open.
    Connected,
    /// The port could not be opened or was lost; it is tried again every second. Reported
    /// once per outage.
    Disconnected { reason: String },
    /// A reading (or an error code such as `no_answer`).
    Reading(Reading),
}

/// One open connection: requests, reads, decodes, times out. Shared by the driver and
/// `scale read`.
pub(crate) struct Session<T: Transport> {
    protocol: Protocol,
    pub(crate) transport: T,
    decoder: Box<dyn Decoder>,
    last_request: Option<Instant>,
    window_start: Instant,
    bytes_in_window: bool,
    polling: bool,
    answer_timeout: Duration,
    buf: Vec<u8>,
}

impl<T: Transport> Session<T> {
    pub(crate) fn new(protocol: Protocol, transport: T, answer_timeout: Duration) -> Self {
        Session {
            protocol,
            transport,
            decoder: protocol.decoder(),
            last_request: None,
            window_start: Instant::now(),
            bytes_in_window: false,
            polling: true,
            answer_timeout,
            buf: vec![0; 256],
        }
    }

    pub(crate) fn set_polling(&mut self, on: bool) {
        if on && !self.polling {
            self.window_start = Instant::now();
            self.bytes_in_window = false;
        }
        self.polling = on;
    }

    pub(crate) fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.transport.write_all(bytes) {
            Err(e) if is_timeout(&e) => Ok(()),
            other => other,
        }
    }

    /// Applies a command; returns false when the protocol cannot do it.
    pub(crate) fn command(&mut self, cmd: ScaleCommand) -> io::Result<bool> {
        let bytes = match cmd {
            ScaleCommand::Zero => self.protocol.zero_command(),
            ScaleCommand::Tare => self.protocol.tare_command(),
            ScaleCommand::ClearTare => self.protocol.clear_tare_command(),
            ScaleCommand::Poll(on) => {
                self.set_polling(on);
                return Ok(true);
            }
        };
        match bytes {
            Some(b) => self.send(b).map(|_| true),
            None => Ok(false),
        }
    }

    /// One turn: sends the request when due, reads once (up to the transport's timeout),
    /// and returns the readings decoded, plus `no_answer`/`garbage` when the answer timeout
    /// ran out. An `Err` means the port is gone.
    pub(crate) fn step(&mut self) -> io::Result<Vec<Reading>> {
        let polling = self.protocol.polling();
        let waiting = !matches!(polling, Polling::OnDemand { .. }) || self.polling;
        if let Polling::Request { request, interval } | Polling::OnDemand { request, interval } =
            polling
        {
            let due = self.last_request.is_none_or(|t| t.elapsed() >= interval);
            if waiting && due {
                self.last_request = Some(Instant::now());
                self.send(request)?;
            }
        }
        let mut readings = Vec::new();
        match self.transport.read(&mut self.buf) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the port was closed",
                ))
            }
            Ok(n) => {
                self.bytes_in_window = true;
                readings = self.decoder.push(&self.buf[..n]);
                if !readings.is_empty() {
                    self.window_start = Instant::now();
                    self.bytes_in_window = false;
                }
            }
            Err(e) if is_timeout(&e) => {}
            Err(e) => return Err(e),
        }
        if !waiting {
            self.window_start = Instant::now();
            self.bytes_in_window = false;
        } else if self.window_start.elapsed() >= self.answer_timeout {
            readings.push(Reading::error(if self.bytes_in_window {
                ErrorCode::Garbage
            } else {
                ErrorCode::NoAnswer
            }));
            self.window_start = Instant::now();
            self.bytes_in_window = false;
        }
        Ok(readings)
    }
}

/// Opens a real serial port for a driver (20 ms read timeout).
pub fn open_port(path: &Path, settings: &SerialSettings) -> io::Result<serialport::TTYPort> {
    open_serial(path, settings, READ_TIMEOUT)
}

/// Runs the scale driver on real serial ports until `stop` is set. See
/// [`run_scale_driver_with`].
///
/// ```no_run
/// use std::sync::{atomic::AtomicBool, mpsc, Arc};
/// use comptoir_hardware::scale::{run_scale_driver, DriverConfig, Protocol, ScaleEvent};
/// let (_cmd_tx, cmd_rx) = mpsc::channel();
/// let (ev_tx, ev_rx) = mpsc::channel::<ScaleEvent>();
/// let stop = Arc::new(AtomicBool::new(false));
/// let config = DriverConfig::new(Protocol::Toledo8217, "/dev/comptoir-scale");
/// std::thread::spawn(move || {
///     run_scale_driver(&config, &cmd_rx, |e| { let _ = ev_tx.send(e); }, &stop)
/// });
/// ```
pub fn run_scale_driver(
    config: &DriverConfig,
    commands: &Receiver<ScaleCommand>,
    events: impl FnMut(ScaleEvent),
    stop: &AtomicBool,
) {
    run_scale_driver_with(config, open_port, commands, events, stop)
}

/// Runs the scale driver with any transport opener (tests pass scripted transports).
///
/// Loop: open the port (on failure report `Disconnected` once, wait `reopen_interval`, try
/// again); report `Connected`; drop stale input; then each turn apply pending commands, send
/// the protocol's request when due, read for up to the transport's timeout and report
/// readings. A read error other than a timeout, or end of file, reports `Disconnected` and
/// goes back to opening. Silence is never a disconnection: it gives `no_answer` readings
/// every `answer_timeout` (on-demand protocols only while polling).
pub fn run_scale_driver_with<T: Transport>(
    config: &DriverConfig,
    mut open: impl FnMut(&Path, &SerialSettings) -> io::Result<T>,
    commands: &Receiver<ScaleCommand>,
    mut events: impl FnMut(ScaleEvent),
    stop: &AtomicBool,
) {
    let mut polling = true;
    let mut reported_down = false;
    while !stop.load(Ordering::Relaxed) {
        let transport = match open(&config.port, &config.settings) {
            Ok(t) => t,
            Err(e) => {
                if !reported_down {
                    reported_down = true;
                    events(ScaleEvent::Disconnected {
                        reason: format!("{}: {e}", config.port.display()),
                    });
                }
                sleep_unless_stopped(config.reopen_interval, stop);
                // Commands meant for a scale that is not there are dropped, except polling.
                loop {
                    match commands.try_recv() {
                        Ok(ScaleCommand::Poll(on)) => polling = on,
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                continue;
            }
        };
        events(ScaleEvent::Connected);
        let mut session = Session::new(config.protocol, transport, config.answer_timeout);
        let _ = session.transport.clear_input();
        session.set_polling(polling);
        let lost = loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let mut failed = None;
            loop {
                match commands.try_recv() {
                    Ok(cmd) => {
                        if let ScaleCommand::Poll(on) = cmd {
                            polling = on;
                        }
                        if let Err(e) = session.command(cmd) {
                            failed = Some(e);
                            break;
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => break,
                }
            }
            if let Some(e) = failed {
                break e;
            }
            match session.step() {
                Ok(readings) => readings
                    .into_iter()
                    .for_each(|r| events(ScaleEvent::Reading(r))),
                Err(e) => break e,
            }
        };
        reported_down = true;
        events(ScaleEvent::Disconnected {
            reason: format!("{}: {lost}", config.port.display()),
        });
        drop(session);
        sleep_unless_stopped(config.reopen_interval, stop);
    }
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let end = Instant::now() + total;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= end {
            break;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(20)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::ScriptedTransport;
    use std::sync::mpsc;

    #[test]
    fn session_polls_decodes_and_times_out() {
        let mut t = ScriptedTransport::default();
        t.incoming.push_back(b"\x02  1.2".to_vec());
        t.incoming.push_back(b"34\r".to_vec());
        let mut s = Session::new(Protocol::Toledo8217, t, Duration::from_millis(50));
        assert_eq!(s.step().unwrap(), []);
        assert_eq!(s.step().unwrap(), [Reading::weight(1234, true, false)]);
        assert_eq!(s.transport.written, b"W");
        std::thread::sleep(Duration::from_millis(160));
        assert_eq!(s.step().unwrap(), [Reading::error(ErrorCode::NoAnswer)]);
        assert_eq!(s.transport.written, b"WW");
        s.transport.incoming.push_back(b"junk".to_vec());
        s.step().unwrap();
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(s.step().unwrap(), [Reading::error(ErrorCode::Garbage)]);
        assert!(s.command(ScaleCommand::Tare).unwrap());
        assert!(s.transport.written.ends_with(b"T"));
    }

    #[test]
    fn on_demand_session_is_quiet_when_not_polling() {
        let t = ScriptedTransport::default();
        let mut s = Session::new(Protocol::AdamPrint, t, Duration::from_millis(30));
        s.set_polling(false);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(s.step().unwrap(), []);
        assert!(s.transport.written.is_empty());
        s.set_polling(true);
        assert_eq!(s.step().unwrap(), []);
        assert_eq!(s.transport.written, b"P\r\n");
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(s.step().unwrap(), [Reading::error(ErrorCode::NoAnswer)]);
        // Continuous protocols have no commands.
        let mut c = Session::new(
            Protocol::Continuous,
            ScriptedTransport::default(),
            ANSWER_TIMEOUT,
        );
        assert!(!c.command(ScaleCommand::Zero).unwrap());
    }

    #[test]
    fn driver_reports_down_once_and_reconnects() {
        let (_tx, rx) = mpsc::channel();
        let stop = AtomicBool::new(false);
        let mut config = DriverConfig::new(Protocol::Continuous, "/nonexistent");
        config.reopen_interval = Duration::from_millis(5);
        let mut attempts = 0;
        let mut events = Vec::new();
        run_scale_driver_with(
            &config,
            |_, _| {
                attempts += 1;
                match attempts {
                    1..=3 => Err(io::Error::new(io::ErrorKind::NotFound, "gone")),
                    _ => {
                        let mut t = ScriptedTransport::default();
                        t.incoming.push_back(b"\nST,GS,+  0.100kg\r\n".to_vec());
                        Ok(t)
                    }
                }
            },
            &rx,
            |e| {
                let done = matches!(e, ScaleEvent::Reading(_));
                events.push(e);
                if done {
                    stop.store(true, Ordering::Relaxed);
                }
            },
            &stop,
        );
        assert_eq!(events.len(), 3, "{events:?}");
        assert!(matches!(events[0], ScaleEvent::Disconnected { .. }));
        assert_eq!(events[1], ScaleEvent::Connected);
        assert_eq!(
            events[2],
            ScaleEvent::Reading(Reading::weight(100, true, false))
        );
    }
}
