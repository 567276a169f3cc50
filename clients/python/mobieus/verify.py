"""Verifying a delivery: both of its signatures, with the endpoint's secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from base64 import b64decode
from collections.abc import Mapping

from standardwebhooks import Webhook

from mobieus_client.models import WebhookTest

from .client import Event, parse_event


class WebhookVerificationError(Exception):
    """A delivery that does not verify."""


def verify_webhook(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> Event | WebhookTest:
    """Verifies a delivery as received: its raw body bytes, its headers and the endpoint's
    signing secret (`whsec_…`). Both signatures must verify: the Standard Webhooks one
    (`webhook-signature`, by the official `standardwebhooks` library) and
    `Mobieus-Signature`. Answers the event as its type's model (`webhook.test` included);
    raises `WebhookVerificationError` otherwise."""
    lower = {k.lower(): v for k, v in headers.items()}
    at = int(time.time() if now is None else now)
    try:
        timestamp = int(lower.get("webhook-timestamp", ""))
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is missing") from None
    if abs(at - timestamp) > tolerance_seconds:
        raise WebhookVerificationError("webhook-timestamp is too far from now")
    standard = {k: lower.get(k, "") for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    try:
        # The library checks the time against the clock itself; ours was checked above.
        Webhook(secret).verify(body, standard)
    except Exception as e:  # the library raises its own error types
        raise WebhookVerificationError(f"webhook-signature: {e}") from None
    _verify_mobieus_signature(body, lower.get("mobieus-signature", ""), secret, at, tolerance_seconds)
    return parse_event(json.loads(body))


def _verify_mobieus_signature(body: bytes, value: str, secret: str, now: int, tolerance: int) -> None:
    """`Mobieus-Signature: t=<unix>,v1=<hex>[,v1_prev=<hex>]`, HMAC-SHA256 of `<t>.<body>`."""
    parts: dict[str, list[str]] = {}
    for part in value.split(","):
        key, eq, v = part.partition("=")
        if eq:
            parts.setdefault(key.strip(), []).append(v.strip())
    try:
        t = int(parts["t"][0])
    except (KeyError, ValueError):
        raise WebhookVerificationError("Mobieus-Signature has no time") from None
    if abs(now - t) > tolerance:
        raise WebhookVerificationError("Mobieus-Signature: the time is too far from now")
    key = b64decode(secret.removeprefix("whsec_"))
    expected = hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    candidates = parts.get("v1", []) + parts.get("v1_prev", [])
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise WebhookVerificationError("Mobieus-Signature: no signature matches")
