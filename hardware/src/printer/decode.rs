//! An ESC/POS decoder (both modes) for the printer simulator: bytes in, status queries and
//! finished jobs out. A job ends at a cut, at `ESC @` after data, or (the caller's timer)
//! after 1 s of silence.

use super::bitmap::Bitmap;
use super::codepage::CodePage;
use super::document::Align;
use super::raster::{qr_bitmap, Renderer};

/// Longest command parameter block accepted (raster band or QR data); larger is junk.
const MAX_BLOCK: usize = 1 << 20;

/// One printed thing, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// A text-mode line.
    Text {
        text: String,
        align: Align,
        bold: bool,
        double: bool,
    },
    /// A `GS v 0` band.
    Raster(Bitmap),
    /// A native QR code printed.
    Qr {
        payload: String,
        module: u8,
        align: Align,
    },
    /// Paper fed by this many text lines.
    FeedLines(u8),
    /// Paper fed by this many dots.
    FeedDots(u8),
}

/// A finished job.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodedJob {
    pub pieces: Vec<Piece>,
    /// Cash drawer kicks (`ESC p`) in the job.
    pub drawer_kicks: u32,
    /// Whether the job ended with a cut.
    pub cut: bool,
}

impl DecodedJob {
    /// The job's text-mode text (one line per text line, trailing spaces removed), then a
    /// `qr: PAYLOAD` line per QR code.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for p in &self.pieces {
            if let Piece::Text { text, .. } = p {
                s.push_str(text.trim_end());
                s.push('\n');
            }
        }
        for p in &self.pieces {
            if let Piece::Qr { payload, .. } = p {
                s.push_str("qr: ");
                s.push_str(payload);
                s.push('\n');
            }
        }
        s
    }

    /// The job as printed on paper `renderer.paper()` wide: raster bands as sent, text in
    /// fixed-pitch cells like a printer's own font, QR codes drawn from their payload.
    pub fn render(&self, renderer: &Renderer) -> Bitmap {
        let width = renderer.paper().dots();
        let heights: Vec<u32> = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Text { double, .. } => Renderer::line_height(*double),
                Piece::Raster(b) => b.height(),
                Piece::Qr {
                    payload, module, ..
                } => qr_bitmap(payload, u32::from(*module)).map_or(0, |q| q.height()),
                Piece::FeedLines(n) => Renderer::line_height(false) * u32::from(*n),
                Piece::FeedDots(n) => u32::from(*n),
            })
            .collect();
        let mut img = Bitmap::new(width, heights.iter().sum::<u32>().max(1));
        let mut y = 0i64;
        for (p, h) in self.pieces.iter().zip(heights) {
            match p {
                Piece::Text {
                    text,
                    align,
                    bold,
                    double,
                } => renderer.draw_fixed_line(&mut img, text, y, *align, *bold, *double),
                Piece::Raster(b) => img.blit(b, 0, y),
                Piece::Qr {
                    payload,
                    module,
                    align,
                } => {
                    if let Some(q) = qr_bitmap(payload, u32::from(*module)) {
                        let x = match align {
                            Align::Left => 0,
                            Align::Center => width.saturating_sub(q.width()) / 2,
                            Align::Right => width.saturating_sub(q.width()),
                        };
                        img.blit(&q, i64::from(x), y);
                    }
                }
                Piece::FeedLines(_) | Piece::FeedDots(_) => {}
            }
            y += i64::from(h);
        }
        img
    }
}

/// What the decoder found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `DLE EOT n`: answer with the status byte now.
    StatusQuery(u8),
    /// A job finished (cut, or `ESC @` after data).
    Job(DecodedJob),
}

/// The streaming ESC/POS decoder.
#[derive(Debug)]
pub struct EscPosDecoder {
    pending: Vec<u8>,
    job: DecodedJob,
    line: String,
    line_style: Option<(Align, bool, bool)>,
    code_page: CodePage,
    align: Align,
    bold: bool,
    double: bool,
    qr_data: Vec<u8>,
    qr_module: u8,
}

impl Default for EscPosDecoder {
    fn default() -> Self {
        Self::new()
    }
}

enum Parsed {
    /// Consumed this many bytes.
    Done(usize),
    /// The command is not complete yet.
    Incomplete,
}

impl EscPosDecoder {
    pub fn new() -> Self {
        EscPosDecoder {
            pending: Vec::new(),
            job: DecodedJob::default(),
            line: String::new(),
            line_style: None,
            code_page: CodePage::Pc437,
            align: Align::Left,
            bold: false,
            double: false,
            qr_data: Vec::new(),
            qr_module: 3,
        }
    }

    /// Whether a job has started (something printed since the last job ended).
    pub fn has_data(&self) -> bool {
        !self.job.pieces.is_empty() || !self.line.is_empty() || self.job.drawer_kicks > 0
    }

    /// Ends the current job (the caller's 1 s silence), if it has data.
    pub fn flush(&mut self) -> Option<DecodedJob> {
        self.end_line(false);
        if self.has_data() {
            Some(std::mem::take(&mut self.job))
        } else {
            None
        }
    }

