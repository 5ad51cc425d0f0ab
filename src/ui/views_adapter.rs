//! Adapters of the catalogue (sell) and garden views.

use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::{
    pricing_kind, AppWindow, GardenAdapter, GardenProduct, ProductTile, SellAdapter, Shared,
};
use crate::app::{catalog, Kiosk};
use crate::domain::Lang;

pub(super) fn wire(window: &AppWindow, kiosk: &Shared, idle: &Rc<slint::Timer>) {
    let sell = window.global::<SellAdapter>();
    let weak = window.as_weak();
    let k = kiosk.clone();
    let idle = idle.clone();
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        sell.on_product_chosen(move |id| {
            let Some(w) = weak.upgrade() else { return };
            let chosen = crate::app::sell::choose(&mut k.borrow_mut(), i64::from(id));
            match chosen {
                Ok(_) => {
                    k.borrow_mut().navigate(crate::app::Screen::SellWeigh);
                }
                Err(e) => log::warn!("product {id}: {e}"),
            }
            super::touched(&w, &k, &idle);
            super::refresh(&w, &k);
        });
    }
    sell.on_category_chosen(move |code| {
        let Some(w) = weak.upgrade() else { return };
        w.global::<SellAdapter>().set_category(code);
        super::touched(&w, &k, &idle);
        refresh_sell(&w, &k.borrow());
    });
}

pub(super) fn refresh_sell(window: &AppWindow, kiosk: &Kiosk) {
    let sell = window.global::<SellAdapter>();
    let products = match catalog::active_products(&kiosk.store) {
        Ok(p) => p,
        Err(e) => {
            log::error!("catalogue: {e}");
            Vec::new()
        }
    };
    let lang = Lang::from_code(&kiosk.language).unwrap_or(Lang::Fr);
    let category = sell.get_category().to_string();
    let tiles: Vec<ProductTile> = catalog::tiles(&products, &category, lang)
        .into_iter()
        .map(|t| ProductTile {
            id: t.id as i32,
            name: t.name.into(),
            icon: t.icon.into(),
            category: t.category.into(),
            price: t.price.into(),
            pricing: pricing_kind(t.pricing),
        })
        .collect();
    let categories: Vec<slint::SharedString> = catalog::categories(&products)
        .into_iter()
        .map(Into::into)
        .collect();
    sell.set_categories(ModelRc::new(VecModel::from(categories)));
    sell.set_products(ModelRc::new(VecModel::from(tiles)));
    super::sell_adapter::refresh_cart(window, kiosk);
}

pub(super) fn refresh_garden(window: &AppWindow, kiosk: &Kiosk) {
    let garden = window.global::<GardenAdapter>();
    let conn = kiosk.store.conn();
    let plots: Vec<slint::SharedString> = crate::store::catalog::active_plots(conn)
        .unwrap_or_default()
        .into_iter()
        .map(|(_, name)| name.into())
        .collect();
    let products: Vec<GardenProduct> = catalog::active_products(&kiosk.store)
        .unwrap_or_default()
        .into_iter()
        .map(|p| GardenProduct {
            name: p.name.into(),
            icon: p.icon.into(),
            code: p.short_code.into(),
        })
        .collect();
    garden.set_plots(ModelRc::new(VecModel::from(plots)));
    garden.set_products(ModelRc::new(VecModel::from(products)));
}
