//! Adapter of the catalogue admin view: the product list, the editor, price signs.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::pricing_kind;
use super::{
    AdminProductsAdapter, AppWindow, PricingKind, ProductField, ProductMessage, ProductRow, Shared,
};
use crate::app::products::{self, Draft, ProductError};
use crate::app::Kiosk;
use crate::devices::Devices;
use crate::domain::money::format_money;
use crate::domain::vat::format_rate;
use crate::domain::weight::format_kg;
use crate::store::catalog::{self, Pricing};

/// The editor: which product (0 for a new one), the draft and the focused field.
#[derive(Debug, Clone)]
struct Editor {
    open: bool,
    id: i64,
    field: ProductField,
    draft: Draft,
}

impl Default for Editor {
    fn default() -> Self {
        Editor {
            open: false,
            id: 0,
            field: ProductField::Name,
            draft: Draft::default(),
        }
    }
}

fn pricing_of(k: PricingKind) -> Pricing {
    match k {
        PricingKind::PerKg => Pricing::PerKg,
        PricingKind::PerPiece => Pricing::PerPiece,
        PricingKind::PerBunch => Pricing::PerBunch,
    }
}

fn message_of(e: &ProductError) -> ProductMessage {
    match e {
        ProductError::Denied(_) => ProductMessage::NotAllowed,
        ProductError::NameEmpty => ProductMessage::NameEmpty,
        ProductError::NameTaken => ProductMessage::NameTaken,
        ProductError::BadPrice => ProductMessage::BadPrice,
        ProductError::BadVat => ProductMessage::BadVat,
        ProductError::BadWeight => ProductMessage::BadWeight,
        ProductError::NoPrinter => ProductMessage::NoPrinter,
        ProductError::BadCategory
        | ProductError::Unknown
        | ProductError::Retired
        | ProductError::Store(_) => ProductMessage::Failed,
    }
}

fn strings(v: Vec<String>) -> ModelRc<SharedString> {
    ModelRc::new(VecModel::from(
        v.into_iter().map(SharedString::from).collect::<Vec<_>>(),
    ))
}

fn show_editor(window: &AppWindow, kiosk: &Kiosk, e: &Editor) {
    let a = window.global::<AdminProductsAdapter>();
    let l = kiosk.lang();
    let d = &e.draft;
    a.set_editing(e.open);
    a.set_edit_id(e.id as i32);
    a.set_field(e.field);
    a.set_edit_name(d.name.as_str().into());
    a.set_edit_icon(d.icon.as_str().into());
    a.set_edit_category(d.category.as_str().into());
    a.set_edit_pricing(pricing_kind(d.pricing));
    a.set_edit_price(format_money(d.price_cents, l).into());
    a.set_edit_vat_bp(d.vat_bp as i32);
    a.set_edit_vat(format_rate(d.vat_bp as u32, l).into());
    a.set_edit_avg_weight(
        d.avg_weight_g
            .map(|g| format_kg(g, l))
            .unwrap_or_else(|| "—".into())
            .into(),
    );
    a.set_edit_origin(d.origin.as_str().into());
    let tz = kiosk.config.tz();
    let history = if e.id == 0 {
        Vec::new()
    } else {
        catalog::price_history(kiosk.store.conn(), e.id)
            .unwrap_or_default()
            .into_iter()
            .take(4)
            .map(|h| {
                let since = chrono::DateTime::parse_from_rfc3339(&h.since_utc)
                    .map(|t| t.with_timezone(&tz).format("%d/%m/%Y").to_string())
                    .unwrap_or(h.since_utc);
                format!(
                    "{} · {} · {}",
                    format_money(h.price_cents, l),
                    format_rate(h.vat_bp as u32, l),
                    since
                )
            })
            .collect()
    };
    a.set_history(strings(history));
}

/// A change to the editor, given the callback's argument.
type EditFn = dyn Fn(&mut Editor, &str);

