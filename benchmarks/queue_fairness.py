"""Queue fairness: how long a function grading takes while training runs fill the platform.

    python benchmarks/queue_fairness.py [--submissions 20] [--spacing 3] [--training 2] [--repo PATH]

Starts the platform exactly as `make run` does (scripts/run-platform.sh: the same worker layout and
settings) in a scratch directory, on free 127.0.0.1 ports with a private Redis. `sync_exercises`
queues the reference baselines of the training exercises at the cpu profile; once --training of them
are training (their sandboxes exist and report steps), it posts --submissions function submissions
(correct and known-wrong files of the five core exercises, as the demo students) through the API,
one every --spacing seconds, and records submit -> graded for each from the API's timestamps. The
number of training jobs running is sampled from the database throughout.

--repo runs another checkout's run-platform.sh (e.g. the commit before the queues were split, for
the "before" figure). Not a test: run on demand; figures go to docs/benchmarks.md. The last line is
    function gradings during training: p50 X s, p95 Y s (N training jobs running)
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
CORE = ["vae-reparam", "vae-elbo", "gan-minimax", "ddpm-schedule", "attention"]
TOKEN_SCRIPT = """
import json
from accounts.models import User
from accounts.services import api_token_create
print(json.dumps({name: api_token_create(user=User.objects.get(username=name))[1] for name in ("alice", "bob")}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def training_running(db: Path) -> int:
    """Training jobs running now: baselines, and submissions of training exercises (any schema version)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        baselines = conn.execute("SELECT count(*) FROM leaderboard_baseline WHERE status = 'running'").fetchone()[0]
        subs = conn.execute("SELECT count(*) FROM submissions_submission s JOIN catalog_exerciseversion v "
                            "ON s.exercise_version_id = v.id WHERE s.status = 'running' AND v.training != '{}'"
                            ).fetchone()[0]
    return baselines + subs


def submission_files(repo: Path) -> list[tuple[str, str, bytes, bool]]:
    """(exercise, filename, content, correct?) for the core exercises: the solution and the wrong cases."""
    files = []
    for slug in CORE:
        folder = repo / "exercises" / slug
        files.append((slug, "solution.py", (folder / "solution.py").read_bytes(), True))
        files += [(slug, p.name, p.read_bytes(), False) for p in sorted((folder / "wrong").glob("*.py"))[:3]]
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--spacing", type=float, default=3.0, help="seconds between two posts")
    parser.add_argument("--training", type=int, default=2, help="training jobs to wait for before posting")
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose run-platform.sh runs")
    parser.add_argument("--timeout", type=float, default=3600, help="for all gradings to finish")
    args = parser.parse_args()
    repo = args.repo.resolve()

    scratch = Path(tempfile.mkdtemp(prefix="dgm-fairness-"))
    port, redis_port = free_port(), free_port()
    db = scratch / "platform.sqlite3"
    env = {**os.environ, "DGM_VAR_DIR": str(scratch), "PORT": str(port), "REDIS_PORT": str(redis_port),
           "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "DATABASE_URL": f"sqlite:///{db}",
           "DGM_TRAINING_PROFILE": "cpu", "DJANGO_LOG_LEVEL": "WARNING"}
    for name in ("DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY"):
        env.pop(name, None)
    log = open(scratch / "run-platform.out", "wb")
    platform = subprocess.Popen(["bash", "scripts/run-platform.sh"], cwd=repo, env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900
        while b"Ctrl-C stops everything" not in (scratch / "run-platform.out").read_bytes():
            if platform.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the platform did not start; see {scratch}/run-platform.out")
            time.sleep(0.5)
        out = subprocess.run([str(repo / ".venv" / "bin" / "python"), "manage.py", "shell", "-c", TOKEN_SCRIPT],
                             cwd=repo, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.dev",
                                            "PYTHONPATH": f"{repo / 'platform'}:{repo}"},
                             capture_output=True, text=True, check=True)
        tokens = json.loads(out.stdout.strip().splitlines()[-1])
        started = time.monotonic()
        while training_running(db) < args.training:
            if time.monotonic() - started > 900:
                raise SystemExit(f"{args.training} training jobs did not start; see {scratch}")
            time.sleep(1)
        print(f"{training_running(db)} training jobs running after {time.monotonic() - started:.0f} s; posting "
              f"{args.submissions} function submissions, one every {args.spacing:g} s", flush=True)

        samples: list[int] = []
        stop_sampling = threading.Event()

        def sample() -> None:
            while not stop_sampling.wait(1.0):
                samples.append(training_running(db))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rng = random.Random(0)
        files = submission_files(repo)
        posted = []
        for index in range(args.submissions):
            user = ("alice", "bob")[index % 2]
            slug, name, data, correct = files[index % len(files)] if index < len(files) else rng.choice(files)
            response = requests.post(f"{base}/api/submissions/", headers={"Authorization": f"Token {tokens[user]}"},
                                     data={"exercise": slug}, files={"file": (name, data)}, timeout=60)
            if response.status_code != 201:
                raise SystemExit(f"POST {slug}/{name}: {response.status_code} {response.text[:300]}")
            posted.append((response.json()["id"], user, slug, name, correct))
            time.sleep(args.spacing)

        finished: dict[int, dict] = {}
        deadline = time.monotonic() + args.timeout
        while len(finished) < len(posted):
            for pk, user, *_ in posted:
                if pk not in finished:
                    body = requests.get(f"{base}/api/submissions/{pk}/", timeout=30,
                                        headers={"Authorization": f"Token {tokens[user]}"}).json()
                    if body["status"] not in ("queued", "running"):
                        finished[pk] = body
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(posted) - len(finished)} gradings not finished in time; see {scratch}")
            time.sleep(1)
        stop_sampling.set()
        sampler.join()

        latencies, statuses = [], {}
        for pk, *_, correct in posted:
            body = finished[pk]
            seconds = (datetime.fromisoformat(body["finished_at"]) - datetime.fromisoformat(body["created_at"]))
            latencies.append(seconds.total_seconds())
            full = body["result"] and body["result"].get("score") == body["result"].get("max_score")
            key = (f"{body['status']}, {'full marks' if full else 'points lost'}, "
                   f"{'correct' if correct else 'wrong'} file")
            statuses[key] = statuses.get(key, 0) + 1
        running = min(samples) if samples else training_running(db)
        print(f"submit->graded of {len(latencies)}: min {min(latencies):.1f} s, mean {statistics.mean(latencies):.1f}"
              f" s, max {max(latencies):.1f} s; outcomes {json.dumps(statuses)}")
        print(f"training jobs running while posting and grading: min {running}, max {max(samples or [running])}")
        print(f"function gradings during training: p50 {percentile(latencies, 0.5):.1f} s, "
              f"p95 {percentile(latencies, 0.95):.1f} s ({running} training jobs running)")
    finally:
        if platform.poll() is None:
            os.killpg(platform.pid, signal.SIGTERM)  # the script's trap stops its workers and reaps sandboxes
            try:
                platform.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(platform.pid, signal.SIGKILL)
        subprocess.run(["redis-cli", "-p", str(redis_port), "shutdown", "nosave"], capture_output=True)
        print(f"logs: {scratch}", file=sys.stderr)


if __name__ == "__main__":
    main()
