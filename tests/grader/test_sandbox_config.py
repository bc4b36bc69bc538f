"""The hardening of every sandbox container, and the GPU path as far as a
machine without a GPU can test it."""
import dataclasses

import docker
import pytest

from grader.image import build_context, image_tag
from grader.judge import grade
from grader.sandbox.docker_sandbox import DockerSandbox, container_config
from grader.spec import Limits, load_exercise


def test_every_hardening_option_is_set():
    c = container_config("img", Limits(memory_mb=512, pids=32, cpus=1.5, scratch_mb=16), labels={})
    assert c["network_mode"] == "none" and c["read_only"] is True
    assert c["user"] == "10001:10001" and c["cap_drop"] == ["ALL"]
    assert c["security_opt"] == ["no-new-privileges"]
    assert c["mem_limit"] == c["memswap_limit"] == "512m"
    assert c["pids_limit"] == 32 and c["nano_cpus"] == 1_500_000_000
    assert "size=16m" in c["tmpfs"]["/tmp"] and "noexec" in c["tmpfs"]["/tmp"]
    assert c["log_config"]["Type"] == "none"
    assert "device_requests" not in c and "cpu_shares" not in c  # Docker's default weight


def test_a_training_sandbox_can_weigh_less_on_a_busy_host():
    assert container_config("img", Limits(), labels={}, cpu_shares=256)["cpu_shares"] == 256


def test_gpu_exercises_request_a_gpu():
    c = container_config("img", Limits(gpu=True), labels={})
    (request,) = c["device_requests"]
    assert request["Count"] == 1 and request["Capabilities"] == [["gpu"]]
    (pinned,) = container_config("img", Limits(gpu=True), labels={}, gpu_device="1")["device_requests"]
    assert pinned["DeviceIDs"] == ["1"] and pinned["Capabilities"] == [["gpu"]]  # the worker's own GPU


def test_cuda_image_has_its_own_tag_and_context(tmp_path):
    assert image_tag("cuda") != image_tag("cpu") and image_tag("cuda").startswith("dgm-sandbox-cuda:")
    (tmp_path / "torch-2.13.0-cp311-none-any.whl").write_bytes(b"wheel")
    import io
    import tarfile

    names = tarfile.open(fileobj=io.BytesIO(build_context("cuda", tmp_path))).getnames()
    assert "Dockerfile" in names and "wheelhouse/requirements.txt" in names
    assert "dgm_harness/runner.py" in names and not any("reference_models" in n for n in names)


def test_docker_down_is_an_infrastructure_error():
    client = docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.41")
    exercise = load_exercise("vae-reparam")
    result = grade(exercise, "s.py", b"def reparameterize(mu, logvar):\n    return mu\n",
                   sandbox=DockerSandbox("img", client))
    assert result.status == "infrastructure_error" and "does not count" in result.output


def test_missing_image_is_an_infrastructure_error(docker_sandbox):
    exercise = load_exercise("vae-reparam")
    result = grade(exercise, "s.py", b"x = 1\n", sandbox=DockerSandbox("dgm-no-such-image:0", docker_sandbox.client))
    assert result.status == "infrastructure_error" and "build-image" in result.output


@pytest.mark.parametrize("limits", [Limits(wall_time_s=1)])
def test_limits_replace_cleanly(limits):
    assert dataclasses.replace(limits, memory_mb=1).wall_time_s == 1


def test_a_harness_that_dies_before_student_code_is_an_infrastructure_error():
    """No phase frame means no student code ran: not the student's fault."""
    from grader.sandbox import Sandbox, SandboxRun

    class BrokenImage(Sandbox):
        name = "broken"

        def run(self, job, limits, **_):
            return SandboxRun(stdout=b"", stderr=b"ModuleNotFoundError: No module named 'torch'", exit_code=1)

    exercise = load_exercise("vae-reparam")
    result = grade(exercise, "s.py", exercise.solution().source().encode(), sandbox=BrokenImage())
    assert result.status == "infrastructure_error" and result.tests == []
    assert "does not count" in result.output and "torch" in result.provenance["sandbox_stderr"]
