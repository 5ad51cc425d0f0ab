//! The customer's receipt of a sale or refund, in French whatever the interface language: a
//! receipt is a legal document.
//!
//! Contents (issue "Sell at the stall", Receipts): the association's name, address and SIRET;
//! the ticket number (the journal seq), date and time in the kiosk's time zone, the register
//! (the first 8 characters of the kiosk id) and the cashier; each line with its label, net kg
//! (3 decimals) or quantity, unit price, amount and VAT rate, "pesée manuelle" under a weight
//! typed by hand, discounts; the total; the VAT breakdown per rate, or "TVA non applicable,
//! art. 293 B du CGI" under the VAT franchise; payments and change; "DUPLICATA" on a copy; a
//! training banner; a QR code ([`qr_payload`]) with the ticket number and the start of the
//! entry's hash, also printed in clear; a footer.
//!
//! Amounts and weights come from the domain formatters (French: U+202F between thousands,
//! U+00A0 before `€` and `kg`). Both printer modes take them: the raster font has both glyphs,
//! and the text-mode encoder prints them as plain spaces, so no `ascii_spaces` is needed.

use chrono::DateTime;
use comptoir_hardware::printer::{Align, Column, Receipt, Style};

use crate::config::Config;
use crate::domain::cart::{DiscountKind, PaymentMethod};
use crate::domain::money::{format_money, Lang};
use crate::domain::vat::format_rate;
use crate::domain::weight::format_kg;
use crate::store::sales::{SaleKind, StoredLineKind, StoredSale};

const FR: Lang = Lang::Fr;

/// The training banner, printed at the top and the bottom of a training ticket.
pub const TRAINING_BANNER: &str = "FORMATION — ne vaut pas ticket";
/// The mention of the VAT franchise (article 293 B of the French tax code).
pub const VAT_FRANCHISE_MENTION: &str = "TVA non applicable, art. 293 B du CGI";

/// The register's short name: the first 8 characters of the kiosk id.
pub fn register_name(kiosk_id: &str) -> String {
    kiosk_id.chars().take(8).collect()
}

/// The QR code of a ticket: `comptoir:<register>:<ticket>:<first 16 hex digits of its hash>`,
/// enough to find the entry and check it against the journal.
pub fn qr_payload(sale: &StoredSale) -> String {
    format!(
        "comptoir:{}:{}:{}",
        register_name(&sale.kiosk_id),
        sale.seq,
        hash_prefix(sale)
    )
}

fn hash_prefix(sale: &StoredSale) -> String {
    sale.hash.chars().take(16).collect()
}

/// How a payment method is named on receipts.
pub fn method_label(method: PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::Cash => "Espèces",
        PaymentMethod::Card => "Carte bancaire",
        PaymentMethod::Cheque => "Chèque",
        PaymentMethod::Credits => "Bons compost",
    }
}

/// The local date and time of an entry: `13/06/2026 10:42:05`.
fn local_time(time_utc: &str, tz: chrono_tz::Tz) -> String {
    match DateTime::parse_from_rfc3339(time_utc) {
        Ok(t) => t.with_timezone(&tz).format("%d/%m/%Y %H:%M:%S").to_string(),
        Err(_) => time_utc.to_string(),
    }
}

/// An indented detail under a line (the layout trims leading spaces of text).
fn detail_row(text: impl Into<String>) -> Vec<Column> {
    vec![
        Column::new("", 2, Align::Left),
        Column::new(text, 0, Align::Left),
    ]
}

fn amount_row(left: impl Into<String>, cents: i64, rate: Option<String>) -> Vec<Column> {
    let mut row = vec![
        Column::new(left, 0, Align::Left),
        Column::new(format_money(cents, FR), 11, Align::Right),
    ];
    if let Some(rate) = rate {
        row.push(Column::new(rate, 7, Align::Right));
    }
    row
}

/// The mention on receipts of weighed goods when the scale is not legal-for-trade
/// (`[selling] legal_for_trade = false`).
pub const UNCERTIFIED_MENTION: &str = "Données métrologiques non certifiées";

