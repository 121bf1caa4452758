# pg.sh - a throw-away PostgreSQL server for interop tests (sourced).
#
# Debian's postgresql server binaries, initdb in a directory of the test's
# temp dir, trust authentication for the user "mamori", a free loopback port
# and the Unix socket in the temp dir: nothing system-wide is touched.
# PostgreSQL refuses to run as root, so under root the server runs as the
# "postgres" account (runuser), and is stopped through its pid file, since
# runuser does not pass signals on.
#
#   mm_pg_find            sets PGBIN (empty if the server is not installed)
#   mm_pg_init DIR        initdb in DIR/data, socket dir DIR/sock; sets MM_PG_DIR
#   mm_pg_start [PORT]    start on 127.0.0.1:PORT (default: a free port); sets PGPORT
#                         and waits until it accepts connections (bounded poll)
#   mm_pg_stop            fast shutdown, waits until the postmaster has gone
#   mm_pg_uri DB          postgresql://mamori@127.0.0.1:PGPORT/DB
# The caller calls mm_pg_stop from its cleanup trap.
# SPDX-License-Identifier: Apache-2.0

mm_pg_find() {
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || PGBIN=
}

mm_pg_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

mm_pg_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mm_pg_init() {
    MM_PG_DIR=$1
    mkdir -p "$MM_PG_DIR/sock"
    # the postgres account must reach its directory through the temp dir
    chmod 711 "$(dirname "$MM_PG_DIR")"
    [ "$(id -u)" = 0 ] && chown -R postgres "$MM_PG_DIR"
    mm_pg_as "$PGBIN/initdb" -D "$MM_PG_DIR/data" -A trust -U mamori --no-instructions \
        >"$MM_PG_DIR/initdb.out" 2>&1
}

mm_pg_start() {
    PGPORT=${1:-$(mm_pg_free_port)}
    mm_pg_as "$PGBIN/pg_ctl" -D "$MM_PG_DIR/data" -l "$MM_PG_DIR/postgres.log" -s \
        -o "-p $PGPORT -k $MM_PG_DIR/sock -c listen_addresses=127.0.0.1" start >/dev/null 2>&1 &
    local i
    for i in $(seq 1 300); do
        "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" -U mamori && return 0
        sleep 0.05
    done
    return 1
}

mm_pg_stop() {
    [ -n "${MM_PG_DIR:-}" ] && [ -f "$MM_PG_DIR/data/postmaster.pid" ] || return 0
    local pid i
    pid=$(head -n 1 "$MM_PG_DIR/data/postmaster.pid")
    kill -INT "$pid" 2>/dev/null
    for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null
}

mm_pg_uri() { echo "postgresql://mamori@127.0.0.1:$PGPORT/$1"; }
