//! Everything `journal verify` checks, in one place ([`verify_all`]): the command line, the
//! backup's check of each copy and the daily check all call it.
//!
//! 1. The journal's chain, hashes and signatures (`journal::verify_with`).
//! 2. Keys: every key change after the first is attested by the previous key or by the
//!    association's recovery key registered in the journal; otherwise `unattested: seq N`.
//!    The first key of a journal is attested by nothing.
//! 3. Closures recomputed from the entries they cover: `ticket_count`, `totals_by_vat_rate`,
//!    `period_total_cents`, and `grand_total_cents` = the previous non-voided closure of the
//!    same period kind + this period's total; the seq ranges of successive closures of a kind
//!    follow each other (the first starts at 1). A closure voided by a `closure_voided` entry
//!    (member `closure_seq`) is skipped, and the next one of its kind continues from the
//!    previous non-voided one.
//! 4. The sales tables against the sale and refund entries (`sales::check_tables_agree`).
//! 5. Cash movements: each row equal to its `cash_movement` entry, each entry with its row.
//! 6. Credits: the credits chain and its columns (`compost::verify_credits`), and no
//!    resident's balance below zero at any point.
//! 7. Stock: the moves of each sale and refund line against the sales tables
//!    (`store::sale_stock`), and every product's ledger replayed (`garden::check_stock`).
//! 8. The other ledgers' chains and the heads the journal anchored (`store::ledger`).
//! 9. The schema: tables, indexes and triggers exactly the migrations' (`store::schema`), as
//!    `broken: schema: REASON` (a trigger dropped, changed or added).
//!
//! The first fault found, in that order, is reported. Steps 4 and 7 (the sales tables and the
//! stock) run beside the others on a second connection ([`verify_all`]); each step is one
//! ordered pass over its tables (96 s became 25 s at 1,000,000 entries on two cores, `cargo
//! bench --bench journal`).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use rusqlite::{Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::journal::{self, JournalError, Period, VerifyReport, Visited};
use super::ledger::{self, LedgerCounts};

/// A fault in the records, as `journal verify` prints it ([`Fault::line`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A journal entry: `broken: seq N: REASON`.
    Journal { seq: i64, reason: String },
    /// A key change nobody attests: `unattested: seq N`.
    Unattested { seq: i64 },
    /// Another ledger: `broken: LEDGER seq N: REASON` (or `broken: LEDGER: REASON`).
    Ledger {
        ledger: String,
        seq: Option<i64>,
        reason: String,
    },
}

impl Fault {
    /// The line for standard output.
    pub fn line(&self) -> String {
        match self {
            Fault::Journal { seq, reason } => format!("broken: seq {seq}: {reason}"),
            Fault::Unattested { seq } => format!("unattested: seq {seq}"),
            Fault::Ledger {
                ledger,
                seq: Some(seq),
                reason,
            } => format!("broken: {ledger} seq {seq}: {reason}"),
            Fault::Ledger {
                ledger,
                seq: None,
                reason,
            } => format!("broken: {ledger}: {reason}"),
        }
    }

    fn ledger(ledger: &str, seq: Option<i64>, reason: impl Into<String>) -> Fault {
        Fault::Ledger {
            ledger: ledger.into(),
            seq,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Unattested { seq } => write!(
                f,
                "seq {seq}: a key change signed by neither the previous key nor the recovery key"
            ),
            other => {
                let line = other.line();
                f.write_str(line.strip_prefix("broken: ").unwrap_or(&line))
            }
        }
    }
}

/// Why [`verify_all`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The records are not what they should be.
    #[error("{0}")]
    Fault(Fault),
    /// The database could not be read.
    #[error("{0}")]
    Store(String),
}

impl From<rusqlite::Error> for AuditError {
    fn from(e: rusqlite::Error) -> Self {
        AuditError::Store(e.to_string())
    }
}

/// What intact records hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub journal: VerifyReport,
    pub credits: i64,
    pub ledgers: LedgerCounts,
}

