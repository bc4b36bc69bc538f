from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Exercises and their per-course settings. The package is not called `exercises`:
    that is the name of the exercise content folder at the repository root."""

    name = "catalog"
