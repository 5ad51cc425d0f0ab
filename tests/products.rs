//! The catalogue admin through the UI: add a product by touch, change its price (the history
//! keeps the old one, past sales keep theirs), retire and bring it back, refusals that change
//! nothing, sellers kept out; price signs queued for the printer and decoded.

use comptoir::app::products;
use comptoir::store::catalog;
use comptoir::ui::{AdminProductsAdapter, Screen, Ui};

use slint::{ComponentHandle, Model};

use crate::common::{by_id, count, demo_ui, label, screen, sign_in, tap, type_digits, Register};

fn open_products(ui: &Ui) {
    tap(ui, "area-admin");
    sign_in(ui, "Admin", "1234");
    tap(ui, "tab-products");
    assert_eq!(screen(ui), Screen::AdminProducts);
}

fn type_text(ui: &Ui, text: &str) {
    for c in text.chars() {
        let id = format!("kb-{}", c.to_lowercase());
        tap(ui, &id);
    }
}

fn product_named(ui: &Ui, name: &str) -> Option<catalog::Product> {
    let k = ui.kiosk.borrow();
    catalog::all_products(k.store.conn())
        .unwrap()
        .into_iter()
        .find(|p| p.name == name)
}

#[test]
fn an_admin_adds_reprices_retires_and_brings_back_a_product() {
    let ui = demo_ui("fr", Register::Closed);
    open_products(&ui);
    let products_before = count(&ui, "SELECT count(*) FROM products");

    // Saving an empty editor is refused with a message, and nothing is added.
    tap(&ui, "products-add");
    tap(&ui, "product-save");
    assert_eq!(label(&ui, "product-editor-message"), "Tapez un nom.");
    assert_eq!(count(&ui, "SELECT count(*) FROM products"), products_before);

    // A name, a pictogram, sold by the piece, but no price yet: refused.
    type_text(&ui, "poires");
    tap(&ui, "pfield-icon");
    tap(&ui, "icon-pear");
    tap(&ui, "pfield-pricing");
    tap(&ui, "pricing-per-piece");
    tap(&ui, "product-save");
    assert_eq!(
        label(&ui, "product-editor-message"),
        "Tapez un prix supérieur à zéro."
    );
    assert_eq!(count(&ui, "SELECT count(*) FROM products"), products_before);

    // The keypad shows up on the price: 2,50 €; an average weight of 400 g.
    type_digits(&ui, "250");
    assert_eq!(
        by_id(&ui, "pfield-price")
            .unwrap()
            .accessible_value()
            .unwrap()
            .replace('\u{a0}', " "),
        "2,50 €"
    );
    tap(&ui, "pfield-avg-weight");
    type_digits(&ui, "400");
    tap(&ui, "product-save");
    assert_eq!(screen(&ui), Screen::AdminProducts);
    assert_eq!(label(&ui, "products-message"), "Enregistré.");
    let p = product_named(&ui, "poires").expect("added");
    assert_eq!(p.price_cents, 250);
    assert_eq!(p.icon, "pear");
    assert_eq!(p.pricing, catalog::Pricing::PerPiece);
    assert_eq!(p.avg_weight_g, Some(400));
    assert_eq!(p.vat_bp, 550);
    assert_eq!(p.short_code, "POI2", "POI is the demo's peppers already");
    assert!(p.active);

    // A second product of the same name is refused.
    tap(&ui, "products-add");
    type_text(&ui, "poires");
    tap(&ui, "pfield-price");
    type_digits(&ui, "300");
    tap(&ui, "product-save");
    assert_eq!(
        label(&ui, "product-editor-message"),
        "Un produit en vente porte déjà ce nom."
    );
    tap(&ui, "product-cancel");
    assert_eq!(
        count(&ui, "SELECT count(*) FROM products"),
        products_before + 1
    );

    // A new price: the history keeps both, with their dates.
    // The new product is below the fold, where the testing backend finds no element: what
    // its row's buttons call is invoked directly.
    let products = ui.window.global::<AdminProductsAdapter>();
    products.invoke_edit(p.id as i32);
    tap(&ui, "key-erase");
    tap(&ui, "key-erase");
    tap(&ui, "key-erase");
    type_digits(&ui, "280");
    tap(&ui, "product-save");
    assert_eq!(
        label(&ui, "products-message"),
        "Enregistré. Le nouveau prix s'applique dès maintenant ; les ventes passées gardent le leur."
    );
    let history = {
        let k = ui.kiosk.borrow();
        catalog::price_history(k.store.conn(), p.id).unwrap()
    };
    assert_eq!(
        history.iter().map(|h| h.price_cents).collect::<Vec<_>>(),
        vec![280, 250]
    );
    let row = products
        .get_rows()
        .iter()
        .find(|r| i64::from(r.id) == p.id)
        .unwrap();
    assert_eq!(row.price.as_str(), "2,80\u{a0}€");

    // Retired: off the stall, kept in the catalogue; then back on sale.
    products.invoke_retire(p.id as i32);
    assert!(!product_named(&ui, "poires").unwrap().active);
    let on_sale = {
        let k = ui.kiosk.borrow();
        catalog::active_products(k.store.conn()).unwrap()
    };
    assert!(on_sale.iter().all(|q| q.id != p.id));
    products.invoke_reactivate(p.id as i32);
    assert!(product_named(&ui, "poires").unwrap().active);
    assert_eq!(label(&ui, "products-message"), "De nouveau en vente.");
}

#[test]
fn price_signs_need_a_printer_and_sellers_cannot_open_the_catalogue() {
    let ui = demo_ui("fr", Register::Closed);
    // A seller is sent to sign in as somebody allowed.
    tap(&ui, "area-sell");
    sign_in(&ui, "Amina", "1111");
    ui.window
        .global::<comptoir::ui::AppState>()
        .invoke_navigate(Screen::AdminProducts);
    assert_eq!(screen(&ui), Screen::Login);
    tap(&ui, "nav-home");

    open_products(&ui);
    // The test kiosk has no printer: a clear message, nothing queued.
    tap(&ui, "product-sign-1");
    assert_eq!(
        label(&ui, "products-message"),
        "Aucune imprimante n'est configurée."
    );
    assert_eq!(count(&ui, "SELECT count(*) FROM print_queue"), 0);
}

#[test]
fn price_signs_print_name_price_per_unit_and_origin() {
    let ui = demo_ui("fr", Register::Closed);
    let section = crate::common::text_printer();
    let k = ui.kiosk.borrow();
    let active = catalog::active_products(k.store.conn()).unwrap();
    let n = products::queue_price_signs(&k, Some(&section), &[]).unwrap();
    assert_eq!(n, active.len());
    let (_, what, bytes) = comptoir::store::print_queue::next(k.store.conn())
        .unwrap()
        .unwrap();
    assert!(what.starts_with("sign "), "{what}");
    let text = crate::common::printed_text(&bytes);
    let first = &active[0];
    assert!(text.contains(&first.name), "{text}");
    assert!(text.contains("le kg"), "{text}");
    assert!(text.contains("Origine :"), "{text}");
    assert!(text.contains("TVA 5,5"), "{text}");

    // A retired product has no sign.
    drop(k);
    ui.kiosk
        .borrow()
        .store
        .conn()
        .execute("UPDATE products SET active = 0 WHERE id = ?1", [first.id])
        .unwrap();
    let k = ui.kiosk.borrow();
    assert_eq!(
        products::queue_price_signs(&k, Some(&section), &[first.id]),
        Err(products::ProductError::Retired)
    );
}
