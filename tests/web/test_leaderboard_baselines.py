"""Reference baselines: requested once per (exercise version, profile), computed by a task on the
training queue through grader.baselines, stored as a board row; sync_exercises and
compute_baselines queue the missing ones; a worker that starts requeues those claimed by dead workers of
its host. Also which sandbox image each queue's worker uses."""
import io
import shutil
import subprocess
import types
from datetime import timedelta

import pytest
from celery.signals import worker_ready
from django.core.management import call_command
from django.utils import timezone

from catalog.models import ExerciseVersion
from grader.sandbox.docker_sandbox import worker_identity
from leaderboard import tasks as leaderboard_tasks
from leaderboard.models import Baseline
from leaderboard.services import baseline_compute, baseline_request, baseline_request_missing

from .leaderboard_world import training_result


@pytest.fixture
def sent(monkeypatch):
    """Records baseline tasks sent to the broker instead of sending them."""
    calls = []
    monkeypatch.setattr(leaderboard_tasks.compute_baseline, "apply_async",
                        lambda args=None, queue=None, **kw: calls.append((args[0], queue)))
    return calls


class FakeGrader:
    """Stands in for grader.baselines.compute_baseline and the bundle loader (injected into
    baseline_compute): the real ones train for minutes."""

    def __init__(self):
        self.calls, self.failure = [], None

    def compute(self, exercise, profile, sandbox, watch):
        self.calls.append((exercise.slug, profile, sandbox))
        if self.failure:
            raise self.failure
        watch.report({"phase": "training", "step": 3})
        return {**training_result(61.5, profile=profile)["training"], "label": "Reference solution",
                "exercise_version": "toyversion01", "profile": profile}

    @staticmethod
    def exercise_for(version):
        return types.SimpleNamespace(slug=version.exercise.slug, version=version.version), "digest"

    def run(self, baseline_id, sandbox_factory=lambda q: "box"):
        return baseline_compute(baseline_id=baseline_id, sandbox_factory=sandbox_factory, compute=self.compute,
                                exercise_for=self.exercise_for)


@pytest.fixture
def fake_grader():
    return FakeGrader()


