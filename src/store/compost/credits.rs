//! The credits ledger, chained like the journal.

use super::*;

/// One row of the credits ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditEntry {
    pub seq: i64,
    pub time_utc: String,
    pub resident_id: i64,
    pub kind: String,
    pub cents: i64,
    pub deposit_id: Option<i64>,
    pub sale_seq: Option<i64>,
    pub hash: String,
}

/// A resident's balance: the sum of their moves.
pub fn balance(conn: &Connection, resident_id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT coalesce(sum(cents), 0) FROM credit_ledger WHERE resident_id = ?1")?
        .query_row([resident_id], |r| r.get(0))
}

/// Appends a move to the credits ledger (inside the caller's transaction). A spend above the
/// balance is refused.
pub fn append_credit(
    conn: &Connection,
    resident_id: i64,
    mv: CreditMove,
    deposit_id: Option<i64>,
    sale_seq: Option<i64>,
    now_utc: &str,
) -> Result<CreditEntry> {
    let cents = mv.delta();
    if cents < 0 {
        let have = balance(conn, resident_id)?;
        if have + cents < 0 {
            return Err(CompostError::AboveBalance {
                balance: have,
                wanted: -cents,
            });
        }
    }
    let kiosk_id = crate::store::meta::kiosk_id(conn)?;
    let last: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT seq, hash FROM credit_ledger WHERE kiosk_id = ?1 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([&kiosk_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, ZERO_HASH.to_string()),
    };
    let payload = credit_payload(
        seq,
        &kiosk_id,
        now_utc,
        resident_id,
        mv.code(),
        cents,
        deposit_id,
        sale_seq,
    )?;
    let hash = entry_hash(&prev_hash, &payload)
        .ok_or_else(|| CompostError::Canonical("bad previous hash".into()))?;
    conn.prepare_cached(
        "INSERT INTO credit_ledger (seq, kiosk_id, time_utc, resident_id, kind, cents, deposit_id,
             sale_seq, payload, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        seq,
        kiosk_id,
        now_utc,
        resident_id,
        mv.code(),
        cents,
        deposit_id,
        sale_seq,
        payload,
        prev_hash,
        hash
    ])?;
    Ok(CreditEntry {
        seq,
        time_utc: now_utc.into(),
        resident_id,
        kind: mv.code().into(),
        cents,
        deposit_id,
        sale_seq,
        hash,
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) fn credit_payload(
    seq: i64,
    kiosk_id: &str,
    time_utc: &str,
    resident_id: i64,
    kind: &str,
    cents: i64,
    deposit_id: Option<i64>,
    sale_seq: Option<i64>,
) -> Result<String> {
    let v = json!({
        "seq": seq,
        "kiosk_id": kiosk_id,
        "time_utc": time_utc,
        "resident_id": resident_id,
        "kind": kind,
        "cents": cents,
        "deposit_id": deposit_id,
        "sale_seq": sale_seq,
    });
    canonical_json(&v).map_err(|e| CompostError::Canonical(e.to_string()))
}

/// Recomputes the credits chain: the number of entries, or the first broken seq. Each stored
/// payload is hashed as stored and must say what the columns say.
pub fn verify_credits(conn: &Connection) -> Result<i64> {
    let mut stmt = conn.prepare(
        "SELECT seq, kiosk_id, time_utc, resident_id, kind, cents, deposit_id, sale_seq, payload,
                prev_hash, hash
         FROM credit_ledger ORDER BY kiosk_id, seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_prev: Option<(String, i64, String)> = None;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let kiosk: String = r.get(1)?;
        let payload: String = r.get(8)?;
        let prev: String = r.get(9)?;
        let hash: String = r.get(10)?;
        let broken = |reason: &str| CompostError::Broken {
            seq,
            reason: reason.into(),
        };
        let (want_seq, want_prev) = match &expected_prev {
            Some((k, s, h)) if *k == kiosk => (s + 1, h.clone()),
            _ => (1, ZERO_HASH.to_string()),
        };
        if seq != want_seq {
            return Err(CompostError::Broken {
                seq: want_seq,
                reason: "missing entry".into(),
            });
        }
        if prev != want_prev {
            return Err(broken("prev_hash is not the previous hash"));
        }
        if entry_hash(&prev, &payload).as_deref() != Some(hash.as_str()) {
            return Err(broken("hash does not match the payload"));
        }
        let columns = credit_payload(
            seq,
            &kiosk,
            &r.get::<_, String>(2)?,
            r.get(3)?,
            &r.get::<_, String>(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        )?;
        if columns != payload {
            return Err(broken("columns differ from the payload"));
        }
        expected_prev = Some((kiosk, seq, hash));
        n += 1;
    }
    Ok(n)
}

/// The resident whose credits paid for the sale `sale_seq`, and how much.
pub fn credits_spent_on_sale(
    conn: &Connection,
    sale_seq: i64,
) -> rusqlite::Result<Option<(i64, i64)>> {
    conn.query_row(
        "SELECT resident_id, -sum(cents) FROM credit_ledger WHERE sale_seq = ?1 AND kind = 'spent'
         GROUP BY resident_id",
        [sale_seq],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// A resident's credit moves, oldest first.
pub fn credit_moves(conn: &Connection, resident_id: i64) -> rusqlite::Result<Vec<CreditEntry>> {
    let mut stmt = conn.prepare(
        "SELECT seq, time_utc, resident_id, kind, cents, deposit_id, sale_seq, hash
         FROM credit_ledger WHERE resident_id = ?1 ORDER BY kiosk_id, seq",
    )?;
    let rows = stmt.query_map([resident_id], |r| {
        Ok(CreditEntry {
            seq: r.get(0)?,
            time_utc: r.get(1)?,
            resident_id: r.get(2)?,
            kind: r.get(3)?,
            cents: r.get(4)?,
            deposit_id: r.get(5)?,
            sale_seq: r.get(6)?,
            hash: r.get(7)?,
        })
    })?;
    rows.collect()
}
