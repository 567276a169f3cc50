#!/usr/bin/env bash
# Makes sure a Redis server answers on 127.0.0.1:6379 (the shared rate-limit tests count
# in it, each under keys of its own): installs Redis when missing, starts a throwaway
# server on loopback when none answers. The rediss:// test starts a redis-server of its
# own with TLS, so the one installed must have been built with TLS (Debian's is).
set -euo pipefail

ready() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

# Whether redis-server takes the TLS options: one built without TLS refuses --tls-port
# as an unknown directive; one with it starts (and is stopped at once).
has_tls() {
    local dir port
    dir=$(mktemp -d)
    port=$((20000 + RANDOM % 20000))
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 || { rm -rf "$dir"; return 1; }
    timeout 5 redis-server --port 0 --bind 127.0.0.1 --tls-port "$port" --save '' \
        --tls-cert-file "$dir/cert.pem" --tls-key-file "$dir/key.pem" \
        --tls-ca-cert-file "$dir/cert.pem" --tls-auth-clients no >"$dir/log" 2>&1 &
    local pid=$! ok=1
    for _ in $(seq 1 30); do
        if grep -q "Ready to accept connections" "$dir/log"; then ok=0; break; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
    return $ok
}

need=()
command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || need+=(redis-server)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! has_tls; then
    # Another build (from source, without BUILD_TLS) is first on the PATH: Debian's has TLS.
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall redis-server >/dev/null
    hash -r
    has_tls || { echo "redis-server $(command -v redis-server) has no TLS support" >&2; exit 1; }
fi
echo "redis-server with TLS: $(command -v redis-server)"
if ! ready; then
    # Loopback only, nothing saved: this is a CI machine's throwaway server.
    redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no \
        --logfile /tmp/mobieus-ci-redis.log
    for _ in $(seq 1 30); do ready && break; sleep 1; done
fi
ready || { echo "Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }
echo "Redis $(redis-cli -h 127.0.0.1 -p 6379 info server | sed -n 's/^redis_version:\([^\r]*\).*/\1/p')"
