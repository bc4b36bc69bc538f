#!/usr/bin/env bash
# Bring up the whole platform on this machine (`make run` builds the sandbox image first), the way a
# deployment runs it, on 127.0.0.1:
#   - Redis, the database migrated (SQLite under var/ unless DATABASE_URL says otherwise), the exercises
#     synced (each version stored as a bundle; the baselines the training exercises lack are queued),
#     the demo course (its passwords are printed once, below);
#   - the web app under gunicorn with the production settings (DEBUG off, static files by whitenoise,
#     a secret key generated once for this installation in var/secret_key);
#   - two worker pools on separate queues, so that a function grading never waits behind a training run:
#     `quick` (QUICK_CONCURRENCY processes, default 2, with DGM_WARM_CONTAINERS pre-started sandboxes,
#     default 1) and `training` (TRAINING_CONCURRENCY, default 2: training jobs and baselines, niced, their
#     sandboxes at a quarter of the CPU weight of a function grading's);
#   - beat (the sweep that requeues jobs whose worker stopped heartbeating).
# Logs in var/log/. Ctrl-C stops the web server, the workers and beat (the Docker engine keeps running:
# `make stop-docker` stops it). Settings come from the environment (README: "The platform").
set -euo pipefail
cd "$(dirname "$0")/.."
PY="$PWD/.venv/bin/python"
CELERY="$PWD/.venv/bin/celery"
PORT="${PORT:-8000}"
VAR="${DGM_VAR_DIR:-$PWD/var}"
export DGM_VAR_DIR="$VAR"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.prod}"
export PYTHONPATH="$PWD/platform:$PWD${PYTHONPATH:+:$PYTHONPATH}"  # the Django apps and the grader
export DATABASE_URL="${DATABASE_URL:-sqlite:///$VAR/platform.sqlite3}"
export DJANGO_SECURE_COOKIES="${DJANGO_SECURE_COOKIES:-0}"  # plain http on loopback; behind TLS, leave it on
export DJANGO_ALLOWED_HOSTS="${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost}"
export DGM_WARM_CONTAINERS="${DGM_WARM_CONTAINERS:-1}"
QUICK="${QUICK_CONCURRENCY:-2}"
TRAINING="${TRAINING_CONCURRENCY:-2}"
WEB_WORKERS="${WEB_WORKERS:-2}"
for n in "$QUICK" "$TRAINING" "$WEB_WORKERS"; do
    [[ "$n" =~ ^[1-9][0-9]?$ ]] || { echo "QUICK_CONCURRENCY, TRAINING_CONCURRENCY and WEB_WORKERS are numbers of processes (got $n)" >&2; exit 2; }
done
mkdir -p "$VAR/log"
if [ -z "${DJANGO_SECRET_KEY:-}" ]; then  # one per installation, never the repository's
    [ -s "$VAR/secret_key" ] || (umask 077 && "$PY" -c "import secrets; print(secrets.token_urlsafe(50))" >"$VAR/secret_key")
    DJANGO_SECRET_KEY="$(cat "$VAR/secret_key")"
    export DJANGO_SECRET_KEY
fi

export REDIS_PORT="${REDIS_PORT:-6379}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}"
case "$REDIS_URL" in redis://127.0.0.1:*|redis://localhost:*) bash scripts/start-redis.sh ;; esac
"$PY" manage.py migrate --noinput
"$PY" manage.py collectstatic --noinput >/dev/null
"$PY" manage.py sync_exercises
echo "== The demo course; these passwords are shown once (run 'manage.py demo' again to reset them) =="
"$PY" manage.py demo
echo

PIDS=()
NAMES=()
start() {  # name, command...: in its own session, so that Ctrl-C reaches this script only
    local name="$1"; shift
    setsid "$@" >>"$VAR/log/$name.log" 2>&1 < /dev/null &
    PIDS+=("$!")
    NAMES+=("$name")
}
stop_all() {  # SIGTERM to each main process (a warm shutdown: a function grading in progress finishes),
    # SIGKILL to whatever of its session is left after 30 s; then remove the sandboxes of killed workers
    trap - EXIT INT TERM
    local i
    for i in "${!PIDS[@]}"; do kill -TERM "${PIDS[$i]}" 2>/dev/null || true; done
    for _ in $(seq 1 300); do
        local alive=0
        for i in "${!PIDS[@]}"; do kill -0 -- "-${PIDS[$i]}" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for i in "${!PIDS[@]}"; do kill -KILL -- "-${PIDS[$i]}" 2>/dev/null || true; done
    "$PY" -m grader reap || true  # a worker killed mid-training leaves its sandbox: remove it (one line if Docker is down)
    echo "stopped: web server, workers and beat (the Docker engine is still running; 'make stop-docker' stops it)"
}
trap 'stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

cd platform
start worker-quick env DGM_WARM_CONTAINERS="$DGM_WARM_CONTAINERS" "$CELERY" -A config worker -Q quick \
    --concurrency "$QUICK" -n "quick@%h" --loglevel INFO
start worker-training env DGM_WARM_CONTAINERS=0 nice -n 10 "$CELERY" -A config worker -Q training \
    --concurrency "$TRAINING" -n "training@%h" --loglevel INFO
start beat "$CELERY" -A config beat -s "$VAR/celerybeat-schedule" --loglevel INFO
WEB=("$PWD/../.venv/bin/gunicorn" config.wsgi --bind "127.0.0.1:$PORT" --workers "$WEB_WORKERS"
     --access-logfile "$VAR/log/web.log" --error-logfile "$VAR/log/web.log" --capture-output)
cd ..
announce() {  # once gunicorn answers
    for _ in $(seq 1 300); do
        if "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/login/', timeout=1)" \
                2>/dev/null; then
            echo "workers: quick ($QUICK processes, $DGM_WARM_CONTAINERS warm sandbox each), training ($TRAINING" \
                 "processes) and beat; logs in $VAR/log/"
            echo "Open http://127.0.0.1:$PORT/ and log in as one of the demo users above. Ctrl-C stops everything."
            return 0
        fi
        sleep 0.2
    done
    echo "the web server did not answer; see $VAR/log/web.log" >&2
}
if [ -t 0 ] && [ -t 1 ]; then
    # In a terminal: gunicorn in the foreground, in its own process group (job control), so that Ctrl-C
    # reaches the web server only (not make, not this script); when it has stopped, the rest is stopped.
    announce &
    set -m
    (cd platform && exec "${WEB[@]}") || true
    set +m
    kill "$!" 2>/dev/null || true
    echo
else
    cd platform
    start web "${WEB[@]}"
    cd ..
    announce
    wait "${PIDS[-1]}" || true  # SIGTERM or SIGINT to this script runs the trap
fi
