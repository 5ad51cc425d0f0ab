//! Code pages of text mode: WPC1252 (`ESC t 16`, has € and œ) and PC858 (`ESC t 19`,
//! has € but no œ, written "oe").

/// A printer code page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CodePage {
    /// Windows-1252, `ESC t 16`. The default.
    #[default]
    Wpc1252,
    /// PC858 (PC850 with € at 0xD5), `ESC t 19`. Fallback for printers without WPC1252.
    Pc858,
    /// PC437, the power-on default of most printers (`ESC t 0`); decoding only.
    Pc437,
}

/// 0x80..=0x9F of Windows-1252 (`\0` where undefined).
const CP1252_80: [char; 32] = [
    '€', '\0', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\0', 'Ž', '\0', '\0', '‘',
    '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\0', 'ž', 'Ÿ',
];

/// 0x80..=0xFF of PC858.
const CP858_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', 'ø', '£', 'Ø', '×', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '®', '¬', '½', '¼', '¡', '«', '»', //
    '░', '▒', '▓', '│', '┤', 'Á', 'Â', 'À', '©', '╣', '║', '╗', '╝', '¢', '¥', '┐', //
    '└', '┴', '┬', '├', '─', '┼', 'ã', 'Ã', '╚', '╔', '╩', '╦', '╠', '═', '╬', '¤', //
    'ð', 'Ð', 'Ê', 'Ë', 'È', '€', 'Í', 'Î', 'Ï', '┘', '┌', '█', '▄', '¦', 'Ì', '▀', //
    'Ó', 'ß', 'Ô', 'Ò', 'õ', 'Õ', 'µ', 'þ', 'Þ', 'Ú', 'Û', 'Ù', 'ý', 'Ý', '¯', '´', //
    '\u{ad}', '±', '‗', '¾', '¶', '§', '÷', '¸', '°', '¨', '·', '¹', '³', '²', '■', '\u{a0}',
];

impl CodePage {
    /// The `n` of `ESC t n`.
    pub fn esc_t(self) -> u8 {
        match self {
            CodePage::Wpc1252 => 16,
            CodePage::Pc858 => 19,
            CodePage::Pc437 => 0,
        }
    }

    pub fn from_esc_t(n: u8) -> Option<Self> {
        match n {
            16 => Some(CodePage::Wpc1252),
            19 => Some(CodePage::Pc858),
            0 => Some(CodePage::Pc437),
            _ => None,
        }
    }

    /// Encodes text; characters the page lacks become a close ASCII spelling ("oe" for œ
    /// on PC858, quotes and dashes simplified) or `?`.
    pub fn encode(self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len());
        for c in text.chars() {
            if let Some(b) = self.encode_char(c) {
                out.push(b);
                continue;
            }
            let fallback: &str = match c {
                'œ' => "oe",
                'Œ' => "OE",
                '’' | '‘' | '‚' => "'",
                '“' | '”' | '„' | '«' | '»' => "\"",
                '–' | '—' | '‑' => "-",
                '…' => "...",
                '\u{202f}' | '\u{a0}' => " ",
                _ => "?",
            };
            for f in fallback.chars() {
                out.push(self.encode_char(f).unwrap_or(b'?'));
            }
        }
        out
    }

    fn encode_char(self, c: char) -> Option<u8> {
        if (' '..='~').contains(&c) {
            return Some(c as u8);
        }
        match self {
            CodePage::Wpc1252 => {
                if ('\u{a0}'..='\u{ff}').contains(&c) {
                    return Some(c as u32 as u8);
                }
                CP1252_80
                    .iter()
                    .position(|&x| x == c && x != '\0')
                    .map(|i| 0x80 + i as u8)
            }
            CodePage::Pc858 => CP858_HIGH
                .iter()
                .position(|&x| x == c)
                .map(|i| 0x80 + i as u8),
            CodePage::Pc437 => None,
        }
    }

    /// Decodes one byte (0x20 and above).
    pub fn decode(self, b: u8) -> char {
        if b < 0x80 {
            return b as char;
        }
        match self {
            CodePage::Wpc1252 if b >= 0xa0 => b as char,
            CodePage::Wpc1252 => match CP1252_80[(b - 0x80) as usize] {
                '\0' => '?',
                c => c,
            },
            CodePage::Pc858 => CP858_HIGH[(b - 0x80) as usize],
            CodePage::Pc437 => '?',
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_text_in_both_pages() {
        let text = "Cœur de bœuf 2,50 € — élève à l'école, ça va ? Œuf";
        let w = CodePage::Wpc1252.encode(text);
        assert_eq!(w.iter().filter(|&&b| b == 0x80).count(), 1, "€ is 0x80");
        assert!(w.contains(&0x9c) && w.contains(&0x8c), "œ and Œ");
        let back: String = w.iter().map(|&b| CodePage::Wpc1252.decode(b)).collect();
        assert_eq!(back, "Cœur de bœuf 2,50 € — élève à l'école, ça va ? Œuf");
        let p = CodePage::Pc858.encode(text);
        assert!(p.contains(&0xd5), "€ is 0xD5 in PC858");
        let back: String = p.iter().map(|&b| CodePage::Pc858.decode(b)).collect();
        assert_eq!(
            back,
            "Coeur de boeuf 2,50 € - élève à l'école, ça va ? OEuf"
        );
        assert_eq!(CodePage::Pc858.encode("é"), [0x82]);
        assert_eq!(CodePage::Wpc1252.encode("漢"), b"?");
    }
}
