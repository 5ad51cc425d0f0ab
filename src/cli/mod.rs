//! The command line (contract in ARCHITECTURE.md, "Command line"): the kiosk by default, plus
//! maintenance commands.
//!
//! Exit codes: 0 ok; 1 the operation failed or found a fault; 2 usage error; 3 the database is
//! missing, not Comptoir's, newer than this build, or read-only. Standard output carries fixed
//! English tokens for scripts; messages for people go to standard error.

pub mod garden_export;
pub mod keys;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{NaiveDate, TimeZone, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::app::{self, Clock, Kiosk, RunMode};
use crate::config::Config;
use crate::store::{Access, OpenError, Store};
use crate::{demo, paths};

pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_DATABASE: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "comptoir",
    version,
    about = "Comptoir: the touchscreen kiosk of the Jardin des 1000 fleurs (sell, garden, compost).",
    long_about = "Comptoir: the touchscreen kiosk of the Jardin des 1000 fleurs.\n\n\
        Without a subcommand it runs the kiosk. Without a config file it runs in demo mode: \
        simulated devices, a separate demo database, and a DEMO badge on every screen.\n\n\
        Exit codes: 0 ok; 1 the operation failed; 2 usage error; 3 the database is missing, \
        not Comptoir's, newer than this build, or read-only."
)]
pub struct Cli {
    /// Database file (default: from the config, else the user's data directory). Never
    /// `:memory:`: records must outlive the command.
    #[arg(long, global = true, value_name = "PATH", value_parser = parse_db_path)]
    pub db: Option<PathBuf>,
    /// Config file (default: config.toml in the user's config directory).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Interface language (default: from the config, else French).
    #[arg(long, global = true, value_enum)]
    pub lang: Option<LangArg>,
    /// Run on simulated devices with the demo database, even with a config file.
    #[arg(long)]
    pub demo: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    Fr,
    En,
    Tr,
    Ar,
}

