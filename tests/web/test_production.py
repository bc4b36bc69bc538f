"""Production settings and the web process as deployed: gunicorn with DEBUG off and static files from
whitenoise; a missing or weak secret key stops the start; `check --deploy` reports only what needs TLS;
and the web process never imports torch (the grader's torch-free parts are enough for it)."""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from .conftest import PLATFORM_DIR, REPO_ROOT, _test_database_url


def _env(**extra) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.prod",
           "PYTHONPATH": os.pathsep.join([str(PLATFORM_DIR), str(REPO_ROOT)]), **extra}
    return {k: v for k, v in env.items() if v is not None}


def _manage(*args, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=_env(**env),
                          capture_output=True, text=True, timeout=120)


def test_a_missing_or_weak_secret_key_stops_the_start(tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    missing = _manage("check", DJANGO_SECRET_KEY=None, DATABASE_URL=db)
    assert missing.returncode != 0 and "DJANGO_SECRET_KEY is required" in missing.stderr
    weak = _manage("check", DJANGO_SECRET_KEY="insecure-development-key-change-me", DATABASE_URL=db)
    assert weak.returncode != 0 and "at least 50 random characters" in weak.stderr
    no_db = _manage("check", DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DATABASE_URL=None)
    assert no_db.returncode != 0 and "DATABASE_URL is required" in no_db.stderr


def test_check_deploy_reports_only_what_needs_tls_and_nothing_once_tls_is_on(tmp_path):
    env = {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    plain = _manage("check", "--deploy", **env)
    codes = {line.split(")")[0].split("(")[-1] for line in plain.stderr.splitlines() if "security.W" in line}
    assert codes == {"security.W004", "security.W008"}, plain.stderr  # HSTS and the https redirect
    behind_tls = _manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_HSTS_SECONDS="31536000",
                         DJANGO_SSL_REDIRECT="1", DJANGO_BEHIND_TLS_PROXY="1", DJANGO_HSTS_INCLUDE_SUBDOMAINS="1",
                         DJANGO_HSTS_PRELOAD="1", **env)
    assert behind_tls.returncode == 0 and "no issues" in behind_tls.stdout, behind_tls.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_the_site_with_debug_off_and_static_files_from_whitenoise(tmp_path, world):
    from django.db import connection

    env = {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "DATABASE_URL": _test_database_url(connection.settings_dict),
           "DJANGO_STATIC_ROOT": str(tmp_path / "static"), "DJANGO_SECURE_COOKIES": "0"}
    collected = _manage("collectstatic", "--noinput", **env)
    assert collected.returncode == 0, collected.stderr
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    port = _free_port()
    server = subprocess.Popen([str(REPO_ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "--bind",
                               f"127.0.0.1:{port}", "--workers", "1"], cwd=PLATFORM_DIR, env=_env(**env),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, body = _get(f"http://127.0.0.1:{port}/login/")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert status == 200 and b"static/style." in body
        css = body.decode().split('href="/static/style.')[1].split('"')[0]
        assert f"style.{css}".split(".")[1] in manifest  # the hashed name, from the manifest
        status, headers, _ = _get(f"http://127.0.0.1:{port}/static/style.{css}")
        assert status == 200 and "max-age=315360000" in headers.get("Cache-Control", "")
        status, _, body = _get(f"http://127.0.0.1:{port}/no/such/page/")
        assert status == 404 and b"Traceback" not in body and b"DEBUG = True" not in body
    finally:
        server.terminate()
        server.wait(20)


WEB_PROCESS = """
import sys
import django
django.setup()
from django.test import Client
from accounts.models import User
from submissions.models import Submission
owner = User.objects.get(username="owner")
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(owner)
pages = ["/", "/courses/dgm/", "/courses/dgm/vae-reparam/", "/courses/dgm/vae-reparam/starter.ipynb"]
def rss():  # resident MB now (ru_maxrss would carry the parent's peak across exec)
    line = next(l for l in open("/proc/self/status") if l.startswith("VmRSS:"))
    return int(line.split()[1]) // 1024
codes, peaks = [], []
for url in pages:
    codes.append(client.get(url).status_code); peaks.append(rss())
response = client.post("/courses/dgm/vae-reparam/submit/", {"source": open(sys.argv[1]).read()})
peaks.append(rss())
sub = Submission.objects.latest("pk")
codes += [response.status_code, client.get(f"/submissions/{sub.pk}/").status_code,
          client.get(f"/api/submissions/{sub.pk}/").status_code]
staff = User.objects.get(username="teacher")
client.force_login(staff)
for url in ("/courses/dgm/status/", "/instructor/dgm/exercises/vae-reparam/"):
    codes.append(client.get(url).status_code)
peaks.append(rss())
print(codes, peaks, file=sys.stderr)
print(codes, "torch" in sys.modules, rss())
"""


@pytest.mark.django_db(transaction=True)
def test_the_web_process_never_imports_torch(world, redis_server):
    from django.db import connection

    env = _env(DJANGO_SETTINGS_MODULE="config.settings.test", REDIS_URL=redis_server,
               DATABASE_URL=_test_database_url(connection.settings_dict))
    solution = REPO_ROOT / "exercises" / "vae-reparam" / "solution.py"
    out = subprocess.run([sys.executable, "-c", WEB_PROCESS, str(solution)], cwd=PLATFORM_DIR, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    codes, torch_loaded, rss_mb = out.stdout.strip().rsplit(" ", 2)
    assert codes == "[200, 200, 200, 200, 302, 200, 200, 200, 200]" and torch_loaded == "False", out.stdout
    assert int(rss_mb) < 150, out.stderr  # about 300 MB when the web imported torch
