//! Runs the hardware crate's drivers on worker threads and publishes what they report on a
//! channel. The UI thread drains it from a `slint::Timer` (every 10 ms), which works both in
//! the kiosk and under the testing backend, where there is no event loop to post into.
//!
//! In demo mode the same drivers talk to the hardware crate's simulators, started in-process
//! on pseudo-terminals: the demo exercises the real protocols end to end.

pub mod printer;
pub mod scanner;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use comptoir_hardware::config::{PrinterSection, ScaleSection, ScannerSection};
use comptoir_hardware::printer::{Mode, Paper};
use comptoir_hardware::scale::{Protocol, ScaleCommand, ScaleEvent};
use comptoir_hardware::simulate::{
    PrinterSimulatorHandle, ScaleSimulatorHandle, ScannerSimulatorHandle,
};

/// The font of raster receipts and of the printer simulator's pictures.
pub const RECEIPT_FONT: &[u8] = include_bytes!("../../ui/fonts/NotoSans-Regular.ttf");

/// What a worker reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceEvent {
    Scale(ScaleEvent),
    Scanner(scanner::ScannerEvent),
    Printer(printer::PrinterEvent),
}

/// The demo's simulators, kept alive as long as the devices run.
struct DemoSimulators {
    scale: ScaleSimulatorHandle,
    printer: PrinterSimulatorHandle,
    scanner: ScannerSimulatorHandle,
    dir: PathBuf,
}

/// The running device workers.
pub struct Devices {
    events: Receiver<DeviceEvent>,
    scale_commands: Option<Sender<ScaleCommand>>,
    printer_wake: Option<Sender<printer::PrinterRequest>>,
    /// The kiosk's clock for the printer worker (see [`Devices::tell_time`]).
    time: printer::KioskTime,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    demo: Option<DemoSimulators>,
    configured: Configured,
    printer_section: Option<PrinterSection>,
}

/// Which devices the kiosk has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Configured {
    pub scale: bool,
    pub printer: bool,
    pub scanner: bool,
}

impl Devices {
    /// No devices (screenshots, tests of screens that need none).
    pub fn none() -> Devices {
        let (_tx, rx) = mpsc::channel();
        Devices {
            events: rx,
            scale_commands: None,
            printer_wake: None,
            time: printer::KioskTime::default(),
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
            demo: None,
            configured: Configured::default(),
            printer_section: None,
        }
    }

    /// Starts the workers of the configured devices. `db` is the database whose print queue
    /// the printer worker serves.
    pub fn start(
        scale: Option<&ScaleSection>,
        printer: Option<&PrinterSection>,
        scanner: Option<&ScannerSection>,
        db: &Path,
    ) -> Devices {
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let mut devices = Devices::none();
        devices.events = rx;
        devices.stop = stop.clone();
        if let Some(section) = scale {
            let (cmd_tx, cmd_rx) = mpsc::channel();
            let config = section.driver_config();
            let tx = tx.clone();
            let stop = stop.clone();
            devices.threads.push(spawn("scale", move || {
                comptoir_hardware::scale::run_scale_driver(
                    &config,
                    &cmd_rx,
                    |e| {
                        let _ = tx.send(DeviceEvent::Scale(e));
                    },
                    &stop,
                )
            }));
            devices.scale_commands = Some(cmd_tx);
            devices.configured.scale = true;
        }
        if let Some(section) = scanner {
            if let Some(port) = section.port.clone() {
                let settings = section.settings();
                let tx = tx.clone();
                let stop = stop.clone();
                devices.threads.push(spawn("scanner", move || {
                    scanner::run(
                        &port,
                        &settings,
                        |e| {
                            let _ = tx.send(DeviceEvent::Scanner(e));
                        },
                        &stop,
                    )
                }));
                devices.configured.scanner = true;
            }
        }
        if let Some(section) = printer {
            let (wake_tx, wake_rx) = mpsc::channel();
            devices.printer_section = Some(section.clone());
            let section = section.clone();
            let db = db.to_path_buf();
            let tx = tx.clone();
            let stop = stop.clone();
            let time = devices.time.clone();
            devices.threads.push(spawn("printer", move || {
                printer::run(
                    &section,
                    &db,
                    &wake_rx,
                    &time,
                    |e| {
                        let _ = tx.send(DeviceEvent::Printer(e));
                    },
                    &stop,
                )
            }));
            devices.printer_wake = Some(wake_tx);
            devices.configured.printer = true;
        }
        devices
    }

