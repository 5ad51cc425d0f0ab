//! Adapter of the staff management view (admins).

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::login_adapter::{role_from_kind, role_kind};
use super::{
    AdminMessage, AdminStaffAdapter, AppWindow, EditField, EditorMode, RoleKind, Shared, StaffRow,
};
use crate::app::session::{initials, lock_minutes_left};
use crate::app::staff::{self, StaffError};
use crate::app::Kiosk;
use crate::store::people::{self, Role};

/// What the editor holds while a person is added or changed.
#[derive(Debug, Clone)]
struct Editor {
    mode: EditorMode,
    id: i64,
    field: EditField,
    name: String,
    role: Role,
    pin: String,
    pin_again: String,
}

impl Default for Editor {
    fn default() -> Self {
        Editor {
            mode: EditorMode::Closed,
            id: 0,
            field: EditField::Name,
            name: String::new(),
            role: Role::Seller,
            pin: String::new(),
            pin_again: String::new(),
        }
    }
}

const NAME_MAX_CHARS: usize = 40;

/// A change to the editor, given the callback's argument.
type EditFn = dyn Fn(&mut Editor, &str);

fn message_of(e: &StaffError) -> AdminMessage {
    match e {
        StaffError::Denied(_) => AdminMessage::NotAllowed,
        StaffError::NameEmpty => AdminMessage::NameEmpty,
        StaffError::NameTaken => AdminMessage::NameTaken,
        StaffError::BadPin => AdminMessage::PinShort,
        StaffError::LastAdmin => AdminMessage::LastAdmin,
        StaffError::NotLocked => AdminMessage::NotLocked,
        StaffError::Unknown | StaffError::Store(_) => AdminMessage::NotAllowed,
    }
}

fn show_editor(window: &AppWindow, e: &Editor) {
    let a = window.global::<AdminStaffAdapter>();
    a.set_mode(e.mode);
    a.set_field(e.field);
    a.set_edit_name(e.name.as_str().into());
    a.set_edit_role(role_kind(e.role));
    a.set_pin_mask("●".repeat(e.pin.len()).into());
    a.set_pin_again_mask("●".repeat(e.pin_again.len()).into());
}

