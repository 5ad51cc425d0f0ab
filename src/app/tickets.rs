//! The register's tickets, day by day: a copy for a customer who asks for one afterwards
//! (printed DUPLICATA, journaled before it prints) and the refund of an earlier sale (a new
//! ticket with negative amounts that references it; the sale itself is never changed).

use chrono::{Duration, TimeZone, Utc};
use comptoir_hardware::config::PrinterSection;

use super::roles::Action;
use super::sell::{self, Refunded, SellError};
use super::session::Denied;
use super::Kiosk;
use crate::store::tickets::{self, Ticket};
use crate::store::{print_queue, sales, utc_text};

/// The most tickets one day's list shows (a market day has a few hundred at most).
pub const DAY_LIMIT: usize = 500;

/// How far back the list goes, in days.
pub const MAX_DAYS_BACK: u32 = 92;

#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("no such ticket")]
    Unknown,
    #[error("no printer is configured")]
    NoPrinter,
    #[error("the clock is behind the journal")]
    ClockBehind,
    #[error(transparent)]
    Sell(#[from] SellError),
    #[error("database: {0}")]
    Store(String),
}

impl From<rusqlite::Error> for TicketError {
    fn from(e: rusqlite::Error) -> Self {
        TicketError::Store(e.to_string())
    }
}

impl From<crate::store::journal::JournalError> for TicketError {
    fn from(e: crate::store::journal::JournalError) -> Self {
        match e {
            crate::store::journal::JournalError::ClockBehind { .. } => TicketError::ClockBehind,
            other => TicketError::Store(other.to_string()),
        }
    }
}

/// The tickets of the local day `days_back` days before today, newest first.
pub fn day(kiosk: &Kiosk, days_back: u32) -> Result<Vec<Ticket>, TicketError> {
    kiosk.session.require(Action::Sell)?;
    let tz = kiosk.config.tz();
    let today = kiosk.clock.now().with_timezone(&tz).date_naive();
    let date = today - Duration::days(i64::from(days_back.min(MAX_DAYS_BACK)));
    let start = |d: chrono::NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
    };
    let from = start(date);
    let to = start(date + Duration::days(1));
    Ok(tickets::tickets_between(
        kiosk.store.conn(),
        from,
        to,
        DAY_LIMIT,
    )?)
}

/// Prints a copy of ticket `seq`: the reprint is journaled first (who, when), then the copy,
/// marked DUPLICATA, is queued for the printer.
pub fn reprint(
    kiosk: &mut Kiosk,
    section: Option<&PrinterSection>,
    seq: i64,
) -> Result<i64, TicketError> {
    let me = kiosk.session.require(Action::Sell)?.id;
    let section = section.ok_or(TicketError::NoPrinter)?;
    let sale = sales::sale(kiosk.store.conn(), seq)
        .map_err(|e| TicketError::Store(e.to_string()))?
        .ok_or(TicketError::Unknown)?;
    let now = kiosk.clock.now();
    let receipt = super::receipt::receipt_for(&sale, &kiosk.config, true);
    let bytes = crate::devices::printer::encode(section, &receipt);
    let tx = kiosk.store.write()?;
    let entry = tickets::record_reprint(&tx, seq, me, now)?;
    print_queue::enqueue(&tx, &format!("duplicata {seq}"), &bytes, &utc_text(now))?;
    tx.commit()?;
    Ok(entry.seq)
}

/// Refunds what is left of an earlier sale, from this register's open cash session.
pub fn refund(kiosk: &mut Kiosk, seq: i64) -> Result<Refunded, TicketError> {
    refund_lines(kiosk, seq, &[])
}

/// Refunds some lines of an earlier sale (`lines` empty: all that are left), from this
/// register's open cash session. A line already refunded is refused, nothing recorded.
pub fn refund_lines(kiosk: &mut Kiosk, seq: i64, lines: &[u32]) -> Result<Refunded, TicketError> {
    kiosk.session.require(Action::Sell)?;
    let sale = sales::sale(kiosk.store.conn(), seq)
        .map_err(|e| TicketError::Store(e.to_string()))?
        .ok_or(TicketError::Unknown)?;
    if sale.kind == sales::SaleKind::Refund {
        return Err(TicketError::Unknown);
    }
    Ok(sell::refund_lines(kiosk, seq, lines)?)
}

/// A line of a sale, as the refund panel shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundableLine {
    pub line_no: u32,
    pub label: String,
    /// What the customer paid for it (discounts taken off).
    pub net_cents: i64,
    /// Refunded by an earlier refund: it cannot be refunded again.
    pub refunded: bool,
}

/// The lines of sale `seq`, each marked when an earlier refund already gave it back.
pub fn refundable_lines(kiosk: &Kiosk, seq: i64) -> Result<Vec<RefundableLine>, TicketError> {
    kiosk.session.require(Action::Sell)?;
    let conn = kiosk.store.conn();
    let sale = sales::sale(conn, seq)
        .map_err(|e| TicketError::Store(e.to_string()))?
        .ok_or(TicketError::Unknown)?;
    if sale.kind == sales::SaleKind::Refund {
        return Err(TicketError::Unknown);
    }
    let refunded: std::collections::BTreeSet<u32> = sales::refunds_of(conn, seq)
        .map_err(|e| TicketError::Store(e.to_string()))?
        .iter()
        .flat_map(|r| r.lines.iter().map(|l| l.line_no))
        .collect();
    Ok(sale
        .lines
        .iter()
        .map(|l| RefundableLine {
            line_no: l.line_no,
            label: l.label.clone(),
            net_cents: l.net_cents,
            refunded: refunded.contains(&l.line_no),
        })
        .collect())
}

/// Journal kinds of the switches of training mode.
pub const KIND_TRAINING_STARTED: &str = "training_started";
pub const KIND_TRAINING_ENDED: &str = "training_ended";

/// Switches training mode on or off (admins: a trainer). The switch is a journal entry; while
/// it is on every ticket is a training ticket, bannered on screen and on paper and counted in
/// no real total (closures, cash sessions, reports). A restart always comes back to real mode.
pub fn set_training(kiosk: &mut Kiosk, on: bool) -> Result<(), TicketError> {
    let me = kiosk.session.require(Action::Settings)?.id;
    if kiosk.sell.training == on {
        return Ok(());
    }
    let now = kiosk.clock.now();
    let tx = kiosk.store.write()?;
    let mut body = serde_json::Map::new();
    body.insert("staff_id".into(), serde_json::Value::from(me));
    crate::store::journal::append(
        &tx,
        if on {
            KIND_TRAINING_STARTED
        } else {
            KIND_TRAINING_ENDED
        },
        now,
        body,
    )?;
    tx.commit()?;
    kiosk.sell.training = on;
    Ok(())
}

/// Copies of ticket `seq` printed from the kiosk so far.
pub fn reprints(kiosk: &Kiosk, seq: i64) -> Result<i64, TicketError> {
    Ok(tickets::reprint_count(kiosk.store.conn(), seq)?)
}
