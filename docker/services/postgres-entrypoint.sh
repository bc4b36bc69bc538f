#!/bin/sh
# Initialise the cluster on first start (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, as the official
# image reads them), then run the server in the foreground, listening on the compose network only.
set -eu
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
: "${POSTGRES_USER:=dgm}" "${POSTGRES_DB:=dgm}"
if [ -z "${POSTGRES_PASSWORD:-}" ]; then echo "POSTGRES_PASSWORD is required" >&2; exit 1; fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    "$BIN/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    echo "host all all 0.0.0.0/0 scram-sha-256" >>"$PGDATA/pg_hba.conf"
    "$BIN/pg_ctl" -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/tmp" -w start >/dev/null
    "$BIN/createdb" -h /tmp -U "$POSTGRES_USER" "$POSTGRES_DB" 2>/dev/null || true
    "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec "$BIN/postgres" -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp
