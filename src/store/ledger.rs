//! Hash chains over the append-only ledgers that are not journal entries themselves.
//!
//! # Why
//!
//! Triggers refuse UPDATE and DELETE on every ledger, but someone with `sqlite3` drops them.
//! Each row of the ledgers below is therefore chained, per ledger, in one side table,
//! `ledger_chain (kiosk_id, ledger, seq, row_id, prev_hash, hash)`, filled by the store in the
//! same transaction as the row ([`chain_row`], called by every insert site). `journal verify`
//! recomputes every link ([`verify`]): a row edited, deleted or inserted behind the app's back
//! is `broken: <ledger> seq N: ...`. A hub ingesting rows keyed by `(kiosk_id, ledger, seq)`
//! can check each row the same way.
//!
//! Each ledger's head `(seq, hash)` is written into the journal (member `ledgers` of every
//! closure, signed with it, and of every `technical` entry): a ledger rewritten and re-chained
//! before the last anchor no longer reaches the anchored hash. Rows after the last anchor are
//! still checked against their chain, which someone who re-chains them can forge: only the
//! next anchor (or a witness outside the database) shows it.
//!
//! # Hash
//!
//! `hash = SHA-256(prev_hash as 32 raw bytes || payload)` in lowercase hex, the first
//! `prev_hash` being 32 zero bytes, as in the journal. `payload` is the canonical JSON
//! (`journal::canonical_json`) of `{"kiosk_id":K,"ledger":L,"row":{COLUMN:VALUE...},"seq":N}`
//! with the columns of [`LEDGERS`] (integers, text, null); a stock move's row also holds
//! `flows`, its `lot_flows` rows `[{"lot_id","product_id","qty"}]` in insertion order.
//!
//! # Which ledgers
//!
//! [`LEDGERS`]: deposits, harvests, stock_moves (with lot_flows), stock_corrections,
//! staff_events, resident_events, compost_bin_log. The credits ledger has its own chain
//! (`store::compost`) and cash movements are each a journal entry (`store::audit` checks each
//! row against it); both heads are anchored too (`credits`; cash movements by the journal).

use std::collections::HashMap;
use std::fmt::Write as _;

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::journal::{canonical_json, entry_hash, write_string, Anchor, ZERO_HASH};

/// One chained ledger: its table, the column that identifies a row, the columns hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerDef {
    /// The name in `ledger_chain` and in messages.
    pub name: &'static str,
    pub table: &'static str,
    /// The INTEGER PRIMARY KEY column (rowid alias).
    pub id: &'static str,
    pub columns: &'static [&'static str],
    /// The move's `lot_flows` go into its payload.
    pub with_flows: bool,
}

pub const DEPOSITS: LedgerDef = LedgerDef {
    name: "deposits",
    table: "deposits",
    id: "id",
    columns: &[
        "id",
        "kiosk_id",
        "time_utc",
        "resident_id",
        "source",
        "kind",
        "gross_g",
        "tare_g",
        "tare_source",
        "net_g",
        "co2e_g",
        "credits_cents",
        "bin_id",
        "reference",
    ],
    with_flows: false,
};

pub const HARVESTS: LedgerDef = LedgerDef {
    name: "harvests",
    table: "harvests",
    id: "id",
    columns: &[
        "id",
        "time_utc",
        "date",
        "product_id",
        "plot_id",
        "harvester_id",
        "recorded_by",
        "unit",
        "qty",
        "tare_g",
        "for_sale",
        "donation",
        "own_use",
        "compost",
        "lot",
    ],
    with_flows: false,
};

pub const STOCK_MOVES: LedgerDef = LedgerDef {
    name: "stock_moves",
    table: "stock_moves",
    id: "id",
    columns: &[
        "id",
        "time_utc",
        "product_id",
        "kind",
        "qty",
        "delta",
        "on_hand",
        "lot",
        "reason",
        "by_staff",
        "harvest_id",
        "sale_kiosk_id",
        "sale_seq",
        "sale_line",
    ],
    with_flows: true,
};

pub const STOCK_CORRECTIONS: LedgerDef = LedgerDef {
    name: "stock_corrections",
    table: "stock_corrections",
    id: "move_id",
    columns: &["move_id", "reason"],
    with_flows: false,
};

