"""Precompute (or find) cached reference statistics: python -m grader.metrics [DATASET] [SPLIT]."""
from __future__ import annotations

import argparse

from grader.metrics.features import fashion_extractor
from grader.metrics.reference import cache_dir, reference_stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader.metrics")
    parser.add_argument("dataset", nargs="?", default="fashion-mnist")
    parser.add_argument("split", nargs="?", default="test")
    args = parser.parse_args(argv)
    ref = reference_stats(args.dataset, args.split, fashion_extractor())
    print(f"{cache_dir() / ref.key}.npz: N = {ref.stats.n}, D = {len(ref.stats.mu)}")


if __name__ == "__main__":
    main()
