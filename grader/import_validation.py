"""Runs inside a sandbox container (grader/exercise_import.py starts it): validates the uploaded
exercise under /tmp/v/exercises/<slug> with the trusted subprocess runner, which is safe here
because the whole container is the sandbox, and prints one line of JSON: the spec's title,
version and points and each case's verdict. The judge reads that line as untrusted output."""
from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

ROOT = Path("/tmp/v")


def report(slug: str) -> dict:
    from grader.sandbox.local import TrustedSubprocessRunner
    from grader.spec import SpecError, load_exercise
    from grader.validate import validate

    try:
        exercise = load_exercise(slug, ROOT / "exercises", repo_root=ROOT)
    except SpecError as exc:
        return {"error": f"The exercise does not load: {exc}"}
    if exercise.training is not None:
        return {"error": "Training exercises cannot be imported from the web."}
    cases = []
    for r in validate(exercise, TrustedSubprocessRunner()):
        cases.append({"name": r.name, "expected": sorted(r.expected_failures), "failed": sorted(r.actual_failures),
                      "status": r.status, "score": r.result.score, "max_score": r.result.max_score,
                      "messages": {t.name: t.output[:2000] for t in r.result.tests if t.status != "passed"}})
    return {"title": exercise.title, "version": exercise.version, "max_score": exercise.max_score, "cases": cases}


def main() -> None:
    try:
        out = report((ROOT / "UPLOADED").read_text())
    except Exception:  # the upload's own code failed while loading or validating: its traceback is the report
        out = {"error": "The validation crashed: " + traceback.format_exc(limit=8)[-1800:]}
    sys.stdout.write("\n" + json.dumps(out) + "\n")
