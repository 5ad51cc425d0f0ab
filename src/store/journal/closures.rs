//! Closures: the sums of a period's sales and the signed entry that closes it.

use super::*;

/// The period a closure covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Day,
    Month,
    Year,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Month => "month",
            Period::Year => "year",
        }
    }

    pub fn parse(text: &str) -> Option<Period> {
        match text {
            "day" => Some(Period::Day),
            "month" => Some(Period::Month),
            "year" => Some(Period::Year),
            _ => None,
        }
    }
}

/// Totals for one VAT rate (basis points), all in cents, VAT included in `ttc_cents`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VatTotal {
    pub vat_bp: i64,
    pub ttc_cents: i64,
    pub ht_cents: i64,
    pub vat_cents: i64,
}

/// The sums of the `sale` and `refund` entries in a range of seqs ([`sum_sales`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SalesTotals {
    /// Sales plus refunds (training entries excluded).
    pub ticket_count: i64,
    pub sale_count: i64,
    pub refund_count: i64,
    /// Entries marked `"training":true`, left out of every other figure.
    pub training_count: i64,
    /// Sum of `total_cents` (refunds are negative).
    pub total_cents: i64,
    /// Sums of the `vat` lines, by ascending rate.
    pub by_vat_rate: Vec<VatTotal>,
}

pub(super) fn payload_i64(seq: i64, map: &Map<String, Value>, key: &str) -> Result<i64> {
    map.get(key)
        .and_then(Value::as_i64)
        .ok_or_else(|| JournalError::Payload {
            seq,
            reason: format!("{key} is missing or not an integer"),
        })
}

/// Sums the `sale` and `refund` entries with `first_seq <= seq <= last_seq`, from their payload
/// fields `total_cents` (required) and `vat` (optional lines `vat_bp`, `ttc_cents`, `ht_cents`,
/// `vat_cents`); entries with `"training":true` are only counted in `training_count`.
pub fn sum_sales(conn: &Connection, first_seq: i64, last_seq: i64) -> Result<SalesTotals> {
    let kiosk = kiosk_id(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, kind, payload FROM journal
         WHERE kiosk_id = ?1 AND seq BETWEEN ?2 AND ?3 AND kind IN ('sale', 'refund')
         ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![kiosk, first_seq, last_seq])?;
    let mut totals = SalesTotals::default();
    let mut by_rate: BTreeMap<i64, VatTotal> = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let kind: String = row.get(1)?;
        let payload: String = row.get(2)?;
        let map: Map<String, Value> =
            serde_json::from_str(&payload).map_err(|e| JournalError::Payload {
                seq,
                reason: e.to_string(),
            })?;
        if map.get("training").and_then(Value::as_bool) == Some(true) {
            totals.training_count += 1;
            continue;
        }
        totals.total_cents += payload_i64(seq, &map, "total_cents")?;
        totals.ticket_count += 1;
        if kind == KIND_SALE {
            totals.sale_count += 1;
        } else {
            totals.refund_count += 1;
        }
        match map.get("vat") {
            None | Some(Value::Null) => {}
            Some(Value::Array(lines)) => {
                for line in lines {
                    let Value::Object(line) = line else {
                        return Err(JournalError::Payload {
                            seq,
                            reason: "a vat line is not an object".into(),
                        });
                    };
                    let rate = payload_i64(seq, line, "vat_bp")?;
                    let sum = by_rate.entry(rate).or_insert(VatTotal {
                        vat_bp: rate,
                        ..VatTotal::default()
                    });
                    sum.ttc_cents += payload_i64(seq, line, "ttc_cents")?;
                    sum.ht_cents += payload_i64(seq, line, "ht_cents")?;
                    sum.vat_cents += payload_i64(seq, line, "vat_cents")?;
                }
            }
            Some(_) => {
                return Err(JournalError::Payload {
                    seq,
                    reason: "vat is not an array".into(),
                })
            }
        }
    }
    totals.by_vat_rate = by_rate.into_values().collect();
    Ok(totals)
}

/// The figures of one closure. Computing them (which seqs a local day covers...) is the
/// selling code's job; [`sum_sales`] and [`last_closure`] help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosureFigures {
    pub period: Period,
    /// First and last local dates of the period, both inclusive.
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The time zone of those dates (e.g. `Europe/Paris`).
    pub timezone: String,
    /// The journal entries the period covers, both inclusive (`last_seq = first_seq - 1` for
    /// an empty period).
    pub first_seq: i64,
    pub last_seq: i64,
    pub ticket_count: i64,
    pub totals_by_vat_rate: Vec<VatTotal>,
    pub period_total_cents: i64,
    /// The perpetual grand total: every sale since the first, refunds deducted.
    pub grand_total_cents: i64,
}

