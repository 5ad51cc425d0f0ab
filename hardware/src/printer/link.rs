//! The link to a real printer: a serial port (two-way: real-time status between jobs) or a
//! USB printer class device `/dev/usb/lp*` (status through `LPGETSTATUS`).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use super::status::{lp_status, query_status, PrinterStatus};
use super::DRAWER_KICK;
use crate::transport::{open_serial, SerialSettings};

/// How long to wait for each status byte.
pub const STATUS_TIMEOUT: Duration = Duration::from_millis(500);

/// An open printer.
pub enum PrinterLink {
    Serial(serialport::TTYPort),
    UsbLp(File),
}

impl PrinterLink {
    /// Opens `/dev/usb/lp*` (by path, or a udev symlink to one) as a USB printer, anything
    /// else as a serial port with `settings`. Opening writes nothing.
    pub fn open(port: &Path, settings: &SerialSettings) -> io::Result<Self> {
        let real = std::fs::canonicalize(port).unwrap_or_else(|_| port.to_path_buf());
        if real.to_string_lossy().starts_with("/dev/usb/lp") {
            let f = OpenOptions::new().read(true).write(true).open(port)?;
            Ok(PrinterLink::UsbLp(f))
        } else {
            Ok(PrinterLink::Serial(open_serial(
                port,
                settings,
                Duration::from_millis(50),
            )?))
        }
    }

    /// Sends a whole job (raster or text bytes). An error means the printer is gone or
    /// stuck: keep the job queued.
    pub fn send(&mut self, job: &[u8]) -> io::Result<()> {
        match self {
            PrinterLink::Serial(p) => {
                // Written in pieces: at 9600 baud a raster job takes a minute, and each
                // write must fit the port's timeout.
                p.set_timeout_for_writes()?;
                let sent = job.chunks(256).try_for_each(|chunk| p.write_all(chunk));
                serialport::SerialPort::set_timeout(p, Duration::from_millis(50))
                    .map_err(io::Error::from)?;
                sent?;
                p.flush()
            }
            PrinterLink::UsbLp(f) => {
                f.write_all(job)?;
                f.flush()
            }
        }
    }

    /// Opens the cash drawer.
    pub fn kick_drawer(&mut self) -> io::Result<()> {
        self.send(&DRAWER_KICK)
    }

    /// The printer's status. Call only between jobs.
    pub fn status(&mut self) -> io::Result<PrinterStatus> {
        match self {
            PrinterLink::Serial(p) => query_status(p, STATUS_TIMEOUT),
            PrinterLink::UsbLp(f) => {
                let s = lp_status(f)?;
                Ok(PrinterStatus {
                    offline: s.offline,
                    paper_end: s.paper_out,
                    error: s.error,
                    ..Default::default()
                })
            }
        }
    }
}

trait WriteTimeout {
    fn set_timeout_for_writes(&mut self) -> io::Result<()>;
}

impl WriteTimeout for serialport::TTYPort {
    fn set_timeout_for_writes(&mut self) -> io::Result<()> {
        // 256 bytes at 1200 baud take about 2 s.
        serialport::SerialPort::set_timeout(self, Duration::from_secs(5)).map_err(io::Error::from)
    }
}
