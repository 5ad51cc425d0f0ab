//! The catalogue admin: add, change, retire and bring back products, and the price signs the
//! stall must show (fruit and vegetables are sold with their price displayed). Admins only.
//!
//! A product is never deleted: sales, lots and the price history refer to it. A changed price
//! or VAT rate adds a row to the price history with the date it took effect; sales already
//! made keep the price they were made at (it is in their lines and their journal entry).

use comptoir_hardware::config::PrinterSection;
use comptoir_hardware::printer::{Receipt, Style};

use super::roles::Action;
use super::session::Denied;
use super::Kiosk;
use crate::domain::money::format_money;
use crate::domain::vat::format_rate;
use crate::domain::Lang;
use crate::store::catalog::{self, NewProduct, Pricing, Product, ProductChange};
use crate::store::{print_queue, utc_text};

/// VAT rates a product may carry, in basis points: 5.5 % (food), 10 %, 20 %, and 0 for what
/// is outside VAT.
pub const VAT_RATES: &[i64] = &[550, 1000, 2000, 0];

/// Highest price per kg or per piece the keypad accepts: 999,99 €.
pub const MAX_PRICE_CENTS: i64 = 99_999;

/// Heaviest average weight of a piece or bunch: 20 kg.
pub const MAX_AVG_WEIGHT_G: i64 = 20_000;

pub const NAME_MAX_CHARS: usize = 40;
pub const ORIGIN_MAX_CHARS: usize = 60;

/// The pictograms a product may take (file stems in ui/icons).
pub const PRODUCT_ICONS: &[&str] = &[
    "tomato",
    "carrot",
    "potato",
    "sweet-potato",
    "lettuce",
    "leek",
    "onion",
    "garlic",
    "courgette",
    "cucumber",
    "eggplant",
    "bell-pepper",
    "hot-pepper",
    "beans",
    "pea-pod",
    "broccoli",
    "cabbage",
    "chard",
    "fennel",
    "beetroot",
    "radish",
    "turnip",
    "squash",
    "corn",
    "mushroom",
    "herb",
    "strawberry",
    "apple",
    "green-apple",
    "pear",
    "peach",
    "cherries",
    "grapes",
    "melon",
    "kiwi",
    "lemon",
    "chestnut",
    "egg",
    "ginger",
    "seedling",
];

/// A product as the editor holds it before saving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub name: String,
    pub category: String,
    pub icon: String,
    pub pricing: Pricing,
    pub price_cents: i64,
    pub avg_weight_g: Option<i64>,
    pub vat_bp: i64,
    pub origin: String,
}

impl Default for Draft {
    fn default() -> Self {
        Draft {
            name: String::new(),
            category: "vegetable".into(),
            icon: "seedling".into(),
            pricing: Pricing::PerKg,
            price_cents: 0,
            avg_weight_g: None,
            vat_bp: 550,
            origin: String::new(),
        }
    }
}

impl Draft {
    pub fn of(p: &Product) -> Draft {
        Draft {
            name: p.name.clone(),
            category: p.category.clone(),
            icon: p.icon.clone(),
            pricing: p.pricing,
            price_cents: p.price_cents,
            avg_weight_g: p.avg_weight_g,
            vat_bp: p.vat_bp,
            origin: p.origin.clone(),
        }
    }
}

/// Why a catalogue change was refused. Nothing is changed when one of these comes back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("a name is needed")]
    NameEmpty,
    #[error("an active product already has this name")]
    NameTaken,
    #[error("the price must be above zero and at most 999,99 €")]
    BadPrice,
    #[error("this VAT rate is not one the stall uses")]
    BadVat,
    #[error("an average weight is between 1 g and 20 kg")]
    BadWeight,
    #[error("unknown category")]
    BadCategory,
    #[error("no such product")]
    Unknown,
    #[error("a retired product has no price sign")]
    Retired,
    #[error("no printer is configured")]
    NoPrinter,
    #[error("database: {0}")]
    Store(String),
}

