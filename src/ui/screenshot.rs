//! Headless rendering with Slint's software renderer: `comptoir screenshot` and the start-up
//! benchmark. The platform can be set once per process, so nothing else may have created a
//! window before.

use std::cell::RefCell;
use std::rc::Rc;

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::Rgb8Pixel;
use slint::{ComponentHandle, PhysicalSize};

use super::{ConfigErrorAdapter, Ui};
use crate::app::health::{Checks, Fault, FaultKind, Warnings};
use crate::app::{self, Kiosk};

/// A platform whose windows draw into memory.
struct HeadlessPlatform {
    current: Rc<RefCell<Option<Rc<MinimalSoftwareWindow>>>>,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        *self.current.borrow_mut() = Some(window.clone());
        Ok(window)
    }
}

/// Renders kiosk screens in memory. One per process.
pub struct Renderer {
    current: Rc<RefCell<Option<Rc<MinimalSoftwareWindow>>>>,
}

/// An RGB image.
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl Renderer {
    /// Installs the headless platform; fails when a platform is already set.
    pub fn install() -> Result<Renderer, slint::platform::SetPlatformError> {
        let current = Rc::new(RefCell::new(None));
        slint::platform::set_platform(Box::new(HeadlessPlatform {
            current: current.clone(),
        }))?;
        Ok(Renderer { current })
    }

    /// Builds the kiosk's UI, shows `screen` (in the screenshot state `state`, see
    /// [`STATES`]) and draws one frame.
    pub fn render(
        &self,
        kiosk: Kiosk,
        screen: app::Screen,
        state: Option<&str>,
        width: u32,
        height: u32,
    ) -> Result<Frame, slint::PlatformError> {
        let ui = Ui::new(kiosk)?;
        stage(&ui, screen, state);
        ui.window.show()?;
        let adapter = self
            .current
            .borrow()
            .clone()
            .ok_or_else(|| slint::PlatformError::from("no window"))?;
        adapter.set_size(PhysicalSize::new(width, height));
        slint::platform::update_timers_and_animations();
        let mut pixels = vec![Rgb8Pixel::new(0, 0, 0); (width * height) as usize];
        adapter.draw_if_needed(|renderer| {
            renderer.render(&mut pixels, width as usize);
        });
        ui.window.hide()?;
        let rgb = pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
        Ok(Frame { width, height, rgb })
    }
}

/// Puts the UI on `screen` as `comptoir screenshot` shows it, in the screenshot state `state`
/// (see [`STATES`]; the kiosk-level part of a state is [`stage_state`], before the UI is
/// built). The touch-target test (tests/touch.rs) visits exactly these views.
pub fn stage(ui: &Ui, screen: app::Screen, state: Option<&str>) {
    prepare(ui, screen);
    if let Some(name) = state {
        act_state(ui, name);
    }
}

