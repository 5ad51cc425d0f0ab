//! A sale or refund entry's payload: written from a `StoredSale`, read back into one (the
//! members are listed in the module above).

use super::*;

impl StoredSale {
    /// The sale as the domain knows it (for refunds). Only for a sale, not a refund.
    pub fn to_domain(&self) -> Result<Sale, SalesError> {
        if self.kind != SaleKind::Sale {
            return Err(SalesError::NotASale(self.seq));
        }
        let lines = self
            .lines
            .iter()
            .map(|l| {
                let kind = match l.kind {
                    StoredLineKind::Weighed => LineKind::Weighed {
                        grams: l.grams.unwrap_or(0),
                        cents_per_kg: l.unit_cents,
                        manual: l.manual_weight,
                    },
                    StoredLineKind::Piece => {
                        let qty = l.qty.unwrap_or(0);
                        LineKind::Piece {
                            qty,
                            unit_cents: l.unit_cents,
                            avg_weight_g: l.grams.filter(|_| qty != 0).map(|g| g / qty),
                        }
                    }
                    StoredLineKind::Divers => LineKind::Divers {
                        cents: l.unit_cents,
                    },
                };
                Line {
                    id: l.line_no,
                    product_id: l.product_id.unwrap_or(0),
                    label: l.label.clone(),
                    vat_bp: l.vat_bp,
                    kind,
                    amount: l.amount_cents,
                    discount: l.discount,
                }
            })
            .collect();
        let line_totals = self
            .lines
            .iter()
            .map(|l| LineTotal {
                line_id: l.line_no,
                vat_bp: l.vat_bp,
                amount: l.amount_cents,
                line_discount: l.discount_cents,
                cart_discount: l.cart_discount_cents,
                net: l.net_cents,
            })
            .collect();
        Ok(Sale {
            seller: self.cashier_id,
            lines,
            cart_discount: self.cart_discount,
            totals: Totals {
                lines: line_totals,
                gross: self.gross_cents,
                line_discounts: self.line_discounts_cents,
                subtotal: self.gross_cents - self.line_discounts_cents,
                cart_discount: self.cart_discount_cents,
                total: self.total_cents,
                vat: self.vat.clone(),
            },
            settlement: Settlement {
                total: self.total_cents,
                payments: self.payments.clone(),
                paid: self.paid_cents,
                change_due: self.change_cents,
            },
        })
    }

