//! Resident lockdown: what a resident at the composter can reach.
//!
//! The composter's self-service screens (`compost.idle`, `compost.weigh`, `compost.thanks`: the
//! `compost.*` screens that need no role) belong to residents. Entering them signs out whoever
//! of the staff was signed in (a cart in progress stays parked under its seller) and locks the
//! kiosk into the compost flow: from there a resident reaches the compost flow and the language
//! choice, nothing else. Any other screen, the home screen included, first asks for a staff
//! PIN (any role for the home screen, the screen's own role otherwise); "home" on that sign-in
//! goes back to the composter. A successful sign-in lifts the lock. Staff screens always need a
//! signed-in person whose role allows them ([`super::Kiosk::navigate`]), locked or not.
//!
//! Idle: resident-facing screens (home and the compost flow) go back to their idle state after
//! [`RESIDENT_IDLE_SECONDS`] without a touch (the kiosk's language again, nobody signed in);
//! staff screens lock after [`super::session::STAFF_TIMEOUT_SECONDS`].

use super::{Kiosk, Navigation, Screen};

/// Resident-facing screens return to their idle state after this long without a touch.
pub const RESIDENT_IDLE_SECONDS: u64 = 60;

/// Is this one of the composter's self-service screens (no role needed)?
pub fn is_resident_flow(screen: Screen) -> bool {
    screen.name().starts_with("compost.") && !screen.is_staff()
}

/// Is this screen meant for anybody passing by: the home screen and the compost flow.
pub fn is_resident_facing(screen: Screen) -> bool {
    screen == Screen::Home || is_resident_flow(screen)
}

/// Whether the kiosk is held in the compost flow, and the language it comes back to when
/// idle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lockdown {
    locked: bool,
    /// The kiosk's own language (the config's, or `--lang`), "" until the UI starts.
    home_language: String,
}

impl Lockdown {
    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// Screenshots: the kiosk held at the composter, as if a resident had opened it.
    pub fn hold_for_screenshot(&mut self) {
        self.locked = true;
    }

    /// The language the kiosk started in: resident screens come back to it when idle.
    pub fn remember_language(&mut self, code: &str) {
        self.home_language = code.to_string();
    }
}

/// The lockdown's say on a navigation request, made before anything else: `Some` when it
/// decides where the request ends, `None` when the ordinary rules apply.
pub fn gate(kiosk: &mut Kiosk, to: Screen) -> Option<Navigation> {
    if is_resident_flow(to) {
        if kiosk.session.current().is_some() {
            let from = kiosk.screen.name();
            let Kiosk {
                session,
                store,
                clock,
                ..
            } = kiosk;
            session.sign_out(store, clock, false, from);
        }
        kiosk.lockdown.locked = true;
        return None;
    }
    if !kiosk.lockdown.locked {
        return None;
    }
    if kiosk.session.current().is_some() || !kiosk.has_staff() {
        kiosk.lockdown.locked = false;
        return None;
    }
    match to {
        Screen::Login | Screen::ConfigError | Screen::FirstStart => None,
        // Home on the sign-in screen: back to the composter.
        _ if kiosk.screen == Screen::Login => {
            kiosk.session.cancel();
            kiosk.screen = Screen::CompostIdle;
            Some(Navigation::Shown(Screen::CompostIdle))
        }
        _ => {
            kiosk.login_target = to;
            kiosk.screen = Screen::Login;
            Some(Navigation::SignInFirst(to))
        }
    }
}

