#!/usr/bin/env bash
# A throwaway PostgreSQL for the job store's tests (crates/jobs).
#
#   .ci/postgres.sh start   # prints the URL to export as RUNWAY_JOBS_TEST_PG; fails if it cannot start
#   .ci/postgres.sh stop    # stops it and removes its data
#
# A temporary data directory, the loopback interface only, trust authentication for one role.
# The server refuses to run as root, so it runs as the `postgres` user when started by root.
# Where PostgreSQL's binaries are missing, Debian's `postgresql` package is installed.
set -euo pipefail

root=${RUNWAY_PG_DIR:-${TMPDIR:-/tmp}/runway-jobs-pg}
port=${RUNWAY_PG_PORT:-55432}

find_bin() {
    for dir in "$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/x)")" \
        /usr/local/bin /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "${1:-}" in
start)
    if ! bin=$(find_bin); then
        echo "PostgreSQL binaries not found; installing Debian's postgresql package" >&2
        apt-get update >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2
        bin=$(find_bin)
    fi
    rm -rf "$root"
    mkdir -p "$root"
    [ "$(id -u)" = 0 ] && chown postgres "$root"
    as_owner "$bin/initdb" -D "$root/data" -U runway --auth=trust -E UTF8 >"$root/initdb.log" 2>&1 || {
        cat "$root/initdb.log" >&2
        exit 1
    }
    # fsync off: the data is thrown away after the run.
    as_owner "$bin/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 60 \
        -o "-p $port -k $root -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" \
        start >&2 || {
        cat "$root/server.log" >&2
        exit 1
    }
    echo "postgres://runway@127.0.0.1:$port/postgres"
    ;;
stop)
    if bin=$(find_bin) && [ -d "$root/data" ]; then
        as_owner "$bin/pg_ctl" -D "$root/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$root"
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
