//! Printer status: real-time status (`DLE EOT n`) on two-way links, only between jobs
//! (raster data can contain the same bytes), and `LPGETSTATUS` on `/dev/usb/lp*`; the cash
//! drawer kick.

use std::io;
use std::time::{Duration, Instant};

use crate::transport::{is_timeout, Transport};

/// Kick the cash drawer: `ESC p 0 25 250` (pin 2, 50 ms on, 500 ms off).
pub const DRAWER_KICK: [u8; 5] = [0x1b, b'p', 0, 25, 250];

/// The three real-time status queries: printer (1), offline cause (2), paper sensor (4).
pub const STATUS_QUERIES: [[u8; 3]; 3] = [[0x10, 0x04, 1], [0x10, 0x04, 2], [0x10, 0x04, 4]];

/// What the printer says about itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrinterStatus {
    pub offline: bool,
    pub cover_open: bool,
    pub paper_end: bool,
    pub paper_near_end: bool,
    /// An error occurred (cutter, head temperature...).
    pub error: bool,
}

/// A status byte that is not one (its fixed bits are wrong), or an unknown query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid status byte {byte:#04x} for DLE EOT {n}")]
pub struct BadStatus {
    pub n: u8,
    pub byte: u8,
}

impl PrinterStatus {
    /// Whether a job can print now.
    pub fn can_print(&self) -> bool {
        !(self.offline || self.cover_open || self.paper_end || self.error)
    }

    /// Applies the answer `byte` to `DLE EOT n`.
    pub fn apply(&mut self, n: u8, byte: u8) -> Result<(), BadStatus> {
        // Fixed bits: 0 = 0, 1 = 1, 4 = 1, 7 = 0.
        if byte & 0x93 != 0x12 {
            return Err(BadStatus { n, byte });
        }
        match n {
            1 => self.offline = byte & 0x08 != 0,
            2 => {
                self.cover_open = byte & 0x04 != 0;
                self.paper_end = self.paper_end || byte & 0x20 != 0;
                self.error = byte & 0x40 != 0;
            }
            4 => {
                self.paper_near_end = byte & 0x0c != 0;
                self.paper_end = byte & 0x60 != 0;
            }
            _ => return Err(BadStatus { n, byte }),
        }
        Ok(())
    }

    /// The byte a printer in this state answers to `DLE EOT n` (for the simulator).
    pub fn byte_for(&self, n: u8) -> u8 {
        let mut b = 0x12;
        match n {
            1 if self.offline || self.cover_open || self.paper_end => b |= 0x08,
            2 => {
                if self.cover_open {
                    b |= 0x04;
                }
                if self.paper_end {
                    b |= 0x20;
                }
                if self.error {
                    b |= 0x40;
                }
            }
            4 => {
                if self.paper_near_end || self.paper_end {
                    b |= 0x0c;
                }
                if self.paper_end {
                    b |= 0x60;
                }
            }
            _ => {}
        }
        b
    }
}

/// Asks the three real-time statuses, one byte each within `timeout`. Call only between
/// jobs. `TimedOut` when the printer does not answer (one-way link or off).
pub fn query_status<T: Transport + ?Sized>(
    t: &mut T,
    timeout: Duration,
) -> io::Result<PrinterStatus> {
    let _ = t.clear_input();
    let mut status = PrinterStatus::default();
    for q in STATUS_QUERIES {
        t.write_all(&q)?;
        t.flush().ok();
        let end = Instant::now() + timeout;
        let mut byte = [0u8];
        loop {
            match t.read(&mut byte) {
                Ok(1) => break,
                Ok(_) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed")),
                Err(e) if is_timeout(&e) && Instant::now() < end => continue,
                Err(e) => return Err(e),
            }
        }
        status
            .apply(q[2], byte[0])
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    }
    Ok(status)
}

/// Status of a USB printer class device (`/dev/usb/lp*`) through `LPGETSTATUS`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LpStatus {
    pub paper_out: bool,
    pub offline: bool,
    pub error: bool,
}

/// Reads `LPGETSTATUS` on an open `/dev/usb/lp*` file.
#[cfg(target_os = "linux")]
pub fn lp_status(file: &std::fs::File) -> io::Result<LpStatus> {
    use std::os::fd::AsRawFd;
    const LPGETSTATUS: libc::c_ulong = 0x060b;
    let mut status: libc::c_int = 0;
    // SAFETY: LPGETSTATUS writes one int to the pointer given.
    let r = unsafe { libc::ioctl(file.as_raw_fd(), LPGETSTATUS as _, &mut status) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(lp_status_from_bits(status))
}

/// Decodes the `LPGETSTATUS` bits: 0x08 no error (active low), 0x10 selected, 0x20 paper out.
pub fn lp_status_from_bits(status: i32) -> LpStatus {
    LpStatus {
        paper_out: status & 0x20 != 0,
        offline: status & 0x10 == 0,
        error: status & 0x08 == 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bytes_round_trip_every_condition() {
        let cases = [
            PrinterStatus::default(),
            PrinterStatus {
                paper_near_end: true,
                ..Default::default()
            },
            PrinterStatus {
                paper_end: true,
                paper_near_end: true,
                offline: true,
                ..Default::default()
            },
            PrinterStatus {
                cover_open: true,
                offline: true,
                ..Default::default()
            },
        ];
        for s in cases {
            let mut back = PrinterStatus::default();
            for n in [1, 2, 4] {
                back.apply(n, s.byte_for(n)).unwrap();
            }
            assert_eq!(back, s);
        }
        assert_eq!(PrinterStatus::default().byte_for(1), 0x12);
        let mut s = PrinterStatus::default();
        s.apply(4, 0x7e).unwrap();
        assert!(s.paper_end && s.paper_near_end && !s.can_print());
        assert!(s.apply(1, 0x00).is_err());
        assert!(s.apply(1, 0x93).is_err());
        assert!(s.apply(3, 0x12).is_err());
    }

    #[test]
    fn query_over_a_scripted_link() {
        let mut t = crate::transport::ScriptedTransport::default();
        t.incoming.extend([vec![0x1a], vec![0x16], vec![0x12]]);
        let s = query_status(&mut t, Duration::from_millis(10)).unwrap();
        assert!(s.offline && s.cover_open && !s.paper_end);
        assert_eq!(t.written, [0x10, 4, 1, 0x10, 4, 2, 0x10, 4, 4]);
        let mut silent = crate::transport::ScriptedTransport::default();
        assert!(query_status(&mut silent, Duration::from_millis(10)).is_err());
    }

    #[test]
    fn lp_bits() {
        assert_eq!(lp_status_from_bits(0x18), LpStatus::default());
        assert!(lp_status_from_bits(0x38).paper_out);
        assert!(lp_status_from_bits(0x08).offline);
    }
}
