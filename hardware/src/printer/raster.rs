//! Raster mode: the whole receipt drawn into a 1-bit image with a TTF font, sent as
//! `GS v 0` bands. The same image is the on-screen preview and the PNG export.

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};

use super::bitmap::Bitmap;
use super::document::{layout, Align, Cell, Laid, Paper, Receipt};

/// Rows per `GS v 0` band.
pub const BAND_ROWS: u32 = 96;
/// Dots per QR module.
pub const QR_MODULE_DOTS: u32 = 6;
/// Normal text: cells 12 dots wide, lines 28 dots high, glyphs of 22 px.
const CELL_W: u32 = 12;
const LINE_H: u32 = 28;
const FONT_PX: f32 = 22.0;

/// A font could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid font: {0}")]
pub struct FontError(String);

/// Draws receipts for one paper width with one font (the caller passes the TTF bytes, e.g.
/// the bundled Noto Sans).
pub struct Renderer {
    font: FontVec,
    paper: Paper,
}

impl Renderer {
    pub fn new(font_ttf: &[u8], paper: Paper) -> Result<Self, FontError> {
        let font =
            FontVec::try_from_vec(font_ttf.to_vec()).map_err(|e| FontError(e.to_string()))?;
        Ok(Renderer { font, paper })
    }

    pub fn paper(&self) -> Paper {
        self.paper
    }

    /// The receipt as a 1-bit image `paper.dots()` wide (cuts are not drawn).
    pub fn render(&self, receipt: &Receipt) -> Bitmap {
        let laid = layout(receipt, self.paper);
        self.render_laid(&laid)
    }

    fn render_laid(&self, laid: &[Laid]) -> Bitmap {
        let width = self.paper.dots();
        let height: u32 = laid.iter().map(|l| self.height_of(l)).sum();
        let mut img = Bitmap::new(width, height.max(1));
        let mut y = 0i64;
        for l in laid {
            let h = self.height_of(l);
            match l {
                Laid::Line {
                    cells,
                    bold,
                    double,
                    whole: _,
                } => {
                    let scale = if *double { 2 } else { 1 };
                    for c in cells {
                        self.draw_cell(&mut img, c, y, scale, *bold);
                    }
                }
                Laid::Separator => {
                    img.fill_rect(0, y + i64::from(LINE_H / 2) - 1, width, 2);
                }
                Laid::Feed(_) | Laid::Cut => {}
                Laid::Qr(payload) => {
                    if let Some(q) = qr_bitmap(payload, QR_MODULE_DOTS) {
                        img.blit(&q, i64::from(width.saturating_sub(q.width()) / 2), y);
                    }
                }
                Laid::Image(b) => {
                    img.blit(b, i64::from(width.saturating_sub(b.width()) / 2), y);
                }
            }
            y += i64::from(h);
        }
        img
    }

    fn height_of(&self, l: &Laid) -> u32 {
        match l {
            Laid::Line { double, .. } => LINE_H * if *double { 2 } else { 1 },
            Laid::Separator => LINE_H,
            Laid::Feed(n) => LINE_H * u32::from(*n),
            Laid::Cut => 0,
            Laid::Qr(p) => qr_bitmap(p, QR_MODULE_DOTS).map_or(0, |q| q.height()),
            Laid::Image(b) => b.height(),
        }
    }

    /// Width in dots of `text` at this scale.
    fn text_width(&self, text: &str, px: f32) -> f32 {
        let f = self.font.as_scaled(PxScale::from(px));
        text.chars().map(|c| f.h_advance(f.glyph_id(c))).sum()
    }

    fn draw_cell(&self, img: &mut Bitmap, c: &Cell, y: i64, scale: u32, bold: bool) {
        let px = FONT_PX * scale as f32;
        let box_x = (c.start as u32 * CELL_W * scale) as f32;
        let box_w = (c.width as u32 * CELL_W * scale) as f32;
        // Proportional text is narrower than the cells on average; if not, drop characters.
        let mut text: String = c.full.clone();
        while !text.is_empty() && self.text_width(&text, px) > box_w {
            text.pop();
        }
        let w = self.text_width(&text, px);
        let x0 = match c.align {
            Align::Left => box_x,
            Align::Center => box_x + (box_w - w) / 2.0,
            Align::Right => box_x + box_w - w,
        };
        let baseline = y as f32 + (LINE_H * scale) as f32 * 0.76;
        self.draw_text(img, &text, x0, baseline, px, bold);
    }

