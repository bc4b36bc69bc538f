"""Load benchmark: 200 submissions through the API in a minute, graded by the quick queue's workers.

    python benchmarks/load_submissions.py [--submissions 200] [--duration 60] [--workers 2] [--warm 1]

Starts everything it needs on 127.0.0.1 in a scratch directory, laid out as `make run` lays it out: a
private redis-server, a fresh SQLite database (or --database-url), gunicorn with the production
settings (2 processes) and the quick queue's worker pool (`celery worker -Q quick --concurrency
--workers`, DGM_WARM_CONTAINERS=--warm per process), creates a course with vae-reparam and several students
with API tokens, posts a mix of correct (solution.py, right/) and wrong (wrong/) files spread
evenly over --duration seconds from a few client threads, waits until every submission is graded,
and prints the throughput (gradings/min), submit->graded p50/p95 (server timestamps: created_at to
finished_at) and whether any submission was lost, duplicated or graded wrongly. Not a test: run on
demand; figures go to docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
PLATFORM = REPO / "platform"
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def setup_course(n_users: int) -> dict[str, str]:
    """Migrated database, vae-reparam synced, a course, students with API tokens: username -> token."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from accounts.services import api_token_create, user_create
    from catalog.models import Exercise
    from catalog.services import course_exercise_create, exercise_sync
    from courses.services import course_create, enrollment_create

    exercise_sync(slug="vae-reparam")
    teacher = user_create(username="teacher", password=None)
    course = course_create(slug="load", title="Load test", instructor=teacher)
    course_exercise_create(course=course, exercise=Exercise.objects.get(slug="vae-reparam"), points=10)
    tokens = {}
    for i in range(n_users):
        user = user_create(username=f"student{i:02d}", password=None)
        enrollment_create(user=user, course=course)
        tokens[user.username] = api_token_create(user=user)[1]
    return tokens


