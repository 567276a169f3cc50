// The live event stream read by real EventSource clients: Chromium's own (headless,
// driven by playwright-core; the API key is added to its requests by the harness, as a
// backend proxy would, since a browser's EventSource cannot send headers) and the Node
// `eventsource` package. Both replay the feed, follow it, and when the server is killed
// and started again on its port, with members joining while it is down, reconnect with
// `Last-Event-ID` by themselves: every event once, in feed order.
//
//   node tests/browser/stream.mjs target/release/mobieus

import { chromium } from "playwright-core";
import { EventSource } from "eventsource";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort, until as waitFor } from "./harness.mjs";

const binary = path.resolve(process.argv[2] ?? "target/release/mobieus");
const WAIT_MS = 20_000;

let failures = 0;
function check(ok, what) {
  console.log(`  ${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures += 1;
}

const until = (what, predicate) => waitFor(what, predicate, WAIT_MS);

const data = fs.mkdtempSync(path.join(os.tmpdir(), "mobieus-stream-"));
const cli = (...args) => execFileSync(binary, ["--data-dir", data, ...args], { encoding: "utf8" });
const join = (name) => cli("forum", "--tenant", "alpha", "user", "join", name);

// The tenant answers at `localhost` too, which every resolver knows.
cli("tenant", "create", "alpha", "--host", "localhost");
const key = JSON.parse(
  cli("key", "create", "--tenant", "alpha", "--name", "stream", "--scopes", "events:read", "--json"),
).key;
join("ann");
join("bob");

const port = await freePort();
const origin = `http://localhost:${port}`;
let server;
async function serve() {
  server = spawn(binary, ["--data-dir", data, "serve", "--no-worker", "--listen", `127.0.0.1:${port}`], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, RUST_LOG: "warn" },
  });
  await until("the server to listen", () =>
    new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.end();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    }),
  );
}

async function feed() {
  const res = await fetch(`${origin}/api/v1/events?limit=100`, {
    headers: { Authorization: `Bearer ${key}` },
  });
  return (await res.json()).data.map((e) => e.id);
}

await serve();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage();
  await page.route("**/api/v1/events/stream*", (route) =>
    route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${key}` } }),
  );
  await page.goto(`${origin}/know`);
  await page.evaluate(() => {
    window.seen = [];
    const source = new EventSource("/api/v1/events/stream?from=start");
    source.addEventListener("user.joined", (e) => {
      const event = JSON.parse(e.data);
      window.seen.push(`${e.lastEventId} ${event.id === e.lastEventId}`);
    });
  });

  const node = [];
  const source = new EventSource(`${origin}/api/v1/events/stream?from=start`, {
    fetch: (input, init) =>
      fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${key}` } }),
  });
  source.addEventListener("user.joined", (e) => node.push(`${e.lastEventId} ${JSON.parse(e.data).id === e.lastEventId}`));

  const seenBrowser = () => page.evaluate(() => window.seen.slice());
  await until("both clients to replay the feed", async () => (await seenBrowser()).length === 2 && node.length === 2);
  join("cy");
  await until("the live event", async () => (await seenBrowser()).length === 3 && node.length === 3);

  // Killed, not stopped: the clients see the connection drop, as when a machine dies.
  server.kill("SIGKILL");
  await new Promise((r) => server.once("exit", r));
  join("dee");
  join("eve");
  await serve();
  join("fay");
  await until("the events from while the server was down", async () => (await seenBrowser()).length >= 6 && node.length >= 6);
  await new Promise((r) => setTimeout(r, 1000));
  source.close();

  const want = (await feed()).map((id) => `${id} true`);
  const browserSeen = await seenBrowser();
  check(want.length === 6, `the feed holds the six joins (${want.length})`);
  check(JSON.stringify(browserSeen) === JSON.stringify(want), "Chromium's EventSource: every event once, in order, across the restart");
  check(JSON.stringify(node) === JSON.stringify(want), "the Node eventsource package: every event once, in order, across the restart");
  if (failures > 0) {
    console.log({ want, browserSeen, node });
  }
} finally {
  await browser.close();
  server.kill("SIGKILL");
  fs.rmSync(data, { recursive: true, force: true });
}
if (failures > 0) {
  console.log(`${failures} stream check(s) failed`);
  process.exit(1);
}
console.log("all stream checks passed");