/// Puts the UI on `screen` as a person would see it: staff screens with somebody allowed
/// signed in, the config error with a real parser message.
fn prepare(ui: &Ui, screen: app::Screen) {
    {
        let mut k = ui.kiosk.borrow_mut();
        if let Some(action) = screen.requires() {
            let people = crate::store::people::active_staff(k.store.conn()).unwrap_or_default();
            // The least senior person who may see the screen: what they would see.
            let person = people
                .into_iter()
                .filter(|p| app::roles::allowed(p.role, action))
                .min_by_key(|p| (p.role, p.id));
            if let Some(p) = person {
                k.session.assume(p);
            }
        }
        // A fixed simulated reading (1,234 kg, stable) and ready devices: reproducible images.
        k.devices = app::devices::DeviceStatus {
            scale: app::devices::ScaleView::Weight {
                grams: 1234,
                stable: true,
                net: false,
            },
            printer: Some(crate::devices::printer::PrinterState {
                connected: true,
                ..Default::default()
            }),
            scanner: Some(true),
            ..Default::default()
        };
        stage_sale(&mut k, screen);
        super::garden_adapter::stage(&mut k, screen);
        super::compost_adapter::stage(&mut k, screen);
        if screen == app::Screen::Login {
            k.login_target = app::Screen::SellCatalog;
        }
        k.screen = screen;
    }
    if screen == app::Screen::ConfigError {
        let sample = "timezone = \"Europe/Paris\"\n[scale]\nprotocol = \"toledo8217\"\nport = \"/dev/comptoir-scale\"\nbaud = \"fast\"\n";
        if let Err(e) =
            crate::config::Config::parse(std::path::Path::new("/etc/comptoir/config.toml"), sample)
        {
            ui.window
                .global::<ConfigErrorAdapter>()
                .set_message(e.to_string().into());
        }
    }
    if screen == app::Screen::SellTickets {
        super::tickets_adapter::show_latest_day(&ui.kiosk.borrow());
    }
    {
        let mut k = ui.kiosk.borrow_mut();
        if screen == app::Screen::HealthFailed && !matches!(k.health.checks, Checks::Failed(_)) {
            k.health.checks = Checks::Failed(Fault::new(
                FaultKind::Damaged,
                "quick_check: *** in database main *** Page 4711: btreeInitPage() returns error code 11",
            ));
        }
        super::health_adapter::refresh(&ui.window, &k);
    }
    let demo = ui.kiosk.borrow().mode == app::RunMode::Demo;
    ui.window
        .global::<super::DevicesAdapter>()
        .set_simulated(demo);
    super::refresh(&ui.window, &ui.kiosk);
}

/// The selling screens show a sale in progress: tomatoes "cœur de bœuf" on the scale (the
/// fixed 1,234 kg), two salads, a 10 € note; the confirmation shows that sale recorded (in the
/// built-in demo database; a read-only `--db` cannot record it and shows the cart instead).
fn stage_sale(k: &mut Kiosk, screen: app::Screen) {
    use app::sell;
    use app::Screen::*;
    if !matches!(
        screen,
        SellWeigh | SellCart | SellPay | SellReceipt | SellCatalog
    ) {
        return;
    }
    let find = |k: &Kiosk, code: &str| {
        crate::store::catalog::active_products(k.store.conn())
            .ok()
            .and_then(|ps| ps.into_iter().find(|p| p.short_code == code).or(None))
            .map(|p| p.id)
    };
    let (Some(tomatoes), Some(salad)) = (find(k, "TCB"), find(k, "SAL")) else {
        return;
    };
    let result = (|| -> Result<(), sell::SellError> {
        if app::cash::current(k).ok().flatten().is_none() {
            app::cash::open(k, 5000)?;
        }
        if screen == SellWeigh {
            sell::choose(k, tomatoes)?;
            // With `--config` of a scale that is not legal-for-trade: a bowl on the scale.
            if let Some(&bowl) = sell::container_tares(k).first() {
                sell::set_tare(k, bowl)?;
            }
            return Ok(());
        }
        sell::choose(k, tomatoes)?;
        sell::add_weighed(k)?;
        sell::choose(k, salad)?;
        sell::qty_digit(k, '2')?;
        sell::add_pieces(k)?;
        if matches!(screen, SellPay | SellReceipt) {
            sell::pay_quick(k, 1000)?;
        }
        if screen == SellReceipt {
            sell::pay(k, crate::domain::cart::PaymentMethod::Cash)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        log::warn!("screenshot {}: {e}", screen.name());
    }
    if screen == SellReceipt && k.sell.last_done.is_none() {
        // A read-only database cannot record the staged sale: show its latest sale instead.
        let last = k.store.conn().query_row(
            "SELECT s.seq, s.total_cents, s.change_cents,
                    EXISTS (SELECT 1 FROM sale_payments p WHERE p.kiosk_id = s.kiosk_id AND p.seq = s.seq AND p.method = 'cash')
             FROM sales s WHERE s.kind = 'sale' ORDER BY s.seq DESC LIMIT 1",
            [],
            |r| Ok(sell::Done { seq: r.get(0)?, total: r.get(1)?, change: r.get(2)?, cash: r.get(3)? }),
        );
        k.sell.last_done = last.ok();
    }
}

/// Encodes an RGB frame as PNG.
pub fn encode_png(frame: &Frame) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, frame.width, frame.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&frame.rgb)?;
    }
    Ok(out)
}