/// A resident-facing screen saw no touch for [`RESIDENT_IDLE_SECONDS`]: on the home screen and
/// the composter's idle screen, whoever of the staff is still signed in is signed out and the
/// kiosk's own language (the one it started in) comes back. A deposit in progress is left to
/// the compost flow's own timer. Returns whether anything changed.
pub fn resident_idle(kiosk: &mut Kiosk) -> bool {
    if !matches!(kiosk.screen, Screen::Home | Screen::CompostIdle) {
        return false;
    }
    let mut changed = false;
    if kiosk.session.current().is_some() {
        let from = kiosk.screen.name();
        let Kiosk {
            session,
            store,
            clock,
            ..
        } = kiosk;
        session.sign_out(store, clock, true, from);
        changed = true;
    }
    let home = if kiosk.lockdown.home_language.is_empty() {
        kiosk.config.language.clone()
    } else {
        kiosk.lockdown.home_language.clone()
    };
    if kiosk.language != home {
        kiosk.language = home;
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Clock, RunMode};
    use crate::config::Config;
    use crate::store::people;
    use chrono::{TimeZone, Utc};

    fn kiosk() -> Kiosk {
        let store = crate::cli::builtin_demo_store().unwrap();
        let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 6, 13, 8, 42, 0).unwrap());
        Kiosk::new(store, Config::default(), RunMode::Demo, clock)
    }

    fn sign_in_first_admin(k: &mut Kiosk) {
        let admin = people::active_staff(k.store.conn())
            .unwrap()
            .into_iter()
            .find(|s| s.role == people::Role::Admin)
            .unwrap();
        k.session.assume(admin);
    }

    #[test]
    fn resident_screens_are_the_compost_flow_and_home() {
        assert!(is_resident_flow(Screen::CompostIdle));
        assert!(is_resident_facing(Screen::Home));
        for s in Screen::ALL {
            if s.is_staff() {
                assert!(!is_resident_facing(*s), "{s:?}");
            }
        }
        assert!(!is_resident_facing(Screen::Login));
    }

    #[test]
    fn the_compost_flow_holds_a_resident_until_a_pin() {
        let mut k = kiosk();
        k.navigate(Screen::CompostIdle);
        assert_eq!(k.screen, Screen::CompostIdle);
        assert!(k.lockdown.is_locked());
        // Every other screen asks for a PIN first, home included.
        for to in Screen::ALL.iter().copied() {
            if is_resident_flow(to) || matches!(to, Screen::ConfigError | Screen::FirstStart) {
                continue;
            }
            k.screen = Screen::CompostIdle;
            let nav = k.navigate(to);
            if to == Screen::Login {
                continue;
            }
            assert_eq!(nav, Navigation::SignInFirst(to), "{to:?}");
            assert_eq!(k.screen, Screen::Login, "{to:?}");
            assert!(k.session.current().is_none());
        }
        // Home on the sign-in screen goes back to the composter, still locked.
        k.screen = Screen::Login;
        assert_eq!(
            k.navigate(Screen::Home),
            Navigation::Shown(Screen::CompostIdle)
        );
        assert!(k.lockdown.is_locked());
        // A member of staff lifts the lock.
        sign_in_first_admin(&mut k);
        assert_eq!(k.navigate(Screen::Home), Navigation::Shown(Screen::Home));
        assert!(!k.lockdown.is_locked());
    }

    #[test]
    fn entering_the_compost_flow_signs_the_staff_out() {
        let mut k = kiosk();
        sign_in_first_admin(&mut k);
        k.navigate(Screen::AdminStaff);
        assert_eq!(k.screen, Screen::AdminStaff);
        k.navigate(Screen::CompostIdle);
        assert!(k.session.current().is_none());
        assert_eq!(
            k.navigate(Screen::AdminStaff),
            Navigation::SignInFirst(Screen::AdminStaff)
        );
    }

    #[test]
    fn idle_brings_back_the_kiosk_language_and_signs_out() {
        let mut k = kiosk();
        k.language = "ar".into();
        sign_in_first_admin(&mut k);
        k.screen = Screen::Home;
        assert!(resident_idle(&mut k));
        assert_eq!(k.language, "fr");
        assert!(k.session.current().is_none());
        assert!(!resident_idle(&mut k));
        // A kiosk started in English (`--lang en`) comes back to English.
        k.lockdown.remember_language("en");
        k.language = "tr".into();
        assert!(resident_idle(&mut k));
        assert_eq!(k.language, "en");
        // Staff screens have their own timeout.
        k.language = "tr".into();
        k.screen = Screen::AdminStaff;
        assert!(!resident_idle(&mut k));
        assert_eq!(k.language, "tr");
    }
}
