//! Controllers: one per user flow. They call the domain, the store and the devices, and hand
//! plain data to the UI adapters; they never touch generated Slint types.

pub mod boot;
pub mod cash;
pub mod catalog;
pub mod clock;
pub mod closures;
pub mod compost;
#[cfg(debug_assertions)]
pub mod crash_writer;
pub mod devices;
pub mod garden;
pub mod health;
pub mod lockdown;
pub mod printing;
pub mod products;
pub mod receipt;
pub mod residents;
pub mod roles;
pub mod sell;
pub mod session;
pub mod staff;
pub mod tickets;

use crate::config::Config;
use crate::store::Store;
pub use clock::Clock;
pub use roles::Action;
use session::Session;

/// The screens of the kiosk. `name()` is the screenshot name (ARCHITECTURE.md, "Command line").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    Home,
    Login,
    SellCatalog,
    SellWeigh,
    SellCart,
    SellPay,
    SellReceipt,
    SellTickets,
    SellSessionOpen,
    SellSessionClose,
    CompostIdle,
    CompostWeigh,
    CompostThanks,
    CompostBins,
    CompostImpact,
    AdminResidents,
    GardenHome,
    GardenHarvest,
    GardenStock,
    GardenReports,
    GardenSales,
    AdminStaff,
    AdminProducts,
    AdminDevices,
    /// The kiosk's time and the journal's signing key.
    AdminClock,
    ConfigError,
    FirstStart,
    /// A check of the data failed: selling and deposits stopped, what to do.
    HealthFailed,
}

impl Screen {
    /// Every screen, in the order `comptoir screenshot --screen list` prints them.
    pub const ALL: &'static [Screen] = &[
        Screen::Home,
        Screen::Login,
        Screen::SellCatalog,
        Screen::SellWeigh,
        Screen::SellCart,
        Screen::SellPay,
        Screen::SellReceipt,
        Screen::SellTickets,
        Screen::SellSessionOpen,
        Screen::SellSessionClose,
        Screen::CompostIdle,
        Screen::CompostWeigh,
        Screen::CompostThanks,
        Screen::CompostBins,
        Screen::CompostImpact,
        Screen::AdminResidents,
        Screen::GardenHome,
        Screen::GardenHarvest,
        Screen::GardenStock,
        Screen::GardenReports,
        Screen::GardenSales,
        Screen::AdminStaff,
        Screen::AdminProducts,
        Screen::AdminDevices,
        Screen::AdminClock,
        Screen::ConfigError,
        Screen::FirstStart,
        Screen::HealthFailed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Screen::Home => "home",
            Screen::Login => "login",
            Screen::SellCatalog => "sell.catalog",
            Screen::SellWeigh => "sell.weigh",
            Screen::SellCart => "sell.cart",
            Screen::SellPay => "sell.pay",
            Screen::SellReceipt => "sell.receipt",
            Screen::SellTickets => "sell.tickets",
            Screen::SellSessionOpen => "sell.session-open",
            Screen::SellSessionClose => "sell.session-close",
            Screen::CompostIdle => "compost.idle",
            Screen::CompostWeigh => "compost.weigh",
            Screen::CompostThanks => "compost.thanks",
            Screen::CompostBins => "compost.bins",
            Screen::CompostImpact => "compost.impact",
            Screen::AdminResidents => "admin.residents",
            Screen::GardenHome => "garden.home",
            Screen::GardenHarvest => "garden.harvest",
            Screen::GardenStock => "garden.stock",
            Screen::GardenReports => "garden.reports",
            Screen::GardenSales => "garden.sales",
            Screen::AdminStaff => "admin.staff",
            Screen::AdminProducts => "admin.products",
            Screen::AdminDevices => "admin.devices",
            Screen::AdminClock => "admin.clock",
            Screen::ConfigError => "config-error",
            Screen::FirstStart => "first-start",
            Screen::HealthFailed => "health-failed",
        }
    }

    pub fn from_name(name: &str) -> Option<Screen> {
        Screen::ALL.iter().copied().find(|s| s.name() == name)
    }

    /// What a person must be allowed to do to see this screen; `None` for resident screens.
    pub fn requires(self) -> Option<Action> {
        match self {
            Screen::SellCatalog
            | Screen::SellWeigh
            | Screen::SellCart
            | Screen::SellPay
            | Screen::SellReceipt
            | Screen::SellTickets => Some(Action::Sell),
            Screen::SellSessionOpen | Screen::SellSessionClose => Some(Action::CashSession),
            Screen::GardenHome | Screen::GardenHarvest => Some(Action::Harvest),
            Screen::GardenStock => Some(Action::Stock),
            Screen::GardenReports | Screen::GardenSales => Some(Action::Reports),
            Screen::CompostBins | Screen::CompostImpact => Some(Action::Composters),
            Screen::AdminResidents => Some(Action::RegisterResident),
            Screen::AdminStaff => Some(Action::ManageStaff),
            Screen::AdminProducts => Some(Action::Catalogue),
            Screen::AdminDevices => Some(Action::Devices),
            Screen::AdminClock => Some(Action::SetTime),
            Screen::Home
            | Screen::Login
            | Screen::CompostIdle
            | Screen::CompostWeigh
            | Screen::CompostThanks
            | Screen::ConfigError
            | Screen::FirstStart
            | Screen::HealthFailed => None,
        }
    }

    /// Staff screens lock after 5 minutes without a touch; resident screens go back to their
    /// idle screen after 60 s.
    pub fn is_staff(self) -> bool {
        self.requires().is_some()
    }
}

