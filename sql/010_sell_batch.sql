-- sell_batch: several Sells in one transaction (issue 14: an order cost
-- ~7 statements of MariaDB's per-statement work and a commit; a batch of n
-- costs about as many statements as one order, each over n rows, and one
-- commit, and the hot book row is decremented once by the batch's count).
-- The inventory daemon gathers the Sells that wait on its socket while
-- each of its threads is busy, and calls this for two or more.
--
-- Only the common path is batched: every order new (no re-sent request,
-- no Idempotency-Key used before), every user and book there, enough
-- stock for the whole batch, no user over MAX_OPEN_ORDERS with the
-- batch's orders counted. Anything else rolls the whole batch back and
-- answers 'fallback': the daemon then runs each Sell alone through
-- sell_order (sql/009), which gives each its own answer with the
-- precedence that procedure documents. So a batch changes how many
-- transactions make the orders, never which orders are made or what
-- anyone is answered.
--
-- The states are lib/states.h's, pasted as its _SQL literals are:
-- inventory_history.state 1 (HIST_RESERVED), orders.state 'unpaid'.
--
-- In:  p_batch  a JSON array of {"r": request id, "u": user, "b": book,
--               "k": Idempotency-Key (left out: none)}, at most 64
--      p_max    MAX_OPEN_ORDERS (0: no cap)
-- Out: either one row per Sell, in the array's order: ('sold', seq (1..n),
--      order_id, history_id, unit_price, created_at); or one row
--      ('fallback', NULL, ...): nothing written.
-- A failure (a deadlock, a Galera certification failure, a lock wait
-- timeout) rolls back before it is raised, as sell_order's does; the
-- daemon then runs each Sell alone too.
--
-- Locks, in sell_order's order: the users' rows (only with a cap, by id),
-- the new rows' unique index entries, then the books' rows (by id), from
-- the decrement to the COMMIT.
DROP PROCEDURE IF EXISTS sell_batch;
DELIMITER //
CREATE PROCEDURE sell_batch(IN p_batch LONGTEXT, IN p_max BIGINT)
  MODIFIES SQL DATA
  SQL SECURITY INVOKER
proc: BEGIN
  DECLARE v_n, v_ok, v_books BIGINT DEFAULT 0;
  DECLARE v_dup TINYINT DEFAULT 0;
  DECLARE v_created DATETIME(3) DEFAULT UTC_TIMESTAMP(3);
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;

  SET v_n = JSON_LENGTH(p_batch);
  IF v_n IS NULL OR v_n < 1 OR v_n > 64 THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'sell_batch: 1 to 64 Sells';
  END IF;
  START TRANSACTION;
  sale: BEGIN
    DECLARE CONTINUE HANDLER FOR 1062 SET v_dup = 1;
    IF p_max > 0 THEN
      -- the users' rows, locked (by id) to the COMMIT, then each user's
      -- open orders plus the batch's (a user under a cap holds at most
      -- p_max unpaid orders, so each count reads few index entries)
      SELECT COUNT(*) INTO v_ok FROM users WHERE id IN (SELECT u FROM JSON_TABLE(p_batch,
        '$[*]' COLUMNS (u BIGINT PATH '$.u')) j) ORDER BY id FOR UPDATE;
      SELECT COUNT(*) INTO v_ok FROM (
        SELECT j.u, COUNT(*) AS mine FROM JSON_TABLE(p_batch, '$[*]' COLUMNS (u BIGINT PATH '$.u')) j
        GROUP BY j.u) x
        WHERE x.mine + (SELECT COUNT(*) FROM orders FORCE INDEX (orders_user_state)
          WHERE user_id = x.u AND state = 'unpaid') > p_max;
      IF v_ok > 0 THEN
        LEAVE sale;
      END IF;
    END IF;
    -- every Sell's user and book there, and every book with stock for all
    -- of the batch's copies of it (plain reads; the decrement checks again)
    SELECT COUNT(*) INTO v_ok FROM JSON_TABLE(p_batch, '$[*]' COLUMNS (u BIGINT PATH '$.u',
        b BIGINT PATH '$.b')) j
      JOIN users u ON u.id = j.u JOIN books b ON b.id = j.b;
    IF v_ok <> v_n THEN
      LEAVE sale;
    END IF;
    INSERT INTO inventory_history (book_id, user_id, state, req_id, created_at, updated_at)
      SELECT j.b, j.u, 1, j.r, v_created, v_created
      FROM JSON_TABLE(p_batch, '$[*]' COLUMNS (seq FOR ORDINALITY, r CHAR(36) PATH '$.r',
        u BIGINT PATH '$.u', b BIGINT PATH '$.b')) j ORDER BY j.seq;
    IF v_dup THEN
      LEAVE sale; -- a re-sent request (or one request twice in the batch)
    END IF;
    INSERT INTO orders (user_id, book_id, unit_price, history_id, state, idem_key, created_at)
      SELECT j.u, j.b, b.unit_price, h.id, 'unpaid', j.k, v_created
      FROM JSON_TABLE(p_batch, '$[*]' COLUMNS (seq FOR ORDINALITY, r CHAR(36) PATH '$.r',
        u BIGINT PATH '$.u', b BIGINT PATH '$.b', k VARCHAR(64) PATH '$.k')) j
      JOIN inventory_history h ON h.req_id = j.r JOIN books b ON b.id = j.b
      ORDER BY j.seq;
    IF v_dup THEN
      LEAVE sale; -- a key that made an order before (or one key twice)
    END IF;
    -- last, by id: each book's row decremented once by its count
    SELECT COUNT(DISTINCT b) INTO v_books FROM JSON_TABLE(p_batch, '$[*]' COLUMNS
      (b BIGINT PATH '$.b')) j;
    UPDATE books bk JOIN (SELECT j.b, COUNT(*) AS c FROM JSON_TABLE(p_batch, '$[*]'
        COLUMNS (b BIGINT PATH '$.b')) j GROUP BY j.b) x ON bk.id = x.b
      SET bk.stock = bk.stock - x.c WHERE bk.stock >= x.c;
    IF ROW_COUNT() <> v_books THEN
      LEAVE sale; -- not enough stock for the whole batch
    END IF;
    COMMIT;
    -- after the COMMIT, as sell_order answers: a COMMIT that fails (a
    -- Galera certification failure) must not follow rows that say 'sold'
    SELECT 'sold', j.seq, o.id, h.id, o.unit_price, o.created_at
      FROM JSON_TABLE(p_batch, '$[*]' COLUMNS (seq FOR ORDINALITY, r CHAR(36) PATH '$.r')) j
      JOIN inventory_history h ON h.req_id = j.r JOIN orders o ON o.history_id = h.id
      ORDER BY j.seq;
    LEAVE proc;
  END sale;
  ROLLBACK;
  SELECT 'fallback', NULL, NULL, NULL, NULL, NULL;
END proc //
DELIMITER ;
