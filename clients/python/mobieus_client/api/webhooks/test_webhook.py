from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.one_delivery import OneDelivery
from ...models.problem import Problem
from ...models.test_send import TestSend
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    *,
    body: TestSend | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/webhooks/{id}/test".format(
            id=quote(str(id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> OneDelivery | Problem | None:
    if response.status_code == 202:
        response_202 = OneDelivery.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[OneDelivery | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: TestSend | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[OneDelivery | Problem]:
    """Send a test event to this endpoint only.

     By default a `webhook.test` event; with `event_type`, that type's catalog example,
    with a fresh id and the current time, signed like any delivery. It is sent even when
    the endpoint does not subscribe to the type (this is an explicit test of the
    endpoint), to no other endpoint, and never appears in the event feed or stream; an
    example of a catalog type carries `"test": true` at its top level so the receiver can
    tell it from a real event. An empty body, or `{}`, sends `webhook.test`.

    Args:
        id (str):
        idempotency_key (None | str | Unset):
        body (TestSend | Unset): What to send in a test: a catalog type's example, or (by default)
            `webhook.test`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OneDelivery | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    body: TestSend | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> OneDelivery | Problem | None:
    """Send a test event to this endpoint only.

     By default a `webhook.test` event; with `event_type`, that type's catalog example,
    with a fresh id and the current time, signed like any delivery. It is sent even when
    the endpoint does not subscribe to the type (this is an explicit test of the
    endpoint), to no other endpoint, and never appears in the event feed or stream; an
    example of a catalog type carries `"test": true` at its top level so the receiver can
    tell it from a real event. An empty body, or `{}`, sends `webhook.test`.

    Args:
        id (str):
        idempotency_key (None | str | Unset):
        body (TestSend | Unset): What to send in a test: a catalog type's example, or (by default)
            `webhook.test`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OneDelivery | Problem
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: TestSend | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[OneDelivery | Problem]:
    """Send a test event to this endpoint only.

     By default a `webhook.test` event; with `event_type`, that type's catalog example,
    with a fresh id and the current time, signed like any delivery. It is sent even when
    the endpoint does not subscribe to the type (this is an explicit test of the
    endpoint), to no other endpoint, and never appears in the event feed or stream; an
    example of a catalog type carries `"test": true` at its top level so the receiver can
    tell it from a real event. An empty body, or `{}`, sends `webhook.test`.

    Args:
        id (str):
        idempotency_key (None | str | Unset):
        body (TestSend | Unset): What to send in a test: a catalog type's example, or (by default)
            `webhook.test`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OneDelivery | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    body: TestSend | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> OneDelivery | Problem | None:
    """Send a test event to this endpoint only.

     By default a `webhook.test` event; with `event_type`, that type's catalog example,
    with a fresh id and the current time, signed like any delivery. It is sent even when
    the endpoint does not subscribe to the type (this is an explicit test of the
    endpoint), to no other endpoint, and never appears in the event feed or stream; an
    example of a catalog type carries `"test": true` at its top level so the receiver can
    tell it from a real event. An empty body, or `{}`, sends `webhook.test`.

    Args:
        id (str):
        idempotency_key (None | str | Unset):
        body (TestSend | Unset): What to send in a test: a catalog type's example, or (by default)
            `webhook.test`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OneDelivery | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
