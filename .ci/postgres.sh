#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 with trust auth for the
# `postgres` user (the test suites create a database per test on it): installs
# PostgreSQL when missing, starts the Debian cluster when it is down.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1 && [ ! -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if ! ready; then
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
        pg_createcluster "$version" main >/dev/null
    fi
    conf=/etc/postgresql/$version/main
    # Loopback only, trust for local test users: this is a CI machine's throwaway server.
    sed -i "s/^#\?listen_addresses.*/listen_addresses = '127.0.0.1'/" "$conf/postgresql.conf"
    if ! grep -q "mobieus-ci" "$conf/pg_hba.conf"; then
        sed -i '1i host all all 127.0.0.1/32 trust # mobieus-ci' "$conf/pg_hba.conf"
    fi
    pg_ctlcluster "$version" main start
    for _ in $(seq 1 30); do ready && break; sleep 1; done
fi
ready || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
psql -h 127.0.0.1 -U postgres -Atc "SELECT 'PostgreSQL ' || current_setting('server_version')"
