import sys

import torch

for _ in range(5_000):  # about 500 MB of output, then a correct solution
    sys.stdout.write("spam " * 20_000 + "\n")


def reparameterize(mu, logvar):
    print("called", file=sys.stderr)
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
