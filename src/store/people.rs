//! Staff (who signs in, with which role) and residents (pseudonymous, with their cards).

use rusqlite::{params, Connection, OptionalExtension};

/// What a member of staff may do; see ARCHITECTURE.md, "Roles and the lockdown", and the role
/// matrix in `app::roles`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Seller,
    GardenLead,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Seller => "seller",
            Role::GardenLead => "garden_lead",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "seller" => Some(Role::Seller),
            "garden_lead" => Some(Role::GardenLead),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

/// Hashes a PIN with argon2id and a random salt (PHC string).
pub fn hash_pin(pin: &str) -> String {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts any PIN")
        .to_string()
}

/// Checks a PIN against a stored hash; a malformed hash never matches.
pub fn verify_pin(pin: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2::Argon2::default()
            .verify_password(pin.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Adds a member of staff with an already hashed PIN. Returns the id.
pub fn add_staff(
    conn: &Connection,
    name: &str,
    role: Role,
    pin_hash: &str,
    now_utc: &str,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO staff (name, role, pin_hash, created_utc) VALUES (?1, ?2, ?3, ?4)",
        params![name.trim(), role.as_str(), pin_hash, now_utc],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A staff row selected as `id, name, role, active`.
fn staff_from_row(r: &rusqlite::Row) -> rusqlite::Result<Staff> {
    let role: String = r.get(2)?;
    Ok(Staff {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Seller),
        active: r.get(3)?,
    })
}

/// Active staff, by name.
pub fn active_staff(conn: &Connection) -> rusqlite::Result<Vec<Staff>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, role, active FROM staff WHERE active = 1 ORDER BY name COLLATE NOCASE, id",
    )?;
    let rows = stmt.query_map([], staff_from_row)?;
    rows.collect()
}

/// A resident as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResident<'a> {
    pub nickname: Option<&'a str>,
    pub building: Option<&'a str>,
    pub household_size: Option<i64>,
    pub language: &'a str,
    pub consent_date: Option<&'a str>,
}

/// Registers a resident. Returns the internal resident number.
pub fn add_resident(conn: &Connection, r: &NewResident, now_utc: &str) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO residents (nickname, building, household_size, language, consent_date, created_utc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![r.nickname, r.building, r.household_size, r.language, r.consent_date, now_utc],
    )?;
    Ok(conn.last_insert_rowid())
}

/// What `cards.token_sha256` keeps of a card token: SHA-256 of the token text, lowercase hex.
/// The token itself is never stored, so a copy of the database prints no card.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issues a card with `token` to a resident, revoking the card they had. Only the token's hash
/// is stored: the caller keeps the token to print the card.
pub fn issue_card(
    conn: &Connection,
    resident_id: i64,
    token: &str,
    now_utc: &str,
) -> rusqlite::Result<i64> {
    conn.execute(
        "UPDATE cards SET revoked_utc = ?2 WHERE resident_id = ?1 AND revoked_utc IS NULL",
        params![resident_id, now_utc],
    )?;
    conn.execute(
        "INSERT INTO cards (resident_id, token_sha256, issued_utc) VALUES (?1, ?2, ?3)",
        params![resident_id, token_hash(token), now_utc],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The resident holding a valid (not revoked) card with this token.
pub fn resident_by_token(conn: &Connection, token: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT resident_id FROM cards WHERE token_sha256 = ?1 AND revoked_utc IS NULL",
        [token_hash(token)],
        |r| r.get(0),
    )
    .optional()
}

pub fn resident_count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM residents", [], |r| r.get(0))
}

/// Hashes a PIN with a given salt: the demo seed uses it so that the same seed gives the same
/// rows. Real PINs use [`hash_pin`] and a random salt.
pub fn hash_pin_with_salt(pin: &str, salt: &[u8; 16]) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(salt).expect("16 bytes make a valid salt");
    argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts any PIN")
        .to_string()
}

/// A card token as the card carries it: 128 random bits, lowercase hex.
pub fn token_text(bytes: &[u8; 16]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random card token.
pub fn new_token() -> String {
    let bytes: [u8; 16] = rand::random();
    token_text(&bytes)
}

/// One member of staff, active or retired, with the PIN hash.
pub fn staff_by_id(conn: &Connection, id: i64) -> rusqlite::Result<Option<(Staff, String)>> {
    conn.query_row(
        "SELECT id, name, role, active, pin_hash FROM staff WHERE id = ?1",
        [id],
        |r| {
            let role: String = r.get(2)?;
            Ok((
                Staff {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    role: Role::parse(&role).unwrap_or(Role::Seller),
                    active: r.get(3)?,
                },
                r.get(4)?,
            ))
        },
    )
    .optional()
}

/// Everyone, active first, then by name.
pub fn all_staff(conn: &Connection) -> rusqlite::Result<Vec<Staff>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, role, active FROM staff ORDER BY active DESC, name COLLATE NOCASE, id",
    )?;
    let rows = stmt.query_map([], staff_from_row)?;
    rows.collect()
}

