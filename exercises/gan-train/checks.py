"""Checks of gan-train: after the component checks it inherits from gan-minimax (run as probes
in the training sandbox, before training), the training checks of grader/training_checks.py,
judged from the training run, its samples and their scores.

No `loss_decreases`: a GAN's losses measure the two players against each other, not the
quality of the samples. With a correct train_step the discriminator's loss falls at first
and may rise again as the generator catches up (over the 2,000 steps of a cpu-sized run the
mean d_loss of the last 20% was above that of the first 20%), so "the loss goes down" would
fail correct submissions."""
from grader.training_checks import NotMemorised, SamplesValid, TrainingCompleted

CHECKS = [TrainingCompleted(), SamplesValid(), NotMemorised()]
