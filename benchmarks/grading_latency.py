"""Grading latency: grade a correct vae-reparam submission N times in the Docker
sandbox and print p50/p95 end-to-end latency and where the time goes.

    python benchmarks/grading_latency.py [--runs 20] [--exercise vae-reparam]

End-to-end = from reading the submission to the finished result (planning,
container create+start, torch import in the container, the student's import,
probes, reading back, judging, container removal).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.image import build_image  # noqa: E402
from grader.judge import grade  # noqa: E402
from grader.sandbox.docker_sandbox import DockerSandbox, docker_client  # noqa: E402
from grader.spec import load_exercise  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--exercise", default="vae-reparam")
    parser.add_argument("--warm", type=int, default=0,
                        help="pre-started containers kept ready (torch imported, waiting for a job)")
    args = parser.parse_args()

    exercise = load_exercise(args.exercise)
    sandbox = DockerSandbox(build_image("cpu", log=lambda *_: None), docker_client(), warm=args.warm)
    data = exercise.solution().source().encode()
    grade(exercise, "solution.py", data, sandbox=sandbox)  # warm the page cache; not counted

    totals, parts = [], {}
    for _ in range(args.runs):
        if args.warm:
            time.sleep(2.5)  # submissions arrive spaced out: the pool refills between them
        started = time.monotonic()
        result = grade(exercise, "solution.py", data, sandbox=sandbox)
        totals.append(time.monotonic() - started)
        assert result.status == "graded" and result.score == result.max_score, result.output
        for key, value in result.timings.items():
            parts.setdefault(key, []).append(value)

    mode = f"{args.warm} pre-started container(s)" if args.warm else "a cold container per grading"
    print(f"{args.exercise}: {args.runs} gradings of a correct submission in the Docker sandbox, {mode}")
    print(f"end-to-end latency: p50 {percentile(totals, 0.5):.2f} s, p95 {percentile(totals, 0.95):.2f} s, "
          f"mean {statistics.mean(totals):.2f} s")
    print("where the time goes (median seconds):")
    labels = {
        "plan_s": "plan probes (judge side)",
        "container_start_s": "container create + start (or take a warm one)",
        "sandbox_torch_import_s": "torch import in the container",
        "sandbox_student_import_s": "student module import",
        "sandbox_probes_s": "probes (student code + serialisation)",
        "run_s": "container run, whole (start to exit)",
        "judge_s": "checks (judge side)",
        "total_s": "total inside grade()",
    }
    for key, label in labels.items():
        if key in parts:
            print(f"  {label:48} {statistics.median(parts[key]):6.3f}")
    sandbox.close()


if __name__ == "__main__":
    main()