/// The receipt of a recorded sale or refund, as the config describes the association.
/// `duplicate` prints "DUPLICATA" (every copy after the first). Under the VAT franchise the
/// VAT breakdown gives way to the article 293 B mention; on a scale that is not
/// legal-for-trade, weighed lines carry the "non certifiées" mention.
pub fn receipt_for(sale: &StoredSale, config: &Config, duplicate: bool) -> Receipt {
    let association = &config.association;
    let vat_franchise = association.vat_franchise;
    let tz = config.tz();
    let uncertified = !config.selling.legal_for_trade
        && sale.lines.iter().any(|l| l.kind == StoredLineKind::Weighed);
    let refund = sale.kind == SaleKind::Refund;
    let rate = |bp: u32| (!vat_franchise).then(|| format_rate(bp, FR));
    // Discount rows keep their amounts in the line amounts' column.
    let blank = || (!vat_franchise).then(String::new);
    let mut r = Receipt::new().text(association.name.clone(), Style::center().bold().double());
    if !association.address.trim().is_empty() {
        r = r.text(association.address.clone(), Style::center());
    }
    if !association.siret.trim().is_empty() {
        r = r.text(format!("SIRET {}", association.siret), Style::center());
    }
    if sale.training {
        r = r.separator().text(TRAINING_BANNER, Style::center().bold());
    }
    if duplicate {
        r = r.text("DUPLICATA", Style::center().bold().double());
    }
    r = r.separator();
    if refund {
        r = r.text("REMBOURSEMENT", Style::center().bold());
        if let Some(of) = sale.refund_of {
            r = r.text(format!("du ticket n° {of}"), Style::center());
        }
    }
    r = r
        .bold_columns(vec![
            Column::new(format!("Ticket n° {}", sale.seq), 0, Align::Left),
            Column::new(local_time(&sale.time_utc, tz), 19, Align::Right),
        ])
        .line(format!(
            "Caisse {} · Vendeur : {}",
            register_name(&sale.kiosk_id),
            sale.cashier_name
        ))
        .separator();

    for l in &sale.lines {
        r = r.columns(amount_row(l.label.clone(), l.amount_cents, rate(l.vat_bp)));
        let detail = match l.kind {
            StoredLineKind::Weighed => Some(format!(
                "{} × {}/kg",
                format_kg(l.grams.unwrap_or(0).abs(), FR),
                format_money(l.unit_cents, FR)
            )),
            StoredLineKind::Piece => Some(format!(
                "{} × {}",
                l.qty.unwrap_or(0).abs(),
                format_money(l.unit_cents, FR)
            )),
            StoredLineKind::Divers => None,
        };
        if let Some(detail) = detail {
            r = r.columns(detail_row(detail));
        }
        if l.manual_weight {
            r = r.columns(detail_row("pesée manuelle"));
        }
        if l.discount_cents != 0 {
            let what = match l.discount.map(|d| d.kind) {
                Some(DiscountKind::Percent(bp)) => format!("  Remise {}", format_rate(bp, FR)),
                _ => "  Remise".to_string(),
            };
            r = r.columns(amount_row(what, -l.discount_cents, blank()));
        }
    }
    if sale.cart_discount_cents != 0 {
        let what = match sale.cart_discount.map(|d| d.kind) {
            Some(DiscountKind::Percent(bp)) => {
                format!("Remise sur le ticket {}", format_rate(bp, FR))
            }
            _ => "Remise sur le ticket".to_string(),
        };
        r = r.columns(amount_row(what, -sale.cart_discount_cents, blank()));
    }
    if uncertified {
        r = r.text(UNCERTIFIED_MENTION, Style::left().bold());
    }
    r = r.separator().bold_columns(vec![
        Column::new(
            if refund {
                "TOTAL REMBOURSÉ"
            } else {
                "TOTAL TTC"
            },
            0,
            Align::Left,
        ),
        Column::new(format_money(sale.total_cents, FR), 14, Align::Right),
    ]);

    if vat_franchise {
        r = r.text(VAT_FRANCHISE_MENTION, Style::left());
    } else {
        r = r.columns(vec![
            Column::new("Taux", 0, Align::Left),
            Column::new("HT", 9, Align::Right),
            Column::new("TVA", 8, Align::Right),
            Column::new("TTC", 9, Align::Right),
        ]);
        for v in &sale.vat {
            r = r.columns(vec![
                Column::new(format_rate(v.rate_bp, FR), 0, Align::Left),
                Column::new(format_money(v.ht, FR), 9, Align::Right),
                Column::new(format_money(v.vat, FR), 8, Align::Right),
                Column::new(format_money(v.ttc, FR), 9, Align::Right),
            ]);
        }
    }

    r = r.separator();
    for p in &sale.payments {
        r = r.columns(amount_row(method_label(p.method), p.cents, None));
    }
    if sale.change_cents != 0 || sale.paid_with(PaymentMethod::Cash) > 0 {
        r = r.columns(amount_row("Rendu", sale.change_cents, None));
    }

    r = r
        .separator()
        .text("Merci de votre visite, à bientôt !", Style::center())
        .text(
            "Légumes cultivés par les habitants du quartier.",
            Style::center(),
        );
    if sale.training {
        r = r.text(TRAINING_BANNER, Style::center().bold());
    }
    if duplicate {
        r = r.text("DUPLICATA", Style::center().bold());
    }
    r.feed(1)
        .qr(qr_payload(sale))
        .text(
            format!("Ticket n° {} · {}", sale.seq, hash_prefix(sale)),
            Style::center(),
        )
        .cut()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Association;
    use crate::domain::cart::{Discount, Payment};
    use crate::domain::vat::VatLine;
    use crate::store::sales::StoredLine;
    use comptoir_hardware::printer::{encode_text, Block, CodePage, Paper};

    fn sale() -> StoredSale {
        StoredSale {
            kiosk_id: "1a2b3c4d-0000-4000-8000-000000000000".into(),
            seq: 42,
            kind: SaleKind::Sale,
            time_utc: "2026-06-13T08:42:05Z".into(),
            hash: "0123456789abcdef".repeat(4),
            cashier_id: 3,
            cashier_name: "Amina".into(),
            cash_session: None,
            training: false,
            refund_of: None,
            approved_by: None,
            lines: vec![
                StoredLine {
                    line_no: 1,
                    product_id: Some(10),
                    label: "Tomates".into(),
                    kind: StoredLineKind::Weighed,
                    grams: Some(1234),
                    qty: None,
                    unit_cents: 350,
                    manual_weight: true,
                    amount_cents: 432,
                    discount: Some(Discount::percent(1000, 1)),
                    discount_cents: 43,
                    cart_discount_cents: 0,
                    net_cents: 389,
                    vat_bp: 550,
                },
                StoredLine {
                    line_no: 2,
                    product_id: Some(11),
                    label: "Salade batavia".into(),
                    kind: StoredLineKind::Piece,
                    grams: None,
                    qty: Some(2),
                    unit_cents: 120,
                    manual_weight: false,
                    amount_cents: 240,
                    discount: None,
                    discount_cents: 0,
                    cart_discount_cents: 0,
                    net_cents: 240,
                    vat_bp: 550,
                },
            ],
            cart_discount: None,
            gross_cents: 672,
            line_discounts_cents: 43,
            cart_discount_cents: 0,
            total_cents: 629,
            vat: vec![VatLine {
                rate_bp: 550,
                ttc: 629,
                ht: 596,
                vat: 33,
            }],
            payments: vec![Payment {
                method: PaymentMethod::Cash,
                cents: 1000,
            }],
            paid_cents: 1000,
            change_cents: 371,
        }
    }

    fn text_of(r: &Receipt) -> String {
        let bytes = encode_text(r, Paper::Mm80, CodePage::Wpc1252);
        let text: String = bytes.iter().map(|&b| CodePage::Wpc1252.decode(b)).collect();
        crate::domain::money::ascii_spaces(&text)
    }

    #[test]
    fn a_receipt_says_what_the_law_asks() {
        let config = Config {
            association: Association {
                name: "Jardin des 1000 fleurs".into(),
                address: "12 rue des Lilas, 54520 Laxou".into(),
                siret: "123 456 789 00012".into(),
                vat_franchise: false,
            },
            ..Config::default()
        };
        let r = receipt_for(&sale(), &config, false);
        let text = text_of(&r);
        for needle in [
            "Jardin des 1000 fleurs",
            "12 rue des Lilas",
            "SIRET 123 456 789 00012",
            "Ticket n° 42",
            "13/06/2026 10:42:05",
            "Caisse 1a2b3c4d",
            "Amina",
            "1,234 kg × 3,50 €/kg",
            "pesée manuelle",
            "2 × 1,20 €",
            "Remise 10 %",
            "-0,43 €",
            "TOTAL TTC",
            "6,29 €",
            "5,96 €",
            "0,33 €",
            "Espèces",
            "Rendu",
            "3,71 €",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from\n{text}");
        }
        assert!(!text.contains("DUPLICATA"));
        assert!(!text.contains("FORMATION"));
        assert!(!text.contains("non certifiées"));
        assert!(r
            .blocks
            .contains(&Block::Qr("comptoir:1a2b3c4d:42:0123456789abcdef".into())));
    }

    #[test]
    fn duplicates_training_and_vat_franchise_are_marked() {
        let mut s = sale();
        s.training = true;
        let mut config = Config::default();
        config.association.vat_franchise = true;
        let r = receipt_for(&s, &config, true);
        let text = text_of(&r);
        assert!(text.contains("DUPLICATA"));
        assert!(text.contains("FORMATION - ne vaut pas ticket") || text.contains("FORMATION"));
        assert!(text.contains(VAT_FRANCHISE_MENTION));
        assert!(!text.contains("Taux"));
    }

    #[test]
    fn weighed_goods_on_an_uncertified_scale_are_marked() {
        let mut config = Config::default();
        config.selling.legal_for_trade = false;
        let text = text_of(&receipt_for(&sale(), &config, false));
        assert!(text.contains(UNCERTIFIED_MENTION), "{text}");
        // A ticket without weighed goods needs no mention.
        let mut s = sale();
        s.lines.retain(|l| l.kind != StoredLineKind::Weighed);
        let text = text_of(&receipt_for(&s, &config, false));
        assert!(!text.contains("non certifiées"), "{text}");
    }
}
