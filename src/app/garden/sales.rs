//! Sales of the day and the week, for the garden lead.

use super::*;

/// One product's sales over a span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSales {
    pub product_id: Option<i64>,
    pub name: String,
    pub icon: String,
    pub unit: StockUnit,
    /// Grams (weighed) or pieces, net of refunds.
    pub qty: i64,
    pub qty_text: String,
    pub cents: i64,
    pub cents_text: String,
}

/// One payment method's takings over a span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodSales {
    pub method: String,
    pub cents: i64,
    pub cents_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesSpan {
    pub products: Vec<ProductSales>,
    pub methods: Vec<MethodSales>,
    pub tickets: i64,
    pub total_cents: i64,
    pub total_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesSummary {
    pub today: SalesSpan,
    pub week: SalesSpan,
}

/// Sales (not training) from `from_utc` to `to_utc` by product and by payment method.
pub fn sales_span(
    conn: &rusqlite::Connection,
    from_utc: &str,
    to_utc: &str,
    lang: Lang,
) -> rusqlite::Result<SalesSpan> {
    let products: HashMap<i64, Product> = catalog::active_products(conn)?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut stmt = conn.prepare_cached(
        "SELECT l.product_id, min(l.label), l.kind, sum(coalesce(l.grams, 0)),
                sum(coalesce(l.qty, 0)), sum(l.net_cents)
         FROM sales s JOIN sale_lines l ON l.kiosk_id = s.kiosk_id AND l.seq = s.seq
         WHERE s.training = 0 AND s.time_utc >= ?1 AND s.time_utc < ?2
         GROUP BY l.product_id, l.kind ORDER BY sum(l.net_cents) DESC",
    )?;
    let mut out = Vec::new();
    let mut rows = stmt.query([from_utc, to_utc])?;
    while let Some(r) = rows.next()? {
        let id: Option<i64> = r.get(0)?;
        let label: String = r.get(1)?;
        let kind: String = r.get(2)?;
        let (grams, pieces, cents): (i64, i64, i64) = (r.get(3)?, r.get(4)?, r.get(5)?);
        let unit = if kind == "weighed" {
            StockUnit::Grams
        } else {
            StockUnit::Pieces
        };
        let qty = if unit == StockUnit::Grams {
            grams
        } else {
            pieces
        };
        let p = id.and_then(|id| products.get(&id));
        out.push(ProductSales {
            product_id: id,
            name: p.map_or(label, |p| p.name.clone()),
            icon: p.map_or("harvest".into(), |p| p.icon.clone()),
            unit,
            qty,
            qty_text: if kind == "divers" {
                String::new()
            } else {
                format_qty(qty, unit, lang)
            },
            cents,
            cents_text: format_money(cents, lang),
        });
    }
    let mut stmt = conn.prepare_cached(
        "SELECT p.method, sum(p.amount_cents) FROM sales s
         JOIN sale_payments p ON p.kiosk_id = s.kiosk_id AND p.seq = s.seq
         WHERE s.training = 0 AND s.time_utc >= ?1 AND s.time_utc < ?2
         GROUP BY p.method",
    )?;
    let mut by_method: HashMap<String, i64> = HashMap::new();
    let mut rows = stmt.query([from_utc, to_utc])?;
    while let Some(r) = rows.next()? {
        by_method.insert(r.get(0)?, r.get(1)?);
    }
    // Change given back in cash is not takings.
    let (tickets, change, total): (i64, i64, i64) = conn.query_row(
        "SELECT count(*) FILTER (WHERE kind = 'sale'), coalesce(sum(change_cents), 0),
                coalesce(sum(total_cents), 0)
         FROM sales WHERE training = 0 AND time_utc >= ?1 AND time_utc < ?2",
        [from_utc, to_utc],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if let Some(cash) = by_method.get_mut("cash") {
        *cash -= change;
    }
    let methods = ["cash", "card", "cheque", "credits"]
        .into_iter()
        .filter_map(|m| {
            by_method.get(m).map(|c| MethodSales {
                method: m.into(),
                cents: *c,
                cents_text: format_money(*c, lang),
            })
        })
        .collect();
    Ok(SalesSpan {
        products: out,
        methods,
        tickets,
        total_cents: total,
        total_text: format_money(total, lang),
    })
}

/// Today's and this ISO week's sales.
pub fn sales_summary(kiosk: &Kiosk) -> Result<SalesSummary, GardenFlowError> {
    let conn = kiosk.store.conn();
    let tz = kiosk.config.tz();
    let now: DateTime<Utc> = kiosk.clock.now();
    let today = now.with_timezone(&tz).date_naive();
    let end = local_midnight_utc(today + Duration::days(1), tz);
    let lang = kiosk.lang();
    Ok(SalesSummary {
        today: sales_span(conn, &local_midnight_utc(today, tz), &end, lang)?,
        week: sales_span(conn, &local_midnight_utc(iso_monday(today), tz), &end, lang)?,
    })
}
