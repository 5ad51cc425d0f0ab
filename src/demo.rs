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
    #[error(transparent)]
    Sales(#[from] crate::store::sales::SalesError),
    #[error("compost: {0}")]
    Compost(String),
    #[error("garden: {0}")]
    Garden(String),
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

/// The `meta` key keeping the seed of demo data, so that the demo's cards can be made again.
const DEMO_SEED_KEY: &str = "demo_seed";

/// The token of the card the demo seed gives resident `resident_id`: the database keeps only
/// its hash, so the demo (its simulated scanner) and the tests make it again from the seed.
pub fn card_token(seed: u64, resident_id: i64) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"comptoir demo card");
    h.update(seed.to_le_bytes());
    h.update(resident_id.to_le_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    people::token_text(&bytes)
}

/// The token of resident `resident_id`'s card as the demo seed made it, when the database
/// holds demo data and that card is still valid (not reissued, revoked or anonymised).
pub fn seeded_card_token(
    conn: &rusqlite::Connection,
    resident_id: i64,
) -> rusqlite::Result<Option<String>> {
    let Some(seed) = crate::store::meta::get(conn, DEMO_SEED_KEY)? else {
        return Ok(None);
    };
    let Ok(seed) = seed.parse::<u64>() else {
        return Ok(None);
    };
    let token = card_token(seed, resident_id);
    Ok((people::resident_by_token(conn, &token)? == Some(resident_id)).then_some(token))
}

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

    let tx = store.write()?;
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

    let tx = store.write()?;
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
    let tx = store.write()?;
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
        // The draw that made the token when tokens were stored stays, so that the residents
        // seeded after it are the same as before.
        let _: [u8; 16] = rng.gen();
        people::issue_card(&tx, id, &card_token(options.seed, id), &when)?;
    }
    crate::store::meta::set(&tx, DEMO_SEED_KEY, &options.seed.to_string())?;
    tx.commit()?;
    seed_sales(store, options)?;
    crate::store::compost::seed_demo(
        store.conn_mut(),
        options.until,
        options.days,
        options.seed,
        options.tz,
    )
    .map_err(|e| SeedError::Compost(e.to_string()))?;
    Ok(())
}

