// The admin console and the forum in headless Chromium (Debian's /usr/bin/chromium, driven
// by playwright-core), against the release binary on a loopback port, with a webhook
// receiver on loopback that checks every signature.
//
//   node tests/browser/run.mjs target/release/mobieus
//
// An admin logs in, mints a key and sees it once, registers a webhook to the receiver,
// sends a test, opens the delivery and sees its signature, replays it and rotates the
// secret; a member registers, posts and edits, and the receiver gets the three events;
// a member opening /admin gets 403. Screenshots of the main pages, light, dark and on a
// phone, go to $SCREENSHOTS (default target/screenshots).

import { chromium } from "playwright-core";
import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { freePort, until as waitFor } from "./harness.mjs";

const binary = path.resolve(process.argv[2] ?? "target/release/mobieus");
const shots = path.resolve(process.env.SCREENSHOTS ?? "target/screenshots");
const PASSWORD = "correct horse battery";
const WAIT_MS = 15_000;

let failures = 0;
function check(ok, what) {
  if (ok) {
    console.log(`  ok   ${what}`);
  } else {
    failures += 1;
    console.log(`  FAIL ${what}`);
  }
}

const until = (what, predicate) => waitFor(what, predicate, WAIT_MS);

// The receiver: records every request; answers 200.
const received = [];
const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
});
await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;

/** Whether `secret` (whsec_…) made one of the request's `v1` signatures. */
function signedWith(request, secret) {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const header = request.headers["mobieus-signature"] ?? "";
  const parts = Object.fromEntries(header.split(",").map((p) => p.split("=", 2)));
  const expected = crypto.createHmac("sha256", key).update(`${parts.t}.${request.body}`).digest("hex");
  return [parts.v1, parts.v1_prev].some(
    (v) => v && v.length === expected.length && crypto.timingSafeEqual(Buffer.from(v), Buffer.from(expected)),
  );
}

const types = () => received.map((r) => r.headers["mobieus-event"]);

// The server, over a fresh data dir, with an admin made by the CLI.
const data = fs.mkdtempSync(path.join(os.tmpdir(), "mobieus-browser-"));
execFileSync(binary, ["--data-dir", data, "tenant", "create", "acme"], { stdio: "ignore" });
execFileSync(
  binary,
  ["--data-dir", data, "admin", "create", "--tenant", "acme", "--username", "root", "--password-stdin"],
  { input: `${PASSWORD}\n`, stdio: ["pipe", "ignore", "inherit"] },
);
const port = await freePort();
const server = spawn(
  binary,
  ["--data-dir", data, "serve", "--listen", `127.0.0.1:${port}`, "--webhook-allow-loopback"],
  { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, RUST_LOG: "warn" } },
);
const base = `http://acme.localhost:${port}`;
await until("the server", async () => {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
  } catch {
    return false;
  }
});

fs.mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

