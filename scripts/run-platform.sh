#!/usr/bin/env bash
# Bring up the whole platform on this machine (`make run` builds the sandbox image first):
# Redis on 127.0.0.1, the database migrated, the exercises synced (which queues the leaderboard
# baselines the training exercises lack), the demo course (its passwords are printed once, below),
# a Celery worker in the background (log in var/log/celery-worker.log; with -B it also runs the
# 5-minute stale-claim sweep) and the web server on 127.0.0.1:8000 in the foreground.
# Without GPUs the one worker takes both queues: the core exercises (cpu) and the training exercises
# (gpu), which it trains under the cpu profile (DGM_TRAINING_PROFILE=cpu, the default; the web
# server reads it too, to pick the leaderboard's profile). Two processes (WORKER_CONCURRENCY), so
# that a quick grading need not wait behind a training run.
# Ctrl-C stops both. Settings come from the environment (README: "The platform").
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.dev}"
export PYTHONPATH="$PWD/platform:$PWD${PYTHONPATH:+:$PYTHONPATH}"  # the Django apps and the grader
export DGM_TRAINING_PROFILE="${DGM_TRAINING_PROFILE:-cpu}"
CONCURRENCY="${WORKER_CONCURRENCY:-2}"
[[ "$CONCURRENCY" =~ ^[1-9][0-9]?$ ]] || { echo "WORKER_CONCURRENCY=$CONCURRENCY is not a number of processes" >&2; exit 2; }
mkdir -p var/log

bash scripts/start-redis.sh
$PY manage.py migrate --noinput
$PY manage.py sync_exercises
echo "== The demo course; these passwords are shown once (run 'manage.py demo' again to reset them) =="
$PY manage.py demo
echo

# The worker in its own session: Ctrl-C reaches the web server only, and the trap below stops the
# worker with SIGTERM (a warm shutdown: it finishes the grading in progress).
setsid bash -c "cd platform && exec ../.venv/bin/celery -A config worker -B -s ../var/celerybeat-schedule -Q cpu,gpu --concurrency $CONCURRENCY --loglevel INFO" \
    >>var/log/celery-worker.log 2>&1 &
WORKER=$!
WEB=""
stop() {  # pid, name: SIGTERM, then SIGKILL after 30 s
    if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
        echo "stopping the $2 (pid $1)"
        kill -TERM "$1" 2>/dev/null || true
        for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
        kill -KILL "$1" 2>/dev/null || true
    fi
}
# A worker killed mid-training leaves its sandbox running: remove the containers of dead workers.
trap 'stop "$WEB" "web server"; stop "$WORKER" "Celery worker"; $PY -m grader reap' EXIT
trap 'exit 130' INT TERM
echo "Celery worker started (pid $WORKER; queues cpu,gpu; training profile $DGM_TRAINING_PROFILE), log: var/log/celery-worker.log"
echo "Open http://127.0.0.1:$PORT/ and log in as one of the demo users above. Ctrl-C stops everything."
# In the background so that the script's trap, not the server's own handler, decides how both stop.
$PY manage.py runserver "127.0.0.1:$PORT" --noreload &
WEB=$!
wait "$WEB"
