-- The orders-listener purges sessions past their absolute lifetime by
-- created_at; this index keeps that purge from scanning the table.
ALTER TABLE sessions ADD KEY sessions_created (created_at);
