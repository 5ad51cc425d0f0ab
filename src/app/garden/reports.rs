//! The garden lead's reports.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// The last 12 ISO weeks.
    Week,
    /// The last 12 months.
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    HarvestedKg,
    SoldKg,
    SoldCents,
    LossKg,
}

/// How many bars a chart shows.
pub const BARS: usize = 12;

/// One bar: its period's first day, value (grams or cents) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub start: NaiveDate,
    pub value: i64,
    pub text: String,
}

/// Per-period sums of one product or of all: grams harvested, sold, lost, and cents sold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    pub harvested_g: i64,
    pub sold_g: i64,
    pub sold_cents: i64,
    pub loss_g: i64,
}

/// A product's share of a report's range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopProduct {
    pub product_id: i64,
    pub name: String,
    pub icon: String,
    pub sold_cents: i64,
    pub sold_cents_text: String,
    pub sold_g: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub bars: Vec<Bar>,
    /// The highest bar (for the chart's scale), at least 1.
    pub max: i64,
    pub totals: Sums,
    pub harvested_text: String,
    pub sold_text: String,
    pub sold_cents_text: String,
    pub loss_text: String,
    pub top: Vec<TopProduct>,
    pub stock_value_cents: i64,
    pub stock_value_text: String,
    /// Sold over harvested, in basis points (kg); `None` when nothing was harvested.
    pub ratio_bp: Option<i64>,
    pub ratio_text: String,
}

/// The first days of the last [`BARS`] periods, oldest first, ending with the one holding
/// `today`.
pub fn period_starts(period: Period, today: NaiveDate) -> Vec<NaiveDate> {
    let mut starts = Vec::with_capacity(BARS + 1);
    match period {
        Period::Week => {
            let monday = iso_monday(today);
            for i in (0..BARS as i64).rev() {
                starts.push(monday - Duration::weeks(i));
            }
        }
        Period::Month => {
            let (mut y, mut m) = (today.year(), today.month() as i32);
            for _ in 0..BARS {
                starts.push(NaiveDate::from_ymd_opt(y, m as u32, 1).expect("first of month"));
                m -= 1;
                if m == 0 {
                    m = 12;
                    y -= 1;
                }
            }
            starts.reverse();
        }
    }
    starts
}

/// The day after the last period.
pub(super) fn period_end(period: Period, last: NaiveDate) -> NaiveDate {
    match period {
        Period::Week => last + Duration::weeks(1),
        Period::Month => last
            .checked_add_months(chrono::Months::new(1))
            .expect("a next month"),
    }
}

/// Sums per period and per product over the periods starting at `starts` (UTC boundaries of
/// local midnights): what the report and the exports' totals are made of.
pub fn sums_by_period(
    conn: &rusqlite::Connection,
    products: &[Product],
    starts: &[NaiveDate],
    end: NaiveDate,
    tz: chrono_tz::Tz,
) -> rusqlite::Result<Vec<HashMap<i64, Sums>>> {
    let bounds: Vec<String> = starts
        .iter()
        .copied()
        .chain(std::iter::once(end))
        .map(|d| local_midnight_utc(d, tz))
        .collect();
    let mut out: Vec<HashMap<i64, Sums>> = vec![HashMap::new(); starts.len()];
    let (first, last) = (&bounds[0], &bounds[bounds.len() - 1]);
    let bucket = |t: &str| -> Option<usize> {
        let i = bounds.partition_point(|b| b.as_str() <= t);
        (i >= 1 && i < bounds.len()).then(|| i - 1)
    };
    let grams = |id: i64, qty: i64| -> i64 {
        products
            .iter()
            .find(|p| p.id == id)
            .and_then(|p| to_grams(qty, gstore::unit_of(p.pricing), p.avg_weight_g))
            .unwrap_or(0)
    };
    // Harvests (every destination).
    let mut stmt = conn.prepare_cached(
        "SELECT time_utc, product_id, qty FROM harvests WHERE time_utc >= ?1 AND time_utc < ?2",
    )?;
    let mut rows = stmt.query([first, last])?;
    while let Some(r) = rows.next()? {
        let t: String = r.get(0)?;
        if let Some(b) = bucket(&t) {
            let id: i64 = r.get(1)?;
            out[b].entry(id).or_default().harvested_g += grams(id, r.get(2)?);
        }
    }
    // Losses.
    let mut stmt = conn.prepare_cached(
        "SELECT time_utc, product_id, qty FROM stock_moves
         WHERE kind = 'loss' AND time_utc >= ?1 AND time_utc < ?2",
    )?;
    let mut rows = stmt.query([first, last])?;
    while let Some(r) = rows.next()? {
        let t: String = r.get(0)?;
        if let Some(b) = bucket(&t) {
            let id: i64 = r.get(1)?;
            out[b].entry(id).or_default().loss_g += grams(id, r.get(2)?);
        }
    }
    // Sales and refunds (not training): the lines' net amounts and weights.
    let mut stmt = conn.prepare_cached(
        "SELECT s.time_utc, l.product_id, coalesce(l.grams, 0), l.net_cents
         FROM sales s JOIN sale_lines l ON l.kiosk_id = s.kiosk_id AND l.seq = s.seq
         WHERE s.training = 0 AND l.product_id IS NOT NULL
           AND s.time_utc >= ?1 AND s.time_utc < ?2",
    )?;
    let mut rows = stmt.query([first, last])?;
    while let Some(r) = rows.next()? {
        let t: String = r.get(0)?;
        if let Some(b) = bucket(&t) {
            let s = out[b].entry(r.get(1)?).or_default();
            s.sold_g += r.get::<_, i64>(2)?;
            s.sold_cents += r.get::<_, i64>(3)?;
        }
    }
    Ok(out)
}

