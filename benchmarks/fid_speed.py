"""Time FID (Fashion-MNIST features) of 10,000 Fashion-MNIST-sized samples. Target: <= 20 s on 2 CPU cores.

    python -m benchmarks.fid_speed

"cold" includes computing the reference statistics of the test split (first run
on a machine); "warm" is the per-submission cost: features of the samples,
Gaussian fit, Fréchet distance and KID.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

from grader.metrics import fashion_extractor, score_samples
from reference_models.datasets import load_dataset


def main() -> None:
    samples, _ = load_dataset("fashion-mnist", "train")
    samples = samples[:10000]  # stand-in for 10,000 generated samples
    extractor = fashion_extractor()
    with tempfile.TemporaryDirectory() as cache:
        timings = {}
        for run in ("cold", "warm"):
            start = time.perf_counter()
            score = score_samples(samples, extractor=extractor, cache=Path(cache))
            timings[run] = time.perf_counter() - start
    print(f"{score.label}: {score.fid:.3f}  KID: {score.kid:.5f} ± {score.kid_std:.5f}  (N = {score.n})")
    print(f"torch threads: {torch.get_num_threads()}")
    print(f"cold (reference statistics computed): {timings['cold']:.2f} s")
    verdict = "OK" if timings["warm"] <= 20 else "MISSED"
    print(f"warm (per submission): {timings['warm']:.2f} s  (target <= 20 s: {verdict})")


if __name__ == "__main__":
    main()