pub const STAFF_EVENTS: LedgerDef = LedgerDef {
    name: "staff_events",
    table: "staff_events",
    id: "id",
    columns: &[
        "id", "time_utc", "staff_id", "actor_id", "kind", "screen", "detail",
    ],
    with_flows: false,
};

pub const RESIDENT_EVENTS: LedgerDef = LedgerDef {
    name: "resident_events",
    table: "resident_events",
    id: "id",
    columns: &["id", "time_utc", "resident_id", "actor_id", "kind"],
    with_flows: false,
};

pub const COMPOST_BIN_LOG: LedgerDef = LedgerDef {
    name: "compost_bin_log",
    table: "compost_bin_log",
    id: "id",
    columns: &[
        "id",
        "bin_id",
        "time_utc",
        "kind",
        "status",
        "temperature_dc",
        "grams",
        "staff_id",
    ],
    with_flows: false,
};

/// Every chained ledger.
pub const LEDGERS: [LedgerDef; 7] = [
    DEPOSITS,
    HARVESTS,
    STOCK_MOVES,
    STOCK_CORRECTIONS,
    STAFF_EVENTS,
    RESIDENT_EVENTS,
    COMPOST_BIN_LOG,
];

/// The name of the credits ledger's own chain among the anchored heads.
pub const CREDITS: &str = "credits";

fn kiosk_id(conn: &Connection) -> rusqlite::Result<String> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = 'kiosk_id'")?
        .query_row([], |r| r.get(0))
}

fn json_of(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => i.into(),
        // No ledger column is REAL; a float would not be canonical: keep its text.
        ValueRef::Real(f) => Value::String(format!("real:{f}")),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::String(format!("blob:{}", hex::encode(b))),
    }
}

fn select_sql(def: &LedgerDef) -> String {
    format!("SELECT {} FROM {}", def.columns.join(", "), def.table)
}

/// Writes [`payload`]'s text straight from a row's columns, without building the object:
/// `journal verify` hashes millions of rows on a busy stall's year. The same text as
/// [`payload`] (tested below over every kind of value).
struct PayloadWriter {
    /// The row's members in canonical (byte) order: a column's index, or `None` for `flows`.
    members: Vec<(&'static str, Option<usize>)>,
}

impl PayloadWriter {
    fn new(def: &LedgerDef) -> Self {
        let mut members: Vec<(&'static str, Option<usize>)> = def
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, Some(i)))
            .collect();
        if def.with_flows {
            members.push(("flows", None));
        }
        members.sort_by(|a, b| a.0.cmp(b.0));
        PayloadWriter { members }
    }

    /// The payload of `row` (selected with [`select_sql`]) at `seq`, its flows already written
    /// ([`flow_text`]), into `out`.
    fn write(
        &self,
        out: &mut String,
        kiosk: &str,
        def: &LedgerDef,
        seq: i64,
        row: &rusqlite::Row<'_>,
        flows: &[String],
    ) -> rusqlite::Result<()> {
        out.clear();
        out.push_str("{\"kiosk_id\":");
        write_string(kiosk, out);
        out.push_str(",\"ledger\":");
        write_string(def.name, out);
        out.push_str(",\"row\":{");
        for (i, (name, column)) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(name, out);
            out.push(':');
            match column {
                Some(c) => write_value(row.get_ref(*c)?, out),
                None => {
                    out.push('[');
                    out.push_str(&flows.join(","));
                    out.push(']');
                }
            }
        }
        let _ = write!(out, "}},\"seq\":{seq}}}");
        Ok(())
    }
}

/// A column's value as [`json_of`] makes it, written canonically.
fn write_value(value: ValueRef<'_>, out: &mut String) {
    match value {
        ValueRef::Null => out.push_str("null"),
        ValueRef::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        ValueRef::Text(t) => write_string(&String::from_utf8_lossy(t), out),
        other => write_string(json_of(other).as_str().unwrap_or_default(), out),
    }
}

