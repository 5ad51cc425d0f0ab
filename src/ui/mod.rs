//! The only place that includes the generated Slint code. One adapter per view maps the
//! controllers' plain data into Slint structs and wires the view's callbacks to the controllers.

mod admin_adapter;
mod cash_adapter;
mod clock_adapter;
mod compost_adapter;
mod date_adapter;
mod devices_adapter;
mod first_start_adapter;
mod garden_adapter;
pub mod health_adapter;
mod lockdown;
mod login_adapter;
mod pin_alert;
mod products_adapter;
pub mod screenshot;
mod sell_adapter;
mod tickets_adapter;
mod views_adapter;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use slint::ComponentHandle;

use crate::app::{self, Kiosk};
use crate::devices::{Configured, Devices};

#[allow(clippy::all)]
mod generated {
    slint::include_modules!();
}
pub use generated::*;

/// Shared handle on the kiosk state, owned by the UI thread.
pub type Shared = Rc<RefCell<Kiosk>>;

/// Languages the UI offers, each by its own name, in the order of the language bar.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("fr", "Français"),
    ("en", "English"),
    ("tr", "Türkçe"),
    ("ar", "العربية"),
];

/// Switches the bundled translation. English is the source language, bundled like the others
/// (its msgstr are its msgid). A language without a translation falls back to French, the
/// kiosk's default, rather than to whatever the machine's locale picked.
pub fn select_language(code: &str) -> bool {
    match slint::select_bundled_translation(code) {
        Ok(()) => true,
        Err(e) => {
            log::warn!("language {code}: {e}; showing French");
            let _ = slint::select_bundled_translation("fr");
            false
        }
    }
}

/// How the UI names a pricing mode (the sell, catalogue and products adapters).
fn pricing_kind(p: crate::store::catalog::Pricing) -> PricingKind {
    use crate::store::catalog::Pricing;
    match p {
        Pricing::PerKg => PricingKind::PerKg,
        Pricing::PerPiece => PricingKind::PerPiece,
        Pricing::PerBunch => PricingKind::PerBunch,
    }
}

pub(crate) fn to_slint_screen(s: app::Screen) -> Screen {
    match s {
        app::Screen::Home => Screen::Home,
        app::Screen::Login => Screen::Login,
        app::Screen::SellCatalog => Screen::SellCatalog,
        app::Screen::SellWeigh => Screen::SellWeigh,
        app::Screen::SellCart => Screen::SellCart,
        app::Screen::SellPay => Screen::SellPay,
        app::Screen::SellReceipt => Screen::SellReceipt,
        app::Screen::SellTickets => Screen::SellTickets,
        app::Screen::SellSessionOpen => Screen::SellSessionOpen,
        app::Screen::SellSessionClose => Screen::SellSessionClose,
        app::Screen::CompostIdle => Screen::CompostIdle,
        app::Screen::CompostWeigh => Screen::CompostWeigh,
        app::Screen::CompostThanks => Screen::CompostThanks,
        app::Screen::CompostBins => Screen::CompostBins,
        app::Screen::CompostImpact => Screen::CompostImpact,
        app::Screen::AdminResidents => Screen::AdminResidents,
        app::Screen::GardenHome => Screen::GardenHome,
        app::Screen::GardenHarvest => Screen::GardenHarvest,
        app::Screen::GardenStock => Screen::GardenStock,
        app::Screen::GardenReports => Screen::GardenReports,
        app::Screen::GardenSales => Screen::GardenSales,
        app::Screen::AdminStaff => Screen::AdminStaff,
        app::Screen::AdminProducts => Screen::AdminProducts,
        app::Screen::AdminDevices => Screen::AdminDevices,
        app::Screen::AdminClock => Screen::AdminClock,
        app::Screen::ConfigError => Screen::ConfigError,
        app::Screen::FirstStart => Screen::FirstStart,
        app::Screen::HealthFailed => Screen::HealthFailed,
    }
}

