// The client against a real server (`clients/test-server.sh`: the release binary, a
// tenant with one event of every type) and a real receiver on loopback.
//
//   MOBIEUS_BIN=target/release/mobieus npm test     (from clients/typescript)

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  type Event,
  type EventType,
  MobieusClient,
  MobieusError,
  verifyWebhook,
  WebhookVerificationError,
} from "../index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../../..");
const binary = path.resolve(root, process.env.MOBIEUS_BIN ?? "target/release/mobieus");

interface Server {
  origin: string;
  key: string;
  pid: number;
}

let server: Server;
let client: MobieusClient;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  const out = execFileSync(
    path.join(root, "clients/test-server.sh"),
    [binary, String(await freePort())],
    { encoding: "utf8" },
  );
  server = JSON.parse(out) as Server;
  client = new MobieusClient({ baseUrl: server.origin, apiKey: server.key });
});

after(() => {
  if (server) process.kill(server.pid);
});

const EVERY_TYPE: EventType[] = [
  "user.joined",
  "user.left",
  "post.created",
  "post.edited",
  "post.deleted",
  "moderation.user_banned",
  "moderation.user_unbanned",
  "moderation.post_removed",
  "moderation.thread_locked",
  "moderation.thread_unlocked",
];

/** What each event says, read through its narrowed type. */
function describe(e: Event): string {
  switch (e.type) {
    case "user.joined":
    case "user.left":
      return `${e.type} ${e.data.user.username}`;
    case "post.created":
    case "post.deleted":
      return `${e.type} ${e.data.post.id} in ${e.data.thread.title} by ${e.data.actor.username}`;
    case "post.edited":
      return `post.edited ${e.data.post.id}: ${e.data.previous.body} -> ${e.data.post.body}`;
    case "moderation.user_banned":
    case "moderation.user_unbanned":
      return `${e.type} ${e.data.user.username} by ${e.data.actor.username} (${e.data.reason ?? "no reason"})`;
    case "moderation.post_removed":
      return `post.removed ${e.data.post.id} (${e.data.reason ?? "no reason"})`;
    case "moderation.thread_locked":
    case "moderation.thread_unlocked":
      return `${e.type} ${e.data.thread.id} locked=${e.data.thread.locked}`;
  }
}

test("pages every event of the feed, each narrowed to its type", async () => {
  const events: Event[] = [];
  for await (const e of client.events({ limit: 3 })) events.push(e);
  assert.equal(events.length, 16);
  assert.deepEqual([...new Set(events.map((e) => e.type))].sort(), [...EVERY_TYPE].sort());
  const lines = events.map(describe);
  assert.ok(lines.includes("post.edited 2: Helo -> Hello"), lines.join("\n"));
  assert.ok(lines.includes("moderation.user_banned bob by cleo (Spam)"), lines.join("\n"));
  assert.ok(lines.includes("moderation.user_unbanned bob by cleo (no reason)"), lines.join("\n"));
  // Resuming after an event, and filtering by type.
  const after = [];
  for await (const e of client.events({ after: events[13]!.id })) after.push(e.id);
  assert.deepEqual(after, events.slice(14).map((e) => e.id));
  const edits = [];
  for await (const e of client.events({ types: ["post.edited"] })) edits.push(e.type);
  assert.deepEqual(edits, ["post.edited"]);
  // One event by id.
  assert.deepEqual(await client.event(events[3]!.id), events[3]);
});

test("reads the live stream from the start, in feed order", async () => {
  const all: string[] = [];
  for await (const e of client.events()) all.push(e.id);
  const seen: string[] = [];
  const stop = new AbortController();
  for await (const e of client.stream({ fromStart: true, signal: stop.signal })) {
    seen.push(e.id);
    if (seen.length === all.length) stop.abort();
  }
  assert.deepEqual(seen, all);
});

test("a refused request throws the problem's code", async () => {
  const bad = new MobieusClient({ baseUrl: server.origin, apiKey: "mc_live_nope" });
  await assert.rejects(bad.webhooks.list(), (e: unknown) => {
    assert.ok(e instanceof MobieusError);
    assert.equal(e.status, 401);
    return true;
  });
});

test("manages a webhook end to end and verifies a real delivery", async () => {
  const received: { body: Buffer; headers: http.IncomingHttpHeaders }[] = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ body: Buffer.concat(chunks), headers: req.headers });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const port = (receiver.address() as AddressInfo).port;
  try {
    const created = await client.webhooks.create({
      url: `http://127.0.0.1:${port}/hook`,
      events: ["post.created"],
      label: "sdk test",
    });
    const secret = created.secret;
    assert.match(secret, /^whsec_/);
    const id = created.id;
    assert.equal((await client.webhooks.get(id)).label, "sdk test");
    const updated = await client.webhooks.update(id, { events: ["post.created", "post.edited"] });
    assert.deepEqual(updated.events, ["post.created", "post.edited"]);
    assert.ok((await client.webhooks.list()).some((e) => e.id === id));

    await client.webhooks.test(id, "post.created");
    const deadline = Date.now() + 15_000;
    while (received.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const delivery = received[0];
    assert.ok(delivery, "the test send arrived");
    const event = verifyWebhook(delivery.body, delivery.headers, secret);
    assert.equal(event.type, "post.created");
    if (event.type === "post.created") {
      assert.equal(typeof event.data.post.id, "number");
      assert.equal(event.test, true);
    }
    // A tampered body, a wrong secret, an old delivery: refused.
    const tampered = Buffer.from(delivery.body.toString("utf8").replace("post.created", "post.edited"));
    assert.throws(() => verifyWebhook(tampered, delivery.headers, secret), WebhookVerificationError);
    const other = "whsec_" + Buffer.alloc(32, 7).toString("base64");
    assert.throws(() => verifyWebhook(delivery.body, delivery.headers, other), WebhookVerificationError);
    const later = new Date(Date.now() + 3_600_000);
    assert.throws(
      () => verifyWebhook(delivery.body, delivery.headers, secret, { now: later }),
      WebhookVerificationError,
    );

    await client.webhooks.delete(id);
    await assert.rejects(client.webhooks.get(id), (e: unknown) => {
      assert.ok(e instanceof MobieusError);
      assert.equal(e.status, 404);
      assert.equal(e.code, "not_found");
      return true;
    });
  } finally {
    receiver.close();
  }
});
