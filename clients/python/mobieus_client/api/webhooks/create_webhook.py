from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.create_endpoint import CreateEndpoint
from ...models.one_endpoint_with_secret import OneEndpointWithSecret
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: CreateEndpoint,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/webhooks",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> OneEndpointWithSecret | Problem | None:
    if response.status_code == 201:
        response_201 = OneEndpointWithSecret.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

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
) -> Response[OneEndpointWithSecret | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: CreateEndpoint,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[OneEndpointWithSecret | Problem]:
    """Register a webhook endpoint. The answer carries its signing secret, this once only.

     The URL must be https to a public address: IP literals in private, loopback,
    link-local and other special ranges (in any notation), and names such as
    `localhost`, `*.internal` or `metadata.*` are refused with `422 unsafe_webhook_url`.
    Names are resolved again, and every address checked, at each delivery.

    Args:
        idempotency_key (None | str | Unset):
        body (CreateEndpoint): A new endpoint.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OneEndpointWithSecret | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: CreateEndpoint,
    idempotency_key: None | str | Unset = UNSET,
) -> OneEndpointWithSecret | Problem | None:
    """Register a webhook endpoint. The answer carries its signing secret, this once only.

     The URL must be https to a public address: IP literals in private, loopback,
    link-local and other special ranges (in any notation), and names such as
    `localhost`, `*.internal` or `metadata.*` are refused with `422 unsafe_webhook_url`.
    Names are resolved again, and every address checked, at each delivery.

    Args:
        idempotency_key (None | str | Unset):
        body (CreateEndpoint): A new endpoint.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OneEndpointWithSecret | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: CreateEndpoint,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[OneEndpointWithSecret | Problem]:
    """Register a webhook endpoint. The answer carries its signing secret, this once only.

     The URL must be https to a public address: IP literals in private, loopback,
    link-local and other special ranges (in any notation), and names such as
    `localhost`, `*.internal` or `metadata.*` are refused with `422 unsafe_webhook_url`.
    Names are resolved again, and every address checked, at each delivery.

    Args:
        idempotency_key (None | str | Unset):
        body (CreateEndpoint): A new endpoint.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OneEndpointWithSecret | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: CreateEndpoint,
    idempotency_key: None | str | Unset = UNSET,
) -> OneEndpointWithSecret | Problem | None:
    """Register a webhook endpoint. The answer carries its signing secret, this once only.

     The URL must be https to a public address: IP literals in private, loopback,
    link-local and other special ranges (in any notation), and names such as
    `localhost`, `*.internal` or `metadata.*` are refused with `422 unsafe_webhook_url`.
    Names are resolved again, and every address checked, at each delivery.

    Args:
        idempotency_key (None | str | Unset):
        body (CreateEndpoint): A new endpoint.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OneEndpointWithSecret | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
