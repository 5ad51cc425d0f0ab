//! The state every scale simulator shares, the stdin commands of `scale simulate`, and the
//! simulator trait (the protocol part: bytes from the host in, bytes to send out).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// What the simulated scale shows, besides its protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SimMode {
    /// Shows the weight.
    #[default]
    Normal,
    OverCapacity,
    UnderZero,
    /// Outside the zero range (not zeroed since power-up).
    NotZeroed,
    /// Shows a weight in pounds (on protocols whose frames carry the unit).
    Pounds,
    /// Sends nothing at all.
    Silence,
    /// Sends bytes that never form a frame.
    Garbage,
}

/// The simulated scale: starts at 0 g, stable, gross.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SimState {
    /// The load on the platter above zero, in grams (may be negative).
    pub gross: i64,
    pub stable: bool,
    /// 0 when no tare is set.
    pub tare: i64,
    pub mode: SimMode,
}

impl SimState {
    pub fn new() -> Self {
        SimState {
            stable: true,
            ..Default::default()
        }
    }

    /// The displayed weight: gross minus tare.
    pub fn displayed(&self) -> i64 {
        self.gross - self.tare
    }

    pub fn net(&self) -> bool {
        self.tare != 0
    }

    pub fn apply(&mut self, cmd: SimCommand) {
        match cmd {
            SimCommand::Weight(g) => {
                self.gross = g;
                self.stable = true;
                self.mode = SimMode::Normal;
            }
            SimCommand::Motion => {
                self.stable = false;
                self.mode = SimMode::Normal;
            }
            SimCommand::Over => self.mode = SimMode::OverCapacity,
            SimCommand::Under => self.mode = SimMode::UnderZero,
            SimCommand::NotZeroed => self.mode = SimMode::NotZeroed,
            SimCommand::Pounds => self.mode = SimMode::Pounds,
            SimCommand::Silence => self.mode = SimMode::Silence,
            SimCommand::Garbage => self.mode = SimMode::Garbage,
            SimCommand::Tare(g) => self.tare = g,
            SimCommand::NoTare => self.tare = 0,
            SimCommand::Zero => {
                self.gross = 0;
                self.stable = true;
                self.mode = SimMode::Normal;
            }
        }
    }
}

/// One `scale simulate` stdin command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimCommand {
    /// `1234`, `-12`: the load in grams, stable.
    Weight(i64),
    /// `motion`: the weight is moving.
    Motion,
    /// `over`: over capacity.
    Over,
    /// `under`: under zero.
    Under,
    /// `silence`: answer nothing.
    Silence,
    /// `garbage`: send bytes that never form a frame.
    Garbage,
    /// `tare G`: set a tare of G grams (readings become net).
    Tare(i64),
    /// `notare`: clear the tare.
    NoTare,
    /// `zero`: zero the scale (0 g, stable).
    Zero,
    /// `not-zeroed` (extension): outside the zero range.
    NotZeroed,
    /// `pounds` (extension): the display switched to pounds.
    Pounds,
}

/// A line that is no simulator command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scale simulator command {0:?} (expected grams, motion, over, under, silence, garbage, tare G, notare or zero)")]
pub struct BadSimCommand(pub String);

impl FromStr for SimCommand {
    type Err = BadSimCommand;
    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let t = line.trim();
        let bad = || BadSimCommand(t.to_string());
        let grams = |s: &str| -> Result<i64, BadSimCommand> {
            let s = s.trim();
            let digits = s.strip_prefix('-').unwrap_or(s);
            if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        };
        Ok(match t {
            "motion" => SimCommand::Motion,
            "over" => SimCommand::Over,
            "under" => SimCommand::Under,
            "silence" => SimCommand::Silence,
            "garbage" => SimCommand::Garbage,
            "notare" => SimCommand::NoTare,
            "zero" => SimCommand::Zero,
            "not-zeroed" => SimCommand::NotZeroed,
            "pounds" => SimCommand::Pounds,
            _ => match t.strip_prefix("tare ") {
                Some(g) => SimCommand::Tare(grams(g)?),
                None => SimCommand::Weight(grams(t)?),
            },
        })
    }
}

impl fmt::Display for SimCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimCommand::Weight(g) => write!(f, "{g}"),
            SimCommand::Motion => f.write_str("motion"),
            SimCommand::Over => f.write_str("over"),
            SimCommand::Under => f.write_str("under"),
            SimCommand::Silence => f.write_str("silence"),
            SimCommand::Garbage => f.write_str("garbage"),
            SimCommand::Tare(g) => write!(f, "tare {g}"),
            SimCommand::NoTare => f.write_str("notare"),
            SimCommand::Zero => f.write_str("zero"),
            SimCommand::NotZeroed => f.write_str("not-zeroed"),
            SimCommand::Pounds => f.write_str("pounds"),
        }
    }
}

/// Bytes a simulator sends in `garbage` mode: no STX, CR or LF, so never a frame.
pub const GARBAGE: &[u8] = b"\x7f#~?junk\xfe\x13";

/// The protocol side of a simulated scale (sans-IO): the pty server feeds it what the host
/// wrote and sends what it returns; streaming protocols also get a tick every
/// `stream_interval`.
pub trait ScaleSimulator: Send {
    fn state(&self) -> &SimState;
    fn state_mut(&mut self) -> &mut SimState;
    /// Applies a stdin command.
    fn command(&mut self, cmd: SimCommand) {
        self.state_mut().apply(cmd)
    }
    /// Bytes written by the host (requests, any split); returns the answer bytes.
    fn on_input(&mut self, bytes: &[u8]) -> Vec<u8>;
    /// For streaming protocols, how often a frame goes out.
    fn stream_interval(&self) -> Option<Duration>;
    /// The frame streamed now (empty when silent).
    fn on_tick(&mut self) -> Vec<u8>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_stdin_commands() {
        let cases = [
            ("1234", SimCommand::Weight(1234)),
            ("-12", SimCommand::Weight(-12)),
            ("0", SimCommand::Weight(0)),
            ("motion", SimCommand::Motion),
            ("over", SimCommand::Over),
            ("under", SimCommand::Under),
            ("silence", SimCommand::Silence),
            ("garbage", SimCommand::Garbage),
            ("tare 150", SimCommand::Tare(150)),
            ("notare", SimCommand::NoTare),
            (" zero\r", SimCommand::Zero),
        ];
        for (line, cmd) in cases {
            assert_eq!(line.parse::<SimCommand>(), Ok(cmd), "{line}");
            assert_eq!(cmd.to_string().parse::<SimCommand>(), Ok(cmd));
        }
        for bad in [
            "",
            "12.5",
            "1e3",
            "tare",
            "tare x",
            "--1",
            "- 1",
            "12345678901",
            "weigh",
        ] {
            assert!(bad.parse::<SimCommand>().is_err(), "{bad}");
        }
    }

    #[test]
    fn state_follows_commands() {
        let mut s = SimState::new();
        assert_eq!((s.displayed(), s.stable, s.net()), (0, true, false));
        s.apply(SimCommand::Weight(1234));
        s.apply(SimCommand::Tare(200));
        assert_eq!((s.displayed(), s.net()), (1034, true));
        s.apply(SimCommand::Motion);
        assert!(!s.stable);
        s.apply(SimCommand::Over);
        assert_eq!(s.mode, SimMode::OverCapacity);
        s.apply(SimCommand::Weight(10));
        assert_eq!((s.mode, s.stable), (SimMode::Normal, true));
        s.apply(SimCommand::NoTare);
        s.apply(SimCommand::Zero);
        assert_eq!(s.displayed(), 0);
    }
}