/// Runs every check of the module documentation, read-only.
///
/// On a database file with no transaction open, the checks run on two connections side by
/// side (the journal and the ledgers on `conn`; the sales tables and the stock on a second,
/// read-only connection), each inside one read transaction. The two may see the file a
/// moment apart while the kiosk writes; each checks only what its own snapshot holds, and a
/// fault found that way is confirmed by running everything again on `conn` alone, in one
/// snapshot, before it is reported.
pub fn verify_all(conn: &Connection) -> Result<AuditReport, AuditError> {
    let second = match conn.path() {
        Some(path) if !path.is_empty() && conn.is_autocommit() => Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ok(),
        _ => None,
    };
    let Some(second) = second else {
        return in_one_snapshot(conn, |c| {
            let tables = tables_steps(c);
            combine(journal_steps(c), tables)
        });
    };
    let (journal, tables) = std::thread::scope(|scope| {
        let tables = scope.spawn(move || in_one_snapshot(&second, tables_steps));
        let journal = in_one_snapshot(conn, journal_steps);
        let tables = tables
            .join()
            .unwrap_or_else(|_| Err(Step::store("the sales tables' check stopped")));
        (journal, tables)
    });
    match combine(journal, tables) {
        Err(AuditError::Fault(_)) => in_one_snapshot(conn, |c| {
            let tables = tables_steps(c);
            combine(journal_steps(c), tables)
        }),
        other => other,
    }
}

/// Runs `f` inside one read transaction when none is open, so that every step sees the same
/// records.
fn in_one_snapshot<T>(conn: &Connection, f: impl FnOnce(&Connection) -> T) -> T {
    let own = conn.is_autocommit() && conn.execute_batch("BEGIN DEFERRED").is_ok();
    let out = f(conn);
    if own {
        let _ = conn.execute_batch("COMMIT");
    }
    out
}

/// A fault or failure, with the number of the step (module documentation) that found it: the
/// first in that order is reported.
struct Step {
    number: u8,
    error: AuditError,
}

impl Step {
    fn store(reason: &str) -> Self {
        Step {
            number: 0,
            error: AuditError::Store(reason.into()),
        }
    }
}

fn at<T>(number: u8, r: Result<T, AuditError>) -> Result<T, Step> {
    r.map_err(|error| Step { number, error })
}

/// The first fault or failure of both halves, in step order (as one pass would meet them).
fn combine(
    journal: Result<AuditReport, Step>,
    tables: Result<(), Step>,
) -> Result<AuditReport, AuditError> {
    match (journal, tables) {
        (Ok(report), Ok(())) => Ok(report),
        (Err(e), Ok(())) | (Ok(_), Err(e)) => Err(e.error),
        (Err(a), Err(b)) => Err(if b.number < a.number {
            b.error
        } else {
            a.error
        }),
    }
}

/// Steps 1 to 3, 5, 6, 8 and 9: the journal, closures, cash, credits, ledgers and schema.
fn journal_steps(conn: &Connection) -> Result<AuditReport, Step> {
    let mut closures = at(3, ClosureCheck::new(conn))?;
    let journal = match journal::verify_with(conn, &mut |v| closures.visit(conn, v)) {
        Ok(r) => r,
        Err(JournalError::Broken { seq, reason }) => {
            return at(1, Err(AuditError::Fault(Fault::Journal { seq, reason })))
        }
        Err(e) => return at(1, Err(AuditError::Store(e.to_string()))),
    };
    if let Some(seq) = journal.unattested {
        return at(2, Err(AuditError::Fault(Fault::Unattested { seq })));
    }
    at(3, closures.finish())?;
    at(5, check_cash_movements(conn))?;
    let credits = at(6, check_credits(conn))?;
    let ledgers = match at(
        8,
        ledger::verify(conn, &journal.anchors).map_err(AuditError::from),
    )? {
        Ok(counts) => counts,
        Err(f) => {
            return at(
                8,
                Err(AuditError::Fault(Fault::Ledger {
                    ledger: f.ledger,
                    seq: f.seq,
                    reason: f.reason,
                })),
            )
        }
    };
    match at(9, super::schema::check(conn).map_err(AuditError::from))? {
        Ok(()) => {}
        Err(reason) => {
            return at(
                9,
                Err(AuditError::Fault(Fault::ledger("schema", None, reason))),
            )
        }
    }
    Ok(AuditReport {
        journal,
        credits,
        ledgers,
    })
}

