//! Mettler-Toledo 8217 (`toledo8217`): the host asks, the scale answers.
//!
//! - Request `W`; weight reply `STX <weight in kg, space-padded>[N] CR` (`N` for net; the
//!   frame carries no unit and no sign: a negative load arrives only as a status).
//! - Status reply `STX ? <status> CR`; status bits: 0 motion, 1 over capacity, 2 under zero,
//!   3 outside zero range, 4 centre of zero, 5 net. Real scales set bit 6 too (masked here).
//!   Some scales answer status 0 until the weight changes: the last weight stays valid then.
//! - `Z` zeroes, `T` tares the current load, `C` clears the tare; none is answered.
//! - 9600 baud, 7 data bits, even parity, 1 stop bit.

use std::time::Duration;

use super::simulator::{ScaleSimulator, SimMode, SimState, GARBAGE};
use super::{kg_text, parse_decimal, ErrorCode, Polling, Reading, Weight};
use crate::transport::{Parity, SerialSettings};

pub const SETTINGS: SerialSettings = SerialSettings {
    baud: 9600,
    data_bits: 7,
    parity: Parity::Even,
    stop_bits: 1,
};

pub const STX: u8 = 0x02;
pub const CR: u8 = 0x0d;
/// Asks for the weight.
pub const REQUEST_WEIGHT: &[u8] = b"W";
pub const ZERO: &[u8] = b"Z";
pub const TARE: &[u8] = b"T";
pub const CLEAR_TARE: &[u8] = b"C";

/// Polled every 150 ms: about 6.7 readings a second (at least 5 are needed).
pub const POLLING: Polling = Polling::Request {
    request: REQUEST_WEIGHT,
    interval: Duration::from_millis(150),
};

pub const STATUS_MOTION: u8 = 1 << 0;
pub const STATUS_OVER_CAPACITY: u8 = 1 << 1;
pub const STATUS_UNDER_ZERO: u8 = 1 << 2;
pub const STATUS_OUTSIDE_ZERO_RANGE: u8 = 1 << 3;
pub const STATUS_CENTRE_OF_ZERO: u8 = 1 << 4;
pub const STATUS_NET: u8 = 1 << 5;
/// Always set by real scales; masked on reading.
pub const STATUS_ALWAYS: u8 = 1 << 6;

const MAX_FRAME: usize = 12;

/// The 8217 decoder.
#[derive(Debug, Default)]
pub struct Decoder {
    frame: Vec<u8>,
    in_frame: bool,
    last: Option<Weight>,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    fn frame_done(&mut self) -> Option<Reading> {
        let body = std::mem::take(&mut self.frame);
        if let Some(status) = body.strip_prefix(b"?") {
            let [s] = status else { return None };
            return self.status(*s);
        }
        let text = std::str::from_utf8(&body).ok()?;
        let text = text.trim_matches(' ');
        let (number, net) = match text.strip_suffix('N') {
            Some(n) => (n, true),
            None => (text, false),
        };
        let number = number.trim_matches(' ');
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return None;
        }
        let grams = parse_decimal(number, 3)?;
        let w = Weight {
            grams,
            stable: true,
            net,
        };
        self.last = Some(w);
        Some(Reading::Weight(w))
    }

    fn status(&mut self, byte: u8) -> Option<Reading> {
        if byte >= 0x80 {
            return None;
        }
        let s = byte & !STATUS_ALWAYS;
        let error = if s & STATUS_OVER_CAPACITY != 0 {
            Some(ErrorCode::OverCapacity)
        } else if s & STATUS_UNDER_ZERO != 0 {
            Some(ErrorCode::UnderZero)
        } else if s & STATUS_OUTSIDE_ZERO_RANGE != 0 {
            Some(ErrorCode::NotZeroed)
        } else if s & STATUS_MOTION != 0 {
            Some(ErrorCode::Motion)
        } else {
            None
        };
        if let Some(code) = error {
            self.last = None;
            return Some(Reading::error(code));
        }
        if s & STATUS_CENTRE_OF_ZERO != 0 {
            let w = Weight {
                grams: 0,
                stable: true,
                net: s & STATUS_NET != 0,
            };
            self.last = Some(w);
            return Some(Reading::Weight(w));
        }
        // Status 0: the weight has not changed since the last weight frame.
        self.last.map(Reading::Weight)
    }
}

impl super::Decoder for Decoder {
    fn push(&mut self, bytes: &[u8]) -> Vec<Reading> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == STX {
                self.frame.clear();
                self.in_frame = true;
            } else if !self.in_frame {
                continue;
            } else if b == CR {
                self.in_frame = false;
                if let Some(r) = self.frame_done() {
                    out.push(r);
                }
            } else if self.frame.len() >= MAX_FRAME || b == b'\n' {
                self.in_frame = false;
                self.frame.clear();
            } else {
                self.frame.push(b);
            }
        }
        out
    }
}

