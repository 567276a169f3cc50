#!/usr/bin/env python3
"""API conformance fuzzing: schemathesis against a freshly started server, over every
operation of /api/openapi.yaml but the live event stream (an answer that never ends),
with a key holding every scope, every check on: no 5xx, no response that breaks its
documented schema, no undocumented status code or header.

Usage: schemathesis.py PATH_TO_MOBIEUS_BINARY   (run with the python of a venv that has
schemathesis; its `st` is taken from beside that python)

The server runs with `--no-worker` and `--webhook-offline`: fuzzing registers webhook
endpoints with invented URLs; nothing is sent to them, and their host names are not
looked up (no DNS server is asked). Nothing here leaves the machine.
Bounded: a fixed number of examples per operation and phase, and a hard time limit.

This file is also the run's schemathesis hooks module (loaded by path through
SCHEMATHESIS_HOOKS): see `register_hooks` for what no schema can say and how valid
requests are kept valid."""
import json, os, pathlib, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request

TENANT = "fuzz"
HOST = f"{TENANT}.localhost"
SCOPES = "events:read,users:read,posts:read,webhooks:read,webhooks:manage"
# Test cases per operation in each generating phase (coverage draws its own, bounded set).
MAX_EXAMPLES = int(os.environ.get("MOBIEUS_FUZZ_EXAMPLES", "400"))
# The whole schemathesis run may take this long; past it the step fails.
TIME_LIMIT = int(os.environ.get("MOBIEUS_FUZZ_TIME_LIMIT", "300"))


# What the hooks need from the seeded server: a cursor each list handed out, an event id.
STATE_ENV = "MOBIEUS_FUZZ_STATE"
# A valid Idempotency-Key, as the spec's pattern says (1-255 printable ASCII, no outer space).
IDEMPOTENCY_KEY_PATTERN = r"[!-~](?:[ -~]{0,253}[!-~])?"

# Per-operation check settings. In this API a 400 says a request is malformed, which the
# schema describes; a 422 says a well-formed request was refused for what it means, which
# no schema can describe: on these two operations, a URL that is not on the public
# internet (`unsafe_webhook_url`). So schema-valid data may meet a 422 there, and only
# there; a 400 to schema-valid data stays a failure everywhere.
CONFIG = """
[[operations]]
include-operation-id = ["create_webhook", "update_webhook"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
"""


def register_hooks():
    """Schema-valid requests whose validity depends on server state, made valid the way a
    client makes them, so that a 400 to a schema-valid request always means a mismatch
    between the spec and the server:
    - `cursor` is opaque (a string in the spec); a valid one is one the list handed out;
    - `after` must name an event of the feed, and not come with `cursor`;
    - an `Idempotency-Key` is for one request: reused for another, it is refused (422),
      and a repeat is answered as first answered (a replayed 201 may name an endpoint that
      a later step deleted), so each request gets its own key (the generated one plus a
      random suffix, still within the spec's pattern);
    - a recovery window must not be empty (`until` after `since`, `until` default now).
    Only positive cases are changed; every negative case goes out as generated."""
    import datetime, uuid
    import schemathesis
    from schemathesis import GenerationMode

    state = json.loads(os.environ[STATE_ENV])
    valid_key = re.compile(IDEMPOTENCY_KEY_PATTERN)

    def rfc3339(value):
        try:
            t = datetime.datetime.fromisoformat(str(value).upper().replace("Z", "+00:00"))
        except ValueError:
            return None
        return t if t.tzinfo else None

    @schemathesis.hook
    def before_call(ctx, case, **kwargs):
        if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
            return
        key = case.headers.get("Idempotency-Key") if case.headers else None
        if isinstance(key, str) and valid_key.fullmatch(key):
            case.headers["Idempotency-Key"] = f"{key[:238]}-{uuid.uuid4().hex[:16]}"
        query = case.query if isinstance(case.query, dict) else {}
        if "cursor" in query and case.path in state["cursors"]:
            query["cursor"] = state["cursors"][case.path]
        if "after" in query:
            if "cursor" in query:
                del query["after"]
            else:
                query["after"] = state["event_id"]
        if case.path.endswith("/recover") and isinstance(case.body, dict):
            since, until = rfc3339(case.body.get("since")), rfc3339(case.body.get("until"))
            now = datetime.datetime.now(datetime.timezone.utc)
            if since is not None and (until or now) <= since:
                if until is not None and until < since:
                    case.body["since"], case.body["until"] = case.body["until"], case.body["since"]
                elif until is not None and since < now:
                    del case.body["until"]
                else:
                    case.body["since"] = "1970-01-01T00:00:00Z"


def fail(msg):
    sys.exit(f"schemathesis: {msg}")


def schemathesis_cli():
    beside = pathlib.Path(sys.executable).parent / "st"
    found = str(beside) if beside.exists() else shutil.which("st")
    if not found:
        fail("the schemathesis CLI `st` is not installed beside this python")
    return found


