//! Continuous-output indicators (`continuous`): the scale streams one line per reading,
//! e.g. `ST,GS,+  1.234kg` or `US,NT,-  0.012kg`, ending in CR or CRLF.
//!
//! - Header: `ST` stable, `US` unstable, `OL` overload (`+` over capacity, `-` under zero).
//! - Kind: `GS` gross, `NT` net (`TR` tare lines are ignored).
//! - Value: sign, space-padded decimal number, unit (`kg`, `g`; pounds are refused).
//! - No commands: the host only listens. 9600 baud, 8 data bits, no parity, 1 stop bit.

use std::time::Duration;

use super::lines::LineSplitter;
use super::simulator::{ScaleSimulator, SimMode, SimState, GARBAGE};
use super::{kg_text, parse_decimal, unit_shift, ErrorCode, Polling, Reading};
use crate::transport::SerialSettings;

pub const SETTINGS: SerialSettings = SerialSettings::n81(9600);
pub const POLLING: Polling = Polling::Stream;
/// The simulator streams ten lines a second.
pub const STREAM_INTERVAL: Duration = Duration::from_millis(100);

const MAX_LINE: usize = 40;

/// The continuous-output decoder. It starts by skipping the first (possibly partial) line.
#[derive(Debug)]
pub struct Decoder {
    lines: LineSplitter,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    pub fn new() -> Self {
        Decoder {
            lines: LineSplitter::new(MAX_LINE, false),
        }
    }
}

/// Parses one line (without its ending).
pub fn parse_line(line: &[u8]) -> Option<Reading> {
    let line = std::str::from_utf8(line).ok()?.trim();
    let mut fields = line.split(',');
    let (header, kind, value) = (fields.next()?, fields.next()?, fields.next()?);
    if fields.next().is_some() {
        return None;
    }
    let net = match kind.trim() {
        "GS" => false,
        "NT" => true,
        _ => return None,
    };
    let value = value.trim();
    let split = value
        .rfind(|c: char| c.is_ascii_digit() || c == '.')
        .map(|i| i + 1)?;
    let (number, unit) = value.split_at(split);
    let stable = match header.trim() {
        "ST" => true,
        "US" => false,
        "OL" => {
            return Some(Reading::error(if number.trim_start().starts_with('-') {
                ErrorCode::UnderZero
            } else {
                ErrorCode::OverCapacity
            }))
        }
        _ => return None,
    };
    let shift = match unit_shift(unit)? {
        Ok(shift) => shift,
        Err(code) => return Some(Reading::error(code)),
    };
    if !number.starts_with(['+', '-']) {
        return None;
    }
    let grams = parse_decimal(number, shift)?;
    Some(Reading::weight(grams, stable, net))
}

impl super::Decoder for Decoder {
    fn push(&mut self, bytes: &[u8]) -> Vec<Reading> {
        let mut out = Vec::new();
        self.lines.push(bytes, |line| out.extend(parse_line(line)));
        out
    }
}

/// Builds one line as the indicator sends it, CRLF included.
pub fn line(stable: bool, net: bool, grams: i64) -> Vec<u8> {
    format!(
        "{},{},{}{:>8}kg\r\n",
        if stable { "ST" } else { "US" },
        if net { "NT" } else { "GS" },
        if grams < 0 { '-' } else { '+' },
        kg_text(grams)
    )
    .into_bytes()
}

/// Grams to thousandths of a pound, for the simulator's pound display.
pub(crate) fn grams_to_millipounds(grams: i64) -> i64 {
    grams * 2_204_623 / 1_000_000
}

/// A simulated continuous-output indicator.
#[derive(Debug)]
pub struct Simulator {
    state: SimState,
}

impl Default for Simulator {
    fn default() -> Self {
        Simulator {
            state: SimState::new(),
        }
    }
}

