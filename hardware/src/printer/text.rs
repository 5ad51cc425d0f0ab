//! Text mode: ESC/POS with the code page set explicitly, bold, double size, alignment,
//! native QR codes (`GS ( k`, model 2) and cut. The default on slow serial links.

use super::codepage::CodePage;
use super::document::{compose, layout, Align, Laid, Paper, Receipt};
use super::raster::raster_bands;
use super::{CUT, INIT};

/// Dots per module of native QR codes (`GS ( k` function 167).
pub const QR_MODULE: u8 = 6;

fn align_byte(a: Align) -> u8 {
    match a {
        Align::Left => 0,
        Align::Center => 1,
        Align::Right => 2,
    }
}

/// The `GS ( k` sequence that stores and prints a QR code (model 2, module 6 dots, error
/// correction M).
pub fn qr_commands(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0x1d, 0x28, 0x6b, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]);
    out.extend_from_slice(&[0x1d, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x43, QR_MODULE]);
    out.extend_from_slice(&[0x1d, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x45, 0x31]);
    let len = (payload.len() + 3) as u16;
    out.extend_from_slice(&[0x1d, 0x28, 0x6b]);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&[0x31, 0x50, 0x30]);
    out.extend_from_slice(payload);
    out.extend_from_slice(&[0x1d, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x51, 0x30]);
    out
}

/// The print modes in force (after `ESC @`: left, not bold, normal size).
#[derive(Default)]
struct Modes {
    align: Align,
    bold: bool,
    double: bool,
}

impl Modes {
    /// Emits only the commands that change something.
    fn set(&mut self, out: &mut Vec<u8>, a: Align, b: bool, d: bool) {
        if a != self.align {
            out.extend_from_slice(&[0x1b, b'a', align_byte(a)]);
            self.align = a;
        }
        if b != self.bold {
            out.extend_from_slice(&[0x1b, b'E', u8::from(b)]);
            self.bold = b;
        }
        if d != self.double {
            out.extend_from_slice(&[0x1d, b'!', if d { 0x11 } else { 0x00 }]);
            self.double = d;
        }
    }
}

/// The receipt as text-mode ESC/POS bytes for this paper and code page: `ESC @`, `ESC t n`,
/// then lines with `ESC a` (alignment), `ESC E` (bold), `GS !` (double size) only where
/// they change, a row of `-` for separators, `ESC d` for feeds, `GS ( k` for QR codes,
/// `GS v 0` for images (centred on the paper width) and `ESC d 4` + `GS V 1` to cut.
pub fn encode_text(receipt: &Receipt, paper: Paper, code_page: CodePage) -> Vec<u8> {
    let cpl = paper.chars();
    let mut out = INIT.to_vec();
    out.extend_from_slice(&[0x1b, b't', code_page.esc_t()]);
    let mut m = Modes::default();
    for l in layout(receipt, paper) {
        match l {
            Laid::Line {
                cells,
                bold: b,
                double: d,
                whole,
            } => {
                let (a, text) = if whole {
                    (cells[0].align, cells[0].text.clone())
                } else {
                    (Align::Left, compose(&cells, cpl))
                };
                m.set(&mut out, a, b, d);
                out.extend(code_page.encode(text.trim_end()));
                out.push(b'\n');
            }
            Laid::Separator => {
                m.set(&mut out, Align::Left, false, false);
                out.extend(std::iter::repeat_n(b'-', cpl));
                out.push(b'\n');
            }
            Laid::Feed(n) => out.extend_from_slice(&[0x1b, b'd', n]),
            Laid::Qr(p) => {
                m.set(&mut out, Align::Center, m.bold, m.double);
                out.extend(qr_commands(p.as_bytes()));
            }
            Laid::Image(b) => {
                m.set(&mut out, Align::Left, m.bold, m.double);
                let mut centred = super::bitmap::Bitmap::new(paper.dots(), b.height());
                centred.blit(&b, i64::from(paper.dots().saturating_sub(b.width()) / 2), 0);
                out.extend(raster_bands(&centred));
            }
            Laid::Cut => out.extend_from_slice(CUT),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::document::{Column, Style};
    use super::*;

    #[test]
    fn golden_bytes() {
        let r = Receipt::new()
            .text("Bœuf", Style::center().bold().double())
            .pair("Thé", "2,00 €")
            .separator()
            .qr("CPT")
            .cut();
        let mut want: Vec<u8> = vec![0x1b, 0x40, 0x1b, 0x74, 16];
        want.extend_from_slice(&[0x1b, 0x61, 1, 0x1b, 0x45, 1, 0x1d, 0x21, 0x11]);
        want.extend_from_slice(b"B\x9cuf\n");
        want.extend_from_slice(&[0x1b, 0x61, 0, 0x1b, 0x45, 0, 0x1d, 0x21, 0]);
        want.extend_from_slice(b"Th\xe9                       2,00 \x80\n");
        want.extend_from_slice(&[b'-'; 32]);
        want.push(b'\n');
        want.extend_from_slice(&[0x1b, 0x61, 1]);
        want.extend_from_slice(&[
            0x1d, 0x28, 0x6b, 4, 0, 0x31, 0x41, 0x32, 0, //
            0x1d, 0x28, 0x6b, 3, 0, 0x31, 0x43, 6, //
            0x1d, 0x28, 0x6b, 3, 0, 0x31, 0x45, 0x31, //
            0x1d, 0x28, 0x6b, 6, 0, 0x31, 0x50, 0x30, b'C', b'P', b'T', //
            0x1d, 0x28, 0x6b, 3, 0, 0x31, 0x51, 0x30,
        ]);
        want.extend_from_slice(&[0x1b, 0x64, 4, 0x1d, 0x56, 1]);
        assert_eq!(encode_text(&r, Paper::Mm58, CodePage::Wpc1252), want);
    }

    #[test]
    fn pc858_writes_oe() {
        let r = Receipt::new().line("cœur 1 €");
        let b = encode_text(&r, Paper::Mm80, CodePage::Pc858);
        assert_eq!(&b[..5], &[0x1b, 0x40, 0x1b, 0x74, 19]);
        assert_eq!(&b[5..], b"coeur 1 \xd5\n");
    }

    #[test]
    fn columns_and_double_wrap_to_the_paper() {
        let r = Receipt::new()
            .columns(vec![
                Column::new("a", 10, Align::Left),
                Column::new("b", 10, Align::Center),
                Column::new("c", 0, Align::Right),
            ])
            .text("x".repeat(20), Style::left().double());
        let b = encode_text(&r, Paper::Mm58, CodePage::Wpc1252);
        let text = String::from_utf8_lossy(&b);
        assert!(
            text.contains("a             b                c\n"),
            "{text:?}"
        );
        assert!(text.contains(&format!("{}\n{}\n", "x".repeat(16), "x".repeat(4))));
    }
}
