//! Adapter of the first-start view: the first person creates the administrator.

use std::cell::RefCell;
use std::rc::Rc;

use slint::ComponentHandle;

use super::{AdminMessage, AppWindow, EditField, FirstStartAdapter, Shared};
use crate::app::staff::{self, StaffError};

#[derive(Debug, Default)]
struct Form {
    name: String,
    pin: String,
    pin_again: String,
    field: Option<EditField>,
}

fn show(window: &AppWindow, f: &Form) {
    let a = window.global::<FirstStartAdapter>();
    a.set_field(f.field.unwrap_or(EditField::Name));
    a.set_name(f.name.as_str().into());
    a.set_pin_mask("●".repeat(f.pin.len()).into());
    a.set_pin_again_mask("●".repeat(f.pin_again.len()).into());
}

pub(super) fn wire(window: &AppWindow, kiosk: &Shared) {
    let form = Rc::new(RefCell::new(Form::default()));
    let a = window.global::<FirstStartAdapter>();
    let edit = |f: fn(&mut Form, &str)| {
        let weak = window.as_weak();
        let form = form.clone();
        move |arg: slint::SharedString| {
            let Some(w) = weak.upgrade() else { return };
            f(&mut form.borrow_mut(), &arg);
            w.global::<FirstStartAdapter>()
                .set_message(AdminMessage::None);
            show(&w, &form.borrow());
        }
    };
    a.on_name_char(edit(|f, c| {
        if f.name.chars().count() < 40 {
            f.name.push_str(c);
        }
    }));
    let erase = edit(|f, _| {
        f.name.pop();
    });
    a.on_name_erase(move || erase("".into()));
    a.on_pin_digit(edit(|f, d| {
        let target = if f.field == Some(EditField::PinAgain) {
            &mut f.pin_again
        } else {
            &mut f.pin
        };
        if target.len() < 6 {
            target.push_str(d);
        }
    }));
    let pin_erase = edit(|f, _| {
        if f.field == Some(EditField::PinAgain) {
            f.pin_again.pop()
        } else {
            f.pin.pop()
        };
    });
    a.on_pin_erase(move || pin_erase("".into()));
    {
        let weak = window.as_weak();
        let form = form.clone();
        a.on_focus(move |field| {
            let Some(w) = weak.upgrade() else { return };
            form.borrow_mut().field = Some(field);
            show(&w, &form.borrow());
        });
    }
    {
        let weak = window.as_weak();
        let form = form.clone();
        let k = kiosk.clone();
        a.on_save(move || {
            let Some(w) = weak.upgrade() else { return };
            let (name, pin, again) = {
                let f = form.borrow();
                (f.name.clone(), f.pin.clone(), f.pin_again.clone())
            };
            let message = if pin != again {
                Some(AdminMessage::PinMismatch)
            } else {
                match staff::create_first_admin(&mut k.borrow_mut(), &name, &pin) {
                    Ok(_) => None,
                    Err(StaffError::NameEmpty) => Some(AdminMessage::NameEmpty),
                    Err(StaffError::BadPin) => Some(AdminMessage::PinShort),
                    Err(e) => {
                        log::error!("first start: {e}");
                        Some(AdminMessage::NotAllowed)
                    }
                }
            };
            match message {
                None => {
                    *form.borrow_mut() = Form::default();
                    super::refresh(&w, &k);
                }
                Some(m) => {
                    let mut f = form.borrow_mut();
                    if m != AdminMessage::NameEmpty {
                        f.pin.clear();
                        f.pin_again.clear();
                        f.field = Some(EditField::Pin);
                    } else {
                        f.field = Some(EditField::Name);
                    }
                    show(&w, &f);
                    w.global::<FirstStartAdapter>().set_message(m);
                }
            }
        });
    }
}
