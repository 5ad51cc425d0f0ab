//! Schema migrations, applied in order from `PRAGMA user_version`.
//!
//! The rule: never remove or rewrite a migration that has shipped; add a new one at the end.
//! Each runs in the same exclusive transaction as the version bump, so a power cut leaves the
//! database at the old version or the new one, never in between.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::APPLICATION_ID;

/// Every migration, oldest first. Version N is the state after `MIGRATIONS[N - 1]`.
pub const MIGRATIONS: &[&str] = &[
    // 1: kiosk identity and settings that live in the database.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
    ) STRICT;
    "#,
    // 2: the catalogue and the garden's plots.
    r#"
    CREATE TABLE categories (
        id       INTEGER PRIMARY KEY,
        code     TEXT NOT NULL UNIQUE,          -- vegetable, fruit, herb, egg, other
        position INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE TABLE products (
        id           INTEGER PRIMARY KEY,
        name         TEXT NOT NULL CHECK (length(trim(name)) > 0),
        short_code   TEXT NOT NULL UNIQUE CHECK (length(short_code) BETWEEN 2 AND 6),
        category_id  INTEGER NOT NULL REFERENCES categories(id),
        icon         TEXT NOT NULL,             -- file stem in ui/icons
        pricing      TEXT NOT NULL CHECK (pricing IN ('per_kg', 'per_piece', 'per_bunch')),
        price_cents  INTEGER NOT NULL CHECK (price_cents > 0),
        avg_weight_g INTEGER CHECK (avg_weight_g IS NULL OR avg_weight_g > 0),
        vat_bp       INTEGER NOT NULL DEFAULT 550 CHECK (vat_bp BETWEEN 0 AND 10000),
        origin       TEXT NOT NULL DEFAULT '',
        active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        position     INTEGER NOT NULL DEFAULT 0,
        created_utc  TEXT NOT NULL
    ) STRICT;
    -- Every price a product has had, with the date it took effect (a ledger: rows are added).
    CREATE TABLE product_prices (
        id          INTEGER PRIMARY KEY,
        product_id  INTEGER NOT NULL REFERENCES products(id),
        price_cents INTEGER NOT NULL CHECK (price_cents > 0),
        vat_bp      INTEGER NOT NULL,
        since_utc   TEXT NOT NULL
    ) STRICT;
    CREATE INDEX product_prices_by_product ON product_prices(product_id, id);
    CREATE TABLE plots (
        id       INTEGER PRIMARY KEY,
        name     TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
        active   INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        position INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    "#,
    // 3: people. Staff sign in with a PIN; residents are pseudonymous, known by an internal
    // number and a card token; a card is revoked, never deleted.
    r#"
    CREATE TABLE staff (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
        role        TEXT NOT NULL CHECK (role IN ('seller', 'garden_lead', 'admin')),
        pin_hash    TEXT NOT NULL,
        active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        created_utc TEXT NOT NULL
    ) STRICT;
    CREATE TABLE residents (
        id             INTEGER PRIMARY KEY,   -- the internal resident number shown in the UI
        nickname       TEXT,
        building       TEXT,
        household_size INTEGER CHECK (household_size IS NULL OR household_size > 0),
        language       TEXT NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'en', 'tr', 'ar')),
        consent_date   TEXT,
        created_utc    TEXT NOT NULL,
        anonymised_utc TEXT
    ) STRICT;
    CREATE TABLE cards (
        id          INTEGER PRIMARY KEY,
        resident_id INTEGER NOT NULL REFERENCES residents(id),
        token       TEXT NOT NULL UNIQUE,
        issued_utc  TEXT NOT NULL,
        revoked_utc TEXT
    ) STRICT;
    CREATE INDEX cards_by_resident ON cards(resident_id);
    -- Every sign-in, failed PIN, lock and change to staff (a ledger: rows are only added).
    -- PIN lockouts are derived from it, so they survive a restart.
    CREATE TABLE staff_events (
        id       INTEGER PRIMARY KEY,
        time_utc TEXT NOT NULL,
        staff_id INTEGER REFERENCES staff(id),   -- whom it is about
        actor_id INTEGER REFERENCES staff(id),   -- who did it (NULL: the kiosk itself)
        kind     TEXT NOT NULL CHECK (kind IN ('signed_in', 'signed_out', 'timed_out', 'pin_failed',
                   'locked', 'denied', 'created', 'renamed', 'role_changed', 'retired',
                   'reactivated', 'pin_reset')),
        screen   TEXT NOT NULL DEFAULT '',
        detail   TEXT NOT NULL DEFAULT ''
    ) STRICT;
    CREATE INDEX staff_events_by_staff ON staff_events(staff_id, id);
    CREATE TRIGGER staff_events_no_update BEFORE UPDATE ON staff_events
        BEGIN SELECT RAISE(ABORT, 'staff_events is append-only'); END;
    CREATE TRIGGER staff_events_no_delete BEFORE DELETE ON staff_events
        BEGIN SELECT RAISE(ABORT, 'staff_events is append-only'); END;
    "#,
    // 4: receipts and cards waiting for the printer. A job is queued before anything is
    // printed, so no sale waits for the printer and a restart keeps what is waiting.
    r#"
    CREATE TABLE print_queue (
        id          INTEGER PRIMARY KEY,
        created_utc TEXT NOT NULL,
        label       TEXT NOT NULL,             -- what it is, for the screen: "test", "receipt 42"
        data        BLOB NOT NULL,             -- the ESC/POS bytes, for the configured printer
        printed_utc TEXT
    ) STRICT;
    CREATE INDEX print_queue_waiting ON print_queue(id) WHERE printed_utc IS NULL;
    "#,
    // 5: the journal, the inalterable record of sales and money (see store::journal). Rows
    // are keyed by (kiosk_id, seq) so that a central database can ingest several kiosks'
    // chains idempotently. Only appends that extend the chain are accepted.
    r#"
    CREATE TABLE journal (
        seq       INTEGER NOT NULL CHECK (seq >= 1),
        kiosk_id  TEXT NOT NULL,
        kind      TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 40),
        time_utc  TEXT NOT NULL,
        payload   TEXT NOT NULL CHECK (json_valid(payload)),
        prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64 AND prev_hash NOT GLOB '*[^0-9a-f]*'),
        hash      TEXT NOT NULL CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'),
        PRIMARY KEY (kiosk_id, seq)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX journal_by_kind ON journal(kiosk_id, kind, seq);
    CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
    CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
    CREATE TRIGGER journal_chain BEFORE INSERT ON journal
    BEGIN
        SELECT RAISE(ABORT, 'journal: entry of another kiosk')
        WHERE NEW.kiosk_id IS NOT (SELECT value FROM meta WHERE key = 'kiosk_id');
        SELECT RAISE(ABORT, 'journal: seq must be the last seq + 1')
        WHERE NEW.seq IS NOT coalesce((SELECT seq FROM journal WHERE kiosk_id = NEW.kiosk_id
                                       ORDER BY seq DESC LIMIT 1), 0) + 1;
        SELECT RAISE(ABORT, 'journal: prev_hash must be the last hash')
        WHERE NEW.prev_hash IS NOT coalesce((SELECT hash FROM journal WHERE kiosk_id = NEW.kiosk_id
                                             ORDER BY seq DESC LIMIT 1),
            '0000000000000000000000000000000000000000000000000000000000000000');
    END;
    "#,
    // 6: sales and refunds as rows (see store::sales), keyed by their journal entry
    // (kiosk_id, seq): the ticket number is the seq. The journal payload is the record; these
    // ledgers are for reading, receipts and exports, and `journal verify` checks that they say
    // what the payloads say. Rows are only added.
    r#"
    CREATE TABLE sales (
        kiosk_id            TEXT NOT NULL,
        seq                 INTEGER NOT NULL,
        kind                TEXT NOT NULL CHECK (kind IN ('sale', 'refund')),
        time_utc            TEXT NOT NULL,
        cashier_id          INTEGER NOT NULL,
        cashier_name        TEXT NOT NULL,
        cash_session_id     INTEGER,
        total_cents         INTEGER NOT NULL,
        paid_cents          INTEGER NOT NULL,
        change_cents        INTEGER NOT NULL CHECK (change_cents >= 0),
        cart_discount_kind  TEXT CHECK (cart_discount_kind IN ('percent', 'amount')),
        cart_discount_value INTEGER,
        cart_discount_by    INTEGER,
        training            INTEGER NOT NULL CHECK (training IN (0, 1)),
        refund_of           INTEGER,                -- a refund: the seq of the sale
        PRIMARY KEY (kiosk_id, seq),
        FOREIGN KEY (kiosk_id, seq) REFERENCES journal(kiosk_id, seq),
        CHECK ((kind = 'refund') = (refund_of IS NOT NULL))
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX sales_by_time ON sales(time_utc);
    CREATE INDEX sales_by_refund_of ON sales(kiosk_id, refund_of) WHERE refund_of IS NOT NULL;
    CREATE TABLE sale_lines (
        kiosk_id            TEXT NOT NULL,
        seq                 INTEGER NOT NULL,
        line_no             INTEGER NOT NULL CHECK (line_no >= 1),
        product_id          INTEGER,                -- NULL: a "divers" line
        label               TEXT NOT NULL,
        kind                TEXT NOT NULL CHECK (kind IN ('weighed', 'piece', 'divers')),
        grams               INTEGER,                -- measured, or qty x average weight
        qty                 INTEGER,                -- pieces or bunches
        unit_cents          INTEGER NOT NULL,       -- per kg, per piece, or the typed price
        manual_weight       INTEGER NOT NULL CHECK (manual_weight IN (0, 1)),
        amount_cents        INTEGER NOT NULL,       -- before discounts
        discount_kind       TEXT CHECK (discount_kind IN ('percent', 'amount')),
        discount_value      INTEGER,
        discount_by         INTEGER,
        discount_cents      INTEGER NOT NULL,
        cart_discount_cents INTEGER NOT NULL,
        net_cents           INTEGER NOT NULL,
        vat_bp              INTEGER NOT NULL CHECK (vat_bp BETWEEN 0 AND 10000),
        PRIMARY KEY (kiosk_id, seq, line_no),
        FOREIGN KEY (kiosk_id, seq) REFERENCES sales(kiosk_id, seq)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE sale_payments (
        kiosk_id     TEXT NOT NULL,
        seq          INTEGER NOT NULL,
        position     INTEGER NOT NULL CHECK (position >= 1),
        method       TEXT NOT NULL CHECK (method IN ('cash', 'card', 'cheque', 'credits')),
        amount_cents INTEGER NOT NULL,
        PRIMARY KEY (kiosk_id, seq, position),
        FOREIGN KEY (kiosk_id, seq) REFERENCES sales(kiosk_id, seq)
    ) STRICT, WITHOUT ROWID;
    CREATE TRIGGER sales_no_update BEFORE UPDATE ON sales
        BEGIN SELECT RAISE(ABORT, 'sales is append-only'); END;
    CREATE TRIGGER sales_no_delete BEFORE DELETE ON sales
        BEGIN SELECT RAISE(ABORT, 'sales is append-only'); END;
    CREATE TRIGGER sale_lines_no_update BEFORE UPDATE ON sale_lines
        BEGIN SELECT RAISE(ABORT, 'sale_lines is append-only'); END;
    CREATE TRIGGER sale_lines_no_delete BEFORE DELETE ON sale_lines
        BEGIN SELECT RAISE(ABORT, 'sale_lines is append-only'); END;
    CREATE TRIGGER sale_payments_no_update BEFORE UPDATE ON sale_payments
        BEGIN SELECT RAISE(ABORT, 'sale_payments is append-only'); END;
    CREATE TRIGGER sale_payments_no_delete BEFORE DELETE ON sale_payments
        BEGIN SELECT RAISE(ABORT, 'sale_payments is append-only'); END;
    "#,
    // 7: cash sessions (see store::cash): one open session per kiosk at most, closed once
    // with the counted cash per denomination; cash movements in and out of the drawer. Each
    // opening, closing and movement is also a journal entry, whose seq is kept here.
    r#"
    CREATE TABLE cash_sessions (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        kiosk_id         TEXT NOT NULL,
        opened_utc       TEXT NOT NULL,
        opened_by        INTEGER NOT NULL,
        opened_seq       INTEGER NOT NULL,
        float_cents      INTEGER NOT NULL CHECK (float_cents >= 0),
        closed_utc       TEXT,
        closed_by        INTEGER,
        closed_seq       INTEGER,
        expected_cents   INTEGER,
        counted_cents    INTEGER CHECK (counted_cents IS NULL OR counted_cents >= 0),
        difference_cents INTEGER,
        counted_detail   TEXT,                  -- canonical JSON: [{"cents":C,"count":N}...]
        CHECK ((closed_utc IS NULL) = (closed_by IS NULL)),
        CHECK ((closed_utc IS NULL) = (counted_cents IS NULL)),
        CHECK (difference_cents IS NULL OR difference_cents = counted_cents - expected_cents)
    ) STRICT;
    CREATE UNIQUE INDEX cash_sessions_one_open ON cash_sessions(kiosk_id)
        WHERE closed_utc IS NULL;
    CREATE TABLE cash_movements (
        id          INTEGER PRIMARY KEY,
        kiosk_id    TEXT NOT NULL,
        session_id  INTEGER NOT NULL REFERENCES cash_sessions(id),
        seq         INTEGER NOT NULL,           -- its journal entry
        time_utc    TEXT NOT NULL,
        by_staff    INTEGER NOT NULL,
        cents       INTEGER NOT NULL CHECK (cents <> 0),
        reason      TEXT NOT NULL CHECK (reason IN ('float_top_up', 'bank_deposit', 'other')),
        FOREIGN KEY (kiosk_id, seq) REFERENCES journal(kiosk_id, seq)
    ) STRICT;
    CREATE INDEX cash_movements_by_session ON cash_movements(session_id, id);
    CREATE INDEX sales_by_cash_session ON sales(kiosk_id, cash_session_id)
        WHERE cash_session_id IS NOT NULL;
    CREATE TRIGGER cash_sessions_no_delete BEFORE DELETE ON cash_sessions
        BEGIN SELECT RAISE(ABORT, 'cash_sessions rows are kept'); END;
    CREATE TRIGGER cash_sessions_closed_stay BEFORE UPDATE ON cash_sessions
        WHEN OLD.closed_utc IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'a closed cash session cannot change'); END;
    CREATE TRIGGER cash_sessions_opening_stays BEFORE UPDATE ON cash_sessions
        WHEN NEW.id IS NOT OLD.id OR NEW.kiosk_id IS NOT OLD.kiosk_id
          OR NEW.opened_utc IS NOT OLD.opened_utc OR NEW.opened_by IS NOT OLD.opened_by
          OR NEW.opened_seq IS NOT OLD.opened_seq OR NEW.float_cents IS NOT OLD.float_cents
        BEGIN SELECT RAISE(ABORT, 'the opening of a cash session cannot change'); END;
    CREATE TRIGGER cash_movements_no_update BEFORE UPDATE ON cash_movements
        BEGIN SELECT RAISE(ABORT, 'cash_movements is append-only'); END;
    CREATE TRIGGER cash_movements_no_delete BEFORE DELETE ON cash_movements
        BEGIN SELECT RAISE(ABORT, 'cash_movements is append-only'); END;
    "#,
    // 8: the garden (see store::garden): harvests with their lot numbers, the stock ledger,
    // lots and what each move did to them, low-stock thresholds. Rows are only added; a lot's
    // `remaining` is the sum of its flows, kept on the row to find the oldest open lots.
    r#"
    CREATE TABLE harvests (
        id           INTEGER PRIMARY KEY,
        time_utc     TEXT NOT NULL,
        date         TEXT NOT NULL,                -- local date of the lot number
        product_id   INTEGER NOT NULL REFERENCES products(id),
        plot_id      INTEGER REFERENCES plots(id),
        harvester_id INTEGER REFERENCES staff(id),
        recorded_by  INTEGER NOT NULL REFERENCES staff(id),
        unit         TEXT NOT NULL CHECK (unit IN ('g', 'piece')),
        qty          INTEGER NOT NULL CHECK (qty > 0),
        tare_g       INTEGER NOT NULL DEFAULT 0 CHECK (tare_g >= 0),
        for_sale     INTEGER NOT NULL CHECK (for_sale >= 0),
        donation     INTEGER NOT NULL CHECK (donation >= 0),
        own_use      INTEGER NOT NULL CHECK (own_use >= 0),
        compost      INTEGER NOT NULL CHECK (compost >= 0),
        lot          TEXT NOT NULL UNIQUE,
        CHECK (for_sale + donation + own_use + compost = qty)
    ) STRICT;
    CREATE INDEX harvests_by_time ON harvests(time_utc);
    CREATE TABLE stock_moves (
        id            INTEGER PRIMARY KEY,
        time_utc      TEXT NOT NULL,
        product_id    INTEGER NOT NULL REFERENCES products(id),
        kind          TEXT NOT NULL CHECK (kind IN ('harvest_in', 'sale_out', 'refund_in', 'loss',
                        'donation', 'count', 'correction')),
        qty           INTEGER NOT NULL,             -- count: counted; correction: signed delta
        delta         INTEGER NOT NULL,             -- the change of on-hand
        on_hand       INTEGER NOT NULL,             -- on-hand after the move
        lot           TEXT,                         -- the lot the move names
        reason        TEXT CHECK (reason IN ('spoiled', 'damaged', 'to_compost', 'other')),
        by_staff      INTEGER,
        harvest_id    INTEGER REFERENCES harvests(id),
        sale_kiosk_id TEXT,
        sale_seq      INTEGER,
        sale_line     INTEGER,
        CHECK ((kind = 'loss') = (reason IS NOT NULL)),
        CHECK (kind IN ('count', 'correction') OR qty > 0),
        CHECK (kind <> 'count' OR qty >= 0),
        CHECK (kind <> 'correction' OR qty <> 0)
    ) STRICT;
    CREATE INDEX stock_moves_by_product ON stock_moves(product_id, id);
    CREATE INDEX stock_moves_by_time ON stock_moves(time_utc);
    CREATE INDEX stock_moves_by_sale ON stock_moves(sale_kiosk_id, sale_seq, sale_line)
        WHERE sale_seq IS NOT NULL;
    CREATE TABLE stock_lots (
        id         INTEGER PRIMARY KEY,
        product_id INTEGER NOT NULL REFERENCES products(id),
        number     TEXT,                            -- NULL: an anonymous adjustment or return
        origin     TEXT NOT NULL CHECK (origin IN ('harvest', 'return', 'adjustment')),
        move_id    INTEGER NOT NULL REFERENCES stock_moves(id),
        remaining  INTEGER NOT NULL CHECK (remaining >= 0)
    ) STRICT;
    CREATE INDEX stock_lots_open ON stock_lots(product_id, id) WHERE remaining > 0;
    CREATE INDEX stock_lots_by_number ON stock_lots(product_id, number);
    CREATE TABLE lot_flows (
        move_id    INTEGER NOT NULL REFERENCES stock_moves(id),
        product_id INTEGER NOT NULL,
        lot_id     INTEGER REFERENCES stock_lots(id),   -- NULL: owed (out of an empty stock)
        qty        INTEGER NOT NULL CHECK (qty <> 0)
    ) STRICT;
    CREATE INDEX lot_flows_by_move ON lot_flows(move_id);
    CREATE INDEX lot_flows_by_lot ON lot_flows(lot_id);
    CREATE TABLE stock_thresholds (
        id         INTEGER PRIMARY KEY,
        product_id INTEGER NOT NULL REFERENCES products(id),
        threshold  INTEGER CHECK (threshold IS NULL OR threshold >= 0),
        set_by     INTEGER NOT NULL,
        since_utc  TEXT NOT NULL
    ) STRICT;
    CREATE TRIGGER harvests_no_update BEFORE UPDATE ON harvests
        BEGIN SELECT RAISE(ABORT, 'harvests is append-only'); END;
    CREATE TRIGGER harvests_no_delete BEFORE DELETE ON harvests
        BEGIN SELECT RAISE(ABORT, 'harvests is append-only'); END;
    CREATE TRIGGER stock_moves_no_update BEFORE UPDATE ON stock_moves
        BEGIN SELECT RAISE(ABORT, 'stock_moves is append-only'); END;
    CREATE TRIGGER stock_moves_no_delete BEFORE DELETE ON stock_moves
        BEGIN SELECT RAISE(ABORT, 'stock_moves is append-only'); END;
    CREATE TRIGGER lot_flows_no_update BEFORE UPDATE ON lot_flows
        BEGIN SELECT RAISE(ABORT, 'lot_flows is append-only'); END;
    CREATE TRIGGER lot_flows_no_delete BEFORE DELETE ON lot_flows
        BEGIN SELECT RAISE(ABORT, 'lot_flows is append-only'); END;
    CREATE TRIGGER stock_lots_no_delete BEFORE DELETE ON stock_lots
        BEGIN SELECT RAISE(ABORT, 'stock_lots rows are kept'); END;
    CREATE TRIGGER stock_lots_only_remaining BEFORE UPDATE ON stock_lots
        WHEN NEW.id IS NOT OLD.id OR NEW.product_id IS NOT OLD.product_id
          OR NEW.number IS NOT OLD.number OR NEW.origin IS NOT OLD.origin
          OR NEW.move_id IS NOT OLD.move_id
        BEGIN SELECT RAISE(ABORT, 'only the remainder of a lot changes'); END;
    CREATE TRIGGER stock_thresholds_no_update BEFORE UPDATE ON stock_thresholds
        BEGIN SELECT RAISE(ABORT, 'stock_thresholds is append-only'); END;
    CREATE TRIGGER stock_thresholds_no_delete BEFORE DELETE ON stock_thresholds
        BEGIN SELECT RAISE(ABORT, 'stock_thresholds is append-only'); END;
    "#,
    // 9: compost (see store::compost): deposits by resident card (or the garden's own), the
    // credits ledger chained like the journal, composters (bins) and their log, the record of
    // changes to residents, and derived impact figures per period (rebuildable from deposits).
    r#"
    ALTER TABLE residents ADD COLUMN bucket_tare_g INTEGER
        CHECK (bucket_tare_g IS NULL OR bucket_tare_g BETWEEN 0 AND 5000);
    CREATE TABLE compost_bins (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
        position    INTEGER NOT NULL DEFAULT 0,
        created_utc TEXT NOT NULL
    ) STRICT;
    -- Everything done to a bin (a ledger): its status is the last 'status' row.
    CREATE TABLE compost_bin_log (
        id             INTEGER PRIMARY KEY,
        bin_id         INTEGER NOT NULL REFERENCES compost_bins(id),
        time_utc       TEXT NOT NULL,
        kind           TEXT NOT NULL CHECK (kind IN ('status', 'turned', 'temperature',
                         'brown_added', 'emptied')),
        status         TEXT CHECK (status IN ('filling', 'maturing', 'ready')),
        temperature_dc INTEGER CHECK (temperature_dc IS NULL OR temperature_dc BETWEEN -400 AND 1000),
        grams          INTEGER CHECK (grams IS NULL OR grams > 0),
        staff_id       INTEGER REFERENCES staff(id),
        CHECK ((kind = 'status') = (status IS NOT NULL)),
        CHECK ((kind = 'temperature') = (temperature_dc IS NOT NULL)),
        CHECK ((kind IN ('brown_added', 'emptied')) = (grams IS NOT NULL))
    ) STRICT;
    CREATE INDEX compost_bin_log_by_bin ON compost_bin_log(bin_id, kind, id);
    CREATE TABLE deposits (
        id            INTEGER PRIMARY KEY,
        kiosk_id      TEXT NOT NULL,
        time_utc      TEXT NOT NULL,
        resident_id   INTEGER REFERENCES residents(id),   -- NULL: the garden's own
        source        TEXT NOT NULL CHECK (source IN ('resident', 'garden')),
        kind          TEXT NOT NULL CHECK (kind IN ('kitchen', 'coffee', 'brown', 'garden', 'other')),
        gross_g       INTEGER NOT NULL,
        tare_g        INTEGER NOT NULL CHECK (tare_g >= 0),
        tare_source   TEXT NOT NULL CHECK (tare_source IN ('none', 'bucket', 'weighed')),
        net_g         INTEGER NOT NULL CHECK (net_g > 0 AND net_g = gross_g - tare_g),
        co2e_g        INTEGER NOT NULL CHECK (co2e_g >= 0),
        credits_cents INTEGER NOT NULL CHECK (credits_cents >= 0),
        bin_id        INTEGER REFERENCES compost_bins(id),
        reference     TEXT UNIQUE,                       -- the garden's loss it comes from
        CHECK ((source = 'resident') = (resident_id IS NOT NULL))
    ) STRICT;
    CREATE INDEX deposits_by_resident ON deposits(resident_id, time_utc);
    CREATE INDEX deposits_by_time ON deposits(time_utc);
    CREATE INDEX deposits_by_bin ON deposits(bin_id, time_utc);
    CREATE TRIGGER deposits_no_update BEFORE UPDATE ON deposits
        BEGIN SELECT RAISE(ABORT, 'deposits is append-only'); END;
    CREATE TRIGGER deposits_no_delete BEFORE DELETE ON deposits
        BEGIN SELECT RAISE(ABORT, 'deposits is append-only'); END;
    CREATE TRIGGER compost_bin_log_no_update BEFORE UPDATE ON compost_bin_log
        BEGIN SELECT RAISE(ABORT, 'compost_bin_log is append-only'); END;
    CREATE TRIGGER compost_bin_log_no_delete BEFORE DELETE ON compost_bin_log
        BEGIN SELECT RAISE(ABORT, 'compost_bin_log is append-only'); END;
    -- The credits ledger, chained like the journal: hash = SHA-256(prev_hash || payload),
    -- payload canonical JSON; only appends that extend the chain are accepted.
    CREATE TABLE credit_ledger (
        seq         INTEGER NOT NULL CHECK (seq >= 1),
        kiosk_id    TEXT NOT NULL,
        time_utc    TEXT NOT NULL,
        resident_id INTEGER NOT NULL REFERENCES residents(id),
        kind        TEXT NOT NULL CHECK (kind IN ('earned', 'spent', 'refunded', 'adjusted')),
        cents       INTEGER NOT NULL,                    -- the signed effect on the balance
        deposit_id  INTEGER REFERENCES deposits(id),
        sale_seq    INTEGER,                             -- the journal seq of the sale or refund
        payload     TEXT NOT NULL CHECK (json_valid(payload)),
        prev_hash   TEXT NOT NULL CHECK (length(prev_hash) = 64 AND prev_hash NOT GLOB '*[^0-9a-f]*'),
        hash        TEXT NOT NULL CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'),
        PRIMARY KEY (kiosk_id, seq)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX credit_ledger_by_resident ON credit_ledger(resident_id, cents);
    CREATE INDEX credit_ledger_by_sale ON credit_ledger(sale_seq) WHERE sale_seq IS NOT NULL;
    CREATE TRIGGER credit_ledger_no_update BEFORE UPDATE ON credit_ledger
        BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END;
    CREATE TRIGGER credit_ledger_no_delete BEFORE DELETE ON credit_ledger
        BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END;
    CREATE TRIGGER credit_ledger_chain BEFORE INSERT ON credit_ledger
    BEGIN
        SELECT RAISE(ABORT, 'credit_ledger: seq must be the last seq + 1')
        WHERE NEW.seq IS NOT coalesce((SELECT seq FROM credit_ledger WHERE kiosk_id = NEW.kiosk_id
                                       ORDER BY seq DESC LIMIT 1), 0) + 1;
        SELECT RAISE(ABORT, 'credit_ledger: prev_hash must be the last hash')
        WHERE NEW.prev_hash IS NOT coalesce((SELECT hash FROM credit_ledger WHERE kiosk_id = NEW.kiosk_id
                                             ORDER BY seq DESC LIMIT 1),
            '0000000000000000000000000000000000000000000000000000000000000000');
        SELECT RAISE(ABORT, 'credit_ledger: the balance cannot go below zero')
        WHERE NEW.cents < 0 AND coalesce((SELECT sum(cents) FROM credit_ledger
                                          WHERE resident_id = NEW.resident_id), 0) + NEW.cents < 0;
    END;
    -- Every change to a resident and their cards (a ledger; never their personal data).
    CREATE TABLE resident_events (
        id          INTEGER PRIMARY KEY,
        time_utc    TEXT NOT NULL,
        resident_id INTEGER NOT NULL REFERENCES residents(id),
        actor_id    INTEGER REFERENCES staff(id),        -- NULL: the kiosk (retention)
        kind        TEXT NOT NULL CHECK (kind IN ('registered', 'updated', 'card_issued',
                      'card_revoked', 'anonymised'))
    ) STRICT;
    CREATE INDEX resident_events_by_resident ON resident_events(resident_id, id);
    CREATE TRIGGER resident_events_no_update BEFORE UPDATE ON resident_events
        BEGIN SELECT RAISE(ABORT, 'resident_events is append-only'); END;
    CREATE TRIGGER resident_events_no_delete BEFORE DELETE ON resident_events
        BEGIN SELECT RAISE(ABORT, 'resident_events is append-only'); END;
    -- Impact figures per local period ('w2026-24', 'm2026-06', 'y2026'), kept as deposits are
    -- recorded so that reports over years stay instant; derived, rebuilt by
    -- store::compost::rebuild_stats. dim: 'all' (key ''), 'building' (key: the building at the
    -- time of the deposit, '' unknown) or 'kind'.
    CREATE TABLE compost_stats (
        period     TEXT NOT NULL,
        dim        TEXT NOT NULL CHECK (dim IN ('all', 'building', 'kind')),
        key        TEXT NOT NULL,
        grams      INTEGER NOT NULL,
        deposits   INTEGER NOT NULL,
        households INTEGER NOT NULL,
        co2e_g     INTEGER NOT NULL,
        PRIMARY KEY (period, dim, key)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE compost_active (
        period      TEXT NOT NULL,
        dim         TEXT NOT NULL,
        key         TEXT NOT NULL,
        resident_id INTEGER NOT NULL,
        PRIMARY KEY (period, dim, key, resident_id)
    ) STRICT, WITHOUT ROWID;
    "#,
    // 10: why the garden lead corrected a stock (see store::garden): one row beside each
    // correction move recorded from the stock screen.
    r#"
    CREATE TABLE stock_corrections (
        move_id INTEGER PRIMARY KEY REFERENCES stock_moves(id),
        reason  TEXT NOT NULL CHECK (reason IN ('entry_error', 'weighing', 'found', 'other'))
    ) STRICT;
    CREATE TRIGGER stock_corrections_no_update BEFORE UPDATE ON stock_corrections
        BEGIN SELECT RAISE(ABORT, 'stock_corrections is append-only'); END;
    CREATE TRIGGER stock_corrections_no_delete BEFORE DELETE ON stock_corrections
        BEGIN SELECT RAISE(ABORT, 'stock_corrections is append-only'); END;
    CREATE TRIGGER stock_corrections_of_a_correction BEFORE INSERT ON stock_corrections
    BEGIN
        SELECT RAISE(ABORT, 'stock_corrections: the move must be a correction')
        WHERE (SELECT kind FROM stock_moves WHERE id = NEW.move_id) IS NOT 'correction';
    END;
    "#,
    // 11: carts not paid yet (see store::parked): a seller's cart survives a screen lock, a
    // sign-out and a power cut. Scratch state, not a record: rewritten at each change, deleted
    // in the very transaction that records the sale or the abandoned cart (both journaled).
    r#"
    CREATE TABLE parked_carts (
        seller_id INTEGER PRIMARY KEY REFERENCES staff(id),
        cart      TEXT NOT NULL,
        saved_utc TEXT NOT NULL
    ) STRICT;
    "#,
    // 12: the print queue serves each job once and never late without a tap (see
    // store::print_queue). A worker claims a job (who, when) before sending it; a job queued
    // more than 24 h ago prints only once confirmed on the admin devices screen. Drawer kicks
    // are no longer queued: the ones waiting from older builds are dropped here, never fired.
    r#"
    ALTER TABLE print_queue ADD COLUMN claimed_by TEXT;
    ALTER TABLE print_queue ADD COLUMN claimed_utc TEXT;
    ALTER TABLE print_queue ADD COLUMN confirmed_utc TEXT;
    DELETE FROM print_queue WHERE label = 'drawer' AND printed_utc IS NULL;
    "#,
    // 13: a lost copy of the database prints no card: cards keep only SHA-256 of their token
    // (lowercase hex of the token's text, see store::people::token_hash). The cards already
    // issued keep working: a scanned token is looked up by its hash.
    r#"
    ALTER TABLE cards RENAME COLUMN token TO token_sha256;
    UPDATE cards SET token_sha256 = comptoir_sha256_hex(token_sha256);
    "#,
    // 14: staff events gain `lock_lifted` (an admin lifted a PIN lock) and `pin_failed_resident`
    // (a wrong PIN typed at the sign-in the composter's screens ask for: recorded, it locks
    // nobody). SQLite cannot change a CHECK: the table is rebuilt, rows copied, its index and
    // its two append-only triggers made again as they were.
    r#"
    DROP TRIGGER staff_events_no_update;
    DROP TRIGGER staff_events_no_delete;
    DROP INDEX staff_events_by_staff;
    ALTER TABLE staff_events RENAME TO staff_events_old;
    CREATE TABLE staff_events (
        id       INTEGER PRIMARY KEY,
        time_utc TEXT NOT NULL,
        staff_id INTEGER REFERENCES staff(id),   -- whom it is about
        actor_id INTEGER REFERENCES staff(id),   -- who did it (NULL: the kiosk itself)
        kind     TEXT NOT NULL CHECK (kind IN ('signed_in', 'signed_out', 'timed_out', 'pin_failed',
                   'locked', 'denied', 'created', 'renamed', 'role_changed', 'retired',
                   'reactivated', 'pin_reset', 'lock_lifted', 'pin_failed_resident')),
        screen   TEXT NOT NULL DEFAULT '',
        detail   TEXT NOT NULL DEFAULT ''
    ) STRICT;
    INSERT INTO staff_events (id, time_utc, staff_id, actor_id, kind, screen, detail)
        SELECT id, time_utc, staff_id, actor_id, kind, screen, detail FROM staff_events_old;
    DROP TABLE staff_events_old;
    CREATE INDEX staff_events_by_staff ON staff_events(staff_id, id);
    CREATE TRIGGER staff_events_no_update BEFORE UPDATE ON staff_events
        BEGIN SELECT RAISE(ABORT, 'staff_events is append-only'); END;
    CREATE TRIGGER staff_events_no_delete BEFORE DELETE ON staff_events
        BEGIN SELECT RAISE(ABORT, 'staff_events is append-only'); END;
    "#,
    // 15: a refund that needed approval (an earlier cash session's sale, or above the amount a
    // seller refunds alone) keeps who approved it, as its journal entry does (`approved_by`).
    r#"
    ALTER TABLE sales ADD COLUMN approved_by INTEGER
        CHECK (approved_by IS NULL OR kind = 'refund');
    "#,
    // 16: a hash chain per append-only ledger (see store::ledger): one row per ledger row,
    // added by the store in the row's own transaction. The rows that exist already are chained
    // once, in Rust, right after this migration (`ledger_chain_backfill` in meta, below).
    r#"
    CREATE TABLE ledger_chain (
        kiosk_id  TEXT NOT NULL,
        ledger    TEXT NOT NULL CHECK (length(ledger) BETWEEN 1 AND 40),
        seq       INTEGER NOT NULL CHECK (seq >= 1),
        row_id    INTEGER NOT NULL,
        prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64 AND prev_hash NOT GLOB '*[^0-9a-f]*'),
        hash      TEXT NOT NULL CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'),
        PRIMARY KEY (kiosk_id, ledger, seq)
    ) STRICT, WITHOUT ROWID;
    CREATE TRIGGER ledger_chain_no_update BEFORE UPDATE ON ledger_chain
        BEGIN SELECT RAISE(ABORT, 'ledger_chain is append-only'); END;
    CREATE TRIGGER ledger_chain_no_delete BEFORE DELETE ON ledger_chain
        BEGIN SELECT RAISE(ABORT, 'ledger_chain is append-only'); END;
    CREATE TRIGGER ledger_chain_link BEFORE INSERT ON ledger_chain
    BEGIN
        SELECT RAISE(ABORT, 'ledger_chain: seq must be the last seq + 1')
        WHERE NEW.seq IS NOT coalesce((SELECT seq FROM ledger_chain WHERE kiosk_id = NEW.kiosk_id
                                       AND ledger = NEW.ledger ORDER BY seq DESC LIMIT 1), 0) + 1;
        SELECT RAISE(ABORT, 'ledger_chain: prev_hash must be the last hash')
        WHERE NEW.prev_hash IS NOT coalesce((SELECT hash FROM ledger_chain WHERE kiosk_id = NEW.kiosk_id
                                             AND ledger = NEW.ledger ORDER BY seq DESC LIMIT 1),
            '0000000000000000000000000000000000000000000000000000000000000000');
    END;
    INSERT INTO meta (key, value) VALUES ('ledger_chain_backfill', 'pending');
    "#,
];

/// The meta key that asks [`migrate_to`] to chain the rows that existed before the ledger
/// chains (migration 16), in the migration's own transaction.
const BACKFILL_KEY: &str = "ledger_chain_backfill";

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// SQL functions the migrations use: `comptoir_sha256_hex(text)`, SHA-256 of the text's UTF-8
/// bytes in lowercase hex (NULL stays NULL).
fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "comptoir_sha256_hex",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            Ok(text.map(|t| super::people::token_hash(&t)))
        },
    )
}

/// Brings the database to [`latest_version`]; does nothing when it is there already.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    migrate_to(conn, latest_version())
}

/// Brings the database to `target` (tests build old schemas with it).
pub fn migrate_to(conn: &mut Connection, target: i64) -> rusqlite::Result<()> {
    register_functions(conn)?;
    // What a migration replaces (card tokens turned into their hashes) is overwritten on disk,
    // not left in free space for a copy of the file to reveal.
    let secure: i64 = conn.query_row("PRAGMA secure_delete", [], |r| r.get(0))?;
    conn.pragma_update(None, "secure_delete", 1)?;
    let done = migrate_in_transaction(conn, target);
    conn.pragma_update(None, "secure_delete", secure)?;
    done
}

fn migrate_in_transaction(conn: &mut Connection, target: i64) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target as usize)
        .skip(current as usize)
    {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    let backfill: Option<String> = tx
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [BACKFILL_KEY],
            |r| r.get(0),
        )
        .optional()?;
    if backfill.is_some() {
        super::ledger::backfill(&tx)?;
        tx.execute("DELETE FROM meta WHERE key = ?1", [BACKFILL_KEY])?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()
}
