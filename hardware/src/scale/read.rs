//! `comptoir scale read`: a few readings from a port, one line each.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::driver::{Session, ANSWER_TIMEOUT, READ_TIMEOUT};
use super::Protocol;
use crate::transport::{open_serial, SerialSettings, Transport};

/// Why `scale read` failed (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum ScaleReadError {
    #[error("cannot open {port}: {source}")]
    Open { port: PathBuf, source: io::Error },
    #[error("lost {port}: {source}")]
    Lost { port: PathBuf, source: io::Error },
    #[error("cannot write the output: {0}")]
    Output(io::Error),
}

/// Reads `count` readings from the scale at `port` with the protocol's own serial settings
/// and writes one line each to `out`: with `json`, `{"grams":-12,"stable":false,"net":false}`
/// or `{"error":"motion"}`; without, `1234 g stable gross` or `error no_answer`.
/// `no_answer` (no bytes) and `garbage` (bytes but no frame) come after 2 s without a valid
/// frame, and count as lines. Polled protocols are polled (adam-print included). Never
/// zeroes or tares.
///
/// Errors (exit 1): the port cannot be opened, or disappears while reading.
pub fn scale_read(
    protocol: Protocol,
    port: &Path,
    count: usize,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), ScaleReadError> {
    scale_read_with(protocol, port, protocol.settings(), count, json, out)
}

/// [`scale_read`] with explicit serial settings (from the config file).
pub fn scale_read_with(
    protocol: Protocol,
    port: &Path,
    settings: SerialSettings,
    count: usize,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), ScaleReadError> {
    let transport =
        open_serial(port, &settings, READ_TIMEOUT).map_err(|source| ScaleReadError::Open {
            port: port.to_path_buf(),
            source,
        })?;
    read_from(protocol, transport, count, json, out).map_err(|e| match e {
        ReadFailure::Lost(source) => ScaleReadError::Lost {
            port: port.to_path_buf(),
            source,
        },
        ReadFailure::Output(e) => ScaleReadError::Output(e),
    })
}

pub(crate) enum ReadFailure {
    Lost(io::Error),
    Output(io::Error),
}

pub(crate) fn read_from<T: Transport>(
    protocol: Protocol,
    mut transport: T,
    count: usize,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), ReadFailure> {
    let _ = transport.clear_input();
    let mut session = Session::new(protocol, transport, ANSWER_TIMEOUT);
    let mut written = 0;
    while written < count {
        for r in session.step().map_err(ReadFailure::Lost)? {
            if written == count {
                break;
            }
            let line = if json { r.to_json() } else { r.to_string() };
            writeln!(out, "{line}").map_err(ReadFailure::Output)?;
            out.flush().map_err(ReadFailure::Output)?;
            written += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::ScriptedTransport;

    #[test]
    fn prints_contract_lines() {
        let mut t = ScriptedTransport::default();
        t.incoming
            .push_back(b"\x02  1.234\r\x02?A\r\x02  0.012N\r".to_vec());
        let mut out = Vec::new();
        assert!(read_from(Protocol::Toledo8217, t, 3, false, &mut out).is_ok());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1234 g stable gross\nerror motion\n12 g stable net\n"
        );
        let mut t = ScriptedTransport::default();
        t.incoming.push_back(b"\r\nUS,GS,-  0.012kg\r\n".to_vec());
        let mut out = Vec::new();
        assert!(read_from(Protocol::Continuous, t, 1, true, &mut out).is_ok());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"grams\":-12,\"stable\":false,\"net\":false}\n"
        );
    }

    #[test]
    fn open_failure_is_an_error() {
        let mut out = Vec::new();
        let err = scale_read(
            Protocol::Toledo8217,
            Path::new("/nonexistent/tty"),
            1,
            false,
            &mut out,
        )
        .unwrap_err();
        assert!(matches!(err, ScaleReadError::Open { .. }));
    }
}
