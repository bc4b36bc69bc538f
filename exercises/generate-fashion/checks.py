"""Checks of generate-fashion, the open exercise: whatever the model, training must finish
within the budget with finite logged losses, sampling must return N valid images, and the
images must not be copies of training images. The rest is the leaderboard's FID.

No `loss_decreases`: the exercise allows any model, and some (a GAN) have no loss that
measures progress; the loss curve still appears on the result page."""
from grader.training_checks import NotMemorised, SamplesValid, TrainingCompleted

CHECKS = [TrainingCompleted(), SamplesValid(), NotMemorised()]
