//! The child of the power-cut harness (`tests/kill.rs`), behind the hidden command
//! `comptoir crash-writer --db PATH --seed N`: a scripted stream of sales, refunds and cash
//! movements, each committed in its own write transaction (`Store::write`) exactly as the kiosk
//! does, and one line on standard output per committed operation, printed and flushed only
//! after the commit returned:
//!
//! - `sale SEQ TOTAL_CENTS`
//! - `refund SEQ ORIGINAL_SEQ TOTAL_CENTS`
//! - `movement ID SEQ CENTS`
//! - `session ID` (a cash session opened)
//!
//! The harness kills it with SIGKILL at random moments and checks that every reported
//! operation is in the database, whole.

use std::io::Write;
use std::path::Path;

use chrono::Utc;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::cart::{Cart, LineKind, PaymentMethod, PaymentPolicy, Sale};
use crate::store::cash::{self, MovementReason};
use crate::store::sales::{self, SaleContext};
use crate::store::{Access, Store};

const CASHIER: i64 = 1;

fn random_sale(rng: &mut ChaCha8Rng) -> Result<Sale, String> {
    let mut cart = Cart::new(CASHIER);
    for _ in 0..rng.gen_range(1..=4) {
        let kind = match rng.gen_range(0..3) {
            0 => LineKind::Weighed {
                grams: rng.gen_range(50..5000),
                cents_per_kg: rng.gen_range(100..1200),
                manual: false,
            },
            1 => LineKind::Piece {
                qty: rng.gen_range(1..6),
                unit_cents: rng.gen_range(50..400),
                avg_weight_g: None,
            },
            _ => LineKind::Divers {
                cents: rng.gen_range(10..2000),
            },
        };
        cart.add_line(rng.gen_range(1..25), "Légume", 550, kind)
            .map_err(|e| e.code().to_string())?;
    }
    let total = cart.totals().map_err(|e| e.code().to_string())?.total;
    let policy = PaymentPolicy::default();
    let method = if rng.gen_bool(0.6) {
        PaymentMethod::Cash
    } else {
        PaymentMethod::Card
    };
    let paid = if method == PaymentMethod::Cash {
        total + rng.gen_range(0..500)
    } else {
        total
    };
    cart.add_payment(method, paid, &policy)
        .map_err(|e| e.code().to_string())?;
    cart.close_paid().map_err(|e| e.code().to_string())
}

/// Runs the stream until killed, or for `count` operations. Returns an error text on a
/// failure (the harness treats any such exit as a fault).
pub fn run(db: &Path, seed: u64, count: Option<u64>) -> Result<(), String> {
    let mut store = Store::open(db, Access::ReadWrite).map_err(|e| e.to_string())?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let out = std::io::stdout();
    let mut out = out.lock();
    let mut report = |line: String| -> Result<(), String> {
        writeln!(out, "{line}")
            .and_then(|_| out.flush())
            .map_err(|e| e.to_string())
    };
    let mut session = cash::current_session(store.conn())
        .map_err(|e| e.to_string())?
        .map(|s| s.id);
    let mut done = 0u64;
    while count.is_none_or(|c| done < c) {
        let now = Utc::now();
        let Some(session_id) = session else {
            let tx = store.write().map_err(|e| e.to_string())?;
            let id = cash::open_session(&tx, CASHIER, rng.gen_range(0..20_000), now)
                .map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            report(format!("session {id}"))?;
            session = Some(id);
            continue;
        };
        let ctx = SaleContext {
            cashier_id: CASHIER,
            cashier_name: "Crash".into(),
            cash_session: Some(session_id),
            training: false,
        };
        let roll = rng.gen_range(0..100);
        if roll < 70 {
            let sale = random_sale(&mut rng)?;
            let tx = store.write().map_err(|e| e.to_string())?;
            let entry = sales::record_sale(&tx, &sale, &ctx, now).map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            report(format!("sale {} {}", entry.seq, sale.totals.total))?;
        } else if roll < 82 {
            // A sale not refunded yet, if any.
            let original: Option<i64> = store
                .conn()
                .query_row(
                    "SELECT s.seq FROM sales s WHERE s.kind = 'sale'
                       AND NOT EXISTS (SELECT 1 FROM sales r WHERE r.refund_of = s.seq)
                     ORDER BY random() LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .ok();
            let Some(original) = original else { continue };
            let tx = store.write().map_err(|e| e.to_string())?;
            let entry =
                sales::record_refund(&tx, original, &[], &ctx, now).map_err(|e| e.to_string())?;
            let total: i64 = tx
                .query_row(
                    "SELECT total_cents FROM sales WHERE seq = ?1",
                    [entry.seq],
                    |r| r.get(0),
                )
                .map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            report(format!("refund {} {original} {total}", entry.seq))?;
        } else if roll < 97 {
            let (reason, cents) = if rng.gen_bool(0.5) {
                (MovementReason::FloatTopUp, rng.gen_range(1..5000))
            } else {
                (MovementReason::BankDeposit, -rng.gen_range(1..5000))
            };
            let tx = store.write().map_err(|e| e.to_string())?;
            let id = cash::add_movement(&tx, session_id, CASHIER, cents, reason, now)
                .map_err(|e| e.to_string())?;
            let seq: i64 = tx
                .query_row("SELECT seq FROM cash_movements WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            report(format!("movement {id} {seq} {cents}"))?;
        } else {
            // Close the session (an empty drawer counted: the difference is recorded) and
            // open another on the next turn.
            let counted = cash::Denominations::new();
            let tx = store.write().map_err(|e| e.to_string())?;
            cash::close_session(&tx, session_id, CASHIER, &counted, now)
                .map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            report(format!("closed {session_id}"))?;
            session = None;
        }
        done += 1;
    }
    Ok(())
}
