//! Residents and their cards: register (sellers and above), issue, print, revoke and reissue a
//! card, anonymise (admins), export one resident's data; the card as a PNG for
//! `comptoir card` and as a print job for the receipt printer.
//!
//! The QR code holds only the card payload (`CPT…`, a version, the 128-bit random token and a
//! check code): no personal data. The database keeps only the token's SHA-256, so a copy of it
//! prints no card: printing a card therefore makes a new one (a new token, journaled as
//! `card_issued`) and the old card stops working, unless it is the card just made on the
//! screen. A reissued card revokes the old one; the history stays.

use chrono::{Datelike, NaiveDate, Utc};
use comptoir_hardware::cards::CardPayload;
use comptoir_hardware::printer::{Bitmap, Receipt, Style};
use serde_json::json;

use super::roles::Action;
use super::session::Denied;
use super::Kiosk;
use crate::config::Config;
use crate::store::compost::{self as store, ResidentEvent};
use crate::store::people::{self, NewResident};
use crate::store::{utc_text, Store};

/// Card size: 85.6 × 54 mm at 300 dpi.
pub const CARD_WIDTH: u32 = 1011;
pub const CARD_HEIGHT: u32 = 638;

#[derive(Debug, thiserror::Error)]
pub enum ResidentError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("unknown resident")]
    Unknown,
    #[error("this resident is anonymised")]
    Anonymised,
    #[error("this resident has no valid card")]
    NoCard,
    #[error("nickname: at most 40 characters")]
    BadNickname,
    #[error("building: at most 40 characters")]
    BadBuilding,
    #[error("household size: 1 to 20")]
    BadHousehold,
    #[error("bucket: 1 g to 5 kg, or weighed empty")]
    BadBucket,
    #[error("unknown language")]
    BadLanguage,
    #[error("no printer")]
    NoPrinter,
    #[error("{0}")]
    File(String),
    #[error("database: {0}")]
    Store(String),
}

impl ResidentError {
    pub fn code(&self) -> &'static str {
        match self {
            ResidentError::Denied(_) => "not_allowed",
            ResidentError::Unknown => "unknown_resident",
            ResidentError::Anonymised => "anonymised",
            ResidentError::NoCard => "no_card",
            ResidentError::BadNickname => "bad_nickname",
            ResidentError::BadBuilding => "bad_building",
            ResidentError::BadHousehold => "bad_household",
            ResidentError::BadBucket => "bad_bucket",
            ResidentError::BadLanguage => "bad_language",
            ResidentError::NoPrinter => "no_printer",
            ResidentError::File(_) => "file",
            ResidentError::Store(_) => "store",
        }
    }
}

impl From<rusqlite::Error> for ResidentError {
    fn from(e: rusqlite::Error) -> Self {
        ResidentError::Store(e.to_string())
    }
}

impl From<store::CompostError> for ResidentError {
    fn from(e: store::CompostError) -> Self {
        match e {
            store::CompostError::UnknownResident(_) => ResidentError::Unknown,
            store::CompostError::Anonymised(_) => ResidentError::Anonymised,
            other => ResidentError::Store(other.to_string()),
        }
    }
}

/// Languages a resident may choose.
pub const RESIDENT_LANGUAGES: [&str; 4] = ["fr", "en", "tr", "ar"];

/// A registration as typed on the admin screen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Registration {
    pub nickname: String,
    pub building: String,
    pub household_size: Option<i64>,
    pub language: String,
    pub bucket_tare_g: Option<i64>,
}

/// The longest nickname and building.
pub const MAX_DETAIL_CHARS: usize = 40;
/// The heaviest registered bucket, in grams.
pub const MAX_BUCKET_G: i64 = 5_000;

