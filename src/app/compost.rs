//! The composter's self-service flow: a resident scans their card (serial scanner or keyboard
//! wedge), is greeted in their language, weighs their bucket, says what they brought, confirms,
//! and sees what they have brought and earned; then the kiosk goes back to idle and to its own
//! language.
//!
//! - Tare: the resident's registered bucket (`bucket_tare_g`), or, when none is registered,
//!   the full bucket is weighed first and the empty one after pouring it out.
//! - Only a stable weight is taken; a minimum and a maximum per deposit (config `[compost]`).
//! - A second scan within two minutes of the resident's last confirmed deposit asks "another
//!   deposit?" first, so nothing counts twice by mistake.
//! - While a resident's deposit is in progress another card is refused (`busy`); unknown,
//!   revoked and malformed cards are refused with a notice and nothing is recorded.
//! - The compost-only mode (config `mode = "compost-only"`, or `mode = "full"` within the
//!   weekly `[compost] only_hours`) reaches only this flow, the language choice and the staff
//!   sign-in ([`gate`]). The schedule is followed on the kiosk's clock in the configured time
//!   zone, and the mode changes only when the kiosk is idle ([`follow_schedule`]): a member of
//!   staff at work is not cut off.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};

use super::closures::ClosureError;
use super::{Kiosk, Screen};
use crate::config::{CompostSection, Config, KioskMode};
use crate::devices::scanner::ScannerEvent;
use crate::domain::credits::CreditsConfig;
use crate::domain::metrology::{can_add_weighed_line, MetrologyConfig, WeighRefusal};
use crate::store::compost::{self as store, CardLookup, NewDeposit, TareSource, WasteKind};

/// A second scan within this many seconds of a confirmed deposit asks "another deposit?".
pub const DUPLICATE_WINDOW_SECONDS: i64 = 120;
/// Resident screens go back to idle after this long without a touch.
pub const RESIDENT_IDLE_SECONDS: u64 = 60;
/// The thank-you screen goes back to idle after this long.
pub const THANKS_SECONDS: u64 = 8;

/// Why a scan or a step was refused; `code()` is what the screen maps to a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    UnknownCard,
    RevokedCard,
    MalformedCard,
    /// Another resident's deposit is in progress.
    Busy,
    ChooseKind,
    Weigh(WeighRefusal),
    ClockBehind,
    /// Closures wait for a member of staff to confirm today's date.
    DateUnconfirmed,
    Store,
}

impl Notice {
    pub fn code(self) -> &'static str {
        match self {
            Notice::UnknownCard => "unknown_card",
            Notice::RevokedCard => "revoked_card",
            Notice::MalformedCard => "malformed_card",
            Notice::Busy => "busy",
            Notice::ChooseKind => "choose_kind",
            Notice::Weigh(r) => r.code(),
            Notice::ClockBehind => "clock_behind",
            Notice::DateUnconfirmed => "date_unconfirmed",
            Notice::Store => "store",
        }
    }

    /// The scale fault behind a `scale_error`.
    pub fn fault(self) -> &'static str {
        match self {
            Notice::Weigh(r) => r.fault_code().unwrap_or(""),
            _ => "",
        }
    }
}

/// Where the resident is in their deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// They deposited less than two minutes ago: another deposit?
    AskAnother,
    /// Bucket on the scale, its registered tare taken off live.
    Weigh,
    /// No registered bucket: the full bucket first...
    WeighFull,
    /// ...then, poured out, the empty bucket.
    WeighEmpty { gross_g: i64 },
}

/// A resident at the composter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub resident_id: i64,
    pub nickname: Option<String>,
    pub language: String,
    pub bucket_tare_g: Option<i64>,
    pub step: Step,
    pub kind: Option<WasteKind>,
}

/// What the thank-you screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thanks {
    pub nickname: Option<String>,
    pub net_g: i64,
    pub month_g: i64,
    pub total_g: i64,
    pub co2e_total_g: i64,
    pub credits_earned: i64,
    pub balance: i64,
}