    fn reset_modes(&mut self) {
        self.code_page = CodePage::Pc437;
        self.align = Align::Left;
        self.bold = false;
        self.double = false;
        self.qr_module = 3;
    }

    fn end_line(&mut self, force: bool) {
        if self.line.is_empty() && !force {
            return;
        }
        let (align, bold, double) =
            self.line_style
                .take()
                .unwrap_or((self.align, self.bold, self.double));
        self.job.pieces.push(Piece::Text {
            text: std::mem::take(&mut self.line),
            align,
            bold,
            double,
        });
    }

    fn push_char(&mut self, b: u8) {
        if self.line_style.is_none() {
            self.line_style = Some((self.align, self.bold, self.double));
        }
        self.line.push(self.code_page.decode(b));
    }

    /// Feeds bytes (any split).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Event> {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut pos = 0;
        while pos < self.pending.len() {
            let buf = std::mem::take(&mut self.pending);
            let r = self.parse(&buf[pos..], &mut events);
            self.pending = buf;
            match r {
                Parsed::Done(n) => pos += n,
                Parsed::Incomplete => break,
            }
        }
        self.pending.drain(..pos);
        events
    }

    fn parse(&mut self, b: &[u8], events: &mut Vec<Event>) -> Parsed {
        use Parsed::*;
        let need = |n: usize| if b.len() < n { Incomplete } else { Done(n) };
        match b[0] {
            b'\n' => {
                self.end_line(true);
                Done(1)
            }
            b'\r' | 0x00 => Done(1),
            0x10 => {
                // DLE EOT n (real-time status); DLE DC4 n m t (real-time request).
                match b.get(1) {
                    None => Incomplete,
                    Some(0x04) => match b.get(2) {
                        None => Incomplete,
                        Some(&n) => {
                            events.push(Event::StatusQuery(n));
                            Done(3)
                        }
                    },
                    Some(0x14) => need(5),
                    Some(_) => Done(1),
                }
            }
            0x1b => {
                let Some(&cmd) = b.get(1) else {
                    return Incomplete;
                };
                match cmd {
                    b'@' => {
                        self.end_line(false);
                        if self.has_data() {
                            events.push(Event::Job(std::mem::take(&mut self.job)));
                        }
                        self.reset_modes();
                        Done(2)
                    }
                    b't' | b'E' | b'!' | b'a' | b'd' | b'J' | b'-' | b'M' | b'3' | b'{' | b'R'
                    | b'G' | b'r' | b'U' | b'V' | b'c' => {
                        let Some(&n) = b.get(2) else {
                            return Incomplete;
                        };
                        match cmd {
                            b't' => {
                                if let Some(cp) = CodePage::from_esc_t(n) {
                                    self.code_page = cp;
                                }
                            }
                            b'E' => self.bold = n & 1 != 0,
                            b'!' => {
                                self.bold = n & 0x08 != 0;
                                self.double = n & 0x30 != 0;
                            }
                            b'a' => {
                                self.align = match n {
                                    1 | b'1' => Align::Center,
                                    2 | b'2' => Align::Right,
                                    _ => Align::Left,
                                }
                            }
                            b'd' => {
                                self.end_line(false);
                                self.job.pieces.push(Piece::FeedLines(n));
                            }
                            b'J' => {
                                self.end_line(false);
                                self.job.pieces.push(Piece::FeedDots(n));
                            }
                            _ => {}
                        }
                        if cmd == b'c' {
                            // ESC c 3 n, ESC c 4 n, ESC c 5 n: one more byte.
                            return need(4);
                        }
                        Done(3)
                    }
                    b'p' => {
                        if b.len() < 5 {
                            return Incomplete;
                        }
                        self.job.drawer_kicks += 1;
                        Done(5)
                    }
                    b'2' => Done(2),
                    b'$' | b'\\' => need(4),
                    _ => Done(2),
                }
            }
            0x1d => {
                let Some(&cmd) = b.get(1) else {
                    return Incomplete;
                };
                match cmd {
                    b'!' => {
                        let Some(&n) = b.get(2) else {
                            return Incomplete;
                        };
                        self.double = n & 0x77 != 0;
                        Done(3)
                    }
                    b'V' => {
                        let Some(&m) = b.get(2) else {
                            return Incomplete;
                        };
                        let len = if m == 65 || m == 66 || m == 97 || m == 98 {
                            4
                        } else {
                            3
                        };
                        if b.len() < len {
                            return Incomplete;
                        }
                        self.end_line(false);
                        // Paper fed to reach the cutter is not part of the picture.
                        while matches!(
                            self.job.pieces.last(),
                            Some(Piece::FeedLines(_) | Piece::FeedDots(_))
                        ) {
                            self.job.pieces.pop();
                        }
                        if self.has_data() {
                            let mut job = std::mem::take(&mut self.job);
                            job.cut = true;
                            events.push(Event::Job(job));
                        }
                        Done(len)
                    }
                    b'v' => {
                        // GS v 0 m xL xH yL yH data
                        if b.len() < 8 {
                            return Incomplete;
                        }
                        let xb = u16::from_le_bytes([b[4], b[5]]) as usize;
                        let rows = u16::from_le_bytes([b[6], b[7]]) as usize;
                        let size = xb * rows;
                        if b[2] != b'0' || size > MAX_BLOCK {
                            return Done(2);
                        }
                        if b.len() < 8 + size {
                            return Incomplete;
                        }
                        self.end_line(false);
                        self.job.pieces.push(Piece::Raster(Bitmap::from_packed(
                            (xb * 8) as u32,
                            rows as u32,
                            &b[8..8 + size],
                        )));
                        Done(8 + size)
                    }
                    b'(' => {
                        // GS ( fn pL pH ...
                        if b.len() < 5 {
                            return Incomplete;
                        }
                        let len = u16::from_le_bytes([b[3], b[4]]) as usize;
                        if b.len() < 5 + len {
                            return Incomplete;
                        }
                        if b[2] == b'k' && len >= 3 && b[5] == 49 {
                            let p = &b[5..5 + len];
                            match p[1] {
                                67 => self.qr_module = p[2].clamp(1, 16),
                                80 => self.qr_data = p[3..].to_vec(),
                                81 => {
                                    self.end_line(false);
                                    self.job.pieces.push(Piece::Qr {
                                        payload: String::from_utf8_lossy(&self.qr_data)
                                            .into_owned(),
                                        module: self.qr_module,
                                        align: self.align,
                                    });
                                }
                                _ => {}
                            }
                        }
                        Done(5 + len)
                    }
                    b'L' | b'W' => need(4),
                    b'H' | b'h' | b'w' | b'f' | b'B' | b'b' | b'a' | b'I' | b'r' => need(3),
                    b'k' => {
                        // GS k m ...: barcodes; function A NUL-terminated, B with a length.
                        let Some(&m) = b.get(2) else {
                            return Incomplete;
                        };
                        if m <= 6 {
                            match b[3..].iter().position(|&x| x == 0) {
                                Some(i) => Done(3 + i + 1),
                                None if b.len() > 300 => Done(3),
                                None => Incomplete,
                            }
                        } else {
                            let Some(&n) = b.get(3) else {
                                return Incomplete;
                            };
                            need(4 + n as usize)
                        }
                    }
                    _ => Done(2),
                }
            }
            0x20.. => {
                self.push_char(b[0]);
                Done(1)
            }
            _ => Done(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_mode_job() {
        let mut d = EscPosDecoder::new();
        let mut bytes = b"\x1b@\x1bt\x10\x1ba\x01\x1bE\x01B\x9cuf\n\x1bE\x00\x1ba\x00".to_vec();
        bytes.extend_from_slice(b"2,00 \x80\n\x1dV\x01");
        let ev = d.push(&bytes);
        let [Event::Job(job)] = ev.as_slice() else {
            panic!("{ev:?}")
        };
        assert!(job.cut);
        assert_eq!(job.text(), "Bœuf\n2,00 €\n");
        assert_eq!(
            job.pieces[0],
            Piece::Text {
                text: "Bœuf".into(),
                align: Align::Center,
                bold: true,
                double: false
            }
        );
    }

    #[test]
    fn split_anywhere_gives_the_same_job() {
        let mut bytes = b"\x1b@\x1bt\x13C\x82\n".to_vec();
        bytes.extend(super::super::text::qr_commands(b"CPTX"));
        bytes.extend_from_slice(&[0x1d, b'v', b'0', 0, 1, 0, 2, 0, 0xff, 0x01]);
        bytes.extend_from_slice(b"\x1bp\x00\x19\xfa\x1bd\x04\x1dV\x01");
        let mut whole = EscPosDecoder::new();
        let expect = whole.push(&bytes);
        assert_eq!(expect.len(), 1);
        let Event::Job(job) = &expect[0] else {
            panic!()
        };
        assert_eq!(job.text(), "Cé\nqr: CPTX\n");
        assert_eq!(job.drawer_kicks, 1);
        assert!(
            matches!(&job.pieces[2], Piece::Raster(b) if b.width() == 8 && b.height() == 2 && b.black_count() == 9)
        );
        for i in 0..bytes.len() {
            let mut d = EscPosDecoder::new();
            let mut ev = d.push(&bytes[..i]);
            ev.extend(d.push(&bytes[i..]));
            assert_eq!(ev, expect, "split at {i}");
        }
    }

    #[test]
    fn status_queries_and_job_boundaries() {
        let mut d = EscPosDecoder::new();
        assert_eq!(
            d.push(b"\x10\x04\x01\x10\x04\x04"),
            [Event::StatusQuery(1), Event::StatusQuery(4)]
        );
        assert!(!d.has_data());
        // ESC @ after data ends a job; ESC @ before data does not.
        let ev = d.push(b"\x1b@one\n\x1b@two");
        assert_eq!(ev.len(), 1);
        assert_eq!(d.flush().unwrap().text(), "two\n");
        assert_eq!(d.flush(), None);
        // Junk never panics and never loops.
        d.push(&[0x1d, b'v', b'0', 0, 0xff, 0xff, 0xff, 0xff]);
        d.push(&[0x1d, b'(', b'k', 0xff, 0xff]);
    }
}
