"""The program of sampler-race: YOUR ddim_step and classifier_free_guidance drive a fixed,
class-conditional DDPM (reference_models/unet.py; how it was trained: reference_models/race_ddpm.py).

This file is public and runs in the sandbox beside your solution.py; you do not submit it.
Nothing is trained. The judge calls `sample` once, with the race's weights and its seed; it
returns the images of every rung of the ladder `budget.options["rungs"]` (numbers of DDIM
steps), rung after rung, and the judge scores each rung's FID.

For each rung of `steps` steps: x starts as N(0, I) noise; on the timesteps of `timesteps(...)`,
from T - 1 down, x = your ddim_step(model, x, t, t_prev, alphas_cumprod, eta, noise), the last
step with t_prev = -1. `model(xt, t)` evaluates the network twice, with the images' class labels
and with the "no class" label, and returns your classifier_free_guidance(eps_cond, eps_uncond,
guidance_scale). Labels cycle through the 10 classes, so every class gets a tenth of the images.

Your module may set RACE, a dict with any of SETTINGS' keys, to choose how the race is run:
    RACE = {"guidance_scale": 2.0, "eta": 0.0, "spacing": "quadratic"}
"""
from __future__ import annotations

import solution as student
import torch

from reference_models.unet import UNet, UNetConfig

DEFAULTS = {"rungs": [1, 2, 4, 8, 16], "width": 16, "channel_mult": [1, 2, 2], "num_classes": 10,
            "sample_batch": 250}
SETTINGS = {"guidance_scale": 1.0, "eta": 0.0, "spacing": "uniform"}  # what RACE may choose
SPACINGS = ("uniform", "quadratic")
MAX_GUIDANCE = 10.0


def settings() -> dict:
    """SETTINGS overridden by the submission's RACE, validated."""
    chosen = getattr(student, "RACE", {})
    if not isinstance(chosen, dict) or set(chosen) - set(SETTINGS):
        raise ValueError(f"RACE must be a dict with some of the keys {sorted(SETTINGS)}; got {chosen!r}"[:300])
    out = {**SETTINGS, **chosen}
    scale, eta = out["guidance_scale"], out["eta"]
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 <= scale <= MAX_GUIDANCE:
        raise ValueError(f"RACE['guidance_scale'] must be a number from 0 to {MAX_GUIDANCE:g}, not {scale!r}"[:200])
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not 0 <= eta <= 1:
        raise ValueError(f"RACE['eta'] must be a number from 0 to 1, not {eta!r}"[:200])
    if out["spacing"] not in SPACINGS:
        raise ValueError(f"RACE['spacing'] must be one of {SPACINGS}, not {out['spacing']!r}"[:200])
    return {"guidance_scale": float(scale), "eta": float(eta), "spacing": out["spacing"]}


def timesteps(steps: int, T: int, spacing: str) -> list[int]:
    """The timesteps a `steps`-step sampler visits, increasing, always ending at T - 1 (pure noise).
    uniform: t_i = round((i + 1) T / steps) - 1 ("trailing" spacing, Lin et al. 2024);
    quadratic: t_i = round(((i + 1) / steps)^2 T) - 1, denser at low noise (Song et al. 2021, sec. D.2).
    Repeated values (quadratic, many steps) are dropped."""
    fractions = [(i + 1) / steps for i in range(steps)]
    if spacing == "quadratic":
        fractions = [f * f for f in fractions]
    return sorted({max(0, round(f * T) - 1) for f in fractions})


def _network(state: dict[str, torch.Tensor], o: dict, device: str) -> UNet:
    net = UNet(UNetConfig(channels=1, width=o["width"], channel_mult=tuple(o["channel_mult"]),
                          num_classes=o["num_classes"]))
    net.load_state_dict({k.removeprefix("unet."): v for k, v in state.items() if k.startswith("unet.")})
    return net.to(device).eval()


class Guided:
    """model(xt, t) for ddim_step: both predictions in one batch, combined by your guidance.
    `calls` counts the evaluations: a step is one evaluation."""

    def __init__(self, net: UNet, labels: torch.Tensor, no_class: int, scale: float):
        self.net, self.labels, self.no_class, self.scale, self.calls = net, labels, no_class, scale, 0

    def __call__(self, xt: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        m = len(xt)
        labels = torch.cat([self.labels, torch.full_like(self.labels, self.no_class)])
        eps = self.net(torch.cat([xt, xt]), torch.cat([t, t]), labels)
        return student.classifier_free_guidance(eps[:m], eps[m:], self.scale)


@torch.no_grad()
def _race_rung(net: UNet, abar: torch.Tensor, steps: int, n: int, generator: torch.Generator, o: dict,
               chosen: dict, device: str) -> torch.Tensor:
    """n images as uint8 (n, 28, 28) from a `steps`-step sampler; all noise from `generator` (CPU)."""
    ts = timesteps(steps, len(abar), chosen["spacing"])
    chunks = []
    for start in range(0, n, o["sample_batch"]):
        m = min(o["sample_batch"], n - start)
        labels = (torch.arange(start, start + m) % o["num_classes"]).to(device)
        model = Guided(net, labels, o["num_classes"], chosen["guidance_scale"])
        x = torch.randn((m, 1, 28, 28), generator=generator).to(device)
        for i in reversed(range(len(ts))):
            t = torch.full((m,), ts[i], dtype=torch.long, device=device)
            t_prev = torch.full((m,), ts[i - 1] if i > 0 else -1, dtype=torch.long, device=device)
            noise = torch.randn((m, 1, 28, 28), generator=generator).to(device) if chosen["eta"] > 0 else None
            before = model.calls
            x = student.ddim_step(model, x, t, t_prev, abar, eta=chosen["eta"], noise=noise)
            if model.calls != before + 1:
                raise RuntimeError(f"ddim_step called model {model.calls - before} times in one step; the race "
                                   "counts steps, and a step is one evaluation of the model")
            if not isinstance(x, torch.Tensor) or tuple(x.shape) != (m, 1, 28, 28) or x.dtype != torch.float32:
                got = f"shape {tuple(x.shape)}, {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
                raise ValueError(f"ddim_step returned {got} for x_t of shape {(m, 1, 28, 28)}, torch.float32 "
                                 "(alphas_cumprod is float64): it must keep x_t's shape and dtype")
        if not bool(torch.isfinite(x).all()):
            raise FloatingPointError(f"the {steps}-step sampler produced non-finite images")
        chunks.append(((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[:, 0].cpu())  # (m, 28, 28)
    return torch.cat(chunks)


def sample(state: dict[str, torch.Tensor], n: int, generator: torch.Generator, budget) -> torch.Tensor:
    """n images per rung, rung after rung: uint8 (len(rungs) * n, 28, 28)."""
    o = {**DEFAULTS, **budget.options}
    chosen = settings()
    net = _network(state, o, budget.device)
    abar = state["alphas_cumprod"].to(budget.device)
    images = []
    for steps in o["rungs"]:
        images.append(_race_rung(net, abar, int(steps), n, generator, o, chosen, budget.device))
    return torch.cat(images)

