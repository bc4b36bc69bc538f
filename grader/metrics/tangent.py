"""A deformation-invariant image distance for the memorisation check: tangent distance
(Simard, LeCun & Denker 1993) with a smooth displacement field, iterated like Gauss-Newton
image registration (Lucas & Kanade 1981).

For a sample s and a reference r, both blurred and standardised (zero mean, unit L2 norm,
so brightness and contrast do not matter), the distance is the least-squares residual
    min_u || z(s) - z(r o (p + u)) ||,  u(p) = sum_k a_k phi_k(p),
with phi_k bilinear hat functions on a GRID x GRID lattice (they span affine maps, so
shifts, small rotations and scalings, and smooth elastic warps too). Each step linearises
r around the current warp (tangent vectors phi_k * grad r), solves the small normal
equations for every pair at once, and resamples r (bilinear); blur shrinks from 2 to 1 px
over the steps. Only a few candidate references per sample are compared (see leaderboard.py).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from grader.metrics.disguise import _gaussian_blur

GRID = 3  # hat functions per axis: 2 * GRID**2 displacement coefficients per pair
SIGMAS = (2.0, 1.0, 1.0)  # px: the blur of each Gauss-Newton step
RIDGE = 1e-3  # Tikhonov term, relative to the mean diagonal of the normal equations


def _hats(h: int, w: int, g: int = GRID) -> torch.Tensor:
    """(g*g, h*w): bilinear hat functions centred on a g x g lattice spanning the image."""
    def axis(n: int) -> torch.Tensor:
        centres, step = torch.linspace(0, n - 1, g), (n - 1) / (g - 1)
        return (1 - (torch.arange(n, dtype=torch.float32)[None] - centres[:, None]).abs() / step).clamp_min(0)
    return (axis(h)[:, None, :, None] * axis(w)[None, :, None, :]).reshape(g * g, h * w)


def _standardised(x: torch.Tensor) -> torch.Tensor:
    flat = x.flatten(1)
    flat = flat - flat.mean(1, keepdim=True)
    return flat / flat.norm(dim=1, keepdim=True).clamp_min(1e-6)


def _gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Central differences of (P, H, W) along rows and columns, zero on the border; flattened."""
    gy, gx = torch.zeros_like(x), torch.zeros_like(x)
    gy[:, 1:-1] = (x[:, 2:] - x[:, :-2]) / 2
    gx[:, :, 1:-1] = (x[:, :, 2:] - x[:, :, :-2]) / 2
    return gy.flatten(1), gx.flatten(1)


def _blocks(gy2: torch.Tensor, gyx: torch.Tensor, gx2: torch.Tensor, b_: int) -> torch.Tensor:
    """[[yy, yx], [yx, xx]] of (P, B*B) blocks as (P, 2B, 2B)."""
    top = torch.cat([gy2.view(-1, b_, b_), gyx.view(-1, b_, b_)], 2)
    bottom = torch.cat([gyx.view(-1, b_, b_).transpose(1, 2), gx2.view(-1, b_, b_)], 2)
    return torch.cat([top, bottom], 1)


def pair_distances(samples: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """Tangent distances of float (P, H, W) samples to (P, H, W) references, pair by pair: (P,) in [0, 2]."""
    p, h, w = samples.shape
    phi = _hats(h, w)
    phi2 = (phi[:, None] * phi[None]).reshape(-1, h * w)
    b_ = phi.shape[0]
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    uy = ux = torch.zeros(p, h * w)
    r4 = references[:, None]
    dist = torch.full((p,), 2.0)
    with torch.no_grad():
        for sigma in SIGMAS:
            grid = torch.stack([(xx + ux.view(p, h, w)) * 2 / (w - 1) - 1,
                                (yy + uy.view(p, h, w)) * 2 / (h - 1) - 1], -1)
            moved = F.grid_sample(r4, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
            s = _standardised(_gaussian_blur(samples[:, None], sigma)).view(p, h, w)
            r = _standardised(_gaussian_blur(moved, sigma)).view(p, h, w)
            gy, gx = _gradients(r)
            e = (s - r).flatten(1)
            a = _blocks((gy * gy) @ phi2.T, (gy * gx) @ phi2.T, (gx * gx) @ phi2.T, b_)
            rhs = torch.cat([(gy * e) @ phi.T, (gx * e) @ phi.T], 1)
            a = a + RIDGE * a.diagonal(dim1=1, dim2=2).mean(1).clamp_min(1e-12)[:, None, None] * torch.eye(2 * b_)
            coef = torch.linalg.solve(a, rhs[:, :, None])[:, :, 0]
            dy, dx = coef[:, :b_] @ phi, coef[:, b_:] @ phi
            dist = (e - gy * dy - gx * dx).norm(dim=1)
            uy, ux = uy + dy, ux + dx
    return dist


def tangent_distances(samples_uint8: np.ndarray, references_uint8: np.ndarray, candidates: np.ndarray,
                      batch_size: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Each sample's smallest tangent distance over its candidate references (int (N, C) indices
    into `references_uint8`): (distances float32 (N,), the chosen reference indices int64 (N,))."""
    n, c = candidates.shape
    s = torch.from_numpy(np.ascontiguousarray(samples_uint8)).float().div_(255.0)
    flat = torch.from_numpy(np.ascontiguousarray(candidates)).long().reshape(-1)
    out = []
    for start in range(0, n * c, batch_size):
        pairs = torch.arange(start, min(start + batch_size, n * c))
        refs = torch.from_numpy(references_uint8[flat[pairs].numpy()]).float().div_(255.0)
        out.append(pair_distances(s[pairs // c], refs))
    d = torch.cat(out).view(n, c)
    best = d.argmin(1)
    return d.gather(1, best[:, None])[:, 0].numpy(), flat.view(n, c).gather(1, best[:, None])[:, 0].numpy()
