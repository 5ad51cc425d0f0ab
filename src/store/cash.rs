//! Cash sessions of the register: opened with the counted float, closed by counting the cash
//! per denomination, with cash movements (float top-ups, bank deposits) in between.
//!
//! One session per register (kiosk) at most is open: a partial unique index holds the rule
//! even against a caller that forgot to look. Every seller sells into the open session
//! (`sales.cash_session_id`); the session records who opened it and who closed it.
//!
//! Every write is a journal entry too, inside the caller's transaction:
//!
//! ```text
//! cash_session_opened   session, float_cents, by
//! cash_movement         session, movement, cents (signed: + into the drawer), reason, by
//! cash_session_closed   session, expected_cents, counted_cents, difference_cents,
//!                       detail: [{cents, count}] for every denomination, by
//! ```
//!
//! The cash expected in the drawer at closing is the float, plus the cash the session's sales
//! kept (cash payments minus change given; refunds paid back in cash are negative payments),
//! plus the movements. Training sales are left out: they never count in real totals.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::{json, Map, Value};

use super::journal::{self, JournalError};

pub const KIND_SESSION_OPENED: &str = "cash_session_opened";
pub const KIND_SESSION_CLOSED: &str = "cash_session_closed";
pub const KIND_MOVEMENT: &str = "cash_movement";

/// How long a session may stay open: past this it must be closed before the next sale.
pub const MAX_SESSION_HOURS: i64 = 24;

/// The euro coins and notes, in cents, ascending.
pub const DENOMINATIONS: [i64; 15] = [
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000,
];

/// The largest count of one denomination we accept (a typo guard, not a rule of money).
pub const MAX_COUNT: i64 = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum CashStoreError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// A session is open already on this register.
    #[error("cash session {0} is still open")]
    AlreadyOpen(i64),
    /// No such session, or it is closed.
    #[error("cash session {0} is not open")]
    NotOpen(i64),
    #[error("no cash session {0}")]
    UnknownSession(i64),
    /// A negative float, a zero movement, a movement whose sign does not fit its reason, a
    /// denomination that does not exist or a negative count.
    #[error("bad amount: {0}")]
    BadAmount(String),
}

pub type Result<T, E = CashStoreError> = std::result::Result<T, E>;

/// Why cash went into or out of the drawer outside a sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MovementReason {
    /// Change brought to the drawer: positive.
    FloatTopUp,
    /// Cash taken to the bank: negative.
    BankDeposit,
    /// Anything else (either sign).
    Other,
}

impl MovementReason {
    pub const ALL: [MovementReason; 3] = [
        MovementReason::FloatTopUp,
        MovementReason::BankDeposit,
        MovementReason::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            MovementReason::FloatTopUp => "float_top_up",
            MovementReason::BankDeposit => "bank_deposit",
            MovementReason::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<MovementReason> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Does a signed amount fit this reason?
    pub fn accepts(self, cents: i64) -> bool {
        match self {
            MovementReason::FloatTopUp => cents > 0,
            MovementReason::BankDeposit => cents < 0,
            MovementReason::Other => cents != 0,
        }
    }
}

/// The cash counted in the drawer: how many of each coin and note.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Denominations {
    counts: BTreeMap<i64, i64>,
}

impl Denominations {
    pub fn new() -> Denominations {
        Denominations::default()
    }

    /// Sets the count of one coin or note (`cents` one of [`DENOMINATIONS`]).
    pub fn set(&mut self, cents: i64, count: i64) -> Result<()> {
        if !DENOMINATIONS.contains(&cents) {
            return Err(CashStoreError::BadAmount(format!(
                "{cents} cents is no coin or note"
            )));
        }
        if !(0..=MAX_COUNT).contains(&count) {
            return Err(CashStoreError::BadAmount(format!(
                "count {count} of {cents} cents"
            )));
        }
        if count == 0 {
            self.counts.remove(&cents);
        } else {
            self.counts.insert(cents, count);
        }
        Ok(())
    }

    /// Builder form of [`Denominations::set`].
    pub fn with(mut self, cents: i64, count: i64) -> Result<Denominations> {
        self.set(cents, count)?;
        Ok(self)
    }

    /// The count of one coin or note (0 when none or not a denomination).
    pub fn count(&self, cents: i64) -> i64 {
        self.counts.get(&cents).copied().unwrap_or(0)
    }

    /// The amount counted, in cents.
    pub fn total(&self) -> i64 {
        self.counts.iter().map(|(c, n)| c * n).sum()
    }