/// States shown by `comptoir screenshot` that are not screens of their own: the home screen
/// with the start-up checks' banner, with every warning about backups and the disk, with a
/// backup stick too full, and with the wrong PINs an administrator sees at sign-in; the staff
/// screen warning that backups are not encrypted; the failed-check screen for entries missing,
/// a changed schema and a lost database; the PIN step of signing in, and the sign-in from the
/// composter paused after too many wrong PINs; a resident's sign-up form being typed; a refund
/// just recorded on the tickets screen, and one waiting for its approval; a sale cancelled on
/// its confirmation; the language list open over a resident's weighing; the garden stock's
/// product panel, and a loss being typed there; the date question over the catalogue after
/// the clock jumped 40 days ahead; the sign-in list, the day's tickets, the residents and the
/// stock when their records cannot be read.
pub const STATES: &[(&str, app::Screen)] = &[
    ("health-checking", app::Screen::Home),
    ("health-warnings", app::Screen::Home),
    ("health-stick-full", app::Screen::Home),
    ("admin.staff-backup-plain", app::Screen::AdminStaff),
    ("health-no-backup", app::Screen::Home),
    ("health-missing", app::Screen::HealthFailed),
    ("health-schema", app::Screen::HealthFailed),
    ("health-no-database", app::Screen::HealthFailed),
    ("home.pin-alert", app::Screen::Home),
    ("login.pin", app::Screen::Login),
    ("login.paused", app::Screen::Login),
    ("admin.residents-new", app::Screen::AdminResidents),
    ("sell.tickets-refunded", app::Screen::SellTickets),
    ("sell.tickets-approval", app::Screen::SellTickets),
    ("sell.receipt-cancelled", app::Screen::SellReceipt),
    ("compost.weigh-languages", app::Screen::CompostWeigh),
    ("garden.stock-panel", app::Screen::GardenStock),
    ("garden.stock-loss", app::Screen::GardenStock),
    ("admin.devices-held", app::Screen::AdminDevices),
    ("admin.devices-held-list", app::Screen::AdminDevices),
    ("date-confirm", app::Screen::SellCatalog),
    ("login.read-failed", app::Screen::Login),
    ("sell.tickets-read-failed", app::Screen::SellTickets),
    ("admin.residents-read-failed", app::Screen::AdminResidents),
    ("garden.stock-read-failed", app::Screen::GardenStock),
];

