-- When each tenant next has a delivery due, so a worker looks only at tenants with work:
-- idle tenants cost nothing. A hint, not the truth: workers also sweep every tenant now
-- and then, so a lost hint delays a delivery, never loses it.
CREATE TABLE due_work (
    slug   TEXT PRIMARY KEY REFERENCES tenants (slug) ON DELETE CASCADE,
    due_at INTEGER NOT NULL
);
CREATE INDEX due_work_due_at ON due_work (due_at);
