//! The serial QR card scanner's worker: reads lines, decodes card payloads, reports each scan
//! as a token or a refusal code. Junk never becomes a token: the payload's check code refuses
//! a misread before any look-up.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use comptoir_hardware::cards::{decode_scan, ScanLineReader};
use comptoir_hardware::transport::SerialSettings;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannerEvent {
    Connected,
    Disconnected {
        reason: String,
    },
    /// A card: its token as stored in the database (lowercase hex).
    Card {
        token: String,
    },
    /// Something that is not a valid card: `CardError::as_str()` (`bad_check`, `too_long`...).
    Refused {
        code: &'static str,
    },
}

/// Longer lines are not cards (a card's text is 40 characters).
pub const MAX_LINE: usize = 128;

/// What a scanned line is: a card's token, or a refusal.
pub fn scan_event(line: &str) -> ScannerEvent {
    if line.len() > MAX_LINE {
        return ScannerEvent::Refused { code: "too_long" };
    }
    match decode_scan(line) {
        Ok(card) => ScannerEvent::Card {
            token: card.token_hex(),
        },
        Err(e) => ScannerEvent::Refused { code: e.as_str() },
    }
}

/// Reads scans from a serial scanner until `stop`; reopens the port every second when lost.
pub fn run(
    port: &Path,
    settings: &SerialSettings,
    mut emit: impl FnMut(ScannerEvent),
    stop: &AtomicBool,
) {
    let mut reported_down = false;
    while !stop.load(Ordering::Relaxed) {
        let mut link = match comptoir_hardware::scale::driver::open_port(port, settings) {
            Ok(l) => l,
            Err(e) => {
                if !reported_down {
                    emit(ScannerEvent::Disconnected {
                        reason: e.to_string(),
                    });
                    reported_down = true;
                }
                sleep_unless(stop, Duration::from_secs(1));
                continue;
            }
        };
        reported_down = false;
        emit(ScannerEvent::Connected);
        let mut reader = ScanLineReader::new();
        let mut buf = [0u8; 256];
        while !stop.load(Ordering::Relaxed) {
            match link.read(&mut buf) {
                Ok(0) => {
                    emit(ScannerEvent::Disconnected {
                        reason: "end of file".into(),
                    });
                    reported_down = true;
                    break;
                }
                Ok(n) => {
                    for line in reader.push(&buf[..n]) {
                        let event = match line.and_then(|text| decode_scan(&text)) {
                            Ok(card) => ScannerEvent::Card {
                                token: card.token_hex(),
                            },
                            Err(e) => ScannerEvent::Refused { code: e.as_str() },
                        };
                        emit(event);
                    }
                }
                Err(e)
                    if e.kind() == std::io::ErrorKind::TimedOut
                        || e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    emit(ScannerEvent::Disconnected {
                        reason: e.to_string(),
                    });
                    reported_down = true;
                    sleep_unless(stop, Duration::from_secs(1));
                    break;
                }
            }
        }
    }
}

/// Sleeps up to `d`, waking early when `stop` is set.
pub(crate) fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let step = Duration::from_millis(50);
    let mut left = d;
    while !stop.load(Ordering::Relaxed) && !left.is_zero() {
        let s = left.min(step);
        std::thread::sleep(s);
        left -= s;
    }
}