/// The composter's state.
#[derive(Debug, Clone, Default)]
pub struct Compost {
    pub visit: Option<Visit>,
    pub notice: Option<Notice>,
    pub thanks: Option<Thanks>,
    /// The kiosk's language before a resident's was applied.
    idle_language: Option<String>,
    /// The compost-only mode is in force (see [`follow_schedule`]).
    pub compost_only: bool,
}

/// The credits rules of the config.
pub fn credits_config(c: &CompostSection) -> CreditsConfig {
    CreditsConfig {
        rate_cents_per_kg: c.credit_rate_cents_per_kg,
        daily_cap_cents: (c.credit_daily_cap_cents > 0).then_some(c.credit_daily_cap_cents),
        max_share_bp: c.credit_max_share_percent * 100,
        co2e_g_per_kg: c.co2e_g_per_kg,
    }
}

/// The weighing limits of a deposit: the deposit minimum and maximum, the scale's capacity,
/// and the bucket's tare taken off by Comptoir (a deposit is not a sale: not legal for trade).
pub fn metrology(kiosk: &Kiosk) -> MetrologyConfig {
    let c = &kiosk.config.compost;
    let capacity = kiosk
        .config
        .scale
        .as_ref()
        .and_then(|s| s.capacity_g)
        .unwrap_or(crate::domain::metrology::DEFAULT_CAPACITY_G)
        .max(c.deposit_max_g);
    MetrologyConfig {
        min_net_g: c.deposit_min_g,
        max_net_g: Some(c.deposit_max_g),
        capacity_g: capacity,
        legal_for_trade: false,
    }
}

/// The compost-only mode: without a signed-in member of staff, only the compost flow, the
/// language choice and the sign-in are reachable; anything else leads to `compost.idle`.
pub fn gate(kiosk: &Kiosk, to: Screen) -> Screen {
    if !kiosk.compost.compost_only || kiosk.session.current().is_some() {
        return to;
    }
    match to {
        Screen::CompostIdle | Screen::CompostWeigh | Screen::CompostThanks | Screen::Login => to,
        Screen::ConfigError | Screen::FirstStart => to,
        _ => Screen::CompostIdle,
    }
}

/// Whether the config puts the kiosk in compost-only mode at `now`: `mode = "compost-only"`,
/// or `mode = "full"` and `now` (local time in the configured time zone) within one of the
/// weekly `[compost] only_hours`.
pub fn scheduled_compost_only(config: &Config, now: DateTime<Utc>) -> bool {
    if config.mode == KioskMode::CompostOnly {
        return true;
    }
    if config.compost.only_hours.is_empty() {
        return false;
    }
    let local = now.with_timezone(&config.tz());
    crate::hours::within(
        &config.compost_only_hours(),
        local.weekday().num_days_from_monday(),
        local.hour() * 60 + local.minute(),
    )
}

/// Nobody is using the kiosk: nobody signed in or typing a PIN, no resident's deposit or
/// thanks on screen, and the screen is the home screen, the sign-in or the composter's idle
/// screen (a staff screen left alone locks to the sign-in after its timeout).
fn kiosk_idle(kiosk: &Kiosk) -> bool {
    kiosk.session.current().is_none()
        && kiosk.session.pending().is_none()
        && kiosk.compost.visit.is_none()
        && kiosk.compost.thanks.is_none()
        && matches!(
            kiosk.screen,
            Screen::Home | Screen::Login | Screen::CompostIdle
        )
}

/// Follows the compost-only schedule (called every second): when the mode in force is not the
/// one the config gives for now, it changes at the kiosk's next idle moment, never under a
/// member of staff at work or a resident's deposit. Entering compost-only shows the
/// composter's idle screen; leaving it leaves the composter's idle screen as it is (its "Home"
/// asks for a staff PIN, as always from the composter). The home screen is never left showing
/// in compost-only mode once nobody is signed in. Returns whether anything changed.
pub fn follow_schedule(kiosk: &mut Kiosk) -> bool {
    let wanted = scheduled_compost_only(&kiosk.config, kiosk.clock.now());
    let switch = wanted != kiosk.compost.compost_only;
    let home_left = wanted && kiosk.screen == Screen::Home;
    if !(switch || home_left) || !kiosk_idle(kiosk) {
        return false;
    }
    if switch {
        log::info!(
            "compost-only mode {}",
            if wanted { "begins" } else { "ends" }
        );
        kiosk.compost.compost_only = wanted;
    }
    if wanted && kiosk.screen != Screen::CompostIdle {
        kiosk.navigate(Screen::CompostIdle);
    }
    true
}