def main():
    if len(sys.argv) != 2:
        fail("usage: schemathesis.py PATH_TO_MOBIEUS_BINARY")
    binary = os.path.abspath(sys.argv[1])
    st = schemathesis_cli()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mobieus-fuzz-") as tmp:
        data = os.path.join(tmp, "data")

        def cli(*args):
            out = subprocess.run([binary, "--data-dir", data, *args], check=True,
                                 capture_output=True, text=True).stdout
            return json.loads(out) if "--json" in args and out.strip() else out

        def forum(*args):
            return cli("forum", "--tenant", TENANT, "--json", *args)

        cli("tenant", "create", TENANT)
        key = cli("key", "create", "--tenant", TENANT, "--name", "fuzz", "--scopes", SCOPES,
                  "--rate-limit", "1000000", "--json")["key"]

        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
        base = f"http://127.0.0.1:{port}"
        log = open(os.path.join(tmp, "server.log"), "wb")
        server = subprocess.Popen([binary, "--data-dir", data, "serve", "--no-worker",
                                   "--webhook-offline", "--listen", f"127.0.0.1:{port}"],
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/api/openapi.yaml", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                fail("server did not answer /api/openapi.yaml")

            def api(method, path, body=None, whole=False):
                req = urllib.request.Request(
                    f"{base}{path}", method=method,
                    data=None if body is None else json.dumps(body).encode(),
                    headers={"Host": HOST, "Authorization": f"Bearer {key}",
                             "Content-Type": "application/json"})
                answer = json.load(urllib.request.urlopen(req, timeout=10))
                return answer if whole else answer["data"]

            # Rows for the reads to find: endpoints first, so the forum's events make
            # deliveries (pending for ever: no worker), then members, threads, posts.
            # The names never resolve here, and nothing would send to them anyway.
            off = api("POST", "/api/v1/webhooks", {"url": "https://off.example.com/hook",
                                                   "events": ["post.created"]})
            everything = api("POST", "/api/v1/webhooks", {"url": "https://hooks.example.com/mobieus",
                                                          "events": ["*"], "label": "all"})
            forum("user", "join", "ann")
            forum("user", "join", "bob")
            forum("user", "join", "cy")
            forum("user", "role", "ann", "admin")
            thread = forum("thread", "create", "--author", "ann", "--title", "Welcome",
                           "--body", "First post")["thread_id"]
            reply = forum("post", "create", "--thread", str(thread), "--author", "bob",
                          "--body", "A reply")["post_id"]
            forum("post", "create", "--thread", str(thread), "--author", "cy", "--body", "Another")
            forum("post", "delete", "--by", "bob", str(reply))
            forum("mod", "ban", "--by", "ann", "cy")
            forum("user", "leave", "bob")
            api("PATCH", f"/api/v1/webhooks/{off['id']}", {"active": False})

            # A cursor each list hands out (every list has two rows or more), an event id.
            lists = ["/api/v1/events", "/api/v1/users", "/api/v1/posts", "/api/v1/webhooks",
                     "/api/v1/webhooks/{id}/deliveries"]
            cursors = {}
            for path in lists:
                page = api("GET", path.replace("{id}", everything["id"]) + "?limit=1", whole=True)
                cursors[path] = page["meta"]["next_cursor"]
                if not cursors[path]:
                    fail(f"seeding left {path} with a single page")
            event_id = api("GET", "/api/v1/events?limit=1")[0]["id"]
            config = os.path.join(tmp, "schemathesis.toml")
            with open(config, "w") as f:
                f.write(CONFIG)
            env = dict(os.environ, SCHEMATHESIS_HOOKS=os.path.abspath(__file__),
                       **{STATE_ENV: json.dumps({"cursors": cursors, "event_id": event_id})})

            cmd = [
                st, "--config-file", config, "run", f"{base}/api/openapi.yaml",
                "--url", base,
                "--header", f"Host: {HOST}",
                "--header", f"Authorization: Bearer {key}",
                # The live stream never ends, so a request to it only times out; its own
                # tests (crates/mobieus/tests/stream.rs) read it with real clients.
                "--exclude-operation-id", "stream_events",
                "--checks", "all",
                "--mode", "all",
                "--phases", "examples,coverage,fuzzing,stateful",
                "--max-examples", str(MAX_EXAMPLES),
                # One worker: generating in threads trips CPython 3.11's AST recursion
                # check inside hypothesis ("AST constructor recursion depth mismatch").
                "--workers", "1",
                "--continue-on-failure",
                "--generation-database", "none",
                "--request-timeout", "10",
                "--no-color",
            ]
            if os.environ.get("MOBIEUS_FUZZ_SEED"):  # to replay a run: its seed is printed
                cmd += ["--seed", os.environ["MOBIEUS_FUZZ_SEED"]]
            print("$", " ".join(c.replace(key, "<key>") for c in cmd), flush=True)
            fuzz_started = time.monotonic()
            try:
                code = subprocess.run(cmd, cwd=tmp, env=env, timeout=TIME_LIMIT).returncode
            except subprocess.TimeoutExpired:
                code = None
            took = time.monotonic() - fuzz_started
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()
        ansi = re.compile(r"\x1b\[[0-9;]*m")
        errors = [ansi.sub("", line) for line in open(log.name, encoding="utf-8", errors="replace")
                  if "ERROR" in line or "panicked" in line]
        print(f"schemathesis took {took:.0f} s (whole step {time.monotonic() - started:.0f} s)")
        if errors:
            print("server errors logged during the run:")
            sys.stdout.writelines(errors[:50])
        if code is None:
            fail(f"did not finish within {TIME_LIMIT} s")
        if code != 0:
            fail(f"found failures (exit {code})")
        if errors:
            fail("the server logged errors")
    print("schemathesis: no failures")


if __name__ == "__main__":
    main()
else:
    register_hooks()