impl Registration {
    /// The trimmed nickname and building, once every field is checked: the nickname and the
    /// building may be empty (a resident is pseudonymous), at most 40 characters; a household
    /// of 1 to 20; one of the kiosk's languages; a bucket of 1 g to 5 kg, or none (weighed
    /// empty at each deposit).
    fn checked(&self) -> Result<(&str, &str), ResidentError> {
        let nickname = self.nickname.trim();
        if nickname.chars().count() > MAX_DETAIL_CHARS {
            return Err(ResidentError::BadNickname);
        }
        let building = self.building.trim();
        if building.chars().count() > MAX_DETAIL_CHARS {
            return Err(ResidentError::BadBuilding);
        }
        if self.household_size.is_some_and(|n| !(1..=20).contains(&n)) {
            return Err(ResidentError::BadHousehold);
        }
        if !RESIDENT_LANGUAGES.contains(&self.language.as_str()) {
            return Err(ResidentError::BadLanguage);
        }
        if self
            .bucket_tare_g
            .is_some_and(|g| !(1..=MAX_BUCKET_G).contains(&g))
        {
            return Err(ResidentError::BadBucket);
        }
        Ok((nickname, building))
    }

    /// A resident's details as the form shows them, to edit.
    pub fn of(r: &store::Resident) -> Registration {
        Registration {
            nickname: r.nickname.clone().unwrap_or_default(),
            building: r.building.clone().unwrap_or_default(),
            household_size: r.household_size,
            language: r.language.clone(),
            bucket_tare_g: r.bucket_tare_g,
        }
    }
}

/// A card just made: the only moment its token is known (the database keeps its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCard {
    pub resident_id: i64,
    pub token: String,
}

/// Makes a new card for the resident inside `tx`: the valid one is revoked (`card_revoked`),
/// the new one issued (`card_issued`, by `actor`, `None` for the command line).
fn new_card(
    tx: &rusqlite::Connection,
    id: i64,
    actor: Option<i64>,
    now: &str,
) -> Result<NewCard, ResidentError> {
    let token = people::new_token();
    store::revoke_card(tx, id, actor, now)?;
    people::issue_card(tx, id, &token, now)?;
    store::record_resident_event(tx, id, ResidentEvent::CardIssued, actor, now)?;
    Ok(NewCard {
        resident_id: id,
        token,
    })
}

/// Registers a resident (consent given today) and issues their first card. Returns the
/// internal resident number and the card (to print now).
pub fn register(kiosk: &mut Kiosk, r: &Registration) -> Result<NewCard, ResidentError> {
    let actor = kiosk.session.require(Action::RegisterResident)?.id;
    let (nickname, building) = r.checked()?;
    let now = kiosk.clock.now();
    let now_text = utc_text(now);
    let today = now
        .with_timezone(&kiosk.config.tz())
        .date_naive()
        .to_string();
    let tx = kiosk.store.write()?;
    let id = people::add_resident(
        &tx,
        &NewResident {
            nickname: (!nickname.is_empty()).then_some(nickname),
            building: (!building.is_empty()).then_some(building),
            household_size: r.household_size,
            language: &r.language,
            consent_date: Some(&today),
        },
        &now_text,
    )?;
    store::record_resident_event(&tx, id, ResidentEvent::Registered, Some(actor), &now_text)?;
    if r.bucket_tare_g.is_some() {
        tx.execute(
            "UPDATE residents SET bucket_tare_g = ?2 WHERE id = ?1",
            rusqlite::params![id, r.bucket_tare_g],
        )?;
    }
    let card = new_card(&tx, id, Some(actor), &now_text)?;
    tx.commit()?;
    Ok(card)
}

