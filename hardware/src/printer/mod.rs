//! The receipt printer: a document model rendered as ESC/POS in raster mode (a 1-bit image
//! drawn with the caller's TTF font, sent as `GS v 0` bands; the same image is the preview
//! and the PNG export) or text mode (code page, bold, double size, alignment, native QR,
//! cut); real-time status and the cash drawer; an ESC/POS decoder for the simulator.

pub mod bitmap;
pub mod codepage;
pub mod decode;
pub mod document;
pub mod link;
pub mod raster;
pub mod status;
pub mod text;

pub use bitmap::Bitmap;
pub use codepage::CodePage;
pub use decode::{DecodedJob, EscPosDecoder};
pub use document::{Align, Block, Column, Paper, Receipt, Style};
pub use link::PrinterLink;
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

/// A typical French market receipt of about 30 lines with a QR code: a fixture for tests,
/// benchmarks and the demo.
pub fn sample_receipt() -> Receipt {
    let mut r = Receipt::new()
        .text("Jardin de la Régie", Style::center().bold().double())
        .text("Régie de quartier — 12 rue des Lilas", Style::center())
        .text("Ticket n° 1042 — 14/06/2026 10:32", Style::center())
        .separator();
    let lines = [
        ("Tomates cœur de bœuf 1,234 kg", "4,32 €"),
        ("Courgettes 0,850 kg", "2,13 €"),
        ("Salade batavia x2", "2,00 €"),
        ("Œufs de la ferme x6", "3,10 €"),
        ("Haricots verts 0,412 kg", "2,47 €"),
        ("Radis (botte)", "1,20 €"),
        ("Pommes de terre 2,000 kg", "3,00 €"),
        ("Fraises 0,500 kg", "4,50 €"),
        ("Persil (botte)", "0,80 €"),
        ("Oignons 1,000 kg", "1,90 €"),
        ("Carottes 1,500 kg", "2,25 €"),
        ("Poireaux x3", "2,40 €"),
    ];
    for (item, price) in lines {
        r = r.pair(item, price);
    }
    r.separator()
        .bold_columns(vec![
            Column::new("TOTAL TTC", 0, Align::Left),
            Column::new("30,07 €", 12, Align::Right),
        ])
        .pair("dont TVA 5,5 %", "1,57 €")
        .pair("Espèces", "40,00 €")
        .pair("Rendu", "9,93 €")
        .pair("Bons compost utilisés", "0,00 €")
        .separator()
        .text(
            "Merci et à bientôt ! Légumes cultivés sans pesticides par les habitants du quartier.",
            Style::center(),
        )
        .feed(1)
        .qr("CPTCBBCCDDFFGGHHJJKKLLNNPPRRSSTTVVXXNRTK")
        .text("Votre carte compost", Style::center())
        .cut()
}
