#!/usr/bin/env bash
# Debian packages the build and tests need (idempotent, skips what is there).
set -euo pipefail
missing=()
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
[ -d /usr/share/datasets/fashion-mnist ] || missing+=(dataset-fashion-mnist)  # reference_models.datasets
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