pub(crate) fn from_slint_screen(s: Screen) -> app::Screen {
    match s {
        Screen::Home => app::Screen::Home,
        Screen::Login => app::Screen::Login,
        Screen::SellCatalog => app::Screen::SellCatalog,
        Screen::SellWeigh => app::Screen::SellWeigh,
        Screen::SellCart => app::Screen::SellCart,
        Screen::SellPay => app::Screen::SellPay,
        Screen::SellReceipt => app::Screen::SellReceipt,
        Screen::SellTickets => app::Screen::SellTickets,
        Screen::SellSessionOpen => app::Screen::SellSessionOpen,
        Screen::SellSessionClose => app::Screen::SellSessionClose,
        Screen::CompostIdle => app::Screen::CompostIdle,
        Screen::CompostWeigh => app::Screen::CompostWeigh,
        Screen::CompostThanks => app::Screen::CompostThanks,
        Screen::CompostBins => app::Screen::CompostBins,
        Screen::CompostImpact => app::Screen::CompostImpact,
        Screen::AdminResidents => app::Screen::AdminResidents,
        Screen::GardenHome => app::Screen::GardenHome,
        Screen::GardenHarvest => app::Screen::GardenHarvest,
        Screen::GardenStock => app::Screen::GardenStock,
        Screen::GardenReports => app::Screen::GardenReports,
        Screen::GardenSales => app::Screen::GardenSales,
        Screen::AdminStaff => app::Screen::AdminStaff,
        Screen::AdminProducts => app::Screen::AdminProducts,
        Screen::AdminDevices => app::Screen::AdminDevices,
        Screen::AdminClock => app::Screen::AdminClock,
        Screen::ConfigError => app::Screen::ConfigError,
        Screen::FirstStart => app::Screen::FirstStart,
        Screen::HealthFailed => app::Screen::HealthFailed,
    }
}

/// The window and the timers that keep it alive; dropping it stops the timers.
pub struct Ui {
    pub window: AppWindow,
    pub kiosk: Shared,
    pub devices: Rc<RefCell<Devices>>,
    _clock_timer: slint::Timer,
    _device_timer: slint::Timer,
    idle: Rc<slint::Timer>,
}

impl Ui {
    /// Builds the window for `kiosk`, without devices.
    pub fn new(kiosk: Kiosk) -> Result<Ui, slint::PlatformError> {
        Ui::with_devices(kiosk, Devices::none())
    }

