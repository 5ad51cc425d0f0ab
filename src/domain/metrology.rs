//! Metrology: the guards a weighing passes before it becomes a line (or a harvest, or a
//! deposit).
//!
//! Rules, checked in this order by [`can_add_weighed_line`]:
//!
//! 1. The scale must report a weight: a scale fault ([`ScaleFault`]) refuses with
//!    [`WeighRefusal::ScaleError`].
//! 2. A tare applied by Comptoir (container presets) must be zero or more
//!    ([`WeighRefusal::BadTare`]), is allowed only when the installation is configured as *not*
//!    legal-for-trade ([`WeighRefusal::SoftwareTareNotAllowed`]), and never on top of a net
//!    reading where the scale already took a tare ([`WeighRefusal::DoubleTare`]).
//! 3. The reading must be stable ([`WeighRefusal::Unstable`]).
//! 4. A gross reading above the capacity is refused ([`WeighRefusal::OverCapacity`]). (With a
//!    net reading the scale itself reports overload as a fault.)
//! 5. The net weight is the reading when the scale reports net, else the reading minus
//!    Comptoir's tare. A negative net is refused ([`WeighRefusal::Negative`]), a net below the
//!    configured minimum too ([`WeighRefusal::BelowMinimum`]), and so is a net above the
//!    optional maximum ([`WeighRefusal::AboveMaximum`], used for compost deposits).
//! 6. Between two weighed lines the scale must return to zero: after a line was added, a new
//!    one is refused ([`WeighRefusal::NoReturnToZero`]) until a **stable** reading with net below
//!    the minimum has been seen (or the scale reported `under_zero`), so the same load is never
//!    sold twice. A momentary unstable dip while a load is handled does not count.
//!
//! The minimum: class III retail scales have a minimum capacity of 20 e (20 scale intervals);
//! the default here is 20 g (e = 1 g); [`MetrologyConfig::from_interval`] derives it from the
//! scale's interval (e = 2 g gives 40 g). Set it to the scale's "Min" marking.
//!
//! Manual weight entry (scale broken) is allowed only for roles configured for it; the result
//! is marked [`WeightSource::Manual`] so the line and the receipt say so. A manual weight must
//! be positive and within the optional maximum; capacity and return-to-zero do not apply.
//!
//! [`WeighGuard`] is the state machine that tracks the return to zero: feed it every reading
//! ([`WeighGuard::observe`]) and ask it before adding ([`WeighGuard::add`]).

use super::weight::Grams;

/// A weight reported by the scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleReading {
    pub grams: Grams,
    pub stable: bool,
    /// The scale applied a tare itself and reports the net weight.
    pub net: bool,
}

/// A status the scale reports instead of a weight (same tokens as `comptoir scale read`),
/// or the device being gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleFault {
    Motion,
    OverCapacity,
    UnderZero,
    NotZeroed,
    UnsupportedUnit,
    NoAnswer,
    Garbage,
    Disconnected,
}

impl ScaleFault {
    /// Stable token: `motion`, `over_capacity`, `under_zero`, `not_zeroed`, `unsupported_unit`,
    /// `no_answer`, `garbage`, `disconnected`.
    pub fn code(self) -> &'static str {
        match self {
            ScaleFault::Motion => "motion",
            ScaleFault::OverCapacity => "over_capacity",
            ScaleFault::UnderZero => "under_zero",
            ScaleFault::NotZeroed => "not_zeroed",
            ScaleFault::UnsupportedUnit => "unsupported_unit",
            ScaleFault::NoAnswer => "no_answer",
            ScaleFault::Garbage => "garbage",
            ScaleFault::Disconnected => "disconnected",
        }
    }

    /// Reads a token produced by [`ScaleFault::code`].
    pub fn from_code(code: &str) -> Option<ScaleFault> {
        [
            ScaleFault::Motion,
            ScaleFault::OverCapacity,
            ScaleFault::UnderZero,
            ScaleFault::NotZeroed,
            ScaleFault::UnsupportedUnit,
            ScaleFault::NoAnswer,
            ScaleFault::Garbage,
            ScaleFault::Disconnected,
        ]
        .into_iter()
        .find(|f| f.code() == code)
    }
}

/// What the scale says right now: a weight or a fault.
pub type ScaleState = Result<ScaleReading, ScaleFault>;

