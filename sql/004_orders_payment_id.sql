-- pay-order writes its payment's id into the order row in the payment's
-- transaction. On one server the row lock already orders pay against cancel
-- and expiry; on Galera a SELECT ... FOR UPDATE locks only on its own node,
-- and only rows a transaction changes take part in certification: with this
-- write, a pay on one node and a cancel on another change the same row and
-- one of them is refused at COMMIT (and retried), never both kept.
ALTER TABLE orders ADD COLUMN payment_id BIGINT NULL;