/// Builds a weight frame (`STX   1.234 CR`, `N` before CR when net).
pub fn weight_frame(grams: u64, net: bool) -> Vec<u8> {
    let mut f = vec![STX];
    f.extend_from_slice(format!("{:>7}", kg_text(grams as i64)).as_bytes());
    if net {
        f.push(b'N');
    }
    f.push(CR);
    f
}

/// Builds a status frame (`STX ? <bits | 0x40> CR`).
pub fn status_frame(bits: u8) -> Vec<u8> {
    vec![STX, b'?', bits | STATUS_ALWAYS, CR]
}

/// A simulated 8217 scale.
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

impl Simulator {
    fn answer(&self) -> Vec<u8> {
        let s = &self.state;
        let net = if s.net() { STATUS_NET } else { 0 };
        match s.mode {
            SimMode::Silence => Vec::new(),
            SimMode::Garbage => GARBAGE.to_vec(),
            SimMode::OverCapacity => status_frame(STATUS_OVER_CAPACITY | net),
            SimMode::UnderZero => status_frame(STATUS_UNDER_ZERO | net),
            SimMode::NotZeroed => status_frame(STATUS_OUTSIDE_ZERO_RANGE | net),
            // The frame carries no unit: a pound display reads as its number.
            SimMode::Normal | SimMode::Pounds => {
                if !s.stable {
                    status_frame(STATUS_MOTION | net)
                } else if s.displayed() < 0 {
                    status_frame(STATUS_UNDER_ZERO | net)
                } else {
                    weight_frame(s.displayed() as u64, s.net())
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
    fn on_input(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for &b in bytes {
            match b {
                b'W' => out.extend(self.answer()),
                b'Z' if self.state.stable && self.state.mode != SimMode::Silence => {
                    self.state.gross = 0;
                    if matches!(self.state.mode, SimMode::NotZeroed | SimMode::UnderZero) {
                        self.state.mode = SimMode::Normal;
                    }
                }
                b'T' if self.state.stable && self.state.gross > 0 => {
                    self.state.tare = self.state.gross
                }
                b'C' => self.state.tare = 0,
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
    use super::super::simulator::SimCommand;
    use super::super::Decoder as _;
    use super::*;

    fn decode(chunks: &[&[u8]]) -> Vec<Reading> {
        let mut d = Decoder::new();
        chunks.iter().flat_map(|c| d.push(c)).collect()
    }

    #[test]
    fn serial_settings_are_9600_7e1() {
        assert_eq!(SETTINGS.baud, 9600);
        assert_eq!(SETTINGS.data_bits, 7);
        assert_eq!(SETTINGS.parity, Parity::Even);
        assert_eq!(SETTINGS.stop_bits, 1);
    }

    #[test]
    fn polls_at_least_five_times_a_second() {
        match POLLING {
            Polling::Request { request, interval } => {
                assert_eq!(request, b"W");
                assert!(interval <= Duration::from_millis(200));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn weight_frames() {
        assert_eq!(
            decode(&[b"\x02  1.234\r"]),
            [Reading::weight(1234, true, false)]
        );
        assert_eq!(
            decode(&[b"\x02  0.012N\r"]),
            [Reading::weight(12, true, true)]
        );
        assert_eq!(
            decode(&[b"\x02001.50\r"]),
            [Reading::weight(1500, true, false)]
        );
        assert_eq!(
            decode(&[b"\x02 12.000 N\r"]),
            [Reading::weight(12000, true, true)]
        );
    }

    #[test]
    fn every_status_bit() {
        let cases: [(u8, Reading); 6] = [
            (b'A', Reading::error(ErrorCode::Motion)),
            (b'B', Reading::error(ErrorCode::OverCapacity)),
            (b'D', Reading::error(ErrorCode::UnderZero)),
            (b'H', Reading::error(ErrorCode::NotZeroed)),
            (b'P', Reading::weight(0, true, false)),
            (b'p', Reading::weight(0, true, true)),
        ];
        for (byte, reading) in cases {
            assert_eq!(decode(&[&[STX, b'?', byte, CR]]), [reading], "{byte:#x}");
            // Without bit 6 too (except 0x02, which is STX).
            if byte & !0x40 != STX {
                assert_eq!(decode(&[&[STX, b'?', byte & !0x40, CR]]), [reading]);
            }
        }
        // Over capacity wins over motion; under zero over outside-zero-range.
        assert_eq!(
            decode(&[&status_frame(STATUS_MOTION | STATUS_OVER_CAPACITY)]),
            [Reading::error(ErrorCode::OverCapacity)]
        );
        assert_eq!(
            decode(&[&status_frame(STATUS_UNDER_ZERO | STATUS_OUTSIDE_ZERO_RANGE)]),
            [Reading::error(ErrorCode::UnderZero)]
        );
        // Net bit alone with no weight known: nothing to say.
        assert_eq!(decode(&[&status_frame(STATUS_NET)]), []);
    }

    #[test]
    fn status_zero_keeps_the_last_weight() {
        assert_eq!(
            decode(&[b"\x02  1.234\r", b"\x02?@\r", b"\x02?\x00\r"]),
            [Reading::weight(1234, true, false); 3]
        );
        assert_eq!(decode(&[b"\x02?@\r"]), []);
        // After motion the old weight is no longer valid.
        assert_eq!(
            decode(&[b"\x02  1.234\r", b"\x02?A\r", b"\x02?@\r"]),
            [
                Reading::weight(1234, true, false),
                Reading::error(ErrorCode::Motion)
            ]
        );
    }

    #[test]
    fn junk_and_split_frames() {
        assert_eq!(
            decode(&[b"zz\r\n\x02  1.", b"2", b"34\r\xff\x02?", b"A\r"]),
            [
                Reading::weight(1234, true, false),
                Reading::error(ErrorCode::Motion)
            ]
        );
        // A frame cut by a new STX resynchronises on the new one.
        assert_eq!(
            decode(&[b"\x02  1.2\x02  0.500\r"]),
            [Reading::weight(500, true, false)]
        );
        // Malformed bodies are skipped.
        assert_eq!(
            decode(&[b"\x02 1.2x\r\x02?AB\r\x02?\r\x02\r\x02  -\r\x02?\x80\r\x02 2.000\r"]),
            [Reading::weight(2000, true, false)]
        );
        // Overlong frames are dropped.
        assert_eq!(decode(&[b"\x020000000000000000000\r"]), []);
        // A frame without CR never completes; LF aborts it.
        assert_eq!(decode(&[b"\x02  1.000\n\x02  1.000"]), []);
    }

    #[test]
    fn simulator_answers_w_with_real_frames() {
        let mut s = Simulator::default();
        assert_eq!(s.on_input(b"W"), b"\x02  0.000\r");
        s.command(SimCommand::Weight(1234));
        assert_eq!(s.on_input(b"W"), b"\x02  1.234\r");
        s.command(SimCommand::Tare(234));
        assert_eq!(s.on_input(b"W"), b"\x02  1.000N\r");
        s.command(SimCommand::NoTare);
        s.command(SimCommand::Motion);
        assert_eq!(s.on_input(b"W"), b"\x02?A\r");
        s.command(SimCommand::Over);
        assert_eq!(s.on_input(b"W"), b"\x02?B\r");
        s.command(SimCommand::Under);
        assert_eq!(s.on_input(b"W"), b"\x02?D\r");
        s.command(SimCommand::NotZeroed);
        assert_eq!(s.on_input(b"W"), b"\x02?H\r");
        s.command(SimCommand::Weight(-12));
        assert_eq!(s.on_input(b"W"), b"\x02?D\r");
        s.command(SimCommand::Silence);
        assert_eq!(s.on_input(b"W"), b"");
        s.command(SimCommand::Garbage);
        let mut d = Decoder::new();
        assert_eq!(super::super::Decoder::push(&mut d, &s.on_input(b"WWW")), []);
    }

    #[test]
    fn simulator_zero_tare_clear() {
        let mut s = Simulator::default();
        s.command(SimCommand::Weight(500));
        s.on_input(b"T");
        assert_eq!(s.on_input(b"W"), b"\x02  0.000N\r");
        s.command(SimCommand::Weight(700));
        assert_eq!(s.on_input(b"W"), b"\x02  0.200N\r");
        s.on_input(b"C");
        assert_eq!(s.on_input(b"W"), b"\x02  0.700\r");
        s.on_input(b"Z");
        assert_eq!(s.on_input(b"W"), b"\x02  0.000\r");
    }

    #[test]
    fn simulator_and_decoder_agree() {
        let mut s = Simulator::default();
        let mut d = Decoder::new();
        for g in [0, 1, 999, 1000, 1234, 15000, 123456] {
            s.command(SimCommand::Weight(g));
            assert_eq!(d.push(&s.on_input(b"W")), [Reading::weight(g, true, false)]);
        }
    }
}