/// How the kiosk runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Simulated devices, demo database, a "DÉMO" badge on every screen.
    Demo,
    /// The real devices and database of the config file.
    Live,
}

/// The kiosk's state behind the UI: the open database, the config, who is signed in and
/// which screen shows.
pub struct Kiosk {
    pub store: Store,
    pub config: Config,
    pub mode: RunMode,
    pub clock: Clock,
    pub session: Session,
    pub screen: Screen,
    /// Where a sign-in leads once it succeeds.
    pub login_target: Screen,
    pub language: String,
    /// What the devices last reported.
    pub devices: devices::DeviceStatus,
    /// Every seller's cart and the scale's weighing guard.
    pub sell: sell::Sell,
    /// The garden lead's harvest entry (with its weighing guard), stock panel and report choices.
    pub garden: garden::Garden,
    /// The resident at the composter, if any.
    pub compost: compost::Compost,
    /// Whether a resident is held in the compost flow (see `lockdown`).
    pub lockdown: lockdown::Lockdown,
    /// Start-up checks, daily backup, warnings (see `health`).
    pub health: health::Health,
}

/// Where a navigation request ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Navigation {
    /// The screen is shown.
    Shown(Screen),
    /// Somebody with the right role must sign in first.
    SignInFirst(Screen),
}

impl Kiosk {
    /// The interface language now (French when the code is not one of the four).
    pub fn lang(&self) -> crate::domain::Lang {
        crate::domain::Lang::from_code(&self.language).unwrap_or(crate::domain::Lang::Fr)
    }

    pub fn new(store: Store, config: Config, mode: RunMode, clock: Clock) -> Kiosk {
        let language = config.language.clone();
        let mut kiosk = Kiosk {
            store,
            config,
            mode,
            clock,
            session: Session::default(),
            screen: Screen::Home,
            login_target: Screen::Home,
            language,
            devices: devices::DeviceStatus::default(),
            sell: sell::Sell::default(),
            garden: garden::Garden::default(),
            compost: compost::Compost::default(),
            lockdown: lockdown::Lockdown::default(),
            health: health::Health::default(),
        };
        {
            let mut m = crate::domain::metrology::MetrologyConfig {
                legal_for_trade: kiosk.config.selling.legal_for_trade,
                ..Default::default()
            };
            if let Some(scale) = &kiosk.config.scale {
                if let Some(min) = scale.min_net_g {
                    m.min_net_g = min;
                }
                if let Some(cap) = scale.capacity_g {
                    m.capacity_g = cap;
                }
            }
            kiosk.sell = sell::Sell::with_metrology(m);
            kiosk.garden = garden::Garden::new(m);
        }
        kiosk.compost.compost_only =
            compost::scheduled_compost_only(&kiosk.config, kiosk.clock.now());
        sell::restore_parked(&mut kiosk);
        if !kiosk.has_staff() {
            kiosk.screen = Screen::FirstStart;
        }
        kiosk
    }

    /// A device worker's report: updates what the screens show and feeds the weighing guard
    /// every scale reading (the return to zero is watched even when nobody is weighing).
    pub fn apply_device_event(&mut self, event: crate::devices::DeviceEvent) {
        let from_scale = matches!(event, crate::devices::DeviceEvent::Scale(_));
        let scan = match &event {
            crate::devices::DeviceEvent::Scanner(s) => Some(s.clone()),
            _ => None,
        };
        self.devices.apply(event, &self.store);
        if let Some(scan) = scan {
            compost::on_scan(self, &scan);
        }
        if from_scale {
            self.sell.observe(self.devices.scale);
            self.garden.observe(self.devices.scale);
        }
    }

    /// Does anybody work here yet? A new database has nobody until the first admin is made.
    pub fn has_staff(&self) -> bool {
        self.store
            .conn()
            .query_row("SELECT count(*) FROM staff", [], |r| r.get::<_, i64>(0))
            .map(|n| n > 0)
            .unwrap_or(true)
    }

    /// Asks for a screen: staff screens need a signed-in person whose role allows them.
    pub fn navigate(&mut self, to: Screen) -> Navigation {
        if let Some(held) = lockdown::gate(self, to) {
            return held;
        }
        // Selling and deposits wait for the start-up checks; a failed check blocks them.
        let checked = self.health.gate(self.screen, to);
        if checked != to {
            self.screen = checked;
            return Navigation::Shown(checked);
        }
        if to.is_staff() && !self.has_staff() {
            self.screen = Screen::FirstStart;
            return Navigation::SignInFirst(to);
        }
        match to.requires() {
            Some(action) if !self.session.may(action) => {
                self.login_target = to;
                self.screen = Screen::Login;
                Navigation::SignInFirst(to)
            }
            _ => {
                let to = compost::gate(self, to);
                self.screen = self.register_gate(to);
                Navigation::Shown(self.screen)
            }
        }
    }

    /// Selling needs an open cash session, less than 24 hours old: otherwise the seller is sent
    /// to open the register, or to close the old session first.
    fn register_gate(&self, to: Screen) -> Screen {
        if self.sell.training
            || !matches!(
                to,
                Screen::SellCatalog | Screen::SellWeigh | Screen::SellCart | Screen::SellPay
            )
        {
            return to;
        }
        match cash::session_for_sale(self) {
            Ok(_) => to,
            Err(cash::CashError::NoSession) => Screen::SellSessionOpen,
            Err(cash::CashError::SessionTooOld { .. }) => Screen::SellSessionClose,
            Err(e) => {
                log::error!("cash session: {e}");
                to
            }
        }
    }
}
