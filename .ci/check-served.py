#!/usr/bin/env python3
"""Checks what a running server serves, with independent tools:
1. /api/openapi.yaml validates against the OpenAPI 3.1 schema (openapi-spec-validator);
2. /api/docs renders in headless Chromium with every host but 127.0.0.1 unresolvable,
   i.e. Redoc and the document come from the binary, nothing from the network.
Usage: check-served.py PATH_TO_MOBIEUS_BINARY"""
import socket, subprocess, sys, tempfile, time, urllib.request

from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename


def fail(msg):
    sys.exit(f"check-served: {msg}")


binary = sys.argv[1]
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
base = f"http://127.0.0.1:{port}"
with tempfile.TemporaryDirectory() as data:
    server = subprocess.Popen([binary, "--data-dir", data, "serve", "--listen", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                spec_bytes = urllib.request.urlopen(f"{base}/api/openapi.yaml", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            fail("server did not answer /api/openapi.yaml")

        path = f"{data}/openapi.yaml"
        open(path, "wb").write(spec_bytes)
        spec, _ = read_from_filename(path)
        if not str(spec.get("openapi", "")).startswith("3.1"):
            fail(f"openapi is {spec.get('openapi')!r}, not 3.1")
        validate(spec)
        print(f"OpenAPI document valid: {spec['openapi']}, {len(spec['paths'])} paths")

        dom = subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + data + "/chromium",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             "--virtual-time-budget=15000", "--dump-dom", f"{base}/api/docs"],
            capture_output=True, text=True, timeout=120).stdout
        # Text that exists only once Redoc has fetched the document and rendered it.
        # The last: a webhook request's description, from the document's `webhooks` section.
        for rendered in ("List events, oldest first.", "/api/v1/posts/{id}", "moderation.thread_unlocked",
                         "the same bytes that were signed"):
            if rendered not in dom:
                fail(f"/api/docs did not render offline: {rendered!r} missing from the DOM ({len(dom)} bytes)")
        print(f"/api/docs rendered offline by Redoc: {len(dom)} bytes of DOM")
    finally:
        server.terminate()
        server.wait(10)
