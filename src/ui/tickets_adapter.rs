//! Adapter of the tickets screen: the day's tickets, copies and refunds.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::{
    AppWindow, ApproverTile, RefundLineRow, Shared, TicketMessage, TicketRow, TicketsAdapter,
};
use crate::app::cash::CashError;
use crate::app::sell::SellError;
use crate::app::tickets::{self, ApprovalReason, TicketError};
use crate::app::{self, Kiosk};
use crate::devices::Devices;
use crate::domain::money::format_money;
use crate::store::cash::MovementReason;

/// Which day the list shows and which refund waits for its second tap.
#[derive(Debug, Default)]
struct Browsing {
    days_back: u32,
    confirm_refund: i64,
    /// Lines of that ticket the seller took out of the refund (every line left is in by
    /// default: a customer brings back the whole basket more often than not).
    refund_left_out: std::collections::BTreeSet<u32>,
    /// The cash in/out panel: open, reason (0 float top-up, 1 bank deposit), cents typed.
    movement_open: bool,
    movement_reason: i32,
    movement_cents: i64,
    /// The approval panel of a refund that needs it: the refund waiting (ticket, lines).
    approval: Option<PendingApproval>,
}

/// A refund waiting for its approval: who approves and the PIN typed so far.
#[derive(Debug, Default)]
struct PendingApproval {
    seq: i64,
    lines: Vec<u32>,
    reason: Option<ApprovalReason>,
    approver: i64,
    pin: String,
}

thread_local! {
    static BROWSING: Rc<RefCell<Browsing>> = Rc::new(RefCell::new(Browsing::default()));
}

fn browsing() -> Rc<RefCell<Browsing>> {
    BROWSING.with(|b| b.clone())
}

fn message_of(e: &TicketError) -> TicketMessage {
    match e {
        TicketError::Denied(_) => TicketMessage::NotAllowed,
        TicketError::NoPrinter => TicketMessage::NoPrinter,
        TicketError::ClockBehind => TicketMessage::ClockBehind,
        TicketError::Sell(SellError::AlreadyRefunded) => TicketMessage::AlreadyRefunded,
        TicketError::Sell(SellError::ClockBehind) => TicketMessage::ClockBehind,
        TicketError::Sell(SellError::Denied(_)) => TicketMessage::NotAllowed,
        TicketError::Sell(SellError::Cash(CashError::NoSession))
        | TicketError::Sell(SellError::Cash(CashError::SessionTooOld { .. })) => {
            TicketMessage::NoSession
        }
        TicketError::NeedsApproval(_) => TicketMessage::ChooseApprover,
        TicketError::NotAnApprover => TicketMessage::NotAnApprover,
        TicketError::WrongApproverPin { .. } => TicketMessage::WrongApproverPin,
        TicketError::ApproverLocked { .. } => TicketMessage::ApproverLocked,
        TicketError::BadPinLength => TicketMessage::ShortPin,
        _ => TicketMessage::Failed,
    }
}

/// The number a message shows: the ticket, or the approver's tries left or minutes locked.
fn message_number(e: &TicketError, seq: i64) -> i32 {
    match e {
        TicketError::WrongApproverPin { attempts_left } => *attempts_left as i32,
        TicketError::ApproverLocked { minutes } => *minutes as i32,
        _ => seq as i32,
    }
}

fn movement_message(e: &CashError) -> TicketMessage {
    match e {
        CashError::NotAllowed(_) => TicketMessage::NotAllowed,
        CashError::NoSession | CashError::SessionTooOld { .. } => TicketMessage::NoSession,
        CashError::BadAmount(_) => TicketMessage::BadAmount,
        CashError::ClockBehind => TicketMessage::ClockBehind,
        _ => TicketMessage::Failed,
    }
}

/// Opening the screen starts on today with no message.
pub(super) fn reset(window: &AppWindow) {
    *browsing().borrow_mut() = Browsing::default();
    window
        .global::<TicketsAdapter>()
        .set_message(TicketMessage::None);
}