impl ScaleSimulator for Simulator {
    fn state(&self) -> &SimState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut SimState {
        &mut self.state
    }
    fn on_input(&mut self, _bytes: &[u8]) -> Vec<u8> {
        Vec::new()
    }
    fn stream_interval(&self) -> Option<Duration> {
        Some(STREAM_INTERVAL)
    }
    fn on_tick(&mut self) -> Vec<u8> {
        let s = &self.state;
        let kind = if s.net() { "NT" } else { "GS" };
        match s.mode {
            SimMode::Silence => Vec::new(),
            SimMode::Garbage => GARBAGE.to_vec(),
            SimMode::OverCapacity => format!("OL,{kind},+9999.999kg\r\n").into_bytes(),
            SimMode::UnderZero => format!("OL,{kind},-9999.999kg\r\n").into_bytes(),
            SimMode::Pounds => {
                let lb = grams_to_millipounds(s.displayed());
                format!(
                    "{},{kind},{}{:>8}lb\r\n",
                    if s.stable { "ST" } else { "US" },
                    if lb < 0 { '-' } else { '+' },
                    kg_text(lb)
                )
                .into_bytes()
            }
            SimMode::Normal | SimMode::NotZeroed => line(s.stable, s.net(), s.displayed()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::simulator::SimCommand;
    use super::super::Decoder as _;
    use super::*;

    fn decode(chunks: &[&[u8]]) -> Vec<Reading> {
        let mut d = Decoder::new();
        // The decoder skips the first line, which may be partial: start on a boundary.
        d.push(b"\r\n");
        chunks.iter().flat_map(|c| d.push(c)).collect()
    }

    #[test]
    fn serial_settings_are_9600_8n1() {
        assert_eq!(
            (
                SETTINGS.baud,
                SETTINGS.data_bits,
                SETTINGS.parity,
                SETTINGS.stop_bits
            ),
            (9600, 8, crate::transport::Parity::None, 1)
        );
        assert_eq!(POLLING, Polling::Stream);
    }

    #[test]
    fn lines_of_every_kind() {
        assert_eq!(
            decode(&[b"ST,GS,+  1.234kg\r\nUS,NT,-  0.012kg\r"]),
            [
                Reading::weight(1234, true, false),
                Reading::weight(-12, false, true)
            ]
        );
        assert_eq!(
            decode(&[b"ST,GS,+   1234 g\r\n"]),
            [Reading::weight(1234, true, false)]
        );
        assert_eq!(
            decode(&[b"OL,GS,+9999.999kg\r\nOL,GS,-9999.999kg\r\n"]),
            [
                Reading::error(ErrorCode::OverCapacity),
                Reading::error(ErrorCode::UnderZero)
            ]
        );
        assert_eq!(
            decode(&[b"ST,GS,+  2.720lb\r\n"]),
            [Reading::error(ErrorCode::UnsupportedUnit)]
        );
        // Tare lines and unknown headers, kinds or units are skipped.
        assert_eq!(
            decode(&[b"ST,TR,+  0.100kg\r\nXX,GS,+1.000kg\r\nST,GS,+1.000mg\r\nST,GS,1.000kg\r\n"]),
            []
        );
    }

    #[test]
    fn junk_split_frames_and_resync() {
        assert_eq!(
            decode(&[
                b"\xff\x00garbage",
                b"\r\nST,G",
                b"S,+  1.2",
                b"34kg\r",
                b"\nST,GS,+0.5kg\r\n"
            ]),
            [
                Reading::weight(1234, true, false),
                Reading::weight(500, true, false)
            ]
        );
        // The first partial line after connecting is skipped, not misread.
        let mut d = Decoder::new();
        assert_eq!(
            d.push(b"+  1.234kg\r\nST,GS,+  0.010kg\r\n"),
            [Reading::weight(10, true, false)]
        );
        // Overlong junk without an ending is dropped.
        let mut junk = vec![b'x'; 500];
        junk.extend_from_slice(b"\r\nST,GS,+  0.001kg\r\n");
        assert_eq!(decode(&[&junk]), [Reading::weight(1, true, false)]);
    }

    #[test]
    fn simulator_streams_what_the_decoder_reads() {
        let mut s = Simulator::default();
        let mut d = Decoder::new();
        d.push(b"\n");
        let mut expect = |s: &mut Simulator, r: &[Reading]| assert_eq!(d.push(&s.on_tick()), r);
        expect(&mut s, &[Reading::weight(0, true, false)]);
        s.command(SimCommand::Weight(1234));
        expect(&mut s, &[Reading::weight(1234, true, false)]);
        s.command(SimCommand::Weight(-12));
        s.command(SimCommand::Motion);
        expect(&mut s, &[Reading::weight(-12, false, false)]);
        s.command(SimCommand::Weight(1000));
        s.command(SimCommand::Tare(250));
        expect(&mut s, &[Reading::weight(750, true, true)]);
        s.command(SimCommand::Over);
        expect(&mut s, &[Reading::error(ErrorCode::OverCapacity)]);
        s.command(SimCommand::Under);
        expect(&mut s, &[Reading::error(ErrorCode::UnderZero)]);
        s.command(SimCommand::Pounds);
        expect(&mut s, &[Reading::error(ErrorCode::UnsupportedUnit)]);
        s.command(SimCommand::Silence);
        expect(&mut s, &[]);
        s.command(SimCommand::Garbage);
        expect(&mut s, &[]);
        assert_eq!(s.stream_interval(), Some(STREAM_INTERVAL));
        assert_eq!(line(true, false, 1234), b"ST,GS,+   1.234kg\r\n");
    }
}
