"""The CLI's answer when the Docker engine is not there: one line, no traceback (`make run`'s exit path
runs `grader reap`, and an engine that is stopped must not end it with a Python traceback)."""
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_reap_without_an_engine_says_so_in_one_line(tmp_path):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path / 'no-docker.sock'}"}
    out = subprocess.run([sys.executable, "-m", "grader", "reap"], cwd=REPO_ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.startswith("error: Docker engine not reachable") and out.stderr.count("\n") == 1, out.stderr
    assert "Traceback" not in out.stderr
