//! Comptoir: the touchscreen kiosk of a neighbourhood association's market stall, garden and
//! shared composter. See ARCHITECTURE.md (where things are, the rules and their tests) and the
//! README.
//!
//! Dependencies point inward: `ui -> app -> (domain, store, devices) -> hardware`.

pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod devices;
pub mod domain;
pub mod export;
pub mod hours;
pub mod paths;
pub mod store;
pub mod ui;