/// The weighing limits of an installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetrologyConfig {
    /// The smallest net weight accepted (the scale's Min, 20 e).
    pub min_net_g: Grams,
    /// The largest net weight accepted, if smaller than the capacity (compost deposits).
    pub max_net_g: Option<Grams>,
    /// The scale's capacity (Max).
    pub capacity_g: Grams,
    /// A legal-for-trade installation refuses Comptoir's own tare (container presets).
    pub legal_for_trade: bool,
}

/// Default minimum net weight: 20 g.
pub const DEFAULT_MIN_NET_G: Grams = 20;
/// Default capacity: 15 kg.
pub const DEFAULT_CAPACITY_G: Grams = 15_000;

impl Default for MetrologyConfig {
    fn default() -> Self {
        MetrologyConfig {
            min_net_g: DEFAULT_MIN_NET_G,
            max_net_g: None,
            capacity_g: DEFAULT_CAPACITY_G,
            legal_for_trade: true,
        }
    }
}

impl MetrologyConfig {
    /// A legal-for-trade configuration from the scale's interval `e` and capacity:
    /// minimum = 20 e.
    pub fn from_interval(e_g: Grams, capacity_g: Grams) -> Self {
        MetrologyConfig {
            min_net_g: e_g.saturating_mul(20),
            max_net_g: None,
            capacity_g,
            legal_for_trade: true,
        }
    }

    /// A usable configuration: 0 < minimum <= (maximum) <= capacity.
    pub fn is_valid(&self) -> bool {
        let max = self.max_net_g.unwrap_or(self.capacity_g);
        self.min_net_g > 0 && self.min_net_g <= max && max <= self.capacity_g
    }
}

/// Why a weighing cannot become a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeighRefusal {
    Unstable,
    BelowMinimum,
    AboveMaximum,
    OverCapacity,
    Negative,
    NoReturnToZero,
    ScaleError(ScaleFault),
    BadTare,
    SoftwareTareNotAllowed,
    DoubleTare,
    ManualNotAllowed,
}

impl WeighRefusal {
    /// Stable token for the UI. For a scale fault the token is `scale_error`; the fault's own
    /// token is [`WeighRefusal::fault_code`].
    pub fn code(self) -> &'static str {
        match self {
            WeighRefusal::Unstable => "unstable",
            WeighRefusal::BelowMinimum => "below_minimum",
            WeighRefusal::AboveMaximum => "above_maximum",
            WeighRefusal::OverCapacity => "over_capacity",
            WeighRefusal::Negative => "negative",
            WeighRefusal::NoReturnToZero => "no_return_to_zero",
            WeighRefusal::ScaleError(_) => "scale_error",
            WeighRefusal::BadTare => "bad_tare",
            WeighRefusal::SoftwareTareNotAllowed => "software_tare_not_allowed",
            WeighRefusal::DoubleTare => "double_tare",
            WeighRefusal::ManualNotAllowed => "manual_not_allowed",
        }
    }

    /// The scale fault's token, for [`WeighRefusal::ScaleError`].
    pub fn fault_code(self) -> Option<&'static str> {
        match self {
            WeighRefusal::ScaleError(fault) => Some(fault.code()),
            _ => None,
        }
    }
}

/// Where an accepted weight comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightSource {
    Scale,
    /// Typed by a permitted role while the scale was broken: "pesée manuelle".
    Manual,
}

/// An accepted net weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeighedNet {
    pub grams: Grams,
    pub source: WeightSource,
}

impl WeighedNet {
    pub fn is_manual(&self) -> bool {
        self.source == WeightSource::Manual
    }
}

/// The net weight of a reading: the reading itself when the scale reports net, else the
/// reading minus Comptoir's tare.
pub fn net_of(reading: &ScaleReading, tare_applied_g: Grams) -> Grams {
    if reading.net {
        reading.grams
    } else {
        reading.grams.saturating_sub(tare_applied_g)
    }
}

