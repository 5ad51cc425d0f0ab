//! Byte transports: a small trait over `Read + Write`, serial settings as data, and real
//! serial ports opened through `serialport` (default features off).

use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Parity of a serial line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Parity {
    None,
    Even,
    Odd,
}

/// Line settings of a serial device. Pseudo-terminals ignore them, so each protocol's
/// defaults are asserted by unit tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerialSettings {
    pub baud: u32,
    /// 5 to 8.
    pub data_bits: u8,
    pub parity: Parity,
    /// 1 or 2.
    pub stop_bits: u8,
}

impl SerialSettings {
    /// 9600 baud, 8 data bits, no parity, 1 stop bit.
    pub const fn n81(baud: u32) -> Self {
        SerialSettings {
            baud,
            data_bits: 8,
            parity: Parity::None,
            stop_bits: 1,
        }
    }

    /// These settings with each `Some` field replaced (configuration overrides).
    pub fn with_overrides(
        self,
        baud: Option<u32>,
        data_bits: Option<u8>,
        parity: Option<Parity>,
        stop_bits: Option<u8>,
    ) -> Self {
        SerialSettings {
            baud: baud.unwrap_or(self.baud),
            data_bits: data_bits.unwrap_or(self.data_bits),
            parity: parity.unwrap_or(self.parity),
            stop_bits: stop_bits.unwrap_or(self.stop_bits),
        }
    }
}

/// A two-way byte link to a device. Reads time out (`ErrorKind::TimedOut` or
/// `WouldBlock`) rather than block forever; any other read error, or a read of 0 bytes,
/// means the device is gone.
pub trait Transport: Read + Write + Send {
    /// Drop bytes received but not read yet (stale frames after opening).
    fn clear_input(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Transport for serialport::TTYPort {
    fn clear_input(&mut self) -> io::Result<()> {
        serialport::SerialPort::clear(self, serialport::ClearBuffer::Input).map_err(io::Error::from)
    }
}

impl Transport for Box<dyn Transport> {
    fn clear_input(&mut self) -> io::Result<()> {
        (**self).clear_input()
    }
}

/// Opens a serial port (or a pseudo-terminal, or a symlink to one) with these settings and
/// this read timeout. Never writes to the port. Control lines (DTR/RTS) are left alone:
/// pseudo-terminals refuse them.
pub fn open_serial(
    path: &Path,
    settings: &SerialSettings,
    timeout: Duration,
) -> io::Result<serialport::TTYPort> {
    use serialport::{DataBits, FlowControl, StopBits};
    let data_bits = match settings.data_bits {
        5 => DataBits::Five,
        6 => DataBits::Six,
        7 => DataBits::Seven,
        8 => DataBits::Eight,
        n => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unsupported data bits: {n}"),
            ))
        }
    };
    let stop_bits = match settings.stop_bits {
        1 => StopBits::One,
        2 => StopBits::Two,
        n => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unsupported stop bits: {n}"),
            ))
        }
    };
    let parity = match settings.parity {
        Parity::None => serialport::Parity::None,
        Parity::Even => serialport::Parity::Even,
        Parity::Odd => serialport::Parity::Odd,
    };
    let name = path.to_string_lossy();
    serialport::new(name, settings.baud)
        .data_bits(data_bits)
        .stop_bits(stop_bits)
        .parity(parity)
        .flow_control(FlowControl::None)
        .timeout(timeout)
        .open_native()
        .map_err(io::Error::from)
}

/// True for the errors a read with a timeout gives when nothing arrived in time.
pub fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// An in-memory transport for tests: reads come from a script, writes are recorded.
#[derive(Debug, Default)]
pub struct ScriptedTransport {
    /// Chunks handed out one per read; an empty queue reads as a timeout.
    pub incoming: std::collections::VecDeque<Vec<u8>>,
    /// Everything written.
    pub written: Vec<u8>,
}

impl Read for ScriptedTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.incoming.pop_front() {
            None => Err(io::Error::new(io::ErrorKind::TimedOut, "no data")),
            Some(mut chunk) => {
                let n = chunk.len().min(buf.len());
                buf[..n].copy_from_slice(&chunk[..n]);
                if n < chunk.len() {
                    self.incoming.push_front(chunk.split_off(n));
                }
                Ok(n)
            }
        }
    }
}

impl Write for ScriptedTransport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Transport for ScriptedTransport {}
