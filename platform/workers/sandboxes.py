"""The sandbox a worker process grades in, one per queue: built (or found) on first use.

The quick queue's sandbox keeps DGM_WARM_CONTAINERS containers pre-started (torch imported,
waiting for a job), which takes about a second off each function grading; training runs
always start their own container (they mount the training split), with a lower CPU weight
(DGM_TRAINING_CPU_SHARES, against Docker's default 1024), so that on a busy host a function
grading gets the CPU before a training run."""
from __future__ import annotations

import logging

from django.conf import settings

from .queues import QUICK, sandbox_variant

log = logging.getLogger(__name__)
_SANDBOXES: dict[str, object] = {}


def sandbox_image(variant: str) -> str:
    """The operator's image for this variant (DGM_SANDBOX_IMAGE / DGM_SANDBOX_IMAGE_CUDA: a worker host that
    has the image but not its recipe), else the image built here from docker/sandbox (only when its inputs
    changed)."""
    named = settings.SANDBOX_IMAGES.get(variant)
    if named:
        return named
    from grader.image import build_image

    return build_image(variant, log=log.info)


def sandbox_for_queue(queue: str):
    if queue not in _SANDBOXES:
        from grader.sandbox.docker_sandbox import DockerSandbox, docker_client

        image = sandbox_image(sandbox_variant(queue))
        quick = queue == QUICK
        _SANDBOXES[queue] = DockerSandbox(image, docker_client(), warm=settings.GRADING_WARM_CONTAINERS if quick else 0,
                                          cpu_shares=None if quick else settings.TRAINING_CPU_SHARES,
                                          gpu_device=settings.GPU_DEVICE or None)
    return _SANDBOXES[queue]


def sandboxes_close() -> None:
    """Remove this process's pre-started containers (when a worker process shuts down)."""
    for sandbox in list(_SANDBOXES.values()):
        sandbox.close()
    _SANDBOXES.clear()
