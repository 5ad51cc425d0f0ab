//! The receipt document: what to print, independent of how (raster or text mode).

use super::bitmap::Bitmap;

/// Horizontal alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// Style of a text line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Style {
    pub align: Align,
    pub bold: bool,
    /// Double width and height.
    pub double: bool,
}

impl Style {
    pub fn left() -> Self {
        Style::default()
    }
    pub fn center() -> Self {
        Style {
            align: Align::Center,
            ..Style::default()
        }
    }
    pub fn right() -> Self {
        Style {
            align: Align::Right,
            ..Style::default()
        }
    }
    pub fn bold(self) -> Self {
        Style { bold: true, ..self }
    }
    pub fn double(self) -> Self {
        Style {
            double: true,
            ..self
        }
    }
}

/// One column of a row, `width` in character cells (0 = what the others leave).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub text: String,
    pub width: u16,
    pub align: Align,
}

impl Column {
    pub fn new(text: impl Into<String>, width: u16, align: Align) -> Self {
        Column {
            text: text.into(),
            width,
            align,
        }
    }
}

/// A piece of a receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// Text, wrapped at spaces to the paper width.
    Text { text: String, style: Style },
    /// One row of columns (text that does not fit is cut).
    Columns { columns: Vec<Column>, bold: bool },
    /// A horizontal rule.
    Separator,
    /// Blank lines.
    Feed(u8),
    /// A QR code (model 2, error correction M), centred.
    Qr(String),
    /// A 1-bit image (a logo), centred.
    Image(Bitmap),
    /// Feed past the cutter and cut.
    Cut,
}

/// A receipt: blocks printed top to bottom.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Receipt {
    pub blocks: Vec<Block>,
}

impl Receipt {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn text(mut self, text: impl Into<String>, style: Style) -> Self {
        self.blocks.push(Block::Text {
            text: text.into(),
            style,
        });
        self
    }
    pub fn line(self, text: impl Into<String>) -> Self {
        self.text(text, Style::default())
    }
    pub fn columns(mut self, columns: Vec<Column>) -> Self {
        self.blocks.push(Block::Columns {
            columns,
            bold: false,
        });
        self
    }
    pub fn bold_columns(mut self, columns: Vec<Column>) -> Self {
        self.blocks.push(Block::Columns {
            columns,
            bold: true,
        });
        self
    }
    /// A left/right pair, e.g. a product and its price.
    pub fn pair(self, left: impl Into<String>, right: impl Into<String>) -> Self {
        self.columns(vec![
            Column::new(left, 0, Align::Left),
            Column::new(right, 12, Align::Right),
        ])
    }
    pub fn separator(mut self) -> Self {
        self.blocks.push(Block::Separator);
        self
    }
    pub fn feed(mut self, lines: u8) -> Self {
        self.blocks.push(Block::Feed(lines));
        self
    }
    pub fn qr(mut self, payload: impl Into<String>) -> Self {
        self.blocks.push(Block::Qr(payload.into()));
        self
    }
    pub fn image(mut self, image: Bitmap) -> Self {
        self.blocks.push(Block::Image(image));
        self
    }
    pub fn cut(mut self) -> Self {
        self.blocks.push(Block::Cut);
        self
    }
}

/// Paper width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paper {
    /// 58 mm paper: 384 dots, 32 characters of font A.
    Mm58,
    /// 80 mm paper: 576 dots, 48 characters of font A.
    Mm80,
}

impl Paper {
    /// From the config's `width_dots` (384 or 576).
    pub fn from_dots(dots: u32) -> Option<Self> {
        match dots {
            384 => Some(Paper::Mm58),
            576 => Some(Paper::Mm80),
            _ => None,
        }
    }
    pub fn dots(self) -> u32 {
        match self {
            Paper::Mm58 => 384,
            Paper::Mm80 => 576,
        }
    }
    /// Characters per line of normal text (12-dot cells).
    pub fn chars(self) -> usize {
        (self.dots() / 12) as usize
    }
}

/// A laid-out piece of text within a line, in character cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cell {
    /// The text cut to the cell (text mode).
    pub text: String,
    /// The whole text (raster mode fits it to the cell's dots instead).
    pub full: String,
    pub start: usize,
    pub width: usize,
    pub align: Align,
}