/// A bar's short value: whole kilograms from 10 kg (`263 kg`), whole euros from 100 €.
pub fn bar_text(v: i64, metric: Metric, lang: Lang) -> String {
    let whole = |n: i64, d: i64| (n + d / 2 * n.signum()) / d;
    match metric {
        Metric::SoldCents if v.abs() >= 10_000 => match lang {
            Lang::Fr | Lang::Ar => format!("{}\u{a0}€", whole(v, 100)),
            _ => format!("€{}", whole(v, 100)),
        },
        Metric::SoldCents => format_money(v, lang),
        _ if v.abs() >= 10_000 => format!("{}\u{a0}kg", whole(v, 1000)),
        _ => crate::domain::weight::format_grams_short(v, lang),
    }
}

pub(super) fn ratio_text(bp: Option<i64>, lang: Lang) -> String {
    match bp {
        None => "–".into(),
        Some(bp) => {
            let sep = lang.decimal_separator();
            format!("{}{}{}\u{a0}%", bp / 100, sep, (bp % 100) / 10)
        }
    }
}

/// The report for the kiosk's current choices.
pub fn report(kiosk: &Kiosk) -> Result<Report, GardenFlowError> {
    let g = &kiosk.garden;
    report_for(kiosk, g.period, g.metric, g.report_product)
}

pub fn report_for(
    kiosk: &Kiosk,
    period: Period,
    metric: Metric,
    product: Option<i64>,
) -> Result<Report, GardenFlowError> {
    let conn = kiosk.store.conn();
    let tz = kiosk.config.tz();
    let lang = kiosk.lang();
    let today = kiosk.clock.now().with_timezone(&tz).date_naive();
    let products = catalog::active_products(conn)?;
    let starts = period_starts(period, today);
    let end = period_end(period, *starts.last().expect("bars"));
    let sums = sums_by_period(conn, &products, &starts, end, tz)?;
    let pick = |m: &HashMap<i64, Sums>| -> Sums {
        m.iter()
            .filter(|(id, _)| product.is_none_or(|p| p == **id))
            .fold(Sums::default(), |a, (_, s)| Sums {
                harvested_g: a.harvested_g + s.harvested_g,
                sold_g: a.sold_g + s.sold_g,
                sold_cents: a.sold_cents + s.sold_cents,
                loss_g: a.loss_g + s.loss_g,
            })
    };
    let per: Vec<Sums> = sums.iter().map(pick).collect();
    let value = |s: &Sums| match metric {
        Metric::HarvestedKg => s.harvested_g,
        Metric::SoldKg => s.sold_g,
        Metric::SoldCents => s.sold_cents,
        Metric::LossKg => s.loss_g,
    };
    let text = |v: i64| bar_text(v, metric, lang);
    let bars: Vec<Bar> = starts
        .iter()
        .zip(&per)
        .map(|(start, s)| Bar {
            start: *start,
            value: value(s),
            text: text(value(s)),
        })
        .collect();
    let totals = per.iter().fold(Sums::default(), |a, s| Sums {
        harvested_g: a.harvested_g + s.harvested_g,
        sold_g: a.sold_g + s.sold_g,
        sold_cents: a.sold_cents + s.sold_cents,
        loss_g: a.loss_g + s.loss_g,
    });
    let mut by_product: HashMap<i64, Sums> = HashMap::new();
    for m in &sums {
        for (id, s) in m {
            let e = by_product.entry(*id).or_default();
            e.sold_cents += s.sold_cents;
            e.sold_g += s.sold_g;
        }
    }
    let mut top: Vec<TopProduct> = products
        .iter()
        .filter_map(|p| {
            let s = by_product.get(&p.id)?;
            Some(TopProduct {
                product_id: p.id,
                name: p.name.clone(),
                icon: p.icon.clone(),
                sold_cents: s.sold_cents,
                sold_cents_text: format_money(s.sold_cents, lang),
                sold_g: s.sold_g,
            })
        })
        .filter(|t| t.sold_cents > 0)
        .collect();
    top.sort_by_key(|t| (-t.sold_cents, t.product_id));
    top.truncate(5);
    let on_hand = gstore::all_on_hand(conn)?;
    let stock_value_cents: i64 = products
        .iter()
        .filter(|p| product.is_none_or(|id| id == p.id))
        .map(|p| value_of(p, on_hand.get(&p.id).copied().unwrap_or(0)))
        .sum();
    let ratio_bp = (totals.harvested_g > 0)
        .then(|| crate::domain::money::mul_div_round(totals.sold_g, 10_000, totals.harvested_g))
        .flatten();
    Ok(Report {
        max: bars.iter().map(|b| b.value).max().unwrap_or(0).max(1),
        bars,
        harvested_text: format_kg(totals.harvested_g, lang),
        sold_text: format_kg(totals.sold_g, lang),
        sold_cents_text: format_money(totals.sold_cents, lang),
        loss_text: format_kg(totals.loss_g, lang),
        totals,
        top,
        stock_value_text: format_money(stock_value_cents, lang),
        stock_value_cents,
        ratio_text: ratio_text(ratio_bp, lang),
        ratio_bp,
    })
}
