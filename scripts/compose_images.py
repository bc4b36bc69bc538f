"""Prepare what docker/compose.yaml builds from, offline: the two Debian bases (debootstrap from the
host's APT mirror), the platform's wheelhouse (pinned wheels from PyPI or the local torch wheel) and
the sandbox image the workers run student code in. Idempotent: nothing is rebuilt that is there.

    .venv/bin/python scripts/compose_images.py      (scripts/compose.sh build runs it)
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grader.image import BUILD_DIR, build_image, download_wheelhouse, ensure_debian_base  # noqa: E402
from grader.sandbox.docker_sandbox import docker_client  # noqa: E402

BASES = {  # tag: Debian packages
    "dgm-platform-base:bookworm": "python3,python3-pip,ca-certificates,dataset-fashion-mnist",
    "dgm-services-base:bookworm": "redis-server,redis-tools,postgresql,ca-certificates",
}


def main() -> None:
    client = docker_client(timeout=1800)
    for tag, packages in BASES.items():
        ensure_debian_base(client, tag=tag, packages=packages)
    download_wheelhouse(REPO / "docker" / "platform" / "requirements-worker.txt", BUILD_DIR / "wheelhouse-platform",
                        no_deps=True)
    for name in ("katex/dist", "@highlightjs/cdn-assets"):  # static assets the web image serves
        if not (BUILD_DIR / "npm" / "node_modules" / name).is_dir():
            raise SystemExit(f"build/npm/node_modules/{name} is missing: run `make assets` first")
    print(build_image("cpu"))  # dgm-sandbox-cpu:<hash>, also tagged :latest for DGM_SANDBOX_IMAGE


if __name__ == "__main__":
    main()
