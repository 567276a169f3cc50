-- The claim takes due deliveries in (next_attempt_at, position) order. SQLite's index on
-- next_attempt_at holds the row id, which is the position, so it is already in that order;
-- Postgres's is not, and a claim among many deliveries due at the same moment (a backlog,
-- a fan-out) sorted every pending row: 28 ms at 100,000 pending, against 0.07 ms with
-- this index.
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, position)
    WHERE status = 'pending';
