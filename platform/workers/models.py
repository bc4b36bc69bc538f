from django.db import models


class WorkerHeartbeat(models.Model):
    """A Celery worker node's latest sign of life (workers.liveness writes it every few seconds):
    what the status page lists as the workers alive, their queues and their capacity."""

    name = models.CharField(max_length=200, unique=True)  # the node name, e.g. quick@host
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    queues = models.JSONField(default=list)
    concurrency = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({', '.join(self.queues)})"
