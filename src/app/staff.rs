//! Staff management (admins only): add, rename, change role, retire, reactivate, reset a PIN,
//! lift a PIN lock.
//! Every change is recorded in `staff_events` with who made it. A retired person keeps their
//! history; the last active admin can be neither retired nor demoted.

use super::roles::Action;
use super::session::{pin_well_formed, Denied, Session};
use super::Clock;
use crate::store::people::{self, Role, Staff, StaffEvent};
use crate::store::{utc_text, Store};

/// Why a staff change was refused. Nothing is changed when one of these comes back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("a name is needed")]
    NameEmpty,
    #[error("an active person already has this name")]
    NameTaken,
    #[error("a PIN has 4 to 6 digits")]
    BadPin,
    #[error("the last active administrator must stay")]
    LastAdmin,
    #[error("no such person")]
    Unknown,
    #[error("this person is not locked")]
    NotLocked,
    #[error("database: {0}")]
    Store(String),
}

impl From<rusqlite::Error> for StaffError {
    fn from(e: rusqlite::Error) -> Self {
        StaffError::Store(e.to_string())
    }
}

const SCREEN: &str = "admin.staff";

fn clean_name(name: &str) -> Result<String, StaffError> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(StaffError::NameEmpty);
    }
    Ok(name)
}

fn existing(store: &Store, id: i64) -> Result<Staff, StaffError> {
    Ok(people::staff_by_id(store.conn(), id)?
        .ok_or(StaffError::Unknown)?
        .0)
}

/// Adds a person. Returns their id.
pub fn add(
    session: &Session,
    store: &mut Store,
    clock: &Clock,
    name: &str,
    role: Role,
    pin: &str,
) -> Result<i64, StaffError> {
    let actor = session.require(Action::ManageStaff)?.id;
    let name = clean_name(name)?;
    if !pin_well_formed(pin) {
        return Err(StaffError::BadPin);
    }
    let tx = store.write()?;
    if people::active_name_taken(&tx, &name, None)? {
        return Err(StaffError::NameTaken);
    }
    let now = utc_text(clock.now());
    let id = people::add_staff(&tx, &name, role, &people::hash_pin(pin), &now)?;
    people::record_event(
        &tx,
        &now,
        StaffEvent::Created,
        Some(id),
        Some(actor),
        SCREEN,
        role.as_str(),
    )?;
    tx.commit()?;
    Ok(id)
}

