-- microbook schema. Applied once by scripts/stack.sh, which records each
-- numbered file in schema_migrations; later changes go in new numbered files.

CREATE TABLE users (
  id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name       VARCHAR(20) NOT NULL,
  pwd_hash   VARCHAR(128) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY users_name (name)
) ENGINE=InnoDB AUTO_INCREMENT=10001;

-- Server-side half of a session: the cookie proves who, this row says
-- whether it still counts (logout sets revoked_at).
CREATE TABLE sessions (
  id         CHAR(32)    NOT NULL PRIMARY KEY,
  user_id    BIGINT      NOT NULL,
  created_at DATETIME(3) NOT NULL,
  revoked_at DATETIME(3) NULL,
  KEY sessions_user (user_id)
) ENGINE=InnoDB;

CREATE TABLE books (
  id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  title         VARCHAR(200) NOT NULL,
  unit_price    BIGINT       NOT NULL,
  stock         BIGINT       NOT NULL,
  initial_stock BIGINT       NOT NULL,
  restocked     BIGINT       NOT NULL DEFAULT 0,
  CONSTRAINT books_stock_nonneg CHECK (stock >= 0),
  CONSTRAINT books_price_nonneg CHECK (unit_price >= 0)
) ENGINE=InnoDB;

-- One row per reservation. state: 1 not out (reserved), 2 out (sold),
-- 3 released. req_id is the Sell request id: a re-sent Sell finds its row.
CREATE TABLE inventory_history (
  id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
  book_id    BIGINT      NOT NULL,
  user_id    BIGINT      NOT NULL,
  state      TINYINT     NOT NULL,
  req_id     CHAR(36)    NOT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  UNIQUE KEY history_req (req_id),
  KEY history_state (state, created_at),
  KEY history_book (book_id, state)
) ENGINE=InnoDB;

CREATE TABLE orders (
  id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id    BIGINT      NOT NULL,
  book_id    BIGINT      NOT NULL,
  unit_price BIGINT      NOT NULL,
  history_id BIGINT      NOT NULL,
  state      ENUM('unpaid','paid','cancelled','expired') NOT NULL DEFAULT 'unpaid',
  idem_key   VARCHAR(64) NULL,
  created_at DATETIME(3) NOT NULL,
  paid_at    DATETIME(3) NULL,
  UNIQUE KEY orders_history (history_id),
  UNIQUE KEY orders_idem (user_id, idem_key),
  KEY orders_user (user_id, id),
  KEY orders_state (state, created_at)
) ENGINE=InnoDB;

-- One payment per order, enforced here.
CREATE TABLE payments (
  id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id   BIGINT      NOT NULL,
  user_id    BIGINT      NOT NULL,
  amount     BIGINT      NOT NULL,
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY payments_order (order_id)
) ENGINE=InnoDB;

-- The outbox of payment.done: written in the payment's transaction, so the
-- event exists exactly when the payment does; applied_at is set by the
-- orders-listener once the order is paid.
CREATE TABLE payment_events (
  id         CHAR(36)    NOT NULL PRIMARY KEY,
  order_id   BIGINT      NOT NULL,
  payment_id BIGINT      NOT NULL,
  sent_time  BIGINT      NOT NULL,
  ref        VARCHAR(64) NOT NULL,
  applied_at DATETIME(3) NULL,
  UNIQUE KEY events_order (order_id),
  KEY events_pending (applied_at)
) ENGINE=InnoDB;
