//! Compost credits ("bons compost") and the CO₂e avoided by composting.
//!
//! Rules:
//!
//! - Credits are cents. A deposit of `net_g` grams earns
//!   `floor(net_g × rate_cents_per_kg / 1000)`: always rounded down, so splitting a bucket in
//!   two never earns more. Nothing is earned for a zero or negative net.
//! - A daily cap (optional) limits what one resident earns per local day: a deposit earns at
//!   most `cap − earned today` (never below zero).
//! - Credits pay for vegetables as a voucher (VAT totals unchanged), up to a configured share of
//!   the ticket, `floor(total × max_share_bp / 10000)`, and never more than the balance.
//! - The balance is the sum of the credit ledger's moves: earned and refunded add, spent
//!   subtracts, adjustments carry their sign. Integer arithmetic, no overflow.
//! - CO₂e avoided (grams) = `floor(net_g × factor_g_per_kg / 1000)`; the default factor is
//!   200 g CO₂e per kg composted (ADEME's national treatment mix, see the compost issue).

use super::money::{mul_div_floor, Cents};
use super::weight::Grams;

/// Default CO₂e avoided per kilogram composted, in grams.
pub const DEFAULT_CO2E_G_PER_KG: i64 = 200;

/// How credits are earned and spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditsConfig {
    /// Credits earned per kilogram deposited.
    pub rate_cents_per_kg: Cents,
    /// The most one resident earns per day, if limited.
    pub daily_cap_cents: Option<Cents>,
    /// The largest share of a ticket payable in credits (10 000 = all of it).
    pub max_share_bp: u32,
    /// CO₂e avoided per kilogram composted, in grams.
    pub co2e_g_per_kg: i64,
}

impl Default for CreditsConfig {
    /// 10 cents per kg, at most 1,00 € a day, up to half of a ticket, 200 g CO₂e per kg.
    fn default() -> Self {
        CreditsConfig {
            rate_cents_per_kg: 10,
            daily_cap_cents: Some(100),
            max_share_bp: 5_000,
            co2e_g_per_kg: DEFAULT_CO2E_G_PER_KG,
        }
    }
}

impl CreditsConfig {
    /// Rates and cap not negative, share at most 100 %.
    pub fn is_valid(&self) -> bool {
        self.rate_cents_per_kg >= 0
            && self.daily_cap_cents.is_none_or(|c| c >= 0)
            && self.max_share_bp <= 10_000
            && self.co2e_g_per_kg >= 0
    }

    /// What a deposit earns given what the resident already earned today.
    pub fn earned_for_deposit(&self, net_g: Grams, earned_today: Cents) -> Cents {
        earned_capped(
            net_g,
            self.rate_cents_per_kg,
            earned_today,
            self.daily_cap_cents,
        )
    }
}

/// Why a credits payment or ledger computation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditError {
    NotPositive,
    AboveShare,
    AboveBalance,
    Overflow,
}

impl CreditError {
    /// Stable token for the UI.
    pub fn code(self) -> &'static str {
        match self {
            CreditError::NotPositive => "credits_not_positive",
            CreditError::AboveShare => "credits_above_share",
            CreditError::AboveBalance => "credits_above_balance",
            CreditError::Overflow => "overflow",
        }
    }
}

/// `floor(net_g × rate / 1000)`; zero for a zero or negative net or rate.
pub fn earned(net_g: Grams, rate_cents_per_kg: Cents) -> Cents {
    if net_g <= 0 || rate_cents_per_kg <= 0 {
        return 0;
    }
    mul_div_floor(net_g, rate_cents_per_kg, 1000).unwrap_or(Cents::MAX)
}

/// [`earned`], limited to what remains under the daily cap.
pub fn earned_capped(
    net_g: Grams,
    rate_cents_per_kg: Cents,
    earned_today: Cents,
    daily_cap: Option<Cents>,
) -> Cents {
    let e = earned(net_g, rate_cents_per_kg);
    match daily_cap {
        Some(cap) => e.min(cap.saturating_sub(earned_today).max(0)),
        None => e,
    }
}