    /// Reads a sale or refund back from its journal entry (the record itself), e.g. to print
    /// a receipt from the journal alone.
    pub fn from_entry(entry: &Entry) -> Result<StoredSale, SalesError> {
        let seq = entry.seq;
        let kind = SaleKind::from_code(&entry.kind).ok_or(SalesError::NotASale(seq))?;
        let map = entry.payload_value()?;
        let p = Reader { seq, map: &map };
        let lines = p
            .array("lines")?
            .iter()
            .map(|v| {
                let obj = v
                    .as_object()
                    .ok_or_else(|| p.bad("a line is not an object"))?;
                line_from_json(&Reader { seq, map: obj })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let vat = p
            .array("vat")?
            .iter()
            .map(|v| {
                let obj = v
                    .as_object()
                    .ok_or_else(|| p.bad("a vat line is not an object"))?;
                let r = Reader { seq, map: obj };
                Ok(VatLine {
                    rate_bp: r.bp("vat_bp")?,
                    ttc: r.int("ttc_cents")?,
                    ht: r.int("ht_cents")?,
                    vat: r.int("vat_cents")?,
                })
            })
            .collect::<Result<Vec<_>, SalesError>>()?;
        let payments = p
            .array("payments")?
            .iter()
            .map(|v| {
                let obj = v
                    .as_object()
                    .ok_or_else(|| p.bad("a payment is not an object"))?;
                let r = Reader { seq, map: obj };
                let method = PaymentMethod::from_code(r.str("method")?)
                    .ok_or_else(|| r.bad("unknown payment method"))?;
                Ok(Payment {
                    method,
                    cents: r.int("cents")?,
                })
            })
            .collect::<Result<Vec<_>, SalesError>>()?;
        Ok(StoredSale {
            kiosk_id: entry.kiosk_id.clone(),
            seq,
            kind,
            time_utc: entry.time_utc.clone(),
            hash: entry.hash.clone(),
            cashier_id: p.int("cashier_id")?,
            cashier_name: p.str("cashier_name")?.to_string(),
            cash_session: p.opt_int("cash_session")?,
            training: p.bool("training")?,
            refund_of: p.opt_int("refund_of")?,
            approved_by: if p.map.contains_key("approved_by") {
                p.opt_int("approved_by")?
            } else {
                None
            },
            lines,
            cart_discount: p.discount("cart_discount")?,
            gross_cents: p.int("gross_cents")?,
            line_discounts_cents: p.int("line_discounts_cents")?,
            cart_discount_cents: p.int("cart_discount_cents")?,
            total_cents: p.int("total_cents")?,
            vat,
            payments,
            paid_cents: p.int("paid_cents")?,
            change_cents: p.int("change_cents")?,
        })
    }
}

/// A discount in a payload: `{"by","kind","value"}`.
#[derive(serde::Serialize)]
pub(super) struct DiscountPayload {
    by: i64,
    kind: &'static str,
    value: i64,
}

pub(super) fn discount_payload(d: &Option<Discount>) -> Option<DiscountPayload> {
    d.as_ref().map(|d| {
        let (kind, value) = match d.kind {
            DiscountKind::Percent(bp) => ("percent", i64::from(bp)),
            DiscountKind::Amount(c) => ("amount", c),
        };
        DiscountPayload {
            by: d.given_by,
            kind,
            value,
        }
    })
}

pub(super) fn discount_from(
    kind: Option<&str>,
    value: Option<i64>,
    by: Option<i64>,
) -> Option<Discount> {
    let (kind, value, by) = (kind?, value?, by?);
    let kind = match kind {
        "percent" => DiscountKind::Percent(u32::try_from(value).ok()?),
        "amount" => DiscountKind::Amount(value),
        _ => return None,
    };
    Some(Discount { kind, given_by: by })
}

pub(super) fn discount_columns(
    d: &Option<Discount>,
) -> (Option<&'static str>, Option<i64>, Option<i64>) {
    match d {
        None => (None, None, None),
        Some(d) => match d.kind {
            DiscountKind::Percent(bp) => (Some("percent"), Some(i64::from(bp)), Some(d.given_by)),
            DiscountKind::Amount(c) => (Some("amount"), Some(c), Some(d.given_by)),
        },
    }
}

/// A sale or refund entry's payload, as written and as checked: the one definition of its
/// members. Members are declared in the byte order of their names, which is the order canonical
/// JSON sorts them in, and the payload holds only integers, booleans, text and null, which
/// serde_json writes as canonical JSON does: serializing it gives the canonical text directly
/// (`check_tables_agree` rebuilds a million of them; tested against `canonical_json`). The
/// journal's own members (`kind`, `kiosk_id`, `seq`, `time_utc`) are left out when writing:
/// `journal::append` adds them.
#[derive(serde::Serialize)]
pub(super) struct SalePayload<'a> {
    /// Only where there is one: entries written before approvals stay as they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    approved_by: Option<i64>,
    cart_discount: Option<DiscountPayload>,
    cart_discount_cents: Cents,
    cash_session: Option<i64>,
    cashier_id: i64,
    cashier_name: &'a str,
    change_cents: Cents,
    gross_cents: Cents,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kiosk_id: Option<&'a str>,
    line_discounts_cents: Cents,
    lines: Vec<LinePayload<'a>>,
    paid_cents: Cents,
    payments: Vec<PaymentPayload>,
    refund_of: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_utc: Option<&'a str>,
    total_cents: Cents,
    training: bool,
    vat: Vec<VatPayload>,
}

#[derive(serde::Serialize)]
pub(super) struct LinePayload<'a> {
    amount_cents: Cents,
    cart_discount_cents: Cents,
    discount: Option<DiscountPayload>,
    discount_cents: Cents,
    grams: Option<i64>,
    kind: &'static str,
    label: &'a str,
    line: LineId,
    manual_weight: bool,
    net_cents: Cents,
    product_id: Option<i64>,
    qty: Option<i64>,
    unit_cents: Cents,
    vat_bp: u32,
}

#[derive(serde::Serialize)]
pub(super) struct PaymentPayload {
    cents: Cents,
    method: &'static str,
}

