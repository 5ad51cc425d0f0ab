//! `comptoir demo seed`: a realistic garden, stall and composter to try Comptoir on.
//!
//! The same `--seed` and `--until` give the same rows (the kiosk id and signatures aside).
//! Records go in through the same store functions the kiosk uses, and each part is committed as
//! it is made. Later features extend the seed with their own records (sales, harvests,
//! deposits) through their own code paths.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::store::catalog::{self, NewProduct, Pricing};
use crate::store::people::{self, NewResident, Role};
use crate::store::{utc_text, Store};

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// How many days of history, ending at `until`.
    pub days: u32,
    pub seed: u64,
    /// The last day of history (local date).
    pub until: NaiveDate,
    pub tz: chrono_tz::Tz,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the database already holds data; demo seed only fills an empty database")]
    NotEmpty,
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// One catalogue line of the demo garden.
struct DemoProduct {
    name: &'static str,
    code: &'static str,
    category: &'static str,
    icon: &'static str,
    pricing: Pricing,
    price_cents: i64,
    avg_weight_g: Option<i64>,
}

const fn kg(
    name: &'static str,
    code: &'static str,
    category: &'static str,
    icon: &'static str,
    price_cents: i64,
) -> DemoProduct {
    DemoProduct {
        name,
        code,
        category,
        icon,
        pricing: Pricing::PerKg,
        price_cents,
        avg_weight_g: None,
    }
}

const fn piece(
    name: &'static str,
    code: &'static str,
    category: &'static str,
    icon: &'static str,
    pricing: Pricing,
    price_cents: i64,
    avg_weight_g: i64,
) -> DemoProduct {
    DemoProduct {
        name,
        code,
        category,
        icon,
        pricing,
        price_cents,
        avg_weight_g: Some(avg_weight_g),
    }
}

const DEMO_PRODUCTS: &[DemoProduct] = &[
    kg("Tomates", "TOM", "vegetable", "tomato", 350),
    kg("Tomates cœur de bœuf", "TCB", "vegetable", "tomato", 480),
    kg("Carottes", "CAR", "vegetable", "carrot", 220),
    kg("Pommes de terre", "PDT", "vegetable", "potato", 180),
    kg("Oignons", "OIG", "vegetable", "onion", 250),
    piece(
        "Ail",
        "AIL",
        "vegetable",
        "garlic",
        Pricing::PerPiece,
        80,
        50,
    ),
    piece(
        "Salade batavia",
        "SAL",
        "vegetable",
        "lettuce",
        Pricing::PerPiece,
        120,
        400,
    ),
    piece(
        "Concombre",
        "CON",
        "vegetable",
        "cucumber",
        Pricing::PerPiece,
        100,
        350,
    ),
    kg("Aubergines", "AUB", "vegetable", "eggplant", 380),
    kg("Poivrons", "POI", "vegetable", "bell-pepper", 450),
    kg("Courgettes", "COU", "vegetable", "courgette", 260),
    kg("Poireaux", "PRX", "vegetable", "leek", 320),
    piece(
        "Radis",
        "RAD",
        "vegetable",
        "radish",
        Pricing::PerBunch,
        150,
        250,
    ),
    kg("Betteraves", "BET", "vegetable", "beetroot", 290),
    piece(
        "Blettes",
        "BLE",
        "vegetable",
        "chard",
        Pricing::PerBunch,
        200,
        500,
    ),
    kg("Navets", "NAV", "vegetable", "turnip", 240),
    kg("Fenouil", "FEN", "vegetable", "fennel", 390),
    piece(
        "Potimarron",
        "POT",
        "vegetable",
        "squash",
        Pricing::PerPiece,
        250,
        1200,
    ),
    kg("Haricots verts", "HAR", "vegetable", "beans", 600),
    kg("Petits pois", "PPO", "vegetable", "pea-pod", 700),
    piece("Basilic", "BAS", "herb", "herb", Pricing::PerBunch, 100, 40),
    piece("Persil", "PER", "herb", "herb", Pricing::PerBunch, 100, 50),
    piece(
        "Fraises (barquette)",
        "FRA",
        "fruit",
        "strawberry",
        Pricing::PerPiece,
        300,
        250,
    ),
    kg("Pommes", "POM", "fruit", "apple", 280),
    piece("Œufs", "OEU", "egg", "egg", Pricing::PerPiece, 35, 60),
];

