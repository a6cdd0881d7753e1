-- sell_order (sql/007) with fewer statements on its common path (issue 14):
-- MariaDB's per-statement work inside the procedure, not round trips, was
-- the cost of an order. Same arguments, same answers, same promises; 007
-- stays as it was (databases already applied it), this file replaces the
-- procedure.
--
-- The states are lib/states.h's, pasted as its _SQL literals are:
-- inventory_history.state 1 (HIST_RESERVED), orders.state 'unpaid'
-- (ORDER_UNPAID); t/db/test_sell.c fails when the two drift apart.
--
-- In:  p_req  the Sell request's id (inventory_history.req_id: a re-sent
--             request finds what its first copy made)
--      p_user, p_book
--      p_key  the Idempotency-Key, or NULL
--      p_max  MAX_OPEN_ORDERS (0: no cap)
-- Out: one row (result, order_id, history_id, book_id, unit_price, state,
--      created_at, paid_at), result one of
--        'sold'  a new order (or, for a re-sent request, the one its first
--                copy made): the order's columns
--        'kept'  the order this user's p_key already made for p_book
--        'IDEMPOTENCY_KEY_REUSED' (book_id: the book the key was used for),
--        'TOO_MANY_OPEN_ORDERS', 'NOT_FOUND' (no such book), 'NO_USER',
--        'OUT_OF_STOCK': nothing written.
--      The answers come first to last in that order of precedence: a
--      re-sent request is answered with its order even when the book has
--      sold out since or the user is at the cap, a key's order likewise.
-- A failure (a deadlock, a Galera certification failure: 1213; a lock wait
-- timeout) rolls the whole transaction back before it is raised, so a
-- failed CALL never leaves a transaction open and the caller runs it again
-- as one statement. A request id another user's reservation already has
-- (never made by our own clients: they draw a fresh uuid per request) is
-- raised as a duplicate key (1062), nothing written.
--
-- How the common path stays short (no cap, no re-send: START TRANSACTION,
-- one read, two INSERTs, the decrement, COMMIT, the answer): a re-sent
-- request and an Idempotency-Key used before are not looked for, they are
-- found by the unique keys the INSERTs meet — history_req (req_id) and
-- orders_idem (user_id, idem_key). A duplicate (1062, caught by the CONTINUE
-- handler) rolls the transaction back and then reads what the earlier copy
-- made. The unique index entry is the lock: a second copy running at the
-- same time waits on the first's uncommitted entry and meets the duplicate
-- once the first commits (or inserts, if it rolled back); on Galera two
-- copies on two nodes certify on the same unique key, and the loser's
-- COMMIT fails (1213), its caller runs it again and then meets the
-- duplicate. Every refusal goes the same rare way, so it first answers a
-- re-send or a key's order, as the precedence above says.
--
-- The user's row is locked (FOR UPDATE) only to count the open orders
-- against p_max: two orders of one user on this node are then made one
-- after the other and the count holds to the COMMIT. Without a cap nothing
-- needs it (the book and user reads are plain READ COMMITTED reads, no
-- lock). The hot book row is locked last, only from the conditional
-- decrement to the COMMIT.
DROP PROCEDURE IF EXISTS sell_order;
DELIMITER //
CREATE PROCEDURE sell_order(IN p_req CHAR(36), IN p_user BIGINT, IN p_book BIGINT,
    IN p_key VARCHAR(64), IN p_max BIGINT)
  MODIFIES SQL DATA
  SQL SECURITY INVOKER
