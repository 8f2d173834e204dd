#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on this machine, for the lake catalog and Dagster's storage
# (deployment (a), the lake tests and the lake benchmark).
#   deploy/local/postgres.sh start DIR [PORT]   init DIR/data if new, start on 127.0.0.1:PORT
#                                               (default 5432), print the libpq connection string
#   deploy/local/postgres.sh stop DIR           stop it
# Trust authentication on 127.0.0.1 only: fine for one machine and CI. A shared server gets
# passwords (see the README's Scaling out). Run as root, the cluster belongs to user postgres
# (PostgreSQL refuses to run as root).
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?directory}
port=${3:-5432}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    command -v initdb >/dev/null || { echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
    bindir=$(dirname "$(command -v initdb)")
fi
as=()
if [ "$(id -u)" -eq 0 ]; then as=(runuser -u postgres --); fi
case "$cmd" in
start)
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; chmod 755 "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        "${as[@]}" "$bindir/initdb" -D "$dir/data" -A trust -U conv >/dev/null
    fi
    "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -o "-h 127.0.0.1 -p $port -k $dir -c max_connections=200" \
        -l "$dir/log" -w start >/dev/null
    echo "host=127.0.0.1 port=$port user=conv"
    ;;
stop)
    "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
*)
    echo "postgres.sh: unknown command $cmd (start or stop)" >&2; exit 2
    ;;
esac
