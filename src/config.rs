//! The kiosk's configuration: a TOML file, by default `<config dir>/config.toml`.
//!
//! No config file means demo mode (simulated devices, `<data dir>/demo.db`). An invalid file is
//! refused with an error that names the file, the line and the key; the kiosk shows it on
//! screen as well, because under systemd a crash loop is only a black screen.
//! Every key is documented in the README ("Configuration").

use std::path::{Path, PathBuf};

use comptoir_hardware::config::{PrinterSection, ScaleSection, ScannerKind, ScannerSection};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// IANA time zone for days, closures and reports.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Default UI language: fr, en, tr or ar.
    #[serde(default = "default_language")]
    pub language: String,
    /// The database; default `<data dir>/comptoir.db`.
    pub database: Option<PathBuf>,
    /// Folder of the automatic daily backup (a USB stick's mount point); none: no automatic
    /// backup. Never created by the kiosk: a missing folder is a stick not plugged in.
    pub backup_dir: Option<PathBuf>,
    /// age X25519 recipients (`age1...`, from `age-keygen` on another computer) the backups
    /// are encrypted to; empty: plain backups, and a warning on the admin screen.
    #[serde(default)]
    pub backup_recipients: Vec<String>,
    /// `full` (sell, garden, compost) or `compost-only` (the composter's opening hours).
    #[serde(default)]
    pub mode: KioskMode,
    /// Closures of periods ending more than this many days after the last journal entry's
    /// date wait until a member of staff confirms today's date (a clock that jumped ahead, or
    /// a long break). 0 to [`MAX_CLOSURE_CONFIRM_AFTER_DAYS`].
    #[serde(default = "default_closure_confirm_after_days")]
    pub closure_confirm_after_days: u32,
    /// Run on simulated devices even with a config file (training, trade fairs).
    #[serde(default)]
    pub demo: bool,
    #[serde(default)]
    pub association: Association,
    pub scale: Option<ScaleSection>,
    pub printer: Option<PrinterSection>,
    pub scanner: Option<ScannerSection>,
    /// Compost deposits and credits.
    #[serde(default)]
    pub compost: CompostSection,
    /// The garden lead's tools.
    #[serde(default)]
    pub garden: GardenSection,
    /// Weighing and receipts at the stall.
    #[serde(default)]
    pub selling: SellingSection,
}

/// `[selling]`: whether the scale counts as legal-for-trade, the container tares Comptoir may
/// subtract when it does not, who may type a weight when the scale is broken, whether every
/// receipt is printed, and which refunds need whose approval.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SellingSection {
    /// The scale is a verified weighing instrument used for trade (the usual case): only the
    /// scale's own tare counts, and container presets are refused.
    pub legal_for_trade: bool,
    /// Container presets (grams) offered on the weighing screen; only when `legal_for_trade`
    /// is false. Screens and receipts then say "Données métrologiques non certifiées".
    pub container_tares_g: Vec<i64>,
    /// Roles that may type a weight by hand when the scale is broken: `seller`, `garden_lead`,
    /// `admin`. Empty: nobody. The line and the receipt say "pesée manuelle".
    pub manual_weight_roles: Vec<String>,
    /// Print the receipt of every sale without asking. French law (since 1 August 2023) gives
    /// receipts on request only, except tickets printed by weighing instruments: set this only
    /// where that exemption applies.
    pub print_every_receipt: bool,
    /// A refund above this amount (cents, what goes back to the customer) needs the PIN of
    /// someone in `refund_approval_roles`; so does refunding a sale of an earlier cash session
    /// whatever its amount. Cancelling the sale just made needs nobody's.
    pub refund_without_approval_cents: i64,
    /// Roles whose PIN approves such a refund: `seller`, `garden_lead`, `admin` (at least one).
    pub refund_approval_roles: Vec<String>,
}

impl Default for SellingSection {
    fn default() -> Self {
        SellingSection {
            legal_for_trade: true,
            container_tares_g: Vec::new(),
            manual_weight_roles: Vec::new(),
            print_every_receipt: false,
            refund_without_approval_cents: DEFAULT_REFUND_WITHOUT_APPROVAL_CENTS,
            refund_approval_roles: vec!["garden_lead".into(), "admin".into()],
        }
    }
}

/// `[selling] refund_without_approval_cents` by default: 20 €.
pub const DEFAULT_REFUND_WITHOUT_APPROVAL_CENTS: i64 = 2000;