/// Is this name taken by another active person (case and surrounding spaces ignored)?
pub fn active_name_taken(
    conn: &Connection,
    name: &str,
    except: Option<i64>,
) -> rusqlite::Result<bool> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM staff WHERE active = 1 AND lower(trim(name)) = lower(trim(?1)) AND id != ?2",
        params![name, except.unwrap_or(-1)],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

pub fn active_admin_count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM staff WHERE active = 1 AND role = 'admin'",
        [],
        |r| r.get(0),
    )
}

pub fn set_staff_name(conn: &Connection, id: i64, name: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE staff SET name = ?2 WHERE id = ?1",
        params![id, name.trim()],
    )?;
    Ok(())
}

pub fn set_staff_role(conn: &Connection, id: i64, role: Role) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE staff SET role = ?2 WHERE id = ?1",
        params![id, role.as_str()],
    )?;
    Ok(())
}

pub fn set_staff_active(conn: &Connection, id: i64, active: bool) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE staff SET active = ?2 WHERE id = ?1",
        params![id, active],
    )?;
    Ok(())
}

pub fn set_staff_pin_hash(conn: &Connection, id: i64, pin_hash: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE staff SET pin_hash = ?2 WHERE id = ?1",
        params![id, pin_hash],
    )?;
    Ok(())
}

/// What happened to or was done by staff; see the `staff_events` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffEvent {
    SignedIn,
    SignedOut,
    TimedOut,
    PinFailed,
    Locked,
    Denied,
    Created,
    Renamed,
    RoleChanged,
    Retired,
    Reactivated,
    PinReset,
    /// An admin lifted a PIN lock (the escalation starts again).
    LockLifted,
    /// A wrong PIN typed at the sign-in the composter's screens ask for: recorded, it counts
    /// toward no one's lock (a resident must not lock a seller out).
    PinFailedResident,
}

impl StaffEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffEvent::SignedIn => "signed_in",
            StaffEvent::SignedOut => "signed_out",
            StaffEvent::TimedOut => "timed_out",
            StaffEvent::PinFailed => "pin_failed",
            StaffEvent::Locked => "locked",
            StaffEvent::Denied => "denied",
            StaffEvent::Created => "created",
            StaffEvent::Renamed => "renamed",
            StaffEvent::RoleChanged => "role_changed",
            StaffEvent::Retired => "retired",
            StaffEvent::Reactivated => "reactivated",
            StaffEvent::PinReset => "pin_reset",
            StaffEvent::LockLifted => "lock_lifted",
            StaffEvent::PinFailedResident => "pin_failed_resident",
        }
    }
}

/// Records a staff event.
pub fn record_event(
    conn: &Connection,
    now_utc: &str,
    kind: StaffEvent,
    staff_id: Option<i64>,
    actor_id: Option<i64>,
    screen: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    // Sign-in events are written outside any transaction: the row and its link go together.
    super::atomically(conn, || {
        conn.execute(
            "INSERT INTO staff_events (time_utc, staff_id, actor_id, kind, screen, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![now_utc, staff_id, actor_id, kind.as_str(), screen, detail],
        )?;
        super::ledger::chain_row(conn, &super::ledger::STAFF_EVENTS, conn.last_insert_rowid())
    })
}

/// Failed PINs at the staff-side sign-in since the person's last sign-in, lock, lifted lock
/// or PIN reset.
pub fn failures_since_reset(conn: &Connection, staff_id: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM staff_events WHERE staff_id = ?1 AND kind = 'pin_failed' AND id > coalesce(
             (SELECT max(id) FROM staff_events WHERE staff_id = ?1
                AND kind IN ('signed_in', 'locked', 'pin_reset', 'lock_lifted')), 0)",
        [staff_id],
        |r| r.get(0),
    )
}

