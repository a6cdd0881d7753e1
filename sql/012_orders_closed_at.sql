-- When an order was closed (cancelled or expired), so that the inventory
-- daemon's sweep can find a closed order whose Release failed among those
-- closed since its last scan (daemons/inventory/handlers.c,
-- inventory_sweep), instead of reading every cancelled or expired order
-- there has ever been every 2 s: closed orders only pile up (every order
-- nobody pays expires), so that scan grew without bound.
--
-- Orders closed before this file get their created_at: the sweep's first
-- scan after a start reads every closed order once, as before, and then
-- only those closed since.
ALTER TABLE orders ADD COLUMN closed_at DATETIME(3) NULL, ADD KEY orders_closed (closed_at);
UPDATE orders SET closed_at = created_at WHERE state IN ('cancelled', 'expired');

DELIMITER //

-- order_close as in 008_order_procedures.sql (see there), which now also
-- writes closed_at.
DROP PROCEDURE IF EXISTS order_close//
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
    UPDATE orders SET state = p_state, closed_at = UTC_TIMESTAMP(3) WHERE id = p_order;
    COMMIT;
    SET v_state = p_state;
  END IF;
  SELECT v_status, v_state, v_hist, v_owner, v_book, v_price, v_created;
END//

DELIMITER ;
