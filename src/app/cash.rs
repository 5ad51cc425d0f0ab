//! The register's cash session: open it with the counted float, put cash in or take it out,
//! close it by counting the drawer per denomination, print the Z report. Selling needs an open
//! session no older than 24 hours ([`session_for_sale`]).
//!
//! Every action needs [`Action::CashSession`] (sellers and above) and runs in one transaction:
//! a refusal changes nothing. Errors carry a `code()` token for the UI.

use chrono::{DateTime, Utc};
use comptoir_hardware::printer::{Align, Column, Receipt, Style};

use super::receipt::register_name;
use super::roles::Action;
use super::session::Denied;
use super::Kiosk;
use crate::config::Association;
use crate::domain::money::{format_money, Lang};
use crate::store::cash::{
    self, CashSession, CashStoreError, Closing, Denominations, MovementReason, SessionFigures,
};
use crate::store::journal::JournalError;

const FR: Lang = Lang::Fr;

#[derive(Debug, thiserror::Error)]
pub enum CashError {
    #[error(transparent)]
    NotAllowed(#[from] Denied),
    #[error("cash session {0} is still open")]
    AlreadyOpen(i64),
    #[error("no cash session is open")]
    NoSession,
    /// Open for more than 24 hours: it must be closed before the next sale.
    #[error("cash session {id} was opened at {opened_utc}: close it first")]
    SessionTooOld { id: i64, opened_utc: String },
    #[error("bad amount: {0}")]
    BadAmount(String),
    #[error("the clock is earlier than the last recorded entry")]
    ClockBehind,
    #[error("database: {0}")]
    Store(String),
}

impl CashError {
    /// The token the UI maps to a translated message.
    pub fn code(&self) -> &'static str {
        match self {
            CashError::NotAllowed(_) => "not_allowed",
            CashError::AlreadyOpen(_) => "already_open",
            CashError::NoSession => "no_session",
            CashError::SessionTooOld { .. } => "session_too_old",
            CashError::BadAmount(_) => "bad_amount",
            CashError::ClockBehind => "clock_behind",
            CashError::Store(_) => "store",
        }
    }
}

impl From<CashStoreError> for CashError {
    fn from(e: CashStoreError) -> Self {
        match e {
            CashStoreError::AlreadyOpen(id) => CashError::AlreadyOpen(id),
            CashStoreError::NotOpen(_) | CashStoreError::UnknownSession(_) => CashError::NoSession,
            CashStoreError::BadAmount(what) => CashError::BadAmount(what),
            CashStoreError::Journal(JournalError::ClockBehind { .. }) => CashError::ClockBehind,
            other => CashError::Store(other.to_string()),
        }
    }
}

impl From<rusqlite::Error> for CashError {
    fn from(e: rusqlite::Error) -> Self {
        CashError::Store(e.to_string())
    }
}

impl From<JournalError> for CashError {
    fn from(e: JournalError) -> Self {
        CashStoreError::from(e).into()
    }
}

/// The clock rule (ARCHITECTURE.md, "Time"): nothing is written while the clock reads earlier
/// than the newest journal entry.
fn check_clock(kiosk: &Kiosk, now: DateTime<Utc>) -> Result<(), CashError> {
    crate::store::journal::check_clock(kiosk.store.conn(), now)?;
    Ok(())
}

/// Opens the register's session with the counted float. Returns its id.
pub fn open(kiosk: &mut Kiosk, float_cents: i64) -> Result<i64, CashError> {
    let me = kiosk.session.require(Action::CashSession)?.id;
    let now = kiosk.clock.now();
    check_clock(kiosk, now)?;
    let tx = kiosk.store.write()?;
    let id = cash::open_session(&tx, me, float_cents, now)?;
    tx.commit()?;
    Ok(id)
}

