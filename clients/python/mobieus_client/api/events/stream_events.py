from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.event_type_name import EventTypeName
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    type_: list[EventTypeName] | Unset = UNSET,
    after: str | Unset = UNSET,
    from_: str | Unset = UNSET,
    last_event_id: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(last_event_id, Unset):
        headers["Last-Event-ID"] = last_event_id

    params: dict[str, Any] = {}

    json_type_: list[str] | Unset = UNSET
    if not isinstance(type_, Unset):
        json_type_ = []
        for type_item_data in type_:
            type_item = type_item_data.value
            json_type_.append(type_item)

    params["type"] = json_type_

    params["after"] = after

    params["from"] = from_

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/events/stream",
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | str | None:
    if response.status_code == 200:
        response_200 = response.text
        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    type_: list[EventTypeName] | Unset = UNSET,
    after: str | Unset = UNSET,
    from_: str | Unset = UNSET,
    last_event_id: None | str | Unset = UNSET,
) -> Response[Problem | str]:
    """Stream the feed live (Server-Sent Events).

     Each message is one event of the feed: `id:` its id, `event:` its type, `data:` the
    same JSON as `GET /api/v1/events` returns for it. The events after the cursor come
    first, then each new event as it commits, in feed order, never twice and with none
    missed. Without a cursor the stream starts at the newest event (only events committed
    from now on); `from=start` replays the whole feed. To resume after a disconnect, send
    the id of the last event you processed as `Last-Event-ID` (browsers' `EventSource`
    does this by itself) or as `after`. A comment line (`:`) comes at least every 15
    seconds when there is nothing to send. A key may hold 10 streams open at once on each
    server; a stream ends when its key is revoked and when the server shuts down (the
    client then reconnects, elsewhere if need be, and resumes).

    Args:
        type_ (list[EventTypeName] | Unset):
        after (str | Unset):
        from_ (str | Unset):
        last_event_id (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | str]
    """

    kwargs = _get_kwargs(
        type_=type_,
        after=after,
        from_=from_,
        last_event_id=last_event_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    type_: list[EventTypeName] | Unset = UNSET,
    after: str | Unset = UNSET,
    from_: str | Unset = UNSET,
    last_event_id: None | str | Unset = UNSET,
) -> Problem | str | None:
    """Stream the feed live (Server-Sent Events).

     Each message is one event of the feed: `id:` its id, `event:` its type, `data:` the
    same JSON as `GET /api/v1/events` returns for it. The events after the cursor come
    first, then each new event as it commits, in feed order, never twice and with none
    missed. Without a cursor the stream starts at the newest event (only events committed
    from now on); `from=start` replays the whole feed. To resume after a disconnect, send
    the id of the last event you processed as `Last-Event-ID` (browsers' `EventSource`
    does this by itself) or as `after`. A comment line (`:`) comes at least every 15
    seconds when there is nothing to send. A key may hold 10 streams open at once on each
    server; a stream ends when its key is revoked and when the server shuts down (the
    client then reconnects, elsewhere if need be, and resumes).

    Args:
        type_ (list[EventTypeName] | Unset):
        after (str | Unset):
        from_ (str | Unset):
        last_event_id (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | str
    """

    return sync_detailed(
        client=client,
        type_=type_,
        after=after,
        from_=from_,
        last_event_id=last_event_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    type_: list[EventTypeName] | Unset = UNSET,
    after: str | Unset = UNSET,
    from_: str | Unset = UNSET,
    last_event_id: None | str | Unset = UNSET,
) -> Response[Problem | str]:
    """Stream the feed live (Server-Sent Events).

     Each message is one event of the feed: `id:` its id, `event:` its type, `data:` the
    same JSON as `GET /api/v1/events` returns for it. The events after the cursor come
    first, then each new event as it commits, in feed order, never twice and with none
    missed. Without a cursor the stream starts at the newest event (only events committed
    from now on); `from=start` replays the whole feed. To resume after a disconnect, send
    the id of the last event you processed as `Last-Event-ID` (browsers' `EventSource`
    does this by itself) or as `after`. A comment line (`:`) comes at least every 15
    seconds when there is nothing to send. A key may hold 10 streams open at once on each
    server; a stream ends when its key is revoked and when the server shuts down (the
    client then reconnects, elsewhere if need be, and resumes).

    Args:
        type_ (list[EventTypeName] | Unset):
        after (str | Unset):
        from_ (str | Unset):
        last_event_id (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | str]
    """

    kwargs = _get_kwargs(
        type_=type_,
        after=after,
        from_=from_,
        last_event_id=last_event_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    type_: list[EventTypeName] | Unset = UNSET,
    after: str | Unset = UNSET,
    from_: str | Unset = UNSET,
    last_event_id: None | str | Unset = UNSET,
) -> Problem | str | None:
    """Stream the feed live (Server-Sent Events).

     Each message is one event of the feed: `id:` its id, `event:` its type, `data:` the
    same JSON as `GET /api/v1/events` returns for it. The events after the cursor come
    first, then each new event as it commits, in feed order, never twice and with none
    missed. Without a cursor the stream starts at the newest event (only events committed
    from now on); `from=start` replays the whole feed. To resume after a disconnect, send
    the id of the last event you processed as `Last-Event-ID` (browsers' `EventSource`
    does this by itself) or as `after`. A comment line (`:`) comes at least every 15
    seconds when there is nothing to send. A key may hold 10 streams open at once on each
    server; a stream ends when its key is revoked and when the server shuts down (the
    client then reconnects, elsewhere if need be, and resumes).

    Args:
        type_ (list[EventTypeName] | Unset):
        after (str | Unset):
        from_ (str | Unset):
        last_event_id (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | str
    """

    return (
        await asyncio_detailed(
            client=client,
            type_=type_,
            after=after,
            from_=from_,
            last_event_id=last_event_id,
        )
    ).parsed
