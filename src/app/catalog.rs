//! The stall's catalogue as the sell screens show it: active products, by category, with
//! prices formatted for people.

use crate::domain::money::format_money;
use crate::domain::Lang;
use crate::store::catalog::{self, Pricing, Product};
use crate::store::Store;

/// A product tile: everything the catalogue grid shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    pub id: i64,
    pub name: String,
    pub icon: String,
    pub category: String,
    pub price: String,
    pub pricing: Pricing,
}

/// Categories that hold at least one active product, in display order.
pub fn categories(products: &[Product]) -> Vec<String> {
    catalog::CATEGORIES
        .iter()
        .filter(|c| products.iter().any(|p| p.category == **c))
        .map(|c| c.to_string())
        .collect()
}

/// Tiles of the active products in `category` ("" for all).
pub fn tiles(products: &[Product], category: &str, lang: Lang) -> Vec<Tile> {
    products
        .iter()
        .filter(|p| category.is_empty() || p.category == category)
        .map(|p| Tile {
            id: p.id,
            name: p.name.clone(),
            icon: p.icon.clone(),
            category: p.category.clone(),
            price: format_money(p.price_cents, lang),
            pricing: p.pricing,
        })
        .collect()
}

pub fn active_products(store: &Store) -> rusqlite::Result<Vec<Product>> {
    catalog::active_products(store.conn())
}