/// Changes a registered resident's nickname, building, household size, language or bucket
/// (sellers and above), with the same checks as the registration. Recorded in
/// `resident_events` (`updated`, who, when) when something changed; returns whether it did.
/// Their deposits keep the building they were made in.
pub fn update(kiosk: &mut Kiosk, id: i64, r: &Registration) -> Result<bool, ResidentError> {
    let actor = kiosk.session.require(Action::RegisterResident)?.id;
    let (nickname, building) = r.checked()?;
    let now = utc_text(kiosk.clock.now());
    let tx = kiosk.store.write()?;
    let changed = store::update_resident(
        &tx,
        id,
        &store::ResidentDetails {
            nickname: (!nickname.is_empty()).then_some(nickname),
            building: (!building.is_empty()).then_some(building),
            household_size: r.household_size,
            language: &r.language,
            bucket_tare_g: r.bucket_tare_g,
        },
        Some(actor),
        &now,
    )?;
    tx.commit()?;
    Ok(changed)
}

/// A lost card: the old one is revoked (refused from now on), a new one issued. Returns the
/// new card (to print now).
pub fn reissue(kiosk: &mut Kiosk, id: i64) -> Result<NewCard, ResidentError> {
    let actor = kiosk.session.require(Action::IssueCard)?.id;
    let r = store::resident(kiosk.store.conn(), id)?.ok_or(ResidentError::Unknown)?;
    if r.anonymised_utc.is_some() {
        return Err(ResidentError::Anonymised);
    }
    let now = utc_text(kiosk.clock.now());
    let tx = kiosk.store.write()?;
    let card = new_card(&tx, id, Some(actor), &now)?;
    tx.commit()?;
    Ok(card)
}

/// Revokes the resident's card (lost, stolen); the history is kept.
pub fn revoke(kiosk: &mut Kiosk, id: i64) -> Result<(), ResidentError> {
    let actor = kiosk.session.require(Action::IssueCard)?.id;
    store::resident(kiosk.store.conn(), id)?.ok_or(ResidentError::Unknown)?;
    let now = utc_text(kiosk.clock.now());
    let tx = kiosk.store.write()?;
    if !store::revoke_card(&tx, id, Some(actor), &now)? {
        return Err(ResidentError::NoCard);
    }
    tx.commit()?;
    Ok(())
}

/// Erases the resident's nickname and details and revokes their card (admins only).
pub fn anonymise(kiosk: &mut Kiosk, id: i64) -> Result<(), ResidentError> {
    let actor = kiosk.session.require(Action::AnonymiseResident)?.id;
    let now = utc_text(kiosk.clock.now());
    let tx = kiosk.store.write()?;
    store::anonymise(&tx, id, Some(actor), &now)?;
    tx.commit()?;
    Ok(())
}

/// The resident and the payload of `card`, which must be their valid card.
fn card_of(
    conn: &rusqlite::Connection,
    card: &NewCard,
) -> Result<(store::Resident, CardPayload, i64), ResidentError> {
    let id = card.resident_id;
    let r = store::resident(conn, id)?.ok_or(ResidentError::Unknown)?;
    if r.anonymised_utc.is_some() {
        return Err(ResidentError::Anonymised);
    }
    if people::resident_by_token(conn, &card.token)? != Some(id) {
        return Err(ResidentError::NoCard);
    }
    let payload = people::token_bytes(&card.token)
        .map(CardPayload::from_token)
        .ok_or(ResidentError::NoCard)?;
    let n = store::card_count(conn, id)?;
    Ok((r, payload, n))
}

