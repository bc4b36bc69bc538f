"""Record and compare the grader's verdicts on every exercise's known cases.

A verdict is what a refactoring of checks must not change: for the solution and
every `right/` and `wrong/` case, the result's status and the names of the checks
that did not pass. `record` grades each case through the real sandbox (as
`python -m grader validate` does) and writes them as JSON; `compare` grades again
and lists every case whose verdict differs from a recorded file.

    .venv/bin/python scripts/verdicts.py record [SLUG ...] [--out tests/exercises/verdicts.json]
    .venv/bin/python scripts/verdicts.py compare [SLUG ...] [--against tests/exercises/verdicts.json]

`--messages FILE` also writes each failed check's student-facing output (to read a
change of wording side by side; never compared). Training exercises are graded at
`--profile` (default tiny), one training run per case.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.spec import list_exercises, load_exercise  # noqa: E402
from grader.validate import CaseReport, validate  # noqa: E402

VERDICTS = ROOT / "tests" / "exercises" / "verdicts.json"


def verdict(report: CaseReport) -> dict:
    return {"status": report.status, "failed": sorted(report.actual_failures)}


def grade_all(slugs: list[str], sandbox, profile: str) -> tuple[dict, dict]:
    """{slug: {case: verdict}} and {slug: {case: {check: output}}} of the failed checks."""
    verdicts: dict[str, dict] = {}
    messages: dict[str, dict] = {}
    for slug in slugs:
        exercise = load_exercise(slug)
        reports = validate(exercise, sandbox, profile if exercise.training else None)
        verdicts[slug] = {r.name: verdict(r) for r in reports}
        messages[slug] = {r.name: {t.name: t.output for t in r.result.tests if t.status != "passed"}
                          for r in reports}
        print(f"{slug}: {len(reports)} cases graded", file=sys.stderr)
    return verdicts, messages


def differences(recorded: dict, current: dict) -> list[str]:
    """One line per recorded case whose verdict changed or that is gone; unrecorded cases are not compared."""
    lines = []
    for slug, cases in current.items():
        before = recorded.get(slug, {})
        for case, was in before.items():
            now = cases.get(case)
            if now is None:
                lines.append(f"{slug} {case}: recorded but no longer graded")
            elif now != was:
                lines.append(f"{slug} {case}: was {was['status']} failing {was['failed']}, "
                             f"now {now['status']} failing {now['failed']}")
    return lines


def unrecorded(recorded: dict, current: dict) -> list[str]:
    return [f"{slug} {case}" for slug, cases in current.items() for case in cases if case not in recorded.get(slug, {})]


def _sandbox(runner: str, profile: str):
    from grader.cli import _sandbox as make

    return make(runner, profile)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("record", "compare"))
    parser.add_argument("slugs", nargs="*", help="exercises (default: all)")
    parser.add_argument("--out", type=Path, default=VERDICTS, help="record: the file to write (merged by slug)")
    parser.add_argument("--against", type=Path, default=VERDICTS, help="compare: the recorded file")
    parser.add_argument("--messages", type=Path, help="also write the failed checks' outputs here")
    parser.add_argument("--runner", choices=("docker", "subprocess"), default="docker")
    parser.add_argument("--profile", default="tiny", help="training profile of the training exercises")
    args = parser.parse_args(argv)
    slugs = args.slugs or list_exercises()
    current, messages = grade_all(slugs, _sandbox(args.runner, args.profile), args.profile)
    if args.messages:
        args.messages.write_text(json.dumps(messages, indent=1, sort_keys=True) + "\n")
    if args.mode == "record":
        merged = json.loads(args.out.read_text()) if args.out.exists() else {}
        merged.update(current)
        args.out.write_text(json.dumps(merged, indent=1, sort_keys=True) + "\n")
        print(f"recorded {sum(len(c) for c in current.values())} cases into {args.out}")
        return 0
    recorded = json.loads(args.against.read_text())
    for line in unrecorded(recorded, current):
        print(f"not recorded (not compared): {line}")
    changed = differences(recorded, current)
    for line in changed:
        print(f"CHANGED {line}")
    print("verdicts identical" if not changed else f"{len(changed)} verdict(s) differ")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
