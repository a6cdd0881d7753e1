-- POST /orders/new in one transaction, one commit and one round trip
-- (issue 14): the inventory daemon's Sell is one CALL of sell_order, which
-- writes the reservation and the order together.
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
-- A failure (a deadlock, a Galera certification failure: 1213; a lock wait
-- timeout; a duplicate key) rolls the whole transaction back before it is
-- raised, so a failed CALL never leaves a transaction open and the caller
-- runs it again as one statement.
--
-- The user's row is locked first: the re-send and Idempotency-Key checks
-- and the open-order count then see every earlier order of this user, and
-- two orders of one user are made one after the other. The hot book row is
-- locked last, only from the conditional decrement to the COMMIT.
DELIMITER //
CREATE PROCEDURE sell_order(IN p_req CHAR(36), IN p_user BIGINT, IN p_book BIGINT,
    IN p_key VARCHAR(64), IN p_max BIGINT)
  MODIFIES SQL DATA
  SQL SECURITY INVOKER
BEGIN
  DECLARE v_result VARCHAR(32) DEFAULT NULL;
  DECLARE v_uid, v_order, v_hist, v_book, v_price, v_stock, v_open BIGINT DEFAULT NULL;
  DECLARE v_state VARCHAR(16) DEFAULT NULL;
  DECLARE v_created, v_paid DATETIME(3) DEFAULT NULL;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;

  START TRANSACTION;
  sale: BEGIN
    SELECT id INTO v_uid FROM users WHERE id = p_user FOR UPDATE;
    IF v_uid IS NULL THEN
      SET v_result = 'NO_USER';
      LEAVE sale;
    END IF;
    -- the same request again (nanomsg REQ re-sends): what its first copy made
    SELECT o.id, o.book_id, o.unit_price, o.state, o.created_at, o.paid_at, h.id
      INTO v_order, v_book, v_price, v_state, v_created, v_paid, v_hist
      FROM inventory_history h JOIN orders o ON o.history_id = h.id
      WHERE h.req_id = p_req AND h.user_id = p_user;
    IF v_order IS NOT NULL THEN
      SET v_result = 'sold';
      LEAVE sale;
    END IF;
    IF p_key IS NOT NULL THEN
      SELECT id, book_id, unit_price, state, created_at, paid_at, history_id
        INTO v_order, v_book, v_price, v_state, v_created, v_paid, v_hist
        FROM orders WHERE user_id = p_user AND idem_key = p_key;
      IF v_order IS NOT NULL THEN
        SET v_result = IF(v_book = p_book, 'kept', 'IDEMPOTENCY_KEY_REUSED');
        LEAVE sale;
      END IF;
    END IF;
    IF p_max > 0 THEN
      -- at most p_max index entries are read, however many the user holds
      SELECT COUNT(*) INTO v_open FROM (SELECT 1 FROM orders FORCE INDEX (orders_user_state)
        WHERE user_id = p_user AND state = 'unpaid' LIMIT p_max) o;
      IF v_open >= p_max THEN
        SET v_result = 'TOO_MANY_OPEN_ORDERS';
        LEAVE sale;
      END IF;
    END IF;
    -- a plain read (READ COMMITTED: no lock on the hot row yet)
    SELECT unit_price, stock INTO v_price, v_stock FROM books WHERE id = p_book;
    IF v_price IS NULL THEN
      SET v_result = 'NOT_FOUND';
      LEAVE sale;
    END IF;
    IF v_stock <= 0 THEN
      SET v_result = 'OUT_OF_STOCK';
      LEAVE sale;
    END IF;
    SET v_created = UTC_TIMESTAMP(3), v_book = p_book, v_state = 'unpaid';
    INSERT INTO inventory_history (book_id, user_id, state, req_id, created_at, updated_at)
      VALUES (p_book, p_user, 1, p_req, v_created, v_created);
    SET v_hist = LAST_INSERT_ID();
    INSERT INTO orders (user_id, book_id, unit_price, history_id, state, idem_key, created_at)
      VALUES (p_user, p_book, v_price, v_hist, 'unpaid', p_key, v_created);
    SET v_order = LAST_INSERT_ID();
    -- last: the hot row is locked from here to the COMMIT
    UPDATE books SET stock = stock - 1 WHERE id = p_book AND stock > 0;
    IF ROW_COUNT() = 0 THEN
      SET v_result = 'OUT_OF_STOCK';
      LEAVE sale;
    END IF;
    COMMIT;
    SET v_result = 'new';
  END sale;
  IF v_result = 'new' THEN
    SET v_result = 'sold';
  ELSE
    ROLLBACK; -- nothing written, the user's row lock let go
  END IF;
  SELECT v_result, v_order, v_hist, v_book, v_price, v_state, v_created, v_paid;
END //
DELIMITER ;
