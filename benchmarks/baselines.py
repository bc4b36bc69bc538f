"""Write docs/baselines.md: FID (Fashion-MNIST features) floors, corrupted-data
references, and every reference generative model trained on a small CPU budget.

    python -m benchmarks.baselines [--out docs/baselines.md] [--runs var/baselines]

Models are trained with the same command a user runs
(`python -m reference_models train ...`); FID is biased in the number of samples
N, so each model is compared with the train-vs-test floor at the same N.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from grader.metrics import fashion_extractor, score_samples
from grader.metrics.degrade import gaussian_blur, gaussian_noise
from reference_models.__main__ import main as reference_models_cli
from reference_models.artifacts import load_model
from reference_models.datasets import load_dataset


@dataclass(frozen=True)
class Budget:
    steps: int
    batch_size: int
    overrides: tuple[str, ...] = ()  # config overrides, as for --set
    sampler: str | None = None  # how samples are drawn; None for likelihood-only rows
    sample_kwargs: dict = field(default_factory=dict)
    grid: int = 64  # samples in the training run's samples.png


BUDGETS = {
    "vae": Budget(1000, 128, sampler="decoder mean of z ~ N(0, I)"),
    "dcgan": Budget(600, 64, sampler="generator, z ~ N(0, I)"),
    # DDPM needs far more steps than the others before its samples leave the blob stage (FID 588 after
    # 800 steps, 115 after 7,000): this budget takes about 30 minutes on one CPU core.
    "ddpm": Budget(7000, 64, ("width=16",), "DDIM, 50 steps, eta 0", {"sampler": "ddim", "steps": 50}, grid=36),
    "realnvp": Budget(200, 64, grid=16),
    "pixelcnn": Budget(300, 64, ("width=32", "n_layers=4"), grid=16),
}
N_MODEL_SAMPLES = 1000


def hardware() -> str:
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        cpu = names[0] if names else cpu
    threads = torch.get_num_threads()
    return f"{cpu}, torch threads: {threads}, torch {torch.__version__}, Python {platform.python_version()}"


def score(images: np.ndarray, extractor) -> dict:
    s = score_samples(images, extractor=extractor)
    return {"fid": s.fid, "kid": s.kid, "kid_std": s.kid_std, "n": s.n, "label": s.label}


def train_and_score(family: str, runs: Path, extractor) -> dict:
    budget = BUDGETS[family]
    out = runs / family
    argv = ["train", family, "--dataset", "fashion-mnist", "--steps", str(budget.steps),
            "--batch-size", str(budget.batch_size), "--n-samples", str(budget.grid), "--seed", "0", "--out", str(out)]
    if budget.overrides:
        argv += ["--set", *budget.overrides]
    reference_models_cli(argv)
    summary = json.loads((out / "summary.json").read_text())
    row = {"family": family, "steps": budget.steps, "batch_size": budget.batch_size,
           "overrides": " ".join(budget.overrides) or "defaults", "train_seconds": summary["train_seconds"],
           "final": summary["final"]}
    if "test_bits_per_dim" in summary:
        row["test_bits_per_dim"] = summary["test_bits_per_dim"]
    if budget.sampler is not None:
        _, model, _ = load_model(out / "model.safetensors")
        start = time.perf_counter()
        g = torch.Generator().manual_seed(1)
        samples = torch.cat([model.sample(500, generator=g, **budget.sample_kwargs)
                             for _ in range(N_MODEL_SAMPLES // 500)])  # (N, 1, 28, 28)
        row["sample_seconds"] = round(time.perf_counter() - start, 1)
        row["sampler"] = budget.sampler
        row.update(score(samples.numpy()[:, 0], extractor))
    return row


def render(floors: list[dict], corrupted: list[dict], models: list[dict], total_seconds: float, load: float) -> str:
    lines = [
        "# Baselines",
        "",
        "Written by `python -m benchmarks.baselines`; numbers from one run.",
        f"Hardware: {hardware()}. No GPU. Total run time: {total_seconds / 60:.1f} min.",
        f"1-minute load average at the start: {load:.1f} (other jobs shared the CPU: times are upper bounds).",
        "",
        "All scores are **FID (Fashion-MNIST features)**: the Fréchet distance between Gaussians fitted",
        "to the 128-d bottleneck of our own Fashion-MNIST classifier (grader/metrics/weights/fashion_cnn.json),",
        "against the 10,000-image test split. They are not Inception FIDs and are not comparable with",
        "published FIDs. FID is biased in the number of samples N: compare rows only at equal N.",
        "KID is the unbiased MMD^2 with the cubic polynomial kernel (mean ± std over 100 subsets of 1,000).",
        "",
        "## References: the floor and corrupted data",
        "",
        "| images | N | FID (Fashion-MNIST features) | KID |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in floors + corrupted:
        lines.append(f"| {r['name']} | {r['n']} | {r['fid']:.2f} | {r['kid']:.4f} ± {r['kid_std']:.4f} |")
    lines += [
        "",
        "## Reference generative models (CPU budgets)",
        "",
        "Each was trained from scratch on the Fashion-MNIST training split with the stated CPU budget",
        "(seed 0, Adam), far below what these models need to converge: these rows show the pipeline works",
        "end to end and give a lower bar, not the quality the architectures can reach.",
        "",
        "| model | budget (steps × batch) | config | train time | sampler | N | FID (Fashion-MNIST features) | KID |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for r in models:
        if "fid" in r:
            lines.append(
                f"| {r['family']} | {r['steps']} × {r['batch_size']} (CPU) | {r['overrides']}"
                f" | {r['train_seconds']:.0f} s | {r['sampler']} ({r['sample_seconds']:.0f} s) | {r['n']}"
                f" | {r['fid']:.2f} | {r['kid']:.4f} ± {r['kid_std']:.4f} |"
            )
    lines += ["", *ordering_note({r["family"]: r["fid"] for r in models if "fid" in r})]
    lines += [
        "",
        "## Likelihood models (CPU budgets)",
        "",
        "Bits/dim on the first 2,000 test images. RealNVP: uniform dequantisation, an upper bound on the",
        "discrete bits/dim; PixelCNN: exact (256-way categorical). Uniform noise is 8 bits/dim.",
        "",
        "| model | budget (steps × batch) | config | train time | test bits/dim |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    for r in models:
        if "test_bits_per_dim" in r:
            lines.append(f"| {r['family']} | {r['steps']} × {r['batch_size']} (CPU) | {r['overrides']}"
                         f" | {r['train_seconds']:.0f} s | {r['test_bits_per_dim']:.3f} |")
    lines += [
        "",
        "## DDPM samples",
        "",
        "![DDPM samples after a CPU budget](ddpm_samples.png)",
        "",
        f"`ddpm_samples.png`: {BUDGETS['ddpm'].grid} samples of the DDPM above ({BUDGETS['ddpm'].steps} steps on a CPU,"
        " full 1000-step",
        "ancestral sampler). Sneakers, sandals, boots, trousers, shirts and pullovers are recognisable;",
        "edges are ragged and textures coarse. Sharper samples need more steps and a wider UNet (a GPU).",
        "",
    ]
    return "\n".join(lines)


def ordering_note(fids: dict[str, float]) -> list[str]:
    """Whether the expected ordering DDPM < DCGAN < VAE holds at these budgets, and why not if it does not."""
    if not {"vae", "dcgan", "ddpm"} <= set(fids):
        return []
    found = " < ".join(f"{name.upper()} ({fids[name]:.0f})" for name in sorted(fids, key=fids.get))
    if fids["ddpm"] < fids["dcgan"] < fids["vae"]:
        return [f"**Ordering.** FID orders the models {found}, as expected."]
    return [
        f"**Ordering.** FID orders the models {found}; the expected DDPM < DCGAN < VAE does not fully hold at",
        "these CPU budgets, which are far below convergence and not equally far for each model: a DDPM's",
        "denoiser must learn every noise level before its samples leave the blob stage (FID 588 after 800",
        "steps), a GAN's generator has garment silhouettes without texture after a few hundred steps, and a",
        "VAE's decoder means are blurry from the start, which this feature space penalises heavily (blur",
        "with sigma = 1 alone costs 563). The ordering is a statement about converged models; the GPU",
        "budgets (`--device cuda`, when a GPU session runs this script) are what should anchor the leaderboard.",
    ]


KEPT_FROM = "## Leaderboard baselines"  # written by hand from `python -m grader baseline`: kept on a rewrite


def kept_sections(path: Path) -> str:
    """The part of an existing docs/baselines.md from KEPT_FROM on, which this script does not compute."""
    text = path.read_text() if path.is_file() else ""
    at = text.find(KEPT_FROM)
    return "\n" + text[at:] if at >= 0 else ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs/baselines.md"))
    parser.add_argument("--runs", type=Path, default=Path("var/baselines"))
    parser.add_argument("--families", nargs="*", default=list(BUDGETS))
    parser.add_argument("--threads", type=int, help="torch threads (1 is faster on a CPU shared with other jobs)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    torch.manual_seed(0)
    extractor = fashion_extractor()
    train_images, _ = load_dataset("fashion-mnist", "train")
    test_images, _ = load_dataset("fashion-mnist", "test")

    floors = [{"name": f"train split (first {n}) vs test: the floor", **score(train_images[:n], extractor)}
              for n in (10000, N_MODEL_SAMPLES)]
    corrupted = [{"name": f"test, Gaussian blur sigma={s}", **score(gaussian_blur(test_images, s), extractor)}
                 for s in (0.5, 1.0, 2.0)]
    corrupted += [{"name": f"test, Gaussian noise std={s}/255", **score(gaussian_noise(test_images, s), extractor)}
                  for s in (16, 32, 64)]
    models = [train_and_score(f, args.runs, extractor) for f in args.families]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if (args.runs / "ddpm" / "samples.png").is_file():
        shutil.copy(args.runs / "ddpm" / "samples.png", args.out.parent / "ddpm_samples.png")
    kept = kept_sections(args.out)
    args.out.write_text(render(floors, corrupted, models, time.perf_counter() - start, load) + kept)
    (args.runs / "baselines.json").write_text(json.dumps({"floors": floors, "corrupted": corrupted, "models": models},
                                                         indent=2))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