def test_a_baseline_is_requested_once_and_sent_to_the_exercises_queue(board_world, sent,
                                                                      django_capture_on_commit_callbacks):
    w = board_world
    with django_capture_on_commit_callbacks(execute=True):
        requested = baseline_request_missing(profile="cpu")
    assert [(b.exercise_version, b.profile, b.status) for b in requested] == [(w.train_version, "cpu", "queued")]
    assert sent == [(requested[0].pk, "training")]
    assert baseline_request_missing(profile="gpu") == []  # the exercise has no such profile
    baseline = requested[0]
    with django_capture_on_commit_callbacks(execute=True):
        assert baseline_request(exercise_version=w.train_version, profile="cpu") == baseline  # still queued: resent
        Baseline.objects.filter(pk=baseline.pk).update(status="running", claimed_at=timezone.now() - timedelta(
            hours=5), heartbeat_at=timezone.now())
        assert baseline_request(exercise_version=w.train_version, profile="cpu") is None  # being computed
        Baseline.objects.filter(pk=baseline.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
        assert baseline_request(exercise_version=w.train_version, profile="cpu") == baseline  # its worker went silent
        Baseline.objects.filter(pk=baseline.pk).update(status="failed", error="boom")
        assert baseline_request(exercise_version=w.train_version, profile="cpu") == baseline
        assert Baseline.objects.get(pk=baseline.pk).error == ""
        Baseline.objects.filter(pk=baseline.pk).update(status="done")
        assert baseline_request(exercise_version=w.train_version, profile="cpu") is None
    assert Baseline.objects.count() == 1 and sent == [(baseline.pk, "training")] * 4


def test_the_task_computes_and_stores_a_baseline_once(board_world, sent, fake_grader):
    w = board_world
    baseline = baseline_request(exercise_version=w.train_version, profile="cpu")
    sandboxes = []
    assert fake_grader.run(baseline.pk, sandbox_factory=lambda q: sandboxes.append(q) or "box") == "done"
    assert fake_grader.calls == [("toy-train", "cpu", "box")] and sandboxes == ["training"]
    baseline.refresh_from_db()
    assert (baseline.status, baseline.fid, baseline.n_samples, baseline.label) == ("done", 61.5, 1000,
                                                                                   "Reference solution")
    assert baseline.computed_at is not None and baseline.worker == worker_identity()
    assert fake_grader.run(baseline.pk) == "not-claimed"
    assert len(fake_grader.calls) == 1


@pytest.mark.parametrize("failure, message", [
    ("no bundle", "has no stored bundle"),
    (RuntimeError("CUDA out of memory"), "RuntimeError: CUDA out of memory"),
])
def test_a_failed_baseline_says_why_and_can_be_asked_for_again(board_world, sent, fake_grader, failure, message):
    w = board_world
    baseline = baseline_request(exercise_version=w.train_version, profile="cpu")
    if failure == "no bundle":  # the real loader, on a version synced before bundles were stored
        outcome = baseline_compute(baseline_id=baseline.pk, sandbox_factory=lambda q: "box",
                                   compute=fake_grader.compute)
    else:
        fake_grader.failure = failure
        outcome = fake_grader.run(baseline.pk)
    assert outcome == "failed"
    baseline.refresh_from_db()
    assert baseline.status == "failed" and message in baseline.error and baseline.fid is None
    out = io.StringIO()
    call_command("compute_baselines", "--slug", "toy-train", stdout=out)
    assert "queued    baseline toy-train (cpu" in out.getvalue() and "on queue training" in out.getvalue()


def test_a_starting_worker_requeues_only_the_baselines_of_dead_workers_of_its_host(
        board_world, sent, fake_grader, monkeypatch, caplog, django_capture_on_commit_callbacks):
    import grader.sandbox.docker_sandbox as docker_sandbox

    def no_docker():
        raise RuntimeError("no Docker in this test")

    monkeypatch.setattr(docker_sandbox, "docker_client", no_docker)  # submissions' container reaping: not tested here
    exited = subprocess.Popen(["true"])
    exited.wait()
    claims = {"cpu": worker_identity(exited.pid), "tiny": worker_identity(), "gpu": f"elsewhere.invalid:{exited.pid}"}
    for profile, worker in claims.items():
        Baseline.objects.create(exercise_version=board_world.train_version, profile=profile, status="running",
                                claimed_at=timezone.now(), worker=worker)
    with django_capture_on_commit_callbacks(execute=True):
        worker_ready.send(sender=None)
    assert dict(Baseline.objects.values_list("profile", "status")) == {"cpu": "queued", "tiny": "running",
                                                                      "gpu": "running"}
    dead = Baseline.objects.get(profile="cpu")
    assert dead.claimed_at is None and sent == [(dead.pk, "training")]
    assert f"'baselines': [{dead.pk}]" in caplog.text
    assert fake_grader.run(dead.pk) == "done"  # claimable again


def test_compute_baselines_command(board_world, sent):
    out = io.StringIO()
    call_command("compute_baselines", "--profile", "tiny", stdout=out)
    assert "queued    baseline toy-train (tiny" in out.getvalue()
    out = io.StringIO()
    call_command("compute_baselines", "--slug", "vae-reparam", stdout=out)
    assert "no baseline missing for the profile cpu" in out.getvalue()


TRAINING_TABLE = """
[training]
dataset = "fashion-mnist"
checkpoint_mb = 16

[training.profiles.cpu]
steps = 500
batch_size = 64
train_time_s = 300
sample_time_s = 60
n_samples = 1000

[training.profiles.gpu]
steps = 5000
batch_size = 128
train_time_s = 600
sample_time_s = 60
n_samples = 10000
"""


def test_sync_exercises_stores_the_profiles_and_queues_the_missing_baseline(db, tmp_path, monkeypatch, sent):
    import grader.spec

    root = tmp_path / "exercises"
    for slug in ("vae-reparam", "fashion-train"):
        shutil.copytree(grader.spec.EXERCISES_DIR / "vae-reparam", root / slug)
    toml = root / "fashion-train" / "exercise.toml"
    toml.write_text(toml.read_text() + TRAINING_TABLE)
    monkeypatch.setattr(grader.spec, "EXERCISES_DIR", root)
    out = io.StringIO()
    call_command("sync_exercises", "fashion-train", "vae-reparam", stdout=out)
    version = ExerciseVersion.objects.get(exercise__slug="fashion-train")
    assert version.is_training and version.bundle is not None
    assert version.training["profiles"]["cpu"] == {"steps": 500, "batch_size": 64, "train_time_s": 300,
                                                   "sample_time_s": 60, "n_samples": 1000, "device": "cpu"}
    assert version.training["profiles"]["gpu"]["device"] == "cuda"
    assert "baseline  fashion-train (cpu) queued on training" in out.getvalue()
    assert Baseline.objects.get().exercise_version == version and "baseline  vae-reparam" not in out.getvalue()
    assert not ExerciseVersion.objects.get(exercise__slug="vae-reparam").is_training


@pytest.mark.parametrize("queue, variant, warm, shares", [("quick", "cpu", 2, None), ("training", "cpu", 0, 256),
                                                          ("gpu", "cuda", 0, 256)])
def test_each_queue_has_its_sandbox_image_and_only_quick_keeps_warm_containers(monkeypatch, settings, queue,
                                                                               variant, warm, shares):
    import grader.image
    import grader.sandbox.docker_sandbox as docker_sandbox
    from workers import sandboxes

    built = []
    monkeypatch.setattr(sandboxes, "_SANDBOXES", {})
    monkeypatch.setattr(grader.image, "build_image", lambda v, log=None: built.append(v) or f"image-{v}")
    monkeypatch.setattr(docker_sandbox, "docker_client", lambda: "client")
    monkeypatch.setattr(docker_sandbox, "DockerSandbox", lambda image, client, warm=0, cpu_shares=None,
                        gpu_device=None: (image, client, warm, cpu_shares))
    settings.GRADING_WARM_CONTAINERS = 2
    assert sandboxes.sandbox_for_queue(queue) == (f"image-{variant}", "client", warm, shares) and built == [variant]


def test_a_bad_training_profile_fails_loudly(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.env import training_profile

    assert training_profile("X_PROFILE", "cpu") == "cpu"
    monkeypatch.setenv("X_PROFILE", "gpu")
    assert training_profile("X_PROFILE", "cpu") == "gpu"
    monkeypatch.setenv("X_PROFILE", "GPU; rm -rf /")
    with pytest.raises(ImproperlyConfigured, match="X_PROFILE"):
        training_profile("X_PROFILE", "cpu")
