-- Pay, cancel and expiry as one CALL each: the whole transaction (lock the
-- order row, decide, write, COMMIT) runs inside the server, so each is one
-- round trip from the service instead of five or six (BEGIN, SELECT ... FOR
-- UPDATE, the writes, COMMIT). lib/order.c calls them.
--
-- What they keep: the order row is locked first (FOR UPDATE) by all three,
-- so pay, cancel and expiry of one order are serialised and the loser sees
-- the winner's result; pay writes orders.payment_id and cancel/expiry
-- orders.state, so on Galera two of them on different nodes change the same
-- row and one fails certification at its COMMIT (1213, run again by the
-- caller: db_try), never both kept. payments.order_id stays unique. Any
-- error rolls the transaction back before it reaches the caller (the EXIT
-- HANDLER), so a failed CALL never leaves a transaction open on the
-- connection. SQL SECURITY INVOKER: the service account's row rights.

-- orders.payment_id is written by pay since 004; orders paid before it get
-- theirs here, so that "has a payment" is a column of the order row for
-- every order (the payments row is no longer joined for it).
UPDATE orders o JOIN payments p ON p.order_id = o.id SET o.payment_id = p.id
WHERE o.payment_id IS NULL;

DELIMITER //

-- Pays order p_order of user p_user. p_event, p_sent and p_ref are the
-- payment.done event the worker publishes after this commits. Answers one
-- row (status, payment_id, amount, state):
--   'ok'     paid and committed: the new payment's id and amount, 'paid'
--   'none'   no such order of this user (another user's too): 404
--   'paid'   it already has a payment: that payment's id (409 ALREADY_PAID)
--   'closed' cancelled or expired: its state (409 ORDER_CLOSED)
-- The same event id again (the caller's CALL re-sent after its connection
-- dropped with the COMMIT done) is 'ok' with the payment it made.
CREATE PROCEDURE order_pay(IN p_order BIGINT, IN p_user BIGINT, IN p_event CHAR(36),
                           IN p_sent BIGINT, IN p_ref VARCHAR(64))
MODIFIES SQL DATA
SQL SECURITY INVOKER
BEGIN
  DECLARE v_state VARCHAR(16) DEFAULT NULL;
  DECLARE v_price BIGINT DEFAULT NULL;
  DECLARE v_pay BIGINT DEFAULT NULL;
  DECLARE v_status VARCHAR(8) DEFAULT 'ok';
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
  DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_state = NULL;

  START TRANSACTION;
  SELECT state, unit_price, payment_id INTO v_state, v_price, v_pay
    FROM orders WHERE id = p_order AND user_id = p_user FOR UPDATE;
  IF v_state IS NULL THEN
    ROLLBACK;
    SET v_status = 'none';
  ELSEIF v_pay IS NOT NULL THEN
    ROLLBACK;
    IF EXISTS (SELECT 1 FROM payment_events WHERE id = p_event AND payment_id = v_pay) THEN
      SET v_state = 'paid';
    ELSE
      SET v_status = 'paid';
    END IF;
  ELSEIF v_state <> 'unpaid' THEN
    ROLLBACK;
    SET v_status = 'closed';
  ELSE
    INSERT INTO payments (order_id, user_id, amount, created_at)
      VALUES (p_order, p_user, v_price, UTC_TIMESTAMP(3));
    SET v_pay = LAST_INSERT_ID();
    UPDATE orders SET payment_id = v_pay WHERE id = p_order;
    INSERT INTO payment_events (id, order_id, payment_id, sent_time, ref)
      VALUES (p_event, p_order, v_pay, p_sent, p_ref);
    COMMIT;
    SET v_state = 'paid';
  END IF;
  SELECT v_status, v_pay, v_price, v_state;
END//

-- Closes order p_order (of user p_user; 0 for any user: the expiry) as
-- p_state, 'cancelled' or 'expired', if it is unpaid and has no payment.
-- Answers one row (status, state, history_id, user_id, book_id,
-- unit_price, created_at):
--   'ok'     closed and committed; history_id is the reservation to Release
--   'none'   no such order (of this user)
--   'closed' it may not be closed: state says why ('paid' when it has a
--            payment, else its state)
CREATE PROCEDURE order_close(IN p_order BIGINT, IN p_user BIGINT, IN p_state VARCHAR(16))
MODIFIES SQL DATA
SQL SECURITY INVOKER
BEGIN
  DECLARE v_state VARCHAR(16) DEFAULT NULL;
  DECLARE v_pay, v_hist, v_owner, v_book, v_price BIGINT DEFAULT NULL;
  DECLARE v_created DATETIME(3) DEFAULT NULL;
  DECLARE v_status VARCHAR(8) DEFAULT 'ok';
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
  DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_state = NULL;

  IF p_state NOT IN ('cancelled', 'expired') THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'order_close: state must be cancelled or expired';
  END IF;
  START TRANSACTION;
  SELECT state, payment_id, history_id, user_id, book_id, unit_price, created_at
    INTO v_state, v_pay, v_hist, v_owner, v_book, v_price, v_created
    FROM orders WHERE id = p_order AND (user_id = p_user OR p_user = 0) FOR UPDATE;
  IF v_state IS NULL THEN
    ROLLBACK;
    SET v_status = 'none';
  ELSEIF v_pay IS NOT NULL OR v_state <> 'unpaid' THEN
    ROLLBACK;
    SET v_status = 'closed', v_state = IF(v_pay IS NOT NULL, 'paid', v_state);
  ELSE
    UPDATE orders SET state = p_state WHERE id = p_order;
    COMMIT;
    SET v_state = p_state;
  END IF;
  SELECT v_status, v_state, v_hist, v_owner, v_book, v_price, v_created;
END//

DELIMITER ;
