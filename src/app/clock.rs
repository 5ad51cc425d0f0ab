//! The time source of the controllers: the system clock, or a clock that tests and screenshots
//! set by hand.

use std::cell::Cell;
use std::rc::Rc;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub enum Clock {
    System,
    /// A time that only moves when told to (tests, reproducible screenshots).
    Manual(Rc<Cell<DateTime<Utc>>>),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Manual(t) => t.get(),
        }
    }

    pub fn manual(at: DateTime<Utc>) -> Clock {
        Clock::Manual(Rc::new(Cell::new(at)))
    }

    /// Moves a manual clock forward; does nothing to the system clock.
    pub fn advance(&self, by: chrono::Duration) {
        if let Clock::Manual(t) = self {
            t.set(t.get() + by);
        }
    }
}
