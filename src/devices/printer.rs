//! The receipt printer's worker: serves the print queue oldest first, asks the printer's
//! status between jobs (never during one: raster data can hold the same bytes), and keeps
//! jobs queued while the printer is missing, out of paper or open. No sale waits for it.
//!
//! Each job is claimed in the database before it is sent (see `store::print_queue`), so two
//! workers on one database never print it twice; jobs queued more than a day ago wait for a
//! confirmation on the admin screen. Time is the kiosk's clock, told by the UI thread
//! ([`KioskTime`]): until it is known, nothing prints. A cash drawer kick is never queued:
//! it is sent at once if the printer is there, else dropped (and logged).
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

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
    /// Jobs waiting in the queue: `ready` print when the printer can, `held` (queued more
    /// than a day ago) wait for somebody's confirmation.
    Waiting {
        ready: i64,
        held: i64,
    },
    Printed {
        id: i64,
        label: String,
    },
    /// A drawer kick was asked while the printer could not take it: dropped, not queued.
    DrawerDropped,
}

/// What the kiosk asks of the printer worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterRequest {
    /// A job was queued (or confirmed): look at the queue now.
    Wake,
    /// Open the cash drawer now (asked at that instant); too late or no printer: dropped.
    OpenDrawer(Instant),
}

/// A drawer kick not sent within this much of the sale is dropped: the customer is gone.
pub const DRAWER_LATEST: Duration = Duration::from_secs(10);

/// The kiosk's clock as the UI thread last told it, shared with the worker: the queue's times
/// are the kiosk's (an admin may have corrected them), not the system's.
#[derive(Debug, Clone, Default)]
pub struct KioskTime(Arc<Mutex<Option<TimeMark>>>);

/// The kiosk's time at a moment of the process's monotonic clock.
type TimeMark = (DateTime<Utc>, Instant);

impl KioskTime {
    pub fn tell(&self, now: DateTime<Utc>) {
        if let Ok(mut t) = self.0.lock() {
            *t = Some((now, Instant::now()));
        }
    }

    /// The kiosk's time now, if it was ever told.
    pub fn now(&self) -> Option<DateTime<Utc>> {
        let (at, told) = (*self.0.lock().ok()?)?;
        Some(at + chrono::Duration::from_std(told.elapsed()).unwrap_or(chrono::Duration::zero()))
    }
}

/// This worker's name in the queue's claims: unique per process and worker.
fn worker_name() -> String {
    static WORKERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = WORKERS.fetch_add(1, Ordering::Relaxed);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!("{}:{}:{n}", host.trim(), std::process::id())
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

/// Serves the print queue of `db` until `stop`. `requests` wakes it when a job is queued and
/// asks for drawer kicks; `time` is the kiosk's clock.
pub fn run(
    section: &PrinterSection,
    db: &Path,
    requests: &Receiver<PrinterRequest>,
    time: &KioskTime,
    mut emit: impl FnMut(PrinterEvent),
    stop: &AtomicBool,
) {
    let settings = section.settings();
    let worker = worker_name();
    let mut link: Option<PrinterLink> = None;
    let mut state = PrinterState::default();
    let mut reported: Option<PrinterState> = None;
    let mut waiting_reported = None;
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
        let now = time.now();
        if let (Some(conn), Some(now), true) = (&conn, now, state.can_print()) {
            while !stop.load(Ordering::Relaxed) {
                let Some(l) = link.as_mut() else { break };
                let job = match print_queue::claim_next(conn, &worker, now) {
                    Ok(j) => j,
                    Err(e) => {
                        log::error!("print queue: {e}");
                        None
                    }
                };
                let Some(job) = job else { break };
                match l.send(&job.data) {
                    Ok(()) => {
                        let printed = time.now().unwrap_or(now);
                        if let Err(e) = print_queue::mark_printed(conn, job.id, &utc_text(printed))
                        {
                            log::error!("print queue: {e}");
                            break;
                        }
                        emit(PrinterEvent::Printed {
                            id: job.id,
                            label: job.label,
                        });
                    }
                    Err(e) => {
                        log::warn!("printer: {e}; the job stays queued");
                        if let Err(e) = print_queue::release(conn, job.id, &worker) {
                            log::error!("print queue: {e}");
                        }
                        link = None;
                        state = PrinterState::default();
                        break;
                    }
                }
            }
        }
        if let (Some(conn), Some(now)) = (&conn, now) {
            match print_queue::counts(conn, now) {
                Ok((ready, held)) => {
                    if waiting_reported != Some((ready, held)) {
                        emit(PrinterEvent::Waiting { ready, held });
                        waiting_reported = Some((ready, held));
                    }
                }
                Err(e) => log::error!("print queue: {e}"),
            }
        }
        match requests.recv_timeout(Duration::from_secs(1)) {
            Ok(PrinterRequest::OpenDrawer(asked)) => {
                if !kick_drawer(link.as_mut(), state, asked) {
                    emit(PrinterEvent::DrawerDropped);
                }
            }
            Ok(PrinterRequest::Wake) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
}

/// Sends the drawer kick now if the printer is there and the sale recent; returns whether it
/// was sent. Never queued: a kick that fired later (at the next start, a week on) would open
/// the drawer in front of whoever stands there.
fn kick_drawer(link: Option<&mut PrinterLink>, state: PrinterState, asked: Instant) -> bool {
    let late = asked.elapsed() > DRAWER_LATEST;
    match link {
        Some(l) if state.connected && !state.error && !late => {
            match l.send(&comptoir_hardware::printer::DRAWER_KICK) {
                Ok(()) => true,
                Err(e) => {
                    log::warn!("cash drawer: {e}; the kick is dropped");
                    false
                }
            }
        }
        _ => {
            log::warn!(
                "cash drawer: the printer {}; the kick is dropped, not queued",
                if late {
                    "answered too late"
                } else {
                    "is not there"
                }
            );
            false
        }
    }
}
