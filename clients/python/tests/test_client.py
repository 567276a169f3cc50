"""The client against a real server (`clients/test-server.sh`: the release binary, a tenant
with one event of every type) and a real receiver on loopback.

    MOBIEUS_BIN=target/release/mobieus python -m unittest discover -s clients/python/tests
"""

import base64
import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time
import typing
import unittest
import urllib.request
from pathlib import Path

from mobieus import Client, Event, MobieusError, WebhookVerificationError, verify_webhook
from mobieus_client.models import (
    ModerationPostRemoved,
    ModerationThreadLocked,
    ModerationThreadUnlocked,
    ModerationUserBanned,
    ModerationUserUnbanned,
    PostCreated,
    PostDeleted,
    PostEdited,
    UserJoined,
    UserLeft,
)

ROOT = Path(__file__).resolve().parents[3]
BINARY = (ROOT / os.environ.get("MOBIEUS_BIN", "target/release/mobieus")).resolve()
EVERY_TYPE = {
    UserJoined: "user.joined",
    UserLeft: "user.left",
    PostCreated: "post.created",
    PostEdited: "post.edited",
    PostDeleted: "post.deleted",
    ModerationUserBanned: "moderation.user_banned",
    ModerationUserUnbanned: "moderation.user_unbanned",
    ModerationPostRemoved: "moderation.post_removed",
    ModerationThreadLocked: "moderation.thread_locked",
    ModerationThreadUnlocked: "moderation.thread_unlocked",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def describe(event) -> str:
    """What an event says, read through its narrowed model."""
    if isinstance(event, (UserJoined, UserLeft)):
        return f"{event.type_} {event.data.user.username}"
    if isinstance(event, PostEdited):
        return f"post.edited {event.data.post.id}: {event.data.previous.body} -> {event.data.post.body}"
    if isinstance(event, (PostCreated, PostDeleted)):
        return f"{event.type_} {event.data.post.id} by {event.data.actor.username}"
    if isinstance(event, (ModerationUserBanned, ModerationUserUnbanned)):
        return f"{event.type_} {event.data.user.username} by {event.data.actor.username} ({event.data.reason or 'no reason'})"
    if isinstance(event, ModerationPostRemoved):
        return f"post.removed {event.data.post.id} ({event.data.reason})"
    if isinstance(event, (ModerationThreadLocked, ModerationThreadUnlocked)):
        return f"{event.type_} {event.data.thread.id} locked={event.data.thread.locked}"
    raise AssertionError(f"an event of no known type: {event!r}")


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        out = subprocess.run(
            [str(ROOT / "clients/test-server.sh"), str(BINARY), str(free_port())],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        cls.server = json.loads(out)
        cls.client = Client(cls.server["origin"], cls.server["key"])

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        os.kill(cls.server["pid"], signal.SIGTERM)

    def test_pages_every_event_each_as_its_type(self):
        events = list(self.client.events(limit=3))
        self.assertEqual(len(events), 16)
        self.assertEqual({type(e) for e in events}, set(EVERY_TYPE))
        for e in events:
            self.assertEqual(str(e.type_), EVERY_TYPE[type(e)])
        lines = [describe(e) for e in events]
        self.assertIn("post.edited 2: Helo -> Hello", lines)
        self.assertIn("moderation.user_banned bob by cleo (Spam)", lines)
        self.assertIn("moderation.user_unbanned bob by cleo (no reason)", lines)
        later = [e.id for e in self.client.events(after=events[13].id)]
        self.assertEqual(later, [e.id for e in events[14:]])
        edits = list(self.client.events(types=["post.edited"]))
        self.assertEqual([type(e) for e in edits], [PostEdited])
        self.assertEqual(self.client.event(events[3].id).to_dict(), events[3].to_dict())

    def test_reads_the_live_stream_from_the_start_in_feed_order(self):
        everything = [e.id for e in self.client.events()]
        stop = threading.Event()
        seen = []
        for e in self.client.stream(from_start=True, stop=stop):
            seen.append(e.id)
            if len(seen) == len(everything):
                stop.set()
        self.assertEqual(seen, everything)

    def test_the_event_union_names_every_type_of_the_catalog(self):
        with urllib.request.urlopen(f"{self.server['origin']}/api/schemas/events") as r:
            index = json.load(r)
        in_feed = {t["type"] for t in index["event_types"] if t["in_feed"]}
        self.assertEqual({EVERY_TYPE[c] for c in typing.get_args(Event)}, in_feed)

    def test_a_refused_request_raises_the_problems_code(self):
        with Client(self.server["origin"], "mc_live_nope") as bad, self.assertRaises(MobieusError) as caught:
            bad.webhooks.list()
        self.assertEqual(caught.exception.status, 401)

    def test_manages_a_webhook_end_to_end_and_verifies_a_real_delivery(self):
        received = []

        class Receiver(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                received.append((body, dict(self.headers.items())))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        try:
            port = receiver.server_address[1]
            created = self.client.webhooks.create(f"http://127.0.0.1:{port}/hook", ["post.created"], "sdk test")
            secret = created.secret
            self.assertTrue(secret.startswith("whsec_"))
            id = created.id
            self.assertEqual(self.client.webhooks.get(id).label, "sdk test")
            updated = self.client.webhooks.update(id, events=["post.created", "post.edited"])
            self.assertEqual([str(e) for e in updated.events], ["post.created", "post.edited"])
            self.assertIn(id, [e.id for e in self.client.webhooks.list()])

            self.client.webhooks.test(id, "post.created")
            deadline = time.time() + 15
            while not received and time.time() < deadline:
                time.sleep(0.05)
            self.assertTrue(received, "the test send arrived")
            body, headers = received[0]
            event = verify_webhook(body, headers, secret)
            self.assertIsInstance(event, PostCreated)
            self.assertIsInstance(event.data.post.id, int)
            self.assertIs(event.test, True)

            tampered = body.replace(b"post.created", b"post.edited")
            with self.assertRaises(WebhookVerificationError):
                verify_webhook(tampered, headers, secret)
            other = "whsec_" + base64.b64encode(bytes([7]) * 32).decode()
            with self.assertRaises(WebhookVerificationError):
                verify_webhook(body, headers, other)
            with self.assertRaises(WebhookVerificationError):
                verify_webhook(body, headers, secret, now=time.time() + 3600)

            self.client.webhooks.delete(id)
            with self.assertRaises(MobieusError) as caught:
                self.client.webhooks.get(id)
            self.assertEqual(caught.exception.status, 404)
            self.assertEqual(caught.exception.code, "not_found")
        finally:
            receiver.shutdown()
            receiver.server_close()


if __name__ == "__main__":
    unittest.main()
