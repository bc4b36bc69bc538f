"""The exercise a worker grades with: the stored bundle of the job's exercise version,
materialised under DGM_BUNDLE_CACHE. A worker needs no `exercises/` folder of its own, and a
regrade runs at whichever version the instructor chose."""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from django.conf import settings

from catalog.models import ExerciseBundle

LOADED_MAX = 32
_loaded: OrderedDict[str, object] = OrderedDict()  # bundle digest -> grader Exercise (content-addressed)


class BundleMissing(RuntimeError):
    """An exercise version synced before bundles were stored: it cannot be graded by a worker."""


def exercise_for_version(version) -> tuple[object, str]:
    """The grader's Exercise of `version` (an ExerciseVersion), from its bundle, and the bundle's digest."""
    from grader.bundle import cached_path, load_materialised, materialise

    if version.bundle_id is None:
        raise BundleMissing(f"exercise version {version.exercise.slug}@{version.version} has no stored bundle "
                            "(run manage.py sync_exercises where that version's folder is)")
    digest = ExerciseBundle.objects.filter(pk=version.bundle_id).values_list("digest", flat=True).get()
    if digest not in _loaded:
        cache = Path(settings.BUNDLE_CACHE_DIR)
        root = cached_path(digest, cache) or materialise(
            digest, bytes(ExerciseBundle.objects.filter(pk=version.bundle_id).values_list("data", flat=True).get()),
            cache)
        _loaded[digest] = load_materialised(version.exercise.slug, root)
        while len(_loaded) > LOADED_MAX:
            _loaded.popitem(last=False)
    _loaded.move_to_end(digest)
    return _loaded[digest], digest
