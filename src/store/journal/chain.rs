//! Verification: the chain, the hashes, the signed entries and the anchors they carry.

use super::*;

/// What an intact journal holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: u64,
    /// 0 for an empty journal.
    pub last_seq: i64,
    /// [`ZERO_HASH`] for an empty journal.
    pub last_hash: String,
    pub closures: u64,
    pub keys: u64,
    /// The first `key_registered` entry after the first that neither the previous key nor a
    /// registered recovery key attests (the first key of a journal is attested by nothing).
    pub unattested: Option<i64>,
    /// The ledger heads written into entries (`ledgers`), in journal order.
    pub anchors: Vec<Anchor>,
}

/// A ledger's head as an entry of the journal recorded it (see `store::ledger`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The journal entry that carries it.
    pub entry_seq: i64,
    pub ledger: String,
    /// 0 and [`ZERO_HASH`] for a ledger that was empty then.
    pub seq: i64,
    pub hash: String,
}

/// What [`verify_with`] shows its visitor of each entry, once its hash and signature are
/// checked.
pub struct Visited<'a> {
    pub seq: i64,
    pub kind: &'a str,
    pub time_utc: &'a str,
    pub payload: &'a str,
}

#[derive(serde::Deserialize)]
pub(super) struct PayloadHead<'a> {
    seq: i64,
    #[serde(borrow)]
    kiosk_id: Cow<'a, str>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    time_utc: Cow<'a, str>,
    #[serde(default)]
    ledgers: Option<Value>,
}

/// The public key a closure must be signed with: the most recent registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisteredKey {
    pub seq: i64,
    pub public_key: VerifyingKey,
}

/// Checks a signed payload; returns its members.
pub(super) fn check_signed(
    payload: &str,
    key: &VerifyingKey,
) -> Result<Map<String, Value>, String> {
    let value = parse_canonical(payload).map_err(|e| format!("signed payload: {e}"))?;
    let Value::Object(mut map) = value else {
        return Err("payload is not a JSON object".into());
    };
    let signature = map.remove("signature").ok_or("no signature")?;
    let mut raw = [0u8; 64];
    match signature.as_str() {
        Some(text) if text.len() == 128 && hex::decode_to_slice(text, &mut raw).is_ok() => {}
        _ => return Err("signature is not 128 hex digits".into()),
    }
    let map_value = Value::Object(map);
    let message = canonical_json(&map_value).map_err(|e| e.to_string())?;
    key.verify_strict(message.as_bytes(), &Signature::from_bytes(&raw))
        .map_err(|_| "signature does not match the registered key".to_string())?;
    match map_value {
        Value::Object(map) => Ok(map),
        _ => unreachable!(),
    }
}

pub(super) fn public_key_of(map: &Map<String, Value>) -> Result<VerifyingKey, String> {
    if map.get("algorithm").and_then(Value::as_str) != Some("ed25519") {
        return Err("algorithm is not ed25519".into());
    }
    let mut raw = [0u8; 32];
    match map.get("public_key").and_then(Value::as_str) {
        Some(text) if text.len() == 64 && hex::decode_to_slice(text, &mut raw).is_ok() => {}
        _ => return Err("public_key is not 64 hex digits".into()),
    }
    VerifyingKey::from_bytes(&raw).map_err(|_| "public_key is not an Ed25519 point".to_string())
}

/// Recomputes the whole chain of this kiosk in one ordered scan and checks every signature.
/// `Err(JournalError::Broken { seq, reason })` names the first fault. A key change nobody
/// attests is not an error here: [`VerifyReport::unattested`] says where it is.
pub fn verify(conn: &Connection) -> Result<VerifyReport> {
    verify_with(conn, &mut |_| Ok(()))
}

pub(super) fn anchors_of(entry_seq: i64, value: &Value) -> Result<Vec<Anchor>, String> {
    let Value::Object(map) = value else {
        return Err("ledgers is not an object".into());
    };
    let mut out = Vec::with_capacity(map.len());
    for (ledger, head) in map {
        let seq = head.get("seq").and_then(Value::as_i64);
        let hash = head.get("hash").and_then(Value::as_str);
        match (seq, hash) {
            (Some(seq), Some(hash)) if seq >= 0 && decode_hash(hash).is_some() => {
                out.push(Anchor {
                    entry_seq,
                    ledger: ledger.clone(),
                    seq,
                    hash: hash.into(),
                })
            }
            _ => return Err(format!("ledgers.{ledger} is not {{\"seq\",\"hash\"}}")),
        }
    }
    Ok(out)
}

/// Checks a `key_registered` entry's attestation against the keys known before it: the
/// current key (`attested_by` `previous`) or the recovery key (`recovery`). `Ok(false)` when
/// there is none or it does not hold.
pub(super) fn attested(
    map: &Map<String, Value>,
    current: Option<RegisteredKey>,
    recovery: Option<RegisteredKey>,
) -> bool {
    let by = map.get("attested_by").and_then(Value::as_str);
    let key_seq = map.get("attested_key_seq").and_then(Value::as_i64);
    let attester = match by {
        Some("previous") => current,
        Some("recovery") => recovery,
        _ => None,
    };
    let (Some(attester), Some(key_seq)) = (attester, key_seq) else {
        return false;
    };
    if attester.seq != key_seq {
        return false;
    }
    let mut raw = [0u8; 64];
    match map.get("attestation").and_then(Value::as_str) {
        Some(text) if text.len() == 128 && hex::decode_to_slice(text, &mut raw).is_ok() => {}
        _ => return false,
    }
    let mut message = map.clone();
    message.remove("attestation");
    message.remove("signature");
    let Ok(text) = canonical_json(&Value::Object(message)) else {
        return false;
    };
    attester
        .public_key
        .verify_strict(text.as_bytes(), &Signature::from_bytes(&raw))
        .is_ok()
}

