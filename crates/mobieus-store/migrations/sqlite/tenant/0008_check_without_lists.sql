-- SQLite checks `x IN ('a', 'b', 'c', ...)` (more than two values) against a temporary
-- b-tree that it builds, fills and frees on every row the CHECK applies to: on each
-- delivery written and each attempt recorded, and on each member who joins, it cost
-- about as much as the row's own write. The same rule spelled as comparisons costs a few
-- instructions. SQLite cannot alter a CHECK, so the three tables are rebuilt (the
-- procedure of https://www.sqlite.org/lang_altertable.html#otheralter: the migration
-- runs with foreign keys off and checks them before it commits), with every column,
-- row and index as before.

CREATE TABLE users_rebuilt (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL,
    email         TEXT,
    role          TEXT NOT NULL DEFAULT 'member'
                  CHECK (role = 'member' OR role = 'moderator' OR role = 'admin'),
    banned        INTEGER NOT NULL DEFAULT 0 CHECK (banned IN (0, 1)),
    joined_at     INTEGER NOT NULL,
    left_at       INTEGER,
    password_hash TEXT
);
INSERT INTO users_rebuilt (id, username, email, role, banned, joined_at, left_at, password_hash)
    SELECT id, username, email, role, banned, joined_at, left_at, password_hash FROM users;
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;
CREATE UNIQUE INDEX users_username_active ON users (lower(username)) WHERE left_at IS NULL;

CREATE TABLE posts_rebuilt (
    id           INTEGER PRIMARY KEY,
    thread_id    INTEGER NOT NULL REFERENCES threads (id),
    author_id    INTEGER NOT NULL REFERENCES users (id),
    body         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'visible'
                 CHECK (status = 'visible' OR status = 'deleted' OR status = 'removed'),
    opens_thread INTEGER NOT NULL DEFAULT 0 CHECK (opens_thread IN (0, 1)),
    created_at   INTEGER NOT NULL,
    edited_at    INTEGER
);
INSERT INTO posts_rebuilt (id, thread_id, author_id, body, status, opens_thread, created_at, edited_at)
    SELECT id, thread_id, author_id, body, status, opens_thread, created_at, edited_at FROM posts;
DROP TABLE posts;
ALTER TABLE posts_rebuilt RENAME TO posts;
CREATE INDEX posts_thread ON posts (thread_id, id);
CREATE INDEX posts_author ON posts (author_id, id);

CREATE TABLE webhook_deliveries_rebuilt (
    position        INTEGER PRIMARY KEY,                 -- list order; only grows
    id              TEXT NOT NULL UNIQUE,
    event_id        TEXT NOT NULL REFERENCES api_events (id),
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status = 'pending' OR status = 'succeeded' OR status = 'failed' OR status = 'cancelled'),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
INSERT INTO webhook_deliveries_rebuilt (position, id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_until, created_at, updated_at)
    SELECT position, id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_until, created_at, updated_at
    FROM webhook_deliveries;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_rebuilt RENAME TO webhook_deliveries;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, position);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id, endpoint_id);
CREATE INDEX webhook_deliveries_leases ON webhook_deliveries (lease_until)
    WHERE status = 'pending' AND lease_until IS NOT NULL;
CREATE INDEX webhook_deliveries_endpoint_pending ON webhook_deliveries (endpoint_id, position)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_failed ON webhook_deliveries (endpoint_id, position)
    WHERE status = 'failed';
CREATE INDEX webhook_deliveries_endpoint_cancelled ON webhook_deliveries (endpoint_id, position)
    WHERE status = 'cancelled';