impl ClosureFigures {
    /// Figures from [`sum_sales`] over `first_seq..=last_seq`; the grand total is
    /// `previous_grand_total_cents` (of the last closure of the same period kind, 0 for the
    /// first) plus this period's total.
    #[allow(clippy::too_many_arguments)]
    pub fn from_totals(
        period: Period,
        period_start: NaiveDate,
        period_end: NaiveDate,
        timezone: &str,
        first_seq: i64,
        last_seq: i64,
        totals: &SalesTotals,
        previous_grand_total_cents: i64,
    ) -> ClosureFigures {
        ClosureFigures {
            period,
            period_start,
            period_end,
            timezone: timezone.into(),
            first_seq,
            last_seq,
            ticket_count: totals.ticket_count,
            totals_by_vat_rate: totals.by_vat_rate.clone(),
            period_total_cents: totals.total_cents,
            grand_total_cents: previous_grand_total_cents + totals.total_cents,
        }
    }
}

/// The body of a closure entry (its figures); [`append_closure`] adds `key_seq`, `prev_hash`
/// and `signature`. Members: `period` (`day`, `month`, `year`), `period_start`, `period_end`
/// (`YYYY-MM-DD`), `timezone`, `first_seq`, `last_seq`, `ticket_count`, `totals_by_vat_rate`
/// (`[{"ht_cents","ttc_cents","vat_bp","vat_cents"}]` by ascending rate), `period_total_cents`,
/// `grand_total_cents`.
pub fn closure_body(figures: &ClosureFigures) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("period".into(), figures.period.as_str().into());
    body.insert(
        "period_start".into(),
        figures.period_start.format("%Y-%m-%d").to_string().into(),
    );
    body.insert(
        "period_end".into(),
        figures.period_end.format("%Y-%m-%d").to_string().into(),
    );
    body.insert("timezone".into(), figures.timezone.clone().into());
    body.insert("first_seq".into(), figures.first_seq.into());
    body.insert("last_seq".into(), figures.last_seq.into());
    body.insert("ticket_count".into(), figures.ticket_count.into());
    let mut rates = figures.totals_by_vat_rate.clone();
    rates.sort_by_key(|r| r.vat_bp);
    let rates: Vec<Value> = rates
        .iter()
        .map(|r| {
            serde_json::json!({
                "vat_bp": r.vat_bp,
                "ttc_cents": r.ttc_cents,
                "ht_cents": r.ht_cents,
                "vat_cents": r.vat_cents,
            })
        })
        .collect();
    body.insert("totals_by_vat_rate".into(), Value::Array(rates));
    body.insert(
        "period_total_cents".into(),
        figures.period_total_cents.into(),
    );
    body.insert("grand_total_cents".into(), figures.grand_total_cents.into());
    body
}

/// Appends a signed closure entry. `key` must be the most recently registered key (get it
/// with [`ensure_signing_key`]); otherwise `KeyMismatch`.
pub fn append_closure(
    conn: &Connection,
    time_utc: DateTime<Utc>,
    figures: &ClosureFigures,
    key: &SigningKey,
) -> Result<Entry> {
    let registered = registered_key(conn)?.ok_or_else(|| {
        JournalError::Invalid("no key registered: call ensure_signing_key first".into())
    })?;
    if registered.public_key != key.verifying_key() {
        return Err(JournalError::KeyMismatch {
            path: PathBuf::from("(given key)"),
        });
    }
    append_inner(
        conn,
        KIND_CLOSURE,
        time_utc,
        closure_body(figures),
        Signing::Closure {
            key,
            key_seq: registered.seq,
        },
    )
}

/// What [`last_closure`] tells of a closure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosureSummary {
    pub seq: i64,
    pub period: Period,
    pub period_end: NaiveDate,
    pub last_seq: i64,
    pub grand_total_cents: i64,
}

/// The newest closure of `period` that no later [`KIND_CLOSURE_VOIDED`] entry names.
pub fn last_closure(conn: &Connection, period: Period) -> Result<Option<ClosureSummary>> {
    let kiosk = kiosk_id(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, payload FROM journal INDEXED BY journal_by_kind
         WHERE kiosk_id = ?1 AND kind = 'closure'
         AND json_extract(payload, '$.period') = ?2
         AND seq NOT IN (SELECT json_extract(payload, '$.closure_seq')
                         FROM journal INDEXED BY journal_by_kind
                         WHERE kiosk_id = ?1 AND kind = 'closure_voided')
         ORDER BY seq DESC LIMIT 1",
    )?;
    let found: Option<(i64, String)> = stmt
        .query_row(params![kiosk, period.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((seq, payload)) = found else {
        return Ok(None);
    };
    let map: Map<String, Value> =
        serde_json::from_str(&payload).map_err(|e| JournalError::Payload {
            seq,
            reason: e.to_string(),
        })?;
    let period_end = map
        .get("period_end")
        .and_then(Value::as_str)
        .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
        .ok_or_else(|| JournalError::Payload {
            seq,
            reason: "bad period_end".into(),
        })?;
    Ok(Some(ClosureSummary {
        seq,
        period,
        period_end,
        last_seq: payload_i64(seq, &map, "last_seq")?,
        grand_total_cents: payload_i64(seq, &map, "grand_total_cents")?,
    }))
}