/// Checks rules 2 to 6 of the module documentation on a reading; `Ok` carries the net grams.
pub fn can_add_weighed_line(
    config: &MetrologyConfig,
    reading: &ScaleReading,
    tare_applied_g: Grams,
    last_added_requires_zero_return: bool,
) -> Result<Grams, WeighRefusal> {
    if tare_applied_g < 0 {
        return Err(WeighRefusal::BadTare);
    }
    if tare_applied_g > 0 && config.legal_for_trade {
        return Err(WeighRefusal::SoftwareTareNotAllowed);
    }
    if tare_applied_g > 0 && reading.net {
        return Err(WeighRefusal::DoubleTare);
    }
    if !reading.stable {
        return Err(WeighRefusal::Unstable);
    }
    if !reading.net && reading.grams > config.capacity_g {
        return Err(WeighRefusal::OverCapacity);
    }
    let net = net_of(reading, tare_applied_g);
    if net < 0 {
        return Err(WeighRefusal::Negative);
    }
    if net < config.min_net_g {
        return Err(WeighRefusal::BelowMinimum);
    }
    if net > config.capacity_g {
        return Err(WeighRefusal::OverCapacity);
    }
    if config.max_net_g.is_some_and(|max| net > max) {
        return Err(WeighRefusal::AboveMaximum);
    }
    if last_added_requires_zero_return {
        return Err(WeighRefusal::NoReturnToZero);
    }
    Ok(net)
}

/// Checks a weight typed by hand: the role must be allowed, the weight positive and within
/// the optional maximum.
pub fn check_manual_weight(
    config: &MetrologyConfig,
    grams: Grams,
    role_allowed: bool,
) -> Result<WeighedNet, WeighRefusal> {
    if !role_allowed {
        return Err(WeighRefusal::ManualNotAllowed);
    }
    if grams < 0 {
        return Err(WeighRefusal::Negative);
    }
    if grams == 0 {
        return Err(WeighRefusal::BelowMinimum);
    }
    if config.max_net_g.is_some_and(|max| grams > max) {
        return Err(WeighRefusal::AboveMaximum);
    }
    Ok(WeighedNet {
        grams,
        source: WeightSource::Manual,
    })
}

/// Tracks the return to zero between weighed lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeighGuard {
    config: MetrologyConfig,
    awaiting_zero: bool,
}

impl WeighGuard {
    /// A guard that has not added anything yet (no return to zero pending).
    pub fn new(config: MetrologyConfig) -> Self {
        WeighGuard {
            config,
            awaiting_zero: false,
        }
    }

    pub fn config(&self) -> &MetrologyConfig {
        &self.config
    }

    /// Whether the next weighed line waits for the scale to return to zero.
    pub fn needs_zero_return(&self) -> bool {
        self.awaiting_zero
    }

    /// Feeds one scale state. A stable reading with net below the minimum, or an `under_zero`
    /// fault, counts as the return to zero.
    pub fn observe(&mut self, state: &ScaleState, tare_applied_g: Grams) {
        match state {
            Ok(reading) => {
                if reading.stable && net_of(reading, tare_applied_g) < self.config.min_net_g {
                    self.awaiting_zero = false;
                }
            }
            Err(ScaleFault::UnderZero) => self.awaiting_zero = false,
            Err(_) => {}
        }
    }

    /// Whether a line could be added from this state now, without changing the guard.
    pub fn check(&self, state: &ScaleState, tare_applied_g: Grams) -> Result<Grams, WeighRefusal> {
        match state {
            Ok(reading) => {
                can_add_weighed_line(&self.config, reading, tare_applied_g, self.awaiting_zero)
            }
            Err(fault) => Err(WeighRefusal::ScaleError(*fault)),
        }
    }

    /// Checks, and on success records that a weighed line was added: the next one waits for
    /// the return to zero.
    pub fn add(
        &mut self,
        state: &ScaleState,
        tare_applied_g: Grams,
    ) -> Result<WeighedNet, WeighRefusal> {
        let grams = self.check(state, tare_applied_g)?;
        self.awaiting_zero = true;
        Ok(WeighedNet {
            grams,
            source: WeightSource::Scale,
        })
    }

    /// A manual weight (see [`check_manual_weight`]); it does not change the return-to-zero
    /// state.
    pub fn add_manual(&self, grams: Grams, role_allowed: bool) -> Result<WeighedNet, WeighRefusal> {
        check_manual_weight(&self.config, grams, role_allowed)
    }