/// The screen of a screenshot state, `None` for other names.
pub fn state_screen(name: &str) -> Option<app::Screen> {
    STATES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// Puts the kiosk in the screenshot state `name` (see [`STATES`]).
pub fn stage_state(kiosk: &mut Kiosk, name: &str) {
    match name {
        // The store's fault point: the screen's records cannot be read.
        "login.read-failed" => kiosk.store.fail_reads_of(Some("staff")),
        "sell.tickets-read-failed" => kiosk.store.fail_reads_of(Some("sales")),
        "admin.residents-read-failed" => kiosk.store.fail_reads_of(Some("residents")),
        "garden.stock-read-failed" => kiosk.store.fail_reads_of(Some("stock_moves")),
        "health-checking" => kiosk.health.checks = Checks::Running,
        "health-warnings" => {
            kiosk.health.warnings = Warnings {
                backup_stale: Some(Some(3)),
                folder_missing: true,
                disk_nearly_full: Some(150),
                backup_plain: false,
            }
        }
        "health-stick-full" => {
            kiosk.health.last_backup = Some(Err(crate::app::health::BackupFailure {
                detail: "the backup stick is full: 3 MB free, the copy needs 41 MB".into(),
                stick_full: Some((3, 41)),
            }));
        }
        "admin.staff-backup-plain" => {
            kiosk.health.warnings = Warnings {
                backup_plain: true,
                ..Warnings::default()
            }
        }
        "health-no-backup" => {
            kiosk.health.warnings = Warnings {
                backup_stale: Some(None),
                ..Warnings::default()
            }
        }
        "health-missing" => {
            kiosk.health.checks = Checks::Failed(Fault {
                kind: FaultKind::Missing,
                detail: "seq 1937: entries missing: the journal ends at seq 1936, but the head file saw seq 1962 of 2026-06-13T08:40:12Z".into(),
                since: Some("2026-06-12T16:55:03Z".into()),
            })
        }
        "health-schema" => {
            kiosk.health.checks = Checks::Failed(Fault::new(
                FaultKind::Schema,
                "schema: extra trigger forget_failures",
            ))
        }
        "health-no-database" => {
            kiosk.health.checks = Checks::Failed(Fault::new(
                FaultKind::NoDatabase,
                "/var/lib/comptoir/comptoir.db: no database, but /var/lib/comptoir/comptoir.db.key is there",
            ))
        }
        // The clock jumped 40 days ahead: the date waits for a confirmation.
        "date-confirm" => kiosk.clock.advance(chrono::Duration::days(40)),
        _ => {}
    }
}

/// The states reached through the UI, the way a person gets there: the callbacks their taps
/// would call (see [`STATES`]).
fn act_state(ui: &Ui, name: &str) {
    use super::{LoginAdapter, ResidentsAdapter, SellFlowAdapter, TicketsAdapter};
    use slint::Model;
    match name {
        "admin.devices-held" | "admin.devices-held-list" => {
            // Two jobs queued two days ago, never printed (the printer was off): held.
            {
                let mut k = ui.kiosk.borrow_mut();
                let then = crate::store::utc_text(k.clock.now() - chrono::Duration::days(2));
                for label in ["ticket 1042", "Z 17"] {
                    if let Err(e) =
                        crate::store::print_queue::enqueue(k.store.conn(), label, b"", &then)
                    {
                        log::warn!("screenshot {name}: {e}");
                    }
                }
                k.devices.printer_held = 2;
            }
            let devices = ui.window.global::<super::DevicesAdapter>();
            if name == "admin.devices-held-list" {
                devices.invoke_open_held();
            } else {
                super::devices_adapter::refresh(&ui.window, &ui.kiosk.borrow());
            }
        }
        "login.pin" => {
            // A seller tapped, two digits of the PIN typed.
            let login = ui.window.global::<LoginAdapter>();
            let tiles = login.get_staff();
            let seller = tiles
                .iter()
                .find(|t| t.role == super::RoleKind::Seller)
                .or_else(|| tiles.row_data(0));
            if let Some(t) = seller {
                login.invoke_choose(t.id);
                login.invoke_digit("4".into());
                login.invoke_digit("2".into());
            }
        }
        "home.pin-alert" | "login.paused" => {
            // Wrong PINs typed for the sellers: from the composter's sign-in (eleven in a row
            // pause it), and two at the staff sign-in; then an administrator signs in.
            let admin = {
                let mut guard = ui.kiosk.borrow_mut();
                let k = &mut *guard;
                let people = crate::store::people::active_staff(k.store.conn()).unwrap_or_default();
                let sellers: Vec<_> = people
                    .iter()
                    .filter(|p| p.role == crate::store::people::Role::Seller)
                    .collect();
                let mut session = app::session::Session::default();
                let mut wrong = |id: i64, origin: app::session::Origin| {
                    if session.choose(&k.store, &k.clock, id).is_ok() {
                        "000000".chars().for_each(|c| session.digit(c));
                        let _ = session.submit_from(&k.store, &k.clock, None, "login", origin);
                    }
                };
                for i in 0..11 {
                    if let Some(p) = sellers.get(i % sellers.len().max(1)) {
                        wrong(p.id, app::session::Origin::Resident);
                    }
                }
                if let Some(p) = sellers.first() {
                    wrong(p.id, app::session::Origin::Staff);
                    wrong(p.id, app::session::Origin::Staff);
                }
                if name == "login.paused" {
                    k.lockdown.hold_for_screenshot();
                }
                people
                    .into_iter()
                    .find(|p| p.role == crate::store::people::Role::Admin)
            };
            let admin = admin.filter(|_| name == "home.pin-alert");
            if let Some(admin) = &admin {
                ui.kiosk.borrow_mut().session.assume(admin.clone());
            }
            super::refresh(&ui.window, &ui.kiosk);
            if let Some(admin) = admin {
                super::pin_alert::show(&ui.window, &ui.kiosk.borrow(), admin.id);
            }
        }
        "admin.residents-new" => {
            // A new resident's nickname being typed, with letters French and Turkish need.
            let residents = ui.window.global::<ResidentsAdapter>();
            residents.invoke_new_resident();
            for c in ["Ş", "e", "n", "a", "y"] {
                residents.invoke_nickname_char(c.into());
            }
        }
        "sell.tickets-refunded" | "sell.tickets-approval" => {
            // The register open (a refund gives cash back), then the day's latest sale not
            // yet refunded, refunded whole (two taps). A sale of an earlier session needs
            // approval: the first approver is chosen and, for "refunded" in the demo data,
            // types their demo PIN; for "approval", two digits of it.
            {
                let mut k = ui.kiosk.borrow_mut();
                if app::cash::current(&k).ok().flatten().is_none() {
                    if let Err(e) = app::cash::open(&mut k, 5000) {
                        log::warn!("screenshot {name}: {e}");
                    }
                }
            }
            let tickets = ui.window.global::<TicketsAdapter>();
            let rows = tickets.get_tickets();
            let sale = rows
                .iter()
                .filter(|t| !t.refund && !t.fully_refunded && !t.partly_refunded && !t.training)
                .max_by_key(|t| t.seq);
            if let Some(t) = sale {
                tickets.invoke_refund(t.seq);
                tickets.invoke_refund(t.seq);
            }
            if let Some(approver) = tickets.get_approvers().row_data(0) {
                tickets.invoke_approval_choose(approver.id);
                let demo_pin = crate::demo::DEMO_STAFF
                    .iter()
                    .find(|(n, _, _)| *n == approver.name.as_str())
                    .map(|(_, _, pin)| *pin)
                    .filter(|_| ui.kiosk.borrow().mode == app::RunMode::Demo);
                match (name, demo_pin) {
                    ("sell.tickets-refunded", Some(pin)) => {
                        for d in pin.chars() {
                            tickets.invoke_approval_digit(d.to_string().into());
                        }
                        tickets.invoke_approval_ok();
                    }
                    _ => {
                        for d in ["4", "2"] {
                            tickets.invoke_approval_digit(d.into());
                        }
                    }
                }
            }
        }
        "sell.receipt-cancelled" => {
            // The customer changed their mind: the sale just made, cancelled (two taps).
            let flow = ui.window.global::<SellFlowAdapter>();
            flow.invoke_cancel_sale();
            flow.invoke_cancel_sale();
        }
        "compost.weigh-languages" => {
            // The resident tapped the language button at the scale: the list is open.
            ui.window
                .global::<super::CompostAdapter>()
                .set_choosing_language(true);
        }
        "garden.stock-panel" | "garden.stock-loss" => {
            // A product of the stock list tapped: its panel of choices; for the loss, "Spoiled"
            // tapped and 350 typed on the keypad.
            let garden = ui.window.global::<super::GardenFlowAdapter>();
            let tomatoes = crate::store::catalog::active_products(ui.kiosk.borrow().store.conn())
                .ok()
                .and_then(|ps| ps.into_iter().find(|p| p.short_code == "TOM"));
            if let Some(p) = tomatoes {
                garden.invoke_stock_choose(p.id as i32);
                if name == "garden.stock-loss" {
                    garden.invoke_stock_op("loss-spoiled".into());
                    for d in ["3", "5", "0"] {
                        garden.invoke_stock_digit(d.into());
                    }
                }
            }
        }
        _ => {}
    }
}
