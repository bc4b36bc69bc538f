"""Two worker hosts on one database and one broker (on PostgreSQL in `make test`'s second pass): each
worker runs from its own copy of the code, under its own host name, with no exercises/ folder, and
grades from the stored exercise bundles. Two versions of one exercise are graded each at its own
version; a regrade at the submitted version repeats the original verdict, and one at the current
version takes the newer checks."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from catalog.models import ExerciseVersion
from catalog.services import exercise_sync
from grader.spec import load_exercise
from submissions.models import Submission
from submissions.services import submission_create, submission_regrade
from workers.models import WorkerHeartbeat

from .conftest import REPO_ROOT

WRONG = REPO_ROOT / "exercises" / "vae-reparam" / "wrong" / "variance_as_std.py"
FAILS = {"standard_deviation", "gaussian_noise", "gradients"}
SLOW = b"import time\ntime.sleep(4)\n"  # long enough that each idle worker takes one of the two jobs


def _worker_host(root: Path) -> Path:
    """The worker's code (what a worker image holds): the grader, the reference models and the
    platform; no exercises/ and no docker/ (the sandbox image is given by name)."""
    for part in ("grader", "reference_models", "platform"):
        shutil.copytree(REPO_ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    assert not (root / "exercises").exists()
    return root


def _wait(pks, procs, timeout=300) -> dict[int, Submission]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        subs = {s.pk: s for s in Submission.objects.filter(pk__in=pks)}
        if all(not s.is_pending for s in subs.values()):
            return subs
        for proc in procs:
            assert proc.poll() is None, open(proc.log_path).read()[-3000:]
        time.sleep(0.3)
    raise AssertionError("not graded in time:\n" + "\n".join(open(p.log_path).read()[-2000:] for p in procs))


def _verdict(sub: Submission) -> tuple:
    return (sub.status, sub.score, sub.max_score,
            sorted(t["name"] for t in sub.result["tests"] if t["status"] != "passed"))


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_two_hosts_without_exercises_grade_each_version_from_its_bundle(world, docker_sandbox, start_worker,
                                                                        tmp_path):
    version_a = world.exercise.current_version
    sub_a = submission_create(user=world.owner, course_exercise=world.ce, filename="wrong.py",
                              data=SLOW + WRONG.read_bytes())
    changed = tmp_path / "exercises"  # version B: the instructor gave the noise checks more weight
    shutil.copytree(REPO_ROOT / "exercises" / "vae-reparam", changed / "vae-reparam")
    toml = changed / "vae-reparam" / "exercise.toml"
    text = toml.read_text()
    toml.write_text(text.replace("[checks.mean]\npoints = 2", "[checks.mean]\npoints = 4")
                    .replace("[checks.standard_deviation]\npoints = 2", "[checks.standard_deviation]\npoints = 6"))
    assert exercise_sync(slug="vae-reparam", root=changed) == "updated"
    version_b = ExerciseVersion.objects.get(exercise__slug="vae-reparam", version=load_exercise(
        "vae-reparam", changed).version)
    assert version_b != version_a and version_b.bundle.digest != version_a.bundle.digest
    world.ce.exercise.refresh_from_db()
    sub_b = submission_create(user=world.peer, course_exercise=world.ce, filename="wrong.py",
                              data=SLOW + WRONG.read_bytes())
    assert (sub_a.exercise_version, sub_b.exercise_version) == (version_a, version_b)

    hosts = {}
    for name in ("host-a", "host-b"):
        code = _worker_host(tmp_path / name)
        hosts[name] = start_worker(code=code, hostname=name, DGM_BUNDLE_CACHE=str(code / "bundles"),
                                   DGM_EXERCISES_DIR=str(code / "exercises"), DGM_VAR_DIR=str(code / "var"),
                                   DGM_SANDBOX_IMAGE=docker_sandbox.image)  # the host has the image, not its recipe
    deadline = time.monotonic() + 120
    while WorkerHeartbeat.objects.filter(hostname__in=list(hosts)).count() < 2:
        assert time.monotonic() < deadline, [open(p.log_path).read()[-2000:] for p in hosts.values()]
        time.sleep(0.2)

    done = _wait([sub_a.pk, sub_b.pk], hosts.values())
    first_a, first_b = done[sub_a.pk], done[sub_b.pk]
    assert _verdict(first_a) == ("graded", 8.0, 14.0, sorted(FAILS))
    assert _verdict(first_b) == ("graded", 10.0, 20.0, sorted(FAILS))  # mean 4 and standard_deviation 6 points
    assert first_a.result["provenance"]["exercise_version"] == version_a.version
    assert first_b.result["provenance"]["exercise_version"] == version_b.version
    assert {first_a.worker.split(":")[0], first_b.worker.split(":")[0]} == set(hosts)  # one job on each host
    for name in hosts:  # each host materialised what it graded, from the database, into its own cache
        graded = [s for s in (first_a, first_b) if s.worker.startswith(f"{name}:")]
        assert {p.name for p in (tmp_path / name / "bundles").iterdir()} >= {
            s.exercise_version.bundle.digest for s in graded}
        assert not (tmp_path / name / "exercises").exists()

    assert submission_regrade(submission=first_a, at="submitted")
    regraded = _wait([sub_a.pk], hosts.values())[sub_a.pk]
    assert _verdict(regraded) == _verdict(first_a) and regraded.exercise_version == version_a
    assert regraded.result["provenance"]["regrade"]["at"] == "submitted"

    assert submission_regrade(submission=regraded, at="current")
    at_current = _wait([sub_a.pk], hosts.values())[sub_a.pk]
    assert _verdict(at_current) == _verdict(first_b) and at_current.exercise_version == version_b
    assert [h["exercise_version"] for h in at_current.history] == [version_a.version, version_a.version]
