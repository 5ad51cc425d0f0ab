//! What the devices last reported, as plain data for the screens: the live weight, the
//! printer's state and queue, the scanner and its last scan.

use comptoir_hardware::scale::{Reading, ScaleEvent};

use crate::devices::printer::{PrinterEvent, PrinterState};
use crate::devices::scanner::ScannerEvent;
use crate::devices::DeviceEvent;
use crate::store::{people, Store};

/// The scale as the screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScaleView {
    /// No scale configured.
    #[default]
    Absent,
    /// Configured, not answering at the port (unplugged); retried every second.
    Disconnected,
    /// Connected, nothing read yet.
    Waiting,
    Weight {
        grams: i64,
        stable: bool,
        net: bool,
    },
    /// A reading without a weight: `motion`, `over_capacity`, `under_zero`...
    Error(&'static str),
}

/// The last card shown to the scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastScan {
    /// A valid card of this resident.
    Resident(i64),
    /// A well-formed card the database does not know (or revoked).
    UnknownCard,
    /// Not a card: the refusal code (`bad_check`, `too_long`...).
    Refused(&'static str),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceStatus {
    pub scale: ScaleView,
    /// `None` when no printer is configured.
    pub printer: Option<PrinterState>,
    /// Jobs that print when the printer can.
    pub printer_waiting: i64,
    /// Jobs queued more than a day ago: they wait for an admin's "print" or "drop".
    pub printer_held: i64,
    pub last_printed: Option<String>,
    /// `None` when no serial scanner is configured; else whether it is connected.
    pub scanner: Option<bool>,
    pub last_scan: Option<LastScan>,
    /// How many scans so far (a new scan of the same card is still news).
    pub scans: u64,
}

impl DeviceStatus {
    /// The state right after start: configured devices wait for their first report.
    pub fn starting(scale: bool, printer: bool, scanner: bool) -> DeviceStatus {
        DeviceStatus {
            scale: if scale {
                ScaleView::Disconnected
            } else {
                ScaleView::Absent
            },
            printer: printer.then(PrinterState::default),
            scanner: scanner.then_some(false),
            ..DeviceStatus::default()
        }
    }

    /// Applies a worker's report. Card tokens are looked up here, so a scan shows who it is.
    pub fn apply(&mut self, event: DeviceEvent, store: &Store) {
        match event {
            DeviceEvent::Scale(ScaleEvent::Connected) => self.scale = ScaleView::Waiting,
            DeviceEvent::Scale(ScaleEvent::Disconnected { .. }) => {
                self.scale = ScaleView::Disconnected
            }
            DeviceEvent::Scale(ScaleEvent::Reading(r)) => {
                self.scale = match r {
                    Reading::Weight(w) => ScaleView::Weight {
                        grams: w.grams,
                        stable: w.stable,
                        net: w.net,
                    },
                    Reading::Error(e) => ScaleView::Error(e.error.as_str()),
                }
            }
            DeviceEvent::Printer(PrinterEvent::State(s)) => self.printer = Some(s),
            DeviceEvent::Printer(PrinterEvent::Waiting { ready, held }) => {
                self.printer_waiting = ready;
                self.printer_held = held;
            }
            DeviceEvent::Printer(PrinterEvent::Printed { label, .. }) => {
                self.last_printed = Some(label)
            }
            // Logged by the worker; the seller is not alarmed: the drawer opens by its key.
            DeviceEvent::Printer(PrinterEvent::DrawerDropped) => {}
            DeviceEvent::Scanner(ScannerEvent::Connected) => self.scanner = Some(true),
            DeviceEvent::Scanner(ScannerEvent::Disconnected { .. }) => self.scanner = Some(false),
            DeviceEvent::Scanner(ScannerEvent::Card { token }) => {
                self.scans += 1;
                self.last_scan = Some(match people::resident_by_token(store.conn(), &token) {
                    Ok(Some(id)) => LastScan::Resident(id),
                    Ok(None) => LastScan::UnknownCard,
                    Err(e) => {
                        log::error!("card look-up: {e}");
                        LastScan::UnknownCard
                    }
                });
            }
            DeviceEvent::Scanner(ScannerEvent::Refused { code }) => {
                self.scans += 1;
                self.last_scan = Some(LastScan::Refused(code));
            }
        }
    }
}
