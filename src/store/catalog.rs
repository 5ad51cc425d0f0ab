//! The catalogue: categories, products and their price history, and the garden's plots.

use rusqlite::{params, Connection, OptionalExtension, Row};

/// How a product is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pricing {
    PerKg,
    PerPiece,
    PerBunch,
}

impl Pricing {
    pub fn as_str(self) -> &'static str {
        match self {
            Pricing::PerKg => "per_kg",
            Pricing::PerPiece => "per_piece",
            Pricing::PerBunch => "per_bunch",
        }
    }

    pub fn parse(s: &str) -> Option<Pricing> {
        match s {
            "per_kg" => Some(Pricing::PerKg),
            "per_piece" => Some(Pricing::PerPiece),
            "per_bunch" => Some(Pricing::PerBunch),
            _ => None,
        }
    }
}

/// A product as the catalogue holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: i64,
    pub name: String,
    pub short_code: String,
    pub category: String,
    pub icon: String,
    pub pricing: Pricing,
    pub price_cents: i64,
    pub avg_weight_g: Option<i64>,
    pub vat_bp: i64,
    pub origin: String,
    pub active: bool,
}

/// What it takes to add a product.
#[derive(Debug, Clone)]
pub struct NewProduct<'a> {
    pub name: &'a str,
    pub short_code: &'a str,
    pub category: &'a str,
    pub icon: &'a str,
    pub pricing: Pricing,
    pub price_cents: i64,
    pub avg_weight_g: Option<i64>,
    pub vat_bp: i64,
    pub origin: &'a str,
}

/// The categories, in display order.
pub const CATEGORIES: &[&str] = &["vegetable", "fruit", "herb", "egg", "other"];

/// Makes sure every known category exists.
pub fn ensure_categories(conn: &Connection) -> rusqlite::Result<()> {
    for (position, code) in CATEGORIES.iter().enumerate() {
        conn.execute(
            "INSERT OR IGNORE INTO categories (code, position) VALUES (?1, ?2)",
            params![code, position as i64],
        )?;
    }
    Ok(())
}

/// Adds a product and records its first price. Returns its id.
pub fn add_product(conn: &Connection, p: &NewProduct, now_utc: &str) -> rusqlite::Result<i64> {
    ensure_categories(conn)?;
    let category_id: i64 = conn.query_row(
        "SELECT id FROM categories WHERE code = ?1",
        [p.category],
        |r| r.get(0),
    )?;
    let position: i64 = conn.query_row(
        "SELECT coalesce(max(position), 0) + 1 FROM products",
        [],
        |r| r.get(0),
    )?;
    conn.execute(
        "INSERT INTO products (name, short_code, category_id, icon, pricing, price_cents,
                               avg_weight_g, vat_bp, origin, position, created_utc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            p.name.trim(),
            p.short_code,
            category_id,
            p.icon,
            p.pricing.as_str(),
            p.price_cents,
            p.avg_weight_g,
            p.vat_bp,
            p.origin,
            position,
            now_utc
        ],
    )?;
    let id = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO product_prices (product_id, price_cents, vat_bp, since_utc) VALUES (?1, ?2, ?3, ?4)",
        params![id, p.price_cents, p.vat_bp, now_utc],
    )?;
    Ok(id)
}

const PRODUCT_COLUMNS: &str =
    "p.id, p.name, p.short_code, c.code, p.icon, p.pricing, p.price_cents,
     p.avg_weight_g, p.vat_bp, p.origin, p.active";

fn product_from_row(r: &Row) -> rusqlite::Result<Product> {
    let pricing: String = r.get(5)?;
    Ok(Product {
        id: r.get(0)?,
        name: r.get(1)?,
        short_code: r.get(2)?,
        category: r.get(3)?,
        icon: r.get(4)?,
        pricing: Pricing::parse(&pricing).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                5,
                rusqlite::types::Type::Text,
                pricing.into(),
            )
        })?,
        price_cents: r.get(6)?,
        avg_weight_g: r.get(7)?,
        vat_bp: r.get(8)?,
        origin: r.get(9)?,
        active: r.get(10)?,
    })
}

/// Active products in display order (category, then position).
pub fn active_products(conn: &Connection) -> rusqlite::Result<Vec<Product>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products p JOIN categories c ON c.id = p.category_id
         WHERE p.active = 1 ORDER BY c.position, p.position, p.id"
    ))?;
    let rows = stmt.query_map([], product_from_row)?;
    rows.collect()
}

