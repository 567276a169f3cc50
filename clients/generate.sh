#!/usr/bin/env bash
# Regenerates the SDKs' generated code from the API's OpenAPI document, as the given
# binary prints it (`mobieus openapi --json`): clients/openapi.json, then the TypeScript
# types (openapi-typescript) and the Python models and operations (openapi-python-client).
# CI runs it and fails when the committed code differs.
#
#   clients/generate.sh target/release/mobieus
set -euo pipefail
bin=$(realpath "${1:?usage: clients/generate.sh path/to/mobieus}")
cd "$(dirname "$0")"

"$bin" openapi --json >openapi.json

npm ci --prefix typescript --no-audit --no-fund --loglevel=error
npm run --prefix typescript --silent generate >/dev/null

# The generator and the formatter it runs, pinned: their output is committed.
venv="${TMPDIR:-/tmp}/mobieus-sdk-generators"
[ -x "$venv/bin/openapi-python-client" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check openapi-python-client==0.29.1 ruff==0.17.6
PATH="$venv/bin:$PATH" openapi-python-client generate --path openapi.json \
    --config python/generator.yml --meta none --output-path python/mobieus_client --overwrite >/dev/null