/// Screenshots: the latest day with tickets, within two weeks.
pub(super) fn show_latest_day(kiosk: &Kiosk) {
    let days = (0..14u32)
        .find(|&d| tickets::day(kiosk, d).is_ok_and(|t| !t.is_empty()))
        .unwrap_or(0);
    *browsing().borrow_mut() = Browsing {
        days_back: days,
        ..Browsing::default()
    };
}

pub(super) fn wire(
    window: &AppWindow,
    kiosk: &Shared,
    devices: &Rc<RefCell<Devices>>,
    idle: &Rc<slint::Timer>,
) {
    let a = window.global::<TicketsAdapter>();
    let day_step = |delta: i64| {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        move || {
            let Some(w) = weak.upgrade() else { return };
            {
                let b = browsing();
                let mut b = b.borrow_mut();
                let days =
                    (i64::from(b.days_back) + delta).clamp(0, i64::from(tickets::MAX_DAYS_BACK));
                b.days_back = days as u32;
                b.confirm_refund = 0;
            }
            w.global::<TicketsAdapter>()
                .set_message(TicketMessage::None);
            super::touched(&w, &k, &idle);
            refresh(&w, &k.borrow());
        }
    };
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_open(move || {
            let Some(w) = weak.upgrade() else { return };
            reset(&w);
            k.borrow_mut().navigate(app::Screen::SellTickets);
            super::touched(&w, &k, &idle);
            super::refresh(&w, &k);
        });
    }
    // The cash in/out panel.
    let on_movement = |f: fn(&mut Browsing, &str)| {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        move |arg: slint::SharedString| {
            let Some(w) = weak.upgrade() else { return };
            f(&mut browsing().borrow_mut(), arg.as_str());
            w.global::<TicketsAdapter>()
                .set_message(TicketMessage::None);
            super::touched(&w, &k, &idle);
            refresh(&w, &k.borrow());
        }
    };
    let open = on_movement(|b, _| {
        b.movement_open = true;
        b.movement_reason = 0;
        b.movement_cents = 0;
    });
    a.on_open_movement(move || open("".into()));
    let cancel = on_movement(|b, _| b.movement_open = false);
    a.on_movement_cancel(move || cancel("".into()));
    let choose = on_movement(|b, r| b.movement_reason = r.parse().unwrap_or(0));
    a.on_movement_reason_chosen(move |r| choose(r.to_string().into()));
    a.on_movement_digit(on_movement(|b, d| {
        if let Some(x) = d.chars().next().and_then(|c| c.to_digit(10)) {
            let c = b.movement_cents * 10 + i64::from(x);
            if c <= 9_999_999 {
                b.movement_cents = c;
            }
        }
    }));
    let erase = on_movement(|b, _| b.movement_cents /= 10);
    a.on_movement_erase(move || erase("".into()));
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_movement_confirm(move || {
            let Some(w) = weak.upgrade() else { return };
            let (reason, cents) = {
                let b = browsing();
                let b = b.borrow();
                (b.movement_reason, b.movement_cents)
            };
            let a = w.global::<TicketsAdapter>();
            let result = if cents <= 0 {
                Err(CashError::BadAmount("zero".into()))
            } else if reason == 1 {
                crate::app::cash::movement(&mut k.borrow_mut(), -cents, MovementReason::BankDeposit)
            } else {
                crate::app::cash::movement(&mut k.borrow_mut(), cents, MovementReason::FloatTopUp)
            };
            match result {
                Ok(_) => {
                    browsing().borrow_mut().movement_open = false;
                    let signed = if reason == 1 { -cents } else { cents };
                    a.set_message_amount(format_money(signed, k.borrow().lang()).into());
                    a.set_message(TicketMessage::Moved);
                }
                Err(e) => a.set_message(movement_message(&e)),
            }
            super::touched(&w, &k, &idle);
            refresh(&w, &k.borrow());
        });
    }
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_toggle_training(move || {
            let Some(w) = weak.upgrade() else { return };
            let on = !k.borrow().sell.training;
            let result = tickets::set_training(&mut k.borrow_mut(), on);
            w.global::<TicketsAdapter>().set_message(match &result {
                Ok(()) => TicketMessage::None,
                Err(e) => message_of(e),
            });
            super::touched(&w, &k, &idle);
            super::refresh(&w, &k);
        });
    }
    a.on_previous_day(day_step(1));
    a.on_next_day(day_step(-1));
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_back(move || {
            let Some(w) = weak.upgrade() else { return };
            k.borrow_mut().navigate(app::Screen::SellCatalog);
            super::touched(&w, &k, &idle);
            super::refresh(&w, &k);
        });
    }
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let d = devices.clone();
        let idle = idle.clone();
        a.on_reprint(move |seq| {
            let Some(w) = weak.upgrade() else { return };
            let seq = i64::from(seq);
            let result = {
                let dev = d.borrow();
                tickets::reprint(&mut k.borrow_mut(), dev.printer_section(), seq)
            };
            if result.is_ok() {
                d.borrow().wake_printer();
            }
            browsing().borrow_mut().confirm_refund = 0;
            let a = w.global::<TicketsAdapter>();
            a.set_message_ticket(seq as i32);
            a.set_message(match &result {
                Ok(_) => TicketMessage::Reprinted,
                Err(e) => message_of(e),
            });
            super::touched(&w, &k, &idle);
            refresh(&w, &k.borrow());
        });
    }
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_refund_toggle(move |line| {
            let Some(w) = weak.upgrade() else { return };
            toggle_refund_line(line);
            w.global::<TicketsAdapter>()
                .set_message(TicketMessage::None);
            super::touched(&w, &k, &idle);
            refresh(&w, &k.borrow());
        });
    }
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_refund(move |seq| {
            let Some(w) = weak.upgrade() else { return };
            let seq = i64::from(seq);
            let b = browsing();
            // The first tap shows the lines and asks for confirmation; the second refunds the
            // lines chosen.
            if b.borrow().confirm_refund != seq {
                b.borrow_mut().confirm_refund = seq;
                b.borrow_mut().refund_left_out.clear();
                w.global::<TicketsAdapter>()
                    .set_message(TicketMessage::None);
                super::touched(&w, &k, &idle);
                refresh(&w, &k.borrow());
                return;
            }
            let left_out = std::mem::take(&mut b.borrow_mut().refund_left_out);
            let lines: Vec<u32> = tickets::refundable_lines(&k.borrow(), seq)
                .unwrap_or_default()
                .into_iter()
                .filter(|l| !l.refunded && !left_out.contains(&l.line_no))
                .map(|l| l.line_no)
                .collect();
            if lines.is_empty() {
                // Nothing chosen: nothing to do, the panel stays for another choice.
                b.borrow_mut().refund_left_out = left_out;
                w.global::<TicketsAdapter>()
                    .set_message(TicketMessage::NothingChosen);
                super::touched(&w, &k, &idle);
                refresh(&w, &k.borrow());
                return;
            }
            // A refund that needs approval opens the approval panel; the seller is chosen
            // when their own role approves.
            let needed = tickets::approval_needed(&k.borrow(), seq, &lines);
            if let Ok(Some(reason)) = needed {
                let me = k.borrow().session.current().map_or(0, |s| s.id);
                let approvers = tickets::approvers(&k.borrow()).unwrap_or_default();
                b.borrow_mut().refund_left_out = left_out;
                b.borrow_mut().approval = Some(PendingApproval {
                    seq,
                    lines,
                    reason: Some(reason),
                    approver: if approvers.iter().any(|s| s.id == me) {
                        me
                    } else {
                        0
                    },
                    pin: String::new(),
                });
                w.global::<TicketsAdapter>()
                    .set_message(TicketMessage::None);
                super::touched(&w, &k, &idle);
                refresh(&w, &k.borrow());
                return;
            }
            b.borrow_mut().confirm_refund = 0;
            let result = tickets::refund_lines(&mut k.borrow_mut(), seq, &lines);
            show_refund(&w, &k.borrow(), seq, &result);
            super::touched(&w, &k, &idle);
            refresh(&w, &k.borrow());
        });
    }
    // The approval panel.
    let on_approval = |f: fn(&mut PendingApproval, &str)| {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        move |arg: slint::SharedString| {
            let Some(w) = weak.upgrade() else { return };
            if let Some(p) = browsing().borrow_mut().approval.as_mut() {
                f(p, arg.as_str());
            }
            w.global::<TicketsAdapter>()
                .set_message(TicketMessage::None);
            super::touched(&w, &k, &idle);
            refresh(&w, &k.borrow());
        }
    };
    let choose = on_approval(|p, id| {
        p.approver = id.parse().unwrap_or(0);
        p.pin.clear();
    });
    a.on_approval_choose(move |id| choose(id.to_string().into()));
    a.on_approval_digit(on_approval(|p, d| {
        if p.pin.len() < 6 && d.chars().all(|c| c.is_ascii_digit()) {
            p.pin.push_str(d);
        }
    }));
    let erase = on_approval(|p, _| {
        p.pin.pop();
    });
    a.on_approval_erase(move || erase("".into()));
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_approval_cancel(move || {
            let Some(w) = weak.upgrade() else { return };
            browsing().borrow_mut().approval = None;
            w.global::<TicketsAdapter>()
                .set_message(TicketMessage::None);
            super::touched(&w, &k, &idle);
            refresh(&w, &k.borrow());
        });
    }
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_approval_ok(move || {
            let Some(w) = weak.upgrade() else { return };
            let b = browsing();
            let Some((seq, lines, approval)) = b.borrow_mut().approval.as_mut().map(|p| {
                (
                    p.seq,
                    p.lines.clone(),
                    tickets::Approval {
                        staff_id: p.approver,
                        pin: std::mem::take(&mut p.pin),
                    },
                )
            }) else {
                return;
            };
            let result = if approval.staff_id == 0 {
                Err(TicketError::NotAnApprover)
            } else {
                tickets::refund_lines_approved(&mut k.borrow_mut(), seq, &lines, Some(&approval))
            };
            // A wrong PIN keeps the panel open for another try (or another approver); anything
            // else closes it and says what happened.
            let stays = matches!(
                result,
                Err(TicketError::WrongApproverPin { .. }
                    | TicketError::ApproverLocked { .. }
                    | TicketError::NotAnApprover
                    | TicketError::BadPinLength)
            );
            if !stays {
                let mut b = b.borrow_mut();
                b.approval = None;
                b.confirm_refund = 0;
                b.refund_left_out.clear();
            }
            show_refund(&w, &k.borrow(), seq, &result);
            super::touched(&w, &k, &idle);
            refresh(&w, &k.borrow());
        });
    }
}

