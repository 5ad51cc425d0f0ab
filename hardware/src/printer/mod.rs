//! The receipt printer: a document model rendered as ESC/POS in raster mode (a 1-bit image
//! drawn with the caller's TTF font, sent as `GS v 0` bands; the same image is the preview
//! and the PNG export) or text mode (code page, bold, double size, alignment, native QR,
//! cut); real-time status and the cash drawer; an ESC/POS decoder for the simulator.

pub mod bitmap;
pub mod codepage;
pub mod decode;
pub mod document;
pub mod raster;
pub mod status;
pub mod text;

pub use bitmap::Bitmap;
pub use codepage::CodePage;
pub use decode::{DecodedJob, EscPosDecoder};
pub use document::{Align, Block, Column, Paper, Receipt, Style};
pub use raster::{FontError, Renderer};
pub use status::{query_status, PrinterStatus, DRAWER_KICK};
pub use text::encode_text;

/// `ESC @`: initialise the printer.
pub const INIT: &[u8] = &[0x1b, b'@'];
/// Feed 4 lines past the cutter (`ESC d 4`), then partial cut (`GS V 1`).
pub const CUT: &[u8] = &[0x1b, b'd', 4, 0x1d, b'V', 1];

/// How receipts go to the printer (config `[printer] mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The whole receipt as an image; the default on USB or at 115200 baud and above.
    Raster,
    /// ESC/POS text; the default on slow serial links.
    Text,
}
