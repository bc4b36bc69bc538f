#!/usr/bin/env bash
# Make sure a Docker engine answers: install Debian's docker.io if needed and
# start dockerd without a bridge or iptables rules (sandboxes have no network,
# and no traffic may leave this machine). Idempotent.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
mkdir -p var
nohup dockerd --bridge=none --iptables=false >var/dockerd.log 2>&1 &
for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then exit 0; fi
    sleep 1
done
echo "dockerd did not start; see var/dockerd.log" >&2
tail -20 var/dockerd.log >&2
exit 1