/// The person's last lock, unless a PIN reset or an admin lifted it since: when it started,
/// and how many locks there have been since their last sign-in, lifted lock or PIN reset (1
/// for the first; the lock's length grows with it).
pub fn last_lock(conn: &Connection, staff_id: i64) -> rusqlite::Result<Option<(String, i64)>> {
    conn.query_row(
        "WITH reset AS (SELECT coalesce(max(id), 0) AS id FROM staff_events WHERE staff_id = ?1
                          AND kind IN ('signed_in', 'pin_reset', 'lock_lifted')),
              locks AS (SELECT id, time_utc FROM staff_events WHERE staff_id = ?1 AND kind = 'locked'
                          AND id > (SELECT id FROM reset))
         SELECT time_utc, (SELECT count(*) FROM locks) FROM locks ORDER BY id DESC LIMIT 1",
        [staff_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// A wrong PIN as the admins' banner lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinFailure {
    pub staff_id: i64,
    pub name: String,
    /// The screen it was typed on (`login`, `lockdown`, `tickets.refund`...).
    pub screen: String,
    /// Typed at the sign-in the composter's screens ask for.
    pub resident_side: bool,
    pub count: i64,
    /// The last one.
    pub last_utc: String,
}

/// Wrong PINs recorded after event `after_id` and at or after `since_utc`, grouped by person,
/// screen and side, latest first.
pub fn pin_failures_after(
    conn: &Connection,
    after_id: i64,
    since_utc: &str,
) -> rusqlite::Result<Vec<PinFailure>> {
    let mut stmt = conn.prepare(
        "SELECT e.staff_id, s.name, e.screen, e.kind = 'pin_failed_resident', count(*), max(e.time_utc)
           FROM staff_events e JOIN staff s ON s.id = e.staff_id
          WHERE e.kind IN ('pin_failed', 'pin_failed_resident') AND e.id > ?1 AND e.time_utc >= ?2
          GROUP BY e.staff_id, e.screen, e.kind
          ORDER BY max(e.time_utc) DESC, e.staff_id",
    )?;
    let rows = stmt.query_map(params![after_id, since_utc], |r| {
        Ok(PinFailure {
            staff_id: r.get(0)?,
            name: r.get(1)?,
            screen: r.get(2)?,
            resident_side: r.get(3)?,
            count: r.get(4)?,
            last_utc: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// The id of the person's sign-in before their last one (0: none): the admins' banner lists
/// the wrong PINs since then.
pub fn previous_sign_in(conn: &Connection, staff_id: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT coalesce((SELECT id FROM staff_events WHERE staff_id = ?1 AND kind = 'signed_in'
                           ORDER BY id DESC LIMIT 1 OFFSET 1), 0)",
        [staff_id],
        |r| r.get(0),
    )
}

/// The times of the wrong PINs typed from the resident screens at or after `since_utc`,
/// oldest first (anyone's).
pub fn resident_failure_times(conn: &Connection, since_utc: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT time_utc FROM staff_events WHERE kind = 'pin_failed_resident' AND time_utc >= ?1
          ORDER BY time_utc, id",
    )?;
    let rows = stmt.query_map([since_utc], |r| r.get(0))?;
    rows.collect()
}

/// The kinds of a person's events, oldest first (tests and audits).
pub fn event_kinds(conn: &Connection, staff_id: i64) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT kind FROM staff_events WHERE staff_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([staff_id], |r| r.get(0))?;
    rows.collect()
}

/// The 16 bytes of a token (see [`token_text`]); `None` when it is not one.
pub fn token_bytes(text: &str) -> Option<[u8; 16]> {
    if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sign-in event is written outside any transaction: when its chain link cannot be
    /// written, the event is not left behind without it (which `journal verify` would call
    /// broken).
    #[test]
    fn an_event_and_its_chain_link_are_written_together() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let conn = store.conn();
        let now = "2026-06-13T08:00:00Z";
        record_event(conn, now, StaffEvent::PinFailed, None, None, "login", "").unwrap();
        let count = |table: &str| -> i64 {
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!((count("staff_events"), count("ledger_chain")), (1, 1));
        conn.execute_batch(
            "CREATE TEMP TRIGGER no_links BEFORE INSERT ON ledger_chain
             BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
        let failed = record_event(conn, now, StaffEvent::PinFailed, None, None, "login", "");
        assert!(failed.is_err());
        assert_eq!((count("staff_events"), count("ledger_chain")), (1, 1));
        assert!(conn.is_autocommit(), "no transaction left open");
        conn.execute_batch("DROP TRIGGER temp.no_links").unwrap();
        record_event(conn, now, StaffEvent::PinFailed, None, None, "login", "").unwrap();
        assert_eq!((count("staff_events"), count("ledger_chain")), (2, 2));
    }
}