/// Renames a person and/or changes their role.
pub fn edit(
    session: &Session,
    store: &mut Store,
    clock: &Clock,
    id: i64,
    name: &str,
    role: Role,
) -> Result<(), StaffError> {
    let actor = session.require(Action::ManageStaff)?.id;
    let name = clean_name(name)?;
    let before = existing(store, id)?;
    let tx = store.write()?;
    if people::active_name_taken(&tx, &name, Some(id))? {
        return Err(StaffError::NameTaken);
    }
    if before.role == Role::Admin
        && role != Role::Admin
        && before.active
        && people::active_admin_count(&tx)? <= 1
    {
        return Err(StaffError::LastAdmin);
    }
    let now = utc_text(clock.now());
    if name != before.name {
        people::set_staff_name(&tx, id, &name)?;
        people::record_event(
            &tx,
            &now,
            StaffEvent::Renamed,
            Some(id),
            Some(actor),
            SCREEN,
            &format!("{} -> {}", before.name, name),
        )?;
    }
    if role != before.role {
        people::set_staff_role(&tx, id, role)?;
        people::record_event(
            &tx,
            &now,
            StaffEvent::RoleChanged,
            Some(id),
            Some(actor),
            SCREEN,
            &format!("{} -> {}", before.role.as_str(), role.as_str()),
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Retires a person: they can no longer sign in; their history stays.
pub fn retire(
    session: &Session,
    store: &mut Store,
    clock: &Clock,
    id: i64,
) -> Result<(), StaffError> {
    let actor = session.require(Action::ManageStaff)?.id;
    let before = existing(store, id)?;
    let tx = store.write()?;
    if before.role == Role::Admin && before.active && people::active_admin_count(&tx)? <= 1 {
        return Err(StaffError::LastAdmin);
    }
    if before.active {
        people::set_staff_active(&tx, id, false)?;
        people::record_event(
            &tx,
            &utc_text(clock.now()),
            StaffEvent::Retired,
            Some(id),
            Some(actor),
            SCREEN,
            "",
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Brings a retired person back.
pub fn reactivate(
    session: &Session,
    store: &mut Store,
    clock: &Clock,
    id: i64,
) -> Result<(), StaffError> {
    let actor = session.require(Action::ManageStaff)?.id;
    let before = existing(store, id)?;
    let tx = store.write()?;
    if people::active_name_taken(&tx, &before.name, Some(id))? {
        return Err(StaffError::NameTaken);
    }
    if !before.active {
        people::set_staff_active(&tx, id, true)?;
        people::record_event(
            &tx,
            &utc_text(clock.now()),
            StaffEvent::Reactivated,
            Some(id),
            Some(actor),
            SCREEN,
            "",
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Sets a new PIN; this also lifts a lock.
pub fn reset_pin(
    session: &Session,
    store: &mut Store,
    clock: &Clock,
    id: i64,
    pin: &str,
) -> Result<(), StaffError> {
    let actor = session.require(Action::ManageStaff)?.id;
    if !pin_well_formed(pin) {
        return Err(StaffError::BadPin);
    }
    existing(store, id)?;
    let tx = store.write()?;
    people::set_staff_pin_hash(&tx, id, &people::hash_pin(pin))?;
    people::record_event(
        &tx,
        &utc_text(clock.now()),
        StaffEvent::PinReset,
        Some(id),
        Some(actor),
        SCREEN,
        "",
    )?;
    tx.commit()?;
    Ok(())
}

/// Lifts a person's PIN lock: journaled as `lock_lifted` with who lifted it, and the next
/// lock is the first (shortest) one again. Refused when the person is not locked.
pub fn lift_lock(
    session: &Session,
    store: &mut Store,
    clock: &Clock,
    id: i64,
) -> Result<(), StaffError> {
    let actor = session.require(Action::ManageStaff)?.id;
    existing(store, id)?;
    let now = clock.now();
    let tx = store.write()?;
    if super::session::lock_minutes_left_in(&tx, id, now)?.is_none() {
        return Err(StaffError::NotLocked);
    }
    people::record_event(
        &tx,
        &utc_text(now),
        StaffEvent::LockLifted,
        Some(id),
        Some(actor),
        SCREEN,
        "",
    )?;
    tx.commit()?;
    Ok(())
}

/// Creates the first admin of a new (non-demo) database and signs them in, both journaled in
/// one transaction; the kiosk then shows the staff screen. Refused once anybody exists.
pub fn create_first_admin(
    kiosk: &mut super::Kiosk,
    name: &str,
    pin: &str,
) -> Result<i64, StaffError> {
    let name = clean_name(name)?;
    if !pin_well_formed(pin) {
        return Err(StaffError::BadPin);
    }
    let tx = kiosk.store.write()?;
    let anybody: i64 = tx.query_row("SELECT count(*) FROM staff", [], |r| r.get(0))?;
    if anybody > 0 {
        return Err(StaffError::Denied(Denied::NotSignedIn));
    }
    let now = utc_text(kiosk.clock.now());
    let id = people::add_staff(&tx, &name, Role::Admin, &people::hash_pin(pin), &now)?;
    people::record_event(
        &tx,
        &now,
        StaffEvent::Created,
        Some(id),
        None,
        "first-start",
        "admin",
    )?;
    people::record_event(
        &tx,
        &now,
        StaffEvent::SignedIn,
        Some(id),
        Some(id),
        "first-start",
        "",
    )?;
    let (person, _) = people::staff_by_id(&tx, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.commit()?;
    kiosk.session.assume(person);
    kiosk.screen = super::Screen::AdminStaff;
    Ok(id)
}