    /// Forgets a pending return to zero. Only for a flow that saw the scale empty by other
    /// means; removing a cart line does **not** reset the guard (the load is still there).
    pub fn reset(&mut self) {
        self.awaiting_zero = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stable(grams: Grams) -> ScaleState {
        Ok(ScaleReading {
            grams,
            stable: true,
            net: false,
        })
    }

    fn moving(grams: Grams) -> ScaleState {
        Ok(ScaleReading {
            grams,
            stable: false,
            net: false,
        })
    }

    fn stable_net(grams: Grams) -> ScaleState {
        Ok(ScaleReading {
            grams,
            stable: true,
            net: true,
        })
    }

    fn config() -> MetrologyConfig {
        MetrologyConfig {
            min_net_g: 40,
            max_net_g: None,
            capacity_g: 15_000,
            legal_for_trade: true,
        }
    }

    fn not_legal() -> MetrologyConfig {
        MetrologyConfig {
            legal_for_trade: false,
            ..config()
        }
    }

    fn check(
        cfg: &MetrologyConfig,
        state: ScaleState,
        tare: Grams,
        zero: bool,
    ) -> Result<Grams, WeighRefusal> {
        can_add_weighed_line(cfg, &state.unwrap(), tare, zero)
    }

    #[test]
    fn a_stable_weight_within_limits_is_accepted() {
        assert_eq!(check(&config(), stable(1234), 0, false), Ok(1234));
        assert_eq!(check(&config(), stable(40), 0, false), Ok(40));
        assert_eq!(check(&config(), stable(15_000), 0, false), Ok(15_000));
    }

    #[test]
    fn an_unstable_weight_is_refused() {
        assert_eq!(
            check(&config(), moving(1234), 0, false),
            Err(WeighRefusal::Unstable)
        );
    }

    #[test]
    fn a_weight_below_the_minimum_is_refused() {
        assert_eq!(
            check(&config(), stable(39), 0, false),
            Err(WeighRefusal::BelowMinimum)
        );
        assert_eq!(
            check(&config(), stable(0), 0, false),
            Err(WeighRefusal::BelowMinimum)
        );
    }

    #[test]
    fn a_weight_above_capacity_is_refused() {
        assert_eq!(
            check(&config(), stable(15_001), 0, false),
            Err(WeighRefusal::OverCapacity)
        );
    }

    #[test]
    fn a_negative_weight_is_refused() {
        assert_eq!(
            check(&config(), stable(-12), 0, false),
            Err(WeighRefusal::Negative)
        );
        assert_eq!(
            check(&config(), stable_net(-12), 0, false),
            Err(WeighRefusal::Negative)
        );
    }

    #[test]
    fn a_net_reading_from_the_scale_is_its_own_net() {
        assert_eq!(check(&config(), stable_net(500), 0, false), Ok(500));
        assert_eq!(
            check(&config(), stable_net(15_001), 0, false),
            Err(WeighRefusal::OverCapacity)
        );
    }

    #[test]
    fn the_maximum_per_weighing_is_enforced_when_set() {
        let compost = MetrologyConfig {
            min_net_g: 100,
            max_net_g: Some(10_000),
            ..config()
        };
        assert_eq!(check(&compost, stable(10_000), 0, false), Ok(10_000));
        assert_eq!(
            check(&compost, stable(10_001), 0, false),
            Err(WeighRefusal::AboveMaximum)
        );
        assert_eq!(
            check(&compost, stable(99), 0, false),
            Err(WeighRefusal::BelowMinimum)
        );
    }

    #[test]
    fn a_pending_return_to_zero_refuses_the_next_line() {
        assert_eq!(
            check(&config(), stable(1234), 0, true),
            Err(WeighRefusal::NoReturnToZero)
        );
    }

    #[test]
    fn comptoir_tare_is_refused_on_legal_for_trade_installations() {
        assert_eq!(
            check(&config(), stable(1500), 300, false),
            Err(WeighRefusal::SoftwareTareNotAllowed)
        );
    }

    #[test]
    fn comptoir_tare_is_subtracted_when_not_legal_for_trade() {
        assert_eq!(check(&not_legal(), stable(1500), 300, false), Ok(1200));
        // the container alone: net zero, below the minimum
        assert_eq!(
            check(&not_legal(), stable(300), 300, false),
            Err(WeighRefusal::BelowMinimum)
        );
        // tare heavier than the load
        assert_eq!(
            check(&not_legal(), stable(200), 300, false),
            Err(WeighRefusal::Negative)
        );
    }

    #[test]
    fn capacity_applies_to_the_gross_load() {
        // 14,9 kg of load in a 300 g crate: 15,2 kg on the platform.
        assert_eq!(
            check(&not_legal(), stable(15_200), 300, false),
            Err(WeighRefusal::OverCapacity)
        );
    }

    #[test]
    fn bad_and_double_tares_are_refused() {
        assert_eq!(
            check(&not_legal(), stable(1500), -1, false),
            Err(WeighRefusal::BadTare)
        );
        assert_eq!(
            check(&not_legal(), stable_net(1500), 300, false),
            Err(WeighRefusal::DoubleTare)
        );
    }

    #[test]
    fn a_scale_fault_is_a_refusal_with_its_token() {
        let guard = WeighGuard::new(config());
        let refusal = guard.check(&Err(ScaleFault::NoAnswer), 0).unwrap_err();
        assert_eq!(refusal, WeighRefusal::ScaleError(ScaleFault::NoAnswer));
        assert_eq!(refusal.code(), "scale_error");
        assert_eq!(refusal.fault_code(), Some("no_answer"));
        assert_eq!(WeighRefusal::Unstable.fault_code(), None);
    }

    #[test]
    fn the_guard_refuses_the_same_load_twice() {
        let mut guard = WeighGuard::new(config());
        let load = stable(1234);
        guard.observe(&load, 0);
        assert_eq!(
            guard.add(&load, 0),
            Ok(WeighedNet {
                grams: 1234,
                source: WeightSource::Scale
            })
        );
        assert!(guard.needs_zero_return());
        guard.observe(&load, 0);
        assert_eq!(guard.add(&load, 0), Err(WeighRefusal::NoReturnToZero));
        // a different load without emptying the scale is still refused
        guard.observe(&stable(2000), 0);
        assert_eq!(
            guard.add(&stable(2000), 0),
            Err(WeighRefusal::NoReturnToZero)
        );
    }

    #[test]
    fn a_stable_reading_below_the_minimum_is_the_return_to_zero() {
        let mut guard = WeighGuard::new(config());
        guard.add(&stable(1234), 0).unwrap();
        guard.observe(&stable(39), 0);
        assert!(!guard.needs_zero_return());
        assert_eq!(guard.add(&stable(800), 0).map(|w| w.grams), Ok(800));
    }

    #[test]
    fn an_unstable_dip_is_not_a_return_to_zero() {
        let mut guard = WeighGuard::new(config());
        guard.add(&stable(1234), 0).unwrap();
        guard.observe(&moving(0), 0);
        assert!(guard.needs_zero_return());
        guard.observe(&stable(1234), 0);
        assert_eq!(
            guard.add(&stable(1234), 0),
            Err(WeighRefusal::NoReturnToZero)
        );
    }

    #[test]
    fn a_negative_or_under_zero_reading_is_a_return_to_zero() {
        let mut guard = WeighGuard::new(config());
        guard.add(&stable(1234), 0).unwrap();
        guard.observe(&stable(-4), 0);
        assert!(!guard.needs_zero_return());

        guard.add(&stable(1234), 0).unwrap();
        guard.observe(&Err(ScaleFault::UnderZero), 0);
        assert!(!guard.needs_zero_return());
    }

    #[test]
    fn other_faults_do_not_reset_the_guard() {
        let mut guard = WeighGuard::new(config());
        guard.add(&stable(1234), 0).unwrap();
        for fault in [
            ScaleFault::Motion,
            ScaleFault::OverCapacity,
            ScaleFault::NotZeroed,
            ScaleFault::NoAnswer,
            ScaleFault::Garbage,
            ScaleFault::Disconnected,
            ScaleFault::UnsupportedUnit,
        ] {
            guard.observe(&Err(fault), 0);
            assert!(guard.needs_zero_return(), "{fault:?}");
        }
    }

    #[test]
    fn with_a_container_tare_the_empty_container_is_zero() {
        let mut guard = WeighGuard::new(not_legal());
        guard.add(&stable(1500), 300).unwrap();
        guard.observe(&stable(300), 300); // load removed, crate stays
        assert!(!guard.needs_zero_return());
    }

    #[test]
    fn a_refused_add_does_not_arm_the_guard() {
        let mut guard = WeighGuard::new(config());
        assert_eq!(guard.add(&moving(500), 0), Err(WeighRefusal::Unstable));
        assert!(!guard.needs_zero_return());
        assert!(guard.add(&stable(500), 0).is_ok());
    }

    #[test]
    fn reset_forgets_a_pending_return_to_zero() {
        let mut guard = WeighGuard::new(config());
        guard.add(&stable(500), 0).unwrap();
        guard.reset();
        assert!(!guard.needs_zero_return());
    }

    #[test]
    fn manual_weights_are_marked_and_checked() {
        let guard = WeighGuard::new(config());
        let w = guard.add_manual(1234, true).unwrap();
        assert!(w.is_manual());
        assert_eq!(w.grams, 1234);
        assert_eq!(
            guard.add_manual(1234, false),
            Err(WeighRefusal::ManualNotAllowed)
        );
        assert_eq!(guard.add_manual(0, true), Err(WeighRefusal::BelowMinimum));
        assert_eq!(guard.add_manual(-5, true), Err(WeighRefusal::Negative));
        // a small manual weight is allowed: it did not come from this scale
        assert!(guard.add_manual(5, true).is_ok());
        let compost = MetrologyConfig {
            max_net_g: Some(10_000),
            ..config()
        };
        assert_eq!(
            check_manual_weight(&compost, 10_001, true),
            Err(WeighRefusal::AboveMaximum)
        );
    }

    #[test]
    fn a_manual_weight_does_not_need_nor_arm_a_return_to_zero() {
        let mut guard = WeighGuard::new(config());
        guard.add(&stable(500), 0).unwrap();
        assert!(guard.add_manual(700, true).is_ok());
        assert!(guard.needs_zero_return());
        let mut fresh = WeighGuard::new(config());
        fresh.add_manual(700, true).unwrap();
        assert!(!fresh.needs_zero_return());
        assert!(fresh.add(&stable(500), 0).is_ok());
    }

    #[test]
    fn refusals_come_in_a_fixed_order() {
        // unstable wins over below-minimum and over a pending zero return
        assert_eq!(
            check(&config(), moving(5), 0, true),
            Err(WeighRefusal::Unstable)
        );
        // negative wins over a pending zero return
        assert_eq!(
            check(&config(), stable(-5), 0, true),
            Err(WeighRefusal::Negative)
        );
        // over capacity wins over a pending zero return
        assert_eq!(
            check(&config(), stable(20_000), 0, true),
            Err(WeighRefusal::OverCapacity)
        );
    }

    #[test]
    fn config_defaults_and_interval() {
        let d = MetrologyConfig::default();
        assert_eq!(
            (d.min_net_g, d.capacity_g, d.legal_for_trade),
            (20, 15_000, true)
        );
        assert!(d.is_valid());
        let c = MetrologyConfig::from_interval(2, 6000);
        assert_eq!((c.min_net_g, c.capacity_g), (40, 6000));
        assert!(c.is_valid());
        assert!(!MetrologyConfig { min_net_g: 0, ..d }.is_valid());
        assert!(!MetrologyConfig {
            min_net_g: 20_000,
            ..d
        }
        .is_valid());
        assert!(!MetrologyConfig {
            max_net_g: Some(20_000),
            ..d
        }
        .is_valid());
        assert!(!MetrologyConfig {
            max_net_g: Some(10),
            ..d
        }
        .is_valid());
    }

    #[test]
    fn fault_codes_round_trip() {
        for code in [
            "motion",
            "over_capacity",
            "under_zero",
            "not_zeroed",
            "unsupported_unit",
            "no_answer",
            "garbage",
            "disconnected",
        ] {
            assert_eq!(ScaleFault::from_code(code).map(|f| f.code()), Some(code));
        }
        assert_eq!(ScaleFault::from_code("overload"), None);
    }

    #[test]
    fn refusal_codes_are_distinct_tokens() {
        let all = [
            WeighRefusal::Unstable,
            WeighRefusal::BelowMinimum,
            WeighRefusal::AboveMaximum,
            WeighRefusal::OverCapacity,
            WeighRefusal::Negative,
            WeighRefusal::NoReturnToZero,
            WeighRefusal::ScaleError(ScaleFault::Motion),
            WeighRefusal::BadTare,
            WeighRefusal::SoftwareTareNotAllowed,
            WeighRefusal::DoubleTare,
            WeighRefusal::ManualNotAllowed,
        ];
        let mut codes: Vec<&str> = all.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(codes
            .iter()
            .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
    }
}
