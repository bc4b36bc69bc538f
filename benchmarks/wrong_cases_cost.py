"""What a bug costs on a training exercise's board: the solution and chosen wrong/ cases graded over
several seeds, each row the board's score (FID or the judge's bits/dim) and the failed checks.

    python -m benchmarks.wrong_cases_cost flow-train log_det_all_dims mask_inverted --seeds 1 2 3

Every grading trains a model in the Docker sandbox at `--profile` (default tiny): a few minutes.
"""
from __future__ import annotations

import argparse
import statistics

from grader.cli import _sandbox
from grader.judge import grade
from grader.spec import load_exercise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exercise")
    parser.add_argument("cases", nargs="*", help="wrong/ case names (the solution is always graded)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--profile", default="tiny")
    args = parser.parse_args()
    exercise = load_exercise(args.exercise)
    sandbox = _sandbox("docker", args.profile)
    sources = {"solution": exercise.solution().source}
    sources.update({c.name: c.source for c in exercise.wrong_cases() if c.name in args.cases})
    missing = set(args.cases) - set(sources)
    if missing:
        parser.error(f"no wrong/ cases {sorted(missing)} in {args.exercise}")
    print(f"| {args.exercise} ({args.profile}) | score per seed {args.seeds} | mean | failed checks |")
    print("| --- | --- | ---: | --- |")
    for name, source in sources.items():
        scores, failed = [], set()
        for seed in args.seeds:
            result = grade(exercise, "solution.py", source().encode(), sandbox=sandbox, seed=seed,
                           profile=args.profile)
            value = (result.training or {}).get("fid")
            scores.append(value)
            failed |= {t.name for t in result.tests if t.status != "passed"}
        shown = ", ".join("-" if v is None else f"{v:.3f}" for v in scores)
        finite = [v for v in scores if v is not None]
        mean = f"{statistics.fmean(finite):.3f}" if finite else "-"
        print(f"| {name} | {shown} | {mean} | {', '.join(sorted(failed)) or 'none'} |", flush=True)


if __name__ == "__main__":
    main()