/// `floor(net_g × factor / 1000)` grams of CO₂e; zero for a zero or negative net.
pub fn co2e_avoided_g(net_g: Grams, factor_g_per_kg: i64) -> Grams {
    if net_g <= 0 || factor_g_per_kg <= 0 {
        return 0;
    }
    mul_div_floor(net_g, factor_g_per_kg, 1000).unwrap_or(Grams::MAX)
}

/// The most a ticket of `total` can take in credits: the allowed share, rounded down, and no
/// more than the balance. Zero for a zero or negative total or balance.
pub fn max_credit_payment(total: Cents, max_share_bp: u32, balance: Cents) -> Cents {
    if total <= 0 || balance <= 0 {
        return 0;
    }
    let share = mul_div_floor(total, i64::from(max_share_bp.min(10_000)), 10_000).unwrap_or(0);
    share.min(balance)
}

/// Checks a credits payment of `amount` on a ticket of `total`.
pub fn check_credit_payment(
    amount: Cents,
    total: Cents,
    max_share_bp: u32,
    balance: Cents,
) -> Result<(), CreditError> {
    if amount <= 0 {
        return Err(CreditError::NotPositive);
    }
    if amount > balance {
        return Err(CreditError::AboveBalance);
    }
    if amount > max_credit_payment(total, max_share_bp, balance) {
        return Err(CreditError::AboveShare);
    }
    Ok(())
}

/// One move of a resident's credit ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditMove {
    /// Earned by a deposit (positive).
    Earned(Cents),
    /// Spent at the stall (positive, subtracted).
    Spent(Cents),
    /// Given back when a sale paid with credits is refunded (positive, added).
    Refunded(Cents),
    /// A correction by an admin, with its sign.
    Adjusted(Cents),
}

impl CreditMove {
    /// Stable token stored in the ledger: `earned`, `spent`, `refunded`, `adjusted`.
    pub fn code(self) -> &'static str {
        match self {
            CreditMove::Earned(_) => "earned",
            CreditMove::Spent(_) => "spent",
            CreditMove::Refunded(_) => "refunded",
            CreditMove::Adjusted(_) => "adjusted",
        }
    }

    /// The signed effect on the balance.
    pub fn delta(self) -> Cents {
        match self {
            CreditMove::Earned(c) | CreditMove::Refunded(c) | CreditMove::Adjusted(c) => c,
            CreditMove::Spent(c) => c.checked_neg().unwrap_or(Cents::MAX),
        }
    }
}

