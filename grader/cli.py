"""`python -m grader`: list, grade, validate, baseline, notebook, build-image, reap."""
from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from .judge import DEFAULT_SEED, grade
from .sandbox import SandboxUnavailable
from .spec import DEFAULT_PROFILE, GPU_PROFILE, SpecError, list_exercises, load_exercise


def _sandbox(kind: str, profile: str | None = None):
    """The sandbox to grade in; the "gpu" training profile needs the CUDA image."""
    if kind == "subprocess":
        from .sandbox.local import TrustedSubprocessRunner

        return TrustedSubprocessRunner()
    from .image import image_tag
    from .sandbox.docker_sandbox import DockerSandbox, docker_client

    variant = "cuda" if profile == GPU_PROFILE else "cpu"
    try:
        return DockerSandbox(image_tag(variant), docker_client())
    except SandboxUnavailable as exc:
        return _Unavailable(str(exc))


class _Unavailable:
    """Stands in for a sandbox that could not be reached, so `grade` still returns a result."""

    name = "docker"

    def __init__(self, reason: str):
        self.reason = reason

    def run(self, job, limits, **_):
        from .sandbox import SandboxUnavailable

        raise SandboxUnavailable(self.reason)


def cmd_list(args) -> int:
    for slug in list_exercises():
        ex = load_exercise(slug)
        kind = "training" if ex.training else "function"
        print(f"{slug:16} {ex.max_score:5g} pts  {len(ex.checks):2} checks  {kind:8}  {ex.title}")
        print(f"{'':16} writes: {', '.join(ex.functions)}")
    return 0


def cmd_grade(args) -> int:
    exercise = load_exercise(args.exercise)
    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    result = grade(exercise, path.name, path.read_bytes(), sandbox=_sandbox("docker", args.profile), seed=args.seed,
                   profile=args.profile)
    print(result.to_json(indent=2) if args.json else result.render_text())
    return 0


def cmd_validate(args) -> int:
    from .validate import validate

    slugs = list_exercises() if args.exercise == "all" else [args.exercise]
    sandbox = _sandbox(args.runner, args.profile)
    all_ok = True
    for slug in slugs:
        exercise = load_exercise(slug)
        print(f"== {slug} (version {exercise.version}, {exercise.max_score:g} points)")
        for report in validate(exercise, sandbox, args.profile):
            mark = "ok  " if report.ok else "FAIL"
            print(f"  [{mark}] {report.name:28} status={report.status:10} "
                  f"score={report.result.score:g}/{report.result.max_score:g}")
            if not report.ok:
                all_ok = False
                missing = sorted(set(report.expected_failures) - set(report.actual_failures))
                extra = sorted(set(report.actual_failures) - set(report.expected_failures))
                if missing:
                    print(f"         should have failed: {', '.join(missing)}")
                for name in extra:
                    test = next(t for t in report.result.tests if t.name == name)
                    print(f"         unexpectedly failed: {name}: {test.output[:400]}")
                if report.status == "infrastructure_error":
                    print(f"         {report.result.output}")
    print("validation passed" if all_ok else "validation FAILED")
    return 0 if all_ok else 1


def cmd_baseline(args) -> int:
    from .baselines import BaselineError, compute_baseline
    from .result import render_training

    try:
        baseline = compute_baseline(load_exercise(args.exercise), args.profile, _sandbox("docker", args.profile))
    except BaselineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(baseline, indent=2))
        return 0
    print(f"{baseline['label']} of {args.exercise} (version {baseline['exercise_version']})")
    print("\n".join(render_training(baseline)).strip())
    return 0


def cmd_notebook(args) -> int:
    from .notebook import write_notebook

    for slug in list_exercises() if args.exercise == "all" else [args.exercise]:
        print(write_notebook(load_exercise(slug)))
    return 0


def cmd_build_image(args) -> int:
    from .image import build_image

    build_image(args.variant, force=args.force)
    return 0


def cmd_reap(args) -> int:
    from .sandbox.docker_sandbox import docker_client, reap_stale

    print(f"removed {reap_stale(docker_client(), args.older_than)} stale sandbox container(s)")
    return 0


PROFILE_HELP = f"training profile of a training exercise (default: {DEFAULT_PROFILE})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description="Grade deep-generative-model exercises.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the exercises").set_defaults(func=cmd_list)
    p = sub.add_parser("grade", help="grade one submission in the Docker sandbox")
    p.add_argument("exercise")
    p.add_argument("file", help="the submission: .py or .ipynb")
    p.add_argument("--json", action="store_true", help="print the result JSON")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--profile", default=DEFAULT_PROFILE, help=PROFILE_HELP)
    p.set_defaults(func=cmd_grade)
    p = sub.add_parser("validate", help="check an exercise's solution and known-wrong solutions")
    p.add_argument("exercise", help="a slug, or 'all'")
    p.add_argument("--runner", choices=("docker", "subprocess"), default="docker",
                   help="subprocess runs the instructor's own files without isolation (faster; trusted code only)")
    p.add_argument("--profile", default=DEFAULT_PROFILE, help=PROFILE_HELP)
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("baseline", help="train, sample and score a training exercise's reference solution")
    p.add_argument("exercise")
    p.add_argument("--profile", default=DEFAULT_PROFILE, help=PROFILE_HELP)
    p.add_argument("--json", action="store_true", help="print the baseline as JSON")
    p.set_defaults(func=cmd_baseline)
    p = sub.add_parser("notebook", help="generate starter.ipynb from starter.py")
    p.add_argument("exercise", help="a slug, or 'all'")
    p.set_defaults(func=cmd_notebook)
    p = sub.add_parser("build-image", help="build the sandbox image (offline; skipped if up to date)")
    p.add_argument("--variant", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_build_image)
    p = sub.add_parser("reap", help="remove sandbox containers left behind by killed workers")
    p.add_argument("--older-than", type=float, default=None,
                   help="also remove any sandbox container older than this many seconds (workers on other hosts)")
    p.set_defaults(func=cmd_reap)
    return parser


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run `finally` blocks: containers get removed
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SandboxUnavailable as exc:  # e.g. `reap` with the engine stopped: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