    /// Builds the window for `kiosk` and its running devices, and wires every adapter.
    pub fn with_devices(mut kiosk: Kiosk, devices: Devices) -> Result<Ui, slint::PlatformError> {
        if devices.configured() != Configured::default() {
            let c = devices.configured();
            kiosk.devices = app::devices::DeviceStatus::starting(c.scale, c.printer, c.scanner);
        }
        let devices = Rc::new(RefCell::new(devices));
        let window = AppWindow::new()?;
        let start_language = kiosk.language.clone();
        kiosk.lockdown.remember_language(&start_language);
        let kiosk: Shared = Rc::new(RefCell::new(kiosk));
        let idle = Rc::new(slint::Timer::default());
        {
            let k = kiosk.borrow();
            let state = window.global::<AppState>();
            state.set_demo(k.mode == app::RunMode::Demo);
            state.set_association(k.config.association.name.as_str().into());
            let langs: Vec<LanguageOption> = LANGUAGES
                .iter()
                .map(|(code, name)| LanguageOption {
                    code: (*code).into(),
                    name: (*name).into(),
                })
                .collect();
            state.set_languages(Rc::new(slint::VecModel::from(langs)).into());
        }
        let language = kiosk.borrow().language.clone();
        apply_language(&window, &language);

        let clock_timer = slint::Timer::default();
        {
            let weak = window.as_weak();
            let k = kiosk.clone();
            update_clock(&window, &k.borrow());
            let day = std::cell::Cell::new(local_day(&k.borrow()));
            clock_timer.start(
                slint::TimerMode::Repeated,
                Duration::from_secs(1),
                move || {
                    if let Some(w) = weak.upgrade() {
                        update_clock(&w, &k.borrow());
                        // A new day: yesterday is closed now, so that a kiosk left on (the
                        // composter) keeps its closures and its last entry's date current;
                        // retention runs.
                        let today = local_day(&k.borrow());
                        if today != day.get() {
                            day.set(today);
                            app::boot::new_day(&mut k.borrow_mut());
                            refresh(&w, &k);
                        }
                        // The compost-only hours begin or end at the next idle moment.
                        let switched = app::compost::follow_schedule(&mut k.borrow_mut());
                        if switched {
                            refresh(&w, &k);
                        }
                    }
                },
            );
        }

        // Workers push into channels; this timer drains them on the UI thread (also under the
        // testing backend, where nothing can be posted to an event loop).
        let device_timer = slint::Timer::default();
        {
            let weak = window.as_weak();
            let k = kiosk.clone();
            let d = devices.clone();
            let idle = idle.clone();
            device_timer.start(
                slint::TimerMode::Repeated,
                Duration::from_millis(10),
                move || {
                    if let Ok(kiosk) = k.try_borrow() {
                        d.borrow().tell_time(kiosk.clock.now());
                    }
                    let events = d.borrow().drain();
                    if events.is_empty() {
                        return;
                    }
                    // A card read is somebody at the kiosk, like a touch (scale readings are
                    // not: they come all the time).
                    let scanned = events
                        .iter()
                        .any(|e| matches!(e, crate::devices::DeviceEvent::Scanner(_)));
                    {
                        let mut guard = k.borrow_mut();
                        for e in events {
                            guard.apply_device_event(e);
                        }
                    }
                    if let Some(w) = weak.upgrade() {
                        match k.borrow().screen {
                            app::Screen::CompostIdle
                            | app::Screen::CompostWeigh
                            | app::Screen::CompostThanks
                            | app::Screen::SellPay => refresh(&w, &k),
                            app::Screen::AdminDevices | app::Screen::SellReceipt => {
                                devices_adapter::refresh(&w, &k.borrow())
                            }
                            app::Screen::SellWeigh => sell_adapter::refresh_weigh(&w, &k.borrow()),
                            app::Screen::GardenHarvest => {
                                garden_adapter::refresh_weigh(&w, &k.borrow())
                            }
                            _ => {}
                        }
                        if scanned {
                            compost_adapter::scanned(&w, &k, &idle);
                        }
                    }
                },
            );
        }

        window
            .global::<DevicesAdapter>()
            .set_simulated(devices.borrow().is_demo());
        let ui = Ui {
            window,
            kiosk,
            devices,
            _clock_timer: clock_timer,
            _device_timer: device_timer,
            idle,
        };
        ui.wire();
        ui.refresh();
        Ok(ui)
    }

