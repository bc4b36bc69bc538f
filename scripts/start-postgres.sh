#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1 with the platform's test user and
# database: install Debian's postgresql if missing, create and start a cluster (loopback
# only), create the role and the database. Idempotent: a second run changes nothing.
# Prints the DATABASE_URL to use, e.g.
#   DATABASE_URL=$(bash scripts/start-postgres.sh | tail -1) .venv/bin/python -m pytest tests/web
set -euo pipefail
PGPORT="${PGPORT:-5432}"
DB_USER="${DGM_PG_USER:-dgm}"
DB_PASSWORD="${DGM_PG_PASSWORD:-dgm-test-only}"
DB_NAME="${DGM_PG_DB:-dgm}"
CLUSTER="${DGM_PG_CLUSTER:-main}"

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
VERSION="$(ls /usr/lib/postgresql | sort -V | tail -1)"

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

if ! pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c {found=1} END {exit !found}'; then
    pg_createcluster "$VERSION" "$CLUSTER" --port "$PGPORT" -- --auth-local=peer --auth-host=scram-sha-256 >/dev/null
fi
CONF="/etc/postgresql/$VERSION/$CLUSTER/postgresql.conf"
# loopback only: no traffic leaves the machine
if ! grep -q "^listen_addresses = '127.0.0.1'" "$CONF"; then
    echo "listen_addresses = '127.0.0.1'" >> "$CONF"
fi
if ! grep -q "^port = $PGPORT\$" "$CONF"; then
    sed -i "s/^port = .*/port = $PGPORT/" "$CONF"
fi
STATUS="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c {print $4}')"
if [ "$STATUS" != "online" ]; then
    pg_ctlcluster "$VERSION" "$CLUSTER" start
fi
for _ in $(seq 1 100); do
    if as_postgres psql -p "$PGPORT" -qAtc "SELECT 1" >/dev/null 2>&1; then break; fi
    sleep 0.1
done

if [ "$(as_postgres psql -p "$PGPORT" -qAtc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" != 1 ]; then
    as_postgres psql -p "$PGPORT" -qc "CREATE ROLE \"$DB_USER\" LOGIN CREATEDB PASSWORD '$DB_PASSWORD'"
fi
if [ "$(as_postgres psql -p "$PGPORT" -qAtc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]; then
    as_postgres createdb -p "$PGPORT" -O "$DB_USER" "$DB_NAME"
fi
PGPASSWORD="$DB_PASSWORD" psql -h 127.0.0.1 -p "$PGPORT" -U "$DB_USER" -d "$DB_NAME" -qAtc "SELECT 1" >/dev/null
echo "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PGPORT/$DB_NAME"
