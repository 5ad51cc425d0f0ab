//! A 1-bit image (black dots on white paper), as a printer head sees it.

use std::io;

/// A 1-bit image, `true` = black dot. One byte per dot in memory; packed MSB-first rows
/// for `GS v 0` and 1-bit grayscale PNG on the way out.
#[derive(Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    dots: Vec<u8>,
}

impl std::fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bitmap({}x{})", self.width, self.height)
    }
}

impl Bitmap {
    /// A white image.
    pub fn new(width: u32, height: u32) -> Self {
        Bitmap {
            width,
            height,
            dots: vec![0; width as usize * height as usize],
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn get(&self, x: u32, y: u32) -> bool {
        x < self.width && y < self.height && self.dots[(y * self.width + x) as usize] != 0
    }

    /// Sets a dot; outside the image, nothing happens.
    pub fn set(&mut self, x: i64, y: i64, black: bool) {
        if x >= 0
            && y >= 0
            && (x as u64) < u64::from(self.width)
            && (y as u64) < u64::from(self.height)
        {
            self.dots[(y as u64 * u64::from(self.width) + x as u64) as usize] = u8::from(black);
        }
    }

    pub fn fill_rect(&mut self, x: i64, y: i64, w: u32, h: u32) {
        for yy in y..y + i64::from(h) {
            for xx in x..x + i64::from(w) {
                self.set(xx, yy, true);
            }
        }
    }

    /// Copies `other` with its top-left corner at (x, y); black dots only.
    pub fn blit(&mut self, other: &Bitmap, x: i64, y: i64) {
        for oy in 0..other.height {
            for ox in 0..other.width {
                if other.get(ox, oy) {
                    self.set(x + i64::from(ox), y + i64::from(oy), true);
                }
            }
        }
    }

    /// The same image with rows added or cut at the bottom.
    pub fn with_height(mut self, height: u32) -> Self {
        self.dots.resize(self.width as usize * height as usize, 0);
        self.height = height;
        self
    }

    /// Number of black dots.
    pub fn black_count(&self) -> usize {
        self.dots.iter().filter(|&&d| d != 0).count()
    }

    /// Bytes per packed row.
    pub fn row_bytes(&self) -> usize {
        self.width.div_ceil(8) as usize
    }

    /// Packed rows, MSB first, 1 = black (the `GS v 0` layout).
    pub fn packed_rows(&self, from: u32, to: u32) -> Vec<u8> {
        let rb = self.row_bytes();
        let mut out = vec![0u8; rb * (to - from) as usize];
        for y in from..to {
            for x in 0..self.width {
                if self.get(x, y) {
                    out[(y - from) as usize * rb + (x / 8) as usize] |= 0x80 >> (x % 8);
                }
            }
        }
        out
    }

    /// Builds an image from packed rows (MSB first, 1 = black).
    pub fn from_packed(width: u32, height: u32, data: &[u8]) -> Self {
        let rb = width.div_ceil(8) as usize;
        let mut b = Bitmap::new(width, height);
        for y in 0..height {
            for x in 0..width {
                let byte = data
                    .get(y as usize * rb + (x / 8) as usize)
                    .copied()
                    .unwrap_or(0);
                if byte & (0x80 >> (x % 8)) != 0 {
                    b.dots[(y * width + x) as usize] = 1;
                }
            }
        }
        b
    }

    /// A 1-bit grayscale PNG (black dots black, paper white).
    pub fn to_png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_png(&mut out).expect("writing to memory");
        out
    }

    pub fn write_png(&self, w: impl io::Write) -> io::Result<()> {
        let mut enc = png::Encoder::new(w, self.width.max(1), self.height.max(1));
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::One);
        let mut writer = enc.write_header().map_err(io::Error::other)?;
        let mut data = self.packed_rows(0, self.height);
        for b in &mut data {
            *b = !*b; // PNG grayscale: 1 = white.
        }
        if self.width == 0 || self.height == 0 {
            data = vec![0xff; 1];
        }
        writer.write_image_data(&data).map_err(io::Error::other)?;
        writer.finish().map_err(io::Error::other)
    }

    /// Reads a PNG (any color type, 8-bit or less) as 1-bit: dark pixels are black.
    pub fn from_png(bytes: &[u8]) -> io::Result<Self> {
        let mut dec = png::Decoder::new(bytes);
        dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = dec.read_info().map_err(io::Error::other)?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).map_err(io::Error::other)?;
        let channels = info.color_type.samples();
        let mut b = Bitmap::new(info.width, info.height);
        for y in 0..info.height {
            for x in 0..info.width {
                let i = (y as usize * info.width as usize + x as usize) * channels;
                let px = &buf[i..i + channels];
                let (luma, alpha) = match channels {
                    1 => (u32::from(px[0]), 255),
                    2 => (u32::from(px[0]), u32::from(px[1])),
                    3 => (
                        (u32::from(px[0]) * 3 + u32::from(px[1]) * 6 + u32::from(px[2])) / 10,
                        255,
                    ),
                    _ => (
                        (u32::from(px[0]) * 3 + u32::from(px[1]) * 6 + u32::from(px[2])) / 10,
                        u32::from(px[3]),
                    ),
                };
                if alpha >= 128 && luma < 128 {
                    b.dots[(y * info.width + x) as usize] = 1;
                }
            }
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_msb_first_and_round_trips_png() {
        let mut b = Bitmap::new(10, 2);
        b.set(0, 0, true);
        b.set(9, 0, true);
        b.set(1, 1, true);
        assert_eq!(b.packed_rows(0, 2), [0x80, 0x40, 0x40, 0x00]);
        assert_eq!(Bitmap::from_packed(10, 2, &b.packed_rows(0, 2)), b);
        assert_eq!(Bitmap::from_png(&b.to_png()).unwrap(), b);
        assert_eq!(b.black_count(), 3);
    }
}
