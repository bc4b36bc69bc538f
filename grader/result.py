"""The result of one grading: one JSON schema for every result (DESIGN.md §5).

Close to Gradescope's results.json: score, max_score, status, execution_time,
tests[], leaderboard[], plus provenance for reproducible regrades, and for a
training exercise a `training` block (profile, loss curve, FID/KID, sample grid).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from .untrusted import pieces_in, resolve_plain

STATUSES = ("graded", "error", "timeout", "memory_limit", "infrastructure_error")


@dataclass
class TestResult:
    name: str
    title: str
    score: float
    max_score: float
    status: str
    output: str
    visibility: str = "visible"
    untrusted: dict = field(default_factory=dict)  # {token in output: {text, block}}: grader/untrusted.py

    def plain_output(self) -> str:
        """The output with the untrusted pieces put back as plain text (terminals, logs, tests)."""
        return resolve_plain(self.output, self.untrusted)


@dataclass
class Result:
    status: str
    score: float
    max_score: float
    execution_time: float
    output: str = ""
    tests: list[TestResult] = field(default_factory=list)
    leaderboard: list[dict] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)  # a training exercise's run: profile, losses, FID, samples
    untrusted: dict = field(default_factory=dict)  # {token in output: {text, block}}: what the submission printed

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    def plain_output(self) -> str:
        """The output with the untrusted pieces put back as plain text (terminals, logs, tests)."""
        return resolve_plain(self.output, self.untrusted)

    def with_untrusted(self, registry: dict[str, dict]) -> Result:
        """Attach to the output and to each test the untrusted pieces their tokens stand for."""
        self.untrusted = pieces_in(self.output, registry)
        for test in self.tests:
            test.untrusted = pieces_in(test.output, registry)
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict) -> Result:
        tests = [TestResult(**t) for t in data.get("tests", [])]
        return cls(**{**data, "tests": tests})

    def render_text(self) -> str:
        """Human-readable summary for the terminal."""
        lines = [f"{self.status.upper()}  {self.score:g} / {self.max_score:g}  ({self.execution_time:.2f} s)"]
        if self.output:
            lines += ["", self.plain_output().strip()]
        lines += render_training(self.training)
        for t in self.tests:
            mark = {"passed": "PASS", "failed": "FAIL", "error": "ERR "}[t.status]
            lines.append(f"\n[{mark}] {t.name}  {t.score:g}/{t.max_score:g}  — {t.title}")
            if t.status != "passed" and t.output:
                lines += ["    " + ln for ln in t.plain_output().strip().splitlines()]
        return "\n".join(lines)


def render_training(t: dict) -> list[str]:
    """A result's training block (or a baseline, which is one) as text lines."""
    if not t:
        return []

    def seconds(key: str) -> str:
        return f"{t[key]:.1f} s" if isinstance(t.get(key), (int, float)) else "-"

    likelihood = t.get("metric") == "bits_per_dim"
    race = t.get("race") if isinstance(t.get("race"), dict) else None
    if t.get("metric") == "steps_to_fid":
        lines = ["", f"Race (profile {t.get('profile')}, {t.get('device')}): {t.get('n_samples')} samples per rung "
                     f"in {seconds('sample_seconds')}"]
    else:
        lines = ["", f"Training (profile {t.get('profile')}, {t.get('device')}): {t.get('steps_done')} of "
                     f"{t.get('steps')} steps in {seconds('train_seconds')}; "
                     + (f"{t.get('n_samples')} test images scored" if likelihood else
                        f"{t.get('n_samples')} samples in {seconds('sample_seconds')}")]
    if race is not None:
        curve = "; ".join(f"{r['steps']}: {r['fid']:.1f}" if r["fid"] is not None else f"{r['steps']}: -"
                          for r in race["rungs"])
        steps = f"{t['fid']:.2f}" if isinstance(t.get("fid"), float) else "not reached"
        lines.append(f"{t['fid_label']}: {steps}   (FID by steps: {curve})")
    elif likelihood and isinstance(t.get("fid"), float):
        low, high = t.get("fid_interval") or (None, None)
        lines.append(f"{t['fid_label']}: {t['fid']:.4f}" + (f" (95 % interval {low:.4f} to {high:.4f})" if low else ""))
    elif "fid" in t and not likelihood:
        lines.append(f"{t['fid_label']}: {t['fid']:.2f}   KID: {t['kid']:.4f} ± {t['kid_std']:.4f}")
    if "memorisation" in t:
        m = t["memorisation"]
        lines.append(f"Memorisation: {m.get('share', 0):.1%} of samples are near-copies of dataset images "
                     f"(allowed {m.get('allowed_share', 0):.0%})" + (" - FLAGGED" if m.get("flagged") else ""))
    return lines
