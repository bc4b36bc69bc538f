"""The class-conditional DDPM that the sampler-race exercise samples from, and how it was trained.

    python -m reference_models.race_ddpm [--steps 8000] [--seed 0] [--out reference_models/weights]

A UNet noise predictor (reference_models/unet.py, `num_classes` = 10) trained on the
Fashion-MNIST training split with the simple loss of Ho et al. (2020) on the linear schedule
(T = 1000), its label replaced by the "no class" token with probability 0.1 so that the same
network also predicts the unconditional noise (classifier-free guidance, Ho & Salimans 2022).
The weights kept are an exponential moving average of the trained ones (decay 0.999), as in
Ho et al. Seeded; floating-point results differ across CPUs and thread counts, which is why the
weights are committed and pinned by their SHA-256 in the card beside them.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from reference_models.datasets import load_dataset
from reference_models.ddpm import alphas_cumprod, linear_beta_schedule, q_sample
from reference_models.unet import UNet, UNetConfig

WEIGHTS_DIR = Path(__file__).parent / "weights"
WEIGHTS = WEIGHTS_DIR / "race_ddpm.safetensors"
CARD = WEIGHTS_DIR / "race_ddpm.json"
CONFIG = UNetConfig(channels=1, width=16, channel_mult=(1, 2, 2), num_classes=10)
TIMESTEPS = 1000
LABEL_DROPOUT = 0.1
EMA_DECAY = 0.999


def weights_state(net: UNet) -> dict[str, torch.Tensor]:
    """What the weights file holds: the network's tensors under "unet." and the schedule's alpha_bar
    (float64), so that a sampler needs nothing else (and the race's program computes no schedule)."""
    state = {f"unet.{k}": v.detach().contiguous() for k, v in net.state_dict().items()}
    return {**state, "alphas_cumprod": alphas_cumprod(linear_beta_schedule(TIMESTEPS)).contiguous()}


def load_unet() -> UNet:
    """The reference network in eval mode on the CPU."""
    net = UNet(CONFIG)
    state = load_file(str(WEIGHTS))
    net.load_state_dict({k.removeprefix("unet."): v for k, v in state.items() if k.startswith("unet.")})
    return net.eval()


def train(steps: int, seed: int, batch_size: int = 64, lr: float = 1e-3) -> tuple[UNet, dict]:
    torch.manual_seed(seed)
    x, y = (torch.as_tensor(a) for a in load_dataset("fashion-mnist", "train"))
    x = x.unsqueeze(1).float() / 127.5 - 1.0  # (60000, 1, 28, 28) in [-1, 1]
    y = y.long()
    abar = alphas_cumprod(linear_beta_schedule(TIMESTEPS))
    net = UNet(CONFIG)
    ema = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / 200))  # warm-up
    g = torch.Generator().manual_seed(seed)
    start, losses = time.perf_counter(), []
    for step in range(steps):
        idx = torch.randint(len(x), (batch_size,), generator=g)
        labels = torch.where(torch.rand(batch_size, generator=g) < LABEL_DROPOUT, CONFIG.num_classes, y[idx])
        t = torch.randint(0, TIMESTEPS, (batch_size,), generator=g)
        noise = torch.randn(x[idx].shape, generator=g)
        loss = F.mse_loss(net(q_sample(x[idx], t, noise, abar), t, labels), noise)
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        with torch.no_grad():
            for p_ema, p in zip(ema.parameters(), net.parameters(), strict=True):
                p_ema.lerp_(p, 1 - EMA_DECAY)
        losses.append(loss.item())
        if (step + 1) % 500 == 0:
            print(f"step {step + 1}: loss {sum(losses[-500:]) / 500:.4f}", file=sys.stderr, flush=True)
    info = {
        "dataset": "fashion-mnist (Debian dataset-fashion-mnist, 60k train)",
        "config": dataclasses.asdict(CONFIG), "timesteps": TIMESTEPS, "schedule": "linear",
        "label_dropout": LABEL_DROPOUT, "ema_decay": EMA_DECAY, "steps": steps, "batch_size": batch_size,
        "lr": lr, "optimizer": "Adam, 200 warm-up steps", "seed": seed,
        "train_seconds": round(time.perf_counter() - start, 1), "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "final_loss": round(sum(losses[-500:]) / len(losses[-500:]), 4),
    }
    return ema.eval(), info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    args = parser.parse_args()
    net, info = train(args.steps, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    weights = args.out / WEIGHTS.name
    save_file(weights_state(net), str(weights))
    card = {"weights": weights.name, "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(), **info}
    (args.out / CARD.name).write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