/// One `lot_flows` row (`lot_id, product_id, qty` from column `from`) as its canonical object.
fn flow_text(r: &rusqlite::Row<'_>, from: usize) -> rusqlite::Result<String> {
    let mut out = String::with_capacity(48);
    for (i, key) in ["lot_id", "product_id", "qty"].into_iter().enumerate() {
        out.push_str(if i == 0 { "{" } else { "," });
        write_string(key, &mut out);
        out.push(':');
        write_value(r.get_ref(from + i)?, &mut out);
    }
    out.push('}');
    Ok(out)
}

/// The payload hashed for row `row` of ledger `def` at `seq`.
pub fn payload(kiosk_id: &str, def: &LedgerDef, seq: i64, row: Map<String, Value>) -> String {
    let mut map = Map::new();
    map.insert("kiosk_id".into(), kiosk_id.into());
    map.insert("ledger".into(), def.name.into());
    map.insert("row".into(), Value::Object(row));
    map.insert("seq".into(), seq.into());
    canonical_json(&Value::Object(map)).expect("ledger rows hold integers and text only")
}

/// The head of ledger `name` of this kiosk: `(0, ZERO_HASH)` when empty.
fn chain_head(conn: &Connection, kiosk: &str, name: &str) -> rusqlite::Result<(i64, String)> {
    Ok(conn
        .prepare_cached(
            "SELECT seq, hash FROM ledger_chain WHERE kiosk_id = ?1 AND ledger = ?2
             ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(params![kiosk, name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or_else(|| (0, ZERO_HASH.to_string())))
}

/// Chains row `row_id` of ledger `def`, just inserted, in the caller's transaction.
pub fn chain_row(conn: &Connection, def: &LedgerDef, row_id: i64) -> rusqlite::Result<()> {
    let kiosk = kiosk_id(conn)?;
    chain_row_of(conn, &kiosk, def, row_id)
}

fn chain_row_of(
    conn: &Connection,
    kiosk: &str,
    def: &LedgerDef,
    row_id: i64,
) -> rusqlite::Result<()> {
    let flows: Vec<String> = if def.with_flows {
        conn.prepare_cached(
            "SELECT lot_id, product_id, qty FROM lot_flows WHERE move_id = ?1 ORDER BY rowid",
        )?
        .query_map([row_id], |r| flow_text(r, 0))?
        .collect::<rusqlite::Result<_>>()?
    } else {
        Vec::new()
    };
    let (last, prev_hash) = chain_head(conn, kiosk, def.name)?;
    let seq = last + 1;
    let sql = format!("{} WHERE {} = ?1", select_sql(def), def.id);
    let mut text = String::new();
    conn.prepare_cached(&sql)?.query_row([row_id], |r| {
        PayloadWriter::new(def).write(&mut text, kiosk, def, seq, r, &flows)
    })?;
    let hash = entry_hash(&prev_hash, &text).ok_or_else(|| {
        rusqlite::Error::ToSqlConversionFailure(
            format!("ledger_chain {}: stored hash is not hex", def.name).into(),
        )
    })?;
    conn.prepare_cached(
        "INSERT INTO ledger_chain (kiosk_id, ledger, seq, row_id, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![kiosk, def.name, seq, row_id, prev_hash, hash])?;
    Ok(())
}

/// Chains every row of every ledger not chained yet, oldest first: the migration that made
/// `ledger_chain` runs it once for the rows that existed before (`store::migrations`).
pub fn backfill(conn: &Connection) -> rusqlite::Result<()> {
    let Some(kiosk) = conn
        .query_row("SELECT value FROM meta WHERE key = 'kiosk_id'", [], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
    else {
        return Ok(()); // a new database: no rows yet
    };
    for def in &LEDGERS {
        let ids: Vec<i64> = conn
            .prepare(&format!(
                "SELECT {id} FROM {table} WHERE {id} NOT IN
                   (SELECT row_id FROM ledger_chain WHERE ledger = ?1) ORDER BY {id}",
                id = def.id,
                table = def.table
            ))?
            .query_map([def.name], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in ids {
            chain_row_of(conn, &kiosk, def, id)?;
        }
    }
    Ok(())
}

/// The heads of every ledger and of the credits chain, as the journal anchors them:
/// `{"credits":{"hash":H,"seq":N},"deposits":{...},...}`.
pub fn heads(conn: &Connection) -> rusqlite::Result<Value> {
    let kiosk = kiosk_id(conn)?;
    let mut map = Map::new();
    let head_value = |(seq, hash): (i64, String)| {
        let mut h = Map::new();
        h.insert("hash".into(), hash.into());
        h.insert("seq".into(), seq.into());
        Value::Object(h)
    };
    for def in &LEDGERS {
        map.insert(
            def.name.into(),
            head_value(chain_head(conn, &kiosk, def.name)?),
        );
    }
    let credits: (i64, String) = conn
        .prepare_cached(
            "SELECT seq, hash FROM credit_ledger WHERE kiosk_id = ?1 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([&kiosk], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or_else(|| (0, ZERO_HASH.to_string()));
    map.insert(CREDITS.into(), head_value(credits));
    Ok(Value::Object(map))
}

/// The first fault [`verify`] found: the ledger, the chain seq when there is one, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerFault {
    pub ledger: String,
    pub seq: Option<i64>,
    pub reason: String,
}

impl std::fmt::Display for LedgerFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "{} seq {}: {}", self.ledger, seq, self.reason),
            None => write!(f, "{}: {}", self.ledger, self.reason),
        }
    }
}

/// What intact ledgers hold: rows per ledger.
pub type LedgerCounts = Vec<(&'static str, i64)>;

/// Recomputes every ledger's chain against its table, row by row, then checks the `anchors`
/// the journal holds (each anchored head must be in the chain as anchored; the credits
/// anchors against the credits chain).
pub fn verify(
    conn: &Connection,
    anchors: &[Anchor],
) -> Result<Result<LedgerCounts, LedgerFault>, rusqlite::Error> {
    let Some(kiosk) = conn
        .query_row("SELECT value FROM meta WHERE key = 'kiosk_id'", [], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
    else {
        return Ok(Ok(Vec::new()));
    };
    let chain_exists: bool = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ledger_chain'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !chain_exists {
        return Ok(Err(LedgerFault {
            ledger: "ledger_chain".into(),
            seq: None,
            reason: "the table of ledger chains is missing".into(),
        }));
    }
    let mut counts = Vec::new();
    for def in &LEDGERS {
        let mut seen = Seen::new(def.name, anchors);
        match verify_one(conn, &kiosk, def, &mut seen)? {
            Ok(n) => counts.push((def.name, n)),
            Err(fault) => return Ok(Err(fault)),
        }
        if let Err(fault) = seen.check(anchors) {
            return Ok(Err(fault));
        }
    }
    let mut seen = Seen::new(CREDITS, anchors);
    let mut credits =
        conn.prepare("SELECT hash FROM credit_ledger WHERE kiosk_id = ?1 ORDER BY seq")?;
    let mut rows = credits.query([&kiosk])?;
    while let Some(r) = rows.next()? {
        seen.push(r.get_ref(0)?.as_str()?);
    }
    if let Err(fault) = seen.check(anchors) {
        return Ok(Err(fault));
    }
    let known: Vec<&str> = LEDGERS.iter().map(|d| d.name).chain([CREDITS]).collect();
    if let Some(a) = anchors.iter().find(|a| !known.contains(&a.ledger.as_str())) {
        return Ok(Err(LedgerFault {
            ledger: a.ledger.clone(),
            seq: None,
            reason: format!(
                "journal entry {} anchors a ledger that does not exist",
                a.entry_seq
            ),
        }));
    }
    Ok(Ok(counts))
}

/// What a walk along one chain keeps for the anchors: its length, and the hashes at the seqs
/// the journal anchored (a few thousand at most, where the chain may hold millions).
struct Seen {
    name: &'static str,
    len: i64,
    anchored: HashMap<i64, Option<String>>,
}

impl Seen {
    fn new(name: &'static str, anchors: &[Anchor]) -> Self {
        let anchored = anchors
            .iter()
            .filter(|a| a.ledger == name && a.seq != 0)
            .map(|a| (a.seq, None))
            .collect();
        Seen {
            name,
            len: 0,
            anchored,
        }
    }

    /// The hash of the next link.
    fn push(&mut self, hash: &str) {
        self.len += 1;
        if let Some(slot) = self.anchored.get_mut(&self.len) {
            *slot = Some(hash.to_string());
        }
    }

    /// Each anchor of the chain must name one of its hashes, as anchored.
    fn check(&self, anchors: &[Anchor]) -> Result<(), LedgerFault> {
        for a in anchors
            .iter()
            .filter(|a| a.ledger == self.name && a.seq != 0)
        {
            let fault = |reason: String| LedgerFault {
                ledger: self.name.into(),
                seq: Some(a.seq),
                reason,
            };
            match self.anchored.get(&a.seq).and_then(Option::as_ref) {
                None => {
                    return Err(fault(format!(
                        "missing: journal entry {} saw this ledger reach seq {}, it now ends at {} (rows deleted)",
                        a.entry_seq, a.seq, self.len
                    )))
                }
                Some(h) if *h != a.hash => {
                    return Err(fault(format!(
                        "not the head journal entry {} anchored (rows rewritten and chained again)",
                        a.entry_seq
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

fn take_flow(flows: &mut Option<rusqlite::Rows<'_>>) -> rusqlite::Result<Option<(i64, String)>> {
    match flows {
        Some(rows) => match rows.next()? {
            Some(r) => Ok(Some((r.get(0)?, flow_text(r, 1)?))),
            None => Ok(None),
        },
        None => Ok(None),
    }
}

fn verify_one(
    conn: &Connection,
    kiosk: &str,
    def: &LedgerDef,
    seen: &mut Seen,
) -> rusqlite::Result<Result<i64, LedgerFault>> {
    let mut rows_stmt = conn.prepare(&format!("{} ORDER BY {}", select_sql(def), def.id))?;
    let mut rows = rows_stmt.query([])?;
    let mut chain_stmt = conn.prepare(
        "SELECT seq, row_id, prev_hash, hash FROM ledger_chain
         WHERE kiosk_id = ?1 AND ledger = ?2 ORDER BY seq",
    )?;
    let mut chain = chain_stmt.query(params![kiosk, def.name])?;
    let mut flows_stmt;
    let mut flows = if def.with_flows {
        flows_stmt = conn.prepare(
            "SELECT move_id, lot_id, product_id, qty FROM lot_flows ORDER BY move_id, rowid",
        )?;
        Some(flows_stmt.query([])?)
    } else {
        None
    };
    // The next flow not yet taken: (move_id, flow).
    let mut next_flow: Option<(i64, String)> = take_flow(&mut flows)?;
    let writer = PayloadWriter::new(def);
    let id_column = def.columns.iter().position(|c| *c == def.id).unwrap_or(0);
    let mut text = String::with_capacity(512);
    let mut mine: Vec<String> = Vec::new();
    let mut prev = ZERO_HASH.to_string();
    let mut expected_seq = 1;
    let fault = |seq: Option<i64>, reason: String| LedgerFault {
        ledger: def.name.into(),
        seq,
        reason,
    };
    loop {
        let row = rows.next()?;
        let link = chain.next()?;
        let (row, link) = match (row, link) {
            (None, None) => break,
            (Some(r), None) => {
                let id: i64 = r.get(id_column)?;
                return Ok(Err(fault(
                    Some(expected_seq),
                    format!("row {id} is not in the chain (added behind the app's back)"),
                )));
            }
            (None, Some(l)) => {
                let row_id: i64 = l.get(1)?;
                return Ok(Err(fault(
                    Some(l.get(0)?),
                    format!("row {row_id} is missing (deleted)"),
                )));
            }
            (Some(r), Some(l)) => (r, l),
        };
        let id: i64 = row.get::<_, Option<i64>>(id_column)?.unwrap_or(-1);
        let seq: i64 = link.get(0)?;
        let row_id: i64 = link.get(1)?;
        let prev_hash: String = link.get(2)?;
        let hash: String = link.get(3)?;
        if seq != expected_seq {
            return Ok(Err(fault(
                Some(expected_seq),
                format!("chain entry missing (the next one is {seq})"),
            )));
        }
        if row_id != id {
            let reason = if row_id < id {
                format!("row {row_id} is missing (deleted)")
            } else {
                format!("row {id} is not in the chain (added behind the app's back)")
            };
            return Ok(Err(fault(Some(seq), reason)));
        }
        if prev_hash != prev {
            return Ok(Err(fault(
                Some(seq),
                "prev_hash does not link to the previous row".into(),
            )));
        }
        mine.clear();
        if def.with_flows {
            while let Some((move_id, flow)) = next_flow.take() {
                if move_id < id {
                    return Ok(Err(fault(
                        Some(seq),
                        format!("lot flows of move {move_id}, which is not there"),
                    )));
                }
                if move_id > id {
                    next_flow = Some((move_id, flow));
                    break;
                }
                mine.push(flow);
                next_flow = take_flow(&mut flows)?;
            }
        }
        writer.write(&mut text, kiosk, def, seq, row, &mine)?;
        if entry_hash(&prev_hash, &text).as_deref() != Some(hash.as_str()) {
            return Ok(Err(fault(
                Some(seq),
                format!("row {id} differs from what was recorded (edited behind the app's back)"),
            )));
        }
        seen.push(&hash);
        prev = hash;
        expected_seq += 1;
    }
    if let Some((move_id, _)) = next_flow {
        return Ok(Err(fault(
            None,
            format!("lot flows of move {move_id}, which is not there"),
        )));
    }
    Ok(Ok(expected_seq - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The written payload is [`payload`] of the row as an object, for every kind of value
    /// SQLite can hold and members whose order is not the columns' order.
    #[test]
    fn the_payload_writer_writes_the_canonical_payload() {
        const ODD: LedgerDef = LedgerDef {
            name: "odd \"ledger\"",
            table: "odd",
            id: "zid",
            columns: &["zid", "b", "a_text", "Upper", "real", "blob", "gap", "é"],
            with_flows: true,
        };
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE odd (zid INTEGER PRIMARY KEY, b, a_text, Upper, real, blob, gap, é);
             INSERT INTO odd VALUES (1, -9223372036854775808, 'quote \" back \\ tab 	 nl
 ctrl ' || char(1) || char(31) || ' é 漢 🙂', 'x', 1.5, x'00ff', NULL, 0);
             CREATE TABLE lot_flows (lot_id, product_id, qty);
             INSERT INTO lot_flows VALUES (NULL, 3, -120), (7, 3, 2000);",
        )
        .unwrap();
        let flows: Vec<String> = conn
            .prepare("SELECT lot_id, product_id, qty FROM lot_flows ORDER BY rowid")
            .unwrap()
            .query_map([], |r| flow_text(r, 0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut written = String::new();
        let object = conn
            .query_row(&select_sql(&ODD), [], |r| {
                PayloadWriter::new(&ODD).write(&mut written, "kiosk-é", &ODD, 42, r, &flows)?;
                let mut map = Map::new();
                for (i, column) in ODD.columns.iter().enumerate() {
                    map.insert((*column).into(), json_of(r.get_ref(i)?));
                }
                Ok(map)
            })
            .unwrap();
        let mut object = object;
        let flow_values: Vec<Value> = flows
            .iter()
            .map(|f| serde_json::from_str(f).unwrap())
            .collect();
        assert_eq!(flow_values[0]["qty"], -120);
        object.insert("flows".into(), Value::Array(flow_values));
        assert_eq!(written, payload("kiosk-é", &ODD, 42, object));
        assert!(written.contains("\\u0001"), "{written}");
    }

    /// Every column of each chained table is hashed: a column added later must be added here
    /// deliberately (old rows would hash without it: give it a new ledger version then).
    #[test]
    fn every_column_of_each_ledger_is_hashed() {
        let store = crate::store::Store::open_in_memory().unwrap();
        for def in &LEDGERS {
            let columns: Vec<String> = store
                .conn()
                .prepare(&format!(
                    "SELECT name FROM pragma_table_info('{}')",
                    def.table
                ))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let mut want: Vec<&str> = def.columns.to_vec();
            want.sort_unstable();
            let mut have: Vec<&str> = columns.iter().map(String::as_str).collect();
            have.sort_unstable();
            assert_eq!(have, want, "{}", def.table);
        }
    }
}