proc: BEGIN
  DECLARE v_result VARCHAR(32) DEFAULT NULL;
  DECLARE v_dup TINYINT DEFAULT 0;
  DECLARE v_uid, v_order, v_hist, v_book, v_price, v_stock, v_open BIGINT DEFAULT NULL;
  DECLARE v_state VARCHAR(16) DEFAULT 'unpaid';
  DECLARE v_created DATETIME(3) DEFAULT UTC_TIMESTAMP(3);
  DECLARE v_paid DATETIME(3) DEFAULT NULL;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;

  START TRANSACTION;
  sale: BEGIN
    -- only the two INSERTs below can meet a duplicate: history_req, orders_idem
    DECLARE CONTINUE HANDLER FOR 1062 SET v_dup = 1;
    IF p_max > 0 THEN
      SELECT id INTO v_uid FROM users WHERE id = p_user FOR UPDATE;
      IF v_uid IS NULL THEN
        SET v_result = 'NO_USER';
        LEAVE sale;
      END IF;
      -- at most p_max index entries are read, however many the user holds
      SELECT COUNT(*) INTO v_open FROM (SELECT 1 FROM orders FORCE INDEX (orders_user_state)
        WHERE user_id = p_user AND state = 'unpaid' LIMIT p_max) o;
      IF v_open >= p_max THEN
        SET v_result = 'TOO_MANY_OPEN_ORDERS';
        LEAVE sale;
      END IF;
    END IF;
    -- a plain read (READ COMMITTED: no lock on the hot row yet); no row:
    -- no such book or no such user, told apart below
    SELECT b.unit_price, b.stock INTO v_price, v_stock
      FROM books b JOIN users u ON u.id = p_user WHERE b.id = p_book;
    IF v_stock IS NULL THEN
      LEAVE sale;
    END IF;
    IF v_stock <= 0 THEN
      SET v_result = 'OUT_OF_STOCK';
      LEAVE sale;
    END IF;
    INSERT INTO inventory_history (book_id, user_id, state, req_id, created_at, updated_at)
      VALUES (p_book, p_user, 1, p_req, v_created, v_created);
    IF v_dup THEN
      LEAVE sale; -- this request id was used before: a re-sent request
    END IF;
    SET v_hist = LAST_INSERT_ID();
    INSERT INTO orders (user_id, book_id, unit_price, history_id, state, idem_key, created_at)
      VALUES (p_user, p_book, v_price, v_hist, 'unpaid', p_key, v_created);
    IF v_dup THEN
      LEAVE sale; -- this user's key made an order before
    END IF;
    SET v_order = LAST_INSERT_ID();
    -- last: the hot row is locked from here to the COMMIT
    UPDATE books SET stock = stock - 1 WHERE id = p_book AND stock > 0;
    IF ROW_COUNT() = 0 THEN
      SET v_result = 'OUT_OF_STOCK';
      LEAVE sale;
    END IF;
    COMMIT;
    SELECT 'sold', v_order, v_hist, p_book, v_price, v_state, v_created, v_paid;
    LEAVE proc;
  END sale;

  -- The rare way: a refusal or a duplicate. Nothing of this copy is kept
  -- (and the user's row lock, if taken, is let go); then, in the order of
  -- precedence, what an earlier copy of this request or this key made.
  ROLLBACK;
  SET v_order = NULL, v_hist = NULL, v_book = NULL, v_price = NULL, v_state = NULL,
      v_created = NULL, v_paid = NULL;
  SELECT o.id, o.book_id, o.unit_price, o.state, o.created_at, o.paid_at, h.id
    INTO v_order, v_book, v_price, v_state, v_created, v_paid, v_hist
    FROM inventory_history h JOIN orders o ON o.history_id = h.id
    WHERE h.req_id = p_req AND h.user_id = p_user;
  IF v_order IS NOT NULL THEN
    SET v_result = 'sold';
  ELSEIF p_key IS NOT NULL THEN
    SELECT id, book_id, unit_price, state, created_at, paid_at, history_id
      INTO v_order, v_book, v_price, v_state, v_created, v_paid, v_hist
      FROM orders WHERE user_id = p_user AND idem_key = p_key;
    IF v_order IS NOT NULL THEN
      SET v_result = IF(v_book = p_book, 'kept', 'IDEMPOTENCY_KEY_REUSED');
    END IF;
  END IF;
  IF v_result IS NULL AND v_dup THEN
    -- a duplicate with no order of this user behind it: the request id of
    -- another user's reservation (or a key's order gone since): raised as
    -- the duplicate it is (the caller runs a duplicate once more)
    SIGNAL SQLSTATE '23000' SET MYSQL_ERRNO = 1062,
      MESSAGE_TEXT = 'sell_order: request id or Idempotency-Key taken, no order of this user';
  END IF;
  IF v_result IS NULL THEN
    -- the joined read found no row: which one is missing
    SELECT id INTO v_uid FROM users WHERE id = p_user;
    IF v_uid IS NULL THEN
      SET v_result = 'NO_USER';
    ELSE
      SELECT stock INTO v_stock FROM books WHERE id = p_book;
      SET v_result = IF(v_stock IS NULL, 'NOT_FOUND', 'OUT_OF_STOCK');
    END IF;
  END IF;
  SELECT v_result, v_order, v_hist, v_book, v_price, v_state, v_created, v_paid;
END proc //
DELIMITER ;
