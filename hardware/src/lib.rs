//! Comptoir's devices, without UI or database: scale protocols, the ESC/POS receipt printer,
//! the QR card payload and scanners, a simulator for each on a pseudo-terminal, and the
//! entry points of the `comptoir` maintenance commands that talk to devices.
//!
//! Protocols are sans-IO (bytes in, readings out; documents in, bytes out); transports are
//! a small trait over `Read + Write`, real ports come from `serialport`.

pub mod cards;
pub mod printer;
pub mod pty;
pub mod scale;
pub mod simulate;
pub mod transport;
