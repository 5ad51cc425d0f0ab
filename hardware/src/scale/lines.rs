//! A line splitter shared by the line-based scale protocols: CR, LF or CRLF endings,
//! bounded length, and an optional "skip the first partial line" start.

/// Splits a byte stream into lines. Overlong lines are dropped whole, and so is the first
/// line when the splitter starts unsynchronised (it may have begun mid-frame).
#[derive(Debug)]
pub(crate) struct LineSplitter {
    buf: Vec<u8>,
    max: usize,
    synced: bool,
    overlong: bool,
}

impl LineSplitter {
    pub(crate) fn new(max: usize, synced: bool) -> Self {
        LineSplitter {
            buf: Vec::new(),
            max,
            synced,
            overlong: false,
        }
    }

    /// Feeds bytes; calls `f` with each complete, non-empty line (without its ending).
    pub(crate) fn push(&mut self, bytes: &[u8], mut f: impl FnMut(&[u8])) {
        for &b in bytes {
            if b == b'\r' || b == b'\n' {
                if self.synced && !self.overlong && !self.buf.is_empty() {
                    f(&self.buf);
                }
                self.buf.clear();
                self.synced = true;
                self.overlong = false;
            } else if self.buf.len() >= self.max {
                self.overlong = true;
                self.buf.clear();
            } else if !self.overlong {
                self.buf.push(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &mut LineSplitter, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        s.push(bytes, |l| out.push(String::from_utf8_lossy(l).into_owned()));
        out
    }

    #[test]
    fn splits_on_cr_lf_and_crlf() {
        let mut s = LineSplitter::new(10, true);
        assert_eq!(lines(&mut s, b"a\rb\nc\r\n\r\nd"), ["a", "b", "c"]);
        assert_eq!(lines(&mut s, b"e\r"), ["de"]);
    }

    #[test]
    fn unsynced_start_drops_the_first_partial_line() {
        let mut s = LineSplitter::new(10, false);
        assert_eq!(lines(&mut s, b"234kg\r\nx\r\n"), ["x"]);
    }

    #[test]
    fn overlong_lines_are_dropped_whole() {
        let mut s = LineSplitter::new(4, true);
        assert_eq!(lines(&mut s, b"abcdefgh\rok\r"), ["ok"]);
        assert_eq!(lines(&mut s, b"abcd\r"), ["abcd"]);
    }
}