/// Cash put into (`cents` > 0) or taken out of (< 0) the drawer. Returns the movement's id.
pub fn movement(kiosk: &mut Kiosk, cents: i64, reason: MovementReason) -> Result<i64, CashError> {
    let me = kiosk.session.require(Action::CashSession)?.id;
    let now = kiosk.clock.now();
    check_clock(kiosk, now)?;
    let tx = kiosk.store.write()?;
    let session = cash::current_session(&tx)?.ok_or(CashError::NoSession)?;
    let id = cash::add_movement(&tx, session.id, me, cents, reason, now)?;
    tx.commit()?;
    Ok(id)
}

/// Closes the open session with the cash counted per denomination.
pub fn close(kiosk: &mut Kiosk, counted: &Denominations) -> Result<(i64, Closing), CashError> {
    let me = kiosk.session.require(Action::CashSession)?.id;
    let now = kiosk.clock.now();
    check_clock(kiosk, now)?;
    let tx = kiosk.store.write()?;
    let session = cash::current_session(&tx)?.ok_or(CashError::NoSession)?;
    let closing = cash::close_session(&tx, session.id, me, counted, now)?;
    tx.commit()?;
    Ok((session.id, closing))
}

/// The open session, for the screens (no role needed to look).
pub fn current(kiosk: &Kiosk) -> Result<Option<CashSession>, CashError> {
    Ok(cash::current_session(kiosk.store.conn())?)
}

/// The session a sale goes into: the open one, if it is no older than 24 hours.
pub fn session_for_sale(kiosk: &Kiosk) -> Result<i64, CashError> {
    let session = cash::current_session(kiosk.store.conn())?.ok_or(CashError::NoSession)?;
    if cash::session_too_old(&session, kiosk.clock.now()) {
        return Err(CashError::SessionTooOld {
            id: session.id,
            opened_utc: session.opened_utc,
        });
    }
    Ok(session.id)
}

/// The cash expected in the drawer of the open session now.
pub fn expected(kiosk: &Kiosk) -> Result<i64, CashError> {
    let session = cash::current_session(kiosk.store.conn())?.ok_or(CashError::NoSession)?;
    Ok(cash::expected_cash(kiosk.store.conn(), session.id)?)
}

/// How a movement reason is named on the Z report.
pub fn reason_label(reason: MovementReason) -> &'static str {
    match reason {
        MovementReason::FloatTopUp => "Apport de fonds",
        MovementReason::BankDeposit => "Remise en banque",
        MovementReason::Other => "Autre mouvement",
    }
}

/// The Z report of session `session` (open: an interim "X" report; closed: the Z report).
pub fn z_report(kiosk: &Kiosk, session: i64) -> Result<Receipt, CashError> {
    kiosk.session.require(Action::CashSession)?;
    let conn = kiosk.store.conn();
    let s = cash::session(conn, session)?.ok_or(CashError::NoSession)?;
    let figures = cash::figures(conn, session)?;
    let name = |id: i64| -> Result<String, CashError> {
        Ok(crate::store::people::staff_by_id(conn, id)?
            .map(|(staff, _)| staff.name)
            .unwrap_or_else(|| format!("n° {id}")))
    };
    let opened_by = name(s.opened_by)?;
    let closed_by = s.closed_by.map(name).transpose()?;
    // A witness of the journal: the closing entry's seq and hash, and the signing key.
    let witness = match s.closed_seq {
        Some(seq) => {
            let entry = crate::store::journal::entry(conn, seq)
                .map_err(crate::store::cash::CashStoreError::from)?;
            let key = crate::store::journal::registered_key(conn)
                .map_err(crate::store::cash::CashStoreError::from)?
                .map(|k| crate::store::journal::key_fingerprint(&k.public_key))
                .unwrap_or_else(|| "none".into());
            entry.map(|e| ZWitness {
                seq: e.seq,
                hash: e.hash,
                key,
            })
        }
        None => None,
    };
    Ok(z_report_for(
        &s,
        &figures,
        &opened_by,
        closed_by.as_deref(),
        &kiosk.config.association,
        kiosk.config.tz(),
        witness.as_ref(),
    ))
}

/// What a Z report prints of the journal: the closing entry (a head anyone can check later
/// with `comptoir journal verify --witness SEQ:HASH`) and the signing key's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZWitness {
    pub seq: i64,
    pub hash: String,
    pub key: String,
}