    fn draw_text(&self, img: &mut Bitmap, text: &str, x: f32, baseline: f32, px: f32, bold: bool) {
        let f = self.font.as_scaled(PxScale::from(px));
        let mut pen = x.round();
        for ch in text.chars() {
            let id = f.glyph_id(ch);
            let glyph = id.with_scale_and_position(px, ab_glyph::point(pen, baseline.round()));
            if let Some(outline) = self.font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|gx, gy, cov| {
                    if cov >= 0.5 {
                        let xx = b.min.x as i64 + i64::from(gx);
                        let yy = b.min.y as i64 + i64::from(gy);
                        img.set(xx, yy, true);
                        if bold {
                            img.set(xx + 1, yy, true);
                        }
                    }
                });
            }
            pen += f.h_advance(id);
        }
    }

    /// Draws text-mode lines the way a printer's own fixed-pitch font does: each character
    /// centred in its cell. Used by the printer simulator to picture text-mode jobs.
    pub(crate) fn draw_fixed_line(
        &self,
        img: &mut Bitmap,
        text: &str,
        y: i64,
        align: Align,
        bold: bool,
        double: bool,
    ) {
        let scale = if double { 2 } else { 1 };
        let cell = CELL_W * scale;
        let px = FONT_PX * scale as f32;
        let n = text.chars().count() as u32;
        let used = n * cell;
        let x0 = match align {
            Align::Left => 0,
            Align::Center => self.paper.dots().saturating_sub(used) / 2,
            Align::Right => self.paper.dots().saturating_sub(used),
        };
        let baseline = y as f32 + (LINE_H * scale) as f32 * 0.76;
        let f = self.font.as_scaled(PxScale::from(px));
        for (i, ch) in text.chars().enumerate() {
            let adv = f.h_advance(f.glyph_id(ch));
            let x = (x0 + i as u32 * cell) as f32 + (cell as f32 - adv) / 2.0;
            self.draw_text(img, &ch.to_string(), x, baseline, px, bold);
        }
    }

    /// Line height of text-mode lines in the simulator's picture.
    pub(crate) fn line_height(double: bool) -> u32 {
        LINE_H * if double { 2 } else { 1 }
    }

    /// The receipt as ESC/POS raster bytes: `ESC @`, the image of each part between cuts
    /// as `GS v 0` bands of [`BAND_ROWS`] rows, and the cut commands.
    pub fn encode(&self, receipt: &Receipt) -> Vec<u8> {
        let laid = layout(receipt, self.paper);
        let mut out = super::INIT.to_vec();
        for (i, part) in laid.split(|l| *l == Laid::Cut).enumerate() {
            if i > 0 {
                out.extend_from_slice(super::CUT);
            }
            if part.is_empty() {
                continue;
            }
            out.extend(raster_bands(&self.render_laid(part)));
        }
        out
    }
}

/// `GS v 0` bands for an image (width padded to whole bytes).
pub fn raster_bands(img: &Bitmap) -> Vec<u8> {
    let mut out = Vec::new();
    let xb = img.row_bytes() as u16;
    let mut y = 0;
    while y < img.height() {
        let rows = (img.height() - y).min(BAND_ROWS);
        out.extend_from_slice(&[0x1d, b'v', b'0', 0]);
        out.extend_from_slice(&xb.to_le_bytes());
        out.extend_from_slice(&(rows as u16).to_le_bytes());
        out.extend(img.packed_rows(y, y + rows));
        y += rows;
    }
    out
}

/// A QR code (model 2, error correction M) with a 4-module quiet zone.
pub fn qr_bitmap(payload: &str, module: u32) -> Option<Bitmap> {
    let code =
        qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M).ok()?;
    let n = code.width() as u32;
    let quiet = 4;
    let size = (n + 2 * quiet) * module;
    let mut b = Bitmap::new(size, size);
    let colors = code.to_colors();
    for my in 0..n {
        for mx in 0..n {
            if colors[(my * n + mx) as usize] == qrcode::Color::Dark {
                b.fill_rect(
                    i64::from((mx + quiet) * module),
                    i64::from((my + quiet) * module),
                    module,
                    module,
                );
            }
        }
    }
    Some(b)
}