    /// Every denomination, ascending, with its count: `[{"cents":1,"count":0},...]`.
    pub fn to_value(&self) -> Value {
        Value::Array(
            DENOMINATIONS
                .iter()
                .map(|&c| json!({ "cents": c, "count": self.count(c) }))
                .collect(),
        )
    }

    /// Reads back [`Denominations::to_value`].
    pub fn from_value(value: &Value) -> Option<Denominations> {
        let mut d = Denominations::new();
        for item in value.as_array()? {
            let cents = item.get("cents")?.as_i64()?;
            let count = item.get("count")?.as_i64()?;
            d.set(cents, count).ok()?;
        }
        Some(d)
    }
}

/// A cash session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashSession {
    pub id: i64,
    pub kiosk_id: String,
    pub opened_utc: String,
    pub opened_by: i64,
    pub opened_seq: i64,
    pub float_cents: i64,
    pub closed_utc: Option<String>,
    pub closed_by: Option<i64>,
    pub closed_seq: Option<i64>,
    pub expected_cents: Option<i64>,
    pub counted_cents: Option<i64>,
    pub difference_cents: Option<i64>,
    /// Canonical JSON of the counted denominations (see [`Denominations::to_value`]).
    pub counted_detail: Option<String>,
}

impl CashSession {
    pub fn is_open(&self) -> bool {
        self.closed_utc.is_none()
    }

    pub fn opened_at(&self) -> Option<DateTime<Utc>> {
        parse_utc(&self.opened_utc)
    }

    /// The counted denominations of a closed session.
    pub fn counted(&self) -> Option<Denominations> {
        let text = self.counted_detail.as_deref()?;
        Denominations::from_value(&serde_json::from_str(text).ok()?)
    }
}

/// A cash movement as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub id: i64,
    pub session_id: i64,
    pub seq: i64,
    pub time_utc: String,
    pub by: i64,
    pub cents: i64,
    pub reason: MovementReason,
}

/// What closing found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closing {
    pub expected: i64,
    pub counted: i64,
    /// counted − expected: negative when cash is missing.
    pub difference: i64,
}

/// The money of a session, for the Z report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionFigures {
    /// Real sales and refunds of the session.
    pub tickets: i64,
    /// Cash kept by sales: cash payments − change given (refunds in cash negative).
    pub cash_cents: i64,
    pub card_cents: i64,
    pub cheque_cents: i64,
    pub credits_cents: i64,
    /// Sum of the totals of the session's sales and refunds.
    pub total_cents: i64,
    /// Sum of the movements (signed).
    pub movements_cents: i64,
    pub movements: Vec<Movement>,
    /// float + cash + movements.
    pub expected_cents: i64,
}

