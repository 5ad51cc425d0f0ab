//! Adam Equipment print-on-demand (`adam-print`): the host sends `P` CR LF and the scale
//! answers one line such as `   1.234kg` — but only for a new, non-zero, stable weight; asked
//! again it beeps and says nothing. So the host polls only while a weighing screen is open,
//! and silence is never taken for an unplugged cable. `T` tares, `Z` zeroes.
//! 9600 baud, 8 data bits, no parity, 1 stop bit.

use std::time::Duration;

pub use super::adam_line::{parse_line, PRINT, TARE, ZERO};
use super::adam_line::{weight_line, MAX_LINE, OVER_LINE, UNDER_LINE};
use super::continuous::grams_to_millipounds;
use super::lines::LineSplitter;
use super::simulator::{ScaleSimulator, SimCommand, SimMode, SimState, GARBAGE};
use super::{Polling, Reading};
use crate::transport::SerialSettings;

pub const SETTINGS: SerialSettings = SerialSettings::n81(9600);
/// `P` every 500 ms, only while asked.
pub const POLLING: Polling = Polling::OnDemand {
    request: PRINT,
    interval: Duration::from_millis(500),
};

/// The print-on-demand decoder (answers come after a request: it starts synchronised).
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
            lines: LineSplitter::new(MAX_LINE, true),
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

/// A simulated Adam scale in print-on-demand mode.
#[derive(Debug)]
pub struct Simulator {
    state: SimState,
    input: Vec<u8>,
    /// The weight last printed; the same weight is not printed twice.
    last_printed: Option<(i64, bool)>,
}

impl Default for Simulator {
    fn default() -> Self {
        Simulator {
            state: SimState::new(),
            input: Vec::new(),
            last_printed: None,
        }
    }
}

impl Simulator {
    fn print(&mut self) -> Vec<u8> {
        let s = self.state;
        match s.mode {
            SimMode::Silence => Vec::new(),
            SimMode::Garbage => GARBAGE.to_vec(),
            SimMode::OverCapacity => OVER_LINE.to_vec(),
            SimMode::UnderZero | SimMode::NotZeroed => UNDER_LINE.to_vec(),
            SimMode::Normal | SimMode::Pounds => {
                let shown = (s.displayed(), s.net());
                if !s.stable || s.displayed() == 0 || self.last_printed == Some(shown) {
                    return Vec::new(); // beep
                }
                self.last_printed = Some(shown);
                if s.mode == SimMode::Pounds {
                    weight_line(grams_to_millipounds(s.displayed()), true, s.net(), "lb")
                } else {
                    weight_line(s.displayed(), true, s.net(), "kg")
                }
            }
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
    fn command(&mut self, cmd: SimCommand) {
        self.state.apply(cmd);
        if self.state.displayed() == 0 {
            self.last_printed = None;
        }
    }
    fn on_input(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for &b in bytes {
            if b != b'\r' && b != b'\n' {
                if self.input.len() < 16 {
                    self.input.push(b);
                }
                continue;
            }
            let cmd = std::mem::take(&mut self.input);
            match cmd.as_slice() {
                b"P" => out.extend(self.print()),
                b"T" if self.state.stable => {
                    self.state.tare = self.state.gross;
                    self.last_printed = None;
                }
                b"Z" if self.state.stable => {
                    self.state.gross = 0;
                    self.last_printed = None;
                }
                _ => {}
            }
        }
        out
    }
    fn stream_interval(&self) -> Option<Duration> {
        None
    }
    fn on_tick(&mut self) -> Vec<u8> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::super::Decoder as _;
    use super::super::ErrorCode;
    use super::*;

    #[test]
    fn serial_settings_are_9600_8n1_and_polled_on_demand() {
        assert_eq!(
            (
                SETTINGS.baud,
                SETTINGS.data_bits,
                SETTINGS.parity,
                SETTINGS.stop_bits
            ),
            (9600, 8, crate::transport::Parity::None, 1)
        );
        assert!(matches!(
            POLLING,
            Polling::OnDemand {
                request: b"P\r\n",
                ..
            }
        ));
    }

    #[test]
    fn decoder_fixtures() {
        let mut d = Decoder::new();
        assert_eq!(d.push(b"   1.2"), []);
        assert_eq!(d.push(b"34kg\r\n"), [Reading::weight(1234, true, false)]);
        assert_eq!(
            d.push(b"\xff\xfejunk\r\n-  0.012kg\r\n^^^^^^^^^kg\r\n---------kg\r\n   1.000lb\r\n"),
            [
                Reading::weight(-12, true, false),
                Reading::error(ErrorCode::OverCapacity),
                Reading::error(ErrorCode::UnderZero),
                Reading::error(ErrorCode::UnsupportedUnit),
            ]
        );
    }

    #[test]
    fn simulator_prints_only_new_nonzero_stable_weights() {
        let mut s = Simulator::default();
        assert_eq!(s.on_input(b"P\r\n"), b"", "zero is not printed");
        s.command(SimCommand::Weight(1234));
        assert_eq!(s.on_input(b"P\r"), b"   1.234kg\r\n");
        assert_eq!(s.on_input(b"\n"), b"", "CR then LF is one request");
        assert_eq!(s.on_input(b"P\r\n"), b"", "asked again: beep");
        s.command(SimCommand::Motion);
        assert_eq!(s.on_input(b"P\r\n"), b"");
        s.command(SimCommand::Weight(-12));
        assert_eq!(s.on_input(b"P\r\n"), b"-  0.012kg\r\n");
        s.command(SimCommand::Weight(500));
        s.command(SimCommand::Tare(100));
        assert_eq!(s.on_input(b"P\r\n"), b"   0.400kg NT\r\n");
        s.command(SimCommand::Over);
        assert_eq!(s.on_input(b"P\r\n"), OVER_LINE);
        s.command(SimCommand::Under);
        assert_eq!(s.on_input(b"P\r\n"), UNDER_LINE);
        s.command(SimCommand::Silence);
        assert_eq!(s.on_input(b"P\r\n"), b"");
        s.command(SimCommand::Weight(0));
        s.command(SimCommand::NoTare);
        s.command(SimCommand::Weight(1234));
        assert_eq!(
            s.on_input(b"P\r\n"),
            b"   1.234kg\r\n",
            "a new weighing prints again"
        );
        s.on_input(b"T\r\n");
        s.command(SimCommand::Weight(1300));
        assert_eq!(s.on_input(b"P\r\n"), b"   0.066kg NT\r\n");
    }
}
