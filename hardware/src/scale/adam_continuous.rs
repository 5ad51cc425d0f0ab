//! Adam Equipment continuous output (`adam-continuous`, CPWplus style): the scale streams
//! lines such as `   1.234kg` (`U` first when unstable, `-` for negative, ` NT` when net).
//! `T` tares, `Z` zeroes. This is the mode to prefer on Adam scales.
//! 9600 baud, 8 data bits, no parity, 1 stop bit.

use std::time::Duration;

pub use super::adam_line::{parse_line, TARE, ZERO};
use super::adam_line::{weight_line, MAX_LINE, OVER_LINE, UNDER_LINE};
use super::continuous::grams_to_millipounds;
use super::lines::LineSplitter;
use super::simulator::{ScaleSimulator, SimMode, SimState, GARBAGE};
use super::{Polling, Reading};
use crate::transport::SerialSettings;

pub const SETTINGS: SerialSettings = SerialSettings::n81(9600);
pub const POLLING: Polling = Polling::Stream;
/// The simulator streams ten lines a second.
pub const STREAM_INTERVAL: Duration = Duration::from_millis(100);

/// The continuous decoder; it skips the first (possibly partial) line.
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

impl super::Decoder for Decoder {
    fn push(&mut self, bytes: &[u8]) -> Vec<Reading> {
        let mut out = Vec::new();
        self.lines.push(bytes, |line| out.extend(parse_line(line)));
        out
    }
}

/// A simulated Adam scale streaming its display.
#[derive(Debug)]
pub struct Simulator {
    state: SimState,
    input: Vec<u8>,
}

impl Default for Simulator {
    fn default() -> Self {
        Simulator {
            state: SimState::new(),
            input: Vec::new(),
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
    fn on_input(&mut self, bytes: &[u8]) -> Vec<u8> {
        for &b in bytes {
            if b != b'\r' && b != b'\n' {
                if self.input.len() < 16 {
                    self.input.push(b);
                }
                continue;
            }
            match std::mem::take(&mut self.input).as_slice() {
                b"T" if self.state.stable => self.state.tare = self.state.gross,
                b"Z" if self.state.stable => self.state.gross = 0,
                _ => {}
            }
        }
        Vec::new()
    }
    fn stream_interval(&self) -> Option<Duration> {
        Some(STREAM_INTERVAL)
    }
    fn on_tick(&mut self) -> Vec<u8> {
        let s = &self.state;
        match s.mode {
            SimMode::Silence => Vec::new(),
            SimMode::Garbage => GARBAGE.to_vec(),
            SimMode::OverCapacity => OVER_LINE.to_vec(),
            SimMode::UnderZero | SimMode::NotZeroed => UNDER_LINE.to_vec(),
            SimMode::Pounds => {
                weight_line(grams_to_millipounds(s.displayed()), s.stable, s.net(), "lb")
            }
            SimMode::Normal => weight_line(s.displayed(), s.stable, s.net(), "kg"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::simulator::SimCommand;
    use super::super::Decoder as _;
    use super::super::ErrorCode;
    use super::*;

    #[test]
    fn serial_settings_are_9600_8n1_streaming() {
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
    fn decoder_skips_partial_first_line_and_junk() {
        let mut d = Decoder::new();
        assert_eq!(
            d.push(b"2.345kg\r\n   1.2"),
            [],
            "a cut first line must not read as 2.345 kg"
        );
        assert_eq!(
            d.push(b"34kg\r\nU  1.240kg\r\n\x00\x01zz\r\n-  0.012kg NT\r\n"),
            [
                Reading::weight(1234, true, false),
                Reading::weight(1240, false, false),
                Reading::weight(-12, true, true),
            ]
        );
    }

    #[test]
    fn simulator_streams_what_the_decoder_reads() {
        let mut s = Simulator::default();
        let mut d = Decoder::new();
        d.push(b"\r\n");
        let mut check = |s: &mut Simulator, r: &[Reading]| assert_eq!(d.push(&s.on_tick()), r);
        check(&mut s, &[Reading::weight(0, true, false)]);
        s.command(SimCommand::Weight(1234));
        s.command(SimCommand::Motion);
        check(&mut s, &[Reading::weight(1234, false, false)]);
        s.on_input(b"T\r\n");
        check(&mut s, &[Reading::weight(1234, false, false)]);
        s.command(SimCommand::Weight(1234));
        s.on_input(b"T\r\n");
        check(&mut s, &[Reading::weight(0, true, true)]);
        s.command(SimCommand::NoTare);
        s.command(SimCommand::Over);
        check(&mut s, &[Reading::error(ErrorCode::OverCapacity)]);
        s.command(SimCommand::Under);
        check(&mut s, &[Reading::error(ErrorCode::UnderZero)]);
        s.command(SimCommand::Pounds);
        check(&mut s, &[Reading::error(ErrorCode::UnsupportedUnit)]);
        s.command(SimCommand::Garbage);
        check(&mut s, &[]);
        s.command(SimCommand::Zero);
        s.on_input(b"Z\r\n");
        // The line after garbage is glued to it and lost; the next one resynchronises.
        check(&mut s, &[]);
        check(&mut s, &[Reading::weight(0, true, false)]);
    }
}
