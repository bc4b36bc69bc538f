import os
import socket

import torch

interfaces = sorted(os.listdir("/sys/class/net"))
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect(("127.0.0.1", 9))  # loopback only: nothing listens inside the sandbox
    loopback = "connected"
except OSError as exc:
    loopback = type(exc).__name__
print("NET", interfaces, loopback)


def reparameterize(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
