"""A training exercise's kit for trying it locally: the public scaffold, the reference modules it
imports (`[training] support`), the starter as solution.py, the course's budgets and a runner.

Everything comes from the exercise version's stored bundle and only public files leave it: never the
solution, the checks or the labelled right/wrong cases."""
from __future__ import annotations

import io
import json
import tomllib
import zipfile
from pathlib import Path, PurePosixPath

from django.conf import settings

from catalog.models import ExerciseVersion
from grader.bundle import BundleError, read_bundle

RUNNER = Path(__file__).with_name("local_training") / "run_local.py"
_DATE = (1980, 1, 1, 0, 0, 0)


class KitUnavailable(Exception):
    """This version has no training kit (not a training exercise, or no stored bundle)."""


def _readme(slug: str, title: str, program: str | None, support: list[str], profile: str) -> str:
    files = "".join(f"- `{path}`: imported by `{program or 'solution.py'}`\n" for path in support)
    scaffold = (f"- `{program}`: the training program the grader runs with your solution.py (public; you do not "
                "submit it).\n" if program else "- your `solution.py` defines `train()` and `sample()` itself.\n")
    return f"""# {title}: train locally

- `solution.py`: the starter. Put your code here (the same file you submit).
{scaffold}{files}
- `budget.json`: the course's budgets per profile (steps, batch size, time, options).
- `run_local.py`: trains and samples as the sandboxes do, prints the loss, writes `samples.png`.

```sh
pip install torch
python run_local.py                      # synthetic images: checks that everything runs
python run_local.py --data train-images-idx3-ubyte.gz --profile {profile}   # Fashion-MNIST's training images
```

The grade, FID and the leaderboard come only from a submission of `solution.py` on the course site
(exercise `{slug}`), graded at profile `{profile}`.
"""


def training_kit_zip(*, version: ExerciseVersion) -> bytes:
    if not version.is_training or version.bundle_id is None:
        raise KitUnavailable("This exercise has no training program to run locally.")
    slug = version.exercise.slug
    try:
        files = read_bundle(bytes(version.bundle.data))
        spec = tomllib.loads(files[f"exercises/{slug}/exercise.toml"].decode())
    except (BundleError, KeyError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        raise KitUnavailable("This exercise's files could not be read; ask your instructor.") from None
    table = spec.get("training", {})
    program, support = table.get("program"), list(table.get("support", []))
    sampler = table.get("sampler", {})
    profiles = {name: {**{k: v for k, v in p.items() if k != "options"}, "options": {**sampler, **p.get("options", {})}}
                for name, p in table.get("profiles", {}).items()}
    default = settings.TRAINING_PROFILE if settings.TRAINING_PROFILE in profiles else next(iter(profiles), "")
    module = PurePosixPath(program).stem if program else "solution"  # no program: solution.py trains itself
    weights = table.get("race", {}).get("weights")  # a sampler race trains nothing: it samples these weights
    contents = {
        "solution.py": version.starter_py.encode(),
        "budget.json": json.dumps({"program": module, "default_profile": default, "profiles": profiles,
                                   **({"weights": PurePosixPath(weights).name} if weights else {})},
                                  indent=2).encode(),
        "run_local.py": RUNNER.read_bytes(),
        "README.md": _readme(slug, version.title, program, support, default).encode(),
    }
    if program:
        contents[program] = files[f"exercises/{slug}/{program}"]
    if weights:
        contents[PurePosixPath(weights).name] = files[weights]
    for rel in support:
        contents[rel] = files[rel]
        for parent in list(PurePosixPath(rel).parents)[:-1]:  # packages: reference_models/__init__.py
            contents.setdefault(f"{parent}/__init__.py", b"")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(contents):
            archive.writestr(zipfile.ZipInfo(f"{slug}-local/{name}", _DATE), contents[name])
    return buffer.getvalue()
