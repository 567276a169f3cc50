-- The control schema: which tenants exist, the host names that reach them, the schema
-- each one's data lives in, and the cross-tenant index of due work.
CREATE TABLE tenants (
    slug       TEXT PRIMARY KEY,
    -- `tenant_<id>`: a name Postgres takes unquoted whatever the slug (a slug may be 63
    -- characters, the most an identifier holds, and may be `public`).
    id         BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE tenant_hosts (
    host TEXT PRIMARY KEY,
    slug TEXT NOT NULL REFERENCES tenants (slug) ON DELETE CASCADE
);
CREATE INDEX tenant_hosts_slug ON tenant_hosts (slug);

-- Work due in some tenant: one row per transaction that made a delivery due (enqueued
-- it, scheduled its retry, or leased it: the lease's end is when a dead worker's claim
-- is due again), written in that transaction, so no commit can leave its work unknown.
-- Rows are only inserted, never updated, so enqueuing transactions of one tenant never
-- wait on each other's locks here. A worker reads the rows due, looks at those tenants,
-- and then deletes exactly the rows it read: a row committed after its read is kept.
CREATE TABLE due_work (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug   TEXT NOT NULL REFERENCES tenants (slug) ON DELETE CASCADE,
    due_at BIGINT NOT NULL
);
CREATE INDEX due_work_due_at ON due_work (due_at);
CREATE INDEX due_work_slug ON due_work (slug);

-- A check value of the master key the first node started with (an HMAC of a fixed
-- text, never the key): a node started with another key would seal secrets no other
-- node can open, so it refuses to start instead.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