/// Most container presets on the weighing screen.
pub const MAX_CONTAINER_TARES: usize = 4;

/// `[garden]`: the crate tares offered when a harvest is weighed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GardenSection {
    /// The crates' weights (grams), in the order of their buttons on the harvest screen; `0`
    /// is "no crate". A harvest is not a sale: the chosen tare is taken off in software.
    pub crate_tares_g: Vec<i64>,
}

impl Default for GardenSection {
    fn default() -> Self {
        GardenSection {
            crate_tares_g: vec![0, 450, 1_000, 1_800],
        }
    }
}

/// Most crate tares on the harvest screen.
pub const MAX_CRATE_TARES: usize = 6;

/// `[compost]`: how deposits earn credits, how much of a ticket credits may pay, the CO₂e
/// factor, the limits of one deposit, how long an inactive resident keeps their details, and
/// the weekly hours of the compost-only mode.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompostSection {
    /// Credits earned per kilogram deposited, in cents.
    pub credit_rate_cents_per_kg: i64,
    /// The most one resident earns per local day, in cents; 0: no cap.
    pub credit_daily_cap_cents: i64,
    /// The largest share of a ticket payable in credits, in percent.
    pub credit_max_share_percent: u32,
    /// CO₂e avoided per kilogram composted, in grams (ADEME: about 200 on the national mix).
    pub co2e_g_per_kg: i64,
    /// The smallest and largest net weight of one deposit, in grams.
    pub deposit_min_g: i64,
    pub deposit_max_g: i64,
    /// Residents inactive for this many months are anonymised (never deleted); 0: never.
    pub retention_months: u32,
    /// Weekly hours when the kiosk is in compost-only mode (with `mode = "full"`), local
    /// time: `["Mon-Fri 08:00-12:00", "Sat 14:00-18:00"]` (see [`crate::hours`]). Empty: the
    /// `mode` key alone decides.
    pub only_hours: Vec<String>,
}