/// What a refund's outcome says on the screen.
fn show_refund(
    window: &AppWindow,
    kiosk: &Kiosk,
    seq: i64,
    result: &Result<crate::app::sell::Refunded, TicketError>,
) {
    let a = window.global::<TicketsAdapter>();
    match result {
        Ok(r) => {
            a.set_message_ticket(r.seq as i32);
            a.set_message_amount(format_money(r.amount, kiosk.lang()).into());
            a.set_message(TicketMessage::Refunded);
        }
        Err(e) => {
            a.set_message_ticket(message_number(e, seq));
            a.set_message(message_of(e));
        }
    }
}

/// A line of the ticket waiting for its refund, taken in or out of it.
fn toggle_refund_line(line: i32) {
    let b = browsing();
    let mut b = b.borrow_mut();
    let line = line as u32;
    if !b.refund_left_out.remove(&line) {
        b.refund_left_out.insert(line);
    }
}

/// Fills the day's list.
pub(super) fn refresh(window: &AppWindow, kiosk: &Kiosk) {
    let b = browsing();
    let b = b.borrow();
    let a = window.global::<TicketsAdapter>();
    let l = kiosk.lang();
    let tz = kiosk.config.tz();
    let list = match tickets::day(kiosk, b.days_back) {
        Ok(list) => {
            a.set_read_failed(false);
            list
        }
        Err(e) => {
            log::error!("tickets of the day: {e}");
            a.set_read_failed(true);
            Vec::new()
        }
    };
    let rows: Vec<TicketRow> = list
        .into_iter()
        .map(|t| {
            let time = chrono::DateTime::parse_from_rfc3339(&t.time_utc)
                .map(|x| x.with_timezone(&tz).format("%H:%M").to_string())
                .unwrap_or_default();
            TicketRow {
                seq: t.seq as i32,
                time: time.into(),
                cashier: t.cashier_name.as_str().into(),
                total: format_money(t.total_cents, l).into(),
                refund: t.refund,
                refund_of: t.refund_of.unwrap_or(0) as i32,
                fully_refunded: !t.refund && t.total_cents + t.refunded_cents <= 0,
                partly_refunded: !t.refund && t.refunded_cents < 0,
                training: t.training,
                reprints: t.reprints as i32,
            }
        })
        .collect();
    a.set_tickets(ModelRc::new(VecModel::from(rows)));
    let day = kiosk.clock.now().with_timezone(&tz).date_naive()
        - chrono::Duration::days(i64::from(b.days_back));
    a.set_day(day.format("%d/%m/%Y").to_string().into());
    a.set_is_today(b.days_back == 0);
    a.set_can_go_back(b.days_back < tickets::MAX_DAYS_BACK);
    a.set_confirm_refund(b.confirm_refund as i32);
    let mut refund_total = 0;
    let refund_rows: Vec<RefundLineRow> = if b.confirm_refund > 0 {
        tickets::refundable_lines(kiosk, b.confirm_refund)
            .unwrap_or_default()
            .into_iter()
            .map(|line| {
                let chosen = !line.refunded && !b.refund_left_out.contains(&line.line_no);
                if chosen {
                    refund_total += line.net_cents;
                }
                RefundLineRow {
                    line: line.line_no as i32,
                    label: line.label.into(),
                    amount: format_money(line.net_cents, l).into(),
                    chosen,
                    refunded: line.refunded,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    a.set_refund_lines(ModelRc::new(VecModel::from(refund_rows)));
    a.set_refund_total(format_money(refund_total, l).into());
    let chosen: Vec<u32> = if b.confirm_refund > 0 {
        tickets::refundable_lines(kiosk, b.confirm_refund)
            .unwrap_or_default()
            .into_iter()
            .filter(|l| !l.refunded && !b.refund_left_out.contains(&l.line_no))
            .map(|l| l.line_no)
            .collect()
    } else {
        Vec::new()
    };
    let reason = match &b.approval {
        Some(p) => p.reason,
        None if !chosen.is_empty() => {
            tickets::approval_needed(kiosk, b.confirm_refund, &chosen).unwrap_or(None)
        }
        None => None,
    };
    a.set_approval_reason(match reason {
        None => 0,
        Some(ApprovalReason::EarlierSession) => 1,
        Some(ApprovalReason::Amount) => 2,
    });
    a.set_approval_open(b.approval.is_some());
    let approvers: Vec<ApproverTile> = if b.approval.is_some() {
        tickets::approvers(kiosk)
            .unwrap_or_default()
            .into_iter()
            .map(|s| ApproverTile {
                id: s.id as i32,
                name: s.name.into(),
            })
            .collect()
    } else {
        Vec::new()
    };
    a.set_approvers(ModelRc::new(VecModel::from(approvers)));
    a.set_approver(b.approval.as_ref().map_or(0, |p| p.approver as i32));
    a.set_approval_pin_length(b.approval.as_ref().map_or(0, |p| p.pin.len() as i32));
    a.set_training(kiosk.sell.training);
    a.set_movement_open(b.movement_open);
    a.set_movement_reason(b.movement_reason);
    a.set_movement_amount(format_money(b.movement_cents, l).into());
}