impl ProductError {
    /// Stable code the UI maps to a translated message.
    pub fn code(&self) -> &'static str {
        match self {
            ProductError::Denied(_) => "not-allowed",
            ProductError::NameEmpty => "name-empty",
            ProductError::NameTaken => "name-taken",
            ProductError::BadPrice => "bad-price",
            ProductError::BadVat => "bad-vat",
            ProductError::BadWeight => "bad-weight",
            ProductError::BadCategory => "bad-category",
            ProductError::Unknown => "unknown",
            ProductError::Retired => "retired",
            ProductError::NoPrinter => "no-printer",
            ProductError::Store(_) => "store",
        }
    }
}

impl From<rusqlite::Error> for ProductError {
    fn from(e: rusqlite::Error) -> Self {
        ProductError::Store(e.to_string())
    }
}

fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks a draft and returns it cleaned (spaces collapsed, no average weight per kg).
pub fn validate(d: &Draft) -> Result<Draft, ProductError> {
    let mut d = d.clone();
    d.name = clean(&d.name);
    d.origin = clean(&d.origin);
    if d.name.is_empty() {
        return Err(ProductError::NameEmpty);
    }
    if d.name.chars().count() > NAME_MAX_CHARS {
        d.name = d.name.chars().take(NAME_MAX_CHARS).collect();
    }
    if d.origin.chars().count() > ORIGIN_MAX_CHARS {
        d.origin = d.origin.chars().take(ORIGIN_MAX_CHARS).collect();
    }
    if !catalog::CATEGORIES.contains(&d.category.as_str()) {
        return Err(ProductError::BadCategory);
    }
    if d.price_cents <= 0 || d.price_cents > MAX_PRICE_CENTS {
        return Err(ProductError::BadPrice);
    }
    if !VAT_RATES.contains(&d.vat_bp) {
        return Err(ProductError::BadVat);
    }
    if d.pricing == Pricing::PerKg {
        d.avg_weight_g = None;
    }
    if let Some(g) = d.avg_weight_g {
        if !(1..=MAX_AVG_WEIGHT_G).contains(&g) {
            return Err(ProductError::BadWeight);
        }
    }
    if !PRODUCT_ICONS.contains(&d.icon.as_str()) {
        d.icon = "seedling".into();
    }
    Ok(d)
}

/// Folds a name to the short code's alphabet: A-Z only, accents dropped ("Blette" -> "BLE",
/// "Œufs" -> "OEU").
fn code_letters(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let folded = match c {
            'à' | 'â' | 'ä' | 'á' | 'À' | 'Â' | 'Ä' | 'Á' => "A",
            'ç' | 'Ç' => "C",
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => "E",
            'î' | 'ï' | 'ı' | 'İ' | 'Î' | 'Ï' => "I",
            'ô' | 'ö' | 'Ô' | 'Ö' => "O",
            'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => "U",
            'œ' | 'Œ' => "OE",
            'æ' | 'Æ' => "AE",
            'ğ' | 'Ğ' => "G",
            'ş' | 'Ş' => "S",
            c if c.is_ascii_alphabetic() => {
                out.push(c.to_ascii_uppercase());
                continue;
            }
            _ => "",
        };
        out.push_str(folded);
    }
    out
}

/// A short code (for lot numbers) that no product has had: three letters of the name, then a
/// digit when those are taken.
pub fn new_short_code(conn: &rusqlite::Connection, name: &str) -> Result<String, ProductError> {
    let mut base: String = code_letters(name).chars().take(3).collect();
    while base.len() < 2 {
        base.push('X');
    }
    if !catalog::short_code_taken(conn, &base)? {
        return Ok(base);
    }
    for n in 2..1000 {
        let code = format!("{base}{n}");
        if !catalog::short_code_taken(conn, &code)? {
            return Ok(code);
        }
    }
    Err(ProductError::Store("no short code left".into()))
}

