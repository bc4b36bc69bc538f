import math

import torch


def affine_coupling_forward(x, mask, net):
    s_raw, t = net(x * mask).chunk(2, dim=-1)
    s = torch.tanh(s_raw) * (1 - mask)  # bounded log-scale, 0 on the conditioning dims
    t = t * (1 - mask)
    y = x * torch.exp(s) + t
    return y, s.sum(dim=-1)


def affine_coupling_inverse(y, mask, net):
    s_raw, t = net(y * mask).chunk(2, dim=-1)  # y * mask == x * mask
    s = torch.tanh(s_raw) * (1 - mask)
    t = t * (1 - mask)
    return (y - t) * torch.exp(s)


def standard_normal_logprob(z):
    log_p = -0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)
    return log_p.reshape(z.shape[0], -1).sum(dim=1)


def bits_per_dim(log_px, num_dims, n_bins=256):
    nll = -log_px + num_dims * math.log(n_bins)  # nats of the discrete data (dequantisation bound)
    return nll / (num_dims * math.log(2))