def submission_files() -> list[tuple[str, bytes, set[str] | None]]:
    """(name, bytes, failing checks or None for a correct file)."""
    from grader.spec import load_exercise

    ex = load_exercise("vae-reparam")
    files = [("solution.py", ex.solution().source().encode(), None)]
    files += [(c.path.name, c.source().encode(), None) for c in ex.right_cases()]
    files += [(c.path.name, c.source().encode(), set(c.fails)) for c in ex.wrong_cases()]
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="spread the posts over this many seconds")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warm", type=int, default=1, help="pre-started containers per worker (DGM_WARM_CONTAINERS)")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file in the scratch directory")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (logs, database)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="dgm-load-"))
    redis_port, web_port = free_port(), free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.prod", "DJANGO_SECURE_COOKIES": "0",
           "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_STATIC_ROOT": str(scratch / "static"),
           "DGM_VAR_DIR": str(scratch), "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "DATABASE_URL": args.database_url or f"sqlite:///{scratch / 'load.sqlite3'}",
           "DGM_WARM_CONTAINERS": str(args.warm), "DJANGO_LOG_LEVEL": "WARNING",
           "PYTHONPATH": os.pathsep.join([str(PLATFORM), str(REPO)])}
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "DGM_VAR_DIR", "REDIS_URL",
                                           "DATABASE_URL", "DGM_WARM_CONTAINERS")})
    sys.path[:0] = [str(PLATFORM), str(REPO)]
    procs: list[subprocess.Popen] = []

    def start(name: str, cmd: list[str], **kw) -> subprocess.Popen:
        log = open(scratch / f"{name}.log", "wb")
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kw)
        procs.append(proc)
        return proc

    try:
        from grader.image import build_image

        build_image("cpu", log=lambda *_: None)  # built once, before anything is timed
        start("redis", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--dir", str(scratch)])
        wait_for(lambda: port_answers(redis_port), 20, "redis")
        tokens = setup_course(args.users)
        files = submission_files()
        start("worker0", [PY, "-m", "celery", "-A", "config", "worker", "-Q", "quick", "--concurrency",
                          str(args.workers), "--loglevel", "INFO", "-n", "quick@localhost"], cwd=PLATFORM)
        subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
        start("web", [str(Path(PY).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{web_port}",
                      "--workers", "2"], cwd=PLATFORM)
        wait_for(lambda: port_answers(web_port), 60, "the web server")
        wait_for(lambda: b"ready." in (scratch / "worker0.log").read_bytes(), 120, "the workers")
        time.sleep(3 if args.warm else 0)  # their warm containers import torch

        rng = random.Random(0)
        plan = [(rng.choice(list(tokens)), *rng.choice(files)) for _ in range(args.submissions)]
        url = f"http://127.0.0.1:{web_port}/api/submissions/"
        posted: list[dict] = []
        lock = threading.Lock()
        start_t = time.monotonic()

        def post(index: int) -> None:
            user, name, data, fails = plan[index]
            delay = start_t + index * args.duration / args.submissions - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            with requests.Session() as session:
                for attempt in range(5):
                    try:
                        r = session.post(url, headers={"Authorization": f"Token {tokens[user]}"},
                                         data={"exercise": "vae-reparam"}, files={"file": (name, data)}, timeout=60)
                        break
                    except requests.ConnectionError:
                        if attempt == 4:
                            raise
                        time.sleep(0.5)
            assert r.status_code == 201, (r.status_code, r.text[:300])
            with lock:
                posted.append({"id": r.json()["id"], "name": name, "fails": fails})

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(post, range(args.submissions)))
        submit_s = time.monotonic() - start_t
        print(f"posted {len(posted)} submissions from {args.users} users in {submit_s:.1f} s "
              f"({len(files)} distinct files: {sum(f[2] is None for f in files)} correct, "
              f"{sum(f[2] is not None for f in files)} wrong)", flush=True)

        from submissions.models import Submission

        ids = [p["id"] for p in posted]
        deadline = time.monotonic() + args.timeout
        while Submission.objects.filter(pk__in=ids, status__in=Submission.PENDING).exists():
            for proc in procs:
                if proc.poll() is not None:
                    raise SystemExit(f"a process exited early; see {scratch}")
            if time.monotonic() > deadline:
                raise SystemExit("not all graded in time")
            time.sleep(0.5)
        all_done_s = time.monotonic() - start_t

        subs = {s.pk: s for s in Submission.objects.filter(pk__in=ids)}
        latencies = [(s.finished_at - s.created_at).total_seconds() for s in subs.values() if s.finished_at]
        first_created = min(s.created_at for s in subs.values())
        last_finished = max(s.finished_at for s in subs.values() if s.finished_at)
        span_s = (last_finished - first_created).total_seconds()
        statuses: dict[str, int] = {}
        wrong_verdicts = []
        for p in posted:
            s = subs.get(p["id"])
            if s is None:
                continue
            statuses[s.status] = statuses.get(s.status, 0) + 1
            failed = {t["name"] for t in (s.result or {}).get("tests", []) if t["status"] != "passed"}
            expected = p["fails"] or set()
            if s.status != "graded" or failed != expected:
                wrong_verdicts.append((p["id"], p["name"], s.status, sorted(failed)))
        logs = (scratch / "worker0.log").read_text(errors="replace")
        graded_runs = logs.count("succeeded in") - logs.count("'not-claimed'")
        per_worker = {s.worker.split(":")[1] for s in subs.values()}
        total_rows = Submission.objects.count()
        lost = len(set(ids) - set(subs))
        duplicated = len(ids) - len(set(ids)) + (total_rows - len(ids))

        print(f"all graded {all_done_s:.1f} s after the first post; quick pool of {args.workers} processes "
              f"({args.warm} warm container(s) each, {len(per_worker)} worker processes graded)")
        print(f"throughput: {60 * len(latencies) / span_s:.1f} gradings/min "
              f"({len(latencies)} in {span_s:.1f} s, first submit to last result)")
        print(f"submit->graded: p50 {percentile(latencies, 0.5):.1f} s, p95 {percentile(latencies, 0.95):.1f} s, "
              f"min {min(latencies):.1f} s, max {max(latencies):.1f} s, mean {statistics.mean(latencies):.1f} s")
        print(f"statuses: {json.dumps(statuses)}; grading runs in worker logs: {graded_runs}; "
              f"duplicate deliveries refused by the claim: {logs.count(chr(39) + 'not-claimed' + chr(39))}")
        print(f"lost: {lost}, duplicated rows: {duplicated}, wrong verdicts: {len(wrong_verdicts)}")
        for item in wrong_verdicts[:10]:
            print("  wrong verdict:", item)
        ok = lost == 0 and duplicated == 0 and not wrong_verdicts and graded_runs == len(ids)
        print("OK: none lost, none duplicated, every verdict as labelled" if ok else f"FAILED; logs in {scratch}")
        if not ok:
            args.keep = True
            sys.exit(1)
    finally:
        for proc in reversed(procs):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        try:  # the workers' warm containers: their processes are gone now
            from grader.sandbox.docker_sandbox import docker_client, reap_stale

            reap_stale(docker_client())
        except Exception as exc:
            print(f"could not reap sandbox containers: {exc}")
        if args.keep:
            print(f"scratch directory kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
