"""docker/compose.yaml brought up on this machine from the offline images (scripts/compose.sh up):
PostgreSQL, Redis, the migrate job, gunicorn, the quick and training worker pools and beat. One
submission goes through the web service's published loopback port and reaches graded, in a sandbox
that a worker container started on the host's engine."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from grader.sandbox.docker_sandbox import LABEL, WORKER_LABEL, docker_client

REPO_ROOT = Path(__file__).resolve().parents[2]
SETUP = """
import json
from accounts.services import api_token_create, user_create
from catalog.models import Exercise
from catalog.services import course_exercise_create
from courses.services import course_create, enrollment_create
teacher = user_create(username="teacher", password=None)
student = user_create(username="student", password=None)
course = course_create(slug="compose", title="Compose", instructor=teacher)
enrollment_create(user=student, course=course)
course_exercise_create(course=course, exercise=Exercise.objects.get(slug="vae-reparam"), points=10)
print(json.dumps({"token": api_token_create(user=student)[1]}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url: str, *, token: str, data: bytes | None = None, content_type: str = "") -> dict:
    request = urllib.request.Request(url, data=data, headers={"Authorization": f"Token {token}",
                                                              **({"Content-Type": content_type} if data else {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: text/x-python\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.docker
def test_the_compose_stack_grades_a_submission_through_the_web_service(tmp_path):
    port = _free_port()
    project = f"dgmtest{os.getpid()}"
    env = {**os.environ, "COMPOSE_PROJECT_NAME": project, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
           "POSTGRES_PASSWORD": secrets.token_urlsafe(24), "DGM_PORT": str(port), "DGM_BIND": "127.0.0.1",
           "DJANGO_SECURE_COOKIES": "0", "DGM_TRAINING_PROFILE": "tiny",
           "DGM_TRAINING_DATA": str(tmp_path / "training-data")}

    def compose(*args, check=True, timeout=1800) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "scripts/compose.sh", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                              text=True, timeout=timeout, check=check)

    config = compose("config", "-q", check=False)
    assert config.returncode == 0, config.stderr
    client = docker_client()
    before = {c.id for c in client.containers.list(all=True, filters={"label": LABEL})}
    try:
        up = compose("up", check=False)
        assert up.returncode == 0, (up.stdout + up.stderr)[-3000:] + compose("logs", "--tail", "40", "--no-color",
                                                                             check=False).stdout[-6000:]
        services = compose("ps", "--services", "--filter", "status=running").stdout.split()
        assert {"postgres", "redis", "web", "worker-quick", "worker-training", "beat"} <= set(services), services
        setup = compose("exec", "-T", "worker-quick", "python3", "/opt/dgm/manage.py", "shell", "-c", SETUP)
        token = json.loads(setup.stdout.strip().splitlines()[-1])["token"]

        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/login/", timeout=10) as login:
            page = login.read().decode()
        css = page.split('href="/static/style.')[1].split('"')[0]
        with urllib.request.urlopen(f"{base}/static/style.{css}", timeout=10) as static:
            assert static.status == 200 and "max-age" in static.headers["Cache-Control"]  # whitenoise
        body, content_type = _multipart({"exercise": "vae-reparam"}, "solution.py",
                                        (REPO_ROOT / "exercises" / "vae-reparam" / "solution.py").read_bytes())
        created = _request(f"{base}/api/submissions/", token=token, data=body, content_type=content_type)
        deadline = time.monotonic() + 600
        while True:
            state = _request(f"{base}/api/submissions/{created['id']}/", token=token)
            if state["status"] not in ("queued", "running"):
                break
            assert time.monotonic() < deadline, compose("logs", "--tail", "80", check=False).stdout[-6000:]
            time.sleep(1)
        assert state["status"] == "graded", state
        assert state["result"]["score"] == state["result"]["max_score"] == 14
        assert state["result"]["tests"] and all(t["status"] == "passed" for t in state["result"]["tests"])
    except (urllib.error.URLError, subprocess.CalledProcessError) as exc:
        logs = compose("logs", "--tail", "80", check=False)
        raise AssertionError(f"{exc}\n{getattr(exc, 'stderr', '')}\n{logs.stdout[-6000:]}") from exc
    finally:
        # The stack's own sandboxes: labelled with a worker of this project (the engine may be shared).
        hosts = {c.attrs["Config"]["Hostname"] for c in client.containers.list(
            all=True, filters={"label": f"com.docker.compose.project={project}"})}
        down = compose("down", "-v", "--remove-orphans", check=False, timeout=300)
        left = [c for c in client.containers.list(all=True, filters={"label": LABEL})
                if c.id not in before and c.labels.get(WORKER_LABEL, "").split(":")[0] in hosts]
        left_described = [(c.short_id, c.status, c.labels.get(WORKER_LABEL), c.attrs["State"].get("StartedAt"))
                          for c in left]
        for container in left:
            container.remove(force=True)
    assert down.returncode == 0, down.stderr
    assert left_described == [], hosts  # the workers removed their sandboxes (warm ones too) as they stopped
