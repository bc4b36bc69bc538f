#!/usr/bin/env bash
# Stop the Docker engine that scripts/start-docker.sh started (its pid in var/dockerd.pid), or the
# system's docker service. Sandbox containers go with it; the next `make run` or `make test` starts
# the engine again.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -s var/dockerd.pid ] && kill -0 "$(cat var/dockerd.pid)" 2>/dev/null; then
    pid="$(cat var/dockerd.pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f var/dockerd.pid
    echo "stopped the Docker engine (pid $pid)"
elif [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl stop docker docker.socket
    echo "stopped the docker service"
else
    echo "no Docker engine started by this project is running"
fi