/// Sales over the period through the cart and `store::sales`, as the stall makes them:
/// market days on Wednesday and Saturday mornings, 20 to 60 tickets each, weighed and piece
/// lines, now and then a "divers" line or a manual weight, end-of-market discounts, cash,
/// card, cheque and mixes, a few refunds, and two training tickets on the first market day.
/// Its own random generator keeps the rows seeded before it unchanged; one transaction a day.
fn seed_sales(store: &mut Store, options: &SeedOptions) -> Result<(), SeedError> {
    use crate::domain::cart::{Cart, Discount, LineKind, PaymentMethod, PaymentPolicy};
    use crate::store::sales::{self, SaleContext};
    use chrono::{Datelike, Weekday};

    let mut rng = ChaCha8Rng::seed_from_u64(options.seed.wrapping_add(0x5a1e_5eed));
    let products = catalog::active_products(store.conn())?;
    let staff = people::active_staff(store.conn())?;
    let sellers: Vec<_> = staff.iter().filter(|s| s.role == Role::Seller).collect();
    let lead = staff.iter().find(|s| s.role == Role::GardenLead);
    if products.is_empty() || sellers.is_empty() {
        return Ok(());
    }
    let when = |date: NaiveDate, seconds: u32| {
        let local =
            date.and_hms_opt(0, 0, 0).expect("midnight") + Duration::seconds(i64::from(seconds));
        options
            .tz
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local))
    };
    let no_credits = PaymentPolicy::default();
    let mut first_market_day = true;
    let mut garden = DemoGarden::new(store.conn(), options.seed)?;
    for offset in (0..i64::from(options.days)).rev() {
        let day = options.until - Duration::days(offset);
        if !matches!(day.weekday(), Weekday::Wed | Weekday::Sat) {
            continue;
        }
        let seller = sellers[rng.gen_range(0..sellers.len())];
        let ctx = SaleContext {
            cashier_id: seller.id,
            cashier_name: seller.name.clone(),
            cash_session: None,
            training: false,
        };
        let tickets = rng.gen_range(20..=60);
        // 8:30 to 12:45, one ticket at a time.
        let mut times: Vec<u32> = (0..tickets)
            .map(|_| rng.gen_range(8 * 3600 + 1800..12 * 3600 + 2700))
            .collect();
        times.sort_unstable();
        // The day's tickets are drawn first (the same draws as ever), so that the morning's
        // harvest can bring in what the market will sell; they are recorded after it.
        let mut training_sales = Vec::new();
        if first_market_day {
            first_market_day = false;
            for minute in [0, 5] {
                let mut cart = Cart::new(seller.id);
                let p = &products[rng.gen_range(0..products.len())];
                cart.add_line(p.id, p.name.clone(), 550, LineKind::Divers { cents: 100 })
                    .map_err(sales::SalesError::from)?;
                let total = cart.totals().map_err(sales::SalesError::from)?.total;
                cart.add_payment(PaymentMethod::Cash, total, &no_credits)
                    .map_err(sales::SalesError::from)?;
                let sale = cart.close_paid().map_err(sales::SalesError::from)?;
                training_sales.push((sale, when(day, 8 * 3600 + minute * 60)));
            }
        }
        let mut planned = Vec::with_capacity(times.len());
        for &t in &times {
            let mut cart = Cart::new(seller.id);
            for _ in 0..rng.gen_range(1..=5) {
                if rng.gen_ratio(1, 30) {
                    let (label, cents, vat) = [
                        ("Confiture maison", 450, 550),
                        ("Plant de tomate", 200, 1000),
                        ("Sac en toile", 300, 2000),
                    ][rng.gen_range(0..3)];
                    cart.add_line(0, label, vat, LineKind::Divers { cents })
                        .map_err(sales::SalesError::from)?;
                    continue;
                }
                let p = &products[rng.gen_range(0..products.len())];
                let kind = match p.pricing {
                    Pricing::PerKg => LineKind::Weighed {
                        grams: rng.gen_range(150..=2500),
                        cents_per_kg: p.price_cents,
                        manual: rng.gen_ratio(1, 50),
                    },
                    Pricing::PerPiece | Pricing::PerBunch => LineKind::Piece {
                        qty: rng.gen_range(1..=4),
                        unit_cents: p.price_cents,
                        avg_weight_g: p.avg_weight_g,
                    },
                };
                let vat = u32::try_from(p.vat_bp).unwrap_or(550);
                cart.add_line(p.id, p.name.clone(), vat, kind)
                    .map_err(sales::SalesError::from)?;
            }
            // End of market: what is left goes cheaper.
            if t > 12 * 3600 + 900 && rng.gen_ratio(1, 3) {
                if let Some(lead) = lead {
                    let bp = [1000, 1500, 2000][rng.gen_range(0..3)];
                    cart.set_cart_discount(Discount::percent(bp, lead.id))
                        .map_err(sales::SalesError::from)?;
                }
            }
            let total = cart.totals().map_err(sales::SalesError::from)?.total;
            let roll = rng.gen_range(0..100);
            let mut pay = |method, cents| {
                cart.add_payment(method, cents, &no_credits)
                    .map_err(sales::SalesError::from)
            };
            if roll < 55 {
                // Cash: the exact sum, or the next note or coin up.
                let given = if rng.gen_ratio(1, 4) {
                    total
                } else {
                    let step = [100, 500, 1000, 2000, 5000]
                        .into_iter()
                        .find(|s| *s * 2 > total)
                        .unwrap_or(5000);
                    total.div_euclid(step) * step + step
                };
                pay(PaymentMethod::Cash, given)?;
            } else if roll < 85 {
                pay(PaymentMethod::Card, total)?;
            } else if roll < 92 || total < 400 {
                pay(PaymentMethod::Cheque, total)?;
            } else {
                let cash = total / 200 * 100;
                pay(PaymentMethod::Cash, cash)?;
                pay(PaymentMethod::Card, total - cash)?;
            }
            let sale = cart.close_paid().map_err(sales::SalesError::from)?;
            planned.push((sale, when(day, t)));
        }
        let tx = store.write()?;
        // The morning's harvest comes in before the stall opens (stock, lots).
        garden.harvest_morning(&tx, day, &when, &demand_of(&planned, &products))?;
        let training = SaleContext {
            training: true,
            ..ctx.clone()
        };
        for (sale, at) in &training_sales {
            sales::record_sale(&tx, sale, &training, *at)?;
        }
        let mut today: Vec<i64> = Vec::new();
        for (sale, at) in &planned {
            let entry = sales::record_sale(&tx, sale, &ctx, *at)?;
            today.push(entry.seq);
        }
        // A few refunds, after the market.
        if !today.is_empty() && rng.gen_ratio(1, 3) {
            let seq = today[rng.gen_range(0..today.len())];
            let lines: Vec<u32> = match sales::sale(&tx, seq)? {
                Some(s) if rng.gen_ratio(1, 3) || s.lines.len() == 1 => Vec::new(),
                Some(s) => vec![s.lines[rng.gen_range(0..s.lines.len())].line_no],
                None => Vec::new(),
            };
            sales::record_refund(&tx, seq, &lines, &ctx, when(day, 13 * 3600))?;
        }
        // After the market: what spoiled, and now and then a stock count.
        garden.after_market(&tx, day, &when)?;
        tx.commit()?;
    }
    Ok(())
}

