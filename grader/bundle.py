"""Exercise bundles: one exercise version's files, content-addressed, so that a worker on any
host grades any version without a checkout of `exercises/`.

A bundle holds the exercise folder as synced (exercise.toml, checks.py, statement, starter,
solution, scaffold, right/, wrong/) under `exercises/<slug>/`, the folders of the exercises it
extends beside it, and the reference models and training support files its version covers (at
their repository-relative paths). Its digest is the SHA-256 of
the manifest (one "<sha256 of the file> <path>" line per file, sorted by path), so the same
content always has the same digest, whatever the zip's bytes.

No torch here: the web process builds and stores bundles; workers materialise them.
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .spec import Exercise, load_exercise
from .version import GRADER_DIR, label

MAX_FILES = 2000
MAX_BYTES = 64 * 1024 * 1024  # uncompressed, all files together
COMPLETE_MARK = ".complete"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class BundleError(ValueError):
    """A bundle that is malformed, too big, or whose content does not match its digest."""


@dataclass(frozen=True)
class Bundle:
    digest: str
    data: bytes  # the zip
    files: int
    size: int  # uncompressed bytes


def manifest_digest(files: dict[str, bytes]) -> str:
    lines = "".join(f"{hashlib.sha256(data).hexdigest()} {path}\n" for path, data in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def bundle_files(exercise: Exercise) -> dict[str, bytes]:
    """{path in the bundle: content} of everything the exercise's version covers (grader/version.py):
    its folder and those of the exercises it extends under `exercises/`, the reference models and
    training support files at their repository-relative paths. Not the grader's own modules (the
    check library, the harness): a worker grades with its own, and its version says which."""
    return {label(path, exercise.path.parent, exercise.repo_root): path.read_bytes() for path in exercise.files
            if not path.is_relative_to(GRADER_DIR)}


def build_bundle(exercise: Exercise) -> Bundle:
    files = bundle_files(exercise)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in sorted(files.items()):
            info = zipfile.ZipInfo(path, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return Bundle(digest=manifest_digest(files), data=buffer.getvalue(), files=len(files),
                  size=sum(len(d) for d in files.values()))


def _safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if (not name or name.endswith("/") or "\\" in name or "\0" in name or path.is_absolute()
            or any(part in ("", ".", "..") for part in name.split("/"))):
        raise BundleError(f"bundle entry {name[:100]!r} is not a plain relative file path")
    return name


def read_bundle(data: bytes, *, skip_directories: bool = False) -> dict[str, bytes]:
    """The files of a zip bundle, refusing links, absolute or parent paths and oversized content.
    `skip_directories`: leave out folder entries (a zip made by hand has them; ours never do)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise BundleError(f"not a zip file ({exc})") from None
    entries = archive.infolist()
    if len(entries) > MAX_FILES:
        raise BundleError(f"the bundle has {len(entries)} files, over the limit of {MAX_FILES}")
    if sum(e.file_size for e in entries) > MAX_BYTES:
        raise BundleError(f"the bundle's files exceed {MAX_BYTES // 2**20} MB")
    files: dict[str, bytes] = {}
    for entry in entries:
        if skip_directories and entry.is_dir() and entry.file_size == 0:
            _safe_name(entry.filename.rstrip("/"))
            continue
        name = _safe_name(entry.filename)
        if (entry.external_attr >> 16) & 0o170000 not in (0, 0o100000):  # symlinks, devices
            raise BundleError(f"bundle entry {name!r} is not a regular file")
        if name in files:
            raise BundleError(f"bundle entry {name!r} appears twice")
        files[name] = archive.read(entry)
    return files


def cached_path(digest: str, cache_dir: Path) -> Path | None:
    """The folder of an already materialised bundle, or None."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise BundleError(f"{digest[:80]!r} is not a bundle digest")
    target = cache_dir / digest
    return target if (target / COMPLETE_MARK).is_file() else None


def materialise(digest: str, data: bytes, cache_dir: Path) -> Path:
    """The bundle's files under `cache_dir/<digest>/`, written once (atomically: concurrent
    workers on one host may race) and checked against the digest. Returns that folder."""
    target = cached_path(digest, cache_dir)
    if target is not None:
        return target
    target = cache_dir / digest
    files = read_bundle(data)
    if manifest_digest(files) != digest:
        raise BundleError(f"the bundle's content does not match its digest {digest[:12]}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=cache_dir))
    try:
        for name, content in files.items():
            path = scratch / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        (scratch / COMPLETE_MARK).write_text(digest + "\n")
        try:
            os.rename(scratch, target)
        except OSError:  # another process materialised it first (or a stale partial folder is there)
            if not (target / COMPLETE_MARK).is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.rename(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def load_materialised(slug: str, root: Path) -> Exercise:
    """The exercise as its bundle defines it, from the materialised copy at `root`."""
    return load_exercise(slug, root / "exercises", repo_root=root)
