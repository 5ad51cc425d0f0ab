//! Who may do what. Controllers call [`allowed`] (through `Session::require`) before acting, so
//! the rule holds even when a button is shown by mistake.

use crate::store::people::Role;

/// Everything that needs a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    // Sellers and above.
    Sell,
    CashSession,
    RegisterResident,
    IssueCard,
    // Garden leads and admins.
    Harvest,
    Stock,
    Reports,
    Composters,
    // Admins only.
    Catalogue,
    Devices,
    Settings,
    Closures,
    ManageStaff,
    SetTime,
    AnonymiseResident,
    ExportData,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::Sell,
        Action::CashSession,
        Action::RegisterResident,
        Action::IssueCard,
        Action::Harvest,
        Action::Stock,
        Action::Reports,
        Action::Composters,
        Action::Catalogue,
        Action::Devices,
        Action::Settings,
        Action::Closures,
        Action::ManageStaff,
        Action::SetTime,
        Action::AnonymiseResident,
        Action::ExportData,
    ];

    /// The least role that may do this.
    pub fn least_role(self) -> Role {
        match self {
            Action::Sell | Action::CashSession | Action::RegisterResident | Action::IssueCard => {
                Role::Seller
            }
            Action::Harvest | Action::Stock | Action::Reports | Action::Composters => {
                Role::GardenLead
            }
            Action::Catalogue
            | Action::Devices
            | Action::Settings
            | Action::Closures
            | Action::ManageStaff
            | Action::SetTime
            | Action::AnonymiseResident
            | Action::ExportData => Role::Admin,
        }
    }
}

/// Roles are nested: a garden lead does everything a seller does, an admin everything.
pub fn allowed(role: Role, action: Action) -> bool {
    role >= action.least_role()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sellers_sell_and_register_residents_only() {
        for &a in Action::ALL {
            let expected = matches!(
                a,
                Action::Sell | Action::CashSession | Action::RegisterResident | Action::IssueCard
            );
            assert_eq!(allowed(Role::Seller, a), expected, "{a:?}");
        }
    }

    #[test]
    fn garden_leads_add_the_garden_to_what_sellers_do() {
        for &a in Action::ALL {
            let expected = allowed(Role::Seller, a)
                || matches!(
                    a,
                    Action::Harvest | Action::Stock | Action::Reports | Action::Composters
                );
            assert_eq!(allowed(Role::GardenLead, a), expected, "{a:?}");
        }
    }

    #[test]
    fn admins_do_everything() {
        assert!(Action::ALL.iter().all(|&a| allowed(Role::Admin, a)));
    }
}