/// The balance after a ledger's moves.
pub fn balance<'a, I>(moves: I) -> Result<Cents, CreditError>
where
    I: IntoIterator<Item = &'a CreditMove>,
{
    moves.into_iter().try_fold(0 as Cents, |acc, m| {
        acc.checked_add(m.delta()).ok_or(CreditError::Overflow)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_are_earned_per_kilogram_rounded_down() {
        // 2,345 kg at 10 cents/kg = 23.45 → 23
        assert_eq!(earned(2345, 10), 23);
        assert_eq!(earned(999, 10), 9);
        assert_eq!(earned(1000, 10), 10);
        assert_eq!(earned(99, 10), 0);
        // splitting a bucket never earns more
        assert!(earned(500, 10) + earned(499, 10) <= earned(999, 10));
    }

    #[test]
    fn nothing_is_earned_for_nothing() {
        assert_eq!(earned(0, 10), 0);
        assert_eq!(earned(-500, 10), 0);
        assert_eq!(earned(5000, 0), 0);
        assert_eq!(earned(5000, -3), 0);
    }

    #[test]
    fn the_daily_cap_limits_earnings() {
        assert_eq!(earned_capped(5000, 10, 0, Some(100)), 50);
        assert_eq!(earned_capped(5000, 10, 80, Some(100)), 20);
        assert_eq!(earned_capped(5000, 10, 100, Some(100)), 0);
        // already above the cap (the cap was lowered): nothing more, never negative
        assert_eq!(earned_capped(5000, 10, 150, Some(100)), 0);
        assert_eq!(earned_capped(50_000, 10, 0, None), 500);
    }

    #[test]
    fn config_applies_rate_and_cap() {
        let c = CreditsConfig::default();
        assert!(c.is_valid());
        assert_eq!(c.earned_for_deposit(3000, 0), 30);
        assert_eq!(c.earned_for_deposit(3000, 90), 10);
        assert!(!CreditsConfig {
            max_share_bp: 10_001,
            ..c
        }
        .is_valid());
        assert!(!CreditsConfig {
            rate_cents_per_kg: -1,
            ..c
        }
        .is_valid());
        assert!(!CreditsConfig {
            daily_cap_cents: Some(-1),
            ..c
        }
        .is_valid());
    }

    #[test]
    fn co2e_avoided_uses_the_factor_per_kilogram() {
        assert_eq!(co2e_avoided_g(2345, DEFAULT_CO2E_G_PER_KG), 469);
        assert_eq!(co2e_avoided_g(1000, 40), 40);
        assert_eq!(co2e_avoided_g(4, 200), 0); // 0.8 g → 0
        assert_eq!(co2e_avoided_g(-100, 200), 0);
        assert_eq!(co2e_avoided_g(1000, 0), 0);
    }

    #[test]
    fn credits_pay_up_to_the_share_and_the_balance() {
        // half of 7,99 € = 399.5 → 399
        assert_eq!(max_credit_payment(799, 5000, 10_000), 399);
        assert_eq!(max_credit_payment(799, 5000, 250), 250);
        assert_eq!(max_credit_payment(799, 10_000, 10_000), 799);
        assert_eq!(max_credit_payment(799, 0, 10_000), 0);
        assert_eq!(max_credit_payment(0, 5000, 10_000), 0);
        assert_eq!(max_credit_payment(-500, 5000, 10_000), 0);
        assert_eq!(max_credit_payment(799, 5000, -5), 0);
    }

    #[test]
    fn credit_payments_are_checked() {
        assert_eq!(check_credit_payment(399, 799, 5000, 1000), Ok(()));
        assert_eq!(
            check_credit_payment(400, 799, 5000, 1000),
            Err(CreditError::AboveShare)
        );
        assert_eq!(
            check_credit_payment(300, 799, 5000, 200),
            Err(CreditError::AboveBalance)
        );
        assert_eq!(
            check_credit_payment(0, 799, 5000, 200),
            Err(CreditError::NotPositive)
        );
        assert_eq!(
            check_credit_payment(-1, 799, 5000, 200),
            Err(CreditError::NotPositive)
        );
    }

    #[test]
    fn the_balance_is_the_sum_of_the_ledger() {
        let moves = [
            CreditMove::Earned(30),
            CreditMove::Earned(25),
            CreditMove::Spent(40),
            CreditMove::Refunded(10),
            CreditMove::Adjusted(-5),
        ];
        assert_eq!(balance(&moves), Ok(20));
        assert_eq!(balance(&[]), Ok(0));
        assert_eq!(
            balance(&[CreditMove::Earned(Cents::MAX), CreditMove::Earned(1)]),
            Err(CreditError::Overflow)
        );
        assert_eq!(CreditMove::Spent(3).code(), "spent");
        assert_eq!(CreditMove::Spent(3).delta(), -3);
    }

    #[test]
    fn credit_error_codes() {
        assert_eq!(CreditError::AboveShare.code(), "credits_above_share");
        assert_eq!(CreditError::AboveBalance.code(), "credits_above_balance");
        assert_eq!(CreditError::NotPositive.code(), "credits_not_positive");
    }
}