impl LangArg {
    pub fn code(self) -> &'static str {
        match self {
            LangArg::Fr => "fr",
            LangArg::En => "en",
            LangArg::Tr => "tr",
            LangArg::Ar => "ar",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Demo data: `demo seed` fills an empty database with a realistic garden, stall and composter.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Renders one screen to a PNG with the software renderer, headless, without touching any
    /// database (`--db` is opened read-only; without it, built-in demo data).
    Screenshot(ScreenshotArgs),
    /// The scale: read it, or simulate one on a pseudo-terminal.
    #[command(subcommand)]
    Scale(ScaleCommand),
    /// The receipt printer: simulate one on a pseudo-terminal.
    #[command(subcommand)]
    Printer(PrinterCommand),
    /// The QR card scanner: simulate one on a pseudo-terminal.
    #[command(subcommand)]
    Scanner(ScannerCommand),
    /// Lists serial ports and printers, one a line: `PATH  VID:PID  PRODUCT  ROLE` (`-` where
    /// unknown). Reads sysfs only: never opens or writes to a port.
    Devices,
    /// Creates a new, empty database at --db (exit 1 if something is already there). The kiosk
    /// makes one itself at its very first start; after that, a missing database is never
    /// recreated silently: restore a backup, or run this on purpose.
    Init,
    /// The inalterable journal: `journal verify` recomputes the chain and the signatures and
    /// checks that the sales tables agree with the journal; `journal head` prints its head.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// Keys: the association's recovery key (`key recovery-new --out FILE` on any computer,
    /// `key recovery-register --db PATH --public HEX`) and `key rotate --db PATH --recovery
    /// FILE` when the kiosk's signing key is lost.
    #[command(subcommand)]
    Key(keys::KeyCommand),
    /// Writes a copy (it says DUPLICATA) of the receipt of the sale or refund SEQ to a PNG or
    /// an ESC/POS file. Changes nothing.
    Receipt(ReceiptArgs),
    /// Exports records as CSV (RFC 4180, header row) or JSON to standard output. Read-only.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Makes resident RESIDENT a new compost card and writes it (QR code, association,
    /// nickname, instructions) as a 1011x638 PNG (85.6 x 54 mm at 300 dpi). The database keeps
    /// only a hash of each card, so a card cannot be printed again: this issues a new one, and
    /// the resident's old card stops working. Writes to the database (the new card, journaled).
    /// Exit 1 for an unknown or anonymised resident, or a PNG that cannot be written (then
    /// nothing changes).
    Card {
        /// The internal resident number shown in the UI.
        resident: i64,
        #[arg(long, value_name = "FILE")]
        png: PathBuf,
    },
    /// Residents: `resident export RESIDENT` prints one resident's data as JSON. Read-only.
    #[command(subcommand)]
    Resident(ResidentCommand),
    /// Copies the database into DIR (a USB stick) as comptoir-YYYY-MM-DD.db with SQLite's
    /// online backup, verifies the copy (integrity check, journal), encrypts it with age to
    /// the config's backup_recipients (comptoir-YYYY-MM-DD.db.age; the plain copy never
    /// touches the stick), records its SHA-256 (DIR/SHA256SUMS) and head (DIR/comptoir-heads.txt),
    /// keeps 7 daily and 12 monthly copies. Journals the backup first, so it takes the
    /// database's lock (exit 3 while the kiosk runs: the kiosk backs up by itself). A copy
    /// that fails, or a stick too full, leaves nothing behind (exit 1).
    Backup {
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// Replaces the database (--db) with a backup, after checking it: the same kiosk, the
    /// migrations' schema, a journal that verifies and contains the current head (of the
    /// database in place, or of its head file). The restore is journaled; the replaced file is
    /// kept aside (<db>.before-restore-<UTC>). Refused while the kiosk runs (exit 3).
    Restore {
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Take a backup that lacks entries of the journal in place (they are lost from the
        /// database, kept in the file set aside); journaled with both heads.
        #[arg(long)]
        accept_rollback: bool,
        /// Take another kiosk's backup (this card becomes that kiosk); journaled.
        #[arg(long)]
        new_kiosk: bool,
        /// The age identity file that decrypts an encrypted backup (.db.age); keep it off the
        /// kiosk.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
        /// Replaced by --accept-rollback (refused with a message saying so).
        #[arg(long, hide = true)]
        overwrite_longer_journal: bool,
    },
    /// The power-cut harness's child (tests/kill.rs): commits a scripted stream of operations
    /// and prints one line per commit. Debug builds only: a kiosk (a release build) has no
    /// command that writes scripted sales into its database.
    #[cfg(debug_assertions)]
    #[command(hide = true)]
    CrashWriter {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        count: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScaleCommand {
    /// Reads N readings: `1234 g stable gross` or `error no_answer` a line; with --json
    /// `{"grams":-12,"stable":false,"net":false}` or `{"error":"motion"}`. Exit 0 after N
    /// lines (errors included), 1 if the port cannot be opened or disappears.
    Read {
        /// toledo8217, continuous, adam-print or adam-continuous.
        #[arg(long)]
        protocol: comptoir_hardware::scale::Protocol,
        /// The serial port.
        #[arg(long, value_name = "DEV")]
        port: PathBuf,
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
        count: u64,
        #[arg(long)]
        json: bool,
    },
    /// Simulates a scale speaking the protocol on a pseudo-terminal linked at PATH. Starts at
    /// 0 g, stable, gross; standard input takes one command a line: grams (`1234`, `-12`),
    /// `motion`, `over`, `under`, `silence`, `garbage`, `tare G`, `notare`, `zero`. Prints
    /// `ready PATH`, serves until SIGINT or SIGTERM, then removes the link.
    Simulate {
        #[arg(long)]
        protocol: comptoir_hardware::scale::Protocol,
        #[arg(long, value_name = "PATH")]
        link: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PrinterCommand {
    /// Simulates an ESC/POS printer on a pseudo-terminal linked at PATH. Each job (ended by a
    /// cut, by ESC @ after data, or by 1 s of silence) gives DIR/job-0001.png and
    /// DIR/job-0001.txt (its text, then `qr: PAYLOAD` lines). Standard input sets what status
    /// queries answer: paper-out, paper-near-end, paper-ok, cover-open, cover-closed.
    Simulate {
        #[arg(long, value_name = "PATH")]
        link: PathBuf,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Paper width in dots: 384 (58 mm) or 576 (80 mm).
        #[arg(long, default_value_t = 576, value_parser = parse_width_dots)]
        width_dots: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum ResidentCommand {
    /// Everything stored about resident RESIDENT (details, cards' dates, deposits, credits)
    /// as JSON on standard output; exit 1 for an unknown resident.
    Export { resident: i64 },
}

#[derive(Debug, Subcommand)]
pub enum ScannerCommand {
    /// Simulates a serial QR scanner on a pseudo-terminal linked at PATH: each line of
    /// standard input is sent as a scan, ended by CR LF.
    Simulate {
        #[arg(long, value_name = "PATH")]
        link: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Fills an empty database with demo records (refuses one that holds data: exit 1).
    /// The same --seed and --until give the same rows.
    Seed(SeedArgs),
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Days of history, ending at --until.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub days: u32,
    /// Seed of the random choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Last day of history, YYYY-MM-DD (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Args)]
pub struct ScreenshotArgs {
    /// Screen name, or `list` to print the names.
    #[arg(long, value_parser = parse_screen)]
    pub screen: ScreenArg,
    /// PNG file to write (not needed with `--screen list`).
    #[arg(long, value_name = "FILE.png")]
    pub out: Option<PathBuf>,
    /// Window size, from 320x240 to 3840x2160.
    #[arg(long, default_value = "800x480", value_parser = parse_size)]
    pub size: (u32, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenArg {
    List,
    Screen(app::Screen),
    /// A state of a screen (`crate::ui::screenshot::STATES`).
    State(&'static str),
}

fn screen_names() -> String {
    app::Screen::ALL
        .iter()
        .map(|s| s.name())
        .chain(crate::ui::screenshot::STATES.iter().map(|s| s.0))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_screen(s: &str) -> Result<ScreenArg, String> {
    if s == "list" {
        return Ok(ScreenArg::List);
    }
    if let Some((name, _)) = crate::ui::screenshot::STATES.iter().find(|t| t.0 == s) {
        return Ok(ScreenArg::State(name));
    }
    app::Screen::from_name(s)
        .map(ScreenArg::Screen)
        .ok_or_else(|| format!("unknown screen {s:?}; the screens are: {}", screen_names()))
}

fn parse_db_path(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    paths::check_db_path(&path)?;
    Ok(path)
}

fn parse_width_dots(s: &str) -> Result<u32, String> {
    match s {
        "384" => Ok(384),
        "576" => Ok(576),
        _ => Err(format!("{s:?}: 384 (58 mm) or 576 (80 mm)")),
    }
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{s:?}: give WIDTHxHEIGHT, e.g. 800x480"))?;
    let w: u32 = w
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: the width is not a number"))?;
    let h: u32 = h
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: the height is not a number"))?;
    if !(320..=3840).contains(&w) || !(240..=2160).contains(&h) {
        return Err(format!("{s:?}: sizes go from 320x240 to 3840x2160"));
    }
    Ok((w, h))
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    return_big_allocations_to_the_system();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let mut cli = Cli::parse();
    match cli.command.take() {
        None => run_kiosk(&cli),
        Some(Command::Demo(DemoCommand::Seed(a))) => demo_seed(&cli, &a),
        Some(Command::Screenshot(a)) => screenshot(&cli, &a),
        Some(Command::Scale(c)) => scale(c),
        Some(Command::Printer(PrinterCommand::Simulate {
            link,
            out,
            width_dots,
        })) => printer_simulate(&link, &out, width_dots),
        Some(Command::Scanner(ScannerCommand::Simulate { link })) => {
            if let Err(code) = check_link(&link) {
                return code;
            }
            let stop = stop_on_signals();
            let stdin = std::io::BufReader::new(std::io::stdin());
            simulator_result(comptoir_hardware::run_scanner_simulator(
                &link,
                stdin,
                stop,
                &mut std::io::stdout(),
            ))
        }
        Some(Command::Devices) => {
            for device in comptoir_hardware::list_devices() {
                println!("{device}");
            }
            ExitCode::SUCCESS
        }
        Some(Command::Journal(JournalCommand::Verify(a))) => journal_verify(&cli, &a),
        Some(Command::Journal(JournalCommand::Head)) => journal_head(&cli),
        Some(Command::Init) => init(&cli),
        Some(Command::Journal(JournalCommand::Archive(a))) => journal_archive(&cli, &a),
        Some(Command::Key(k)) => ExitCode::from(keys::run(cli.db.as_deref(), &k)),
        Some(Command::Receipt(a)) => receipt(&cli, &a),
        Some(Command::Export(ExportCommand::Sales(a))) => export_sales(&cli, &a),
        Some(Command::Export(ExportCommand::Harvests(a))) => {
            garden_export::run(&cli, &a, garden_export::GardenExport::Harvests)
        }
        Some(Command::Export(ExportCommand::Stock(a))) => {
            garden_export::run(&cli, &a, garden_export::GardenExport::Stock)
        }
        Some(Command::Export(ExportCommand::Deposits(a))) => compost_export(&cli, &a, false),
        Some(Command::Export(ExportCommand::Impact(a))) => compost_export(&cli, &a, true),
        Some(Command::Card { resident, png }) => {
            match (open_writable(&cli, "card"), config_or_default(&cli)) {
                (Ok((_, mut store, _lock)), Ok(config)) => ExitCode::from(
                    app::residents::card_command(&mut store, &config, resident, &png),
                ),
                (Err(code), _) | (_, Err(code)) => code,
            }
        }
        Some(Command::Resident(ResidentCommand::Export { resident })) => {
            match open_read_only(&cli, "resident export") {
                Ok((_, store)) => ExitCode::from(app::residents::export_command(&store, resident)),
                Err(code) => code,
            }
        }
        Some(Command::Backup { to }) => backup(&cli, &to),
        Some(Command::Restore {
            from,
            accept_rollback,
            new_kiosk,
            identity,
            overwrite_longer_journal,
        }) => {
            if overwrite_longer_journal {
                eprintln!(
                    "comptoir: --overwrite-longer-journal is gone: use --accept-rollback \
                     (the rollback is journaled with both heads)"
                );
                return ExitCode::from(EXIT_USAGE);
            }
            let options = crate::store::backup::RestoreOptions {
                accept_rollback,
                new_kiosk,
                identity,
            };
            restore(&cli, &from, &options)
        }
        #[cfg(debug_assertions)]
        Some(Command::CrashWriter { seed, count }) => crash_writer(&cli, seed, count),
    }
}

/// Each PIN check (argon2) allocates 19 MiB. glibc's dynamic mmap threshold would serve the
/// next such block from the heap after the first is freed, and the heap does not shrink: the
/// kiosk's memory would grow with every sign-in. A fixed threshold keeps big blocks in their
/// own mappings, returned to the system when freed.
fn return_big_allocations_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn db_error(e: &OpenError) -> ExitCode {
    eprintln!("comptoir: {e}");
    ExitCode::from(EXIT_DATABASE)
}

/// The config to use, if any: `--config`, else the default file when it exists.
fn find_config(cli: &Cli) -> Option<PathBuf> {
    cli.config
        .clone()
        .or_else(|| Some(paths::default_config()).filter(|p| p.exists()))
}

fn language(cli: &Cli, config: &Config) -> String {
    cli.lang
        .map(|l| l.code().to_string())
        .unwrap_or_else(|| config.language.clone())
}

fn run_kiosk(cli: &Cli) -> ExitCode {
    let config_path = find_config(cli);
    let loaded = config_path.as_deref().map(Config::load).transpose();
    let (config, config_error) = match loaded {
        Ok(c) => (c, None),
        Err(e) => {
            eprintln!("comptoir: {e}");
            (None, Some(e))
        }
    };
    if let Some(error) = config_error {
        // Show the error on screen too: under systemd a crash loop is a black screen.
        let store = match Store::open_in_memory() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("comptoir: {e}");
                return ExitCode::from(EXIT_FAILED);
            }
        };
        let fallback = Config::default();
        let lang = language(cli, &fallback);
        let mut kiosk = Kiosk::new(store, fallback, RunMode::Live, Clock::System);
        kiosk.language = lang;
        kiosk.screen = app::Screen::ConfigError;
        return match crate::ui::Ui::new(kiosk) {
            Ok(ui) => {
                use slint::ComponentHandle;
                ui.window
                    .global::<crate::ui::ConfigErrorAdapter>()
                    .set_message(error.to_string().into());
                ui.refresh();
                let _ = ui.run();
                ExitCode::from(EXIT_FAILED)
            }
            Err(e) => {
                eprintln!("comptoir: cannot open a window: {e}");
                ExitCode::from(EXIT_FAILED)
            }
        };
    }
    let demo_mode = cli.demo || config.is_none() || config.as_ref().is_some_and(|c| c.demo);
    let config = config.unwrap_or_default();
    let db_path = match (&cli.db, demo_mode) {
        (Some(p), _) => p.clone(),
        (None, true) => paths::demo_db(),
        (None, false) => config.database.clone().unwrap_or_else(paths::default_db),
    };
    if let Err(e) = paths::check_db_path(&db_path) {
        eprintln!("comptoir: database {e}");
        return ExitCode::from(EXIT_USAGE);
    }
    // One kiosk per database, and no writing command beside it.
    let _lock = match lock_db(&db_path, "the kiosk") {
        Ok(l) => l,
        Err(code) => return code,
    };
    if !demo_mode {
        if let app::boot::DatabaseState::Lost { evidence } = app::boot::check_database(&db_path) {
            return lost_database(cli, &config, &db_path, &evidence);
        }
    }
    let mut store = match Store::open(&db_path, Access::ReadWrite) {
        Ok(s) => s,
        Err(e) => return db_error(&e),
    };
    if demo_mode {
        match store.holds_data() {
            Ok(false) => {
                let options = demo::SeedOptions {
                    days: 30,
                    seed: 1,
                    until: Utc::now().with_timezone(&config.tz()).date_naive(),
                    tz: config.tz(),
                };
                if let Err(e) = demo::seed(&mut store, &options) {
                    eprintln!("comptoir: seeding the demo database: {e}");
                    return ExitCode::from(EXIT_FAILED);
                }
                eprintln!("comptoir: demo mode, demo data in {}", db_path.display());
            }
            Ok(true) => eprintln!("comptoir: demo mode, database {}", db_path.display()),
            Err(e) => {
                eprintln!("comptoir: {e}");
                return ExitCode::from(EXIT_FAILED);
            }
        }
    }
    let lang = language(cli, &config);
    let mode = if demo_mode {
        RunMode::Demo
    } else {
        RunMode::Live
    };
    let devices = if demo_mode {
        let receipts = paths::data_dir().join("demo-receipts");
        match crate::devices::Devices::start_demo(&db_path, &receipts) {
            Ok(d) => {
                eprintln!(
                    "comptoir: simulated devices; printed receipts go to {}",
                    receipts.display()
                );
                d
            }
            Err(e) => {
                eprintln!("comptoir: cannot start the simulated devices: {e}");
                crate::devices::Devices::none()
            }
        }
    } else {
        crate::devices::Devices::start(
            config.scale.as_ref(),
            config.printer.as_ref(),
            config.scanner.as_ref(),
            &db_path,
        )
    };
    if let Err(e) = app::boot::journal_start(&mut store, Utc::now()) {
        eprintln!("comptoir: the start was not journaled: {e}");
    }
    let mut kiosk = Kiosk::new(store, config, mode, Clock::correctable());
    kiosk.language = lang;
    // Periods that ended while the kiosk was off are closed now (and again before each sale);
    // retention runs.
    let chores = app::boot::new_day(&mut kiosk);
    if let Ok(n @ 1..) = chores.closures {
        eprintln!("comptoir: {n} closures written for ended periods");
    }
    if let Err(e) = &chores.closures {
        eprintln!("comptoir: closures: {e}");
    }
    let ui = match crate::ui::Ui::with_devices(kiosk, devices) {
        Ok(ui) => ui,
        Err(e) => {
            eprintln!("comptoir: cannot open a window: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    // Start-up checks after the first frame, then the daily full check and backup.
    let health_config = {
        let k = ui.kiosk.borrow();
        crate::app::health::HealthConfig {
            db: db_path.clone(),
            backup_dir: k.config.backup_dir.clone(),
            tz: k.config.tz(),
            period: std::time::Duration::from_secs(60),
            head_file: Some(crate::store::witness::head_path_for(&db_path)),
            backup_recipients: k.config.backup_recipients(),
        }
    };
    let _health = crate::ui::health_adapter::watch(&ui.window, &ui.kiosk, health_config);
    let keeper = app::boot::HeadKeeper::for_store(&ui.kiosk.borrow().store);
    let _head = keeper.map(|k| crate::ui::health_adapter::keep_head(&ui.kiosk, k));
    let result = ui.run();
    {
        // A clean stop: journaled, and the head file written with it.
        let mut k = ui.kiosk.borrow_mut();
        let now = k.clock.now();
        if let Err(e) = app::boot::journal_stop(&mut k.store, now) {
            eprintln!("comptoir: the stop was not journaled: {e}");
        }
        if let Some(mut keeper) = app::boot::HeadKeeper::for_store(&k.store) {
            keeper.tick(&k.store);
        }
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("comptoir: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// The database is gone but its key or head file is not: a blocking screen says what
/// happened and what to do; nothing is created.
fn lost_database(cli: &Cli, config: &Config, db: &Path, evidence: &Path) -> ExitCode {
    let detail = format!(
        "{}: no database, but {} is there",
        db.display(),
        evidence.display()
    );
    eprintln!("comptoir: {detail}; restore a backup (comptoir restore --from FILE --db {}), or move the leftover away and run comptoir init", db.display());
    let store = match Store::open_in_memory() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("comptoir: {e}");
            return ExitCode::from(EXIT_DATABASE);
        }
    };
    let mut kiosk = Kiosk::new(store, config.clone(), RunMode::Live, Clock::System);
    kiosk.language = language(cli, config);
    kiosk.health.checks = app::health::Checks::Failed(app::health::Fault::new(
        app::health::FaultKind::NoDatabase,
        detail,
    ));
    kiosk.screen = app::Screen::HealthFailed;
    match crate::ui::Ui::new(kiosk) {
        Ok(ui) => {
            crate::ui::health_adapter::refresh(&ui.window, &ui.kiosk.borrow());
            ui.refresh();
            let _ = ui.run();
            ExitCode::from(EXIT_DATABASE)
        }
        Err(e) => {
            eprintln!("comptoir: cannot open a window: {e}");
            ExitCode::from(EXIT_DATABASE)
        }
    }
}

fn demo_seed(cli: &Cli, a: &SeedArgs) -> ExitCode {
    let Some(db) = &cli.db else {
        eprintln!("comptoir: demo seed needs --db PATH");
        return ExitCode::from(EXIT_USAGE);
    };
    let config = match find_config(cli).as_deref().map(Config::load).transpose() {
        Ok(c) => c.unwrap_or_default(),
        Err(e) => {
            eprintln!("comptoir: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let tz = config.tz();
    let until = a
        .until
        .unwrap_or_else(|| Utc::now().with_timezone(&tz).date_naive());
    let _lock = match lock_db(db, "comptoir demo seed") {
        Ok(l) => l,
        Err(code) => return code,
    };
    let mut store = match Store::open(db, Access::ReadWrite) {
        Ok(s) => s,
        Err(e) => return db_error(&e),
    };
    let options = demo::SeedOptions {
        days: a.days,
        seed: a.seed,
        until,
        tz,
    };
    match demo::seed(&mut store, &options) {
        Ok(()) => {
            println!("seeded {}", db.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("comptoir: {}: {e}", db.display());
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// The fixed instant of screenshots: Saturday 13 June 2026, 10:42 in Paris (market morning).
pub fn screenshot_instant() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 13, 8, 42, 0)
        .single()
        .expect("valid instant")
}

fn screenshot(cli: &Cli, a: &ScreenshotArgs) -> ExitCode {
    let (screen, state) = match a.screen {
        ScreenArg::List => {
            println!("{}", screen_names().replace(", ", "\n"));
            return ExitCode::SUCCESS;
        }
        ScreenArg::Screen(s) => (s, None),
        ScreenArg::State(name) => match crate::ui::screenshot::state_screen(name) {
            Some(s) => (s, Some(name)),
            None => return ExitCode::from(EXIT_USAGE),
        },
    };
    let Some(out) = &a.out else {
        eprintln!("comptoir: screenshot needs --out FILE.png");
        return ExitCode::from(EXIT_USAGE);
    };
    if let Err(message) = check_out(out) {
        eprintln!("comptoir: --out {}: {message}", out.display());
        return ExitCode::from(EXIT_USAGE);
    }
    let (store, mode) = match &cli.db {
        // The first start is what a new, empty database shows.
        None if screen == app::Screen::FirstStart => match Store::open_in_memory() {
            Ok(s) => (s, RunMode::Live),
            Err(e) => {
                eprintln!("comptoir: {e}");
                return ExitCode::from(EXIT_FAILED);
            }
        },
        // Read-only, then copied into memory: the staged screens may record a sale there.
        Some(db) => match Store::open(db, Access::ReadOnly) {
            Ok(s) => match s.copy_in_memory() {
                Ok(copy) => (copy, RunMode::Live),
                Err(e) => {
                    eprintln!("comptoir: {}: {e}", db.display());
                    return ExitCode::from(EXIT_FAILED);
                }
            },
            Err(e) => return db_error(&e),
        },
        None => match builtin_demo_store() {
            Ok(s) => (s, RunMode::Demo),
            Err(e) => {
                eprintln!("comptoir: building the demo data: {e}");
                return ExitCode::from(EXIT_FAILED);
            }
        },
    };
    // Only an explicit --config changes the images (the machine's own config does not).
    let config = match cli.config.as_deref().map(Config::load).transpose() {
        Ok(c) => c.unwrap_or_default(),
        Err(e) => {
            eprintln!("comptoir: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let lang = language(cli, &config);
    let mut kiosk = Kiosk::new(store, config, mode, Clock::manual(screenshot_instant()));
    kiosk.language = lang;
    if let Some(name) = state {
        crate::ui::screenshot::stage_state(&mut kiosk, name);
    }
    let renderer = match crate::ui::screenshot::Renderer::install() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("comptoir: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let (w, h) = a.size;
    let frame = match renderer.render(kiosk, screen, state, w, h) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("comptoir: rendering {}: {e}", screen.name());
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let png = match crate::ui::screenshot::encode_png(&frame) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("comptoir: encoding the PNG: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    if let Err(e) = std::fs::write(out, png) {
        eprintln!("comptoir: --out {}: {e}", out.display());
        return ExitCode::from(EXIT_USAGE);
    }
    println!(
        "wrote {} {}x{} {}",
        state.unwrap_or(screen.name()),
        w,
        h,
        out.display()
    );
    if std::env::var_os("COMPTOIR_REPORT_PEAK_RSS").is_some() {
        // For the memory benchmark: this process's own peak (VmHWM starts afresh at exec, so
        // the pages of a parent that forked us are not counted).
        if let Some(kb) = peak_rss_kb() {
            eprintln!("peak_rss_kb {kb}");
        }
    }
    ExitCode::SUCCESS
}

/// The peak resident memory of this process (Linux `VmHWM`), in kB.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Can `out` be written (its folder exists and takes files; it is not a folder)?
fn check_out(out: &Path) -> Result<(), String> {
    if out.is_dir() {
        return Err("is a folder".into());
    }
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(format!("the folder {} does not exist", dir.display()));
    }
    let probe = dir.join(format!(".comptoir-screenshot-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The built-in demo data of screenshots: an in-memory database seeded as `demo seed` would.
pub fn builtin_demo_store() -> Result<Store, demo::SeedError> {
    let mut store = Store::open_in_memory()?;
    let options = demo::SeedOptions {
        days: 30,
        seed: 1,
        // History ends the day before: the staged screens happen on that market morning.
        until: screenshot_instant().date_naive() - chrono::Duration::days(1),
        tz: chrono_tz::Europe::Paris,
    };
    demo::seed(&mut store, &options)?;
    Ok(store)
}

/// A flag raised by SIGINT or SIGTERM, for the simulators.
fn stop_on_signals() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, stop.clone()) {
            eprintln!("comptoir: cannot watch signal {signal}: {e}");
        }
    }
    stop
}

/// A simulator's `--link` must be free or a simulator's own link: anything else (a database
/// given by mistake) is refused with exit 2 before anything is touched.
fn check_link(link: &Path) -> Result<(), ExitCode> {
    comptoir_hardware::pty::check_link(link).map_err(|e| {
        eprintln!("comptoir: --link {e}");
        ExitCode::from(EXIT_USAGE)
    })
}

fn simulator_result(result: std::io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("comptoir: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn scale(command: ScaleCommand) -> ExitCode {
    match command {
        ScaleCommand::Read {
            protocol,
            port,
            count,
            json,
        } => {
            let mut out = std::io::stdout();
            match comptoir_hardware::scale_read(protocol, &port, count as usize, json, &mut out) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("comptoir: {e}");
                    ExitCode::from(EXIT_FAILED)
                }
            }
        }
        ScaleCommand::Simulate { protocol, link } => {
            if let Err(code) = check_link(&link) {
                return code;
            }
            let stop = stop_on_signals();
            let stdin = std::io::BufReader::new(std::io::stdin());
            simulator_result(comptoir_hardware::run_scale_simulator(
                protocol,
                &link,
                stdin,
                stop,
                &mut std::io::stdout(),
            ))
        }
    }
}

fn printer_simulate(link: &Path, out_dir: &Path, width_dots: u32) -> ExitCode {
    if let Err(code) = check_link(link) {
        return code;
    }
    if let Err(e) = std::fs::create_dir_all(out_dir) {
        eprintln!("comptoir: --out {}: {e}", out_dir.display());
        return ExitCode::from(EXIT_USAGE);
    }
    let paper = comptoir_hardware::printer::Paper::from_dots(width_dots)
        .unwrap_or(comptoir_hardware::printer::Paper::Mm80);
    let stop = stop_on_signals();
    let stdin = std::io::BufReader::new(std::io::stdin());
    simulator_result(comptoir_hardware::run_printer_simulator(
        link,
        out_dir,
        crate::devices::RECEIPT_FONT,
        paper,
        stdin,
        stop,
        &mut std::io::stdout(),
    ))
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Prints `intact: N entries` (exit 0) or `broken: seq N: REASON` / `broken: schema:
    /// REASON` (exit 1). Opens the database read-only. Each --witness is a head the journal
    /// must contain: a head file (`<db>.head`), a backup folder's manifest
    /// (`comptoir-heads.txt`), a backup copy, or a head typed as SEQ:HASH (from a Z report or
    /// a closure); a journal cut short or rewritten is broken at the first seq it lacks.
    Verify(VerifyArgs),
    /// Prints the journal's head: `head: SEQ HASH` (`head: 0 -` for an empty journal) and
    /// `key: FINGERPRINT` (`key: none` before the first closure). Opens the database
    /// read-only. Write it down, or keep it elsewhere: `verify --witness SEQ:HASH` checks it.
    Head,
    /// Writes the yearly archive into DIR: journal-Y.csv, journal-Y.json, keys.json,
    /// README.txt (how to verify without Comptoir) and SHA256SUMS. Verifies the journal
    /// first (broken: exit 1, nothing written); refuses a DIR that already holds these files
    /// (exit 2). Prints `archived N entries to DIR`. Journals the archive (a technical event):
    /// stop the kiosk first.
    Archive(ArchiveArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A head the journal must contain: a head file, a manifest, a backup, or SEQ:HASH.
    #[arg(long, value_name = "FILE|SEQ:HASH")]
    pub witness: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReceiptMode {
    /// The receipt as an image (`GS v 0`).
    Raster,
    /// ESC/POS text (Windows-1252) with a native QR code.
    Text,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("output").required(true).args(["png", "escpos"])))]
pub struct ReceiptArgs {
    /// The journal seq of the sale or refund (its ticket number).
    pub seq: i64,
    /// Write the receipt as a PNG image (the raster picture).
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
    /// Write the ESC/POS bytes the printer would get.
    #[arg(long, value_name = "FILE")]
    pub escpos: Option<PathBuf>,
    /// ESC/POS mode (default: the configured printer's, else raster).
    #[arg(long, value_enum)]
    pub mode: Option<ReceiptMode>,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Sales and refunds, one row per line; training tickets are left out.
    Sales(ExportArgs),
    /// Harvests, one row per harvest (lot, plot, harvester, where it went).
    Harvests(ExportArgs),
    /// The stock position of every product at the end of --to (default today), with its
    /// moves from --from to --to.
    Stock(ExportArgs),
    /// Compost deposits, one row per deposit; residents by internal id only.
    Deposits(ExportArgs),
    /// Compost impact per week, month and year (periods starting from --from to --to; default
    /// the last five years), in total, per building (fewer than 3 households: "other") and per
    /// kind.
    Impact(ExportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// First local date, inclusive.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<NaiveDate>,
    /// Last local date, inclusive.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: Option<NaiveDate>,
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
}

fn compost_export(cli: &Cli, a: &ExportArgs, impact: bool) -> ExitCode {
    let what = if impact {
        app::residents::CompostExport::Impact
    } else {
        app::residents::CompostExport::Deposits
    };
    match (open_read_only(cli, "export"), config_or_default(cli)) {
        (Ok((_, store)), Ok(config)) => ExitCode::from(app::residents::export_compost_command(
            &store,
            &config,
            what,
            a.from,
            a.to,
            a.format == ExportFormat::Json,
        )),
        (Err(code), _) | (_, Err(code)) => code,
    }
}

/// The database of a read-only command: `--db` is required; never created or migrated.
pub(crate) fn open_read_only(cli: &Cli, command: &str) -> Result<(PathBuf, Store), ExitCode> {
    let Some(db) = &cli.db else {
        eprintln!("comptoir: {command} needs --db PATH");
        return Err(ExitCode::from(EXIT_USAGE));
    };
    match Store::open(db, Access::ReadOnly) {
        Ok(s) => Ok((db.clone(), s)),
        Err(e) => Err(db_error(&e)),
    }
}

/// The database of a command that writes to it, with its one-process lock: it must exist (a
/// writing command never makes a new one) and no kiosk or other writer may hold it.
pub(crate) fn open_writable(
    cli: &Cli,
    command: &str,
) -> Result<(PathBuf, Store, crate::store::lock::DbLock), ExitCode> {
    let Some(db) = &cli.db else {
        eprintln!("comptoir: {command} needs --db PATH");
        return Err(ExitCode::from(EXIT_USAGE));
    };
    if !db.exists() {
        return Err(db_error(&crate::store::OpenError::Missing {
            path: db.clone(),
        }));
    }
    let lock = lock_db(db, &format!("comptoir {command}"))?;
    match Store::open(db, Access::ReadWrite) {
        Ok(s) => Ok((db.clone(), s, lock)),
        Err(e) => Err(db_error(&e)),
    }
}

/// The config of a maintenance command (the default one when there is no file).
pub(crate) fn config_or_default(cli: &Cli) -> Result<Config, ExitCode> {
    match find_config(cli).as_deref().map(Config::load).transpose() {
        Ok(c) => Ok(c.unwrap_or_default()),
        Err(e) => {
            eprintln!("comptoir: {e}");
            Err(ExitCode::from(EXIT_FAILED))
        }
    }
}

fn journal_head(cli: &Cli) -> ExitCode {
    let (db, store) = match open_read_only(cli, "journal head") {
        Ok(x) => x,
        Err(code) => return code,
    };
    match crate::store::witness::current(store.conn()) {
        Ok(Some(head)) => {
            println!("head: {} {}", head.seq, head.hash);
            println!("key: {}", head.key.as_deref().unwrap_or("none"));
            ExitCode::SUCCESS
        }
        Ok(None) => {
            println!("head: 0 -");
            println!("key: none");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("comptoir: {}: {e}", db.display());
            ExitCode::from(EXIT_DATABASE)
        }
    }
}

/// Takes the one-process-per-database lock of `db` for `what`; exit 3 naming the holder.
pub(crate) fn lock_db(db: &Path, what: &str) -> Result<crate::store::lock::DbLock, ExitCode> {
    crate::store::lock::DbLock::acquire(db, what).map_err(|e| {
        eprintln!("comptoir: {e}");
        ExitCode::from(EXIT_DATABASE)
    })
}

fn init(cli: &Cli) -> ExitCode {
    let Some(db) = &cli.db else {
        eprintln!("comptoir: init needs --db PATH");
        return ExitCode::from(EXIT_USAGE);
    };
    let _lock = match lock_db(db, "comptoir init") {
        Ok(l) => l,
        Err(code) => return code,
    };
    if std::fs::metadata(db).map(|m| m.len() > 0).unwrap_or(false) {
        eprintln!(
            "comptoir: {}: a file is already there; nothing was changed",
            db.display()
        );
        return ExitCode::from(EXIT_FAILED);
    }
    match Store::open(db, Access::ReadWrite) {
        Ok(store) => {
            let kiosk = crate::store::meta::kiosk_id(store.conn()).unwrap_or_default();
            println!("created: {} kiosk {kiosk}", db.display());
            ExitCode::SUCCESS
        }
        Err(e) => db_error(&e),
    }
}

/// The heads of the `--witness` arguments; exit 2 for an argument that gives none.
fn load_witnesses(args: &[String]) -> Result<Vec<crate::store::witness::Witness>, ExitCode> {
    let mut all = Vec::new();
    for arg in args {
        match crate::store::witness::load(arg) {
            Ok(found) => all.extend(found),
            Err(e) => {
                eprintln!("comptoir: --witness {arg}: {e}");
                return Err(ExitCode::from(EXIT_USAGE));
            }
        }
    }
    Ok(all)
}

fn journal_verify(cli: &Cli, a: &VerifyArgs) -> ExitCode {
    use crate::store::audit::{self, AuditError};
    let witnesses = match load_witnesses(&a.witness) {
        Ok(w) => w,
        Err(code) => return code,
    };
    let (db, store) = match open_read_only(cli, "journal verify") {
        Ok(x) => x,
        Err(code) => return code,
    };
    // Everything the records say of themselves first (the chain, the tables, the ledgers, the
    // schema); then the heads kept outside them.
    let report = match audit::verify_all(store.conn()) {
        Ok(report) => report,
        Err(AuditError::Fault(fault)) => {
            println!("{}", fault.line());
            eprintln!("comptoir: {}: {fault}", db.display());
            return ExitCode::from(EXIT_FAILED);
        }
        Err(AuditError::Store(e)) => {
            eprintln!("comptoir: {}: {e}", db.display());
            return ExitCode::from(EXIT_DATABASE);
        }
    };
    let mut checked = 0;
    for w in &witnesses {
        match crate::store::witness::check(store.conn(), w) {
            Ok(Ok(true)) => checked += 1,
            Ok(Ok(false)) => eprintln!("comptoir: {}: a head of another kiosk, skipped", w.source),
            Ok(Err(missing)) => {
                println!("broken: seq {}: {}", missing.seq, missing.reason);
                return ExitCode::from(EXIT_FAILED);
            }
            Err(e) => {
                eprintln!("comptoir: {}: {e}", db.display());
                return ExitCode::from(EXIT_DATABASE);
            }
        }
    }
    if !witnesses.is_empty() && checked == 0 {
        eprintln!("comptoir: no witness is of this kiosk: nothing was checked against them");
        return ExitCode::from(EXIT_FAILED);
    }
    println!("intact: {} entries", report.journal.entries);
    if !witnesses.is_empty() {
        println!("witnessed: {checked} heads");
    }
    ExitCode::SUCCESS
}

fn receipt(cli: &Cli, a: &ReceiptArgs) -> ExitCode {
    use comptoir_hardware::printer::{encode_text, CodePage, Mode, Paper, Renderer};
    let (_, store) = match open_read_only(cli, "receipt") {
        Ok(x) => x,
        Err(code) => return code,
    };
    let config = match config_or_default(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let entry = match crate::store::journal::entry(store.conn(), a.seq) {
        Ok(Some(e)) => e,
        Ok(None) => {
            eprintln!("comptoir: no journal entry {}", a.seq);
            return ExitCode::from(EXIT_FAILED);
        }
        Err(e) => {
            eprintln!("comptoir: {e}");
            return ExitCode::from(EXIT_DATABASE);
        }
    };
    // The receipt is printed from the journal entry itself, the inalterable record.
    let sale = match crate::store::sales::StoredSale::from_entry(&entry) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("comptoir: entry {} is not a sale or refund ({e})", a.seq);
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let document = app::receipt::receipt_for(&sale, &config, true);
    let paper = config
        .printer
        .as_ref()
        .and_then(|p| p.paper())
        .unwrap_or(Paper::Mm80);
    let renderer = || Renderer::new(crate::devices::RECEIPT_FONT, paper);
    let (out, bytes) = match (&a.png, &a.escpos) {
        (Some(png), _) => match renderer() {
            Ok(r) => (png, r.render(&document).to_png()),
            Err(e) => {
                eprintln!("comptoir: {e}");
                return ExitCode::from(EXIT_FAILED);
            }
        },
        (None, Some(escpos)) => {
            let mode = match a.mode {
                Some(ReceiptMode::Raster) => Mode::Raster,
                Some(ReceiptMode::Text) => Mode::Text,
                None => config
                    .printer
                    .as_ref()
                    .map(|p| p.mode())
                    .unwrap_or(Mode::Raster),
            };
            let bytes = match mode {
                Mode::Text => encode_text(&document, paper, CodePage::Wpc1252),
                Mode::Raster => match renderer() {
                    Ok(r) => r.encode(&document),
                    Err(e) => {
                        eprintln!("comptoir: {e}");
                        return ExitCode::from(EXIT_FAILED);
                    }
                },
            };
            (escpos, bytes)
        }
        (None, None) => {
            eprintln!("comptoir: receipt needs --png FILE or --escpos FILE");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // Whole or nothing: a full disk leaves no empty or partial receipt under the asked name.
    if let Err(e) = paths::write_atomically(out, &bytes) {
        eprintln!("comptoir: {}: {e}; nothing was written", out.display());
        return ExitCode::from(EXIT_FAILED);
    }
    println!("wrote receipt {} {}", a.seq, out.display());
    ExitCode::SUCCESS
}

fn export_sales(cli: &Cli, a: &ExportArgs) -> ExitCode {
    if let (Some(from), Some(to)) = (a.from, a.to) {
        if from > to {
            eprintln!("comptoir: --from {from} is after --to {to}");
            return ExitCode::from(EXIT_USAGE);
        }
    }
    let (db, store) = match open_read_only(cli, "export") {
        Ok(x) => x,
        Err(code) => return code,
    };
    let config = match config_or_default(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let rows = match crate::store::sales::export_rows(store.conn(), a.from, a.to, config.tz()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("comptoir: {}: {e}", db.display());
            return ExitCode::from(EXIT_DATABASE);
        }
    };
    let written = match a.format {
        ExportFormat::Json => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer(&mut out, &rows)
                .map_err(|e| e.to_string())
                .and_then(|()| {
                    use std::io::Write;
                    writeln!(out).map_err(|e| e.to_string())
                })
        }
        ExportFormat::Csv => crate::export::write_csv(crate::store::sales::EXPORT_COLUMNS, &rows),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("comptoir: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// The year (local time of the configured time zone, default Europe/Paris).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1970..=9999))]
    pub year: i32,
    /// The folder to write into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

fn journal_archive(cli: &Cli, a: &ArchiveArgs) -> ExitCode {
    use crate::store::archive::{self, ArchiveError};
    use crate::store::journal::JournalError;
    let Some(db) = cli.db.clone() else {
        eprintln!("comptoir: journal archive needs --db PATH");
        return ExitCode::from(EXIT_USAGE);
    };
    // A writing command: the archive is journaled as a technical event.
    let _lock = match lock_db(&db, "comptoir journal archive") {
        Ok(l) => l,
        Err(code) => return code,
    };
    if app::boot::check_database(&db) != app::boot::DatabaseState::Present || !db.exists() {
        eprintln!("comptoir: {}: no database here", db.display());
        return ExitCode::from(EXIT_DATABASE);
    }
    let mut store = match Store::open(&db, Access::ReadWrite) {
        Ok(s) => s,
        Err(e) => return db_error(&e),
    };
    let config = match config_or_default(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match archive::write(store.conn(), a.year, config.tz(), &a.out) {
        Ok(report) => {
            println!("archived {} entries to {}", report.entries, a.out.display());
            let mut body = serde_json::Map::new();
            body.insert("year".into(), a.year.into());
            body.insert("entries".into(), report.entries.into());
            let journaled = store.write().map_err(|e| e.to_string()).and_then(|tx| {
                crate::store::journal::append_technical(
                    &tx,
                    Utc::now(),
                    crate::store::journal::TechnicalEvent::Archive,
                    body,
                )
                .map_err(|e| e.to_string())?;
                tx.commit().map_err(|e| e.to_string())
            });
            if let Err(e) = journaled {
                eprintln!("comptoir: the archive was written but not journaled: {e}");
            }
            ExitCode::SUCCESS
        }
        Err(ArchiveError::Journal(JournalError::Broken { seq, reason })) => {
            println!("broken: seq {seq}: {reason}");
            ExitCode::from(EXIT_FAILED)
        }
        Err(ArchiveError::Journal(e)) => {
            eprintln!("comptoir: {}: {e}", db.display());
            ExitCode::from(EXIT_DATABASE)
        }
        Err(e @ (ArchiveError::Exists { .. } | ArchiveError::NotAFolder { .. })) => {
            eprintln!("comptoir: --out: {e}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(e) => {
            eprintln!("comptoir: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn backup(cli: &Cli, to: &Path) -> ExitCode {
    let Some(db) = &cli.db else {
        eprintln!("comptoir: backup needs --db PATH");
        return ExitCode::from(EXIT_USAGE);
    };
    let config = match config_or_default(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let today = Utc::now().with_timezone(&config.tz()).date_naive();
    ExitCode::from(crate::store::backup::command_backup(
        db,
        to,
        today,
        &config.backup_recipients(),
    ))
}

fn restore(cli: &Cli, from: &Path, options: &crate::store::backup::RestoreOptions) -> ExitCode {
    let Some(db) = &cli.db else {
        eprintln!("comptoir: restore needs --db PATH");
        return ExitCode::from(EXIT_USAGE);
    };
    ExitCode::from(crate::store::backup::command_restore(from, db, options))
}

#[cfg(debug_assertions)]
fn crash_writer(cli: &Cli, seed: u64, count: Option<u64>) -> ExitCode {
    let Some(db) = &cli.db else {
        return ExitCode::from(EXIT_USAGE);
    };
    let _lock = match lock_db(db, "comptoir crash-writer") {
        Ok(l) => l,
        Err(code) => return code,
    };
    match crate::app::crash_writer::run(db, seed, count) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("comptoir: crash-writer: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}
