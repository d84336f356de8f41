#!/usr/bin/env bash
# Run a command with STEWARD_TEST_PG_URL pointing at a PostgreSQL server the tests may use.
#
#   scripts/with-postgres.sh .venv/bin/pytest -q
#
# The URL names a role allowed to CREATE DATABASE: the tests create and drop their own
# databases on it. In order of preference:
#   1. STEWARD_TEST_PG_URL, when already set;
#   2. a server answering on STEWARD_PG_HOST_PROBE:STEWARD_PG_PORT_PROBE
#      (default 127.0.0.1:5432) as role postgres, else root, with no password;
#   3. a throwaway cluster from Debian's binaries (installing package `postgresql` when
#      missing), in a temporary directory, on a free port of 127.0.0.1, with trust auth;
#      it is stopped and removed when the command ends.
# The command's exit status is returned.
set -euo pipefail

probe_host=${STEWARD_PG_HOST_PROBE:-127.0.0.1}
probe_port=${STEWARD_PG_PORT_PROBE:-5432}
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { echo "with-postgres: $*" >&2; }

if [[ $# -eq 0 ]]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 64
fi

python_bin() {
    if [[ -x "$repo_root/.venv/bin/python" ]]; then
        echo "$repo_root/.venv/bin/python"
    else
        command -v python3
    fi
}

server_answers() { # host port
    if command -v pg_isready >/dev/null; then
        pg_isready -q -h "$1" -p "$2" -t 3
    else
        "$(python_bin)" - "$1" "$2" <<'EOF'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
except OSError:
    sys.exit(1)
EOF
    fi
}

# Succeeds when `user` can log in to database postgres without a password and may
# create databases; 2 means it could not be checked (no psql and no psycopg).
can_create_databases() { # host port user
    local sql="SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
    if command -v psql >/dev/null; then
        [[ $(PGCONNECT_TIMEOUT=5 psql -X -w -At -h "$1" -p "$2" -U "$3" -d postgres \
            -c "$sql" 2>/dev/null) == t ]]
    else
        "$(python_bin)" - "$1" "$2" "$3" "$sql" <<'EOF'
import sys
try:
    import psycopg
except ImportError:
    sys.exit(2)
host, port, user, sql = sys.argv[1:]
try:
    with psycopg.connect(host=host, port=int(port), user=user, dbname="postgres",
                         connect_timeout=5) as conn:
        sys.exit(0 if conn.execute(sql).fetchone() == (True,) else 1)
except psycopg.Error:
    sys.exit(1)
EOF
    fi
}

run_with_url() { # url command...
    export STEWARD_TEST_PG_URL=$1
    shift
    exec "$@"
}

# 1. Given by the caller.
if [[ -n ${STEWARD_TEST_PG_URL:-} ]]; then
    run_with_url "$STEWARD_TEST_PG_URL" "$@"
fi

# 2. A server that already runs.
if server_answers "$probe_host" "$probe_port"; then
    for user in postgres root; do
        status=0
        can_create_databases "$probe_host" "$probe_port" "$user" || status=$?
        if [[ $status -eq 0 ]]; then
            log "using the server on $probe_host:$probe_port as $user"
            run_with_url "postgresql+psycopg://$user@$probe_host:$probe_port/postgres" "$@"
        elif [[ $status -eq 2 ]]; then
            log "a server answers on $probe_host:$probe_port but neither psql nor psycopg" \
                "is there to check it; using it as postgres"
            run_with_url "postgresql+psycopg://postgres@$probe_host:$probe_port/postgres" "$@"
        fi
    done
    log "a server answers on $probe_host:$probe_port but neither postgres nor root may" \
        "create databases there without a password; starting a throwaway one"
fi

# 3. A throwaway cluster.
find_pg_bin() {
    local initdb
    initdb=$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1 || true)
    [[ -n $initdb ]] && dirname "$initdb"
}

if ! pg_bin=$(find_pg_bin); then
    log "no PostgreSQL server binaries; installing Debian package postgresql"
    if [[ $EUID -eq 0 ]]; then
        sudo=()
    elif command -v sudo >/dev/null; then
        sudo=(sudo)
    else
        log "not root and no sudo: install PostgreSQL (apt-get install postgresql)," \
            "or set STEWARD_TEST_PG_URL to a server where the user may create databases"
        exit 1
    fi
    "${sudo[@]}" apt-get update -q >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
    pg_bin=$(find_pg_bin) || { log "initdb still not found after installing postgresql"; exit 1; }
fi

# initdb refuses to run as root, so root runs the cluster as the postgres system user
# that Debian's package creates.
if [[ $EUID -eq 0 ]]; then
    pg_user=${STEWARD_PG_SYSTEM_USER:-postgres}
    if ! id -u "$pg_user" >/dev/null 2>&1; then
        log "running as root and there is no system user $pg_user to run PostgreSQL as"
        exit 1
    fi
    # From the cluster's directory: the caller's may be closed to that user.
    as_pg() { (cd "$cluster_dir" && runuser -u "$pg_user" -- "$@"); }
    cluster_dir=$(mktemp -d /tmp/steward-pg.XXXXXX)
    chown "$pg_user" "$cluster_dir"
else
    as_pg() { "$@"; }
    cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/steward-pg.XXXXXX")
fi
chmod 700 "$cluster_dir"

# shellcheck disable=SC2317  # run by the EXIT trap
stop_cluster() {
    if [[ -f "$cluster_dir/data/postmaster.pid" ]]; then
        as_pg "$pg_bin/pg_ctl" -D "$cluster_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$cluster_dir"
}
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$("$(python_bin)" -c '
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
')

as_pg "$pg_bin/initdb" -D "$cluster_dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
    >"$cluster_dir/initdb.log" 2>&1 || {
    log "initdb failed:"
    cat "$cluster_dir/initdb.log" >&2
    exit 1
}
# Durability is of no use to a throwaway cluster; dropping it makes CREATE DATABASE fast.
as_pg "$pg_bin/pg_ctl" -D "$cluster_dir/data" -l "$cluster_dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$cluster_dir" \
    -o "-c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || {
    log "the throwaway server did not start:"
    cat "$cluster_dir/server.log" >&2
    exit 1
}
as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres steward_test

log "started a throwaway server on 127.0.0.1:$port in $cluster_dir"
export STEWARD_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/steward_test"
status=0
"$@" || status=$?
exit "$status"
