//! Adapter of the sign-in view.

use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::{AppWindow, LoginAdapter, LoginMessage, RoleKind, Shared, StaffTile};
use crate::app::session::{self, initials, Origin, SignInError};
use crate::app::Kiosk;
use crate::store::people::Role;

pub(crate) fn role_kind(r: Role) -> RoleKind {
    match r {
        Role::Seller => RoleKind::Seller,
        Role::GardenLead => RoleKind::GardenLead,
        Role::Admin => RoleKind::Admin,
    }
}

pub(crate) fn role_from_kind(r: RoleKind) -> Role {
    match r {
        RoleKind::Seller => Role::Seller,
        RoleKind::GardenLead => Role::GardenLead,
        RoleKind::Admin => Role::Admin,
    }
}

/// Where a sign-in is typed: from the composter's screens while the kiosk is held there.
pub(crate) fn origin(kiosk: &Kiosk) -> Origin {
    if kiosk.lockdown.is_locked() {
        Origin::Resident
    } else {
        Origin::Staff
    }
}

/// The screen recorded with a wrong PIN.
fn origin_screen(origin: Origin) -> &'static str {
    match origin {
        Origin::Staff => "login",
        Origin::Resident => "lockdown",
    }
}

fn show_error(window: &AppWindow, kiosk: &Kiosk, e: SignInError) {
    let login = window.global::<LoginAdapter>();
    let message = match e {
        SignInError::WrongPin { attempts_left } => {
            login.set_attempts_left(attempts_left as i32);
            LoginMessage::WrongPin
        }
        SignInError::Locked { minutes } => {
            login.set_locked_minutes(minutes as i32);
            LoginMessage::Locked
        }
        SignInError::WrongPinHere => LoginMessage::WrongPinHere,
        SignInError::Paused { until } => {
            let local = until.with_timezone(&kiosk.config.tz());
            login.set_paused_until(local.format("%H:%M").to_string().into());
            LoginMessage::Paused
        }
        SignInError::NotAllowed => LoginMessage::NotAllowed,
        SignInError::BadLength => LoginMessage::ShortPin,
        SignInError::Retired | SignInError::Unknown => LoginMessage::Retired,
        SignInError::NobodyChosen | SignInError::Store => LoginMessage::None,
    };
    login.set_message(message);
}

pub(super) fn wire(window: &AppWindow, kiosk: &Shared, idle: &Rc<slint::Timer>) {
    let login = window.global::<LoginAdapter>();
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        login.on_choose(move |id| {
            let Some(w) = weak.upgrade() else { return };
            let result = {
                let mut guard = k.borrow_mut();
                let Kiosk {
                    session,
                    store,
                    clock,
                    ..
                } = &mut *guard;
                session.choose(store, clock, i64::from(id)).map(|_| ())
            };
            refresh(&w, &k.borrow());
            if let Err(e) = result {
                show_error(&w, &k.borrow(), e);
            }
        });
    }
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        login.on_digit(move |d| {
            let Some(w) = weak.upgrade() else { return };
            if let Some(c) = d.chars().next() {
                k.borrow_mut().session.digit(c);
            }
            let len = k.borrow().session.pending().map_or(0, |p| p.pin.len());
            let login = w.global::<LoginAdapter>();
            login.set_pin_length(len as i32);
            if login.get_message() == LoginMessage::ShortPin
                || login.get_message() == LoginMessage::WrongPin
            {
                login.set_message(LoginMessage::None);
            }
        });
    }
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        login.on_erase(move || {
            let Some(w) = weak.upgrade() else { return };
            k.borrow_mut().session.erase();
            let len = k.borrow().session.pending().map_or(0, |p| p.pin.len());
            w.global::<LoginAdapter>().set_pin_length(len as i32);
        });
    }
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        login.on_cancel(move || {
            let Some(w) = weak.upgrade() else { return };
            k.borrow_mut().session.cancel();
            refresh(&w, &k.borrow());
        });
    }
    {
        let weak = window.as_weak();
        let k = kiosk.clone();
        let idle = idle.clone();
        login.on_submit(move || {
            let Some(w) = weak.upgrade() else { return };
            let result = {
                let mut guard = k.borrow_mut();
                let target = guard.login_target;
                let origin = origin(&guard);
                let Kiosk {
                    session,
                    store,
                    clock,
                    ..
                } = &mut *guard;
                session.submit_from(
                    store,
                    clock,
                    target.requires(),
                    origin_screen(origin),
                    origin,
                )
            };
            match result {
                Ok(staff) => {
                    if staff.role == Role::Admin {
                        super::pin_alert::show(&w, &k.borrow(), staff.id);
                    }
                    {
                        let mut guard = k.borrow_mut();
                        let target = guard.login_target;
                        guard.navigate(target);
                    }
                    super::touched(&w, &k, &idle);
                    super::refresh(&w, &k);
                }
                Err(e) => {
                    refresh(&w, &k.borrow());
                    show_error(&w, &k.borrow(), e);
                }
            }
        });
    }
}

/// Fills the sign-in view: the names, or the PIN pad of the chosen person.
pub(super) fn refresh(window: &AppWindow, kiosk: &Kiosk) {
    let login = window.global::<LoginAdapter>();
    let list = match session::sign_in_list(&kiosk.store) {
        Ok(list) => {
            login.set_read_failed(false);
            list
        }
        Err(e) => {
            log::error!("sign-in list: {e}");
            login.set_read_failed(true);
            Vec::new()
        }
    };
    let staff: Vec<StaffTile> = list
        .into_iter()
        .map(|s| StaffTile {
            id: s.id as i32,
            initials: initials(&s.name).into(),
            name: s.name.into(),
            role: role_kind(s.role),
        })
        .collect();
    login.set_staff(ModelRc::new(VecModel::from(staff)));
    login.set_target(super::to_slint_screen(kiosk.login_target));
    login.set_message(LoginMessage::None);
    // From the composter's screens, a pause shows at once, with when it ends.
    if origin(kiosk) == Origin::Resident {
        if let Ok(Some(until)) = session::resident_pause_until(&kiosk.store, kiosk.clock.now()) {
            show_error(window, kiosk, SignInError::Paused { until });
        }
    }
    match kiosk.session.pending() {
        Some(p) => {
            login.set_selected(p.staff.id as i32);
            login.set_selected_name(p.staff.name.as_str().into());
            login.set_selected_initials(initials(&p.staff.name).into());
            login.set_selected_role(role_kind(p.staff.role));
            login.set_pin_length(p.pin.len() as i32);
        }
        None => {
            login.set_selected(-1);
            login.set_pin_length(0);
        }
    }
}
