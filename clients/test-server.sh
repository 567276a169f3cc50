#!/usr/bin/env bash
# A real mobieus server for the SDKs' tests, shared by both: a fresh data dir, a tenant
# `sdk` answering at `localhost`, one event of every public type made through the CLI (the
# same use cases as the web), a key with every scope, and `mobieus serve` on 127.0.0.1:PORT
# with its delivery worker (loopback receivers allowed, quick retries). Prints one JSON
# line, {"origin","key","pid","data_dir"}, once the server answers; stop it with
# `kill <pid>`.
#
#   clients/test-server.sh target/release/mobieus PORT
set -euo pipefail
bin=$(realpath "${1:?usage: clients/test-server.sh path/to/mobieus PORT}")
port=${2:?usage: clients/test-server.sh path/to/mobieus PORT}
data=$(mktemp -d "${TMPDIR:-/tmp}/mobieus-sdk-XXXXXX")

m() { "$bin" --data-dir "$data" "$@" >/dev/null; }
f() { m forum --tenant sdk "$@"; }

m tenant create sdk --host localhost
key=$("$bin" --data-dir "$data" key create --tenant sdk --name sdk-tests --json \
    --scopes events:read,users:read,posts:read,webhooks:read,webhooks:manage |
    sed -n 's/.*"key":"\([^"]*\)".*/\1/p')

# In a fresh tenant, ids count from 1: thread 1 opens with post 1.
f user join ann --email ann@example.org           # user.joined
f user join bob
f user join cleo
f user role cleo moderator
f user join dan
f user leave dan                                  # user.left
f thread create --author ann --title "Welcome" --body "Say hello"   # post.created (post 1)
f post create --thread 1 --author bob --body "Helo"                 # post 2
f post edit 2 --by bob --body "Hello"             # post.edited
f post create --thread 1 --author bob --body "Oops"                 # post 3
f post delete 3 --by bob                          # post.deleted
f mod ban bob --by cleo --reason "Spam"           # moderation.user_banned
f mod unban bob --by cleo                         # moderation.user_unbanned
f post create --thread 1 --author ann --body "Off topic"            # post 4
f mod remove-post 4 --by cleo --reason "Off topic"                  # moderation.post_removed
f mod lock-thread 1 --by cleo                     # moderation.thread_locked
f mod unlock-thread 1 --by cleo --reason "Reopened"                 # moderation.thread_unlocked

RUST_LOG=warn "$bin" --data-dir "$data" serve --listen "127.0.0.1:$port" \
    --webhook-allow-loopback --retry-schedule 0s,1s >"$data/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        printf '{"origin":"http://localhost:%s","key":"%s","pid":%s,"data_dir":"%s"}\n' \
            "$port" "$key" "$pid" "$data"
        exit 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$data/server.log" >&2; exit 1; }
    sleep 0.1
done
echo "the server did not answer on port $port" >&2
kill "$pid"
exit 1