impl Default for CompostSection {
    fn default() -> Self {
        CompostSection {
            credit_rate_cents_per_kg: 10,
            credit_daily_cap_cents: 100,
            credit_max_share_percent: 50,
            co2e_g_per_kg: 200,
            deposit_min_g: 100,
            deposit_max_g: 15_000,
            retention_months: 24,
            only_hours: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KioskMode {
    #[default]
    Full,
    CompostOnly,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Association {
    pub name: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub siret: String,
    /// The association is under the VAT franchise (art. 293 B du CGI): receipts show no VAT
    /// and say "TVA non applicable, art. 293 B du CGI".
    #[serde(default)]
    pub vat_franchise: bool,
}

impl Default for Association {
    fn default() -> Self {
        Association {
            name: "Jardin des 1000 fleurs".into(),
            address: String::new(),
            siret: String::new(),
            vat_franchise: false,
        }
    }
}

fn default_timezone() -> String {
    "Europe/Paris".into()
}

fn default_language() -> String {
    "fr".into()
}

fn default_closure_confirm_after_days() -> u32 {
    2
}

/// The most `closure_confirm_after_days` may be: a year.
pub const MAX_CLOSURE_CONFIRM_AFTER_DAYS: u32 = 366;

impl Default for Config {
    fn default() -> Self {
        toml::from_str("").expect("the empty config is valid")
    }
}

/// A config file that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", file.display(), location(*line, key))]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; 0 when the error is about the whole file.
    pub line: usize,
    /// The dotted key (`scale.baud`), empty when none applies.
    pub key: String,
    pub message: String,
}

fn location(line: usize, key: &str) -> String {
    match (line, key.is_empty()) {
        (0, true) => String::new(),
        (0, false) => format!(": key `{key}`"),
        (l, true) => format!(":{l}"),
        (l, false) => format!(":{l}: key `{key}`"),
    }
}

/// Languages the UI can be set to.
pub const LANGUAGES: &[&str] = &["fr", "en", "tr", "ar"];

impl Config {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.into(),
            line: 0,
            key: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        Config::parse(path, &text)
    }

    /// Parses and checks config text; `path` only names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let (line, key) = match e.span() {
                Some(span) => key_at(text, span.start),
                None => (0, String::new()),
            };
            let message = e.message().trim().to_string();
            ConfigError {
                file: path.into(),
                line,
                key,
                message,
            }
        })?;
        config.check(path, text)?;
        Ok(config)
    }

    fn check(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let fail = |key: &str, message: String| ConfigError {
            file: path.into(),
            line: line_of_key(text, key),
            key: key.into(),
            message,
        };
        if self.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(fail(
                "timezone",
                format!(
                    "unknown time zone {:?} (e.g. \"Europe/Paris\")",
                    self.timezone
                ),
            ));
        }
        if !LANGUAGES.contains(&self.language.as_str()) {
            return Err(fail(
                "language",
                format!(
                    "unknown language {:?}; one of {}",
                    self.language,
                    LANGUAGES.join(", ")
                ),
            ));
        }
        if self.closure_confirm_after_days > MAX_CLOSURE_CONFIRM_AFTER_DAYS {
            return Err(fail(
                "closure_confirm_after_days",
                format!(
                    "{}: between 0 and {MAX_CLOSURE_CONFIRM_AFTER_DAYS} days",
                    self.closure_confirm_after_days
                ),
            ));
        }
        if self.association.name.trim().is_empty() {
            return Err(fail("association.name", "must not be empty".into()));
        }
        if let Some(scale) = &self.scale {
            for (key, value) in [
                ("scale.capacity_g", scale.capacity_g),
                ("scale.min_net_g", scale.min_net_g),
            ] {
                if matches!(value, Some(v) if v <= 0) {
                    return Err(fail(key, "must be a positive number of grams".into()));
                }
            }
            if let Some(bits) = scale.data_bits {
                if !(5..=8).contains(&bits) {
                    return Err(fail("scale.data_bits", format!("{bits}: between 5 and 8")));
                }
            }
            if let Some(bits) = scale.stop_bits {
                if !(1..=2).contains(&bits) {
                    return Err(fail("scale.stop_bits", format!("{bits}: 1 or 2")));
                }
            }
        }
        if let Some(printer) = &self.printer {
            if printer.paper().is_none() {
                return Err(fail(
                    "printer.width_dots",
                    format!("{}: 384 (58 mm) or 576 (80 mm)", printer.width_dots),
                ));
            }
        }
        let c = &self.compost;
        if c.credit_rate_cents_per_kg < 0 || c.credit_daily_cap_cents < 0 || c.co2e_g_per_kg < 0 {
            return Err(fail(
                if c.credit_rate_cents_per_kg < 0 {
                    "compost.credit_rate_cents_per_kg"
                } else if c.credit_daily_cap_cents < 0 {
                    "compost.credit_daily_cap_cents"
                } else {
                    "compost.co2e_g_per_kg"
                },
                "must not be negative".into(),
            ));
        }
        if c.credit_max_share_percent > 100 {
            return Err(fail(
                "compost.credit_max_share_percent",
                format!("{}: from 0 to 100", c.credit_max_share_percent),
            ));
        }
        if c.deposit_min_g <= 0 || c.deposit_max_g < c.deposit_min_g {
            return Err(fail(
                if c.deposit_min_g <= 0 {
                    "compost.deposit_min_g"
                } else {
                    "compost.deposit_max_g"
                },
                "0 < deposit_min_g <= deposit_max_g (grams)".into(),
            ));
        }
        let sel = &self.selling;
        if !sel.container_tares_g.is_empty() && sel.legal_for_trade {
            return Err(fail(
                "selling.container_tares_g",
                "container tares only where the scale is not legal-for-trade \
                 (selling.legal_for_trade = false)"
                    .into(),
            ));
        }
        if sel.container_tares_g.len() > MAX_CONTAINER_TARES {
            return Err(fail(
                "selling.container_tares_g",
                format!("at most {MAX_CONTAINER_TARES} presets"),
            ));
        }
        let capacity = self
            .scale
            .as_ref()
            .and_then(|s| s.capacity_g)
            .unwrap_or(crate::domain::metrology::DEFAULT_CAPACITY_G);
        if let Some(bad) = sel
            .container_tares_g
            .iter()
            .find(|&&g| g <= 0 || g >= capacity)
        {
            return Err(fail(
                "selling.container_tares_g",
                format!("{bad}: a tare is between 1 g and the scale's capacity ({capacity} g)"),
            ));
        }
        if let Some(bad) = sel
            .manual_weight_roles
            .iter()
            .find(|r| !["seller", "garden_lead", "admin"].contains(&r.as_str()))
        {
            return Err(fail(
                "selling.manual_weight_roles",
                format!("unknown role {bad:?}; one of seller, garden_lead, admin"),
            ));
        }
        if sel.refund_without_approval_cents < 0 {
            return Err(fail(
                "selling.refund_without_approval_cents",
                "an amount in cents, 0 or more (0: every refund needs approval)".into(),
            ));
        }
        if sel.refund_approval_roles.is_empty() {
            return Err(fail(
                "selling.refund_approval_roles",
                "at least one role: seller, garden_lead, admin".into(),
            ));
        }
        if let Some(bad) = sel
            .refund_approval_roles
            .iter()
            .find(|r| !["seller", "garden_lead", "admin"].contains(&r.as_str()))
        {
            return Err(fail(
                "selling.refund_approval_roles",
                format!("unknown role {bad:?}; one of seller, garden_lead, admin"),
            ));
        }
        let tares = &self.garden.crate_tares_g;
        if tares.is_empty() || tares.len() > MAX_CRATE_TARES {
            return Err(fail(
                "garden.crate_tares_g",
                format!("from 1 to {MAX_CRATE_TARES} tares (grams; 0 is no crate)"),
            ));
        }
        let scale_capacity = self
            .scale
            .as_ref()
            .and_then(|s| s.capacity_g)
            .unwrap_or(crate::domain::metrology::DEFAULT_CAPACITY_G);
        if let Some(bad) = tares.iter().find(|&&g| g < 0 || g >= scale_capacity) {
            return Err(fail(
                "garden.crate_tares_g",
                format!("{bad}: a tare is from 0 g to less than the scale's capacity ({scale_capacity} g)"),
            ));
        }
        if let Some((i, bad)) = tares
            .iter()
            .enumerate()
            .find(|(i, g)| tares[..*i].contains(g))
        {
            return Err(fail(
                "garden.crate_tares_g",
                format!("{bad} g is there twice (tare {})", i + 1),
            ));
        }
        for entry in &c.only_hours {
            if let Err(why) = crate::hours::HoursWindow::parse(entry) {
                return Err(ConfigError {
                    file: path.into(),
                    line: line_of_value(text, "compost.only_hours", entry),
                    key: "compost.only_hours".into(),
                    message: why,
                });
            }
        }
        if !c.only_hours.is_empty() && self.mode == KioskMode::CompostOnly {
            return Err(fail(
                "compost.only_hours",
                "mode = \"compost-only\" holds at all hours: only_hours goes with mode = \"full\""
                    .into(),
            ));
        }
        for recipient in &self.backup_recipients {
            if let Err(why) = recipient.parse::<age::x25519::Recipient>() {
                return Err(ConfigError {
                    file: path.into(),
                    line: line_of_value(text, "backup_recipients", recipient),
                    key: "backup_recipients".into(),
                    message: format!(
                        "{recipient:?} is not an age recipient ({why}): a public key \
                         age1... as age-keygen prints it"
                    ),
                });
            }
        }
        if let Some(scanner) = &self.scanner {
            if scanner.kind == ScannerKind::Serial && scanner.port.is_none() {
                return Err(fail(
                    "scanner.port",
                    "a serial scanner needs a port (or kind = \"wedge\")".into(),
                ));
            }
        }
        Ok(())
    }

    /// The age recipients of `backup_recipients` (checked when the file was read).
    pub fn backup_recipients(&self) -> Vec<age::x25519::Recipient> {
        self.backup_recipients
            .iter()
            .filter_map(|r| r.parse().ok())
            .collect()
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::Europe::Paris)
    }

    /// The weekly windows of `[compost] only_hours` (checked when the file was read).
    pub fn compost_only_hours(&self) -> Vec<crate::hours::HoursWindow> {
        self.compost
            .only_hours
            .iter()
            .filter_map(|h| crate::hours::HoursWindow::parse(h).ok())
            .collect()
    }
}