const DEMO_PLOTS: &[&str] = &[
    "Parcelle A – Potager",
    "Parcelle B – Racines",
    "Serre",
    "Carré des aromatiques",
    "Verger",
];

/// The demo staff and their PINs (the README lists them; only demo databases have them).
pub const DEMO_STAFF: &[(&str, Role, &str)] = &[
    ("Admin", Role::Admin, "1234"),
    ("Nadia", Role::GardenLead, "2468"),
    ("Amina", Role::Seller, "1111"),
    ("Yusuf", Role::Seller, "2222"),
    ("Mehmet", Role::Seller, "3333"),
    ("Sophie", Role::Seller, "4444"),
];

const NICKNAMES: &[&str] = &[
    "Fatima",
    "Jean-Pierre",
    "Ayşe",
    "Karim",
    "Mamadou",
    "Élodie",
    "Nour",
    "Gérard",
    "Leïla",
    "Mustafa",
    "Chantal",
    "Samir",
    "Zeynep",
    "Hélène",
    "Ibrahim",
    "Aïcha",
    "Thierry",
    "Emine",
    "Youssef",
    "Josiane",
];

const BUILDINGS: &[&str] = &[
    "Bât. A – Provinces",
    "Bât. B – Provinces",
    "Tour Berry",
    "Tour Anjou",
    "Résidence Lorraine",
];

const LANGUAGES: &[&str] = &["fr", "fr", "fr", "ar", "tr", "en"];

/// Fills an empty database with the demo garden.
pub fn seed(store: &mut Store, options: &SeedOptions) -> Result<(), SeedError> {
    if store.holds_data()? {
        return Err(SeedError::NotEmpty);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let start = options.until - Duration::days(i64::from(options.days));
    let at = |date: NaiveDate, hour: u32, minute: u32| -> String {
        let local = date.and_hms_opt(hour, minute, 0).expect("valid time");
        let utc = options
            .tz
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local));
        utc_text(utc)
    };
    let created = at(start, 8, 0);

    let tx = store.conn_mut().transaction()?;
    catalog::ensure_categories(&tx)?;
    for p in DEMO_PRODUCTS {
        catalog::add_product(
            &tx,
            &NewProduct {
                name: p.name,
                short_code: p.code,
                category: p.category,
                icon: p.icon,
                pricing: p.pricing,
                price_cents: p.price_cents,
                avg_weight_g: p.avg_weight_g,
                vat_bp: 550,
                origin: "Jardin des 1000 fleurs, Laxou",
            },
            &created,
        )?;
    }
    for plot in DEMO_PLOTS {
        catalog::add_plot(&tx, plot)?;
    }
    tx.commit()?;

    let tx = store.conn_mut().transaction()?;
    for (name, role, pin) in DEMO_STAFF {
        let salt: [u8; 16] = rng.gen();
        people::add_staff(
            &tx,
            name,
            *role,
            &people::hash_pin_with_salt(pin, &salt),
            &created,
        )?;
    }
    tx.commit()?;

    // Residents register over the period, a few a week; each gets a card.
    let tx = store.conn_mut().transaction()?;
    let count = 12 + options.days.min(365) as usize / 3;
    for index in 0..count {
        let day = start + Duration::days(rng.gen_range(0..=i64::from(options.days)));
        let when = at(day, rng.gen_range(9..18), rng.gen_range(0..60));
        let nickname = (index % 5 != 4).then(|| NICKNAMES[index % NICKNAMES.len()]);
        let id = people::add_resident(
            &tx,
            &NewResident {
                nickname,
                building: Some(BUILDINGS[rng.gen_range(0..BUILDINGS.len())]),
                household_size: Some(rng.gen_range(1..=6)),
                language: LANGUAGES[rng.gen_range(0..LANGUAGES.len())],
                consent_date: Some(&day.to_string()),
            },
            &when,
        )?;
        let token: [u8; 16] = rng.gen();
        people::issue_card(&tx, id, &people::token_text(&token), &when)?;
    }
    tx.commit()?;
    Ok(())
}