/// Steps 4 and 7: the sales tables against the journal, and the stock.
fn tables_steps(conn: &Connection) -> Result<(), Step> {
    match super::sales::check_tables_agree(conn) {
        Ok(()) => {}
        Err(super::sales::SalesError::Disagree { seq, reason }) => {
            return at(4, Err(AuditError::Fault(Fault::Journal { seq, reason })))
        }
        Err(e) => return at(4, Err(AuditError::Store(e.to_string()))),
    }
    at(7, check_sale_stock(conn))?;
    match super::garden::check_stock(conn) {
        Ok(()) => Ok(()),
        Err(super::garden::GardenError::Sqlite(e)) => at(7, Err(e.into())),
        Err(e) => at(
            7,
            Err(AuditError::Fault(Fault::ledger(
                "stock_moves",
                None,
                e.to_string(),
            ))),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Closures

/// Sums of sale and refund entries (training left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Sums {
    tickets: i64,
    total: i64,
    /// By rate: (vat lines, ttc, ht, vat).
    rates: BTreeMap<i64, [i64; 4]>,
}

impl Sums {
    fn add(&mut self, other: &Sums, sign: i64) {
        self.tickets += sign * other.tickets;
        self.total += sign * other.total;
        for (rate, v) in &other.rates {
            let mine = self.rates.entry(*rate).or_default();
            for i in 0..4 {
                mine[i] += sign * v[i];
            }
        }
        self.rates.retain(|_, v| v[0] != 0);
    }

    fn rates_value(&self) -> Vec<[i64; 4]> {
        self.rates
            .iter()
            .map(|(rate, v)| [*rate, v[1], v[2], v[3]])
            .collect()
    }
}

#[derive(Deserialize)]
struct VatLine {
    vat_bp: i64,
    ttc_cents: i64,
    ht_cents: i64,
    vat_cents: i64,
}

#[derive(Deserialize)]
struct SaleFigures {
    total_cents: Option<i64>,
    #[serde(default)]
    vat: Option<Vec<VatLine>>,
    #[serde(default)]
    training: Option<bool>,
}

#[derive(Deserialize)]
struct ClosureFields {
    period: String,
    first_seq: i64,
    last_seq: i64,
    ticket_count: i64,
    totals_by_vat_rate: Vec<VatLine>,
    period_total_cents: i64,
    grand_total_cents: i64,
}

/// What the previous non-voided closure of a kind left.
#[derive(Default)]
struct KindState {
    last_seq: i64,
    grand_total: i64,
    /// Sales after `last_seq` seen so far.
    since: Sums,
}

/// How many recent sales are kept one by one, to split the sums at a closure's `last_seq`
/// (the entries between a period's end and its closure are few: closures are written before
/// the next period's first sale). Beyond that, the closure is summed from the database.
const RECENT: usize = 512;

struct ClosureCheck {
    voided: HashSet<i64>,
    kinds: HashMap<Period, KindState>,
    recent: VecDeque<(i64, Sums)>,
    /// The newest seq dropped from `recent`.
    dropped: i64,
    /// A `closure_voided` entry naming a closure that was not there.
    bad_void: Option<(i64, String)>,
    seen_closures: HashSet<i64>,
}

impl ClosureCheck {
    fn new(conn: &Connection) -> Result<ClosureCheck, AuditError> {
        let voided: HashSet<i64> = conn
            .prepare(
                "SELECT json_extract(payload, '$.closure_seq') FROM journal
                 WHERE kind = 'closure_voided'",
            )?
            .query_map([], |r| r.get::<_, Option<i64>>(0))?
            .filter_map(|r| r.transpose())
            .collect::<rusqlite::Result<_>>()?;
        Ok(ClosureCheck {
            voided,
            kinds: HashMap::new(),
            recent: VecDeque::with_capacity(RECENT),
            dropped: 0,
            bad_void: None,
            seen_closures: HashSet::new(),
        })
    }

    fn visit(&mut self, conn: &Connection, v: &Visited<'_>) -> Result<(), String> {
        match v.kind {
            journal::KIND_SALE | journal::KIND_REFUND => self.sale(v),
            journal::KIND_CLOSURE => self.closure(conn, v),
            journal::KIND_CLOSURE_VOIDED => {
                let map: Map<String, Value> =
                    serde_json::from_str(v.payload).map_err(|e| format!("payload: {e}"))?;
                match map.get("closure_seq").and_then(Value::as_i64) {
                    Some(c) if self.seen_closures.contains(&c) => Ok(()),
                    _ => {
                        self.bad_void.get_or_insert((
                            v.seq,
                            "closure_voided names no earlier closure".into(),
                        ));
                        Ok(())
                    }
                }
            }
            _ => Ok(()),
        }
    }

    fn sale(&mut self, v: &Visited<'_>) -> Result<(), String> {
        let f: SaleFigures =
            serde_json::from_str(v.payload).map_err(|e| format!("payload: {e}"))?;
        if f.training == Some(true) {
            return Ok(());
        }
        let total = f
            .total_cents
            .ok_or_else(|| format!("a {} without total_cents", v.kind))?;
        let mut sums = Sums {
            tickets: 1,
            total,
            rates: BTreeMap::new(),
        };
        for line in f.vat.unwrap_or_default() {
            let r = sums.rates.entry(line.vat_bp).or_default();
            r[0] += 1;
            r[1] += line.ttc_cents;
            r[2] += line.ht_cents;
            r[3] += line.vat_cents;
        }
        for period in [Period::Day, Period::Month, Period::Year] {
            self.kinds.entry(period).or_default().since.add(&sums, 1);
        }
        if self.recent.len() == RECENT {
            if let Some((seq, _)) = self.recent.pop_front() {
                self.dropped = seq;
            }
        }
        self.recent.push_back((v.seq, sums));
        Ok(())
    }

    fn closure(&mut self, conn: &Connection, v: &Visited<'_>) -> Result<(), String> {
        self.seen_closures.insert(v.seq);
        if self.voided.contains(&v.seq) {
            return Ok(());
        }
        let c: ClosureFields = serde_json::from_str(v.payload)
            .map_err(|e| format!("closure figures unreadable: {e}"))?;
        let period = Period::parse(&c.period)
            .ok_or_else(|| format!("closure of an unknown period {:?}", c.period))?;
        let state = self.kinds.entry(period).or_default();
        let what = period.as_str();
        if c.first_seq != state.last_seq + 1 {
            return Err(format!(
                "{what} closure starts at seq {}, the previous one ended at {}",
                c.first_seq, state.last_seq
            ));
        }
        if c.last_seq < c.first_seq - 1 || c.last_seq >= v.seq {
            return Err(format!(
                "{what} closure covers seq {} to {}, not before itself",
                c.first_seq, c.last_seq
            ));
        }
        // The sales after last_seq, seen since: they belong to the next period.
        let mut tail = Sums::default();
        for (seq, s) in self.recent.iter().rev() {
            if *seq <= c.last_seq {
                break;
            }
            tail.add(s, 1);
        }
        let period_sums = if self.dropped > c.last_seq {
            // Too many sales since the period's end to split in memory: ask the database.
            let t = journal::sum_sales(conn, c.first_seq, c.last_seq).map_err(|e| e.to_string())?;
            let mut s = Sums {
                tickets: t.ticket_count,
                total: t.total_cents,
                rates: BTreeMap::new(),
            };
            for r in t.by_vat_rate {
                s.rates
                    .insert(r.vat_bp, [1, r.ttc_cents, r.ht_cents, r.vat_cents]);
            }
            s
        } else {
            let mut s = state.since.clone();
            s.add(&tail, -1);
            s
        };
        if c.ticket_count != period_sums.tickets {
            return Err(format!(
                "{what} closure says {} tickets, its entries hold {}",
                c.ticket_count, period_sums.tickets
            ));
        }
        if c.period_total_cents != period_sums.total {
            return Err(format!(
                "{what} closure says a total of {} cents, its entries add up to {}",
                c.period_total_cents, period_sums.total
            ));
        }
        let stated: Vec<[i64; 4]> = c
            .totals_by_vat_rate
            .iter()
            .map(|l| [l.vat_bp, l.ttc_cents, l.ht_cents, l.vat_cents])
            .collect();
        if stated != period_sums.rates_value() {
            return Err(format!(
                "{what} closure's totals by VAT rate differ from its entries'"
            ));
        }
        let grand = state.grand_total + period_sums.total;
        if c.grand_total_cents != grand {
            return Err(format!(
                "{what} closure says a grand total of {} cents, the previous one plus this period make {}",
                c.grand_total_cents, grand
            ));
        }
        state.last_seq = c.last_seq;
        state.grand_total = grand;
        state.since = tail;
        Ok(())
    }

    fn finish(&self) -> Result<(), AuditError> {
        if let Some((seq, reason)) = &self.bad_void {
            return Err(AuditError::Fault(Fault::Journal {
                seq: *seq,
                reason: reason.clone(),
            }));
        }
        if let Some(seq) = self.voided.iter().find(|s| !self.seen_closures.contains(s)) {
            return Err(AuditError::Fault(Fault::Journal {
                seq: *seq,
                reason: "voided, but it is not a closure".into(),
            }));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Cash movements

fn check_cash_movements(conn: &Connection) -> Result<(), AuditError> {
    let fault = |seq: Option<i64>, reason: String| {
        Err(AuditError::Fault(Fault::ledger(
            "cash_movements",
            seq,
            reason,
        )))
    };
    // Each row against its entry.
    let bad: Option<(i64, i64, Option<String>)> = conn
        .query_row(
            "SELECT m.id, m.seq, j.kind FROM cash_movements m
             LEFT JOIN journal j ON j.kiosk_id = m.kiosk_id AND j.seq = m.seq
             WHERE j.seq IS NULL OR j.kind IS NOT 'cash_movement'
                OR json_extract(j.payload, '$.movement') IS NOT m.id
                OR json_extract(j.payload, '$.session') IS NOT m.session_id
                OR json_extract(j.payload, '$.cents') IS NOT m.cents
                OR json_extract(j.payload, '$.reason') IS NOT m.reason
                OR json_extract(j.payload, '$.by') IS NOT m.by_staff
                OR j.time_utc IS NOT m.time_utc
             ORDER BY m.id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if let Some((id, seq, kind)) = bad {
        let reason = match kind {
            None => format!("movement {id} names journal entry {seq}, which does not exist"),
            Some(k) if k != "cash_movement" => {
                format!("movement {id} names journal entry {seq}, a {k}")
            }
            Some(_) => format!(
                "movement {id} differs from its journal entry {seq} (amount, reason, session, who or time)"
            ),
        };
        return fault(Some(seq), reason);
    }
    // Each entry with exactly one row.
    let missing: Option<(i64, i64)> = conn
        .query_row(
            "SELECT j.seq, (SELECT count(*) FROM cash_movements m
                            WHERE m.kiosk_id = j.kiosk_id AND m.seq = j.seq)
             FROM journal j
             WHERE j.kind = 'cash_movement'
               AND (SELECT count(*) FROM cash_movements m
                    WHERE m.kiosk_id = j.kiosk_id AND m.seq = j.seq) <> 1
             ORDER BY j.seq LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((seq, n)) = missing {
        let reason = if n == 0 {
            "the journal's cash movement has no row (deleted)".to_string()
        } else {
            format!("{n} rows for one journaled cash movement")
        };
        return fault(Some(seq), reason);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Credits

fn check_credits(conn: &Connection) -> Result<i64, AuditError> {
    let n = match super::compost::verify_credits(conn) {
        Ok(n) => n,
        Err(super::compost::CompostError::Broken { seq, reason }) => {
            return Err(AuditError::Fault(Fault::ledger(
                ledger::CREDITS,
                Some(seq),
                reason,
            )))
        }
        Err(e) => return Err(AuditError::Store(e.to_string())),
    };
    let mut stmt =
        conn.prepare("SELECT seq, resident_id, cents FROM credit_ledger ORDER BY kiosk_id, seq")?;
    let mut rows = stmt.query([])?;
    let mut balances: HashMap<i64, i64> = HashMap::new();
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let resident: i64 = r.get(1)?;
        let cents: i64 = r.get(2)?;
        let b = balances.entry(resident).or_insert(0);
        *b += cents;
        if *b < 0 {
            return Err(AuditError::Fault(Fault::ledger(
                ledger::CREDITS,
                Some(seq),
                format!(
                    "resident {resident}'s balance goes below zero ({} cents)",
                    *b
                ),
            )));
        }
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Stock against sales

fn check_sale_stock(conn: &Connection) -> Result<(), AuditError> {
    match super::sale_stock::check(conn)? {
        None => Ok(()),
        Some(reason) => Err(AuditError::Fault(Fault::ledger(
            "stock_moves",
            None,
            reason,
        ))),
    }
}