/// Local midnight of `day` in UTC text.
fn local_start(kiosk: &Kiosk, day: NaiveDate) -> String {
    let tz = kiosk.config.tz();
    let t = tz
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    crate::store::utc_text(t)
}

fn local_day(kiosk: &Kiosk, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&kiosk.config.tz()).date_naive()
}

/// The UTC start of the local month of `now`.
pub fn month_start_utc(kiosk: &Kiosk, now: DateTime<Utc>) -> String {
    let d = local_day(kiosk, now);
    local_start(kiosk, d.with_day(1).unwrap_or(d))
}

fn is_compost_screen(s: Screen) -> bool {
    matches!(
        s,
        Screen::CompostIdle | Screen::CompostWeigh | Screen::CompostThanks
    )
}

/// A scanner's report. On the composter's screens a card starts (or is refused for) a deposit;
/// on the payment screen it names the resident paying with credits. Elsewhere it is only
/// shown on the devices screen.
pub fn on_scan(kiosk: &mut Kiosk, event: &ScannerEvent) {
    if kiosk.screen == Screen::SellPay {
        super::sell::credits_scan(kiosk, event);
        return;
    }
    if !is_compost_screen(kiosk.screen) {
        return;
    }
    let token = match event {
        ScannerEvent::Card { token } => token,
        ScannerEvent::Refused { .. } => {
            kiosk.compost.notice = Some(Notice::MalformedCard);
            return;
        }
        _ => return,
    };
    let found = match store::lookup_card(kiosk.store.conn(), token) {
        Ok(f) => f,
        Err(e) => {
            log::error!("card look-up: {e}");
            kiosk.compost.notice = Some(Notice::Store);
            return;
        }
    };
    let id = match found {
        CardLookup::Valid(id) => id,
        CardLookup::Revoked => {
            kiosk.compost.notice = Some(Notice::RevokedCard);
            return;
        }
        CardLookup::Unknown => {
            kiosk.compost.notice = Some(Notice::UnknownCard);
            return;
        }
    };
    if let Some(v) = &kiosk.compost.visit {
        if v.resident_id != id {
            kiosk.compost.notice = Some(Notice::Busy);
        }
        return;
    }
    if let Err(e) = start_visit(kiosk, id) {
        log::error!("compost visit: {e}");
        kiosk.compost.notice = Some(Notice::Store);
    }
}

/// Greets resident `id`: their language, the step, the compost.weigh screen.
pub fn start_visit(kiosk: &mut Kiosk, id: i64) -> rusqlite::Result<()> {
    let Some(r) = store::resident(kiosk.store.conn(), id)? else {
        kiosk.compost.notice = Some(Notice::UnknownCard);
        return Ok(());
    };
    if r.anonymised_utc.is_some() {
        kiosk.compost.notice = Some(Notice::RevokedCard);
        return Ok(());
    }
    let now = kiosk.clock.now();
    let recent = store::last_deposit_utc(kiosk.store.conn(), id)?
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .is_some_and(|t| (now - t.with_timezone(&Utc)).num_seconds() < DUPLICATE_WINDOW_SECONDS);
    let step = if recent {
        Step::AskAnother
    } else {
        first_step(r.bucket_tare_g)
    };
    if kiosk.compost.idle_language.is_none() {
        kiosk.compost.idle_language = Some(kiosk.language.clone());
    }
    kiosk.language = r.language.clone();
    kiosk.compost.visit = Some(Visit {
        resident_id: id,
        nickname: r.nickname,
        language: r.language,
        bucket_tare_g: r.bucket_tare_g,
        step,
        kind: None,
    });
    kiosk.compost.notice = None;
    kiosk.compost.thanks = None;
    kiosk.screen = Screen::CompostWeigh;
    Ok(())
}

