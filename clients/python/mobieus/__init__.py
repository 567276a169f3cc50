"""A typed client for the mobieus API.

The models and operations in ``mobieus_client`` are generated from the API's OpenAPI
document (openapi-python-client; do not edit them). This package adds what a generator
does not: the feed across pages, the live stream with resumption, errors as exceptions
with the problem's ``code``, and the verification of a delivery's two signatures.

    from mobieus import Client
    from mobieus_client.models import PostEdited

    client = Client("https://forum.example.org", "mc_live_…")
    for event in client.events():
        if isinstance(event, PostEdited):
            print(event.data.previous.body, "->", event.data.post.body)
"""

from .client import Client, Event, MobieusError, Webhooks, parse_event
from .verify import WebhookVerificationError, verify_webhook

__all__ = [
    "Client",
    "Event",
    "MobieusError",
    "Webhooks",
    "WebhookVerificationError",
    "parse_event",
    "verify_webhook",
]