    /// Demo mode: simulators on pseudo-terminals in a private folder, and the real drivers
    /// on them. Receipts the simulated printer prints land in `receipts_dir` as PNG and text.
    pub fn start_demo(db: &Path, receipts_dir: &Path) -> std::io::Result<Devices> {
        static STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("comptoir-demo-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        std::fs::create_dir_all(receipts_dir)?;
        let scale_link = dir.join("scale");
        let printer_link = dir.join("printer");
        let scanner_link = dir.join("scanner");
        // The continuous protocol streams ten readings a second: a live weight on screen.
        let scale = ScaleSimulatorHandle::spawn(Protocol::Continuous, &scale_link)?;
        let printer =
            PrinterSimulatorHandle::spawn(&printer_link, receipts_dir, RECEIPT_FONT, Paper::Mm80)?;
        let scanner = ScannerSimulatorHandle::spawn(&scanner_link)?;
        let scale_section = ScaleSection {
            protocol: Protocol::Continuous,
            port: scale_link,
            baud: None,
            data_bits: None,
            parity: None,
            stop_bits: None,
            capacity_g: Some(15_000),
            min_net_g: Some(20),
        };
        let printer_section = PrinterSection {
            port: printer_link,
            mode: Some(Mode::Raster),
            width_dots: 576,
            baud: Some(115_200),
            drawer: false,
        };
        let scanner_section = ScannerSection {
            kind: comptoir_hardware::config::ScannerKind::Serial,
            port: Some(scanner_link),
            baud: None,
        };
        let mut devices = Devices::start(
            Some(&scale_section),
            Some(&printer_section),
            Some(&scanner_section),
            db,
        );
        devices.demo = Some(DemoSimulators {
            scale,
            printer,
            scanner,
            dir,
        });
        Ok(devices)
    }

    /// The printer's section, to encode jobs for it.
    pub fn printer_section(&self) -> Option<&PrinterSection> {
        self.printer_section.as_ref()
    }

    /// Everything reported since the last call. In demo mode, also lets go of the simulated
    /// printer's reports of the jobs it wrote (the receipts are in their folder as files).
    pub fn drain(&self) -> Vec<DeviceEvent> {
        if let Some(demo) = &self.demo {
            while demo.printer.next_job(Duration::ZERO).is_some() {}
        }
        self.events.try_iter().collect()
    }

    pub fn configured(&self) -> Configured {
        self.configured
    }

    pub fn is_demo(&self) -> bool {
        self.demo.is_some()
    }

    /// Zero, tare, clear the tare, or (on-demand scales) poll only while a weighing screen is open.
    pub fn scale_command(&self, command: ScaleCommand) {
        if let Some(tx) = &self.scale_commands {
            let _ = tx.send(command);
        }
    }

    /// Tells the printer worker that a job was queued.
    pub fn wake_printer(&self) {
        if let Some(tx) = &self.printer_wake {
            let _ = tx.send(printer::PrinterRequest::Wake);
        }
    }

    /// Opens the cash drawer hanging on the printer now, or not at all: the kick is never
    /// queued (a printer that is off drops it, and says so in the log). Whether a sale opens
    /// the drawer is `app::printing::after_sale`'s rule.
    pub fn open_drawer(&self) {
        if let Some(tx) = &self.printer_wake {
            let _ = tx.send(printer::PrinterRequest::OpenDrawer(
                std::time::Instant::now(),
            ));
        }
    }

    /// The kiosk's clock, told by the UI thread at each turn of its device timer: the printer
    /// worker ages the queue's jobs by it, and prints nothing before it knows it.
    pub fn tell_time(&self, now: chrono::DateTime<chrono::Utc>) {
        self.time.tell(now);
    }

    /// Demo mode: acts on the simulated scale as a customer would (`1234`, `motion`, `zero`...).
    pub fn demo_scale(&self, command: &str) -> bool {
        let Some(demo) = &self.demo else { return false };
        match command.parse() {
            Ok(c) => {
                demo.scale.command(c);
                true
            }
            Err(_) => false,
        }
    }

    /// Demo mode: a card shown to the simulated scanner.
    pub fn demo_scan(&self, text: &str) -> bool {
        let Some(demo) = &self.demo else { return false };
        demo.scanner.scan(text);
        true
    }

    /// Demo mode: paper out, cover open... on the simulated printer.
    pub fn demo_printer(&self, command: &str) -> bool {
        let Some(demo) = &self.demo else { return false };
        match command.parse() {
            Ok(c) => {
                demo.printer.command(c);
                true
            }
            Err(_) => false,
        }
    }
}

impl Drop for Devices {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.scale_commands = None;
        self.printer_wake = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        if let Some(demo) = self.demo.take() {
            demo.scale.stop();
            demo.printer.stop();
            demo.scanner.stop();
            let _ = std::fs::remove_dir_all(&demo.dir);
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(format!("comptoir-{name}"))
        .spawn(f)
        .expect("a thread starts")
}
