//! Comptoir's integration tests, one module per subject, built as a single test binary: every
//! test binary links the whole Slint stack, so one link instead of fourteen keeps CI's disk and
//! time in check. Run one subject with `cargo test --test integration store::`.

mod common;

mod archive;
mod audit;
mod backup;
mod cash;
mod cli;
mod clock;
mod closures;
mod compost;
mod devices;
mod endurance;
mod faults;
mod garden;
mod hardware_cli;
mod journal;
// `comptoir crash-writer` exists in debug builds only.
#[cfg(debug_assertions)]
mod kill;
mod languages;
mod pins;
mod products;
mod read_failures;
mod sales;
mod selling_ui;
mod staff;
mod store;
mod tickets;
mod touch;
mod translations;
mod ui;
mod witness;