/// The 1-based line and the dotted key at byte `offset` of a TOML text.
fn key_at(text: &str, offset: usize) -> (usize, String) {
    let offset = offset.min(text.len());
    let line_no = text[..offset].matches('\n').count() + 1;
    let mut table = String::new();
    let mut key = String::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            table = trimmed
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
        }
        if index + 1 == line_no {
            if let Some((k, _)) = trimmed.split_once('=') {
                key = k.trim().trim_matches('"').to_string();
            }
            break;
        }
    }
    let dotted = match (table.is_empty(), key.is_empty()) {
        (_, true) => table,
        (true, false) => key,
        (false, false) => format!("{table}.{key}"),
    };
    (line_no, dotted)
}

/// The line of `value` (a string) in the array set by a dotted key, which may run over
/// several lines; the key's own line when the value is not found.
fn line_of_value(text: &str, dotted: &str, value: &str) -> usize {
    let start = line_of_key(text, dotted);
    if start == 0 {
        return 0;
    }
    let quoted = [format!("\"{value}\""), format!("'{value}'")];
    text.lines()
        .enumerate()
        .skip(start - 1)
        .take_while(|(i, line)| *i + 1 == start || !line.trim_start().starts_with('['))
        .find(|(_, line)| quoted.iter().any(|q| line.contains(q.as_str())))
        .map_or(start, |(i, _)| i + 1)
}

