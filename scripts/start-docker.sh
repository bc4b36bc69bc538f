#!/usr/bin/env bash
# Make sure a Docker engine answers: install Debian's docker.io if needed and start dockerd without a
# bridge or iptables rules (sandboxes have no network, and no traffic may leave this machine).
# Idempotent. Where the machine runs systemd, the docker service is started; otherwise dockerd runs in
# its own session (setsid), so that Ctrl-C in the terminal that started it (e.g. on `make run`) never
# reaches it. `make stop-docker` (scripts/stop-docker.sh) stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
mkdir -p var
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl start docker
else
    setsid dockerd --bridge=none --iptables=false >var/dockerd.log 2>&1 < /dev/null &
    echo $! >var/dockerd.pid
fi
for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then exit 0; fi
    sleep 1
done
echo "dockerd did not start; see var/dockerd.log" >&2
tail -20 var/dockerd.log >&2 || true
exit 1
