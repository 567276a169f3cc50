"""The client: the feed, the live stream and webhook endpoints."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

import httpx

from mobieus_client import AuthenticatedClient
from mobieus_client.api.events import get_event, list_events
from mobieus_client.api.webhooks import (
    create_webhook,
    delete_webhook,
    get_webhook,
    list_deliveries,
    list_webhooks,
    test_webhook,
    update_webhook,
)
from mobieus_client.models import (
    CreateEndpoint,
    Delivery,
    Endpoint,
    EndpointWithSecret,
    EventTypeName,
    ModerationPostRemoved,
    ModerationThreadLocked,
    ModerationThreadUnlocked,
    ModerationUserBanned,
    ModerationUserUnbanned,
    OneEvent,
    PostCreated,
    PostDeleted,
    PostEdited,
    Problem,
    TestSend,
    UpdateEndpoint,
    UserJoined,
    UserLeft,
    WebhookTest,
)
from mobieus_client.types import UNSET, Response

# A public event: narrow it with `isinstance` (`PostEdited`, `UserJoined`, …). The tests
# check that it names every type of the API's catalog.
Event = (
    UserJoined
    | UserLeft
    | PostCreated
    | PostEdited
    | PostDeleted
    | ModerationUserBanned
    | ModerationUserUnbanned
    | ModerationPostRemoved
    | ModerationThreadLocked
    | ModerationThreadUnlocked
)

T = TypeVar("T")


class MobieusError(Exception):
    """An answer that is not a success: the API's problem document, with its stable `code`."""

    def __init__(self, status: int, problem: Problem | None, text: str = "") -> None:
        self.status = status
        self.problem = problem
        self.code = problem.code if problem else None
        super().__init__(f"{problem.code}: {problem.detail}" if problem else f"HTTP {status}: {text[:200]}")


def _data(response: Response[Any]) -> Any:
    """The answer's `data`, or the problem it carries, raised."""
    parsed = response.parsed
    if isinstance(parsed, Problem) or parsed is None or response.status_code >= 400:
        problem = parsed if isinstance(parsed, Problem) else None
        raise MobieusError(response.status_code, problem, response.content.decode("utf-8", "replace"))
    return parsed


def parse_event(event: dict[str, Any]) -> Event | WebhookTest:
    """An event's JSON (a feed item, a stream message, a delivery's body) as its type's
    model; `webhook.test`, which is never in the feed, as `WebhookTest`."""
    if event.get("type") == "webhook.test":
        return WebhookTest.from_dict(event)
    return OneEvent.from_dict({"data": event, "meta": {"request_id": ""}}).data


class Client:
    """The API of one community, with an API key."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 30.0) -> None:
        self._base = base_url.rstrip("/")
        self._key = api_key
        self.api = AuthenticatedClient(base_url=self._base, token=api_key, timeout=httpx.Timeout(timeout))
        self.webhooks = Webhooks(self.api)

    def close(self) -> None:
        """Closes the connections kept for reuse."""
        self.api.get_httpx_client().close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def event(self, id: str) -> Event:
        """One event."""
        return _data(get_event.sync_detailed(id, client=self.api)).data

    def events(
        self,
        *,
        types: list[str] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Iterator[Event]:
        """Every event of the feed (after `after`), oldest first, page after page."""
        kinds = [EventTypeName(t) for t in types] if types else UNSET
        cursor: str | None = None
        while True:
            page = _data(
                list_events.sync_detailed(
                    client=self.api,
                    type_=kinds,
                    limit=limit,
                    after=after if after and cursor is None else UNSET,
                    cursor=cursor if cursor else UNSET,
                )
            )
            yield from page.data
            if not page.meta.has_more or not page.meta.next_cursor:
                return
            cursor = page.meta.next_cursor

    def stream(
        self,
        *,
        types: list[str] | None = None,
        after: str | None = None,
        from_start: bool = False,
        stop: threading.Event | None = None,
    ) -> Iterator[Event]:
        """The feed, live: each event as it commits, in feed order. When the connection
        drops or the server restarts, it reconnects after the server's `retry` hint and
        resumes after the last event it yielded (`Last-Event-ID`): none is skipped or
        repeated. Ends when `stop` is set (checked between messages and heartbeats); a
        refusal (a bad key, a bad parameter) raises `MobieusError`."""
        params: list[tuple[str, str]] = [("type", t) for t in types or []]
        if after:
            params.append(("after", after))
        if from_start:
            params.append(("from", "start"))
        last: str | None = None
        retry = 2.0
        stop = stop or threading.Event()
        with httpx.Client(timeout=httpx.Timeout(30.0, read=60.0)) as http:
            while not stop.is_set():
                headers = {"authorization": f"Bearer {self._key}", "accept": "text/event-stream"}
                if last:
                    headers["last-event-id"] = last
                try:
                    with http.stream(
                        "GET", f"{self._base}/api/v1/events/stream", params=params, headers=headers
                    ) as response:
                        if 400 <= response.status_code < 500 and response.status_code != 429:
                            text = response.read().decode("utf-8", "replace")
                            try:
                                problem = Problem.from_dict(json.loads(text))
                            except (ValueError, KeyError, TypeError):
                                problem = None
                            raise MobieusError(response.status_code, problem, text)
                        if response.status_code == 200:
                            for message in _messages(response.iter_lines()):
                                if "retry" in message:
                                    retry = message["retry"] / 1000
                                if "id" in message and "data" in message:
                                    last = message["id"]
                                    yield parse_event(json.loads(message["data"]))
                                if stop.is_set():
                                    return
                except httpx.TransportError:
                    pass
                stop.wait(retry)


def _messages(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Server-sent events, one message at a time (the WHATWG parsing rules); a heartbeat
    comes out as an empty message, so a reader can look up between events."""
    message: dict[str, Any] = {}
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                message["data"] = "\n".join(data)
            yield message
            message, data = {}, []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field in ("id", "event"):
            message[field] = value
        elif field == "retry" and value.isdigit():
            message["retry"] = int(value)


class Webhooks:
    """Webhook endpoints: `client.webhooks`."""

    def __init__(self, api: AuthenticatedClient) -> None:
        self._api = api

    def list(self) -> list[Endpoint]:
        return _data(list_webhooks.sync_detailed(client=self._api, limit=100)).data

    def create(self, url: str, events: list[str], label: str | None = None) -> EndpointWithSecret:
        """Creates an endpoint; the answer holds its signing secret, shown only now."""
        body = CreateEndpoint.from_dict({"url": url, "events": events, "label": label})
        return _data(create_webhook.sync_detailed(client=self._api, body=body)).data

    def get(self, id: str) -> Endpoint:
        return _data(get_webhook.sync_detailed(id, client=self._api)).data

    def update(self, id: str, **changes: Any) -> Endpoint:
        """Changes `url`, `label`, `events` or `active`."""
        body = UpdateEndpoint.from_dict(changes)
        return _data(update_webhook.sync_detailed(id, client=self._api, body=body)).data

    def delete(self, id: str) -> None:
        _data(delete_webhook.sync_detailed(id, client=self._api))

    def test(self, id: str, event_type: str | None = None) -> None:
        """Sends a test: `webhook.test`, or the catalog example of `event_type` flagged `test`."""
        body = TestSend.from_dict({"event_type": event_type}) if event_type else UNSET
        _data(test_webhook.sync_detailed(id, client=self._api, body=body))

    def deliveries(self, id: str) -> list[Delivery]:
        """The endpoint's deliveries, newest first (the first page)."""
        return _data(list_deliveries.sync_detailed(id, client=self._api)).data
