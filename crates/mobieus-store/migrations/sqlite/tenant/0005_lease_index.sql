-- The earliest lease to run out, for the hint of when a tenant next has work due (a
-- worker that dies leaves its leases to run out).
CREATE INDEX webhook_deliveries_leases ON webhook_deliveries (lease_until)
    WHERE status = 'pending' AND lease_until IS NOT NULL;
