//! The receipt printer's worker: serves the print queue oldest first, asks the printer's
//! status between jobs (never during one: raster data can hold the same bytes), and keeps
//! jobs queued while the printer is missing, out of paper or open. No sale waits for it.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use comptoir_hardware::config::PrinterSection;
use comptoir_hardware::printer::{
    encode_text, CodePage, Mode, Paper, PrinterLink, Receipt, Renderer,
};

use crate::store::{print_queue, utc_text};

/// The printer's state, as the screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrinterState {
    pub connected: bool,
    pub paper_end: bool,
    pub paper_near_end: bool,
    pub cover_open: bool,
    pub offline: bool,
    pub error: bool,
}

impl PrinterState {
    pub fn can_print(&self) -> bool {
        self.connected && !self.paper_end && !self.cover_open && !self.offline && !self.error
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterEvent {
    State(PrinterState),
    /// Jobs waiting in the queue.
    Waiting(i64),
    Printed {
        id: i64,
        label: String,
    },
}

/// Encodes a receipt for this printer: raster or text, at its paper width.
pub fn encode(section: &PrinterSection, receipt: &Receipt) -> Vec<u8> {
    let paper = section.paper().unwrap_or(Paper::Mm80);
    match section.mode() {
        Mode::Raster => match Renderer::new(super::RECEIPT_FONT, paper) {
            Ok(r) => r.encode(receipt),
            Err(e) => {
                log::error!("receipt font: {e}; printing in text mode");
                encode_text(receipt, paper, CodePage::Wpc1252)
            }
        },
        Mode::Text => encode_text(receipt, paper, CodePage::Wpc1252),
    }
}

/// Serves the print queue of `db` until `stop`. A message on `wake` means a job was queued.
pub fn run(
    section: &PrinterSection,
    db: &Path,
    wake: &Receiver<()>,
    mut emit: impl FnMut(PrinterEvent),
    stop: &AtomicBool,
) {
    let settings = section.settings();
    let mut link: Option<PrinterLink> = None;
    let mut state = PrinterState::default();
    let mut reported: Option<PrinterState> = None;
    let mut waiting_reported = -1;
    let conn = match rusqlite::Connection::open(db) {
        Ok(c) => {
            let _ = c.busy_timeout(Duration::from_secs(5));
            Some(c)
        }
        Err(e) => {
            log::error!("printer queue {}: {e}", db.display());
            None
        }
    };
    while !stop.load(Ordering::Relaxed) {
        if link.is_none() {
            match PrinterLink::open(&section.port, &settings) {
                Ok(l) => {
                    link = Some(l);
                    state.connected = true;
                }
                Err(e) => {
                    log::debug!("printer {}: {e}", section.port.display());
                    state = PrinterState::default();
                }
            }
        }
        if let Some(l) = link.as_mut() {
            match l.status() {
                Ok(s) => {
                    state = PrinterState {
                        connected: true,
                        paper_end: s.paper_end,
                        paper_near_end: s.paper_near_end,
                        cover_open: s.cover_open,
                        offline: s.offline,
                        error: s.error,
                    };
                }
                Err(e) => {
                    log::debug!("printer status: {e}");
                    link = None;
                    state = PrinterState::default();
                }
            }
        }
        if reported != Some(state) {
            emit(PrinterEvent::State(state));
            reported = Some(state);
        }
        if let (Some(conn), true) = (&conn, state.can_print()) {
            while !stop.load(Ordering::Relaxed) {
                let job = match print_queue::next(conn) {
                    Ok(j) => j,
                    Err(e) => {
                        log::error!("print queue: {e}");
                        None
                    }
                };
                let Some((id, label, data)) = job else { break };
                let Some(l) = link.as_mut() else { break };
                match l.send(&data) {
                    Ok(()) => {
                        if let Err(e) =
                            print_queue::mark_printed(conn, id, &utc_text(chrono::Utc::now()))
                        {
                            log::error!("print queue: {e}");
                            break;
                        }
                        emit(PrinterEvent::Printed { id, label });
                    }
                    Err(e) => {
                        log::warn!("printer: {e}; the job stays queued");
                        link = None;
                        state = PrinterState::default();
                        break;
                    }
                }
            }
        }
        if let Some(conn) = &conn {
            let n = print_queue::waiting(conn).unwrap_or(0);
            if n != waiting_reported {
                emit(PrinterEvent::Waiting(n));
                waiting_reported = n;
            }
        }
        match wake.recv_timeout(Duration::from_secs(1)) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
}
