"""Boolean indexing of the transformed dimensions on a copy, loops over the batch for the density."""
import math

import torch


def affine_coupling_forward(x, mask, net):
    free = mask == 0
    s_raw, t = torch.chunk(net(x * mask), 2, dim=1)
    s = torch.tanh(s_raw[:, free])
    y = x.clone()
    y[:, free] = x[:, free] * torch.exp(s) + t[:, free]
    return y, s.sum(dim=1)


def affine_coupling_inverse(y, mask, net):
    free = mask == 0
    s_raw, t = torch.chunk(net(y * mask), 2, dim=1)
    x = y.clone()
    x[:, free] = (y[:, free] - t[:, free]) * torch.exp(-torch.tanh(s_raw[:, free]))
    return x


def standard_normal_logprob(z):
    d = z[0].numel()
    rows = [-0.5 * torch.sum(zi * zi) - 0.5 * d * math.log(2 * math.pi) for zi in z]
    return torch.stack(rows)


def bits_per_dim(log_px, num_dims, n_bins=256):
    return (num_dims * torch.log2(torch.tensor(float(n_bins), dtype=torch.float64)).to(log_px.dtype)
            - log_px / math.log(2)) / num_dims
