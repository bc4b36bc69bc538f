"""Checks of ddpm-train: after the component checks it inherits from ddpm-schedule (run as
probes in the training sandbox, before training), the training checks of
grader/training_checks.py, judged from the training run, its samples and their scores."""
from grader.training_checks import LossDecreases, NotMemorised, SamplesValid, TrainingCompleted

CHECKS = [TrainingCompleted(), LossDecreases(), SamplesValid(), NotMemorised()]
