#![no_main]
//! The kiosk's config parser (`src/config.rs` of the app, compiled here on its own so the fuzz
//! build does not pull in the UI): any text gives a config or an error that names a line of
//! the file, never a panic.
use std::path::Path;

use libfuzzer_sys::fuzz_target;

#[path = "../../../src/config.rs"]
#[allow(dead_code)]
mod config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match config::Config::parse(Path::new("config.toml"), text) {
        Ok(c) => {
            // A config that parses is a config the kiosk can use.
            let _ = c.tz();
            assert!(config::LANGUAGES.contains(&c.language.as_str()));
            assert!(!c.association.name.trim().is_empty());
        }
        Err(e) => {
            let lines = text.split('\n').count();
            assert!(e.line <= lines, "line {} of a {lines}-line text", e.line);
            let _ = e.to_string();
        }
    }
});
