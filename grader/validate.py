"""Proving an exercise sound: the reference solution and every correct variant in
right/ get full marks, and each known-wrong solution fails exactly the checks
it is labelled with."""
from __future__ import annotations

from dataclasses import dataclass

from .judge import grade
from .result import Result
from .sandbox import Sandbox
from .spec import Exercise


@dataclass
class CaseReport:
    name: str
    expected_failures: tuple[str, ...]
    actual_failures: tuple[str, ...]
    status: str
    result: Result

    @property
    def ok(self) -> bool:
        return self.status != "infrastructure_error" and set(self.expected_failures) == set(self.actual_failures)


def validate(exercise: Exercise, sandbox: Sandbox, profile: str | None = None) -> list[CaseReport]:
    """`profile`: the training profile a training exercise is validated under (default as in grade)."""
    reports = []
    cases = [("solution", exercise.solution())]
    cases += [(f"right/{c.name}", c) for c in exercise.right_cases()]
    cases += [(f"wrong/{c.name}", c) for c in exercise.wrong_cases()]
    for name, case in cases:
        result = grade(exercise, case.path.name, case.source().encode(), sandbox=sandbox, profile=profile)
        failed = tuple(t.name for t in result.tests if t.status != "passed")
        reports.append(CaseReport(name, case.fails, failed, result.status, result))
    return reports