fn first_step(bucket: Option<i64>) -> Step {
    if bucket.is_some() {
        Step::Weigh
    } else {
        Step::WeighFull
    }
}

/// "Another deposit?": yes.
pub fn another(kiosk: &mut Kiosk) {
    if let Some(v) = &mut kiosk.compost.visit {
        if v.step == Step::AskAnother {
            v.step = first_step(v.bucket_tare_g);
        }
    }
}

pub fn choose_kind(kiosk: &mut Kiosk, kind: WasteKind) {
    if let Some(v) = &mut kiosk.compost.visit {
        v.kind = Some(kind);
        if kiosk.compost.notice == Some(Notice::ChooseKind) {
            kiosk.compost.notice = None;
        }
    }
}

/// The reading as the weighing rules see it.
fn reading(kiosk: &Kiosk) -> Result<crate::domain::metrology::ScaleReading, WeighRefusal> {
    super::sell::scale_state(kiosk.devices.scale).map_err(WeighRefusal::ScaleError)
}

/// What the scale gives now for this visit: `(gross, tare, source, net)`, or why not.
pub fn weigh_now(kiosk: &Kiosk) -> Result<(i64, i64, TareSource, i64), WeighRefusal> {
    let Some(v) = &kiosk.compost.visit else {
        return Err(WeighRefusal::BelowMinimum);
    };
    let m = metrology(kiosk);
    let r = reading(kiosk)?;
    match v.step {
        Step::AskAnother => Err(WeighRefusal::NoReturnToZero),
        Step::Weigh => {
            // An empty scale (the bucket lifted) asks for the bucket, not "negative".
            if r.grams < m.min_net_g {
                return Err(WeighRefusal::BelowMinimum);
            }
            let tare = v.bucket_tare_g.unwrap_or(0);
            let net = can_add_weighed_line(&m, &r, tare, false)?;
            Ok((net + tare, tare, TareSource::Bucket, net))
        }
        Step::WeighFull => {
            let gross = can_add_weighed_line(&m, &r, 0, false)?;
            Ok((gross, 0, TareSource::None, gross))
        }
        Step::WeighEmpty { gross_g } => {
            if !r.stable {
                return Err(WeighRefusal::Unstable);
            }
            let tare = r.grams;
            if tare < 0 {
                return Err(WeighRefusal::Negative);
            }
            let net = gross_g - tare;
            if net < 0 {
                return Err(WeighRefusal::Negative);
            }
            if net < m.min_net_g {
                return Err(WeighRefusal::BelowMinimum);
            }
            if m.max_net_g.is_some_and(|max| net > max) {
                return Err(WeighRefusal::AboveMaximum);
            }
            Ok((gross_g, tare, TareSource::Weighed, net))
        }
    }
}

/// The live net weight to show: the reading less the bucket (or, at the second weighing, the
/// full weight less the reading). `None` when the scale gives no weight.
pub fn live_net(kiosk: &Kiosk) -> Option<(i64, bool)> {
    let v = kiosk.compost.visit.as_ref()?;
    let r = reading(kiosk).ok()?;
    let net = match v.step {
        Step::Weigh => r.grams - v.bucket_tare_g.unwrap_or(0),
        Step::WeighEmpty { gross_g } => gross_g - r.grams,
        Step::WeighFull | Step::AskAnother => r.grams,
    };
    Some((net, r.stable))
}

/// Without a registered bucket: the full bucket's stable weight is kept, then the empty
/// bucket is weighed.
pub fn full_weighed(kiosk: &mut Kiosk) -> Result<(), Notice> {
    let result = match kiosk.compost.visit.as_ref().map(|v| v.step) {
        Some(Step::WeighFull) => weigh_now(kiosk).map_err(Notice::Weigh),
        _ => return Ok(()),
    };
    match result {
        Ok((gross, ..)) => {
            if let Some(v) = &mut kiosk.compost.visit {
                v.step = Step::WeighEmpty { gross_g: gross };
            }
            kiosk.compost.notice = None;
            Ok(())
        }
        Err(n) => {
            kiosk.compost.notice = Some(n);
            Err(n)
        }
    }
}

