"""Checks of pixelcnn-train: after the component checks it inherits from pixelcnn-mask (run as
probes in the training sandbox, before training), the training checks of
grader/training_checks.py, judged from the training run and the judge's bits/dim."""
from grader.training_checks import BitsPerDimScored, LossDecreases, TrainingCompleted

CHECKS = [TrainingCompleted(), LossDecreases(), BitsPerDimScored()]