fn local_time(time_utc: &str, tz: chrono_tz::Tz) -> String {
    match DateTime::parse_from_rfc3339(time_utc) {
        Ok(t) => t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string(),
        Err(_) => time_utc.to_string(),
    }
}

fn money_row(left: impl Into<String>, cents: i64) -> Vec<Column> {
    vec![
        Column::new(left, 0, Align::Left),
        Column::new(format_money(cents, FR), 12, Align::Right),
    ]
}

/// The report itself, from what the store holds (pure: tests build it without a kiosk).
pub fn z_report_for(
    s: &CashSession,
    f: &SessionFigures,
    opened_by: &str,
    closed_by: Option<&str>,
    association: &Association,
    tz: chrono_tz::Tz,
    witness: Option<&ZWitness>,
) -> Receipt {
    let title = if s.is_open() {
        "RAPPORT X (session ouverte)"
    } else {
        "RAPPORT Z"
    };
    let mut r = Receipt::new()
        .text(association.name.clone(), Style::center().bold())
        .text(title, Style::center().bold().double())
        .separator()
        .bold_columns(vec![
            Column::new(format!("Session de caisse n° {}", s.id), 0, Align::Left),
            Column::new(
                format!("Caisse {}", register_name(&s.kiosk_id)),
                14,
                Align::Right,
            ),
        ])
        .line(format!(
            "Ouverte le {} par {}",
            local_time(&s.opened_utc, tz),
            opened_by
        ));
    if let Some(closed) = &s.closed_utc {
        r = r.line(format!(
            "Fermée le {} par {}",
            local_time(closed, tz),
            closed_by.unwrap_or("?")
        ));
    }
    r = r
        .separator()
        .columns(vec![
            Column::new("Tickets", 0, Align::Left),
            Column::new(f.tickets.to_string(), 12, Align::Right),
        ])
        .columns(money_row("Total des ventes TTC", f.total_cents))
        .separator()
        .columns(money_row("Fonds de caisse", s.float_cents))
        .columns(money_row("Ventes en espèces", f.cash_cents))
        .columns(money_row("Carte bancaire", f.card_cents))
        .columns(money_row("Chèques", f.cheque_cents));
    if f.credits_cents != 0 {
        r = r.columns(money_row("Bons compost", f.credits_cents));
    }
    r = r.separator();
    if f.movements.is_empty() {
        r = r.line("Aucun mouvement de caisse");
    } else {
        r = r.text("Mouvements de caisse", Style::left().bold());
        for m in &f.movements {
            r = r.columns(money_row(
                format!("{} {}", local_time(&m.time_utc, tz), reason_label(m.reason)),
                m.cents,
            ));
        }
        r = r.columns(money_row("Total des mouvements", f.movements_cents));
    }
    let expected = s.expected_cents.unwrap_or(f.expected_cents);
    r = r
        .separator()
        .bold_columns(money_row("Espèces attendues", expected));
    if let (Some(counted), Some(difference)) = (s.counted_cents, s.difference_cents) {
        r = r
            .bold_columns(money_row("Espèces comptées", counted))
            .bold_columns(money_row("Écart", difference));
        if let Some(d) = s.counted() {
            r = r
                .separator()
                .text("Détail du comptage", Style::left().bold());
            for &c in cash::DENOMINATIONS.iter().rev() {
                let n = d.count(c);
                if n != 0 {
                    r = r.columns(vec![
                        Column::new(format!("{n} × {}", format_money(c, FR)), 0, Align::Left),
                        Column::new(format_money(c * n, FR), 12, Align::Right),
                    ]);
                }
            }
        }
    }
    if let Some(w) = witness {
        let (first, second) = w.hash.split_at(w.hash.len() / 2);
        r = r
            .separator()
            .text("Journal (témoin de la chaîne)", Style::left().bold())
            .line(format!("Entrée n° {}", w.seq))
            .line(first.to_string())
            .line(second.to_string())
            .line(format!("Clé {}", w.key));
    }
    r.separator().feed(1).cut()
}