try {
  console.log("admin");
  const admin = await (await browser.newContext()).newPage();
  await admin.goto(`${base}/admin`);
  check(admin.url().startsWith(`${base}/login?next=`), "a logged-out visitor is sent to log in");
  await shot(admin, "login");
  await admin.fill("input[name=username]", "root");
  await admin.fill("input[name=password]", PASSWORD);
  await admin.click("button[type=submit]");
  check(admin.url() === `${base}/admin`, "and back to /admin after logging in");
  check((await admin.textContent("h1")) === "Webhook health", "the dashboard shows the health card");

  await admin.goto(`${base}/admin/api-keys`);
  await admin.fill("input[name=name]", "crm-sync");
  await admin.fill("input[name=rate_limit]", "120");
  await admin.click("button:has-text('Create key')");
  const key = (await admin.textContent("#new-key")).trim();
  check(/^mc_live_[A-Za-z0-9]{32,}/.test(key), "a new key is shown");
  check((await admin.textContent(".flash")).includes("shown only once"), "with the warning that it is shown once");
  const status = await new Promise((resolve, reject) => {
    // node:http, not fetch: fetch does not let a caller set `Host`, which names the tenant.
    http
      .get(
        { host: "127.0.0.1", port, path: "/api/v1/events", headers: { host: `acme.localhost:${port}`, authorization: `Bearer ${key}` } },
        (res) => resolve(res.statusCode),
      )
      .on("error", reject);
  });
  check(status === 200, "the key works on the API");
  await admin.goto(`${base}/admin/api-keys`);
  check(!(await admin.content()).includes(key), "the list never shows the key again");
  await shot(admin, "admin-api-keys");

  await admin.goto(`${base}/admin/webhooks/new`);
  await admin.fill("input[name=url]", hookUrl);
  await admin.fill("input[name=label]", "Browser test receiver");
  await admin.click("button:has-text('Register')");
  const secret = (await admin.textContent("#new-secret")).trim();
  check(secret.startsWith("whsec_"), "registering shows the signing secret once");
  await admin.click("a:has-text('Go to the endpoint')");
  const endpointUrl = admin.url();
  await admin.click("button:has-text('Send a test')");
  const test = await until("the test event", () => received.find((r) => r.headers["mobieus-event"] === "webhook.test"));
  check(signedWith(test, secret), "the receiver gets webhook.test, signed with the secret shown");

  await until("the delivery to be recorded", async () => {
    await admin.goto(endpointUrl);
    return (await admin.content()).includes(">succeeded<");
  });
  await shot(admin, "admin-endpoint");
  await admin.click("a[href*='/deliveries/dlv_']");
  const page = await admin.content();
  check(page.includes(test.headers["mobieus-signature"]), "the delivery page shows the signature as sent");
  check(page.includes("HTTP 200"), "and the answer's status");
  await shot(admin, "admin-delivery");
  await admin.click("button:has-text('Replay')");
  await until("the replay", () => received.filter((r) => r.headers["mobieus-event"] === "webhook.test").length >= 2);
  const tests = received.filter((r) => r.headers["mobieus-event"] === "webhook.test");
  check(tests[1].headers["webhook-id"] === tests[0].headers["webhook-id"], "replay sends the same event again");

  await admin.goto(endpointUrl);
  await admin.selectOption("select[name=grace]", "3600");
  await admin.click("button:has-text('Rotate secret')");
  const rotated = (await admin.textContent("#new-secret")).trim();
  check(rotated.startsWith("whsec_") && rotated !== secret, "rotating shows a new secret once");
  await admin.goto(`${base}/admin`);
  await shot(admin, "admin-dashboard");
  await admin.emulateMedia({ colorScheme: "dark" });
  await shot(admin, "admin-dashboard-dark");
  await admin.goto(`${base}/admin/webhooks`);
  await shot(admin, "admin-webhooks-dark");
  await admin.goto(`${base}/admin/audit`);
  await shot(admin, "admin-audit-dark");

  console.log("member");
  const before = received.length;
  const member = await (await browser.newContext()).newPage();
  await member.goto(`${base}/register`);
  await member.fill("input[name=username]", "mia");
  await member.fill("input[name=password]", PASSWORD);
  await member.click("button:has-text('Register')");
  check(member.url() === `${base}/`, "a visitor registers and is logged in");
  await member.click("a:has-text('New thread')");
  await member.fill("input[name=title]", "Hello from Chromium");
  await member.fill("textarea[name=body]", "My first post.");
  await member.click("button:has-text('Start thread')");
  check(/\/t\/\d+$/.test(member.url()), "posts a thread");
  await member.click("a:has-text('Edit')");
  await member.fill("textarea[name=body]", "My first post, edited.");
  await member.click("button:has-text('Save')");
  check((await member.content()).includes("My first post, edited."), "edits it");
  await shot(member, "forum-thread");
  const threadUrl = member.url();
  const events = await until("the member's three events", () => {
    const got = received.slice(before).map((r) => r.headers["mobieus-event"]);
    return ["user.joined", "post.created", "post.edited"].every((t) => got.includes(t)) && got;
  });
  check(
    JSON.stringify(events) === JSON.stringify(["user.joined", "post.created", "post.edited"]),
    `the receiver gets user.joined, post.created, post.edited (${events.join(", ")})`,
  );
  check(received.slice(before).every((r) => signedWith(r, rotated)), "each signed with the rotated secret");
  const forbidden = await member.goto(`${base}/admin`);
  check(forbidden.status() === 403, "a member opening /admin gets 403");
  await shot(member, "member-admin-403");
  await member.goto(`${base}/`);
  await shot(member, "forum-threads");
  await member.setViewportSize({ width: 390, height: 844 });
  await member.goto(`${base}/`);
  await shot(member, "forum-threads-phone");
  await member.emulateMedia({ colorScheme: "dark" });
  await member.goto(threadUrl);
  await shot(member, "forum-thread-phone-dark");
} catch (e) {
  failures += 1;
  console.log(`  FAIL ${e.stack ?? e}`);
} finally {
  await browser.close();
  server.kill("SIGTERM");
  receiver.close();
  fs.rmSync(data, { recursive: true, force: true });
}

console.log(`screenshots in ${shots}:`);
for (const f of fs.readdirSync(shots).sort()) {
  console.log(`  ${f} (${fs.statSync(path.join(shots, f)).size} bytes)`);
}
if (failures > 0) {
  console.log(`${failures} browser check(s) failed`);
  process.exit(1);
}
console.log("all browser checks passed");
