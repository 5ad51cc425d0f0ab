//! The register's tickets, day by day: a copy for a customer who asks for one afterwards
//! (printed DUPLICATA, journaled before it prints) and the refund of an earlier sale (a new
//! ticket with negative amounts that references it; the sale itself is never changed).
//!
//! Refunding a sale of an earlier cash session, or more than `[selling]
//! refund_without_approval_cents` at once, needs the PIN of someone whose role is in `[selling]
//! refund_approval_roles` (the seller's own when their role is). The approver is kept in the
//! refund's entry (`approved_by`). A wrong PIN records nothing of the refund and counts as a
//! wrong PIN of the approver, like one typed at the staff sign-in (it leads to their lock).
//! Cancelling the sale just made (the sale screens) needs nobody's approval.

use chrono::{Duration, TimeZone, Utc};
use comptoir_hardware::config::PrinterSection;

use super::roles::Action;
use super::sell::{self, Refunded, SellError};
use super::session::{self, Denied, SignInError};
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
    /// This refund needs the PIN of someone in `[selling] refund_approval_roles`.
    #[error("this refund needs approval")]
    NeedsApproval(ApprovalReason),
    /// The approver's role is not in `[selling] refund_approval_roles`, or they are retired.
    #[error("this person cannot approve refunds")]
    NotAnApprover,
    /// The approver's PIN was wrong (recorded as their wrong PIN); tries left before the lock.
    #[error("wrong PIN")]
    WrongApproverPin { attempts_left: i64 },
    /// The approver is locked after too many wrong PINs; minutes left.
    #[error("the approver is locked")]
    ApproverLocked { minutes: i64 },
    /// Not 4 to 6 digits (not counted as a wrong PIN).
    #[error("a PIN has 4 to 6 digits")]
    BadPinLength,
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

/// Why a refund needs approval (both may hold; the earlier session is named first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalReason {
    /// The sale belongs to an earlier cash session.
    EarlierSession,
    /// More than `[selling] refund_without_approval_cents` goes back.
    Amount,
}

/// The PIN typed to approve a refund, and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub staff_id: i64,
    pub pin: String,
}

/// Where a refund's approval is typed (the screen recorded with a wrong PIN).
pub const APPROVAL_SCREEN: &str = "sell.tickets";

/// The sale `seq` (not a refund), and what a refund of `lines` (empty: all that are left) would
/// give back: `None` when none of those lines is left to refund.
fn refund_amount(
    kiosk: &Kiosk,
    seq: i64,
    lines: &[u32],
) -> Result<(sales::StoredSale, Option<i64>), TicketError> {
    let conn = kiosk.store.conn();
    let sale = sales::sale(conn, seq)
        .map_err(|e| TicketError::Store(e.to_string()))?
        .ok_or(TicketError::Unknown)?;
    if sale.kind == sales::SaleKind::Refund {
        return Err(TicketError::Unknown);
    }
    let left: Vec<i64> = refundable_lines(kiosk, seq)?
        .iter()
        .filter(|l| !l.refunded && (lines.is_empty() || lines.contains(&l.line_no)))
        .map(|l| l.net_cents)
        .collect();
    Ok((sale, (!left.is_empty()).then(|| left.iter().sum())))
}

/// Whether refunding `lines` of sale `seq` needs approval, and why.
pub fn approval_needed(
    kiosk: &Kiosk,
    seq: i64,
    lines: &[u32],
) -> Result<Option<ApprovalReason>, TicketError> {
    kiosk.session.require(Action::Sell)?;
    let (sale, amount) = refund_amount(kiosk, seq, lines)?;
    // Nothing left to refund: the refund itself says so, nobody needs to approve it.
    let Some(amount) = amount else {
        return Ok(None);
    };
    let current = crate::store::cash::current_session(kiosk.store.conn())
        .map_err(|e| TicketError::Store(e.to_string()))?
        .map(|s| s.id);
    // A sale outside the open register session (an earlier one, or none) is not this
    // seller's to refund alone.
    if sale.cash_session.is_none() || sale.cash_session != current {
        return Ok(Some(ApprovalReason::EarlierSession));
    }
    if amount > kiosk.config.selling.refund_without_approval_cents {
        return Ok(Some(ApprovalReason::Amount));
    }
    Ok(None)
}

/// Active people whose role may approve a refund (`[selling] refund_approval_roles`), by name.
pub fn approvers(kiosk: &Kiosk) -> Result<Vec<crate::store::people::Staff>, TicketError> {
    let roles = &kiosk.config.selling.refund_approval_roles;
    Ok(crate::store::people::active_staff(kiosk.store.conn())?
        .into_iter()
        .filter(|s| roles.iter().any(|r| r == s.role.as_str()))
        .collect())
}

/// Checks an approval: the approver may approve, is not locked, and the PIN is theirs. A wrong
/// PIN is recorded (and may lock the approver) and refused.
fn check_approval(kiosk: &mut Kiosk, approval: &Approval) -> Result<(), TicketError> {
    use crate::store::people;
    if !session::pin_well_formed(&approval.pin) {
        return Err(TicketError::BadPinLength);
    }
    let (staff, hash) = people::staff_by_id(kiosk.store.conn(), approval.staff_id)?
        .ok_or(TicketError::NotAnApprover)?;
    let roles = &kiosk.config.selling.refund_approval_roles;
    if !staff.active || !roles.iter().any(|r| r == staff.role.as_str()) {
        return Err(TicketError::NotAnApprover);
    }
    let now = kiosk.clock.now();
    if let Some(minutes) = session::lock_minutes_left(&kiosk.store, staff.id, now)? {
        return Err(TicketError::ApproverLocked { minutes });
    }
    if people::verify_pin(&approval.pin, &hash) {
        return Ok(());
    }
    let refusal = session::record_failure(&kiosk.store, staff.id, &utc_text(now), APPROVAL_SCREEN)?;
    Err(match refusal {
        SignInError::Locked { minutes } => TicketError::ApproverLocked { minutes },
        SignInError::WrongPin { attempts_left } => TicketError::WrongApproverPin { attempts_left },
        _ => TicketError::Store("unexpected refusal".into()),
    })
}

/// Refunds some lines of an earlier sale (`lines` empty: all that are left), from this
/// register's open cash session. A line already refunded is refused, nothing recorded. A
/// refund that needs approval is refused ([`TicketError::NeedsApproval`]): see
/// [`refund_lines_approved`].
pub fn refund_lines(kiosk: &mut Kiosk, seq: i64, lines: &[u32]) -> Result<Refunded, TicketError> {
    refund_lines_approved(kiosk, seq, lines, None)
}

/// [`refund_lines`] with an approval, when it needs one: the approver's PIN is checked first
/// and their staff id kept in the refund. An approval a refund does not need is not checked
/// nor kept.
pub fn refund_lines_approved(
    kiosk: &mut Kiosk,
    seq: i64,
    lines: &[u32],
    approval: Option<&Approval>,
) -> Result<Refunded, TicketError> {
    kiosk.session.require(Action::Sell)?;
    let approved_by = match approval_needed(kiosk, seq, lines)? {
        None => None,
        Some(reason) => {
            let approval = approval.ok_or(TicketError::NeedsApproval(reason))?;
            check_approval(kiosk, approval)?;
            Some(approval.staff_id)
        }
    };
    Ok(sell::refund_lines_approved(kiosk, seq, lines, approved_by)?)
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
