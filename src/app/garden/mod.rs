//! The garden lead's tools: logging a harvest by touch (product, scale or count, plot,
//! harvester, destinations, confirm), the stock at a glance with losses, counts and low-stock
//! thresholds, the reports with their charts, and the week's sales.
//!
//! Every write checks the role first (`Action::Harvest` or `Action::Stock`) and goes through
//! one `Store::write()` transaction in `store::garden`. A refusal leaves everything recorded as
//! it was. Texts for people are formatted here (weights, money); everything else reaches the UI
//! as codes.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::devices::ScaleView;
use super::roles::Action;
use super::sell::scale_state;
use super::session::Denied;
use super::Kiosk;
use crate::domain::metrology::{MetrologyConfig, WeighGuard, WeighRefusal};
use crate::domain::money::format_money;
use crate::domain::stock::{
    days_left, is_low, to_grams, CorrectionReason, HarvestSplit, LossReason, StockError, StockMove,
    StockUnit,
};
use crate::domain::weight::format_kg;
use crate::domain::Lang;
use crate::store::catalog::{self, Pricing, Product};
use crate::store::garden::{self as gstore, GardenError, MoveSource, NewHarvest};
use crate::store::local_midnight_utc;
use crate::store::utc_text;

mod harvest;
mod reports;
mod sales;
mod stock;

pub use harvest::*;
pub use reports::*;
pub use sales::*;
pub use stock::*;

/// The most pieces one harvest can count.
pub const MAX_PIECES: i64 = 9_999;

/// Days of sales the selling rate ("days left") is measured over.
pub const RATE_DAYS: i64 = 28;

#[derive(Debug, thiserror::Error)]
pub enum GardenFlowError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("nothing chosen")]
    NothingChosen,
    #[error("unknown or retired product")]
    UnknownProduct,
    #[error("weighing refused: {0:?}")]
    Weigh(WeighRefusal),
    #[error("quantity must be 1 to {MAX_PIECES}")]
    BadQuantity,
    #[error("a sale of this product is in progress")]
    SaleInProgress,
    #[error("this product is counted in pieces")]
    NotWeighed,
    #[error("choose why the stock is corrected")]
    NoReason,
    #[error(transparent)]
    Garden(#[from] GardenError),
}

impl From<rusqlite::Error> for GardenFlowError {
    fn from(e: rusqlite::Error) -> Self {
        GardenFlowError::Garden(GardenError::Sqlite(e))
    }
}

impl GardenFlowError {
    /// A stable token for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            GardenFlowError::Denied(_) => "not_allowed",
            GardenFlowError::NothingChosen => "nothing_chosen",
            GardenFlowError::UnknownProduct => "unknown_product",
            GardenFlowError::Weigh(r) => r.code(),
            GardenFlowError::BadQuantity => "bad_quantity",
            GardenFlowError::SaleInProgress => "sale_in_progress",
            GardenFlowError::NotWeighed => "not_weighed",
            GardenFlowError::NoReason => "no_reason",
            GardenFlowError::Garden(GardenError::UnknownProduct) => "unknown_product",
            GardenFlowError::Garden(e) => e.code(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Quantities for people

/// A stock quantity for people: `1,234 kg` or `12` (pieces: the UI adds the word).
pub fn format_qty(qty: i64, unit: StockUnit, lang: Lang) -> String {
    match unit {
        StockUnit::Grams => format_kg(qty, lang),
        StockUnit::Pieces => qty.to_string(),
    }
}

/// The Monday of a date's ISO week.
pub fn iso_monday(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}
