"""Checks of vae-train: the component checks of vae-elbo and of vae-reparam, run as probes
in the training sandbox before training, then the training checks of grader/training_checks.py
judged from the training run, its samples and their scores.

Both core exercises have a check `inputs_unchanged` and a probe `gradients`, so the checks
of vae-reparam are renamed `reparam_<name>` and plan their probes under `reparam_<id>`
(`Renamed`); what they test and how is unchanged."""
from __future__ import annotations

from grader.checks import Check
from grader.probes import Call
from grader.training_checks import LossDecreases, NotMemorised, SamplesValid, TrainingCompleted, core_checks


class _PrefixedPlanner:
    """A Planner whose probe ids and shared keys get a prefix; ids handed back stay unprefixed."""

    def __init__(self, planner, prefix: str):
        self._planner, self._prefix = planner, prefix

    def __getattr__(self, name):
        return getattr(self._planner, name)

    def probe(self, probe_id, calls, objects=None):
        self._planner.probe(self._prefix + probe_id, calls, objects)
        return probe_id

    def call(self, probe_id, fn, *args, **kwargs):
        return self.probe(probe_id, [Call(fn=fn, args=args, kwargs=kwargs)])

    def shared(self, key, build):
        return self._planner.shared(self._prefix + key, lambda _: build(self))


class _PrefixedRun:
    """A Run read through the same prefix."""

    def __init__(self, run, prefix: str):
        self._run, self._prefix = run, prefix

    def __getattr__(self, name):
        return getattr(self._run, name)

    def call(self, probe_id, index=0, **kwargs):
        return self._run.call(self._prefix + probe_id, index, **kwargs)


class Renamed(Check):
    """Another exercise's check under the name prefix + name, its probes under prefix + id."""

    def __init__(self, check: Check, prefix: str):
        self.check, self.prefix = check, prefix
        self.name, self.title = prefix + check.name, check.title

    def plan(self, p):
        return self.check.plan(_PrefixedPlanner(p, self.prefix))

    def judge(self, run, planned):
        return self.check.judge(_PrefixedRun(run, self.prefix), planned)


CHECKS = [*core_checks("vae-elbo"), *(Renamed(c, "reparam_") for c in core_checks("vae-reparam")),
          TrainingCompleted(), LossDecreases(), SamplesValid(), NotMemorised()]