/// The receipt laid out in character cells, shared by both modes so they agree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Laid {
    Line {
        cells: Vec<Cell>,
        bold: bool,
        double: bool,
        /// Whole-line text (one cell spanning the line) vs. columns.
        whole: bool,
    },
    Separator,
    Feed(u8),
    Qr(String),
    Image(Bitmap),
    Cut,
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut cur = String::new();
        let mut cur_len = 0;
        for word in para.split(' ') {
            let wl = word.chars().count();
            if cur_len > 0 && cur_len + 1 + wl > width {
                lines.push(std::mem::take(&mut cur));
                cur_len = 0;
            }
            if cur_len > 0 {
                cur.push(' ');
                cur_len += 1;
            }
            let mut w = word;
            // A word longer than the line is cut.
            while w.chars().count() > width {
                let cut: String = w.chars().take(width - cur_len.min(width)).collect();
                if cut.is_empty() {
                    lines.push(std::mem::take(&mut cur));
                    cur_len = 0;
                    continue;
                }
                cur.push_str(&cut);
                lines.push(std::mem::take(&mut cur));
                cur_len = 0;
                w = &w[cut.len()..];
            }
            cur.push_str(w);
            cur_len += w.chars().count();
        }
        lines.push(cur);
    }
    lines
}

/// Truncates to `width` characters.
pub(crate) fn fit(text: &str, width: usize) -> String {
    text.chars().take(width).collect()
}

pub(crate) fn layout(receipt: &Receipt, paper: Paper) -> Vec<Laid> {
    let cpl = paper.chars();
    let mut out = Vec::new();
    for block in &receipt.blocks {
        match block {
            Block::Text { text, style } => {
                let width = if style.double { cpl / 2 } else { cpl };
                for line in wrap(text, width) {
                    out.push(Laid::Line {
                        cells: vec![Cell {
                            full: line.clone(),
                            text: line,
                            start: 0,
                            width,
                            align: style.align,
                        }],
                        bold: style.bold,
                        double: style.double,
                        whole: true,
                    });
                }
            }
            Block::Columns { columns, bold } => {
                let fixed: usize = columns.iter().map(|c| c.width as usize).sum();
                let flexible = columns.iter().filter(|c| c.width == 0).count();
                let rest = cpl.saturating_sub(fixed);
                let mut start = 0;
                let mut cells = Vec::new();
                for (i, c) in columns.iter().enumerate() {
                    let mut width = if c.width == 0 {
                        rest / flexible.max(1)
                    } else {
                        c.width as usize
                    };
                    width = width.min(cpl.saturating_sub(start));
                    // One space between columns.
                    let room = if i + 1 < columns.len() {
                        width.saturating_sub(1)
                    } else {
                        width
                    };
                    let cell_start = if c.align == Align::Right && i > 0 {
                        start + (width - room)
                    } else {
                        start
                    };
                    cells.push(Cell {
                        text: fit(&c.text, room),
                        full: c.text.clone(),
                        start: cell_start,
                        width: room,
                        align: c.align,
                    });
                    start += width;
                }
                out.push(Laid::Line {
                    cells,
                    bold: *bold,
                    double: false,
                    whole: false,
                });
            }
            Block::Separator => out.push(Laid::Separator),
            Block::Feed(n) => out.push(Laid::Feed(*n)),
            Block::Qr(p) => out.push(Laid::Qr(p.clone())),
            Block::Image(b) => out.push(Laid::Image(b.clone())),
            Block::Cut => out.push(Laid::Cut),
        }
    }
    out
}

/// The characters of a laid-out line, padded to `cpl` (columns placed in their cells).
pub(crate) fn compose(cells: &[Cell], cpl: usize) -> String {
    let mut line: Vec<char> = vec![' '; cpl];
    for c in cells {
        let len = c.text.chars().count().min(c.width);
        let offset = match c.align {
            Align::Left => 0,
            Align::Center => (c.width - len) / 2,
            Align::Right => c.width - len,
        };
        for (i, ch) in c.text.chars().take(len).enumerate() {
            if let Some(slot) = line.get_mut(c.start + offset + i) {
                *slot = ch;
            }
        }
    }
    line.into_iter().collect::<String>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("un deux trois", 8), ["un deux", "trois"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(wrap("a\nb", 4), ["a", "b"]);
    }

    #[test]
    fn columns_compose_to_the_paper_width() {
        let r = Receipt::new().pair("Tomates cœur de bœuf", "3,45 €");
        let laid = layout(&r, Paper::Mm58);
        let Laid::Line { cells, .. } = &laid[0] else {
            panic!()
        };
        let s = compose(cells, 32);
        assert_eq!(s.chars().count(), 32);
        assert_eq!(
            s, "Tomates cœur de bœu       3,45 €",
            "cut to leave a space"
        );
    }
}
