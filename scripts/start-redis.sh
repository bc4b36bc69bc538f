#!/usr/bin/env bash
# Make sure a Redis answers on 127.0.0.1:6379 (the Celery broker): install
# Debian's redis-server if missing, and start it bound to loopback only if
# nothing answers. Idempotent. The web tests start their own private instance
# from the same binary.
set -euo pipefail
PORT="${REDIS_PORT:-6379}"
if ! command -v redis-server >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
if redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then exit 0; fi
DIR="${DGM_VAR_DIR:-$PWD/var}/redis"
mkdir -p "$DIR"
redis-server --bind 127.0.0.1 --port "$PORT" --protected-mode yes --daemonize yes \
    --dir "$DIR" --logfile "$DIR/redis.log" --save "" --appendonly no
for _ in $(seq 1 50); do
    if redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then exit 0; fi
    sleep 0.1
done
echo "redis-server did not start; see $DIR/redis.log" >&2
exit 1
