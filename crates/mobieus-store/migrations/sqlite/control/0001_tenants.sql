-- The control database: which tenants exist and the host names that reach them.
CREATE TABLE tenants (
    slug       TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
);

CREATE TABLE tenant_hosts (
    host TEXT PRIMARY KEY,
    slug TEXT NOT NULL REFERENCES tenants (slug) ON DELETE CASCADE
);
CREATE INDEX tenant_hosts_slug ON tenant_hosts (slug);