/// Adds a product. Returns its id.
pub fn add(kiosk: &mut Kiosk, draft: &Draft) -> Result<i64, ProductError> {
    kiosk.session.require(Action::Catalogue)?;
    let d = validate(draft)?;
    let now = utc_text(kiosk.clock.now());
    let tx = kiosk.store.write()?;
    if catalog::active_product_name_taken(&tx, &d.name, None)? {
        return Err(ProductError::NameTaken);
    }
    let code = new_short_code(&tx, &d.name)?;
    let id = catalog::add_product(
        &tx,
        &NewProduct {
            name: &d.name,
            short_code: &code,
            category: &d.category,
            icon: &d.icon,
            pricing: d.pricing,
            price_cents: d.price_cents,
            avg_weight_g: d.avg_weight_g,
            vat_bp: d.vat_bp,
            origin: &d.origin,
        },
        &now,
    )?;
    tx.commit()?;
    Ok(id)
}

/// Changes a product. Returns whether its price or VAT rate changed (a new price-history row).
pub fn edit(kiosk: &mut Kiosk, id: i64, draft: &Draft) -> Result<bool, ProductError> {
    kiosk.session.require(Action::Catalogue)?;
    let d = validate(draft)?;
    let now = utc_text(kiosk.clock.now());
    let tx = kiosk.store.write()?;
    let existing = catalog::product(&tx, id)?.ok_or(ProductError::Unknown)?;
    if existing.active && catalog::active_product_name_taken(&tx, &d.name, Some(id))? {
        return Err(ProductError::NameTaken);
    }
    let repriced = catalog::update_product(
        &tx,
        id,
        &ProductChange {
            name: &d.name,
            category: &d.category,
            icon: &d.icon,
            pricing: d.pricing,
            price_cents: d.price_cents,
            avg_weight_g: d.avg_weight_g,
            vat_bp: d.vat_bp,
            origin: &d.origin,
        },
        &now,
    )?;
    tx.commit()?;
    Ok(repriced)
}

/// Retires a product (it leaves the stall's catalogue; its history stays) or brings it back.
pub fn set_active(kiosk: &mut Kiosk, id: i64, active: bool) -> Result<(), ProductError> {
    kiosk.session.require(Action::Catalogue)?;
    let tx = kiosk.store.write()?;
    let existing = catalog::product(&tx, id)?.ok_or(ProductError::Unknown)?;
    if active && catalog::active_product_name_taken(&tx, &existing.name, Some(id))? {
        return Err(ProductError::NameTaken);
    }
    catalog::set_product_active(&tx, id, active)?;
    tx.commit()?;
    Ok(())
}

/// "le kg", "la pièce", "la botte": how the sign states the unit.
fn per_unit(p: Pricing) -> &'static str {
    match p {
        Pricing::PerKg => "le kg",
        Pricing::PerPiece => "la pièce",
        Pricing::PerBunch => "la botte",
    }
}

/// The price sign of a product for the receipt printer: name, price per unit, origin,
/// category... in French, the language of the stall's legal display.
pub fn price_sign(kiosk: &Kiosk, p: &Product) -> Receipt {
    let price = format_money(p.price_cents, Lang::Fr).replace('\u{a0}', " ");
    let mut r = Receipt::new()
        .text(kiosk.config.association.name.clone(), Style::center())
        .separator()
        .text(p.name.clone(), Style::center().bold().double())
        .feed(1)
        .text(
            format!("{price} {}", per_unit(p.pricing)),
            Style::center().bold().double(),
        );
    if let (Some(g), true) = (p.avg_weight_g, p.pricing != Pricing::PerKg) {
        r = r.text(
            format!(
                "environ {} {}",
                crate::domain::weight::format_kg(g, Lang::Fr).replace('\u{a0}', " "),
                match p.pricing {
                    Pricing::PerBunch => "la botte",
                    _ => "pièce",
                }
            ),
            Style::center(),
        );
    }
    let origin = if p.origin.trim().is_empty() {
        "France".to_string()
    } else {
        p.origin.clone()
    };
    r = r
        .feed(1)
        .text(format!("Origine : {origin}"), Style::center());
    if p.vat_bp > 0 {
        r = r.text(
            format!("Prix TTC (TVA {})", format_rate(p.vat_bp as u32, Lang::Fr)),
            Style::center(),
        );
    } else {
        r = r.text("Prix net", Style::center());
    }
    r.cut()
}

