import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.event_type_name import EventTypeName
from ...models.list_event import ListEvent
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    type_: list[EventTypeName] | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    after: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_type_: list[str] | Unset = UNSET
    if not isinstance(type_, Unset):
        json_type_ = []
        for type_item_data in type_:
            type_item = type_item_data.value
            json_type_.append(type_item)

    params["type"] = json_type_

    json_since: str | Unset = UNSET
    if not isinstance(since, Unset):
        json_since = since.isoformat()
    params["since"] = json_since

    json_until: str | Unset = UNSET
    if not isinstance(until, Unset):
        json_until = until.isoformat()
    params["until"] = json_until

    params["limit"] = limit

    params["cursor"] = cursor

    params["after"] = after

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/events",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ListEvent | Problem | None:
    if response.status_code == 200:
        response_200 = ListEvent.from_dict(response.json())

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
) -> Response[ListEvent | Problem]:
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
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    after: str | Unset = UNSET,
) -> Response[ListEvent | Problem]:
    """List events, oldest first.

     Follow the feed by passing `meta.next_cursor` back as `cursor`: every event is
    returned exactly once, in order, even while new events arrive. On the last page
    `next_cursor` is `null`; to poll for newer events later, pass the id of the last event
    you processed as `after`.

    Args:
        type_ (list[EventTypeName] | Unset):
        since (datetime.datetime | Unset): RFC 3339 time in UTC with milliseconds
        until (datetime.datetime | Unset): RFC 3339 time in UTC with milliseconds
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        after (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ListEvent | Problem]
    """

    kwargs = _get_kwargs(
        type_=type_,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
        after=after,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    type_: list[EventTypeName] | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    after: str | Unset = UNSET,
) -> ListEvent | Problem | None:
    """List events, oldest first.

     Follow the feed by passing `meta.next_cursor` back as `cursor`: every event is
    returned exactly once, in order, even while new events arrive. On the last page
    `next_cursor` is `null`; to poll for newer events later, pass the id of the last event
    you processed as `after`.

    Args:
        type_ (list[EventTypeName] | Unset):
        since (datetime.datetime | Unset): RFC 3339 time in UTC with milliseconds
        until (datetime.datetime | Unset): RFC 3339 time in UTC with milliseconds
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        after (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ListEvent | Problem
    """

    return sync_detailed(
        client=client,
        type_=type_,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
        after=after,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    type_: list[EventTypeName] | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    after: str | Unset = UNSET,
) -> Response[ListEvent | Problem]:
    """List events, oldest first.

     Follow the feed by passing `meta.next_cursor` back as `cursor`: every event is
    returned exactly once, in order, even while new events arrive. On the last page
    `next_cursor` is `null`; to poll for newer events later, pass the id of the last event
    you processed as `after`.

    Args:
        type_ (list[EventTypeName] | Unset):
        since (datetime.datetime | Unset): RFC 3339 time in UTC with milliseconds
        until (datetime.datetime | Unset): RFC 3339 time in UTC with milliseconds
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        after (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ListEvent | Problem]
    """

    kwargs = _get_kwargs(
        type_=type_,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
        after=after,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    type_: list[EventTypeName] | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    after: str | Unset = UNSET,
) -> ListEvent | Problem | None:
    """List events, oldest first.

     Follow the feed by passing `meta.next_cursor` back as `cursor`: every event is
    returned exactly once, in order, even while new events arrive. On the last page
    `next_cursor` is `null`; to poll for newer events later, pass the id of the last event
    you processed as `after`.

    Args:
        type_ (list[EventTypeName] | Unset):
        since (datetime.datetime | Unset): RFC 3339 time in UTC with milliseconds
        until (datetime.datetime | Unset): RFC 3339 time in UTC with milliseconds
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        after (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ListEvent | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            type_=type_,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            after=after,
        )
    ).parsed