#[derive(serde::Serialize)]
pub(super) struct VatPayload {
    ht_cents: Cents,
    ttc_cents: Cents,
    vat_bp: u32,
    vat_cents: Cents,
}

impl<'a> SalePayload<'a> {
    /// The body (`with_entry`: false) or the whole payload with the journal's members.
    pub(super) fn of(s: &'a StoredSale, with_entry: bool) -> Self {
        SalePayload {
            approved_by: s.approved_by,
            cart_discount: discount_payload(&s.cart_discount),
            cart_discount_cents: s.cart_discount_cents,
            cash_session: s.cash_session,
            cashier_id: s.cashier_id,
            cashier_name: &s.cashier_name,
            change_cents: s.change_cents,
            gross_cents: s.gross_cents,
            kind: with_entry.then(|| s.kind.code()),
            kiosk_id: with_entry.then_some(s.kiosk_id.as_str()),
            line_discounts_cents: s.line_discounts_cents,
            lines: s
                .lines
                .iter()
                .map(|l| LinePayload {
                    amount_cents: l.amount_cents,
                    cart_discount_cents: l.cart_discount_cents,
                    discount: discount_payload(&l.discount),
                    discount_cents: l.discount_cents,
                    grams: l.grams,
                    kind: l.kind.code(),
                    label: &l.label,
                    line: l.line_no,
                    manual_weight: l.manual_weight,
                    net_cents: l.net_cents,
                    product_id: l.product_id,
                    qty: l.qty,
                    unit_cents: l.unit_cents,
                    vat_bp: l.vat_bp,
                })
                .collect(),
            paid_cents: s.paid_cents,
            payments: s
                .payments
                .iter()
                .map(|p| PaymentPayload {
                    cents: p.cents,
                    method: p.method.code(),
                })
                .collect(),
            refund_of: s.refund_of,
            seq: with_entry.then_some(s.seq),
            time_utc: with_entry.then_some(s.time_utc.as_str()),
            total_cents: s.total_cents,
            training: s.training,
            vat: s
                .vat
                .iter()
                .map(|v| VatPayload {
                    ht_cents: v.ht,
                    ttc_cents: v.ttc,
                    vat_bp: v.rate_bp,
                    vat_cents: v.vat,
                })
                .collect(),
        }
    }
}

/// The payload body of a sale or refund (without the journal's own members).
pub fn payload_body(s: &StoredSale) -> Map<String, Value> {
    match serde_json::to_value(SalePayload::of(s, false)) {
        Ok(Value::Object(map)) => map,
        _ => unreachable!("a struct of integers, booleans and text serializes to an object"),
    }
}

/// Typed access to payload members, with errors naming the entry.
pub(super) struct Reader<'a> {
    seq: i64,
    map: &'a Map<String, Value>,
}

impl Reader<'_> {
    fn bad(&self, reason: impl Into<String>) -> SalesError {
        SalesError::Payload {
            seq: self.seq,
            reason: reason.into(),
        }
    }

    fn get(&self, key: &str) -> Result<&Value, SalesError> {
        self.map
            .get(key)
            .ok_or_else(|| self.bad(format!("{key} is missing")))
    }

    fn int(&self, key: &str) -> Result<i64, SalesError> {
        self.get(key)?
            .as_i64()
            .ok_or_else(|| self.bad(format!("{key} is not an integer")))
    }

    fn opt_int(&self, key: &str) -> Result<Option<i64>, SalesError> {
        match self.get(key)? {
            Value::Null => Ok(None),
            v => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.bad(format!("{key} is not an integer"))),
        }
    }

    fn bp(&self, key: &str) -> Result<u32, SalesError> {
        u32::try_from(self.int(key)?).map_err(|_| self.bad(format!("{key} is out of range")))
    }

    fn str(&self, key: &str) -> Result<&str, SalesError> {
        self.get(key)?
            .as_str()
            .ok_or_else(|| self.bad(format!("{key} is not text")))
    }

    fn bool(&self, key: &str) -> Result<bool, SalesError> {
        self.get(key)?
            .as_bool()
            .ok_or_else(|| self.bad(format!("{key} is not a boolean")))
    }

    fn array(&self, key: &str) -> Result<&Vec<Value>, SalesError> {
        self.get(key)?
            .as_array()
            .ok_or_else(|| self.bad(format!("{key} is not an array")))
    }

    fn discount(&self, key: &str) -> Result<Option<Discount>, SalesError> {
        match self.get(key)? {
            Value::Null => Ok(None),
            Value::Object(obj) => {
                let r = Reader {
                    seq: self.seq,
                    map: obj,
                };
                discount_from(
                    Some(r.str("kind")?),
                    Some(r.int("value")?),
                    Some(r.int("by")?),
                )
                .map(Some)
                .ok_or_else(|| self.bad(format!("{key} is not a discount")))
            }
            _ => Err(self.bad(format!("{key} is not a discount"))),
        }
    }
}