pub(super) fn wire(
    window: &AppWindow,
    kiosk: &Shared,
    devices: &Rc<RefCell<Devices>>,
    idle: &Rc<slint::Timer>,
) {
    let editor = Rc::new(RefCell::new(Editor::default()));
    let a = window.global::<AdminProductsAdapter>();
    {
        let k = kiosk.borrow();
        let l = k.lang();
        a.set_icons(strings(
            products::PRODUCT_ICONS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ));
        a.set_categories(strings(
            catalog::CATEGORIES.iter().map(|s| s.to_string()).collect(),
        ));
        a.set_vat_rates(ModelRc::new(VecModel::from(
            products::VAT_RATES
                .iter()
                .map(|&b| b as i32)
                .collect::<Vec<_>>(),
        )));
        a.set_vat_labels(strings(
            products::VAT_RATES
                .iter()
                .map(|&b| format_rate(b as u32, l))
                .collect(),
        ));
    }

    // Every editor callback: change the editor, show it, restart the idle timer.
    let on_edit = |f: Box<EditFn>| {
        let weak = window.as_weak();
        let editor = editor.clone();
        let k = kiosk.clone();
        let idle = idle.clone();
        move |arg: SharedString| {
            let Some(w) = weak.upgrade() else { return };
            f(&mut editor.borrow_mut(), arg.as_str());
            w.global::<AdminProductsAdapter>()
                .set_message(ProductMessage::None);
            show_editor(&w, &k.borrow(), &editor.borrow());
            super::touched(&w, &k, &idle);
        }
    };
    a.on_text_char(on_edit(Box::new(|e, c| {
        let (text, max) = if e.field == ProductField::Origin {
            (&mut e.draft.origin, products::ORIGIN_MAX_CHARS)
        } else {
            (&mut e.draft.name, products::NAME_MAX_CHARS)
        };
        if text.chars().count() < max {
            text.push_str(c);
        }
    })));
    let erase = on_edit(Box::new(|e, _| {
        if e.field == ProductField::Origin {
            e.draft.origin.pop();
        } else {
            e.draft.name.pop();
        }
    }));
    a.on_text_erase(move || erase("".into()));
    // The keypad types cents for a price ("350" is 3,50 €) and grams for an average weight.
    a.on_digit(on_edit(Box::new(|e, d| {
        let Some(digit) = d.chars().next().and_then(|c| c.to_digit(10)) else {
            return;
        };
        let digit = i64::from(digit);
        if e.field == ProductField::AvgWeight {
            let g = e.draft.avg_weight_g.unwrap_or(0) * 10 + digit;
            if g <= products::MAX_AVG_WEIGHT_G {
                e.draft.avg_weight_g = Some(g).filter(|&g| g > 0);
            }
        } else {
            let c = e.draft.price_cents * 10 + digit;
            if c <= products::MAX_PRICE_CENTS {
                e.draft.price_cents = c;
            }
        }
    })));
    let digit_erase = on_edit(Box::new(|e, _| {
        if e.field == ProductField::AvgWeight {
            e.draft.avg_weight_g = e.draft.avg_weight_g.map(|g| g / 10).filter(|&g| g > 0);
        } else {
            e.draft.price_cents /= 10;
        }
    }));
    a.on_digit_erase(move || digit_erase("".into()));
    {
        let f = on_edit(Box::new(|_, _| {}));
        let editor = editor.clone();
        a.on_focus(move |field| {
            editor.borrow_mut().field = field;
            f("".into());
        });
    }
    a.on_set_icon(on_edit(Box::new(|e, name| e.draft.icon = name.into())));
    a.on_set_category(on_edit(Box::new(|e, c| e.draft.category = c.into())));
    {
        let f = on_edit(Box::new(|_, _| {}));
        let editor = editor.clone();
        a.on_set_pricing(move |kind| {
            editor.borrow_mut().draft.pricing = pricing_of(kind);
            f("".into());
        });
    }
    {
        let f = on_edit(Box::new(|_, _| {}));
        let editor = editor.clone();
        a.on_set_vat(move |bp| {
            editor.borrow_mut().draft.vat_bp = i64::from(bp);
            f("".into());
        });
    }
    {
        let f = on_edit(Box::new(|e, _| *e = Editor::default()));
        a.on_close_editor(move || f("".into()));
    }
    {
        let f = on_edit(Box::new(|e, _| {
            *e = Editor {
                open: true,
                ..Editor::default()
            };
        }));
        a.on_add(move || f("".into()));
    }
    {
        let weak = window.as_weak();
        let editor = editor.clone();
        let k = kiosk.clone();
        let idle = idle.clone();
        a.on_edit(move |id| {
            let Some(w) = weak.upgrade() else { return };
            let found = catalog::product(k.borrow().store.conn(), i64::from(id))
                .ok()
                .flatten();
            let Some(p) = found else { return };
            *editor.borrow_mut() = Editor {
                open: true,
                id: p.id,
                field: ProductField::Price,
                draft: Draft::of(&p),
            };
            w.global::<AdminProductsAdapter>()
                .set_message(ProductMessage::None);
            show_editor(&w, &k.borrow(), &editor.borrow());
            super::touched(&w, &k, &idle);
        });
    }

    // Actions on a listed product.
    let act = |f: fn(&mut Kiosk, &Devices, i64) -> Result<ProductMessage, ProductError>| {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let d = devices.clone();
        let idle = idle.clone();
        move |id: i32| {
            let Some(w) = weak.upgrade() else { return };
            let result = f(&mut k.borrow_mut(), &d.borrow(), i64::from(id));
            super::touched(&w, &k, &idle);
            super::refresh(&w, &k);
            let a = w.global::<AdminProductsAdapter>();
            a.set_message(match result {
                Ok(m) => m,
                Err(e) => message_of(&e),
            });
        }
    };
    a.on_retire(act(|k, _, id| {
        products::set_active(k, id, false).map(|_| ProductMessage::Retired)
    }));
    a.on_reactivate(act(|k, _, id| {
        products::set_active(k, id, true).map(|_| ProductMessage::Reactivated)
    }));
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let d = devices.clone();
        let idle = idle.clone();
        let print = move |ids: Vec<i64>| {
            let Some(w) = weak.upgrade() else { return };
            let result = {
                let kk = k.borrow();
                kk.session
                    .require(crate::app::Action::Catalogue)
                    .map_err(ProductError::from)
                    .and_then(|_| {
                        products::queue_price_signs(&kk, d.borrow().printer_section(), &ids)
                    })
            };
            if result.is_ok() {
                d.borrow().wake_printer();
            }
            super::touched(&w, &k, &idle);
            let a = w.global::<AdminProductsAdapter>();
            match result {
                Ok(n) => {
                    a.set_queued(n as i32);
                    a.set_message(ProductMessage::SignsQueued);
                }
                Err(e) => a.set_message(message_of(&e)),
            }
        };
        let print = Rc::new(print);
        let one = print.clone();
        a.on_print_sign(move |id| one(vec![i64::from(id)]));
        a.on_print_all_signs(move || print(Vec::new()));
    }
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let editor = editor.clone();
        let idle = idle.clone();
        a.on_save(move || {
            let Some(w) = weak.upgrade() else { return };
            let e = editor.borrow().clone();
            let result = if e.id == 0 {
                products::add(&mut k.borrow_mut(), &e.draft).map(|_| ProductMessage::Saved)
            } else {
                products::edit(&mut k.borrow_mut(), e.id, &e.draft).map(|repriced| {
                    if repriced {
                        ProductMessage::Repriced
                    } else {
                        ProductMessage::Saved
                    }
                })
            };
            super::touched(&w, &k, &idle);
            match result {
                Ok(m) => {
                    *editor.borrow_mut() = Editor::default();
                    super::refresh(&w, &k);
                    show_editor(&w, &k.borrow(), &editor.borrow());
                    w.global::<AdminProductsAdapter>().set_message(m);
                }
                Err(err) => {
                    let mut ed = editor.borrow_mut();
                    ed.field = match err {
                        ProductError::NameEmpty | ProductError::NameTaken => ProductField::Name,
                        ProductError::BadPrice => ProductField::Price,
                        ProductError::BadVat => ProductField::Vat,
                        ProductError::BadWeight => ProductField::AvgWeight,
                        _ => ed.field,
                    };
                    show_editor(&w, &k.borrow(), &ed);
                    w.global::<AdminProductsAdapter>()
                        .set_message(message_of(&err));
                }
            }
        });
    }
}

/// Fills the product list (retired products last).
pub(super) fn refresh(window: &AppWindow, kiosk: &Kiosk) {
    let l = kiosk.lang();
    let rows: Vec<ProductRow> = catalog::all_products(kiosk.store.conn())
        .unwrap_or_default()
        .into_iter()
        .map(|p| ProductRow {
            id: p.id as i32,
            name: p.name.as_str().into(),
            icon: p.icon.as_str().into(),
            category: p.category.as_str().into(),
            pricing: pricing_kind(p.pricing),
            price: format_money(p.price_cents, l).into(),
            vat: format_rate(p.vat_bp as u32, l).into(),
            avg_weight: p
                .avg_weight_g
                .filter(|_| p.pricing != Pricing::PerKg)
                .map(|g| format!("≈ {}", format_kg(g, l)))
                .unwrap_or_default()
                .into(),
            origin: p.origin.as_str().into(),
            active: p.active,
        })
        .collect();
    window
        .global::<AdminProductsAdapter>()
        .set_rows(ModelRc::new(VecModel::from(rows)));
}
