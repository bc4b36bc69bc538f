from django.apps import AppConfig


class WorkersConfig(AppConfig):
    """Where grading work runs: queues, the workers' sandboxes and bundles, liveness, the status page."""

    name = "workers"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  connects the worker_ready / worker_shutdown handlers