pub(super) fn line_from_json(r: &Reader<'_>) -> Result<StoredLine, SalesError> {
    Ok(StoredLine {
        line_no: u32::try_from(r.int("line")?).map_err(|_| r.bad("line is out of range"))?,
        product_id: r.opt_int("product_id")?,
        label: r.str("label")?.to_string(),
        kind: StoredLineKind::from_code(r.str("kind")?)
            .ok_or_else(|| r.bad("unknown line kind"))?,
        grams: r.opt_int("grams")?,
        qty: r.opt_int("qty")?,
        unit_cents: r.int("unit_cents")?,
        manual_weight: r.bool("manual_weight")?,
        amount_cents: r.int("amount_cents")?,
        discount: r.discount("discount")?,
        discount_cents: r.int("discount_cents")?,
        cart_discount_cents: r.int("cart_discount_cents")?,
        net_cents: r.int("net_cents")?,
        vat_bp: r.bp("vat_bp")?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::check::expected_payload;
    use super::*;
    use crate::store::journal::canonical_json;

    /// A refund with every optional member and a label canonical JSON must escape.
    fn odd_sale() -> StoredSale {
        let line = |line_no, discount| StoredLine {
            line_no,
            product_id: Some(7),
            label: "Tomates \"cœur\" \\ 漢\t\u{1}\u{7f} 🙂".into(),
            kind: StoredLineKind::Weighed,
            grams: Some(-1250),
            qty: None,
            unit_cents: 480,
            manual_weight: true,
            amount_cents: -600,
            discount,
            discount_cents: 0,
            cart_discount_cents: -12,
            net_cents: -588,
            vat_bp: 550,
        };
        StoredSale {
            kiosk_id: "kiosk-é".into(),
            seq: 1_000_213,
            kind: SaleKind::Refund,
            time_utc: "2026-06-13T08:42:05Z".into(),
            hash: String::new(),
            cashier_id: 3,
            cashier_name: "Aïcha\nB.".into(),
            cash_session: None,
            training: false,
            refund_of: Some(12),
            approved_by: Some(1),
            lines: vec![line(1, Some(Discount::percent(1000, 2))), line(2, None)],
            cart_discount: Some(Discount::amount(50, 2)),
            gross_cents: -1200,
            line_discounts_cents: 60,
            cart_discount_cents: 24,
            total_cents: -1176,
            vat: vec![VatLine {
                rate_bp: 550,
                ttc: -1176,
                ht: -1115,
                vat: -61,
            }],
            payments: vec![Payment {
                method: PaymentMethod::Cash,
                cents: -1176,
            }],
            paid_cents: -1176,
            change_cents: 0,
        }
    }

    #[test]
    fn the_payload_serializes_to_its_canonical_text() {
        for sale in [
            odd_sale(),
            StoredSale {
                approved_by: None,
                cart_discount: None,
                cash_session: Some(4),
                training: true,
                ..odd_sale()
            },
        ] {
            let text = expected_payload(&sale).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(text, canonical_json(&value).unwrap());
            // The body is the whole payload without the journal's members.
            let mut whole = payload_body(&sale);
            for member in ["kind", "kiosk_id", "seq", "time_utc"] {
                assert!(!whole.contains_key(member), "{member}");
                whole.insert(member.into(), value[member].clone());
            }
            assert_eq!(Value::Object(whole), value);
            assert_eq!(value["approved_by"].as_i64(), sale.approved_by);
            assert_eq!(value["lines"][0]["label"], sale.lines[0].label.as_str());
        }
    }
}