/// The line where a dotted key (`scale.baud`) is set, or 0 when it is not in the file.
fn line_of_key(text: &str, dotted: &str) -> usize {
    let (table, key) = dotted.rsplit_once('.').unwrap_or(("", dotted));
    let mut current = String::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            current = trimmed
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
            continue;
        }
        if let Some((k, _)) = trimmed.split_once('=') {
            if current == table && k.trim().trim_matches('"') == key {
                return index + 1;
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/etc/comptoir.toml"), text)
    }

    #[test]
    fn selling_section_defaults_and_checks() {
        let c = parse("").unwrap();
        assert!(c.selling.legal_for_trade);
        assert!(c.selling.container_tares_g.is_empty());
        assert!(!c.selling.print_every_receipt);
        let c = parse(
            "[selling]\nlegal_for_trade = false\ncontainer_tares_g = [350, 1200]\n\
             manual_weight_roles = [\"admin\", \"garden_lead\"]\nprint_every_receipt = true\n",
        )
        .unwrap();
        assert_eq!(c.selling.container_tares_g, vec![350, 1200]);
        assert!(c.selling.print_every_receipt);
        // Container tares on a legal-for-trade scale are refused, naming the line and key.
        let e = parse("[selling]\ncontainer_tares_g = [350]\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "selling.container_tares_g"));
        assert!(e.message.contains("legal_for_trade"), "{e}");
        for bad in ["[0]", "[-5]", "[15000]", "[1, 2, 3, 4, 5]"] {
            let text = format!("[selling]\nlegal_for_trade = false\ncontainer_tares_g = {bad}\n");
            let e = parse(&text).unwrap_err();
            assert_eq!(e.key, "selling.container_tares_g", "{bad}: {e}");
            assert_eq!(e.line, 3, "{bad}");
        }
        let e = parse("[selling]\nmanual_weight_roles = [\"boss\"]\n").unwrap_err();
        assert_eq!(e.key, "selling.manual_weight_roles");
        assert!(e.message.contains("boss"));
        assert_eq!(c.selling.refund_without_approval_cents, 2000);
        assert_eq!(c.selling.refund_approval_roles, ["garden_lead", "admin"]);
        let c = parse(
            "[selling]\nrefund_without_approval_cents = 0\nrefund_approval_roles = [\"admin\"]\n",
        )
        .unwrap();
        assert_eq!(c.selling.refund_without_approval_cents, 0);
        assert_eq!(c.selling.refund_approval_roles, ["admin"]);
        let e = parse("[selling]\nrefund_without_approval_cents = -1\n").unwrap_err();
        assert_eq!(
            (e.line, e.key.as_str()),
            (2, "selling.refund_without_approval_cents")
        );
        let e = parse("[selling]\nrefund_approval_roles = []\n").unwrap_err();
        assert_eq!(e.key, "selling.refund_approval_roles");
        let e = parse("[selling]\nrefund_approval_roles = [\"treasurer\"]\n").unwrap_err();
        assert_eq!(e.key, "selling.refund_approval_roles");
        let e = parse("[selling]\nprint_all = true\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn garden_crate_tares_default_and_checks() {
        let c = parse("").unwrap();
        assert_eq!(c.garden.crate_tares_g, vec![0, 450, 1_000, 1_800]);
        let c = parse("[garden]\ncrate_tares_g = [0, 600, 2500]\n").unwrap();
        assert_eq!(c.garden.crate_tares_g, vec![0, 600, 2_500]);
        for bad in [
            "[]",
            "[-450]",
            "[0, 15000]",
            "[0, 450, 450]",
            "[0, 1, 2, 3, 4, 5, 6]",
        ] {
            let text = format!("# the garden\n[garden]\ncrate_tares_g = {bad}\n");
            let e = parse(&text).unwrap_err();
            assert_eq!(
                (e.line, e.key.as_str()),
                (3, "garden.crate_tares_g"),
                "{bad}: {e}"
            );
            assert!(e.to_string().starts_with("/etc/comptoir.toml:3"), "{e}");
        }
        // The scale's own capacity bounds the tares.
        let e = parse(
            "[scale]\nprotocol = \"continuous\"\nport = \"/dev/x\"\ncapacity_g = 6000\n\
             [garden]\ncrate_tares_g = [0, 6000]\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (6, "garden.crate_tares_g"));
        assert!(e.message.contains("6000"), "{e}");
        // Wrong types and unknown keys name their line.
        let e = parse("[garden]\ncrate_tares_g = [\"bois\"]\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "garden.crate_tares_g"));
        let e = parse("[garden]\ncrate_tares = [0]\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "garden.crate_tares"));
        assert!(e.message.contains("unknown field"), "{e}");
    }

    #[test]
    fn empty_file_gives_the_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.timezone, "Europe/Paris");
        assert_eq!(c.language, "fr");
        assert_eq!(c.mode, KioskMode::Full);
        assert_eq!(c.closure_confirm_after_days, 2);
        assert_eq!(c.association.name, "Jardin des 1000 fleurs");
        assert!(c.scale.is_none());
    }

    #[test]
    fn a_full_file_parses() {
        let c = parse(
            r#"
timezone = "America/Martinique"
language = "en"
mode = "compost-only"
[association]
name = "Régie de quartier"
siret = "12345678900011"
[scale]
protocol = "toledo8217"
port = "/dev/comptoir-scale"
capacity_g = 15000
[printer]
port = "/dev/usb/lp0"
width_dots = 576
[scanner]
kind = "wedge"
"#,
        )
        .unwrap();
        assert_eq!(c.tz(), chrono_tz::America::Martinique);
        assert_eq!(c.mode, KioskMode::CompostOnly);
        assert_eq!(c.scale.unwrap().capacity_g, Some(15000));
        assert_eq!(c.printer.unwrap().width_dots, 576);
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let e = parse("timezone = \"Europe/Paris\"\n[scale]\nprotocol = \"continuous\"\nport = \"/dev/x\"\nbaudrate = 9600\n")
            .unwrap_err();
        assert_eq!(e.line, 5);
        assert_eq!(e.key, "scale.baudrate");
        assert!(e.message.contains("unknown field"), "{}", e.message);
        assert_eq!(
            e.to_string()
                .lines()
                .next()
                .unwrap()
                .split(": ")
                .next()
                .unwrap(),
            "/etc/comptoir.toml:5"
        );
    }

    #[test]
    fn a_wrong_type_is_named_with_its_line() {
        let e = parse("\n\ntimezone = 5\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (3, "timezone"));
    }

    #[test]
    fn broken_toml_names_the_line() {
        let e = parse("language = \"fr\"\nmode = \n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn bad_values_are_named() {
        let e = parse("language = \"fr\"\ntimezone = \"Paris\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "timezone"));
        let e = parse("language = \"de\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (1, "language"));
        let e = parse("[scale]\nprotocol = \"dibal\"\nport = \"/dev/x\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "scale.protocol"));
        let e = parse("[scanner]\nkind = \"serial\"\n").unwrap_err();
        assert_eq!(e.key, "scanner.port");
        let e = parse("[printer]\nport = \"/dev/x\"\nwidth_dots = 500\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (3, "printer.width_dots"));
        let e = parse("language = \"fr\"\nclosure_confirm_after_days = 400\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "closure_confirm_after_days"));
        assert!(e.message.contains("between 0 and 366"), "{}", e.message);
        let e = parse("closure_confirm_after_days = -1\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (1, "closure_confirm_after_days"));
        assert_eq!(
            parse("closure_confirm_after_days = 0\n")
                .unwrap()
                .closure_confirm_after_days,
            0
        );
        let e = parse("mode = \"night\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (1, "mode"));
        let e = parse("[compost]\ncredit_max_share_percent = 150\n").unwrap_err();
        assert_eq!(
            (e.line, e.key.as_str()),
            (2, "compost.credit_max_share_percent")
        );
        let e = parse("[compost]\ndeposit_min_g = 500\ndeposit_max_g = 100\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (3, "compost.deposit_max_g"));
        let c = parse("[compost]\ncredit_rate_cents_per_kg = 20\n").unwrap();
        assert!(c.compost.only_hours.is_empty());
        assert_eq!(c.compost.credit_rate_cents_per_kg, 20);
        assert_eq!(c.compost.deposit_min_g, 100);
    }

    #[test]
    fn backup_recipients_are_age_keys_and_a_bad_one_is_named() {
        let good = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
        assert!(parse("").unwrap().backup_recipients().is_empty());
        let c = parse(&format!("backup_recipients = [\"{good}\"]\n")).unwrap();
        assert_eq!(c.backup_recipients().len(), 1);
        assert_eq!(c.backup_recipients()[0].to_string(), good);
        // A typo in the second of two keys: its own line is named, and the key itself.
        let typo = good.replace("ql3z", "ql4z");
        let text = format!(
            "timezone = \"Europe/Paris\"\nbackup_recipients = [\n  \"{good}\",\n  \"{typo}\",\n]\n"
        );
        let e = parse(&text).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (4, "backup_recipients"));
        assert!(e.message.contains(&typo), "{}", e.message);
        assert!(e.message.contains("not an age recipient"), "{}", e.message);
        // The identity (the private key) is not a recipient.
        let e = parse("backup_recipients = [\"AGE-SECRET-KEY-1QQQQQQ\"]\n").unwrap_err();
        assert_eq!(e.key, "backup_recipients");
        let e = parse("backup_recipients = \"age1abc\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (1, "backup_recipients"));
    }

    #[test]
    fn compost_only_hours_are_read_and_bad_ones_named() {
        let c = parse("[compost]\nonly_hours = [\"Mon-Fri 08:00-12:00\", \"Sat 14:00-18:00\"]\n")
            .unwrap();
        assert_eq!(c.compost.only_hours.len(), 2);
        let windows = c.compost_only_hours();
        assert_eq!(windows.len(), 2);
        // Saturday (day 5) at 15:00.
        assert!(crate::hours::within(&windows, 5, 15 * 60));
        assert!(!crate::hours::within(&windows, 5, 13 * 60));
        // A bad window on its own line of a long array: that line, the key, what is wrong.
        let text = "mode = \"full\"\n[compost]\nonly_hours = [\n  \"Mon-Fri 08:00-12:00\",\n  \"Sam 14:00-18:00\",\n]\n";
        let e = parse(text).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (5, "compost.only_hours"));
        assert!(e.message.contains("unknown day \"Sam\""), "{}", e.message);
        assert!(
            e.to_string()
                .starts_with("/etc/comptoir.toml:5: key `compost.only_hours`"),
            "{e}"
        );
        let e = parse("[compost]\nonly_hours = [\"Mon 12:00-08:00\"]\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "compost.only_hours"));
        assert!(e.message.contains("ends before it starts"), "{}", e.message);
        let e = parse("[compost]\nonly_hours = [\"Mon 8h-12h\"]\n").unwrap_err();
        assert!(e.message.contains("not a time"), "{}", e.message);
        // Not a list of strings: the TOML error, named.
        let e = parse("[compost]\nonly_hours = \"Mon-Fri 08:00-12:00\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "compost.only_hours"));
        let e = parse("[compost]\nonly_hours = [8]\n").unwrap_err();
        assert_eq!(e.line, 2);
        // A misspelt key is refused like any other.
        let e = parse("[compost]\nonly_hour = []\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "compost.only_hour"));
        // The annotated example parses, its commented hours too.
        let example = include_str!("../hardware/pi/config.example.toml");
        let c = parse(&example.replace("# only_hours", "only_hours")).unwrap();
        assert_eq!(c.compost_only_hours().len(), 2);
        assert!(parse(example).unwrap().compost.only_hours.is_empty());
        // The example's recipient, uncommented, is an age key; commented, none.
        let c = parse(&example.replace("    # \"age1", "    \"age1")).unwrap();
        assert_eq!(c.backup_recipients().len(), 1);
        assert!(parse(example).unwrap().backup_recipients.is_empty());
        // Hours with the all-day compost-only mode: contradictory.
        let e = parse("mode = \"compost-only\"\n[compost]\nonly_hours = [\"Mon 08:00-12:00\"]\n")
            .unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (3, "compost.only_hours"));
    }
}
