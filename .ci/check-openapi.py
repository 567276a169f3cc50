#!/usr/bin/env python3
"""Validates the served OpenAPI document against the OpenAPI 3.1 schema with
openapi-spec-validator (an independent implementation, so the Rust structural test is
not the only judge). Usage: check-openapi.py PATH_TO_MOBIEUS_BINARY"""
import socket, subprocess, sys, tempfile, time, urllib.request

from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

binary = sys.argv[1]
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
with tempfile.TemporaryDirectory() as data:
    server = subprocess.Popen([binary, "--data-dir", data, "serve", "--listen", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.yaml", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("server did not answer /api/openapi.yaml")
    finally:
        server.terminate()
        server.wait(10)
    path = f"{data}/openapi.yaml"
    open(path, "wb").write(body)
    spec, _ = read_from_filename(path)
    if not str(spec.get("openapi", "")).startswith("3.1"):
        sys.exit(f"openapi is {spec.get('openapi')!r}, not 3.1")
    validate(spec)
    print(f"OpenAPI document valid: 3.1, {len(spec['paths'])} paths")
