"""Web tests: Django (pytest-django, settings config.settings.test), a real Redis
and a real Celery worker where a test needs them, started here, never skipped."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PLATFORM_DIR = REPO_ROOT / "platform"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Before Django is set up: a private Redis port for this test session, the test settings.
REDIS_PORT = _free_port()
os.environ["REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/0"
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
(REPO_ROOT / "var").mkdir(exist_ok=True)
if str(PLATFORM_DIR) not in sys.path:
    sys.path.insert(0, str(PLATFORM_DIR))

import django  # noqa: E402

django.setup()

from accounts.services import api_token_create, user_create  # noqa: E402
from catalog.services import course_exercise_create, exercise_sync  # noqa: E402
from courses.models import Enrollment  # noqa: E402
from courses.services import course_create, enrollment_create  # noqa: E402


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_server():
    """A private redis-server on 127.0.0.1 (scripts/start-redis.sh installs the binary)."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed: run scripts/start-redis.sh (make test does)"
    workdir = tempfile.mkdtemp(prefix="dgm-redis-")
    proc = subprocess.Popen([binary, "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", workdir], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not _redis_answers(REDIS_PORT):
        assert proc.poll() is None, "redis-server exited at start"
        assert time.monotonic() < deadline, "redis-server did not answer within 20 s"
        time.sleep(0.05)
    yield os.environ["REDIS_URL"]
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(workdir, ignore_errors=True)


def _test_database_url(db: dict) -> str:
    """The URL of the test database this session uses (SQLite file or PostgreSQL), for worker processes."""
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    from urllib.parse import quote

    auth = quote(db["USER"], safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


@pytest.fixture
def start_worker(redis_server, transactional_db):
    """Starts `celery -A config worker -Q <queues> --concurrency 1` on the same test database and Redis
    (queues "quick" unless told, e.g. "training"); extra environment variables override the worker's
    settings (e.g. DGM_JOB_HEARTBEAT_S). `code` runs it from another copy of the code (a worker host
    with no exercises/ folder) and `hostname` gives it a host name of its own (a UTS namespace, as
    root: `unshare --uts`). Stopped at teardown."""
    from django.db import connection

    procs = []

    def start(queues: str = "quick", *, code: Path = REPO_ROOT, hostname: str | None = None, **extra_env):
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": redis_server,
               "DATABASE_URL": _test_database_url(connection.settings_dict),
               "PYTHONPATH": os.pathsep.join([str(code / "platform"), str(code)]), **extra_env}
        log = tempfile.NamedTemporaryFile(prefix="dgm-celery-", suffix=".log", delete=False)
        node = f"test-{os.getpid()}-{len(procs)}@{hostname or 'localhost'}"
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "--concurrency", "1",
                   "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--hostname", node]
        if hostname:
            command = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', hostname, *command]
        proc = subprocess.Popen(command, cwd=code / "platform", env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own process group: a test may SIGKILL it whole
        proc.log_path, proc.node = log.name, node
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        Path(proc.log_path).unlink(missing_ok=True)


@pytest.fixture
def celery_worker_process(start_worker):
    return start_worker()


class World:
    """A course with an instructor, an owner (a student), a peer (another student) and an outsider."""


@pytest.fixture
def world(db):
    w = World()
    exercise_sync(slug="vae-reparam")
    from catalog.models import Exercise

    w.exercise = Exercise.objects.get(slug="vae-reparam")
    w.instructor = user_create(username="teacher", password="correct horse battery")
    w.owner = user_create(username="owner", password="correct horse battery")
    w.peer = user_create(username="peer", password="correct horse battery")
    w.outsider = user_create(username="outsider", password="correct horse battery")
    w.course = course_create(slug="dgm", title="DGM", instructor=w.instructor)
    for student in (w.owner, w.peer):
        enrollment_create(user=student, course=w.course, role=Enrollment.Role.STUDENT)
    w.ce = course_exercise_create(course=w.course, exercise=w.exercise, points=10)
    w.tokens = {name: api_token_create(user=getattr(w, name))[1]
                for name in ("instructor", "owner", "peer", "outsider")}
    return w


@pytest.fixture
def board_world(world, enqueued):
    """`world` plus a training exercise with a leaderboard, and a third student (tests/web/leaderboard_world.py)."""
    from .leaderboard_world import add_training_exercise

    return add_training_exercise(world)


@pytest.fixture
def enqueued(monkeypatch):
    """Records enqueued gradings instead of sending them to Redis."""
    from submissions import tasks

    sent = []
    monkeypatch.setattr(tasks.grade_submission, "apply_async",
                        lambda args=None, queue=None, countdown=None, **kw: sent.append((args[0], queue, countdown)))
    return sent


SOLUTION = (REPO_ROOT / "exercises" / "vae-reparam" / "solution.py").read_bytes()