    fn wire(&self) {
        let state = self.window.global::<AppState>();
        {
            let weak = self.window.as_weak();
            let kiosk = self.kiosk.clone();
            let idle = self.idle.clone();
            state.on_set_language(move |code| {
                let Some(w) = weak.upgrade() else { return };
                kiosk.borrow_mut().language = code.to_string();
                apply_language(&w, &code);
                touched(&w, &kiosk, &idle);
                refresh(&w, &kiosk);
            });
        }
        {
            let weak = self.window.as_weak();
            let kiosk = self.kiosk.clone();
            let idle = self.idle.clone();
            state.on_navigate(move |screen| {
                let Some(w) = weak.upgrade() else { return };
                let to = from_slint_screen(screen);
                if to == app::Screen::AdminClock {
                    clock_adapter::reset();
                }
                let nav = kiosk.borrow_mut().navigate(to);
                if let app::Navigation::SignInFirst(_) = nav {
                    kiosk.borrow_mut().session.cancel();
                }
                touched(&w, &kiosk, &idle);
                refresh(&w, &kiosk);
            });
        }
        {
            let weak = self.window.as_weak();
            let kiosk = self.kiosk.clone();
            state.on_sign_out(move || {
                let Some(w) = weak.upgrade() else { return };
                {
                    let mut k = kiosk.borrow_mut();
                    let screen = k.screen.name();
                    let Kiosk {
                        session,
                        store,
                        clock,
                        ..
                    } = &mut *k;
                    session.sign_out(store, clock, false, screen);
                    k.screen = app::Screen::Home;
                }
                refresh(&w, &kiosk);
            });
        }
        {
            // Keyboard-wedge scanners: characters, then Enter. Lines longer than any card are
            // refused whole, so junk never becomes a token.
            let kiosk = self.kiosk.clone();
            let weak = self.window.as_weak();
            let idle = self.idle.clone();
            let typed = Rc::new(RefCell::new(String::new()));
            state.on_key_typed(move |text| {
                let Some(w) = weak.upgrade() else { return };
                let mut line = typed.borrow_mut();
                for c in text.chars() {
                    if c == '\n' || c == '\r' {
                        if line.is_empty() {
                            continue;
                        }
                        let event = crate::devices::scanner::scan_event(&line);
                        line.clear();
                        kiosk
                            .borrow_mut()
                            .apply_device_event(crate::devices::DeviceEvent::Scanner(event));
                        if kiosk.borrow().screen == app::Screen::AdminDevices {
                            devices_adapter::refresh(&w, &kiosk.borrow());
                        } else {
                            refresh(&w, &kiosk);
                        }
                        compost_adapter::scanned(&w, &kiosk, &idle);
                    } else if !c.is_control() && line.len() < crate::devices::scanner::MAX_LINE {
                        line.push(c);
                    } else if !c.is_control() {
                        // Overlong: keep it marked as such until Enter.
                        line.push(c);
                        line.truncate(crate::devices::scanner::MAX_LINE + 1);
                    }
                }
            });
        }
        views_adapter::wire(&self.window, &self.kiosk, &self.idle);
        sell_adapter::wire(&self.window, &self.kiosk, &self.devices, &self.idle);
        cash_adapter::wire(&self.window, &self.kiosk, &self.devices, &self.idle);
        login_adapter::wire(&self.window, &self.kiosk, &self.idle);
        pin_alert::wire(&self.window);
        admin_adapter::wire(&self.window, &self.kiosk, &self.idle);
        products_adapter::wire(&self.window, &self.kiosk, &self.devices, &self.idle);
        tickets_adapter::wire(&self.window, &self.kiosk, &self.devices, &self.idle);
        devices_adapter::wire(&self.window, &self.kiosk, &self.devices, &self.idle);
        clock_adapter::wire(&self.window, &self.kiosk, &self.idle);
        date_adapter::wire(&self.window, &self.kiosk, &self.idle);
        first_start_adapter::wire(&self.window, &self.kiosk);
        garden_adapter::wire(&self.window, &self.kiosk, &self.idle);
        compost_adapter::wire(&self.window, &self.kiosk, &self.devices, &self.idle);
    }

    /// Shows the kiosk's current screen with fresh data.
    pub fn refresh(&self) {
        refresh(&self.window, &self.kiosk);
    }

    /// Runs the event loop until the window closes.
    pub fn run(&self) -> Result<(), slint::PlatformError> {
        self.window.run()
    }
}

fn apply_language(window: &AppWindow, code: &str) {
    let state = window.global::<AppState>();
    if select_language(code) {
        state.set_language(code.into());
    }
    // Right-to-left languages mirror the layouts where the order follows the reading direction.
    let shown = crate::domain::money::Lang::from_code(&state.get_language()).unwrap_or_default();
    state.set_rtl(shown.is_rtl());
}

/// Today's local date by the kiosk's clock.
fn local_day(kiosk: &Kiosk) -> chrono::NaiveDate {
    kiosk
        .clock
        .now()
        .with_timezone(&kiosk.config.tz())
        .date_naive()
}

