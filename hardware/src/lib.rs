//! Comptoir's devices, without UI or database: scale protocols, the ESC/POS receipt printer,
//! the QR card payload and scanners, a simulator for each on a pseudo-terminal, and the
//! entry points of the `comptoir` maintenance commands that talk to devices.
//!
//! Protocols are sans-IO (bytes in, readings out; documents in, bytes out); transports are
//! a small trait over `Read + Write` ([`transport::Transport`]), real ports come from
//! `serialport` (default features off), tests use pseudo-terminal pairs.
//!
//! Entry points of the command line:
//! - `comptoir scale read`: [`scale_read`]
//! - `comptoir scale simulate`: [`run_scale_simulator`]
//! - `comptoir printer simulate`: [`run_printer_simulator`]
//! - `comptoir scanner simulate`: [`run_scanner_simulator`]
//! - `comptoir devices`: [`list_devices`] (print each with `Display`)
//!
//! The app's device threads: [`scale::run_scale_driver`], the printer encoders
//! ([`printer::Renderer`], [`printer::encode_text`]) and [`printer::query_status`], the
//! card decoder ([`cards::decode_scan`], [`cards::ScanLineReader`]); in demo mode the
//! in-process simulators of [`simulate`].

pub mod cards;
pub mod config;
pub mod devices;
pub mod printer;
pub mod pty;
pub mod scale;
pub mod simulate;
pub mod transport;

pub use devices::list_devices;
pub use scale::read::scale_read;
pub use simulate::{run_printer_simulator, run_scale_simulator, run_scanner_simulator};
