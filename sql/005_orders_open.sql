-- MAX_OPEN_ORDERS counts a user's unpaid orders at each new order; this
-- index makes that count read only those rows, not the user's whole history.
ALTER TABLE orders ADD KEY orders_user_state (user_id, state);
