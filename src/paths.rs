//! Where Comptoir keeps its files (XDG base directories on Linux).

use std::path::PathBuf;

fn dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "comptoir")
}

/// `$XDG_DATA_HOME/comptoir` (usually `~/.local/share/comptoir`).
pub fn data_dir() -> PathBuf {
    dirs()
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `$XDG_CONFIG_HOME/comptoir` (usually `~/.config/comptoir`).
pub fn config_dir() -> PathBuf {
    dirs()
        .map(|d| d.config_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The default config file.
pub fn default_config() -> PathBuf {
    config_dir().join("config.toml")
}

/// The real database, unless the config or `--db` names another.
pub fn default_db() -> PathBuf {
    data_dir().join("comptoir.db")
}

/// The demo database: demo mode never touches the real one.
pub fn demo_db() -> PathBuf {
    data_dir().join("demo.db")
}