/// What a day's tickets take from stock, per product, in its stock unit (grams of weighed
/// lines of products sold by weight, pieces of the others; "divers" lines take nothing).
fn demand_of(
    planned: &[(crate::domain::cart::Sale, chrono::DateTime<Utc>)],
    products: &[catalog::Product],
) -> std::collections::HashMap<i64, i64> {
    use crate::domain::cart::LineKind;
    let mut demand = std::collections::HashMap::new();
    for (sale, _) in planned {
        for line in &sale.lines {
            let Some(p) = products.iter().find(|p| p.id == line.product_id) else {
                continue;
            };
            let qty = match (&line.kind, p.pricing) {
                (LineKind::Weighed { grams, .. }, Pricing::PerKg) => *grams,
                (LineKind::Piece { qty, .. }, Pricing::PerPiece | Pricing::PerBunch) => *qty,
                _ => continue,
            };
            *demand.entry(p.id).or_insert(0) += qty;
        }
    }
    demand
}

/// The demo garden's harvests, losses and stock counts, made around each market day with their
/// own random generator (the sales seeded beside them stay the same): before the stall opens,
/// the morning's harvest brings the shelf a little above what the market will sell (a margin of
/// a fifth or so, and a crate at least), sometimes with part of it given away, composted or
/// kept for the team; a product the shelf still holds enough of may wait. After the market, a
/// loss or two of what is left and, on Saturdays, a count of a few products (a little less
/// than the books say, now and then a little more). So stock never goes below zero.
struct DemoGarden {
    rng: ChaCha8Rng,
    products: Vec<catalog::Product>,
    plots: Vec<(i64, String)>,
    lead: Option<i64>,
    harvesters: Vec<i64>,
}

