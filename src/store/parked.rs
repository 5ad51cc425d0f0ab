//! Carts not paid yet, one per seller (`parked_carts`, migration 11): a cart survives a screen
//! lock, another seller's turn and a power cut. This is scratch state, not a record: the row
//! is rewritten at each change of the cart and deleted in the same transaction that records
//! the sale or the abandoned cart, so a cart can never come back after it was sold.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use crate::domain::cart::Cart;

/// Saves (or replaces) `seller`'s cart; an empty cart is removed instead.
pub fn save(
    conn: &Connection,
    seller: i64,
    cart: &Cart,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    if cart.lines().is_empty() && cart.payments().is_empty() {
        return remove(conn, seller);
    }
    let json = serde_json::to_string(cart).expect("a cart serialises");
    conn.execute(
        "INSERT INTO parked_carts (seller_id, cart, saved_utc) VALUES (?1, ?2, ?3)
         ON CONFLICT (seller_id) DO UPDATE SET cart = excluded.cart, saved_utc = excluded.saved_utc",
        params![seller, json, super::utc_text(now)],
    )?;
    Ok(())
}

/// Forgets `seller`'s cart (it was sold or abandoned, in the caller's transaction).
pub fn remove(conn: &Connection, seller: i64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM parked_carts WHERE seller_id = ?1", [seller])?;
    Ok(())
}

/// Every parked cart, by seller. A row that does not read as a cart (written by another
/// version) is left in place and skipped, with a log line: nothing is thrown away unseen.
pub fn load_all(conn: &Connection) -> rusqlite::Result<Vec<(i64, Cart)>> {
    let mut st = conn.prepare("SELECT seller_id, cart FROM parked_carts ORDER BY seller_id")?;
    let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    let mut carts = Vec::new();
    for row in rows {
        let (seller, json) = row?;
        match serde_json::from_str::<Cart>(&json) {
            Ok(cart) => carts.push((seller, cart)),
            Err(e) => log::warn!("parked cart of seller {seller} unreadable: {e}"),
        }
    }
    Ok(carts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cart::{Discount, LineKind, PaymentMethod, PaymentPolicy};

    #[test]
    fn a_parked_cart_comes_back_as_it_was_and_goes_when_emptied() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let conn = store.conn();
        conn.execute(
            "INSERT INTO staff (id, name, role, pin_hash, active, created_utc) VALUES (7, 'Amina', 'seller', 'x', 1, '2026-06-13T08:00:00Z')",
            [],
        )
        .unwrap();
        let mut cart = Cart::new(7);
        cart.add_line(
            10,
            "Tomates",
            550,
            LineKind::Weighed {
                grams: 1234,
                cents_per_kg: 350,
                manual: false,
            },
        )
        .unwrap();
        cart.add_line(
            11,
            "Œufs",
            550,
            LineKind::Piece {
                qty: 6,
                unit_cents: 35,
                avg_weight_g: Some(60),
            },
        )
        .unwrap();
        cart.set_line_discount(2, Discount::percent(2000, 7))
            .unwrap();
        cart.add_payment(PaymentMethod::Card, 200, &PaymentPolicy::default())
            .unwrap();
        let now = chrono::Utc::now();
        save(conn, 7, &cart, now).unwrap();
        save(conn, 7, &cart, now).unwrap();
        let back = load_all(conn).unwrap();
        assert_eq!(back, vec![(7, cart.clone())]);
        save(conn, 7, &Cart::new(7), now).unwrap();
        assert!(load_all(conn).unwrap().is_empty());
    }
}