/// The card as a 1011×638 PNG (85.6 × 54 mm at 300 dpi): the QR code, the association, the
/// nickname, the resident and card numbers, and pictogram instructions.
pub fn card_png(
    conn: &rusqlite::Connection,
    config: &Config,
    card: &NewCard,
) -> Result<Vec<u8>, ResidentError> {
    use comptoir_hardware::printer::raster::qr_bitmap;
    use comptoir_hardware::printer::{Paper, Renderer};
    let (r, payload, n) = card_of(conn, card)?;
    let mut card = Bitmap::new(CARD_WIDTH, CARD_HEIGHT);
    // A frame to cut along.
    card.fill_rect(0, 0, CARD_WIDTH, 4);
    card.fill_rect(0, i64::from(CARD_HEIGHT) - 4, CARD_WIDTH, 4);
    card.fill_rect(0, 0, 4, CARD_HEIGHT);
    card.fill_rect(i64::from(CARD_WIDTH) - 4, 0, 4, CARD_HEIGHT);
    let qr = qr_bitmap(&payload.encode(), 11).ok_or(ResidentError::NoCard)?;
    card.blit(
        &qr,
        16,
        i64::from(CARD_HEIGHT.saturating_sub(qr.height()) / 2),
    );
    let renderer = Renderer::new(crate::devices::RECEIPT_FONT, Paper::Mm58)
        .map_err(|e| ResidentError::Store(e.to_string()))?;
    let nickname = r.nickname.clone().unwrap_or_default();
    let mut text = Receipt::new()
        .text(config.association.name.clone(), Style::center().bold())
        .text("Carte compost", Style::center().bold().double());
    if !nickname.is_empty() {
        text = text.text(nickname, Style::center().bold());
    }
    let text = text
        .text(format!("N° {} · carte {}", r.id, n), Style::center())
        .separator();
    let top = renderer.render(&text);
    let x = 16 + i64::from(qr.width()) + 8;
    let right = CARD_WIDTH as i64 - x - 16;
    card.blit(&top, x + (right - i64::from(top.width())).max(0) / 2, 40);
    // Pictograms: show the card, bucket on the scale, confirm.
    let steps = [pictogram_card(), pictogram_bucket(), pictogram_check()];
    let words = ["Scannez", "Pesez", "Validez"];
    let slot = right / 3;
    let y = 40 + i64::from(top.height()) + 16;
    for (i, (p, w)) in steps.iter().zip(words).enumerate() {
        let sx = x + slot * i as i64;
        card.blit(p, sx + (slot - i64::from(p.width())) / 2, y);
        let label = renderer.render(&Receipt::new().text(format!("{} {w}", i + 1), Style::left()));
        let lw = label_width(&label);
        card.blit(&label, sx + (slot - lw as i64) / 2, y + 96);
    }
    Ok(card.to_png())
}

/// The width of the inked part of a rendered line.
fn label_width(b: &Bitmap) -> u32 {
    (0..b.width())
        .rev()
        .find(|&x| (0..b.height()).any(|y| b.get(x, y)))
        .map_or(0, |x| x + 1)
}

fn outline(b: &mut Bitmap, x: i64, y: i64, w: u32, h: u32, t: u32) {
    b.fill_rect(x, y, w, t);
    b.fill_rect(x, y + i64::from(h) - i64::from(t), w, t);
    b.fill_rect(x, y, t, h);
    b.fill_rect(x + i64::from(w) - i64::from(t), y, t, h);
}

/// A card with a small QR pattern.
fn pictogram_card() -> Bitmap {
    let mut b = Bitmap::new(88, 88);
    outline(&mut b, 4, 18, 80, 52, 5);
    for (dx, dy) in [(0, 0), (16, 0), (0, 16), (24, 24), (8, 8)] {
        b.fill_rect(14 + dx, 28 + dy, 8, 8);
    }
    b.fill_rect(54, 32, 22, 5);
    b.fill_rect(54, 44, 22, 5);
    b
}

/// A bucket on a scale.
fn pictogram_bucket() -> Bitmap {
    let mut b = Bitmap::new(88, 88);
    for row in 0..44 {
        let inset = row / 5;
        let y = 14 + row;
        let w = 56 - 2 * inset;
        if !(5..=39).contains(&row) {
            b.fill_rect(16 + i64::from(inset), i64::from(y), w as u32, 1);
        } else {
            b.fill_rect(16 + i64::from(inset), i64::from(y), 5, 1);
            b.fill_rect(16 + i64::from(inset) + i64::from(w) - 5, i64::from(y), 5, 1);
        }
    }
    // The handle.
    outline(&mut b, 26, 2, 36, 16, 4);
    // The scale.
    b.fill_rect(4, 62, 80, 8);
    b.fill_rect(36, 70, 16, 8);
    b.fill_rect(12, 78, 64, 8);
    b
}

