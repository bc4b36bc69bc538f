"""Exercise bundles (grader.bundle): content-addressed, materialised safely, and loaded without the
repository's exercises/ folder, at exactly the version they were built from."""
import io
import shutil
import threading
import zipfile

import pytest

from grader.bundle import (
    BundleError,
    build_bundle,
    cached_path,
    load_materialised,
    manifest_digest,
    materialise,
    read_bundle,
)
from grader.spec import REPO_ROOT, load_exercise


def _zip(entries: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


@pytest.mark.parametrize("slug", ["vae-reparam", "vae-train", "generate-fashion"])
def test_a_bundle_loads_at_its_own_version_without_the_repository(tmp_path, slug):
    exercise = load_exercise(slug)
    bundle = build_bundle(exercise)
    root = materialise(bundle.digest, bundle.data, tmp_path / "cache")
    loaded = load_materialised(slug, root)
    assert loaded.version == exercise.version
    assert [c.name for c in loaded.checks] == [c.name for c in exercise.checks]
    assert loaded.path == root / "exercises" / slug and not loaded.path.is_relative_to(REPO_ROOT)
    assert loaded.solution().source().encode() == exercise.solution().source().encode()
    assert [w.name for w in loaded.wrong_cases()] == [w.name for w in exercise.wrong_cases()]
    if exercise.training is not None:  # what the sandbox receives comes from the bundle
        assert loaded.training.support_sources() == exercise.training.support_sources()
        assert all(p.is_relative_to(root) for p in loaded.training.files())


def test_an_extending_exercise_bundle_carries_what_it_inherits_and_nothing_unrelated(tmp_path):
    exercise = load_exercise("vae-train")
    bundle = build_bundle(exercise)
    files = read_bundle(bundle.data)
    assert {"exercises/vae-train/exercise.toml", "exercises/vae-train/scaffold.py", "exercises/vae-train/checks.py",
            "exercises/vae-elbo/checks.py", "exercises/vae-elbo/solution.py", "exercises/vae-elbo/exercise.toml",
            "exercises/vae-reparam/checks.py", "exercises/vae-reparam/wrong/no_gradient.py",
            "reference_models/vae_nets.py", "reference_models/vae.py"} <= set(files)
    assert not any(name.startswith("grader/") or "__pycache__" in name for name in files)  # the worker's own code
    assert "reference_models/flow.py" not in files and not any(n.startswith("exercises/gan") for n in files)
    loaded = load_materialised("vae-train", materialise(bundle.digest, bundle.data, tmp_path / "cache"))
    assert loaded.version == exercise.version
    assert [(c.name, c.fails, c.source()) for c in loaded.wrong_cases()] == \
        [(c.name, c.fails, c.source()) for c in exercise.wrong_cases()]
    assert all(p.is_relative_to(tmp_path) for c in loaded.wrong_cases() for p in c.parts)


def test_the_digest_is_of_the_content_not_of_the_zip():
    bundle = build_bundle(load_exercise("attention"))
    files = read_bundle(bundle.data)
    reordered = _zip(dict(sorted(files.items(), reverse=True)))
    assert reordered != bundle.data and manifest_digest(read_bundle(reordered)) == bundle.digest
    assert build_bundle(load_exercise("attention")).digest == bundle.digest  # stable across builds


def test_a_changed_exercise_has_another_digest_and_version(tmp_path):
    shutil.copytree(REPO_ROOT / "exercises" / "vae-reparam", tmp_path / "vae-reparam")
    before = build_bundle(load_exercise("vae-reparam", tmp_path))
    toml = tmp_path / "vae-reparam" / "exercise.toml"
    toml.write_text(toml.read_text().replace("[checks.mean]\npoints = 2", "[checks.mean]\npoints = 3"))
    changed = load_exercise("vae-reparam", tmp_path)
    after = build_bundle(changed)
    assert after.digest != before.digest
    root = materialise(after.digest, after.data, tmp_path / "cache")
    assert load_materialised("vae-reparam", root).max_score == changed.max_score == 15


def test_content_that_does_not_match_its_digest_is_refused(tmp_path):
    bundle = build_bundle(load_exercise("vae-reparam"))
    files = read_bundle(bundle.data)
    files["exercises/vae-reparam/checks.py"] += b"\n# tampered\n"
    with pytest.raises(BundleError, match="does not match its digest"):
        materialise(bundle.digest, _zip(files), tmp_path)
    assert cached_path(bundle.digest, tmp_path) is None and not (tmp_path / bundle.digest).exists()


@pytest.mark.parametrize("entries, symlink, message", [
    ({"../escape.py": b"x"}, None, "not a plain relative file path"),
    ({"/etc/cron.d/x": b"x"}, None, "not a plain relative file path"),
    ({"exercises/a/./b.py": b"x"}, None, "not a plain relative file path"),
    ({"exercises\\a.py": b"x"}, None, "not a plain relative file path"),
    ({"ok.py": b"x"}, "link.py", "not a regular file"),
])
def test_unsafe_entries_are_refused(entries, symlink, message):
    with pytest.raises(BundleError, match=message):
        read_bundle(_zip(entries, symlink=symlink))


def test_not_a_zip_and_bad_digests_are_refused(tmp_path):
    with pytest.raises(BundleError, match="not a zip file"):
        read_bundle(b"PK but not really")
    with pytest.raises(BundleError, match="not a bundle digest"):
        materialise("../../etc", b"", tmp_path)


def test_concurrent_materialisations_agree(tmp_path):
    bundle = build_bundle(load_exercise("ddpm-schedule"))
    roots, errors = [], []

    def run():
        try:
            roots.append(materialise(bundle.digest, bundle.data, tmp_path))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(roots)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [bundle.digest]  # no scratch folder left behind
    assert load_materialised("ddpm-schedule", roots[0]).version == load_exercise("ddpm-schedule").version
