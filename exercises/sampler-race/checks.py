"""Checks of sampler-race: after the component checks it inherits from ddpm-sampler (run as
probes in the race's sandbox, before the race), the race's checks of grader/training_checks.py,
judged from the samples of every rung and the judge's FIDs."""
from grader.training_checks import NotMemorised, ReachesTarget, SamplesValid

CHECKS = [SamplesValid(), ReachesTarget(), NotMemorised()]