fn update_clock(window: &AppWindow, kiosk: &Kiosk) {
    let local = kiosk.clock.now().with_timezone(&kiosk.config.tz());
    window
        .global::<AppState>()
        .set_clock(local.format("%H:%M").to_string().into());
}

/// Something was touched: restart the idle timer of the current screen. On a staff screen
/// five minutes without a touch sign the person out and lock the screen; on a resident-facing
/// screen 60 s bring back its idle state (`lockdown`).
pub(crate) fn touched(window: &AppWindow, kiosk: &Shared, idle: &Rc<slint::Timer>) {
    let screen = kiosk.borrow().screen;
    let signed_in = kiosk.borrow().session.current().is_some();
    if app::lockdown::is_resident_facing(screen) {
        lockdown::start_resident_timer(window, kiosk, idle);
        return;
    }
    if !(screen.is_staff() || (screen == app::Screen::Login && signed_in)) {
        idle.stop();
        return;
    }
    let weak = window.as_weak();
    let k = kiosk.clone();
    idle.start(
        slint::TimerMode::SingleShot,
        Duration::from_secs(app::session::STAFF_TIMEOUT_SECONDS),
        move || {
            let Some(w) = weak.upgrade() else { return };
            {
                let mut k = k.borrow_mut();
                let screen = k.screen;
                let Kiosk {
                    session,
                    store,
                    clock,
                    ..
                } = &mut *k;
                session.sign_out(store, clock, true, screen.name());
                k.login_target = if screen.is_staff() {
                    screen
                } else {
                    k.login_target
                };
                k.screen = app::Screen::Login;
            }
            refresh(&w, &k);
        },
    );
}

/// Shows the kiosk's current screen with fresh data.
pub(crate) fn refresh(window: &AppWindow, kiosk: &Shared) {
    let k = kiosk.borrow();
    let state = window.global::<AppState>();
    state.set_screen(to_slint_screen(k.screen));
    state.set_training(k.sell.training);
    state.set_staff_name(
        k.session
            .current()
            .map(|s| s.name.as_str())
            .unwrap_or("")
            .into(),
    );
    date_adapter::refresh(window, &k);
    pin_alert::refresh(window, &k);
    match k.screen {
        app::Screen::Login => login_adapter::refresh(window, &k),
        app::Screen::SellCatalog => views_adapter::refresh_sell(window, &k),
        app::Screen::SellWeigh
        | app::Screen::SellCart
        | app::Screen::SellPay
        | app::Screen::SellReceipt => {
            sell_adapter::refresh(window, &k);
            devices_adapter::refresh(window, &k);
        }
        app::Screen::SellSessionOpen | app::Screen::SellSessionClose => {
            cash_adapter::refresh(window, &k)
        }
        app::Screen::GardenHome => views_adapter::refresh_garden(window, &k),
        app::Screen::GardenHarvest
        | app::Screen::GardenStock
        | app::Screen::GardenReports
        | app::Screen::GardenSales => garden_adapter::refresh(window, &k),
        app::Screen::AdminStaff => admin_adapter::refresh(window, &k),
        app::Screen::AdminProducts => products_adapter::refresh(window, &k),
        app::Screen::SellTickets => tickets_adapter::refresh(window, &k),
        app::Screen::AdminDevices => devices_adapter::refresh(window, &k),
        app::Screen::AdminClock => clock_adapter::refresh(window, &k),
        app::Screen::CompostIdle
        | app::Screen::CompostWeigh
        | app::Screen::CompostThanks
        | app::Screen::CompostBins
        | app::Screen::CompostImpact
        | app::Screen::AdminResidents => compost_adapter::refresh(window, &k),
        app::Screen::Home | app::Screen::ConfigError | app::Screen::FirstStart => {}
        app::Screen::HealthFailed => health_adapter::refresh(window, &k),
    }
}
