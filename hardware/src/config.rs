//! The device sections of the kiosk's TOML config (`[scale]`, `[printer]`, `[scanner]`),
//! as serde structs the app embeds in its own config type.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::printer::{Mode, Paper};
use crate::scale::{DriverConfig, Protocol};
use crate::transport::{Parity, SerialSettings};

/// `[scale]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleSection {
    pub protocol: Protocol,
    pub port: PathBuf,
    /// Serial settings; each defaults to the protocol's own.
    pub baud: Option<u32>,
    pub data_bits: Option<u8>,
    pub parity: Option<Parity>,
    pub stop_bits: Option<u8>,
    /// Maximum capacity (Max) in grams, for the metrology guards.
    pub capacity_g: Option<i64>,
    /// Minimum net weight accepted (Min) in grams.
    pub min_net_g: Option<i64>,
}

impl ScaleSection {
    pub fn settings(&self) -> SerialSettings {
        self.protocol.settings().with_overrides(
            self.baud,
            self.data_bits,
            self.parity,
            self.stop_bits,
        )
    }

    pub fn driver_config(&self) -> DriverConfig {
        DriverConfig {
            settings: self.settings(),
            ..DriverConfig::new(self.protocol, self.port.clone())
        }
    }
}

/// `[printer]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterSection {
    /// A serial port (`/dev/comptoir-printer`, `/dev/ttyUSB1`) or a USB printer
    /// (`/dev/usb/lp0`).
    pub port: PathBuf,
    /// `raster` or `text`; default: raster on USB printers and at 115200 baud and above,
    /// text on slower serial links (see [`PrinterSection::mode`]).
    #[serde(default)]
    pub mode: Option<Mode>,
    /// 384 (58 mm) or 576 (80 mm).
    #[serde(default = "default_width")]
    pub width_dots: u32,
    pub baud: Option<u32>,
    /// A cash drawer hangs on the printer.
    #[serde(default)]
    pub drawer: bool,
}

fn default_width() -> u32 {
    576
}

impl PrinterSection {
    pub fn paper(&self) -> Option<Paper> {
        Paper::from_dots(self.width_dots)
    }

    /// Whether the port is a USB printer class device rather than a serial port.
    pub fn is_usb_lp(&self) -> bool {
        self.port.to_string_lossy().contains("/usb/lp")
    }

    pub fn settings(&self) -> SerialSettings {
        SerialSettings::n81(self.baud.unwrap_or(9600))
    }

    /// The configured mode, or the default for this link.
    pub fn mode(&self) -> Mode {
        self.mode
            .unwrap_or(if self.is_usb_lp() || self.settings().baud >= 115_200 {
                Mode::Raster
            } else {
                Mode::Text
            })
    }
}

/// How the QR card scanner is connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ScannerKind {
    /// A serial (or USB CDC) scanner sending lines.
    #[default]
    Serial,
    /// A keyboard-wedge scanner typing into the focused field.
    Wedge,
}

/// `[scanner]`: `port = "/dev/comptoir-scanner"` or `kind = "wedge"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerSection {
    #[serde(default)]
    pub kind: ScannerKind,
    pub port: Option<PathBuf>,
    pub baud: Option<u32>,
}

impl ScannerSection {
    pub fn settings(&self) -> SerialSettings {
        SerialSettings::n81(self.baud.unwrap_or(9600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Example {
        timezone: String,
        scale: ScaleSection,
        printer: PrinterSection,
        scanner: ScannerSection,
    }

    #[test]
    fn the_example_config_parses() {
        let ex: Example = toml::from_str(include_str!("../pi/config.example.toml")).unwrap();
        assert_eq!(ex.timezone, "Europe/Paris");
        assert_eq!(ex.scale.protocol, Protocol::Toledo8217);
        assert_eq!(ex.scale.settings(), crate::scale::toledo8217::SETTINGS);
        assert_eq!(ex.scale.capacity_g, Some(15000));
        assert_eq!(ex.printer.paper(), Some(Paper::Mm80));
        assert_eq!(ex.printer.mode(), Mode::Raster);
        assert!(ex.printer.drawer);
        assert_eq!(ex.scanner.kind, ScannerKind::Serial);
    }

    #[test]
    fn defaults_and_overrides() {
        let s: ScaleSection = toml::from_str(
            "protocol = \"adam-print\"\nport = \"/dev/ttyUSB0\"\nbaud = 4800\nparity = \"odd\"",
        )
        .unwrap();
        let set = s.settings();
        assert_eq!(
            (set.baud, set.data_bits, set.parity, set.stop_bits),
            (4800, 8, Parity::Odd, 1)
        );
        let p: PrinterSection = toml::from_str("port = \"/dev/ttyUSB1\"").unwrap();
        assert_eq!((p.mode(), p.width_dots, p.drawer), (Mode::Text, 576, false));
        let p: PrinterSection =
            toml::from_str("port = \"/dev/usb/lp0\"\nwidth_dots = 384").unwrap();
        assert_eq!((p.mode(), p.paper()), (Mode::Raster, Some(Paper::Mm58)));
        let w: ScannerSection = toml::from_str("kind = \"wedge\"").unwrap();
        assert_eq!((w.kind, w.port), (ScannerKind::Wedge, None));
        assert!(toml::from_str::<ScaleSection>("protocol = \"adam_print\"\nport = \"x\"").is_err());
    }
}