impl DemoGarden {
    fn new(conn: &rusqlite::Connection, seed: u64) -> rusqlite::Result<DemoGarden> {
        let staff = people::active_staff(conn)?;
        Ok(DemoGarden {
            rng: ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x006a_2de4)),
            products: catalog::active_products(conn)?,
            plots: catalog::active_plots(conn)?,
            lead: staff
                .iter()
                .find(|s| s.role == Role::GardenLead)
                .map(|s| s.id),
            harvesters: staff.iter().map(|s| s.id).collect(),
        })
    }

    fn plot_for(&mut self, p: &catalog::Product) -> Option<i64> {
        let named = |name: &str| self.plots.iter().find(|(_, n)| n.contains(name));
        let plot = match p.category.as_str() {
            "herb" => named("aromatiques"),
            "fruit" => named("Verger"),
            "egg" => return None,
            _ => self
                .plots
                .get(self.rng.gen_range(0..3.min(self.plots.len().max(1)))),
        };
        plot.map(|(id, _)| *id)
    }

    fn harvest_morning(
        &mut self,
        tx: &rusqlite::Connection,
        day: NaiveDate,
        when: &dyn Fn(NaiveDate, u32) -> chrono::DateTime<Utc>,
        demand: &std::collections::HashMap<i64, i64>,
    ) -> Result<(), SeedError> {
        use crate::domain::stock::HarvestSplit;
        use crate::store::garden::{self, NewHarvest};
        let Some(lead) = self.lead else {
            return Ok(());
        };
        for (i, p) in self.products.clone().iter().enumerate() {
            let need = demand.get(&p.id).copied().unwrap_or(0);
            let on_hand = garden::on_hand(tx, p.id)?;
            // The shelf when the stall opens: the market's sales and a margin.
            let (margin, least) = match p.pricing {
                Pricing::PerKg => (self.rng.gen_range(1_000..=3_000) + need / 5, 2_000),
                Pricing::PerPiece | Pricing::PerBunch => (self.rng.gen_range(2..=5) + need / 5, 4),
            };
            let short = need + margin - on_hand;
            if short <= 0 || (on_hand >= need && self.rng.gen_ratio(1, 8)) {
                continue; // enough on the shelf, or nothing ripe today
            }
            let for_sale = short.max(least);
            // Parts that do not go on sale, in twentieths of the harvest.
            let donation = if self.rng.gen_ratio(1, 6) { 2 } else { 0 };
            let compost = if self.rng.gen_ratio(1, 10) { 1 } else { 0 };
            let own_use = if self.rng.gen_ratio(1, 12) { 1 } else { 0 };
            let kept = 20 - donation - compost - own_use;
            let qty = (for_sale * 20 + kept - 1) / kept;
            let mut split = HarvestSplit {
                for_sale: 0,
                donation: qty * donation / 20,
                own_use: qty * own_use / 20,
                compost: qty * compost / 20,
            };
            split.for_sale = qty - split.donation - split.compost - split.own_use;
            debug_assert!(split.for_sale >= for_sale);
            let harvester = if self.rng.gen_ratio(1, 3) {
                None
            } else {
                Some(self.harvesters[self.rng.gen_range(0..self.harvesters.len())])
            };
            let h = NewHarvest {
                product_id: p.id,
                plot_id: self.plot_for(p),
                harvester_id: harvester,
                recorded_by: lead,
                qty,
                tare_g: if p.pricing == Pricing::PerKg {
                    1_000
                } else {
                    0
                },
                split,
            };
            let at = when(day, 7 * 3600 + 60 * i as u32);
            garden::record_harvest(tx, &h, day, at).map_err(garden_error)?;
        }
        Ok(())
    }

    fn after_market(
        &mut self,
        tx: &rusqlite::Connection,
        day: NaiveDate,
        when: &dyn Fn(NaiveDate, u32) -> chrono::DateTime<Utc>,
    ) -> Result<(), SeedError> {
        use crate::domain::stock::{LossReason, StockMove};
        use crate::store::garden::{self, MoveSource};
        use chrono::Datelike;
        let Some(lead) = self.lead else {
            return Ok(());
        };
        let source = MoveSource {
            by_staff: Some(lead),
            ..MoveSource::default()
        };
        for k in 0..self.rng.gen_range(1..=2) {
            let p = &self.products[self.rng.gen_range(0..self.products.len())];
            let on_hand = garden::on_hand(tx, p.id)?;
            let qty = (on_hand / 10).max(0);
            if qty <= 0 {
                continue;
            }
            let reason = [
                LossReason::Spoiled,
                LossReason::Spoiled,
                LossReason::Damaged,
                LossReason::ToCompost,
            ][self.rng.gen_range(0..4)];
            let mv = StockMove::Loss { qty, reason };
            let at = when(day, 13 * 3600 + 900 + 60 * k);
            garden::record_move(tx, p.id, &mv, None, &source, at).map_err(garden_error)?;
        }
        if day.weekday() == chrono::Weekday::Sat {
            for k in 0..3 {
                let p = &self.products[self.rng.gen_range(0..self.products.len())];
                let on_hand = garden::on_hand(tx, p.id)?;
                let noise = match p.pricing {
                    Pricing::PerKg => self.rng.gen_range(-300..=150),
                    _ => self.rng.gen_range(-2..=1),
                };
                let counted = (on_hand + noise).max(0);
                let mv = StockMove::Count { counted, lot: None };
                let at = when(day, 13 * 3600 + 1800 + 60 * k);
                garden::record_move(tx, p.id, &mv, None, &source, at).map_err(garden_error)?;
            }
        }
        Ok(())
    }
}

fn garden_error(e: crate::store::garden::GardenError) -> SeedError {
    match e {
        crate::store::garden::GardenError::Sqlite(e) => SeedError::Sqlite(e),
        other => SeedError::Garden(other.to_string()),
    }
}