pub(super) fn wire(window: &AppWindow, kiosk: &Shared, idle: &Rc<slint::Timer>) {
    let editor = Rc::new(RefCell::new(Editor::default()));
    let a = window.global::<AdminStaffAdapter>();

    // Every editor callback: change the editor, show it, restart the idle timer.
    let on_edit = |f: Box<EditFn>| {
        let weak = window.as_weak();
        let editor = editor.clone();
        let k = kiosk.clone();
        let idle = idle.clone();
        move |arg: slint::SharedString| {
            let Some(w) = weak.upgrade() else { return };
            f(&mut editor.borrow_mut(), arg.as_str());
            w.global::<AdminStaffAdapter>()
                .set_message(AdminMessage::None);
            show_editor(&w, &editor.borrow());
            super::touched(&w, &k, &idle);
        }
    };
    a.on_name_char(on_edit(Box::new(|e, c| {
        if e.name.chars().count() < NAME_MAX_CHARS {
            e.name.push_str(c);
        }
    })));
    let erase = on_edit(Box::new(|e, _| {
        e.name.pop();
    }));
    a.on_name_erase(move || erase("".into()));
    a.on_pin_digit(on_edit(Box::new(|e, d| {
        let target = if e.field == EditField::PinAgain {
            &mut e.pin_again
        } else {
            &mut e.pin
        };
        if target.len() < 6 && d.chars().all(|c| c.is_ascii_digit()) {
            target.push_str(d);
        }
    })));
    let pin_erase = on_edit(Box::new(|e, _| {
        if e.field == EditField::PinAgain {
            e.pin_again.pop()
        } else {
            e.pin.pop()
        };
    }));
    a.on_pin_erase(move || pin_erase("".into()));
    {
        let f = on_edit(Box::new(|_, _| {}));
        let editor = editor.clone();
        a.on_focus(move |field| {
            editor.borrow_mut().field = field;
            f("".into());
        });
    }
    {
        let f = on_edit(Box::new(|_, _| {}));
        let editor = editor.clone();
        a.on_set_role(move |role: RoleKind| {
            editor.borrow_mut().role = role_from_kind(role);
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
                mode: EditorMode::Add,
                ..Editor::default()
            };
        }));
        a.on_add(move || f("".into()));
    }
    // Opening the editor on an existing person.
    let open = |mode: EditorMode| {
        let weak = window.as_weak();
        let editor = editor.clone();
        let k = kiosk.clone();
        let idle = idle.clone();
        move |id: i32| {
            let Some(w) = weak.upgrade() else { return };
            let found = people::staff_by_id(k.borrow().store.conn(), i64::from(id))
                .ok()
                .flatten();
            let Some((person, _)) = found else { return };
            *editor.borrow_mut() = Editor {
                mode,
                id: person.id,
                field: if mode == EditorMode::ResetPin {
                    EditField::Pin
                } else {
                    EditField::Name
                },
                name: person.name,
                role: person.role,
                ..Editor::default()
            };
            w.global::<AdminStaffAdapter>()
                .set_message(AdminMessage::None);
            show_editor(&w, &editor.borrow());
            super::touched(&w, &k, &idle);
        }
    };
    a.on_edit(open(EditorMode::Edit));
    a.on_reset_pin(open(EditorMode::ResetPin));

    // Actions that change the store.
    let act = |f: fn(&mut Kiosk, i64) -> Result<AdminMessage, StaffError>| {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        move |id: i32| {
            let Some(w) = weak.upgrade() else { return };
            let result = f(&mut k.borrow_mut(), i64::from(id));
            refresh_session(&k);
            super::touched(&w, &k, &idle);
            super::refresh(&w, &k);
            w.global::<AdminStaffAdapter>().set_message(match result {
                Ok(m) => m,
                Err(e) => message_of(&e),
            });
        }
    };
    a.on_retire(act(|k, id| {
        let Kiosk {
            session,
            store,
            clock,
            ..
        } = k;
        staff::retire(session, store, clock, id).map(|_| AdminMessage::Retired)
    }));
    a.on_lift_lock(act(|k, id| {
        let Kiosk {
            session,
            store,
            clock,
            ..
        } = k;
        staff::lift_lock(session, store, clock, id).map(|_| AdminMessage::LockLifted)
    }));
    a.on_reactivate(act(|k, id| {
        let Kiosk {
            session,
            store,
            clock,
            ..
        } = k;
        staff::reactivate(session, store, clock, id).map(|_| AdminMessage::Reactivated)
    }));
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let editor = editor.clone();
        let idle = idle.clone();
        a.on_save(move || {
            let Some(w) = weak.upgrade() else { return };
            let e = editor.borrow().clone();
            let result = {
                let mut guard = k.borrow_mut();
                let Kiosk {
                    session,
                    store,
                    clock,
                    ..
                } = &mut *guard;
                let pins_agree = || {
                    if e.pin == e.pin_again {
                        Ok(())
                    } else {
                        Err(AdminMessage::PinMismatch)
                    }
                };
                match e.mode {
                    EditorMode::Add => pins_agree().and_then(|_| {
                        staff::add(session, store, clock, &e.name, e.role, &e.pin)
                            .map(|_| ())
                            .map_err(|x| message_of(&x))
                    }),
                    EditorMode::Edit => staff::edit(session, store, clock, e.id, &e.name, e.role)
                        .map_err(|x| message_of(&x)),
                    EditorMode::ResetPin => pins_agree().and_then(|_| {
                        staff::reset_pin(session, store, clock, e.id, &e.pin)
                            .map_err(|x| message_of(&x))
                    }),
                    EditorMode::Closed => Ok(()),
                }
            };
            super::touched(&w, &k, &idle);
            match result {
                Ok(()) => {
                    *editor.borrow_mut() = Editor::default();
                    refresh_session(&k);
                    super::refresh(&w, &k);
                    show_editor(&w, &editor.borrow());
                    w.global::<AdminStaffAdapter>()
                        .set_message(AdminMessage::Saved);
                }
                Err(m) => {
                    let mut ed = editor.borrow_mut();
                    if m == AdminMessage::PinMismatch || m == AdminMessage::PinShort {
                        ed.pin.clear();
                        ed.pin_again.clear();
                        ed.field = EditField::Pin;
                    }
                    show_editor(&w, &ed);
                    w.global::<AdminStaffAdapter>().set_message(m);
                }
            }
        });
    }
}

/// After a change to staff, the signed-in person may have been renamed, demoted or retired.
fn refresh_session(k: &Shared) {
    let mut guard = k.borrow_mut();
    let Kiosk { session, store, .. } = &mut *guard;
    if let Err(e) = session.refresh(store) {
        log::error!("refreshing the session: {e}");
    }
}

/// Fills the staff list.
pub(super) fn refresh(window: &AppWindow, kiosk: &Kiosk) {
    let now = kiosk.clock.now();
    let rows: Vec<StaffRow> = people::all_staff(kiosk.store.conn())
        .unwrap_or_default()
        .into_iter()
        .map(|s| StaffRow {
            id: s.id as i32,
            initials: initials(&s.name).into(),
            locked: s.active && matches!(lock_minutes_left(&kiosk.store, s.id, now), Ok(Some(_))),
            name: s.name.into(),
            role: role_kind(s.role),
            active: s.active,
        })
        .collect();
    window
        .global::<AdminStaffAdapter>()
        .set_rows(ModelRc::new(VecModel::from(rows)));
}
