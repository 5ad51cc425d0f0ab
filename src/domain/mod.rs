//! Pure rules of Comptoir: money, weights, VAT, weighing guards, the cart, the stock ledger and
//! compost credits.
//!
//! This module tree has no I/O and no dependency outside `std` (no slint, no rusqlite), so it
//! can be tested on its own:
//!
//! ```text
//! rustc --edition 2021 --test src/domain/mod.rs -o domain-tests && ./domain-tests
//! ```
//!
//! Conventions shared by every submodule:
//!
//! - Money is integer cents ([`money::Cents`], an `i64`), weights are integer grams
//!   ([`weight::Grams`], an `i64`), rates and shares are basis points (`u32`, 10 000 = 100 %).
//!   No floating point anywhere.
//! - Intermediate products are computed on `i128`, so `i64` inputs never overflow silently;
//!   a result that does not fit an `i64` is an error, never a wrap.
//! - Errors are enums with a `code()` returning a stable snake_case token. The UI maps codes to
//!   translated strings; the domain never contains sentences for people.
//! - Texts for people (amounts, weights, rates) are formatted here, per [`money::Lang`].

pub mod cart;
pub mod credits;
pub mod metrology;
pub mod money;
pub mod pricing;
pub mod stock;
pub mod vat;
pub mod weight;

pub use self::money::{Cents, Lang};
pub use self::weight::Grams;
