//! `comptoir key ...`: the association's recovery key, and rotating the kiosk's signing key
//! with it when the kiosk's key is lost (`store::journal`, "Signatures and keys").
//!
//! - `key recovery-new --out FILE` (any computer, no database): makes the recovery key pair;
//!   FILE (mode 0600, never overwritten) holds the private half, to keep offline. Prints
//!   `public: HEX` and `fingerprint: ed25519:...`.
//! - `key recovery-register --db PATH --public HEX`: journals the public half, signed by the
//!   kiosk's current key (`<db>.key`). Prints `registered: seq N` (or `already: seq N`).
//! - `key rotate --db PATH --recovery FILE`: writes a new `<db>.key` and journals its
//!   registration attested by the recovery key. Prints `rotated: seq N` and the new key's
//!   fingerprint.
//!
//! The recovery key's private half is only read from FILE, in memory, for the one signature:
//! it never enters the database, the print queue, a log or a backup.

use std::path::{Path, PathBuf};

use chrono::Utc;
use clap::Subcommand;
use serde_json::{Map, Value};

use crate::cli::{EXIT_DATABASE, EXIT_FAILED, EXIT_USAGE};
use crate::store::journal::{self, JournalError};
use crate::store::lock::DbLock;
use crate::store::{Access, Store};

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Makes the association's recovery key pair (on any computer; no database). FILE gets the
    /// private half (mode 0600; it must not exist): keep it offline, on paper or a stick in a
    /// safe, never on the kiosk. Prints `public: HEX` and `fingerprint: ed25519:...`.
    RecoveryNew {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Registers the recovery key's public half (HEX, from recovery-new) in the journal of
    /// --db, signed by the kiosk's key. Prints `registered: seq N`, or `already: seq N`.
    RecoveryRegister {
        #[arg(long, value_name = "HEX")]
        public: String,
    },
    /// The kiosk's key is lost: makes a new <db>.key and journals it attested by the recovery
    /// key in FILE (which must be the one registered). Prints `rotated: seq N` and
    /// `fingerprint: ed25519:...`. Stop the kiosk first.
    Rotate {
        #[arg(long, value_name = "FILE")]
        recovery: PathBuf,
    },
}

pub fn run(db: Option<&Path>, command: &KeyCommand) -> u8 {
    match command {
        KeyCommand::RecoveryNew { out } => recovery_new(out),
        KeyCommand::RecoveryRegister { public } => match db {
            Some(db) => recovery_register(db, public),
            None => usage("key recovery-register"),
        },
        KeyCommand::Rotate { recovery } => match db {
            Some(db) => rotate(db, recovery),
            None => usage("key rotate"),
        },
    }
}

fn usage(command: &str) -> u8 {
    eprintln!("comptoir: {command} needs --db PATH");
    EXIT_USAGE
}

fn recovery_new(out: &Path) -> u8 {
    match journal::write_recovery_file(out) {
        Ok(key) => {
            let public = key.verifying_key();
            println!("public: {}", hex::encode(public.to_bytes()));
            println!("fingerprint: {}", journal::key_fingerprint(&public));
            eprintln!(
                "comptoir: the recovery key is in {}: keep it offline (paper, a stick in a safe), \
                 never on the kiosk; register its public half with `comptoir key recovery-register`",
                out.display()
            );
            0
        }
        Err(e) => {
            eprintln!("comptoir: {e}");
            EXIT_FAILED
        }
    }
}

/// Opens `db` for writing under its one-process lock (a running kiosk holds it: exit 3).
fn open(db: &Path) -> Result<(DbLock, Store), u8> {
    if !db.exists() {
        eprintln!("comptoir: {}: no database here", db.display());
        return Err(EXIT_DATABASE);
    }
    let lock = DbLock::acquire(db, "comptoir key").map_err(|e| {
        eprintln!("comptoir: {e}");
        EXIT_DATABASE
    })?;
    let store = Store::open(db, Access::ReadWrite).map_err(|e| {
        eprintln!("comptoir: {e}");
        EXIT_DATABASE
    })?;
    Ok((lock, store))
}

fn failed(e: JournalError) -> u8 {
    eprintln!("comptoir: {e}");
    match e {
        JournalError::Sqlite(_) => EXIT_DATABASE,
        _ => EXIT_FAILED,
    }
}

fn recovery_register(db: &Path, public: &str) -> u8 {
    let public = match journal::parse_public_key(public.trim()) {
        Ok(k) => k,
        Err(reason) => {
            eprintln!("comptoir: --public: {reason}");
            return EXIT_USAGE;
        }
    };
    let (_lock, mut store) = match open(db) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let key_path = journal::key_path_for(db);
    let tx = match store.write() {
        Ok(tx) => tx,
        Err(e) => return failed(e.into()),
    };
    let result = journal::register_recovery_key(&tx, &key_path, Utc::now(), &public)
        .and_then(|entry| tx.commit().map(|()| entry).map_err(Into::into));
    match result {
        Ok(Some(entry)) => {
            println!("registered: seq {}", entry.seq);
            println!("fingerprint: {}", journal::key_fingerprint(&public));
            0
        }
        Ok(None) => {
            let seq = journal::registered_recovery_key(store.conn())
                .ok()
                .flatten()
                .map_or(0, |r| r.seq);
            println!("already: seq {seq}");
            0
        }
        Err(e) => failed(e),
    }
}

fn rotate(db: &Path, recovery_file: &Path) -> u8 {
    let recovery = match journal::read_recovery_file(recovery_file) {
        Ok(k) => k,
        Err(e) => return failed(e),
    };
    let (_lock, mut store) = match open(db) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let key_path = journal::key_path_for(db);
    let mut body = Map::new();
    body.insert("reason".into(), Value::from("recovery"));
    let tx = match store.write() {
        Ok(tx) => tx,
        Err(e) => return failed(e.into()),
    };
    let result = journal::rotate_key_with_recovery(&tx, &key_path, Utc::now(), body, &recovery)
        .and_then(|done| tx.commit().map(|()| done).map_err(Into::into));
    match result {
        Ok((key, entry)) => {
            println!("rotated: seq {}", entry.seq);
            println!(
                "fingerprint: {}",
                journal::key_fingerprint(&key.verifying_key())
            );
            0
        }
        Err(e) => failed(e),
    }
}