fn parse_utc(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

const SESSION_COLUMNS: &str = "id, kiosk_id, opened_utc, opened_by, opened_seq, float_cents, \
     closed_utc, closed_by, closed_seq, expected_cents, counted_cents, difference_cents, \
     counted_detail";

fn session_row(r: &Row<'_>) -> rusqlite::Result<CashSession> {
    Ok(CashSession {
        id: r.get(0)?,
        kiosk_id: r.get(1)?,
        opened_utc: r.get(2)?,
        opened_by: r.get(3)?,
        opened_seq: r.get(4)?,
        float_cents: r.get(5)?,
        closed_utc: r.get(6)?,
        closed_by: r.get(7)?,
        closed_seq: r.get(8)?,
        expected_cents: r.get(9)?,
        counted_cents: r.get(10)?,
        difference_cents: r.get(11)?,
        counted_detail: r.get(12)?,
    })
}

/// The session `id`, open or closed.
pub fn session(conn: &Connection, id: i64) -> Result<Option<CashSession>> {
    Ok(conn
        .query_row(
            &format!("SELECT {SESSION_COLUMNS} FROM cash_sessions WHERE id = ?1"),
            [id],
            session_row,
        )
        .optional()?)
}

/// The open session of this register, if any.
pub fn current_session(conn: &Connection) -> Result<Option<CashSession>> {
    let kiosk = super::meta::kiosk_id(conn)?;
    Ok(conn
        .query_row(
            &format!(
                "SELECT {SESSION_COLUMNS} FROM cash_sessions
                 WHERE kiosk_id = ?1 AND closed_utc IS NULL"
            ),
            [kiosk],
            session_row,
        )
        .optional()?)
}

/// The sessions of this register, newest first.
pub fn sessions(conn: &Connection, limit: i64) -> Result<Vec<CashSession>> {
    let kiosk = super::meta::kiosk_id(conn)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {SESSION_COLUMNS} FROM cash_sessions WHERE kiosk_id = ?1 ORDER BY id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![kiosk, limit], session_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Open for more than [`MAX_SESSION_HOURS`] at `now`: it must be closed before the next sale.
/// A closed session is never too old; an unreadable opening time is (the safe side).
pub fn session_too_old(session: &CashSession, now: DateTime<Utc>) -> bool {
    if !session.is_open() {
        return false;
    }
    match session.opened_at() {
        Some(opened) => now - opened > Duration::hours(MAX_SESSION_HOURS),
        None => true,
    }
}

fn open_one(conn: &Connection, id: i64) -> Result<CashSession> {
    let s = session(conn, id)?.ok_or(CashStoreError::UnknownSession(id))?;
    if !s.is_open() {
        return Err(CashStoreError::NotOpen(id));
    }
    Ok(s)
}

/// Opens a session with the counted float, by staff `by`: its row and its journal entry, in the
/// caller's transaction. Refused while a session is open on this register.
pub fn open_session(
    conn: &Connection,
    by: i64,
    float_cents: i64,
    now: DateTime<Utc>,
) -> Result<i64> {
    if float_cents < 0 {
        return Err(CashStoreError::BadAmount(format!("float {float_cents}")));
    }
    if let Some(open) = current_session(conn)? {
        return Err(CashStoreError::AlreadyOpen(open.id));
    }
    let kiosk = super::meta::kiosk_id(conn)?;
    let id: i64 = conn.query_row(
        "SELECT COALESCE(MAX(id), 0) + 1 FROM cash_sessions",
        [],
        |r| r.get(0),
    )?;
    let mut body = Map::new();
    body.insert("session".into(), id.into());
    body.insert("float_cents".into(), float_cents.into());
    body.insert("by".into(), by.into());
    let entry = journal::append(conn, KIND_SESSION_OPENED, now, body)?;
    conn.execute(
        "INSERT INTO cash_sessions (id, kiosk_id, opened_utc, opened_by, opened_seq, float_cents)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, kiosk, entry.time_utc, by, entry.seq, float_cents],
    )?;
    Ok(id)
}

/// Records cash put in (`cents` > 0) or taken out (< 0) of the drawer during open session
/// `session`: a row and a journal entry. Returns the movement's id.
pub fn add_movement(
    conn: &Connection,
    session: i64,
    by: i64,
    cents: i64,
    reason: MovementReason,
    now: DateTime<Utc>,
) -> Result<i64> {
    if !reason.accepts(cents) {
        return Err(CashStoreError::BadAmount(format!(
            "{cents} cents for {}",
            reason.code()
        )));
    }
    let s = open_one(conn, session)?;
    let id: i64 = conn.query_row(
        "SELECT COALESCE(MAX(id), 0) + 1 FROM cash_movements",
        [],
        |r| r.get(0),
    )?;
    let mut body = Map::new();
    body.insert("session".into(), session.into());
    body.insert("movement".into(), id.into());
    body.insert("cents".into(), cents.into());
    body.insert("reason".into(), reason.code().into());
    body.insert("by".into(), by.into());
    let entry = journal::append(conn, KIND_MOVEMENT, now, body)?;
    conn.execute(
        "INSERT INTO cash_movements (id, kiosk_id, session_id, seq, time_utc, by_staff, cents, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id,
            s.kiosk_id,
            session,
            entry.seq,
            entry.time_utc,
            by,
            cents,
            reason.code()
        ],
    )?;
    Ok(id)
}

/// The movements of a session, oldest first.
pub fn movements(conn: &Connection, session: i64) -> Result<Vec<Movement>> {
    let mut stmt = conn.prepare(
        "SELECT id, session_id, seq, time_utc, by_staff, cents, reason
         FROM cash_movements WHERE session_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([session], |r| {
        let reason: String = r.get(6)?;
        Ok(Movement {
            id: r.get(0)?,
            session_id: r.get(1)?,
            seq: r.get(2)?,
            time_utc: r.get(3)?,
            by: r.get(4)?,
            cents: r.get(5)?,
            reason: MovementReason::from_code(&reason).unwrap_or(MovementReason::Other),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The money of session `session` as the sales tables and the movements give it.
pub fn figures(conn: &Connection, session: i64) -> Result<SessionFigures> {
    let s = self::session(conn, session)?.ok_or(CashStoreError::UnknownSession(session))?;
    let mut f = SessionFigures::default();
    let (tickets, change, total): (i64, i64, i64) = conn.query_row(
        "SELECT count(*), COALESCE(SUM(change_cents), 0), COALESCE(SUM(total_cents), 0)
         FROM sales WHERE kiosk_id = ?1 AND cash_session_id = ?2 AND training = 0",
        params![s.kiosk_id, session],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    f.tickets = tickets;
    f.total_cents = total;
    let mut stmt = conn.prepare(
        "SELECT p.method, COALESCE(SUM(p.amount_cents), 0)
         FROM sale_payments p JOIN sales s ON s.kiosk_id = p.kiosk_id AND s.seq = p.seq
         WHERE s.kiosk_id = ?1 AND s.cash_session_id = ?2 AND s.training = 0
         GROUP BY p.method",
    )?;
    let rows = stmt.query_map(params![s.kiosk_id, session], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (method, cents) = row?;
        match method.as_str() {
            "cash" => f.cash_cents += cents,
            "card" => f.card_cents += cents,
            "cheque" => f.cheque_cents += cents,
            _ => f.credits_cents += cents,
        }
    }
    f.cash_cents -= change;
    f.movements = movements(conn, session)?;
    f.movements_cents = f.movements.iter().map(|m| m.cents).sum();
    f.expected_cents = s.float_cents + f.cash_cents + f.movements_cents;
    Ok(f)
}

/// The cash that should be in the drawer: float + cash kept by sales + movements.
pub fn expected_cash(conn: &Connection, session: i64) -> Result<i64> {
    Ok(figures(conn, session)?.expected_cents)
}

/// Closes open session `session` with the cash `counted` by staff `by`: expected, counted and
/// difference recorded on the row and in a journal entry, in the caller's transaction.
pub fn close_session(
    conn: &Connection,
    session: i64,
    by: i64,
    counted: &Denominations,
    now: DateTime<Utc>,
) -> Result<Closing> {
    open_one(conn, session)?;
    let expected = expected_cash(conn, session)?;
    let total = counted.total();
    let closing = Closing {
        expected,
        counted: total,
        difference: total - expected,
    };
    let detail = counted.to_value();
    let detail_text = journal::canonical_json(&detail).map_err(JournalError::from)?;
    let mut body = Map::new();
    body.insert("session".into(), session.into());
    body.insert("expected_cents".into(), expected.into());
    body.insert("counted_cents".into(), total.into());
    body.insert("difference_cents".into(), closing.difference.into());
    body.insert("detail".into(), detail);
    body.insert("by".into(), by.into());
    // The key's fingerprint, so that the Z report's witness names the key of its day.
    let key = journal::registered_key(conn)?
        .map(|k| journal::key_fingerprint(&k.public_key))
        .unwrap_or_else(|| "none".into());
    body.insert("key".into(), key.into());
    let entry = journal::append(conn, KIND_SESSION_CLOSED, now, body)?;
    let changed = conn.execute(
        "UPDATE cash_sessions SET closed_utc = ?2, closed_by = ?3, closed_seq = ?4,
             expected_cents = ?5, counted_cents = ?6, difference_cents = ?7, counted_detail = ?8
         WHERE id = ?1 AND closed_utc IS NULL",
        params![
            session,
            entry.time_utc,
            by,
            entry.seq,
            expected,
            total,
            closing.difference,
            detail_text
        ],
    )?;
    if changed != 1 {
        return Err(CashStoreError::NotOpen(session));
    }
    Ok(closing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denominations_count_only_real_coins_and_notes() {
        let d = Denominations::new()
            .with(1, 3)
            .unwrap()
            .with(200, 2)
            .unwrap()
            .with(50000, 1)
            .unwrap();
        assert_eq!(d.total(), 3 + 400 + 50000);
        assert!(Denominations::new().with(3, 1).is_err());
        assert!(Denominations::new().with(100, -1).is_err());
        let back = Denominations::from_value(&d.to_value()).unwrap();
        assert_eq!(back, d);
        assert_eq!(d.to_value().as_array().unwrap().len(), DENOMINATIONS.len());
    }

    #[test]
    fn movement_reasons_fit_their_sign() {
        assert!(MovementReason::FloatTopUp.accepts(100));
        assert!(!MovementReason::FloatTopUp.accepts(-100));
        assert!(MovementReason::BankDeposit.accepts(-100));
        assert!(!MovementReason::BankDeposit.accepts(100));
        assert!(!MovementReason::Other.accepts(0));
        for r in MovementReason::ALL {
            assert_eq!(MovementReason::from_code(r.code()), Some(r));
        }
    }
}