/// A check mark in a circle.
fn pictogram_check() -> Bitmap {
    let mut b = Bitmap::new(88, 88);
    let (cx, cy, r) = (44i64, 44i64, 40i64);
    for y in 0..88i64 {
        for x in 0..88i64 {
            let d = (x - cx) * (x - cx) + (y - cy) * (y - cy);
            if d <= r * r && d >= (r - 6) * (r - 6) {
                b.set(x, y, true);
            }
        }
    }
    for i in 0..16i64 {
        b.fill_rect(22 + i, 44 + i, 7, 7);
    }
    for i in 0..28i64 {
        b.fill_rect(37 + i, 59 - i, 7, 7);
    }
    b
}

/// The card as a receipt for the receipt printer.
pub fn card_receipt(
    conn: &rusqlite::Connection,
    config: &Config,
    card: &NewCard,
) -> Result<Receipt, ResidentError> {
    let (r, payload, n) = card_of(conn, card)?;
    let mut doc = Receipt::new()
        .text(config.association.name.clone(), Style::center().bold())
        .text("Carte compost", Style::center().bold().double());
    if let Some(nick) = &r.nickname {
        doc = doc.text(nick.clone(), Style::center().bold());
    }
    Ok(doc
        .text(format!("N° {} · carte {}", r.id, n), Style::center())
        .qr(payload.encode())
        .line("1. Scannez la carte au composteur")
        .line("2. Posez le seau sur la balance")
        .line("3. Choisissez et validez")
        .feed(1)
        .cut())
}

/// Queues the card on the receipt printer.
pub fn print_card(
    kiosk: &mut Kiosk,
    section: &comptoir_hardware::config::PrinterSection,
    id: i64,
    fresh: Option<NewCard>,
) -> Result<(), ResidentError> {
    let actor = kiosk.session.require(Action::IssueCard)?.id;
    let r = store::resident(kiosk.store.conn(), id)?.ok_or(ResidentError::Unknown)?;
    if r.anonymised_utc.is_some() {
        return Err(ResidentError::Anonymised);
    }
    let now = utc_text(kiosk.clock.now());
    let tx = kiosk.store.write()?;
    // The card just made on the screen prints as it is; any other print makes a new card.
    let card = match fresh {
        Some(card)
            if card.resident_id == id
                && people::resident_by_token(&tx, &card.token)? == Some(id) =>
        {
            card
        }
        _ => new_card(&tx, id, Some(actor), &now)?,
    };
    let doc = card_receipt(&tx, &kiosk.config, &card)?;
    let bytes = crate::devices::printer::encode(section, &doc);
    crate::store::print_queue::enqueue(&tx, &format!("card {id}"), &bytes, &now)?;
    tx.commit()?;
    Ok(())
}

/// Everything stored about one resident, as JSON (the card token itself is left out: it is a
/// key, not information about the person).
pub fn export_json(
    conn: &rusqlite::Connection,
    id: i64,
) -> Result<serde_json::Value, ResidentError> {
    let r = store::resident(conn, id)?.ok_or(ResidentError::Unknown)?;
    let mut cards = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT issued_utc, revoked_utc FROM cards WHERE resident_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([id], |row| {
            Ok(json!({"issued_utc": row.get::<_, String>(0)?, "revoked_utc": row.get::<_, Option<String>>(1)?}))
        })?;
        for c in rows {
            cards.push(c?);
        }
    }
    let deposits = store::resident_deposits(conn, id)?;
    let credits: Vec<serde_json::Value> = store::credit_moves(conn, id)?
        .into_iter()
        .map(|m| {
            json!({"seq": m.seq, "time_utc": m.time_utc, "kind": m.kind, "cents": m.cents,
                   "deposit_id": m.deposit_id, "sale_seq": m.sale_seq})
        })
        .collect();
    let events = store::resident_event_kinds(conn, id)?;
    Ok(json!({
        "resident": r,
        "cards": cards,
        "deposits": deposits,
        "credits": credits,
        "credits_balance_cents": store::balance(conn, id)?,
        "events": events,
    }))
}