pub fn product(conn: &Connection, id: i64) -> rusqlite::Result<Option<Product>> {
    conn.query_row(
        &format!(
            "SELECT {PRODUCT_COLUMNS} FROM products p JOIN categories c ON c.id = p.category_id
             WHERE p.id = ?1"
        ),
        [id],
        product_from_row,
    )
    .optional()
}

/// Adds a plot (parcelle). Returns its id.
pub fn add_plot(conn: &Connection, name: &str) -> rusqlite::Result<i64> {
    let position: i64 = conn.query_row(
        "SELECT coalesce(max(position), 0) + 1 FROM plots",
        [],
        |r| r.get(0),
    )?;
    conn.execute(
        "INSERT INTO plots (name, position) VALUES (?1, ?2)",
        params![name.trim(), position],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Names of the active plots, in display order.
pub fn active_plots(conn: &Connection) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt =
        conn.prepare("SELECT id, name FROM plots WHERE active = 1 ORDER BY position, id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Every product, retired ones too, in display order (for the catalogue admin).
pub fn all_products(conn: &Connection) -> rusqlite::Result<Vec<Product>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products p JOIN categories c ON c.id = p.category_id
         ORDER BY p.active DESC, c.position, p.position, p.id"
    ))?;
    let rows = stmt.query_map([], product_from_row)?;
    rows.collect()
}

/// What an admin may change on a product. The short code stays: lot numbers carry it.
#[derive(Debug, Clone)]
pub struct ProductChange<'a> {
    pub name: &'a str,
    pub category: &'a str,
    pub icon: &'a str,
    pub pricing: Pricing,
    pub price_cents: i64,
    pub avg_weight_g: Option<i64>,
    pub vat_bp: i64,
    pub origin: &'a str,
}

/// Changes a product. A new price or VAT rate is added to the price history with `now_utc`;
/// the old rows stay. Returns whether the price or rate changed.
pub fn update_product(
    conn: &Connection,
    id: i64,
    c: &ProductChange,
    now_utc: &str,
) -> rusqlite::Result<bool> {
    ensure_categories(conn)?;
    let (old_price, old_vat): (i64, i64) = conn.query_row(
        "SELECT price_cents, vat_bp FROM products WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let category_id: i64 = conn.query_row(
        "SELECT id FROM categories WHERE code = ?1",
        [c.category],
        |r| r.get(0),
    )?;
    conn.execute(
        "UPDATE products SET name = ?2, category_id = ?3, icon = ?4, pricing = ?5,
                price_cents = ?6, avg_weight_g = ?7, vat_bp = ?8, origin = ?9
         WHERE id = ?1",
        params![
            id,
            c.name.trim(),
            category_id,
            c.icon,
            c.pricing.as_str(),
            c.price_cents,
            c.avg_weight_g,
            c.vat_bp,
            c.origin.trim()
        ],
    )?;
    let repriced = old_price != c.price_cents || old_vat != c.vat_bp;
    if repriced {
        conn.execute(
            "INSERT INTO product_prices (product_id, price_cents, vat_bp, since_utc)
             VALUES (?1, ?2, ?3, ?4)",
            params![id, c.price_cents, c.vat_bp, now_utc],
        )?;
    }
    Ok(repriced)
}

/// Retires (false) or brings back (true) a product. Products are never deleted once sold.
pub fn set_product_active(conn: &Connection, id: i64, active: bool) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE products SET active = ?2 WHERE id = ?1",
        params![id, active],
    )?;
    Ok(())
}

/// A price a product has had: cents, VAT rate, since when (RFC 3339 UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricePoint {
    pub price_cents: i64,
    pub vat_bp: i64,
    pub since_utc: String,
}

/// The price history of a product, newest first.
pub fn price_history(conn: &Connection, id: i64) -> rusqlite::Result<Vec<PricePoint>> {
    let mut stmt = conn.prepare(
        "SELECT price_cents, vat_bp, since_utc FROM product_prices
         WHERE product_id = ?1 ORDER BY id DESC",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(PricePoint {
            price_cents: r.get(0)?,
            vat_bp: r.get(1)?,
            since_utc: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// Is this short code already a product's (retired ones included)?
pub fn short_code_taken(conn: &Connection, code: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM products WHERE short_code = ?1)",
        [code],
        |r| r.get(0),
    )
}

/// Does an active product other than `except` have this name (case and accents as typed)?
pub fn active_product_name_taken(
    conn: &Connection,
    name: &str,
    except: Option<i64>,
) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM products
                        WHERE active = 1 AND lower(name) = lower(?1) AND id IS NOT ?2)",
        params![name.trim(), except],
        |r| r.get(0),
    )
}
