-- Webhook endpoints, their deliveries (one per event and endpoint, written in the same
-- transaction as the event) with their attempts, and the audit log.

CREATE TABLE webhook_endpoints (
    id                         TEXT PRIMARY KEY,
    position                   INTEGER NOT NULL UNIQUE, -- list order; only grows
    url                        TEXT NOT NULL,
    label                      TEXT,
    events                     TEXT NOT NULL,          -- '*' or comma-separated types
    active                     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    disabled_reason            TEXT,
    disabled_at                INTEGER,
    consecutive_failures       INTEGER NOT NULL DEFAULT 0,
    secret                     BLOB NOT NULL,          -- sealed with the master key
    previous_secret            BLOB,                   -- sealed; only during a rotation's grace
    previous_secret_expires_at INTEGER,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_active ON webhook_endpoints (active);

CREATE TABLE webhook_deliveries (
    position        INTEGER PRIMARY KEY,                 -- list order; only grows
    id              TEXT NOT NULL UNIQUE,
    event_id        TEXT NOT NULL REFERENCES api_events (id),
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- The worker's claim: due pending deliveries, oldest due first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, position);
CREATE INDEX webhook_deliveries_endpoint_status ON webhook_deliveries (endpoint_id, status, position);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id, endpoint_id);

CREATE TABLE delivery_attempts (
    id               INTEGER PRIMARY KEY,
    delivery_id      TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number           INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    request_headers  TEXT NOT NULL,                    -- JSON object, signatures included
    response_status  INTEGER,
    response_excerpt TEXT,
    error            TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, number);

-- Who changed what in the integration surface. Never holds a secret.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    details TEXT NOT NULL                                -- JSON object
);
CREATE INDEX audit_log_target ON audit_log (target, id);