// ---------------------------------------------------------------------------------------------
// Command line (`comptoir card`, `resident export`, `export deposits|impact`). Each returns
// the exit code of ARCHITECTURE.md, "Command line": 0 ok, 1 failed, 3 database.

/// `comptoir card RESIDENT --db PATH --png FILE`: makes the resident a new card (the old one
/// stops working; journaled as `card_issued` by the kiosk itself) and writes it as a PNG. The
/// PNG is written before the new card is committed, so a failed write changes nothing.
pub fn card_command(store: &mut Store, config: &Config, id: i64, png: &std::path::Path) -> u8 {
    let made = (|| -> Result<(), ResidentError> {
        let r = store::resident(store.conn(), id)?.ok_or(ResidentError::Unknown)?;
        if r.anonymised_utc.is_some() {
            return Err(ResidentError::Anonymised);
        }
        let now = utc_text(Utc::now());
        let tx = store.write()?;
        let card = new_card(&tx, id, None, &now)?;
        let bytes = card_png(&tx, config, &card)?;
        std::fs::write(png, bytes)
            .map_err(|e| ResidentError::File(format!("{}: {e}", png.display())))?;
        tx.commit()?;
        Ok(())
    })();
    match made {
        Ok(()) => {
            println!("wrote card {id} {}", png.display());
            0
        }
        Err(ResidentError::Store(e)) => {
            eprintln!("comptoir: {e}");
            3
        }
        Err(ResidentError::File(e)) => {
            eprintln!("comptoir: {e}");
            1
        }
        Err(e) => {
            eprintln!("comptoir: resident {id}: {e}");
            1
        }
    }
}

/// `comptoir resident export RESIDENT --db PATH`.
pub fn export_command(store: &Store, id: i64) -> u8 {
    match export_json(store.conn(), id) {
        Ok(v) => {
            println!("{v}");
            0
        }
        Err(ResidentError::Store(e)) => {
            eprintln!("comptoir: {e}");
            3
        }
        Err(e) => {
            eprintln!("comptoir: resident {id}: {e}");
            1
        }
    }
}

/// One row of `export deposits`.
#[derive(Debug, serde::Serialize)]
pub struct DepositRow {
    pub deposit_id: i64,
    pub time_utc: String,
    pub local_date: String,
    pub resident_id: Option<i64>,
    pub source: String,
    pub kind: String,
    pub gross_g: i64,
    pub tare_g: i64,
    pub net_g: i64,
    pub co2e_g: i64,
    pub credits_cents: i64,
    pub bin_id: Option<i64>,
}

pub const DEPOSIT_COLUMNS: &[&str] = &[
    "deposit_id",
    "time_utc",
    "local_date",
    "resident_id",
    "source",
    "kind",
    "gross_g",
    "tare_g",
    "net_g",
    "co2e_g",
    "credits_cents",
    "bin_id",
];

/// Deposits from `from` to `to` (local dates, inclusive).
pub fn deposit_rows(
    conn: &rusqlite::Connection,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    tz: chrono_tz::Tz,
) -> rusqlite::Result<Vec<DepositRow>> {
    let from_utc = from.map_or_else(
        || "0000".into(),
        |d| crate::store::local_midnight_utc(d, tz),
    );
    let to_utc = to.and_then(|d| d.succ_opt()).map_or_else(
        || "9999".into(),
        |d| crate::store::local_midnight_utc(d, tz),
    );
    Ok(store::deposits_between(conn, &from_utc, &to_utc)?
        .into_iter()
        .map(|d| DepositRow {
            local_date: chrono::DateTime::parse_from_rfc3339(&d.time_utc)
                .map(|t| t.with_timezone(&tz).date_naive().to_string())
                .unwrap_or_default(),
            deposit_id: d.id,
            time_utc: d.time_utc,
            resident_id: d.resident_id,
            source: d.source,
            kind: d.kind,
            gross_g: d.gross_g,
            tare_g: d.tare_g,
            net_g: d.net_g,
            co2e_g: d.co2e_g,
            credits_cents: d.credits_cents,
            bin_id: d.bin_id,
        })
        .collect())
}

