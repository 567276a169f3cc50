-- A test send of a catalog type (`POST /api/v1/webhooks/{id}/test` with an
-- `event_type`) is stored like any event, so its deliveries sign and retry the same way,
-- but it goes only to the endpoint tested: `test` keeps it out of the feed and the stream.
ALTER TABLE api_events ADD COLUMN test BOOLEAN NOT NULL DEFAULT false;
