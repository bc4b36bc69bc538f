"""Train and sample on your own machine, as the grader's sandboxes do (a sketch of them, not the grader).

    pip install torch          # the version the course uses is in README.md
    python run_local.py                          # synthetic images: checks that everything runs
    python run_local.py --data train-images-idx3-ubyte.gz --profile cpu   # Fashion-MNIST's training file

It calls the training program's train(images, budget) (scaffold.py, with your solution.py beside it), then
sample(state, n, generator, budget), prints the loss as budget.log records it, and writes the samples to
samples.png. A sampler race trains nothing: its program samples the race's weights. The budgets
(steps, batch size, time, options) are the course's, from budget.json. The grade comes only from a
submission: FID and the checks run on the platform.
"""
from __future__ import annotations

import argparse
import gzip
import importlib
import json
import math
import struct
import sys
import time
import zlib
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent


class Budget:
    """What train() and sample() may spend, as in the sandbox: steps, batch size, seed, device,
    options, a wall clock, and log() for the loss curve."""

    def __init__(self, profile: dict, seconds: float, seed: int, device: str):
        self.steps, self.batch_size = int(profile["steps"]), int(profile["batch_size"])
        self.seed, self.device, self.seconds = seed, device, float(seconds)
        self.options = dict(profile.get("options", {}))
        self.rows: list[dict] = []
        self._started = time.monotonic()

    def time_left(self) -> float:
        return self.seconds - (time.monotonic() - self._started)

    def log(self, step: int, **values: float) -> None:
        self.rows.append({"step": int(step), **{k: float(v) for k, v in values.items()}})
        if len(self.rows) == 1 or step % 100 == 0:
            print(f"step {step}: " + ", ".join(f"{k} {float(v):.4g}" for k, v in values.items()), flush=True)

    def should_stop(self, step: int) -> bool:
        return step >= self.steps or self.time_left() < 0.1 * self.seconds


def read_idx_images(path: Path) -> torch.Tensor:
    """A (N, 28, 28) uint8 tensor from an IDX image file (gzipped or not), as Fashion-MNIST ships."""
    raw = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != 2051:
        sys.exit(f"{path} is not an IDX image file (magic {magic})")
    return torch.frombuffer(bytearray(raw[16:16 + n * rows * cols]), dtype=torch.uint8).view(n, rows, cols)


def synthetic_images(n: int = 2048, seed: int = 0) -> torch.Tensor:
    """Blurry blobs in [0, 255]: enough to see that training runs and the loss goes down."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 7, 7, generator=g)
    x = torch.nn.functional.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
    return (x.squeeze(1) * 255).round().to(torch.uint8)


def write_png(images: torch.Tensor, path: Path) -> None:
    """A grid of (N, 1, H, W) images in [-1, 1] or [0, 1] as a grayscale PNG (no extra library)."""
    x = images.detach().float().cpu()
    x = (x + 1) / 2 if x.min() < 0 else x
    x = x.clamp(0, 1).reshape(-1, x.shape[-2], x.shape[-1])[:64]
    side = math.ceil(math.sqrt(len(x)))
    h, w = x.shape[1:]
    grid = torch.zeros(side * h, side * w)
    for i, img in enumerate(x):
        grid[(i // side) * h:(i // side + 1) * h, (i % side) * w:(i % side + 1) * w] = img
    pixels = (grid * 255).round().to(torch.uint8)
    rows = b"".join(b"\x00" + bytes(row.tolist()) for row in pixels)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", pixels.shape[1], pixels.shape[0], 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
                     + chunk(b"IEND", b""))


def main() -> int:
    settings = json.loads((HERE / "budget.json").read_text())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="an IDX image file (Fashion-MNIST train-images-idx3-ubyte.gz)")
    parser.add_argument("--profile", default=settings["default_profile"], choices=sorted(settings["profiles"]))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    profile = settings["profiles"][args.profile]
    sys.path.insert(0, str(HERE))
    scaffold = importlib.import_module(settings["program"])  # the training program; it imports your solution.py

    if settings.get("weights"):  # a sampler race: nothing to train, the program samples these weights
        from safetensors.torch import load_file

        state = load_file(str(HERE / settings["weights"]))
        print(f"sampling the fixed weights {settings['weights']} ({len(state)} tensors)", flush=True)
    else:
        images = read_idx_images(args.data) if args.data else synthetic_images(seed=args.seed)
        print(f"training on {len(images)} images, profile {args.profile}: {profile['steps']} steps of "
              f"{profile['batch_size']}, at most {profile['train_time_s']:g} s", flush=True)
        torch.manual_seed(args.seed)
        started = time.monotonic()
        state = scaffold.train(images, Budget(profile, profile["train_time_s"], args.seed, args.device))
        print(f"trained in {time.monotonic() - started:.1f} s; the checkpoint has {len(state)} tensors", flush=True)
    generator = torch.Generator().manual_seed(args.seed + 1)
    samples = scaffold.sample(state, 64, generator, Budget(profile, profile["sample_time_s"], args.seed,
                                                            args.device))
    print(f"samples: shape {tuple(samples.shape)}, {samples.dtype}, from {float(samples.min()):.3g} "
          f"to {float(samples.max()):.3g}")
    if settings.get("weights"):  # a race returns every rung's images, rung after rung: show the last rung's
        samples = samples[-64:]
    write_png(samples, HERE / "samples.png")
    print(f"wrote {HERE / 'samples.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
