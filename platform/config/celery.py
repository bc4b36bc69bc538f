"""The Celery app: a task takes an id, loads, calls a service, decides about retrying."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("dgm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
