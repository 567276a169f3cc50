#!/usr/bin/env bash
# Makes sure a Redis server answers on 127.0.0.1:6379 (the shared rate-limit tests count
# in it, each under keys of its own): installs Redis when missing, starts a throwaway
# server on loopback when none answers.
set -euo pipefail

ready() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
if ! ready; then
    # Loopback only, nothing saved: this is a CI machine's throwaway server.
    redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no \
        --logfile /tmp/mobieus-ci-redis.log
    for _ in $(seq 1 30); do ready && break; sleep 1; done
fi
ready || { echo "Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }
echo "Redis $(redis-cli -h 127.0.0.1 -p 6379 info server | sed -n 's/^redis_version:\([^\r]*\).*/\1/p')"
