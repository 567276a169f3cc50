-- Recording an attempt moved its delivery's entry in (endpoint_id, status, position) from
-- its endpoint's pending run to its succeeded run: two index pages per endpoint in every
-- commit of the recorder. Succeeded deliveries, nearly all of them, need no index beyond
-- (endpoint_id, position); each other status has a partial index of its own, which a
-- delivery leaves once (queries name the status as a literal, so the planner uses them).
DROP INDEX webhook_deliveries_endpoint_status;
CREATE INDEX webhook_deliveries_endpoint_pending ON webhook_deliveries (endpoint_id, position)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_failed ON webhook_deliveries (endpoint_id, position)
    WHERE status = 'failed';
CREATE INDEX webhook_deliveries_endpoint_cancelled ON webhook_deliveries (endpoint_id, position)
    WHERE status = 'cancelled';
