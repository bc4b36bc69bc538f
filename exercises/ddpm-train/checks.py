"""Checks of ddpm-train: the component checks of ddpm-schedule (run as probes in the
training sandbox, before training), then the training checks of grader/training_checks.py
judged from the training run, its samples and their scores."""
from grader.training_checks import LossDecreases, NotMemorised, SamplesValid, TrainingCompleted, core_checks

CHECKS = [*core_checks("ddpm-schedule"), TrainingCompleted(), LossDecreases(), SamplesValid(), NotMemorised()]