/// Queues the price signs of the given products (every active one when `ids` is empty).
/// Returns how many were queued.
pub fn queue_price_signs(
    kiosk: &Kiosk,
    section: Option<&PrinterSection>,
    ids: &[i64],
) -> Result<usize, ProductError> {
    let section = section.ok_or(ProductError::NoPrinter)?;
    let products: Vec<Product> = if ids.is_empty() {
        catalog::active_products(kiosk.store.conn())?
    } else {
        let mut v = Vec::new();
        for id in ids {
            let p = catalog::product(kiosk.store.conn(), *id)?.ok_or(ProductError::Unknown)?;
            if !p.active {
                return Err(ProductError::Retired);
            }
            v.push(p);
        }
        v
    };
    let now = utc_text(kiosk.clock.now());
    for p in &products {
        let bytes = crate::devices::printer::encode(section, &price_sign(kiosk, p));
        print_queue::enqueue(
            kiosk.store.conn(),
            &format!("sign {}", p.short_code),
            &bytes,
            &now,
        )?;
    }
    Ok(products.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(name: &str, price: i64) -> Draft {
        Draft {
            name: name.into(),
            price_cents: price,
            ..Draft::default()
        }
    }

    #[test]
    fn a_draft_needs_a_name_a_price_and_a_known_rate() {
        assert_eq!(validate(&draft("  ", 100)), Err(ProductError::NameEmpty));
        assert_eq!(validate(&draft("Blette", 0)), Err(ProductError::BadPrice));
        assert_eq!(validate(&draft("Blette", -5)), Err(ProductError::BadPrice));
        assert_eq!(
            validate(&draft("Blette", MAX_PRICE_CENTS + 1)),
            Err(ProductError::BadPrice)
        );
        let mut d = draft("Blette", 250);
        d.vat_bp = 700;
        assert_eq!(validate(&d), Err(ProductError::BadVat));
        d.vat_bp = 550;
        d.category = "meat".into();
        assert_eq!(validate(&d), Err(ProductError::BadCategory));
    }

    #[test]
    fn a_draft_is_cleaned() {
        let mut d = draft("  Tomate   cœur de  bœuf ", 480);
        d.avg_weight_g = Some(300);
        d.icon = "no-such-icon".into();
        let v = validate(&d).unwrap();
        assert_eq!(v.name, "Tomate cœur de bœuf");
        assert_eq!(v.avg_weight_g, None, "per kg needs no average weight");
        assert_eq!(v.icon, "seedling");
        d.pricing = Pricing::PerPiece;
        assert_eq!(validate(&d).unwrap().avg_weight_g, Some(300));
        d.avg_weight_g = Some(0);
        assert_eq!(validate(&d), Err(ProductError::BadWeight));
        d.avg_weight_g = Some(MAX_AVG_WEIGHT_G + 1);
        assert_eq!(validate(&d), Err(ProductError::BadWeight));
    }

    #[test]
    fn short_code_letters_drop_accents() {
        assert_eq!(code_letters("Œufs frais"), "OEUFSFRAIS");
        assert_eq!(code_letters("Épinard"), "EPINARD");
        assert_eq!(code_letters("Çilek"), "CILEK");
        assert_eq!(code_letters("42 !"), "");
    }
}
