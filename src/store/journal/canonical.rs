//! Canonical JSON (the module above says what it is) and the chain's hash.

use super::*;

/// Why a value has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("{path}: {number} is not an integer (amounts are integer cents, weights grams)")]
    NotInteger { path: String, number: String },
    #[error("{path}: {number} is outside the signed 64-bit range")]
    OutOfRange { path: String, number: String },
    #[error("not JSON: {0}")]
    Syntax(String),
    #[error("not in canonical form")]
    NotCanonical,
}

impl CanonicalError {
    fn within(self, segment: &str) -> Self {
        match self {
            CanonicalError::NotInteger { path, number } => CanonicalError::NotInteger {
                path: format!("{segment}{path}"),
                number,
            },
            CanonicalError::OutOfRange { path, number } => CanonicalError::OutOfRange {
                path: format!("{segment}{path}"),
                number,
            },
            other => other,
        }
    }
}

/// The canonical JSON text of `value` (see the module documentation).
pub fn canonical_json(value: &Value) -> Result<String, CanonicalError> {
    let mut out = String::with_capacity(256);
    write_canonical(value, &mut out).map_err(|e| e.within("$"))?;
    Ok(out)
}

/// Parses `text` and checks that it is exactly its own canonical form.
pub fn parse_canonical(text: &str) -> Result<Value, CanonicalError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| CanonicalError::Syntax(e.to_string()))?;
    if canonical_json(&value)? != text {
        return Err(CanonicalError::NotCanonical);
    }
    Ok(value)
}

pub(super) fn write_canonical(value: &Value, out: &mut String) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if n.is_u64() {
                return Err(CanonicalError::OutOfRange {
                    path: String::new(),
                    number: n.to_string(),
                });
            } else {
                return Err(CanonicalError::NotInteger {
                    path: String::new(),
                    number: n.to_string(),
                });
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out).map_err(|e| e.within(&format!("[{i}]")))?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sorted here, whatever order the map keeps (serde_json's `preserve_order`).
            let sorted: BTreeMap<&str, &Value> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
            out.push('{');
            for (i, (key, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_canonical(item, out).map_err(|e| e.within(&format!(".{key}")))?;
            }
            out.push('}');
        }
    }
    Ok(())
}

pub(crate) fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // `i` is an ASCII byte, hence a char boundary.
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

// ---------------------------------------------------------------------------------------------
// Hashing

pub(super) fn hash_raw(prev: &[u8; 32], payload: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(payload);
    hasher.finalize().into()
}

pub(super) fn decode_hash(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut raw = [0u8; 32];
    hex::decode_to_slice(text, &mut raw).ok()?;
    Some(raw)
}

/// `SHA-256(prev_hash as 32 raw bytes || payload)` in lowercase hex; `None` when `prev_hash` is
/// not 64 lowercase hex digits.
pub fn entry_hash(prev_hash: &str, payload: &str) -> Option<String> {
    let prev = decode_hash(prev_hash)?;
    Some(hex::encode(hash_raw(&prev, payload.as_bytes())))
}