/// Confirms the deposit: checks the kind and the scale again, records the deposit and its
/// credits in one transaction, shows the thanks.
pub fn confirm(kiosk: &mut Kiosk) -> Result<Thanks, Notice> {
    let result = confirm_inner(kiosk);
    match &result {
        Ok(_) => kiosk.compost.notice = None,
        Err(n) => kiosk.compost.notice = Some(*n),
    }
    result
}

fn confirm_inner(kiosk: &mut Kiosk) -> Result<Thanks, Notice> {
    let Some(visit) = kiosk.compost.visit.clone() else {
        return Err(Notice::UnknownCard);
    };
    let kind = visit.kind.ok_or(Notice::ChooseKind)?;
    if visit.step == Step::WeighFull {
        // A registered bucket is not known: the empty bucket must be weighed first.
        return Err(Notice::Weigh(WeighRefusal::BadTare));
    }
    let (gross, tare, tare_source, _net) = weigh_now(kiosk).map_err(Notice::Weigh)?;
    let now = kiosk.clock.now();
    // Like a sale, a deposit first closes the periods that ended (a composter that never sells
    // still closes its days), which refuses a clock behind the journal and waits for a member
    // of staff to confirm the date when closures are due far beyond the last entry. A key
    // problem is the sellers' to solve: deposits go on.
    match super::closures::close_due_periods(kiosk, None) {
        Ok(_) => {}
        Err(ClosureError::ClockBehind { .. }) => return Err(Notice::ClockBehind),
        Err(ClosureError::DateUnconfirmed { .. }) => return Err(Notice::DateUnconfirmed),
        Err(ClosureError::NoKeyPath) => {}
        Err(e) => log::warn!("deposit: closures wait: {e}"),
    }
    let day = local_day(kiosk, now);
    let day_start = local_start(kiosk, day);
    let credits = credits_config(&kiosk.config.compost);
    let deposit = NewDeposit {
        resident_id: Some(visit.resident_id),
        kind,
        gross_g: gross,
        tare_g: tare,
        tare_source,
        reference: None,
    };
    let store_err = |e: &dyn std::fmt::Display| {
        log::error!("deposit: {e}");
        Notice::Store
    };
    let tx = kiosk.store.write().map_err(|e| store_err(&e))?;
    let recorded = store::record_deposit(&tx, &deposit, &credits, now, day, &day_start)
        .map_err(|e| store_err(&e))?;
    tx.commit().map_err(|e| store_err(&e))?;
    let month_start = month_start_utc(kiosk, now);
    let totals = store::resident_totals(kiosk.store.conn(), visit.resident_id, &month_start)
        .map_err(|e| store_err(&e))?;
    let thanks = Thanks {
        nickname: visit.nickname.clone(),
        net_g: recorded.net_g,
        month_g: totals.month_g,
        total_g: totals.total_g,
        co2e_total_g: totals.co2e_g,
        credits_earned: recorded.credits_cents,
        balance: totals.balance_cents,
    };
    kiosk.compost.visit = None;
    kiosk.compost.thanks = Some(thanks.clone());
    kiosk.screen = Screen::CompostThanks;
    Ok(thanks)
}

/// Back to the idle screen (cancel, timeout, or after the thanks): the kiosk's own language
/// comes back; nothing of an unconfirmed deposit is recorded.
pub fn end(kiosk: &mut Kiosk) {
    kiosk.compost.visit = None;
    kiosk.compost.notice = None;
    kiosk.compost.thanks = None;
    if let Some(lang) = kiosk.compost.idle_language.take() {
        kiosk.language = lang;
    }
    if is_compost_screen(kiosk.screen) {
        kiosk.screen = Screen::CompostIdle;
    }
}

/// What a garden lead or an admin records about a bin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinAction {
    Turned,
    /// Filling, then maturing, then ready, then filling again.
    NextStatus,
    /// Tenths of a degree Celsius.
    Temperature(i64),
    /// Grams of brown material added.
    BrownAdded(i64),
    /// Grams of compost taken out.
    Emptied(i64),
}