/// [`verify`], calling `visit` with each entry once its chain link, hash and signature hold;
/// an `Err(reason)` from it is reported as the entry's fault.
pub fn verify_with(
    conn: &Connection,
    visit: &mut dyn FnMut(&Visited<'_>) -> Result<(), String>,
) -> Result<VerifyReport> {
    let expected_kiosk: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'kiosk_id'", [], |r| {
            r.get(0)
        })
        .optional()?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM journal ORDER BY kiosk_id, seq"
    ))?;
    let mut rows = stmt.query([])?;
    let mut report = VerifyReport {
        entries: 0,
        last_seq: 0,
        last_hash: ZERO_HASH.into(),
        closures: 0,
        keys: 0,
        unattested: None,
        anchors: Vec::new(),
    };
    let mut kiosk: Option<String> = expected_kiosk;
    let mut recovery: Option<RegisteredKey> = None;
    let mut prev_raw = [0u8; 32];
    let mut prev_hex = [b'0'; 64];
    let mut computed_hex = [0u8; 64];
    let mut key: Option<RegisteredKey> = None;
    while let Some(row) = rows.next()? {
        let expected_seq = report.last_seq + 1;
        let broken = |reason: String| JournalError::Broken {
            seq: expected_seq,
            reason,
        };
        let text = |i: usize| -> Result<&str> {
            row.get_ref(i)?
                .as_str()
                .map_err(|_| broken(format!("column {i} is not text")))
        };
        let seq: i64 = row
            .get(0)
            .map_err(|_| broken("seq is not an integer".into()))?;
        let row_kiosk = text(1)?;
        let kind = text(2)?;
        let time_utc = text(3)?;
        let payload = text(4)?;
        let prev_hash = text(5)?;
        let hash = text(6)?;
        match &kiosk {
            None => kiosk = Some(row_kiosk.to_string()),
            Some(k) if k != row_kiosk => {
                return Err(JournalError::Broken {
                    seq,
                    reason: format!("entry of another kiosk ({row_kiosk})"),
                });
            }
            Some(_) => {}
        }
        if seq != expected_seq {
            let reason = if seq > expected_seq {
                format!("entry missing (the next one is {seq})")
            } else {
                format!("entry out of sequence (found {seq})")
            };
            return Err(broken(reason));
        }
        if prev_hash.as_bytes() != prev_hex {
            return Err(broken(
                "prev_hash does not link to the previous entry".into(),
            ));
        }
        let raw = hash_raw(&prev_raw, payload.as_bytes());
        hex::encode_to_slice(raw, &mut computed_hex).expect("64 hex digits");
        if hash.as_bytes() != computed_hex {
            return Err(broken("hash does not match the payload".into()));
        }
        let head: PayloadHead<'_> =
            serde_json::from_str(payload).map_err(|e| broken(format!("payload: {e}")))?;
        if head.seq != seq
            || head.kind != kind
            || head.kiosk_id != row_kiosk
            || head.time_utc != time_utc
        {
            return Err(broken(
                "payload's seq, kind, kiosk_id or time_utc differ from the row".into(),
            ));
        }
        if kind == KIND_KEY_REGISTERED {
            let map = serde_json::from_str::<Map<String, Value>>(payload)
                .map_err(|e| broken(format!("payload: {e}")))?;
            let public_key = public_key_of(&map).map_err(broken)?;
            check_signed(payload, &public_key).map_err(broken)?;
            if key.is_some() && report.unattested.is_none() && !attested(&map, key, recovery) {
                report.unattested = Some(seq);
            }
            key = Some(RegisteredKey { seq, public_key });
            report.keys += 1;
        } else if kind == KIND_RECOVERY_KEY {
            let current = key.ok_or_else(|| {
                broken("recovery key registered before any key_registered entry".into())
            })?;
            let map = check_signed(payload, &current.public_key).map_err(broken)?;
            if map.get("key_seq").and_then(Value::as_i64) != Some(current.seq) {
                return Err(broken(format!(
                    "key_seq is not {}, the latest key_registered entry",
                    current.seq
                )));
            }
            if map.get("prev_hash").and_then(Value::as_str) != Some(prev_hash) {
                return Err(broken("the signed prev_hash differs from the row's".into()));
            }
            let public_key = public_key_of(&map).map_err(broken)?;
            recovery = Some(RegisteredKey { seq, public_key });
        } else if kind == KIND_CLOSURE {
            let current =
                key.ok_or_else(|| broken("closure before any key_registered entry".into()))?;
            let map = check_signed(payload, &current.public_key).map_err(broken)?;
            if map.get("key_seq").and_then(Value::as_i64) != Some(current.seq) {
                return Err(broken(format!(
                    "key_seq is not {}, the latest key_registered entry",
                    current.seq
                )));
            }
            if map.get("prev_hash").and_then(Value::as_str) != Some(prev_hash) {
                return Err(broken("the signed prev_hash differs from the row's".into()));
            }
            report.closures += 1;
        }
        if let Some(ledgers) = &head.ledgers {
            report
                .anchors
                .extend(anchors_of(seq, ledgers).map_err(broken)?);
        }
        visit(&Visited {
            seq,
            kind,
            time_utc,
            payload,
        })
        .map_err(broken)?;
        prev_raw = raw;
        prev_hex = computed_hex;
        report.entries += 1;
        report.last_seq = seq;
    }
    report.last_hash = String::from_utf8(prev_hex.to_vec()).expect("hex is ASCII");
    Ok(report)
}
