import os
import subprocess
import time

import torch

subprocess.Popen(["sleep", "10000"])  # an orphan that should not outlive the grading
if os.fork() == 0:
    while True:
        time.sleep(1)


def reparameterize(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
