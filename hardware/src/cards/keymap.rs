//! What a keyboard-wedge scanner's text becomes when the scanner and the host disagree on
//! the keyboard layout: the scanner presses the keys that give a character on *its*
//! layout; the host reads those keys with *its* layout.

/// Keyboard layouts of the main block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keymap {
    /// US QWERTY.
    Us,
    /// French AZERTY (Linux `fr`).
    FrAzerty,
}

// Rows of the main block, unshifted then shifted; same position = same key. The US
// backslash key and the ISO key left of Enter on AZERTY are taken as one.
const US: [[&str; 4]; 2] = [
    [
        "`1234567890-=",
        "qwertyuiop[]\\",
        "asdfghjkl;'",
        "zxcvbnm,./",
    ],
    [
        "~!@#$%^&*()_+",
        "QWERTYUIOP{}|",
        "ASDFGHJKL:\"",
        "ZXCVBNM<>?",
    ],
];
const FR: [[&str; 4]; 2] = [
    [
        "²&é\"'(-è_çà)=",
        "azertyuiop^$*",
        "qsdfghjklmù",
        "wxcvbn,;:!",
    ],
    [
        "\u{0}1234567890°+",
        "AZERTYUIOP¨£µ",
        "QSDFGHJKLM%",
        "WXCVBN?./§",
    ],
];

fn table(k: Keymap) -> &'static [[&'static str; 4]; 2] {
    match k {
        Keymap::Us => &US,
        Keymap::FrAzerty => &FR,
    }
}

fn key_of(k: Keymap, c: char) -> Option<(usize, usize, usize)> {
    for (shift, rows) in table(k).iter().enumerate() {
        for (row, keys) in rows.iter().enumerate() {
            if let Some(col) = keys.chars().position(|x| x == c) {
                return Some((shift, row, col));
            }
        }
    }
    None
}

/// The text a host reading with `host` layout gets when a scanner types `text` on the
/// `scanner` layout. Characters outside the main block (space, or none on that key) pass
/// through unchanged.
pub fn retype(text: &str, scanner: Keymap, host: Keymap) -> String {
    if scanner == host {
        return text.to_string();
    }
    text.chars()
        .map(|c| match key_of(scanner, c) {
            Some((shift, row, col)) => table(host)[shift][row]
                .chars()
                .nth(col)
                .filter(|&x| x != '\u{0}')
                .unwrap_or(c),
            None => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_line_up() {
        for shift in 0..2 {
            for row in 0..4 {
                assert_eq!(
                    US[shift][row].chars().count(),
                    FR[shift][row].chars().count(),
                    "shift {shift} row {row}"
                );
            }
        }
    }

    #[test]
    fn us_scanner_on_french_host() {
        assert_eq!(retype("AZQWM1", Keymap::Us, Keymap::FrAzerty), "QWAZ?&");
        assert_eq!(retype("azqwm1;", Keymap::Us, Keymap::FrAzerty), "qwaz,&m");
        // And back.
        assert_eq!(retype("QWAZ?&", Keymap::FrAzerty, Keymap::Us), "AZQWM1");
        assert_eq!(retype("BCDX", Keymap::Us, Keymap::FrAzerty), "BCDX");
    }
}
