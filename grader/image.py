"""Building the sandbox image offline, and only when its inputs change.

Inputs: the Dockerfile, the pinned requirements, the harness sources and the
base image. Their hash is the image tag, so an unchanged tree never rebuilds.
Base: $DGM_BASE_IMAGE if the operator names one (e.g. python:3.11-slim where a
registry answers), else a Debian bookworm image made here with debootstrap
from the host's own APT mirror and `docker import`.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from .sandbox.docker_sandbox import docker_client
from .spec import REPO_ROOT

DOCKER_DIR = REPO_ROOT / "docker" / "sandbox"
HARNESS_DIR = REPO_ROOT / "grader" / "harness"
BUILD_DIR = Path(os.environ.get("DGM_BUILD_DIR", REPO_ROOT / "build"))
DEBIAN_BASE = "dgm-base:bookworm"
DEBIAN_PACKAGES = "python3,python3-pip,ca-certificates"
VARIANTS = ("cpu", "cuda")


def base_image() -> str:
    return os.environ.get("DGM_BASE_IMAGE", DEBIAN_BASE)


def _inputs(variant: str) -> list[Path]:
    return [DOCKER_DIR / "Dockerfile", DOCKER_DIR / f"requirements-{variant}.txt",
            *sorted(p for p in HARNESS_DIR.glob("*.py"))]


def image_tag(variant: str = "cpu") -> str:
    digest = hashlib.sha256(base_image().encode())
    for path in _inputs(variant):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"dgm-sandbox-{variant}:{digest.hexdigest()[:12]}"


def apt_mirror() -> str:
    """The Debian mirror this host's APT already uses (deb822 or one-line format)."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for match in re.finditer(r"^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)", text, re.MULTILINE):
            uri = match.group(1)
            if "security" not in uri and uri.startswith(("http://", "https://", "file:")):
                return uri
    raise RuntimeError("no Debian mirror found in /etc/apt sources; set DGM_BASE_IMAGE to a pulled python:3.11 image")


def ensure_debian_base(client, log=print, *, tag: str = DEBIAN_BASE, packages: str = DEBIAN_PACKAGES) -> None:
    """A Debian bookworm image `tag` with `packages` (comma-separated), made with debootstrap from the
    host's APT mirror and `docker import`, unless it exists. Also the base of the platform's images."""
    if client.images.list(name=tag):
        return
    if not shutil.which("debootstrap"):
        raise RuntimeError("debootstrap is missing: apt-get install debootstrap")
    with tempfile.TemporaryDirectory(prefix="dgm-rootfs-") as root:
        log(f"debootstrap bookworm ({packages}) into {root} ...")
        subprocess.run(["debootstrap", "--variant=minbase", f"--include={packages}", "bookworm", root,
                        apt_mirror()], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", f"{root}/var/cache/apt/archives", f"{root}/var/lib/apt/lists"], check=True)
        log(f"docker import {tag} ...")
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        repository, _, version = tag.partition(":")
        client.api.import_image_from_stream(tar.stdout, repository=repository, tag=version or "latest")
        tar.wait()


def _requirements_text(path: Path) -> bytes:
    """The requirements file with the files it includes (`-r other.txt`) inlined: what the wheels depend on."""
    lines = []
    for line in path.read_text().splitlines():
        included = re.match(r"\s*-r\s+(\S+)", line)
        lines.append(_requirements_text(path.parent / included.group(1)).decode() if included else line)
    return "\n".join(lines).encode()


def download_wheelhouse(requirements: Path, folder: Path, *, no_deps: bool, log=print) -> Path:
    """The wheels of `requirements` (pinned) in `folder`, downloaded again only when the requirements changed."""
    stamp = folder / f".{requirements.name}"
    wanted = _requirements_text(requirements)
    if stamp.is_file() and stamp.read_bytes() == wanted:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    log(f"downloading wheels for {requirements.name} ...")
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                    *(["--no-deps"] if no_deps else []), "-r", str(requirements), "-d", str(folder)], check=True)
    stamp.write_bytes(wanted)
    return folder


def ensure_wheelhouse(variant: str, log=print) -> Path:
    return download_wheelhouse(DOCKER_DIR / f"requirements-{variant}.txt", BUILD_DIR / f"wheelhouse-{variant}",
                               no_deps=variant == "cpu", log=log)


def build_context(variant: str, wheelhouse: Path) -> bytes:
    """The build context as a tar stream: Dockerfile, wheelhouse, harness."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(DOCKER_DIR / "Dockerfile", arcname="Dockerfile")
        for wheel in sorted(wheelhouse.glob("*.whl")):
            tar.add(wheel, arcname=f"wheelhouse/{wheel.name}")
        tar.add(DOCKER_DIR / f"requirements-{variant}.txt", arcname="wheelhouse/requirements.txt")
        for source in sorted(HARNESS_DIR.glob("*.py")):
            tar.add(source, arcname=f"dgm_harness/{source.name}")
    return buffer.getvalue()


def build_image(variant: str = "cpu", *, force: bool = False, log=print) -> str:
    if variant not in VARIANTS:
        raise ValueError(f"unknown image variant {variant!r}")
    client = docker_client(timeout=1800)
    tag = image_tag(variant)
    if not force and client.images.list(name=tag):
        client.images.get(tag).tag(f"dgm-sandbox-{variant}", "latest")  # :latest is this tree's, even if cached
        log(f"{tag} is up to date")
        return tag
    if base_image() == DEBIAN_BASE:
        ensure_debian_base(client, log)
    context = build_context(variant, ensure_wheelhouse(variant, log))
    log(f"building {tag} from {base_image()} ({len(context) / 1e6:.0f} MB context, no network) ...")
    buildargs = {"BASE": base_image(), "PIP_FLAGS": "--no-deps" if variant == "cpu" else ""}
    client.images.build(fileobj=io.BytesIO(context), custom_context=True, tag=tag, network_mode="none",
                        buildargs=buildargs, rm=True, forcerm=True)
    client.images.get(tag).tag(f"dgm-sandbox-{variant}", "latest")
    log(f"built {tag}")
    return tag
