//! A recorded sale or refund as the `sales` and `sale_lines` tables (or its journal payload)
//! hold it: the types that `store::sales` writes and reads and `store::garden` turns into
//! stock moves. They live below both, so that neither imports the other.

use crate::domain::cart::{Discount, LineId, Payment, PaymentMethod};
use crate::domain::money::Cents;
use crate::domain::vat::VatLine;

use super::journal::{KIND_REFUND, KIND_SALE};

/// A sale or a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaleKind {
    Sale,
    Refund,
}

impl SaleKind {
    /// The journal kind: `sale` or `refund`.
    pub fn code(self) -> &'static str {
        match self {
            SaleKind::Sale => KIND_SALE,
            SaleKind::Refund => KIND_REFUND,
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            KIND_SALE => Some(SaleKind::Sale),
            KIND_REFUND => Some(SaleKind::Refund),
            _ => None,
        }
    }
}

/// How a line was sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredLineKind {
    Weighed,
    Piece,
    Divers,
}

impl StoredLineKind {
    /// `weighed`, `piece`, `divers` (as [`LineKind::code`]).
    pub fn code(self) -> &'static str {
        match self {
            StoredLineKind::Weighed => "weighed",
            StoredLineKind::Piece => "piece",
            StoredLineKind::Divers => "divers",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "weighed" => Some(StoredLineKind::Weighed),
            "piece" => Some(StoredLineKind::Piece),
            "divers" => Some(StoredLineKind::Divers),
            _ => None,
        }
    }
}

/// A line of a recorded sale or refund (module documentation for each member).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLine {
    pub line_no: LineId,
    pub product_id: Option<i64>,
    pub label: String,
    pub kind: StoredLineKind,
    pub grams: Option<i64>,
    pub qty: Option<i64>,
    pub unit_cents: Cents,
    pub manual_weight: bool,
    pub amount_cents: Cents,
    pub discount: Option<Discount>,
    pub discount_cents: Cents,
    pub cart_discount_cents: Cents,
    pub net_cents: Cents,
    pub vat_bp: u32,
}

/// A recorded sale or refund, as the tables (or its journal payload) hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSale {
    pub kiosk_id: String,
    /// The journal seq: the ticket number.
    pub seq: i64,
    pub kind: SaleKind,
    pub time_utc: String,
    /// The journal entry's hash (not part of the payload).
    pub hash: String,
    pub cashier_id: i64,
    pub cashier_name: String,
    pub cash_session: Option<i64>,
    pub training: bool,
    pub refund_of: Option<i64>,
    /// A refund that needed approval: who approved it (their PIN was typed).
    pub approved_by: Option<i64>,
    pub lines: Vec<StoredLine>,
    pub cart_discount: Option<Discount>,
    pub gross_cents: Cents,
    pub line_discounts_cents: Cents,
    pub cart_discount_cents: Cents,
    pub total_cents: Cents,
    pub vat: Vec<VatLine>,
    pub payments: Vec<Payment>,
    pub paid_cents: Cents,
    pub change_cents: Cents,
}

impl StoredSale {
    /// The ticket number (the journal seq).
    pub fn ticket(&self) -> i64 {
        self.seq
    }

    /// The sum paid with one method (negative for refunds).
    pub fn paid_with(&self, method: PaymentMethod) -> Cents {
        self.payments
            .iter()
            .filter(|p| p.method == method)
            .map(|p| p.cents)
            .sum()
    }

    /// The line `line_no`.
    pub fn line(&self, line_no: LineId) -> Option<&StoredLine> {
        self.lines.iter().find(|l| l.line_no == line_no)
    }
}
