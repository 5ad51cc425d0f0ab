//! Printing from the kiosk: jobs are encoded for the configured printer and queued in the
//! database; the printer worker prints them when it can (jobs queued more than a day ago only
//! once confirmed on the admin devices screen; printed jobs are purged after 7 days, and
//! `comptoir receipt SEQ` remakes any receipt from the journal). The cash drawer is never
//! queued: it opens now or not at all.

use comptoir_hardware::cards::CardPayload;
use comptoir_hardware::config::PrinterSection;
use comptoir_hardware::printer::{Receipt, Style};

use super::Kiosk;
use crate::store::{print_queue, utc_text};

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("no printer is configured")]
    NoPrinter,
    #[error("database: {0}")]
    Store(#[from] rusqlite::Error),
    #[error("sale: {0}")]
    Sale(String),
    #[error("only an administrator may do this")]
    NotAllowed,
    #[error("cash session: {0}")]
    Cash(#[from] super::cash::CashError),
}

/// What follows a stored sale. The drawer rule: the cash drawer opens if cash changed hands
/// and a drawer hangs on the printer; the kick goes to the printer now, a printer that is off
/// drops it (the seller opens the drawer with its key), it never fires later. Where the config
/// says every receipt prints (`[selling] print_every_receipt`, weighing-instrument tickets),
/// the receipt is queued. Returns whether it was; an error says why not (the sale stays
/// recorded).
pub fn after_sale(
    kiosk: &Kiosk,
    devices: &crate::devices::Devices,
    done: &super::sell::Done,
) -> Result<bool, PrintError> {
    if done.cash && devices.printer_section().is_some_and(|s| s.drawer) {
        devices.open_drawer();
    }
    if !kiosk.config.selling.print_every_receipt {
        return Ok(false);
    }
    queue_last_receipt(kiosk, devices).map(|()| true)
}

/// Queues the receipt of the sale just made (the customer asked for it, or every receipt
/// prints) and wakes the printer.
pub fn queue_last_receipt(
    kiosk: &Kiosk,
    devices: &crate::devices::Devices,
) -> Result<(), PrintError> {
    let section = devices.printer_section().ok_or(PrintError::NoPrinter)?;
    let seq = kiosk
        .sell
        .last_done
        .as_ref()
        .map(|d| d.seq)
        .ok_or_else(|| PrintError::Sale("no sale made yet".into()))?;
    queue_receipt(kiosk, section, seq)?;
    devices.wake_printer();
    Ok(())
}

/// Held jobs (queued more than a day ago) as the admin devices screen lists them.
pub fn held_jobs(kiosk: &Kiosk) -> Vec<print_queue::HeldJob> {
    print_queue::held(kiosk.store.conn(), kiosk.clock.now()).unwrap_or_else(|e| {
        log::error!("print queue: {e}");
        Vec::new()
    })
}

/// An admin's "print" on held jobs (one or all): they print at the printer's next turn.
pub fn confirm_held(kiosk: &Kiosk, which: print_queue::Which) -> Result<usize, PrintError> {
    kiosk
        .session
        .require(super::Action::Devices)
        .map_err(|_| PrintError::NotAllowed)?;
    let n = print_queue::confirm(kiosk.store.conn(), which, kiosk.clock.now())?;
    log::info!("print queue: {n} held job(s) confirmed");
    Ok(n)
}

/// An admin's "drop" on held jobs (one or all): deleted unprinted.
pub fn drop_held(kiosk: &Kiosk, which: print_queue::Which) -> Result<usize, PrintError> {
    kiosk
        .session
        .require(super::Action::Devices)
        .map_err(|_| PrintError::NotAllowed)?;
    let n = print_queue::drop_held(kiosk.store.conn(), which, kiosk.clock.now())?;
    log::info!("print queue: {n} held job(s) dropped");
    Ok(n)
}

/// A test page: the association, accents, €, œ and a QR code, to check a printer's setup.
pub fn test_receipt(kiosk: &Kiosk) -> Receipt {
    let now = kiosk.clock.now().with_timezone(&kiosk.config.tz());
    Receipt::new()
        .text(
            kiosk.config.association.name.clone(),
            Style::center().bold().double(),
        )
        .text("Test d'impression", Style::center().bold())
        .text(now.format("%d/%m/%Y %H:%M").to_string(), Style::center())
        .separator()
        .pair("Tomates cœur de bœuf", "4,80 €")
        .pair("Œufs x6", "2,10 €")
        .line("àâçéèêëîïôùûü ÀÇÉÈ Œ œ €")
        .separator()
        .qr("TEST")
        .cut()
}

/// Queues the test page.
pub fn queue_test_receipt(
    kiosk: &Kiosk,
    section: Option<&PrinterSection>,
) -> Result<(), PrintError> {
    let section = section.ok_or(PrintError::NoPrinter)?;
    let bytes = crate::devices::printer::encode(section, &test_receipt(kiosk));
    print_queue::enqueue(
        kiosk.store.conn(),
        "test",
        &bytes,
        &utc_text(kiosk.clock.now()),
    )?;
    Ok(())
}

/// The QR text of a valid card of the demo data, for the demo scanner (the database keeps only
/// the cards' hashes; the demo seed's tokens are made again from its seed).
pub fn some_card_payload(kiosk: &Kiosk) -> Option<String> {
    let conn = kiosk.store.conn();
    let mut stmt = conn
        .prepare("SELECT resident_id FROM cards WHERE revoked_utc IS NULL ORDER BY id")
        .ok()?;
    let ids: Vec<i64> = stmt
        .query_map([], |r| r.get(0))
        .ok()?
        .filter_map(Result::ok)
        .collect();
    ids.into_iter().find_map(|id| {
        let token = crate::demo::seeded_card_token(conn, id).ok()??;
        let bytes = crate::store::people::token_bytes(&token)?;
        Some(CardPayload::from_token(bytes).encode())
    })
}

/// Queues the Z report of the closed cash `session` (the seller asked for it; the role is
/// checked by [`super::cash::z_report`]).
pub fn queue_z_report(
    kiosk: &Kiosk,
    section: &PrinterSection,
    session: i64,
) -> Result<(), PrintError> {
    let report = super::cash::z_report(kiosk, session)?;
    let bytes = crate::devices::printer::encode(section, &report);
    print_queue::enqueue(
        kiosk.store.conn(),
        &format!("Z {session}"),
        &bytes,
        &utc_text(kiosk.clock.now()),
    )?;
    Ok(())
}

/// Queues the receipt of the sale recorded at journal `seq` (the customer asked for it). The
/// sale is already committed: the printer can only delay the paper, never the sale.
pub fn queue_receipt(kiosk: &Kiosk, section: &PrinterSection, seq: i64) -> Result<(), PrintError> {
    let sale = crate::store::sales::sale(kiosk.store.conn(), seq)
        .map_err(|e| PrintError::Sale(e.to_string()))?
        .ok_or_else(|| PrintError::Sale(format!("no sale at seq {seq}")))?;
    let receipt = super::receipt::receipt_for(&sale, &kiosk.config, false);
    let bytes = crate::devices::printer::encode(section, &receipt);
    print_queue::enqueue(
        kiosk.store.conn(),
        &format!("ticket {seq}"),
        &bytes,
        &utc_text(kiosk.clock.now()),
    )?;
    Ok(())
}