/// One row of `export impact`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImpactRow {
    /// `week`, `month` or `year`.
    pub granularity: String,
    /// `2026-W24`, `2026-06`, `2026`.
    pub period: String,
    pub period_start: String,
    /// `all`, `building` or `kind`.
    pub dimension: String,
    /// The building (`other`: groups of fewer than 3 households) or the kind; empty for `all`.
    pub key: String,
    pub deposits: i64,
    pub households: i64,
    pub net_g: i64,
    pub co2e_g: i64,
}

pub const IMPACT_COLUMNS: &[&str] = &[
    "granularity",
    "period",
    "period_start",
    "dimension",
    "key",
    "deposits",
    "households",
    "net_g",
    "co2e_g",
];

/// The first day of a period key (`w2026-24`, `m2026-06`, `y2026`).
pub fn period_start(key: &str) -> Option<NaiveDate> {
    let (kind, rest) = key.split_at(1);
    match kind {
        "w" => {
            let (y, w) = rest.split_once('-')?;
            NaiveDate::from_isoywd_opt(y.parse().ok()?, w.parse().ok()?, chrono::Weekday::Mon)
        }
        "m" => {
            let (y, m) = rest.split_once('-')?;
            NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
        }
        "y" => NaiveDate::from_ymd_opt(rest.parse().ok()?, 1, 1),
        _ => None,
    }
}

/// The impact figures of the periods starting from `from` to `to` (inclusive), week, month
/// and year, in total, per building (small groups merged into `other`) and per kind.
pub fn impact_rows(
    conn: &rusqlite::Connection,
    from: NaiveDate,
    to: NaiveDate,
) -> rusqlite::Result<Vec<ImpactRow>> {
    let mut out = Vec::new();
    for (prefix, name) in [("w", "week"), ("m", "month"), ("y", "year")] {
        // Keys sort by their text within a prefix; the period containing `from` may start
        // before it and is filtered out below.
        let first = store::period_keys(from)
            .into_iter()
            .find(|k| k.starts_with(prefix))
            .unwrap_or_default();
        let last = store::period_keys(to)
            .into_iter()
            .find(|k| k.starts_with(prefix))
            .unwrap_or_default();
        let rows = store::merge_small_buildings(store::stats(conn, &first, &last, None)?);
        for r in rows {
            let Some(start) = period_start(&r.period) else {
                continue;
            };
            if start < from || start > to {
                continue;
            }
            let period = match prefix {
                "w" => format!(
                    "{}-W{:02}",
                    start.iso_week().year(),
                    start.iso_week().week()
                ),
                "m" => format!("{}-{:02}", start.year(), start.month()),
                _ => start.year().to_string(),
            };
            out.push(ImpactRow {
                granularity: name.into(),
                period,
                period_start: start.to_string(),
                dimension: r.dim,
                key: r.key,
                deposits: r.deposits,
                households: r.households,
                net_g: r.grams,
                co2e_g: r.co2e_g,
            });
        }
    }
    Ok(out)
}

/// What `comptoir export` writes for the compost side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompostExport {
    Deposits,
    Impact,
}

