#!/usr/bin/env bash
# docker/compose.yaml on this machine, offline:
#   scripts/compose.sh build        the bases, the wheelhouse and the sandbox image, then the compose images
#   scripts/compose.sh up           build, then `up -d`, and wait until the web service answers
#   scripts/compose.sh <args...>    any other compose command (config, ps, logs, down -v, ...)
# Uses `docker compose` where the plugin is installed, else Debian's docker-compose (installed if missing).
# DJANGO_SECRET_KEY and POSTGRES_PASSWORD must be set (or in docker/.env); COMPOSE_PROJECT_NAME names the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
else
    if ! command -v docker-compose >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
    fi
    COMPOSE=(docker-compose)
fi
COMPOSE+=(-f docker/compose.yaml --project-directory docker)
case "${1:-}" in
    build)
        .venv/bin/python scripts/compose_images.py
        "${COMPOSE[@]}" build
        ;;
    up)
        shift
        # The workers run sandboxes of the image this tree builds, by its content tag: another checkout
        # sharing the engine may move :latest meanwhile.
        sandbox_image="$(.venv/bin/python scripts/compose_images.py | tail -1)"
        export DGM_SANDBOX_IMAGE="${DGM_SANDBOX_IMAGE:-$sandbox_image}"
        "${COMPOSE[@]}" build
        "${COMPOSE[@]}" up -d "$@"
        url="http://${DGM_BIND:-127.0.0.1}:${DGM_PORT:-8000}/login/"
        for _ in $(seq 1 300); do
            if .venv/bin/python -c "import urllib.request; urllib.request.urlopen('$url', timeout=2)" 2>/dev/null; then
                echo "the platform answers at ${url%login/}"
                exit 0
            fi
            sleep 1
        done
        echo "the web service did not answer at $url" >&2
        "${COMPOSE[@]}" ps >&2
        "${COMPOSE[@]}" logs --tail 50 >&2
        exit 1
        ;;
    *)
        "${COMPOSE[@]}" "$@"
        ;;
esac
