-- One tenant's database: its forum, its public event feed and its API keys.
-- Times are Unix milliseconds (UTC).

CREATE TABLE users (
    id        INTEGER PRIMARY KEY,
    username  TEXT NOT NULL,
    email     TEXT,
    role      TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'moderator', 'admin')),
    banned    INTEGER NOT NULL DEFAULT 0 CHECK (banned IN (0, 1)),
    joined_at INTEGER NOT NULL,
    left_at   INTEGER
);
-- Usernames are unique among current members, whatever their case; a name is free again
-- once its member has left.
CREATE UNIQUE INDEX users_username_active ON users (lower(username)) WHERE left_at IS NULL;

CREATE TABLE threads (
    id         INTEGER PRIMARY KEY,
    title      TEXT NOT NULL,
    author_id  INTEGER NOT NULL REFERENCES users (id),
    locked     INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    created_at INTEGER NOT NULL
);

CREATE TABLE posts (
    id           INTEGER PRIMARY KEY,
    thread_id    INTEGER NOT NULL REFERENCES threads (id),
    author_id    INTEGER NOT NULL REFERENCES users (id),
    body         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'visible' CHECK (status IN ('visible', 'deleted', 'removed')),
    opens_thread INTEGER NOT NULL DEFAULT 0 CHECK (opens_thread IN (0, 1)),
    created_at   INTEGER NOT NULL,
    edited_at    INTEGER
);
CREATE INDEX posts_thread ON posts (thread_id, id);
CREATE INDEX posts_author ON posts (author_id, id);

-- Edit history: the body a post had before each edit, and who replaced it.
CREATE TABLE post_revisions (
    id          INTEGER PRIMARY KEY,
    post_id     INTEGER NOT NULL REFERENCES posts (id),
    body        TEXT NOT NULL,
    edited_by   INTEGER NOT NULL REFERENCES users (id),
    replaced_at INTEGER NOT NULL
);
CREATE INDEX post_revisions_post ON post_revisions (post_id, id);

CREATE TABLE moderation_actions (
    id               INTEGER PRIMARY KEY,
    action           TEXT NOT NULL,
    moderator_id     INTEGER NOT NULL REFERENCES users (id),
    target_user_id   INTEGER REFERENCES users (id),
    target_post_id   INTEGER REFERENCES posts (id),
    target_thread_id INTEGER REFERENCES threads (id),
    reason           TEXT,
    created_at       INTEGER NOT NULL
);
CREATE INDEX moderation_actions_target_user ON moderation_actions (target_user_id);

-- The public event feed (the outbox). `position` only grows and is never reused, which
-- is what makes cursor walks exact. `payload` is the event's JSON exactly as served.
CREATE TABLE api_events (
    position   INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    payload    TEXT NOT NULL
);
CREATE INDEX api_events_type ON api_events (type, position);
CREATE INDEX api_events_created_at ON api_events (created_at);

-- API keys: only the SHA-256 of a key is kept.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     BLOB NOT NULL UNIQUE,
    mode         TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    scopes       TEXT NOT NULL,
    rate_limit   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