/// `comptoir export deposits|impact`: CSV (RFC 4180, header row) or a JSON array to standard
/// output. Without `--from` the impact starts five years before `--to` (default today).
pub fn export_compost_command(
    store: &Store,
    config: &Config,
    what: CompostExport,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    json: bool,
) -> u8 {
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            eprintln!("comptoir: --from {f} is after --to {t}");
            return 2;
        }
    }
    let tz = config.tz();
    let written = match what {
        CompostExport::Deposits => deposit_rows(store.conn(), from, to, tz)
            .map_err(|e| (3, e.to_string()))
            .and_then(|rows| write_rows(DEPOSIT_COLUMNS, &rows, json).map_err(|e| (1, e))),
        CompostExport::Impact => {
            let to = to.unwrap_or_else(|| Utc::now().with_timezone(&tz).date_naive());
            let from = from.unwrap_or_else(|| {
                to.with_year(to.year() - 5)
                    .unwrap_or(to)
                    .succ_opt()
                    .unwrap_or(to)
            });
            impact_rows(store.conn(), from, to)
                .map_err(|e| (3, e.to_string()))
                .and_then(|rows| write_rows(IMPACT_COLUMNS, &rows, json).map_err(|e| (1, e)))
        }
    };
    match written {
        Ok(()) => 0,
        Err((code, e)) => {
            eprintln!("comptoir: {e}");
            code
        }
    }
}

fn write_rows<T: serde::Serialize>(header: &[&str], rows: &[T], json: bool) -> Result<(), String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, rows).map_err(|e| e.to_string())?;
        return writeln!(out).map_err(|e| e.to_string());
    }
    drop(out);
    crate::export::write_csv(header, rows)
}

/// Where a resident's card stands, as the residents' list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardState {
    /// A card that works.
    Active,
    /// No working card (revoked, or none issued).
    Revoked,
    /// The resident was anonymised.
    Anonymised,
}

impl CardState {
    /// Stable token for the UI: `active`, `revoked`, `anonymised`.
    pub fn code(self) -> &'static str {
        match self {
            CardState::Active => "active",
            CardState::Revoked => "revoked",
            CardState::Anonymised => "anonymised",
        }
    }
}

/// One line of the residents' list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentLine {
    pub id: i64,
    pub nickname: Option<String>,
    pub building: Option<String>,
    pub household_size: Option<i64>,
    pub language: String,
    /// The registered bucket's tare, when there is one.
    pub bucket_tare_g: Option<i64>,
    pub card: CardState,
    pub balance_cents: i64,
}

/// The residents' list, newest first, with each one's card and credits. Any failure to read
/// them is returned (the screen says so), never an empty or partial list.
pub fn list(kiosk: &Kiosk) -> rusqlite::Result<Vec<ResidentLine>> {
    let conn = kiosk.store.conn();
    store::residents(conn)?
        .into_iter()
        .map(|r| {
            let card = if r.anonymised_utc.is_some() {
                CardState::Anonymised
            } else if store::has_valid_card(conn, r.id)? {
                CardState::Active
            } else {
                CardState::Revoked
            };
            Ok(ResidentLine {
                id: r.id,
                balance_cents: store::balance(conn, r.id)?,
                nickname: r.nickname,
                building: r.building,
                household_size: r.household_size,
                language: r.language,
                bucket_tare_g: r.bucket_tare_g,
                card,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_keys_give_their_first_day() {
        assert_eq!(
            period_start("w2026-24"),
            NaiveDate::from_ymd_opt(2026, 6, 8)
        );
        assert_eq!(
            period_start("m2026-06"),
            NaiveDate::from_ymd_opt(2026, 6, 1)
        );
        assert_eq!(period_start("y2026"), NaiveDate::from_ymd_opt(2026, 1, 1));
        assert_eq!(period_start("x"), None);
        let d = NaiveDate::from_ymd_opt(2026, 6, 13).unwrap();
        let keys = store::period_keys(d);
        assert_eq!(keys, ["w2026-24", "m2026-06", "y2026"]);
    }

    #[test]
    fn pictograms_have_ink() {
        assert!(pictogram_card().black_count() > 500);
        assert!(pictogram_bucket().black_count() > 500);
        assert!(pictogram_check().black_count() > 500);
    }
}