/// Why a bin's log entry was not written.
#[derive(Debug, thiserror::Error)]
pub enum BinLogError {
    #[error(transparent)]
    Denied(#[from] super::session::Denied),
    #[error("no bin to record this on")]
    NoBin,
    #[error(transparent)]
    Store(#[from] store::CompostError),
}

/// The bin the staff screen works on: `chosen` when it still exists, else the first.
pub fn selected_bin(kiosk: &Kiosk, chosen: Option<i64>) -> rusqlite::Result<Option<store::Bin>> {
    let bins = store::bins(kiosk.store.conn())?;
    Ok(bins
        .iter()
        .find(|b| Some(b.id) == chosen)
        .or(bins.first())
        .cloned())
}

/// Records `action` on the bin `chosen` (see [`selected_bin`]), by the staff signed in
/// (garden leads and admins: [`super::roles::Action::Composters`]).
pub fn log_bin(
    kiosk: &mut Kiosk,
    chosen: Option<i64>,
    action: BinAction,
) -> Result<(), BinLogError> {
    use store::{BinEvent, BinStatus};
    let staff = kiosk.session.require(super::roles::Action::Composters)?.id;
    let bin = selected_bin(kiosk, chosen)
        .map_err(store::CompostError::from)?
        .ok_or(BinLogError::NoBin)?;
    let event = match action {
        BinAction::Turned => BinEvent::Turned,
        BinAction::NextStatus => BinEvent::Status(match bin.status {
            BinStatus::Filling => BinStatus::Maturing,
            BinStatus::Maturing => BinStatus::Ready,
            BinStatus::Ready => BinStatus::Filling,
        }),
        BinAction::Temperature(n) => BinEvent::Temperature(n),
        BinAction::BrownAdded(n) => BinEvent::BrownAdded(n),
        BinAction::Emptied(n) => BinEvent::Emptied(n),
    };
    let now = crate::store::utc_text(kiosk.clock.now());
    let tx = kiosk.store.write().map_err(store::CompostError::from)?;
    store::log_bin(&tx, bin.id, event, Some(staff), &now)?;
    tx.commit().map_err(store::CompostError::from)?;
    Ok(())
}

/// The config's retention, applied: residents inactive for that many months are anonymised
/// (never deleted). Returns how many.
pub fn apply_retention(kiosk: &mut Kiosk) -> Result<usize, store::CompostError> {
    let months = kiosk.config.compost.retention_months;
    if months == 0 || kiosk.store.access() == crate::store::Access::ReadOnly {
        return Ok(0);
    }
    let now = kiosk.clock.now();
    let cutoff = now
        .checked_sub_months(chrono::Months::new(months))
        .unwrap_or(now);
    let cutoff = crate::store::utc_text(cutoff);
    let now_text = crate::store::utc_text(now);
    let tx = kiosk.store.write()?;
    let ids = store::inactive_since(&tx, &cutoff)?;
    for id in &ids {
        store::anonymise(&tx, *id, None, &now_text)?;
    }
    tx.commit()?;
    Ok(ids.len())
}

/// One impact report: bars per period, totals of the shown periods, buildings and kinds.
#[derive(Debug, Clone, Default)]
pub struct ImpactReport {
    pub bars: Vec<(String, i64)>,
    pub totals: store::StatRow,
    pub buildings: Vec<store::StatRow>,
    pub kinds: Vec<store::StatRow>,
    pub garden_g: i64,
}

/// The impact report ending `today`: 12 weeks, 12 months or 5 years. Figures come from the
/// derived per-period tables, so a report over years reads a few hundred rows of figures.
/// Households are those active (at least one deposit) in the periods shown, each counted once,
/// in total and per building.
pub fn impact(
    conn: &rusqlite::Connection,
    granularity: &str,
    today: NaiveDate,
) -> rusqlite::Result<ImpactReport> {
    let (prefix, count) = match granularity {
        "week" => ("w", 12),
        "year" => ("y", 5),
        _ => ("m", 12),
    };
    let mut periods: Vec<(String, String)> = Vec::new();
    let mut day = today;
    for _ in 0..count {
        let key = store::period_keys(day)
            .into_iter()
            .find(|k| k.starts_with(prefix))
            .unwrap_or_default();
        let label = match prefix {
            "w" => format!("{:02}", day.iso_week().week()),
            "m" => format!("{:02}/{:02}", day.month(), day.year() % 100),
            _ => day.year().to_string(),
        };
        periods.push((key, label));
        let start = super::residents::period_start(
            &periods.last().map(|p| p.0.clone()).unwrap_or_default(),
        )
        .unwrap_or(day);
        day = start.pred_opt().unwrap_or(start);
    }
    periods.reverse();
    let first = periods.first().map(|p| p.0.clone()).unwrap_or_default();
    let last = periods.last().map(|p| p.0.clone()).unwrap_or_default();
    let rows = store::stats(conn, &first, &last, None)?;
    let mut report = ImpactReport::default();
    for (key, label) in &periods {
        let g = rows
            .iter()
            .find(|r| &r.period == key && r.dim == "all")
            .map_or(0, |r| r.grams);
        report.bars.push((label.clone(), g));
    }
    // Totals over the shown periods; households cannot be summed over periods (the same
    // household is active in many), so they are counted distinct over the whole range.
    for r in rows.iter().filter(|r| r.dim == "all") {
        report.totals.grams += r.grams;
        report.totals.deposits += r.deposits;
        report.totals.co2e_g += r.co2e_g;
    }
    report.totals.households = store::active_households(conn, &first, &last, "all")?
        .first()
        .map_or(0, |(_, n)| *n);
    let building_households: std::collections::BTreeMap<String, i64> =
        store::active_households(conn, &first, &last, "building")?
            .into_iter()
            .collect();
    let merge = |dim: &str| -> Vec<store::StatRow> {
        let mut by_key: std::collections::BTreeMap<String, store::StatRow> = Default::default();
        for r in rows.iter().filter(|r| r.dim == dim) {
            let e = by_key
                .entry(r.key.clone())
                .or_insert_with(|| store::StatRow {
                    key: r.key.clone(),
                    dim: dim.into(),
                    ..Default::default()
                });
            e.grams += r.grams;
            e.deposits += r.deposits;
            e.co2e_g += r.co2e_g;
            if dim == "building" {
                e.households = building_households.get(&r.key).copied().unwrap_or(0);
            }
        }
        let mut v: Vec<_> = by_key.into_values().collect();
        v.sort_by_key(|r| std::cmp::Reverse(r.grams));
        v
    };
    let buildings = merge("building");
    report.kinds = merge("kind");
    report.buildings = store::merge_small_buildings(buildings);
    let from = super::residents::period_start(&first).unwrap_or(today);
    let to_utc = crate::store::utc_text(
        today
            .succ_opt()
            .unwrap_or(today)
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc(),
    );
    let from_utc = crate::store::utc_text(from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    report.garden_g = crate::store::garden::garden_compost_g(conn, &from_utc, &to_utc).unwrap_or(0);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_gives_the_credit_rules() {
        let c = CompostSection::default();
        let cc = credits_config(&c);
        assert_eq!(cc.rate_cents_per_kg, 10);
        assert_eq!(cc.daily_cap_cents, Some(100));
        assert_eq!(cc.max_share_bp, 5000);
        let no_cap = CompostSection {
            credit_daily_cap_cents: 0,
            ..c
        };
        assert_eq!(credits_config(&no_cap).daily_cap_cents, None);
    }

    #[test]
    fn notice_codes_are_stable() {
        assert_eq!(Notice::RevokedCard.code(), "revoked_card");
        assert_eq!(Notice::Weigh(WeighRefusal::Negative).code(), "negative");
        assert_eq!(
            Notice::Weigh(WeighRefusal::ScaleError(
                crate::domain::metrology::ScaleFault::Disconnected
            ))
            .fault(),
            "disconnected"
        );
    }
}
